#pragma once

// Internal to the sandbox: one `warden run` session from start to finish (supervisor.h has the
// contract and the ordered steps). The steps live in their own files:
//   session_record.cc    policy, the audit pipeline and LOG:START, the uplink (gateway)
//   session_prepare.cc   leftovers of crashed runs, agent user, the agent's view (workspace, new root,
//                        Landlock), seccomp, cgroup with limits, the parked child
//   session_services.cc  veth, the proxy stack (proxy + resolver + reloader), the capture sources,
//                        the control socket
//   session_run.cc       release, the wait, the end of the session, control commands
//
// Threads: run() owns the calling thread; the control socket's thread calls control() under
// shared_.mu; the uplink's hooks arrive on its threads (policy under policy_mu_).

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "audit/pipeline.h"
#include "capture/cgroup/limit_watcher.h"
#include "capture/ebpf/ebpf_source.h"
#include "capture/process_table.h"
#include "capture/source.h"
#include "common/unique_fd.h"
#include "detect/live_detector.h"
#include "detect/rule_set.h"
#include "ocsf/builders.h"
#include "policy/snapshot.h"
#include "proxy/server/proxy_stack.h"
#include "proxy/tls_ca.h"
#include "sandbox/agent_user.h"
#include "sandbox/cgroup.h"
#include "sandbox/control_socket.h"
#include "sandbox/exit_status.h"
#include "sandbox/landlock.h"
#include "sandbox/launcher.h"
#include "sandbox/run_options.h"
#include "sandbox/sandbox_network.h"
#include "sandbox/seccomp_filter.h"
#include "sandbox/session_uplink.h"
#include "sandbox/step_timer.h"
#include "sandbox/subnet.h"
#include "sandbox/teardown_stack.h"
#include "sandbox/workspace.h"

