#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "audit/export/export_url.h"
#include "audit/export/stream_connection.h"
#include "audit/export/syslog_message.h"
#include "audit/sink.h"
#include "audit/spool.h"
#include "audit/spool_sink.h"

namespace warden::audit::exporting {

struct StreamExportOptions {
  ExportUrl url;                       // syslog+tcp or syslog+tls
  std::filesystem::path spool_dir;     // the sink's own spool (created 0700; removed when all is delivered;
                                       // one already there, an earlier session's, is moved aside to .left-<ms>)
  uint64_t spool_max_bytes = 256u << 20;  // the bound: beyond it batches are skipped and LOG:SINK_OVERFLOW recorded
  // An event counts as delivered (acknowledged in the spool) once the receiver's TCP has
  // acknowledged its bytes and the connection then stayed up this long; after a broken connection
  // everything not yet delivered is sent again (duplicates are possible, losses are not).
  std::chrono::milliseconds settle{2000};
  std::chrono::milliseconds backoff_min{100};
  std::chrono::milliseconds backoff_max{5000};
  std::chrono::milliseconds connect_timeout{5000};
  // close(): how long to keep delivering what is left (then it stays in the spool, reported). A
  // receiver that is unreachable then gets one more connection attempt, not the whole time.
  std::chrono::milliseconds drain{10000};
};

struct StreamExportStats {
  uint64_t delivered_sequence = 0;  // everything <= this is acknowledged
  uint64_t connections = 0;         // successful connects
  uint64_t outages = 0;             // LOG:SINK_UNREACHABLE episodes
  uint64_t skipped = 0;             // events the spool bound made this sink skip
};

// An audit::Sink exporting every event as RFC 5424 syslog over TCP with octet counting (RFC 6587),
// optionally over TLS (RFC 5425): docs/export.md.
//
// write() (writer thread) renders each event's syslog message and appends the batch to the sink's
// own on-disk audit::Spool through a SpoolSink (bounded by spool_max_bytes; a full spool skips the
// batch for this sink only and records LOG:SINK_OVERFLOW) — it never waits for the receiver. One
// delivery thread, owned by the sink, connects with backoff, sends pending records in order from
// the spool's cursor and acknowledges them (see StreamExportOptions::settle). A receiver that is
// down is recorded once as LOG:SINK_UNREACHABLE and once as LOG:SINK_RECONNECTED when it is back.
// close() drains for at most `drain` (one more attempt when the receiver is down), stops the thread (a blocked write is interrupted) and
// removes the spool when everything was delivered; what is left is reported and kept on disk.
// Threads: Sink methods on the writer thread; stats() from any thread.
class StreamExportSink final : public Sink {
 public:
  // Opens the spool and (syslog+tls) loads the CA file; errors name the URL.
  static Result<std::shared_ptr<StreamExportSink>> make(StreamExportOptions options);
  ~StreamExportSink() override;

  std::string_view name() const override { return options_.url.name; }
  Result<void> open(SinkContext& context) override;
  void write(const SinkBatch& batch) override;
  void tick() override { spool_sink_->tick(); }
  Result<void> close() override;

  StreamExportStats stats() const;

 private:
  explicit StreamExportSink(StreamExportOptions options) : options_(std::move(options)) {}
  void run();
  void noteDown(const std::string& error);
  void noteUp();
  void breakConnection(const std::string& error);
  void updateAcks(bool settle_waived);
  void persistAck();
  void waitWake(std::chrono::milliseconds timeout);

  const StreamExportOptions options_;
  std::shared_ptr<TlsClientContext> tls_;
  std::unique_ptr<Spool> spool_;
  std::unique_ptr<SpoolSink> spool_sink_;
  SinkContext* context_ = nullptr;
  std::filesystem::path earlier_spool_;  // where an earlier session's spool was moved (empty: none)
  SyslogHeader header_;
  // Writer thread: the rendered messages of the batch being appended.
  std::vector<std::string> rendered_;
  std::vector<SinkRecord> records_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;         // Guarded by mu_.
  bool draining_ = false;     // Guarded by mu_.
  bool drained_ = false;      // Guarded by mu_.
  bool appended_ = false;     // Guarded by mu_. New records since the thread last looked.
  StreamConnection* live_ = nullptr;  // Guarded by mu_. For interrupt() from close().
  StreamExportStats stats_;   // Guarded by mu_.
  std::thread thread_;

  // Delivery thread only.
  struct InFlight {
    uint64_t last_sequence = 0;
    uint64_t end_bytes = 0;  // bytesSent() after the write
    std::chrono::steady_clock::time_point acked_at{};
  };
  std::unique_ptr<StreamConnection> conn_;
  std::deque<InFlight> in_flight_;
  uint64_t cursor_ = 0;  // last sequence written on this connection
  uint64_t settled_ = 0;  // highest sequence delivered (settled), acknowledged in the spool at most every 250 ms
  std::chrono::steady_clock::time_point last_ack_{};
  bool down_ = false;
  int64_t down_since_ms_ = 0;
  std::chrono::steady_clock::time_point down_since_{};
  std::string frame_;
};

}  // namespace warden::audit::exporting
