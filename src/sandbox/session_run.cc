// A session's run: release the parked child, wait for the agent's end (exit, timeout, a stop
// request, signals to the supervisor), record the end and tear everything down; the control
// commands (pause, resume, stop, status); and Supervisor::run, the whole sequence.

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <future>
#include <filesystem>

#include "common/clock.h"
#include "sandbox/session.h"
#include "sandbox/supervisor.h"

namespace warden::sandbox {
namespace {

int64_t nowMs() { return SystemClock::instance().nowMillis(); }

// One timerfd, armed once.
UniqueFd oneShotTimer(std::chrono::milliseconds after) {
  UniqueFd fd(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
  if (!fd.valid()) return fd;
  itimerspec spec{};
  const auto ms = std::max<int64_t>(after.count(), 1);
  spec.it_value.tv_sec = ms / 1000;
  spec.it_value.tv_nsec = (ms % 1000) * 1000000;
  ::timerfd_settime(fd.get(), 0, &spec, nullptr);
  return fd;
}

// The executable the agent's process runs, from the kernel (not the first PATH candidate: a shim
// that exec'd something else, or a later PATH entry, would be named wrongly).
void nameFromKernel(ocsf::Process& process, pid_t host_pid) {
  if (host_pid <= 0) return;
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink(fmt::format("/proc/{}/exe", host_pid), ec);
  if (ec || exe.empty()) return;
  std::string path = exe.string();
  if (path.ends_with(" (deleted)")) path.resize(path.size() - 10);
  ocsf::File file;
  file.path = path;
  file.name = std::filesystem::path(path).filename().string();
  process.name = file.name;
  process.file = file;
}

}  // namespace

Result<std::string> Session::control(std::string_view command) {
  std::lock_guard lock(shared_.mu);
  if (command == "status") {
    return fmt::format("{} {} {}", ctx_.session_id, ctx_.session_name, shared_.paused ? "paused" : "running");
  }
  if (command == "stop") {
    shared_.stop_requested = true;
    const uint64_t one = 1;
    (void)!::write(shared_.wake.get(), &one, sizeof one);
    return std::string("stopping");
  }
  if (shared_.ended || shared_.cgroup == nullptr) return failedPrecondition("the session is ending");
  if (command == "pause") {
    if (shared_.paused) return std::string("already paused");
    if (auto frozen = shared_.cgroup->freeze(); !frozen.ok()) return frozen.error();
    shared_.paused = true;
    sessionEvent(ocsf::SessionActivity::kPause, "paused (cgroup frozen)");
    return std::string("paused");
  }
  if (command == "resume") {
    if (!shared_.paused) return std::string("not paused");
    if (auto thawed = shared_.cgroup->thaw(); !thawed.ok()) return thawed.error();
    shared_.paused = false;
    sessionEvent(ocsf::SessionActivity::kResume, "resumed (cgroup thawed)");
    return std::string("resumed");
  }
  return invalidArgument(fmt::format("unknown command '{}': expected pause, resume, stop or status", command));
}

int Session::releaseAndWait() {
  sessionEvent(ocsf::SessionActivity::kStart, fmt::format("session {} started", ctx_.session_name));
  started_ = true;
  const auto released = child_->release();
  if (!released.ok()) {
    // The agent reports and exits (127 not found, 126 not executable, 125 a set-up step); init follows.
    siginfo_t info{};
    while (::waitid(P_PIDFD, static_cast<id_t>(child_->pidfd()), &info, WEXITED) != 0 && errno == EINTR) {
    }
    const int code = info.si_code == CLD_EXITED ? info.si_status : kExitSetupFailed;
    std::fprintf(err_, "warden run: %s\n", released.error().message().c_str());
    pipeline_->operational(audit::Level::kError, "launcher", released.error().toString());
    // With the kernel capture the failed exec and the exit are recorded from the kernel.
    if (!kernel_processes_) emit(ocsf::procTerminate(ctx_, nowMs(), main_process_, {.exit_code = code}));
    SessionEnd end;
    end.reason = ocsf::StopReason::kExit;
    end.agent_status = end.warden_status = code;
    return finish(end);
  }
  startup_.mark("release");
  const pid_t agent = child_->agentPid();
  if (agent > 0) main_process_.pid = agent;
  nameFromKernel(main_process_, agent);
  // The kernel capture records the agent's exec like every other (no separate path); without it,
  // the supervisor records what it knows of its one process.
  if (!kernel_processes_) emit(ocsf::procLaunch(ctx_, nowMs(), main_process_, options_.argv));
  config(landlock_.degraded() ? ocsf::kConfigDegraded : ocsf::kConfigLoaded, "Landlock: " + landlock_.describe());
  config(ocsf::kConfigLoaded, seccomp_.describe());
  workspace_idmap_.reset();  // the workspace is mounted: the mapping's namespace is no longer needed
  pipeline_->operational(audit::Level::kDebug, "supervisor", "start-up: " + startup_.describe());

  // Wait for: the session's end (init exits with the agent), the timeout, the grace period after
  // SIGTERM, a stop request, signals.
  const std::optional<int64_t> timeout = options_.timeout_millis ? options_.timeout_millis : policy_->process.timeout_millis;
  UniqueFd timeout_timer = timeout ? oneShotTimer(std::chrono::milliseconds(*timeout)) : UniqueFd();
  UniqueFd grace_timer;
  bool timed_out = false;
  bool terminating = false;
  bool violation_killed = false;
  auto terminate = [&] {
    if (terminating) return;
    terminating = true;
    std::lock_guard lock(shared_.mu);
    if (shared_.paused && shared_.cgroup) (void)shared_.cgroup->thaw();  // frozen tasks cannot act on SIGTERM
    shared_.paused = false;
    // Init forwards it to the agent's process group; everything else in the cgroup gets it directly.
    if (shared_.cgroup) (void)shared_.cgroup->signalAll(SIGTERM);
    grace_timer = oneShotTimer(options_.kill_grace);
  };
  int wait_status = 0;
  for (;;) {
    pollfd fds[5] = {{child_->pidfd(), POLLIN, 0}, {signals_.get(), POLLIN, 0}, {shared_.wake.get(), POLLIN, 0},
                     {timeout_timer.get(), POLLIN, 0}, {grace_timer.get(), POLLIN, 0}};
    if (::poll(fds, 5, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[0].revents & POLLIN) {
      siginfo_t info{};
      if (::waitid(P_PIDFD, static_cast<id_t>(child_->pidfd()), &info, WEXITED) == 0) {
        wait_status = info.si_code == CLD_EXITED ? (info.si_status & 0xff) << 8 : (info.si_status & 0x7f);
      }
      // Init's report is the agent's own status (a signal stays a signal); without one (init was
      // killed), pid 1's status stands for the agent's.
      if (const auto agent_status = child_->agentWaitStatus()) wait_status = *agent_status;
      shutdown_ = StepTimer();
      break;
    }
    if (fds[1].revents & POLLIN) {
      signalfd_siginfo si{};
      if (::read(signals_.get(), &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
        if (si.ssi_signo == SIGHUP) {
          proxy_->reload();
        } else {
          pipeline_->operational(audit::Level::kInfo, "supervisor",
                                 fmt::format("received {}: stopping the session",
                                             ocsf::signalName(static_cast<int>(si.ssi_signo))));
          shared_.stop_requested = true;
          terminate();
        }
      }
    }
    if (fds[2].revents & POLLIN) {
      uint64_t n = 0;
      (void)!::read(shared_.wake.get(), &n, sizeof n);
      if (shared_.policy_violation && !violation_killed) {
        // A kill rule: the session stops at once, no grace period.
        violation_killed = true;
        std::lock_guard lock(shared_.mu);
        if (shared_.cgroup) {
          (void)shared_.cgroup->thaw();
          (void)shared_.cgroup->killAll(std::chrono::seconds(5));
        }
      } else if (shared_.stop_requested) {
        terminate();
      }
    }
    if (fds[3].revents & POLLIN) {
      timeout_timer.reset();
      timed_out = true;
      ocsf::LimitHit hit;
      hit.type = "timeout";
      hit.limit = static_cast<uint64_t>(*timeout);
      hit.measured = static_cast<uint64_t>(*timeout);
      hit.action = "kill";
      hit.process = main_process_;
      emit(ocsf::resourceLimit(ctx_, nowMs(), hit));
      terminate();
    }
    if (fds[4].revents & POLLIN) {
      grace_timer.reset();
      std::lock_guard lock(shared_.mu);
      if (shared_.cgroup) (void)shared_.cgroup->killAll(std::chrono::seconds(5));
    }
  }
  const auto facts = [&] {
    return EndFacts{.wait_status = wait_status,
                    .timed_out = timed_out,
                    .stop_requested = shared_.stop_requested,
                    .oom_killed = shared_.oom_killed,
                    .policy_violation = shared_.policy_violation};
  };
  SessionEnd end = classifyEnd(facts());
  // The kernel may report the OOM a moment after the death: give the watcher its say first.
  if (end.signal == SIGKILL && !timed_out && limit_watcher_) {
    limit_watcher_->stop();
    end = classifyEnd(facts());
  }
  if (!kernel_processes_) {
    emit(ocsf::procTerminate(ctx_, nowMs(), main_process_,
                             {.exit_code = end.agent_status, .signal = end.signal, .killed_by_limit = end.killed_by_limit}));
  }
  return finish(end);
}

void Session::stopSources() {
  for (auto it = sources_.rbegin(); it != sources_.rend(); ++it) (*it)->stop();
}

int Session::finish(const SessionEnd& end) {
  {
    std::lock_guard lock(shared_.mu);
    shared_.ended = true;
  }
  // The event sources say their last word before the session's stop: a final limit hit, a bypass
  // still in the kernel log, the NET:CLOSE of connections the agent left open.
  stopSources();
  if (sweep_future_.valid()) sweep_future_.wait();  // its event belongs before SESSION:STOP
  shutdown_.mark("sources");
  if (proxy_) proxy_->stop();
  shutdown_.mark("proxy");
  if (uplink_) {
    for (const auto& [level, message] : uplink_->finishNotes()) pipeline_->operational(level, "gateway", message);
  }
  ocsf::SessionInput stop;
  stop.activity = ocsf::SessionActivity::kStop;
  stop.reason = end.reason;
  stop.exit_code = end.agent_status;
  if (end.reason == ocsf::StopReason::kPolicyViolation) {
    std::lock_guard lock(shared_.mu);
    stop.rule = shared_.violation_rule;
  }
  emit(ocsf::session(ctx_, nowMs(), stop));
  if (detector_) {
    // The rules see the session's last events (its stop among them) before the record is sealed.
    detector_->drain([this] {
      const auto s = pipeline_->stats();
      return s.written + s.shed >= s.emitted;
    }, std::chrono::seconds(2));
    shutdown_.mark("detector");
  }
  teardown_.runAll();
  shutdown_.mark("teardown");
  const std::string kept = fmt::format("kept: the log directory {}", log_dir_.string());
  {
    std::lock_guard lock(removed_mu_);
    sessionEvent(ocsf::SessionActivity::kCleanup,
                 removed_.empty() ? kept : fmt::format("removed: {}; {}", fmt::join(removed_, ", "), kept));
  }
  pipeline_->operational(audit::Level::kDebug, "supervisor", "shutdown: " + shutdown_.describe());
  emit(ocsf::lifecycle(ctx_, nowMs(), {.activity = ocsf::LifecycleActivity::kStop,
                                       .component = "supervisor",
                                       .message = fmt::format("session {} ended: {}", ctx_.session_name,
                                                              ocsf::stopReasonName(end.reason))}));
  if (detector_) detector_->close();
  if (auto closed = pipeline_->close(); !closed.ok()) {
    std::fprintf(err_, "warden run: closing the log: %s\n", closed.error().toString().c_str());
  }
  if (uplink_) uplink_->close(err_);
  return end.warden_status;
}

int Session::run() {
  // Signals: the supervisor's own SIGTERM/SIGINT stop the session (reason api); SIGHUP reloads. Blocked
  // before any thread starts, so every thread inherits the mask and only the signalfd sees them.
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, sig);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  signals_ = UniqueFd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  shared_.wake = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!signals_.valid() || !shared_.wake.valid()) return fail("supervisor", internalError("signalfd/eventfd failed"));
  if (::geteuid() != 0) return fail("supervisor", permissionDenied("warden run needs root (namespaces, cgroups, nftables)"));

  if (auto loaded = loadPolicy(); !loaded.ok()) {
    std::fprintf(err_, "warden run: the policy does not load; nothing was started:\n%s\n", loaded.error().message().c_str());
    return kExitSetupFailed;
  }
  // The kernel capture's programs are verified on a thread of their own while the rest is set up
  // (the verifier is most of the start-up); startKernelCapture() binds and attaches them.
  if (const auto o = captureOptions(); o.processes || o.file_writes) {
    capture_future_ = std::async(std::launch::async, [o] { return capture::LoadedPrograms::load(o); });
  }
  if (auto rules = loadRules(); !rules.ok()) {
    std::fprintf(err_, "warden run: the detection rules do not load; nothing was started:\n%s\n",
                 rules.error().message().c_str());
    return kExitSetupFailed;
  }
  startup_.mark("policy");
  if (auto started = startRecord(); !started.ok()) return fail("audit log", started.error());
  startup_.mark("record");
  if (auto spawned = prepareAndSpawn(); !spawned.ok()) {
    const int code = fail("set-up", spawned.error());
    return finish({.reason = ocsf::StopReason::kExit, .agent_status = code, .warden_status = code});
  }
  if (auto services = startServices(); !services.ok()) {
    const int code = fail("set-up", services.error());
    return finish({.reason = ocsf::StopReason::kExit, .agent_status = code, .warden_status = code});
  }
  startup_.mark("services-wait");
  return releaseAndWait();
}

int Supervisor::run(const RunOptions& options, std::FILE* err) {
  Session session(options, err);
  return session.run();
}

}  // namespace warden::sandbox
