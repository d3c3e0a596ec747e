#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "audit/emitter.h"
#include "audit/log_events.h"
#include "audit/pipeline.h"
#include "common/result.h"
#include "gateway/store/store.h"
#include "ocsf/builders.h"

namespace warden::gateway {

using audit::kGatewaySessionName;

struct AuditTrailOptions {
  // The trail's files go to log_root/<session id>/ (warden.log; created 0700), one directory per
  // gateway process, so that every file holds one session's chain.
  std::filesystem::path log_root;
  std::string hostname;  // device.hostname and the session record's hostname; hostName() when empty
  std::chrono::milliseconds retry_interval{1000};  // between store attempts after a store error
  std::chrono::milliseconds close_timeout{5000};   // how long close() keeps storing what is left
  size_t max_pending_events = 100000;              // beyond: dropped from the store upload, counted
  std::function<void()> on_stored;                 // after each stored batch (wakes FollowLogs)
};

// The gateway's own audit record: an audit::Pipeline for a session of its own (a fresh UUIDv7 per
// process, name "gateway") whose events — LOG:START, checkpoints, the retention task's LOG:DELETE,
// policy CONFIG events — are written to its warden.log AND stored in the event store as that
// session, so `warden logs <id>` and verification work on the gateway's record like on any
// session's. The session record (public key = the pipeline's, no token: nobody pushes as it) is
// registered before anything is stored.
//
// The pipeline's sink (a CallbackSink) only queues each batch (it runs on the writer thread and must not
// block); an uploader thread appends the queue to the store in order. A store error leaves the
// batch queued: one operational ERROR line in warden.log, then a retry every retry_interval (and
// an INFO line once storing works again) — never a crash, never a gap. close() writes the final
// checkpoint, then keeps storing for up to close_timeout (what could not be stored stays in the
// log files only, reported on stderr), and marks the session record "stopped".
//
// Owns the pipeline and the uploader thread; borrows `store`, which must outlive it. emitter() is
// thread-safe (the Pipeline's contract). close() is idempotent and also run by the destructor.
class GatewayAuditTrail {
 public:
  static Result<std::unique_ptr<GatewayAuditTrail>> start(EventStore& store, AuditTrailOptions options);
  ~GatewayAuditTrail();
  GatewayAuditTrail(const GatewayAuditTrail&) = delete;
  GatewayAuditTrail& operator=(const GatewayAuditTrail&) = delete;

  audit::Emitter& emitter() { return *pipeline_; }
  const ocsf::SessionContext& session() const { return session_; }
  const std::string& sessionId() const { return session_.session_id; }
  const std::filesystem::path& logDir() const { return log_dir_; }
  // Events that never reached the store (queue bound, refused as invalid, or left at close).
  uint64_t unstored() const;

  void close();

 private:
  GatewayAuditTrail(EventStore& store, AuditTrailOptions options) : store_(store), options_(std::move(options)) {}
  void enqueue(std::vector<audit::SpooledEvent>&& batch);
  void upload();
  void report(audit::Level level, const std::string& message);

  EventStore& store_;
  const AuditTrailOptions options_;
  ocsf::SessionContext session_;
  std::filesystem::path log_dir_;
  std::unique_ptr<audit::Pipeline> pipeline_;
  SessionRecord record_;  // as registered; written again by close() ("stopped")
  std::thread uploader_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<audit::SpooledEvent> pending_;  // Guarded by mu_. In sequence order.
  bool stopping_ = false;                    // Guarded by mu_. close() began: drain, then end.
  bool pipeline_closed_ = false;             // Guarded by mu_. Operational lines go to stderr.
  std::chrono::steady_clock::time_point give_up_at_;  // Guarded by mu_ (once stopping_).
  uint64_t unstored_ = 0;                    // Guarded by mu_.
  bool closed_ = false;                      // Guarded by mu_.
};

}  // namespace warden::gateway