namespace warden::sandbox {

inline constexpr uint16_t kProxyPort = 3128;
inline constexpr uint16_t kDnsPort = 53;

// Everything the running session shares between the main thread and the control thread.
struct SharedState {
  std::mutex mu;
  SessionCgroup* cgroup = nullptr;  // Guarded by mu.
  bool paused = false;              // Guarded by mu.
  bool ended = false;               // Guarded by mu: the agent is gone, pause/resume refused
  std::atomic<bool> stop_requested{false};
  std::atomic<bool> oom_killed{false};
  std::atomic<bool> policy_violation{false};  // a detection rule with `action: kill` fired
  std::string violation_rule;                 // Guarded by mu: its name, for SESSION:STOP
  UniqueFd wake;  // eventfd: a stop request for the main loop
};

class Session {
 public:
  Session(const RunOptions& options, std::FILE* err) : options_(options), err_(err) {}
  // The teardowns reference the members below: run whatever is left while they still exist.
  ~Session() { teardown_.runAll(); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  int run();

 private:
  // session_record.cc
  Result<void> loadPolicy();
  Result<void> loadRules();
  void onRuleAction(const detect::RuleAction& action);
  Result<void> startRecord();
  Result<void> startUplink();
  void applyGatewayPolicy(const std::string& yaml, uint64_t config_revision);
  // session_prepare.cc
  Result<void> prepareAndSpawn();
  Result<void> sweepLeftovers();
  Result<void> createStateDir();
  Result<void> createCgroup();
  Result<LaunchSpec> planLaunch();
  // session_services.cc
  Result<void> startServices();
  Result<void> startNetwork();
  Result<void> startProxy();
  void startSources();
  // What the policy and the flags ask the kernel capture to record (no session specifics yet).
  capture::CaptureOptions captureOptions() const;
  void startKernelCapture();
  // Starts a made source and keeps it (teardown registered); on failure records CONFIG:DEGRADED
  // "<what> ...: <error>" and returns null. `ready_message` goes into its LIFECYCLE ready event.
  capture::Source* addSource(Result<std::unique_ptr<capture::Source>> made, std::string_view what,
                             std::string ready_message);
  Result<void> startControl();
  Result<void> awaitCa();
  // session_run.cc
  int releaseAndWait();
  int finish(const SessionEnd& end);
  void stopSources();
  Result<std::string> control(std::string_view command);

  int fail(std::string_view step, const Error& error);
  void emit(ocsf::Event&& event) { pipeline_->emit(std::move(event)); }
  void config(std::string_view state, std::string message);
  void ready(std::string component, std::string message);
  void sessionEvent(ocsf::SessionActivity activity, std::string message = {});
  void noteRemoved(std::string what);

  const RunOptions& options_;
  std::FILE* err_;
  TeardownStack teardown_;
  ocsf::SessionContext ctx_;
  std::filesystem::path log_dir_;
  std::filesystem::path state_dir_;
  std::filesystem::path root_dir_;  // the agent's new root is mounted here, in its namespace only
  std::unique_ptr<SessionUplink> uplink_;
  std::mutex policy_mu_;
  bool policy_planned_ = false;  // Guarded by policy_mu_: the view was planned from policy_; swaps only now
  std::shared_ptr<const detect::RuleSet> rules_;
  std::unique_ptr<detect::LiveDetector> detector_;  // evaluates every written event; before pipeline_
  std::unique_ptr<audit::Pipeline> pipeline_;
  std::shared_ptr<const policy::Policy> policy_;
  std::unique_ptr<policy::PolicyStore> store_;
  AgentUser user_;
  WorkspacePlan workspace_;
  UniqueFd workspace_idmap_;  // the user namespace of the workspace's idmapping (when needed)
  LandlockPlan landlock_;
  SeccompProgram seccomp_;
  CgroupLayout cgroup_layout_;  // detected once by sweepLeftovers()
  CgroupLimits limits_;
  std::unique_ptr<SubnetLease> lease_;
  std::shared_ptr<proxy::CertificateAuthority> ca_;
  // Credentials the agent never holds: loaded before the agent's environment (placeholders) is made,
  // handed to the proxy (real values).
  std::shared_ptr<const proxy::inspect::CredentialVault> credentials_;
  std::unique_ptr<SessionCgroup> cgroup_;
  std::unique_ptr<SandboxChild> child_;
  std::unique_ptr<SandboxNetwork> network_;
  std::unique_ptr<proxy::ProxyStack> proxy_;
  // The kernel sources, in start order; stopped in reverse before SESSION:STOP (and again, idle, by
  // the teardown stack).
  std::vector<std::unique_ptr<capture::Source>> sources_;
  capture::LimitWatcher* limit_watcher_ = nullptr;  // one of sources_: asked for a late OOM verdict
  // The kernel capture's process table (null without capture): names actors by pid after the fact.
  std::shared_ptr<capture::ProcessTable> process_table_;
  // The table the kernel capture will feed, made before the proxy so the proxy's attribution hook
  // can hold it (process_table_ is this object once the capture runs; empty and unfed without one).
  std::shared_ptr<capture::ProcessTable> capture_table_ = std::make_shared<capture::ProcessTable>();
  bool kernel_processes_ = false;  // the kernel capture records every exec/exit, the first one too
  std::unique_ptr<ControlServer> control_;
  ocsf::Process main_process_;
  std::mutex removed_mu_;
  std::vector<std::string> removed_;  // what cleanup removed, for SESSION:CLEANUP. Guarded by removed_mu_.
  // Started early, joined when needed: each takes tens of ms (certificates; the first migration into
  // a cgroup v2 waits for an RCU grace period) and can overlap the rest of the start-up.
  std::future<Result<std::shared_ptr<proxy::CertificateAuthority>>> ca_future_;
  std::future<Result<void>> attach_future_;
  std::future<void> sweep_future_;
  // The kernel capture's programs, verified beside the set-up (most of the start-up's cost).
  std::future<Result<std::unique_ptr<capture::LoadedPrograms>>> capture_future_;  // leftovers of crashed runs, removed beside the start-up
  UniqueFd signals_;
  UniqueFd state_lock_;  // flock on <state_dir>/<id>.lock for the session's life (stale_sessions.h)
  SharedState shared_;
  bool started_ = false;  // the agent's process exists (release() was called)
  StepTimer startup_;     // start-up steps, reported once the agent runs
  StepTimer shutdown_;    // from the agent's end to the final checkpoint
};

}  // namespace warden::sandbox
