#pragma once

// The gateway's exports (detect.md "Delivery (exports)", docs/export.md "At the gateway"):
// `warden gateway --export URL` forwards every event of every session it stores — the fleet stream,
// its own trail included — to a SIEM, with the same receivers, rendering, batching, backoff and
// outage events as a session's exports (audit/export/export_delivery.h), reading from the store
// instead of a spool.
//
// Where it is, per session, is the export's cursor in the store (EventStore::saveExportCursors,
// keyed by the URL's name): the highest sequence the receiver took. It is saved after each
// delivered batch (at most every 250 ms while streaming) and read at start, so a gateway restart
// neither repeats everything nor skips anything — at most the batches in flight at the stop are sent
// again (at least once, in order per session). A new export starts at the beginning of what the
// store holds. Sessions are read in id order, each in sequence order up to its highest contiguous
// sequence (a gap is waited for, never skipped); events that retention deleted before they were
// exported are skipped (LOG:DELETE in the store says which).
//
// Threads: its delivery thread; close() (idempotent; the destructor calls it) drains for at most
// `drain` and joins. Borrows the store, the signal and the trail: they must outlive close().
// Outages are recorded in the trail (LOG:SINK_UNREACHABLE / LOG:SINK_RECONNECTED, once each way).

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "audit/emitter.h"
#include "audit/export/export_delivery.h"
#include "audit/export/export_url.h"
#include "common/result.h"
#include "gateway/service/append_signal.h"
#include "gateway/store/store.h"
#include "ocsf/builders.h"

namespace warden::gateway {

struct FleetExportOptions {
  audit::exporting::ExportDeliveryOptions delivery;
  std::chrono::milliseconds settle{2000};  // syslog: see SpooledExportOptions::settle
  std::chrono::milliseconds drain{5000};   // close(): how long to keep delivering
  size_t page = 1000;                      // events read per store query
};

struct FleetExportStats {
  uint64_t connections = 0;
  uint64_t outages = 0;
  uint64_t exported = 0;  // events delivered by this process
};

class FleetExport {
 public:
  // Opens the receiver (CA file, header file) and reads the cursor; errors name the URL.
  static Result<std::unique_ptr<FleetExport>> start(EventStore& store, const AppendSignal& signal,
                                                    audit::Emitter& trail, const ocsf::SessionContext& trail_session,
                                                    const audit::exporting::ExportUrl& url, FleetExportOptions options);
  ~FleetExport();
  FleetExport(const FleetExport&) = delete;
  FleetExport& operator=(const FleetExport&) = delete;

  void close();
  FleetExportStats stats() const;
  // The persisted cursor of `session` as this process last saved or read it (0: none).
  uint64_t cursor(const std::string& session) const;

 private:
  class StoreBacklog;
  FleetExport() = default;

  std::unique_ptr<StoreBacklog> backlog_;
  std::unique_ptr<audit::exporting::ExportDelivery> delivery_;
  std::chrono::milliseconds drain_{0};
  bool closed_ = false;
};

}  // namespace warden::gateway
