#pragma once

// Fleet rules at the gateway (docs/detection.md "Fleet rules at the gateway"): the detection engine
// over every event the sessions push, each session's events in sequence order, with one memory
// across all sessions for first_seen() — a domain no session contacted before, a package version
// never installed before. Findings go into the gateway's own audit trail (and so into its store).
//
// It follows the store, not the push path: woken by the AppendSignal (at most every
// `min_interval`), it reads each session's new events after its cursor (EventQuery::after_sequence,
// up to the session's highest contiguous sequence, so a gap is never skipped) and evaluates them.
// Sessions that exist when it starts are followed from their current end (history is not replayed:
// a restart repeats no finding); first_seen() memory is kept in the store (StoreFleetState), so a
// restart does not forget what the fleet has seen. The gateway's own session is never evaluated
// (its findings would feed the rules).
//
// Threads: its own. start() reads the cursors and starts it; close() (idempotent; the destructor
// calls it) stops it after the scan in progress and joins. Borrows the store, the signal and the
// emitter: they must outlive close(). stats() from any thread.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "audit/emitter.h"
#include "common/result.h"
#include "detect/engine.h"
#include "detect/rule_set.h"
#include "gateway/service/append_signal.h"
#include "gateway/store/store.h"

namespace warden::gateway {

struct FleetDetectorOptions {
  std::string own_session;  // the gateway's own trail: never evaluated
  std::chrono::milliseconds min_interval{200};
  size_t page = 1000;  // events read per query
};

struct FleetDetectorStats {
  uint64_t evaluated = 0;     // events the engine saw
  uint64_t findings = 0;
  uint64_t store_errors = 0;  // scans cut short by the store (retried at the next wake)
};

class FleetDetector {
 public:
  static Result<std::unique_ptr<FleetDetector>> start(EventStore& store, const AppendSignal& signal,
                                                      audit::Emitter& trail,
                                                      std::shared_ptr<const detect::RuleSet> rules,
                                                      FleetDetectorOptions options);
  ~FleetDetector();
  FleetDetector(const FleetDetector&) = delete;
  FleetDetector& operator=(const FleetDetector&) = delete;

  void close();
  FleetDetectorStats stats() const;

 private:
  FleetDetector(EventStore& store, const AppendSignal& signal, audit::Emitter& trail,
                std::shared_ptr<const detect::RuleSet> rules, FleetDetectorOptions options);
  void run();
  // One pass over every session; false when the store failed (reported once per episode).
  bool scan();

  EventStore& store_;
  const AppendSignal& signal_;
  audit::Emitter& trail_;
  const FleetDetectorOptions options_;
  detect::Engine engine_;                       // the detector thread only
  std::map<std::string, uint64_t> cursors_;     // session -> last evaluated sequence; the thread only
  bool store_failing_ = false;                  // the thread only
  std::atomic<bool> closing_{false};
  std::thread thread_;
  mutable std::mutex stats_mu_;
  FleetDetectorStats stats_;  // Guarded by stats_mu_.
};

}  // namespace warden::gateway
