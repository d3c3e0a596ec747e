#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "audit/export/export_link.h"
#include "audit/export/export_receiver.h"
#include "audit/log_events.h"

namespace warden::audit::exporting {

// What the delivery loop reads: events already rendered for the receiver, in order, and where it
// acknowledges what was delivered. Marks name positions (they grow; 0 is "nothing"). The session's
// exports read their own on-disk spool (mark = sequence); the gateway's export reads its store
// (mark = a batch number; gateway/service/fleet_export.h).
// Threads: called only from the delivery thread, except unacknowledged() and allDelivered() (any).
struct ExportBatch {
  std::vector<std::string> payloads;
  uint64_t mark = 0;  // acknowledging it acknowledges every payload of this batch and before
};
class ExportBacklog {
 public:
  virtual ~ExportBacklog() = default;
  // The next events after position `after` — acknowledgedMark() to start again after a broken
  // link, or the mark of the batch just sent — at most max_records / max_bytes (at least one event
  // when there is one). An empty batch: nothing more for now.
  virtual Result<ExportBatch> next(uint64_t after, size_t max_records, size_t max_bytes) = 0;
  virtual uint64_t acknowledgedMark() const = 0;
  // Everything up to `mark` is delivered: make it durable (a spool's ack file, the store's cursor).
  virtual Result<void> acknowledge(uint64_t mark) = 0;
  // Events waiting to be delivered (for the outage events).
  virtual uint64_t unacknowledged() const = 0;
};

struct ExportDeliveryOptions {
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds backoff_min{100};
  std::chrono::milliseconds backoff_max{5000};
  std::chrono::milliseconds idle_poll{100};     // how often an idle loop looks for new events
  std::chrono::milliseconds ack_interval{250};  // acknowledge() at most this often while streaming
  size_t batch_records = 1024;
  size_t batch_bytes = 1u << 20;
};

// What the loop tells its owner. `down` once when an outage begins (the first failed attempt or a
// broken link), `up` once at the first working link after it: the owner records LOG:SINK_UNREACHABLE
// / LOG:SINK_RECONNECTED. `report` is a plain operational line.
struct ExportObserver {
  std::function<void(const SinkFacts&)> down;
  std::function<void(const SinkFacts&)> up;
  std::function<void(Level, const std::string&)> report;
  std::function<int64_t()> now_ms;  // epoch ms for `since`
};

struct ExportDeliveryStats {
  uint64_t delivered_mark = 0;  // everything <= this is acknowledged
  uint64_t connections = 0;     // links opened
  uint64_t outages = 0;         // down episodes
};

// The delivery loop of one stream or HTTP export (docs/export.md): on its own thread it opens a link
// to the receiver (with exponential backoff while it is down), sends the backlog's events in order
// from the acknowledged position, acknowledges what the link delivered, and starts again from the
// acknowledged position after a break (at least once, in order). A receiver refusing a batch as too
// large (HTTP 413) gets batches half the size from then on, down to one event.
// Threads: its own; wake() and stats() from any thread; start/drain/stop from the owner's thread.
// Borrows the backlog (it must outlive stop()).
class ExportDelivery {
 public:
  ExportDelivery(std::shared_ptr<const ExportReceiver> receiver, ExportBacklog& backlog, ExportDeliveryOptions options,
                 ExportObserver observer);
  ~ExportDelivery();
  ExportDelivery(const ExportDelivery&) = delete;
  ExportDelivery& operator=(const ExportDelivery&) = delete;

  void start();
  // New events are in the backlog.
  void wake();
  // Keeps delivering until everything is acknowledged or `timeout` passed (a receiver down at that
  // point gets one more attempt, not the whole time), then stops. True when all was delivered.
  bool drain(std::chrono::milliseconds timeout);
  // Stops at once (a blocked send is interrupted); what was delivered is acknowledged. Idempotent.
  void stop();
  ExportDeliveryStats stats() const;

 private:
  void run();
  void noteDown(const std::string& error);
  void noteUp();
  void dropLink(const std::string& error, bool outage);
  void acknowledge(bool now);
  void waitWake(std::chrono::milliseconds timeout);

  const std::shared_ptr<const ExportReceiver> receiver_;
  ExportBacklog& backlog_;
  const ExportDeliveryOptions options_;
  const ExportObserver observer_;
  const std::string name_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;       // Guarded by mu_.
  bool draining_ = false;   // Guarded by mu_.
  bool drained_ = false;    // Guarded by mu_.
  bool appended_ = false;   // Guarded by mu_.
  ExportLink* live_ = nullptr;  // Guarded by mu_. For interrupt() from stop().
  ExportDeliveryStats stats_;   // Guarded by mu_.
  std::thread thread_;

  // Delivery thread only.
  std::unique_ptr<ExportLink> link_;
  uint64_t cursor_ = 0;     // the mark of the last batch sent on this link
  uint64_t delivered_ = 0;  // the highest mark delivered, acknowledged at most every ack_interval
  std::chrono::steady_clock::time_point last_ack_{};
  size_t batch_records_;
  bool down_ = false;
  int64_t down_since_ms_ = 0;
  std::chrono::steady_clock::time_point down_since_{};
};

}  // namespace warden::audit::exporting
