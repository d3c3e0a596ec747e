#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "audit/emitter.h"
#include "common/clock.h"
#include "common/result.h"
#include "gateway/store/store.h"
#include "ocsf/builders.h"

namespace warden::gateway {

inline constexpr std::chrono::milliseconds kDefaultRetentionInterval{3600 * 1000};

struct RetentionOptions {
  std::optional<int64_t> max_age_ms;  // delete events older than now - max_age (none: no age limit)
  uint64_t max_bytes = 0;             // then the oldest until the stored JSON fits (0: no size cap)
  std::chrono::milliseconds interval = kDefaultRetentionInterval;
  const Clock* clock = nullptr;       // borrowed; nullptr: SystemClock

  bool enabled() const { return max_age_ms.has_value() || max_bytes > 0; }
};

// The gateway's retention (product.md "Gateway"): a thread that runs
// EventStore::deleteExpired(now - max_age, max_bytes) once at start() and then every interval, and
// records, for each session whose events it deleted, one LOG:DELETE event (audit::retentionEvent:
// session, count, sequence range, cutoff, size cap) on the gateway's own audit trail. The store keeps
// what isRetainedForever() marks (each LOG:START, every checkpoint), so a deletion stays provable.
// A store error is one operational ERROR line on the trail; the next interval tries again.
//
// Borrows `store`, `emitter` and `session` (the gateway's own session), which must outlive it.
// start() and stop() from one owning thread; stop() (idempotent, also the destructor) wakes and joins
// the thread, waiting at most for one deleteExpired() in flight. runOnce() may be called from any
// thread (the store serialises), e.g. by tests.
class RetentionTask {
 public:
  RetentionTask(EventStore& store, audit::Emitter& emitter, const ocsf::SessionContext& session,
                RetentionOptions options);
  ~RetentionTask();
  RetentionTask(const RetentionTask&) = delete;
  RetentionTask& operator=(const RetentionTask&) = delete;

  void start();
  void stop();

  // One pass on the calling thread; returns what the store deleted (and recorded) or its error.
  Result<std::vector<EventStore::Deleted>> runOnce();

  uint64_t passes() const;    // completed passes, successful or not
  uint64_t failures() const;  // passes that ended in a store error

 private:
  void run();

  EventStore& store_;
  audit::Emitter& emitter_;
  const ocsf::SessionContext& session_;
  const RetentionOptions options_;
  const Clock& clock_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // Guarded by mu_.
  uint64_t passes_ = 0;    // Guarded by mu_.
  uint64_t failures_ = 0;  // Guarded by mu_.
};

}  // namespace warden::gateway
