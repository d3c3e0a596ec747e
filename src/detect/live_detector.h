#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "audit/emitter.h"
#include "audit/sink.h"
#include "common/clock.h"
#include "common/result.h"
#include "detect/engine.h"
#include "detect/rule_set.h"
#include "ocsf/builders.h"

namespace warden::detect {

struct LiveDetectorOptions {
  ocsf::SessionContext session;  // the session's context (the skipped-events report is built with it)
  // Events waiting to be evaluated. Past either bound submit() drops the event and counts it.
  size_t queue_capacity = 65536;
  size_t queue_max_bytes = 64u << 20;
  // At most one EVENT:DETECTION SKIPPED per interval while events are being dropped (and one at close).
  std::chrono::milliseconds skipped_report_interval{1000};
  // Called on the detector's thread for every finding, in order, after the finding was emitted:
  // the supervisor stops (kKill) or freezes (kPause) the session; kAlert needs nothing. Must not
  // call close().
  std::function<void(const RuleAction&)> on_action;
  EngineOptions engine;
  const Clock* clock = nullptr;  // borrowed; nullptr: SystemClock
};

struct LiveDetectorStats {
  uint64_t submitted = 0;    // submit() calls while open
  uint64_t evaluated = 0;    // handed to the engine (EngineStats say what became of them)
  uint64_t skipped = 0;      // dropped at submit(): queue full; every one reported (DETECTION SKIPPED)
  uint64_t after_close = 0;  // submit() after close() began (the pipeline's last events): counted only
  uint64_t findings = 0;
  uint64_t rules_disabled = 0;
  uint64_t unparsable = 0;
};

// Runs the Engine beside a live session's audit pipeline (detect.md "Rules": findings while the
// agent runs). The pipeline's writer hands every written event — its sequence and canonical JSON,
// as a sink of the pipeline (audit::CallbackSink) sees them — to submit(), which never blocks: it appends to a
// bounded queue, or drops the event and counts it when the queue is full. The detector's own
// thread evaluates in sequence order and emits each finding (and any rule-disabled or limit
// event) through the Emitter, so it is sequenced, chained and written like any event, right after
// whatever the writer already had queued; its evidences name the trigger's uid and sequence.
// Dropped events are never silent: EVENT:DETECTION SKIPPED [HIGH] carries the count and the
// sequence window, at most once per interval and once more at close.
//
// Wiring (the pipeline's tap needs the detector, the detector emits into the pipeline):
//   auto det = LiveDetector::start(rules, options);                 // evaluates nothing yet
//   pipeline options.sinks.push_back(make_shared<audit::CallbackSink>("detection rules",
//       [d = det.get()](const audit::SinkBatch& batch) { d->submit(batch); }));
//   auto pipeline = Pipeline::start(...);  det->attach(*pipeline);   // evaluation starts
//   ... session ... SESSION:STOP emitted ...
//   det->drain(writer_idle, 2s);  det->close();  pipeline->close();
//
// Lifetime: start() starts the thread; close() (idempotent; the destructor calls it) evaluates
// what is queued (when attached), reports what was skipped, and joins. Threads: submit(),
// attach(), drain() and stats() from any thread; on_action runs on the detector's thread.
class LiveDetector {
 public:
  static Result<std::unique_ptr<LiveDetector>> start(std::shared_ptr<const RuleSet> rules, LiveDetectorOptions options);
  ~LiveDetector();
  LiveDetector(const LiveDetector&) = delete;
  LiveDetector& operator=(const LiveDetector&) = delete;

  // Where findings go; evaluation starts once it is set. Borrowed: must outlive close().
  void attach(audit::Emitter& emitter);

  // One written event. Never blocks beyond the queue's mutex.
  void submit(uint64_t sequence, std::string canonical_json);
  // A written batch, as a pipeline sink sees it (the JSON is copied).
  void submit(const audit::SinkBatch& batch);

  // Waits until everything written so far has been evaluated and what that produced has been
  // written (and evaluated) too: `writer_idle` says whether the pipeline's writer has caught up
  // with emit() (e.g. stats().written + stats().shed >= stats().emitted). Call it after the last
  // events you want evaluated (SESSION:STOP) and before closing the pipeline. False at the deadline.
  bool drain(const std::function<bool()>& writer_idle, std::chrono::milliseconds timeout);

  void close();
  LiveDetectorStats stats() const;

 private:
  struct Item {
    uint64_t sequence = 0;
    std::string json;
  };

  LiveDetector(std::shared_ptr<const RuleSet> rules, LiveDetectorOptions options);
  bool idleLocked() const { return queue_.empty() && !busy_; }
  void run();
  void reportSkipped(audit::Emitter& emitter, bool force);

  LiveDetectorOptions options_;
  const Clock& clock_;
  Engine engine_;  // detector thread only

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable idle_;     // notified when a batch is done
  audit::Emitter* emitter_ = nullptr;  // Guarded by mu_ (set once by attach()).
  bool busy_ = false;                // Guarded by mu_: the thread is evaluating a batch.
  std::deque<Item> queue_;           // Guarded by mu_.
  size_t queue_bytes_ = 0;           // Guarded by mu_.
  bool closing_ = false;             // Guarded by mu_.
  LiveDetectorStats stats_;          // Guarded by mu_.
  uint64_t skipped_unreported_ = 0;  // Guarded by mu_. Reported as DETECTION SKIPPED with the window:
  uint64_t skipped_first_seq_ = 0;   // Guarded by mu_.
  uint64_t skipped_last_seq_ = 0;    // Guarded by mu_.
  std::chrono::steady_clock::time_point last_report_{};  // detector thread only

  std::mutex close_mu_;  // serialises close()
  bool closed_ = false;  // Guarded by close_mu_.
  std::thread thread_;
};

}  // namespace warden::detect
