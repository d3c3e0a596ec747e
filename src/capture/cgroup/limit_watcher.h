#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "audit/emitter.h"
#include "capture/source.h"
#include "common/result.h"
#include "common/unique_fd.h"
#include "ocsf/builders.h"

namespace warden::capture {

// Watches one session cgroup's memory and pids event files and emits a LIMIT event (ocsf::resourceLimit)
// for each new OOM kill (type "oom", limit = the memory limit, measured = memory peak / max_usage,
// action "kill") and each new burst of pids-max refusals (type "pids", limit, measured = pids.peak or
// pids.current, action "deny"; the message says how many forks were refused), and calls on_limit(hit)
// so the supervisor can set its stop reason. CPU throttling (sandbox.md: "throttling is recorded"):
// cpu.stat's nr_throttled and throttled time (v1 throttled_time ns, v2 throttled_usec) are read every
// second; when they grew, one LIMIT event (type "cpu", action "throttle", limit = the quota in
// millicores, measured = milliseconds throttled since the previous cpu event, the periods in the
// message) at most every cpu_event_interval, the remainder at stop().
//
// How it is told: v2 memory.events and pids.events by inotify (IN_MODIFY); v1 memory.oom_control
// through cgroup.event_control + eventfd (it fires before the kill is counted, so the counter is then
// re-read every 20 ms for up to 2 s); v1 pids.events is polled every 250 ms (the kernel does not
// notify for it on v1 — checked on 6.18). Counters are read once at create(): only hits after that
// count. pids events are at most one per 250 ms (a fork bomb refuses thousands of forks a second).
//
// Lifecycle and threads: implements capture::Source. start() runs one thread the watcher owns; stop()
// wakes it through an eventfd, re-reads the counters (hits already counted are emitted before stop()
// returns) and joins; idempotent, also run by the destructor. The Emitter and SessionContext are
// borrowed and must outlive the watcher. on_limit runs on the watcher's thread.
class LimitWatcher : public Source {
 public:
  struct Options {
    std::string memory_dir;  // "" = not watched
    bool memory_v2 = false;
    std::string pids_dir;  // "" = not watched
    bool pids_v2 = false;
    uint64_t memory_limit = 0;
    uint32_t pids_limit = 0;
    std::string cpu_dir;  // "" = not watched (no cpu limit)
    bool cpu_v2 = false;
    uint64_t cpu_limit_millicores = 0;
    std::chrono::milliseconds cpu_event_interval{10000};
    // Who the OOM killer took (the supervisor asks the kernel capture's process table; it may wait a
    // moment for the victim's exit): the LIMIT:OOM actor. Called on the watcher's thread with the time
    // the kill was noticed; unset or nullopt: the event has no actor.
    std::function<std::optional<ocsf::Process>(int64_t noticed_ms)> oom_victim;
  };
  static Result<std::unique_ptr<LimitWatcher>> create(Options options, audit::Emitter& emitter,
                                                      const ocsf::SessionContext& ctx,
                                                      std::function<void(const ocsf::LimitHit&)> on_limit = {});
  ~LimitWatcher() override;
  LimitWatcher(const LimitWatcher&) = delete;
  LimitWatcher& operator=(const LimitWatcher&) = delete;

  std::string_view name() const override { return "cgroup"; }
  Result<void> start() override;
  void stop() override;

  // Hits emitted so far (for tests and the supervisor's summary).
  uint64_t oomEvents() const { return oom_events_.load(); }
  uint64_t pidsEvents() const { return pids_events_.load(); }
  uint64_t cpuEvents() const { return cpu_events_.load(); }

 private:
  LimitWatcher(Options options, audit::Emitter& emitter, const ocsf::SessionContext& ctx,
               std::function<void(const ocsf::LimitHit&)> on_limit);
  void run();
  void check(bool final);  // re-reads both counters and emits what is new; watcher thread
  void checkMemory();
  void checkPids(bool final);
  void checkCpu(bool final);

  Options options_;
  audit::Emitter& emitter_;
  const ocsf::SessionContext& ctx_;
  std::function<void(const ocsf::LimitHit&)> on_limit_;
  UniqueFd stop_fd_;      // eventfd: stop() writes, the thread wakes
  UniqueFd inotify_fd_;   // v2 memory.events / pids.events
  UniqueFd oom_event_fd_;  // v1: eventfd registered through cgroup.event_control
  UniqueFd oom_control_fd_;  // v1: memory.oom_control, kept open while registered
  bool poll_pids_ = false;   // v1 pids: 250 ms poll
  uint64_t seen_oom_kills_ = 0;  // Watcher thread only (or the stopping thread after join).
  uint64_t seen_pids_max_ = 0;   // Likewise.
  bool pids_pending_ = false;    // Likewise: a hit held back by the 250 ms rate limit.
  std::chrono::steady_clock::time_point last_pids_event_{};  // Likewise.
  std::chrono::steady_clock::time_point oom_recheck_until_{};  // Likewise: v1 OOM seen, kill not yet counted.
  uint64_t seen_throttled_periods_ = 0;  // Watcher thread only: cpu.stat at the last cpu event.
  uint64_t seen_throttled_us_ = 0;       // Likewise.
  std::chrono::steady_clock::time_point last_cpu_check_{};  // Likewise.
  std::chrono::steady_clock::time_point last_cpu_event_{};  // Likewise.
  std::thread thread_;
  bool started_ = false;  // start/stop thread only
  std::atomic<uint64_t> oom_events_{0};
  std::atomic<uint64_t> pids_events_{0};
  std::atomic<uint64_t> cpu_events_{0};
};

}  // namespace warden::capture
