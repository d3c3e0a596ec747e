#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "audit/export/export_delivery.h"
#include "audit/export/export_receiver.h"
#include "audit/export/export_url.h"
#include "audit/export/syslog_message.h"
#include "audit/sink.h"
#include "audit/spool.h"
#include "audit/spool_sink.h"

namespace warden::audit::exporting {

struct SpooledExportOptions {
  ExportUrl url;                       // syslog+tcp, syslog+tls, https or http
  std::filesystem::path spool_dir;     // the sink's own spool (created 0700; removed when all is delivered;
                                       // one already there, an earlier session's, is moved aside to .left-<ms>
                                       // and, when it was written for the same receiver, delivered too)
  uint64_t spool_max_bytes = 256u << 20;  // the bound: beyond it batches are skipped and LOG:SINK_OVERFLOW recorded
  // Syslog: an event counts as delivered (acknowledged in the spool) once the receiver's TCP has
  // acknowledged its bytes and the connection then stayed up this long; after a broken connection
  // everything not yet delivered is sent again (duplicates are possible, losses are not). HTTP: a
  // 2xx answer delivers its batch.
  std::chrono::milliseconds settle{2000};
  std::chrono::milliseconds backoff_min{100};
  std::chrono::milliseconds backoff_max{5000};
  std::chrono::milliseconds connect_timeout{5000};
  // close(): how long to keep delivering what is left (then it stays in the spool, reported). A
  // receiver that is unreachable then gets one more connection attempt, not the whole time.
  std::chrono::milliseconds drain{10000};
};

struct SpooledExportStats {
  uint64_t delivered_sequence = 0;  // everything <= this is acknowledged
  uint64_t connections = 0;         // successful connects
  uint64_t outages = 0;             // LOG:SINK_UNREACHABLE episodes
  uint64_t skipped = 0;             // events the spool bound made this sink skip
};

// An audit::Sink exporting every event to a receiver that may be slow or down: RFC 5424 syslog
// over TCP with octet counting (RFC 6587), optionally over TLS (RFC 5425), or NDJSON batches POSTed
// over HTTPS (docs/export.md).
//
// write() (writer thread) renders each event for the receiver (ExportReceiver::render) and appends
// the batch to the sink's own on-disk audit::Spool through a SpoolSink (bounded by spool_max_bytes;
// a full spool skips the batch for this sink only and records LOG:SINK_OVERFLOW) — it never waits
// for the receiver. An ExportDelivery thread, owned by the sink, sends pending records in order
// from the spool's cursor and acknowledges them; a receiver that is down is recorded once as
// LOG:SINK_UNREACHABLE and once as LOG:SINK_RECONNECTED when it is back. close() drains for at most
// `drain` (one more attempt when the receiver is down), stops the thread and removes the spool when
// everything was delivered; what is left is reported and kept on disk.
// Leftovers: a spool an earlier session left in the same place (`<spool_dir>` or
// `<spool_dir>.left-*`) that was written for the same receiver (its `receiver` file: the URL's name
// and format) is delivered beside this session's events by a delivery thread of its own — its
// outages only reported in warden.log (this session's own delivery records them) — and removed
// once delivered; one written for another receiver is kept and reported.
// Threads: Sink methods on the writer thread; stats() from any thread.
class SpooledExportSink final : public Sink {
 public:
  // Opens the spool, loads the CA file (TLS) and reads the header file (HTTP); errors name the URL.
  static Result<std::shared_ptr<SpooledExportSink>> make(SpooledExportOptions options);
  ~SpooledExportSink() override;

  std::string_view name() const override { return options_.url.name; }
  Result<void> open(SinkContext& context) override;
  void write(const SinkBatch& batch) override;
  void tick() override { spool_sink_->tick(); }
  Result<void> close() override;

  SpooledExportStats stats() const;

 private:
  class SpoolBacklog;
  struct Leftover {
    std::filesystem::path dir;
    std::unique_ptr<Spool> spool;
    std::unique_ptr<SpoolBacklog> backlog;
    std::unique_ptr<ExportDelivery> delivery;
    uint64_t pending = 0;  // undelivered when this session started
  };
  explicit SpooledExportSink(SpooledExportOptions options);
  Result<void> adoptLeftovers();
  SpoolOptions spoolOptions(const std::filesystem::path& dir) const;  // this sink's spools and its leftovers'
  ExportDeliveryOptions deliveryOptions() const;
  void closeLeftovers(std::chrono::steady_clock::time_point deadline);

  const SpooledExportOptions options_;
  std::shared_ptr<const ExportReceiver> receiver_;
  std::unique_ptr<Spool> spool_;
  std::unique_ptr<SpoolSink> spool_sink_;
  std::unique_ptr<SpoolBacklog> backlog_;
  std::unique_ptr<ExportDelivery> delivery_;
  SinkContext* context_ = nullptr;
  std::filesystem::path earlier_spool_;  // where an earlier session's spool was moved (empty: none)
  std::vector<Leftover> leftovers_;      // earlier sessions' spools for this receiver, being delivered
  std::vector<std::filesystem::path> foreign_;  // earlier spools written for another receiver: kept
  SyslogHeader origin_;
  // Writer thread: the rendered events of the batch being appended.
  std::vector<std::string> rendered_;
  std::vector<SinkRecord> records_;
  // Guards delivery_'s lifetime against stats() (close() resets it), and the figures below.
  mutable std::mutex mu_;
  uint64_t skipped_ = 0;      // Guarded by mu_.
  SpooledExportStats final_;  // Guarded by mu_: the figures after close()
  bool closed_ = false;       // Guarded by mu_.
};

}  // namespace warden::audit::exporting
