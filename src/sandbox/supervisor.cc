#include "sandbox/supervisor.h"

#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <vector>

#include "audit/pipeline.h"
#include "capture/cgroup/limit_watcher.h"
#include "capture/kmsg/bypass_monitor.h"
#include "common/clock.h"
#include "common/encoding.h"
#include "common/host_name.h"
#include "common/unique_fd.h"
#include "gateway/client/session_link.h"
#include "gateway/client/spool_replay.h"
#include "ocsf/builders.h"
#include "policy/loader.h"
#include "policy/diagnostics.h"
#include "policy/snapshot.h"
#include "proxy/caller_identity.h"
#include "proxy/server/connection_caller.h"
#include "proxy/server/dns_resolver.h"
#include "proxy/server/policy_reloader.h"
#include "proxy/server/server.h"
#include "proxy/tls_ca.h"
#include "sandbox/agent_env.h"
#include "sandbox/agent_user.h"
#include "sandbox/cgroup.h"
#include "sandbox/control_socket.h"
#include "sandbox/default_policy.h"
#include "sandbox/exit_status.h"
#include "sandbox/landlock.h"
#include "sandbox/launcher.h"
#include "sandbox/sandbox_network.h"
#include "sandbox/seccomp_filter.h"
#include "sandbox/session_process.h"
#include "sandbox/stale_sessions.h"
#include "sandbox/subnet.h"

extern char** environ;

namespace warden::sandbox {
namespace {

constexpr uint16_t kProxyPort = 3128;
constexpr uint16_t kDnsPort = 53;

int64_t nowMs() { return SystemClock::instance().nowMillis(); }


std::string humanBytes(uint64_t bytes) {
  if (bytes % (uint64_t{1} << 30) == 0) return fmt::format("{}GiB", bytes >> 30);
  if (bytes % (uint64_t{1} << 20) == 0) return fmt::format("{}MiB", bytes >> 20);
  return fmt::format("{} bytes", bytes);
}

// Teardowns registered by the start-up steps, run in reverse order exactly once. A step pushed as
// `independent` (it shares nothing with the steps after it: the network, the cgroup) is
// started on its own thread in its turn, and runAll() returns when every step is done — the kernel
// makes several of them wait for an RCU grace period, and they need not wait for each other.
class TeardownStack {
 public:
  void push(std::string what, std::function<void()> undo, bool independent = false) {
    steps_.push_back({std::move(what), std::move(undo), independent});
  }
  void runAll() {
    std::vector<std::future<void>> running;
    while (!steps_.empty()) {
      auto step = std::move(steps_.back());
      steps_.pop_back();
      if (step.independent) {
        running.push_back(std::async(std::launch::async, std::move(step.undo)));
      } else {
        step.undo();
      }
    }
    for (auto& f : running) f.wait();
  }
  ~TeardownStack() { runAll(); }

 private:
  struct Step {
    std::string what;
    std::function<void()> undo;
    bool independent = false;
  };
  std::vector<Step> steps_;
};

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

// Everything the running session shares between the main thread and the control thread.
struct Shared {
  std::mutex mu;
  SessionCgroup* cgroup = nullptr;  // Guarded by mu.
  bool paused = false;              // Guarded by mu.
  bool ended = false;               // Guarded by mu: the agent is gone, pause/resume refused
  std::atomic<bool> stop_requested{false};
  std::atomic<bool> oom_killed{false};
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
  int fail(std::string_view step, const Error& error);
  Result<void> startRecord();
  Result<void> startGatewayLink();
  void applyGatewayPolicy(const gateway::PolicyUpdate& update);
  void finishGatewayLink();
  Result<void> loadPolicy();
  Result<void> prepareAndSpawn();
  Result<void> startServices();
  int releaseAndWait();
  int finish(const SessionEnd& end);
  Result<std::string> control(std::string_view command);
  void emit(ocsf::Event&& event) { pipeline_->emit(std::move(event)); }
  void config(std::string_view state, std::string message) {
    ocsf::ConfigChange change;
    change.state = std::string(state);
    change.message = std::move(message);
    emit(ocsf::configChange(ctx_, nowMs(), change));
  }
  void ready(std::string component, std::string message) {
    emit(ocsf::lifecycle(ctx_, nowMs(), {.activity = ocsf::LifecycleActivity::kReady,
                                         .component = std::move(component),
                                         .message = std::move(message)}));
  }
  void sessionEvent(ocsf::SessionActivity activity, std::string message = {}) {
    ocsf::SessionInput input;
    input.activity = activity;
    input.message = std::move(message);
    emit(ocsf::session(ctx_, nowMs(), input));
  }

  const RunOptions& options_;
  std::FILE* err_;
  TeardownStack teardown_;
  ocsf::SessionContext ctx_;
  std::filesystem::path log_dir_;
  std::filesystem::path state_dir_;
  // The gateway link (--gateway): the spool outlives the pipeline's tap, the link outlives neither.
  std::unique_ptr<audit::Spool> spool_;
  std::filesystem::path spool_path_;
  std::atomic<gateway::SessionLink*> link_ptr_{nullptr};  // for the pipeline's writer thread
  std::unique_ptr<gateway::SessionLink> link_;
  std::future<std::vector<gateway::ReplayOutcome>> replay_future_;
  std::atomic<uint64_t> spool_failures_{0};
  std::mutex policy_mu_;
  bool policy_planned_ = false;  // Guarded by policy_mu_: Landlock was planned from policy_; swaps only now
  std::unique_ptr<audit::Pipeline> pipeline_;
  std::shared_ptr<const policy::Policy> policy_;
  std::unique_ptr<policy::PolicyStore> store_;
  AgentUser user_;
  LandlockPlan landlock_;
  SeccompProgram seccomp_;
  std::unique_ptr<SubnetLease> lease_;
  std::shared_ptr<proxy::CertificateAuthority> ca_;
  std::unique_ptr<SessionCgroup> cgroup_;
  std::unique_ptr<SandboxChild> child_;
  std::unique_ptr<SandboxNetwork> network_;
  std::unique_ptr<proxy::Server> proxy_;
  std::unique_ptr<proxy::DnsResolver> dns_;
  std::unique_ptr<capture::BypassMonitor> bypass_;
  std::unique_ptr<capture::LimitWatcher> limits_;
  std::unique_ptr<proxy::PolicyReloader> reloader_;
  std::unique_ptr<ControlServer> control_;
  ocsf::Process main_process_;
  std::mutex removed_mu_;
  std::vector<std::string> removed_;  // what cleanup removed, for SESSION:CLEANUP. Guarded by removed_mu_.
  void noteRemoved(std::string what) {
    std::lock_guard lock(removed_mu_);
    removed_.push_back(std::move(what));
  }
  // Started early, joined when needed: each takes tens of ms (certificates; the first migration into
  // a cgroup v2 waits for an RCU grace period) and can overlap the rest of the start-up.
  std::future<Result<std::shared_ptr<proxy::CertificateAuthority>>> ca_future_;
  std::future<Result<void>> attach_future_;
  Result<void> awaitCa();
  UniqueFd signals_;
  UniqueFd state_lock_;  // flock on <state_dir>/<id>.lock for the session's life (stale_sessions.h)
  Shared shared_;
  bool started_ = false;  // the agent's process exists (release() was called)
};

int Session::fail(std::string_view step, const Error& error) {
  std::fprintf(err_, "warden run: %.*s: %s\n", static_cast<int>(step.size()), step.data(), error.toString().c_str());
  if (pipeline_) {
    emit(ocsf::lifecycle(ctx_, nowMs(), {.activity = ocsf::LifecycleActivity::kFailed,
                                         .component = std::string(step),
                                         .message = fmt::format("{} failed", step),
                                         .error = error.toString(),
                                         .fatal = true}));
  }
  return kExitSetupFailed;
}

Result<void> Session::loadPolicy() {
  policy::Diagnostics diagnostics;
  Result<policy::Policy> loaded =
      options_.policy_file ? policy::loadPolicyFile(*options_.policy_file, &diagnostics)
                           : policy::loadPolicyText(kDefaultPolicy, kDefaultPolicyName, &diagnostics);
  if (!loaded.ok()) {
    return invalidArgument(diagnostics.empty() ? loaded.error().message() : diagnostics.toString());
  }
  policy_ = std::make_shared<const policy::Policy>(std::move(loaded).value());
  store_ = std::make_unique<policy::PolicyStore>(policy_);
  return okResult();
}

Result<void> Session::startRecord() {
  const int64_t now = nowMs();
  ctx_.hostname = hostName();
  ctx_.session_id = uuidV7(now);
  ctx_.session_name = options_.name.empty() ? ctx_.session_id : options_.name;
  log_dir_ = options_.log_dir.empty() ? std::filesystem::path("/var/log/warden") / ctx_.session_id : options_.log_dir;
  audit::PipelineOptions pipeline_options;
  pipeline_options.log_dir = log_dir_;
  pipeline_options.session = ctx_;
  pipeline_options.jsonl_enabled = options_.ocsf_json;
  if (options_.stream_fd >= 0) {
    pipeline_options.stdout_human = true;
    pipeline_options.human_fd = options_.stream_fd;
  }
  if (!options_.gateway_url.empty()) {
    // Every event goes to the spool first (from LOG:START on), then to the gateway.
    spool_path_ = options_.spool_dir / ctx_.session_id;
    std::error_code ec;
    std::filesystem::create_directories(options_.spool_dir, ec);
    ::chmod(options_.spool_dir.c_str(), 0700);
    auto spool = audit::Spool::open({.dir = spool_path_, .fsync_each_batch = false});
    if (!spool.ok()) return spool.error().withContext("gateway spool");
    spool_ = std::move(spool).value();
    pipeline_options.on_events = [this](std::vector<audit::SpooledEvent>&& batch) {
      if (batch.empty()) return;
      const uint64_t first = batch.front().sequence, last = batch.back().sequence;
      if (auto appended = spool_->append(batch); !appended.ok()) {
        // Still in warden.log; the gateway will miss them and `audit verify --gateway` names the gap.
        if (spool_failures_.fetch_add(1) < 10 && pipeline_) {
          pipeline_->operational(audit::Level::kError, "gateway",
                                 fmt::format("events {}-{} could not be spooled for the gateway: {}", first, last,
                                             appended.error().toString()));
        }
        return;
      }
      if (gateway::SessionLink* link = link_ptr_.load()) link->notify();
    };
  }
  auto pipeline = audit::Pipeline::start(std::move(pipeline_options));
  if (!pipeline.ok()) return pipeline.error();
  pipeline_ = std::move(pipeline).value();
  // The log directory holds the record: root only (the agent also cannot see it: hidden mount).
  ::chmod(log_dir_.c_str(), 0700);
  emit(ocsf::lifecycle(ctx_, now, {.activity = ocsf::LifecycleActivity::kStart,
                                   .component = "supervisor",
                                   .message = fmt::format("warden run supervisor started (pid {})", ::getpid())}));
  sessionEvent(ocsf::SessionActivity::kCreate, fmt::format("session {} created", ctx_.session_name));
  ocsf::ConfigChange change;
  change.message = fmt::format("policy loaded from {}: {} network rule{}", policy_->source, policy_->network.size(),
                               policy_->network.size() == 1 ? "" : "s");
  change.policy_version = std::to_string(policy_->version);
  change.policy_hash = policy_->hash;
  emit(ocsf::configChange(ctx_, now, change));
  if (options_.allow_loopback_upstream) {
    config(ocsf::kConfigDegraded, "loopback upstreams allowed (--allow-loopback-upstream) where allowed_ips covers them");
  }
  if (!options_.gateway_url.empty()) return startGatewayLink();
  return okResult();
}

Result<void> Session::startGatewayLink() {
  gateway::SessionLinkOptions link_options;
  link_options.link = {.gateway_url = options_.gateway_url,
                       .session_id = ctx_.session_id,
                       .session_name = ctx_.session_name,
                       .hostname = ctx_.hostname,
                       .public_key = pipeline_->publicKeyHex()};
  link_options.link_file = spool_path_ / "link";
  if (options_.gateway_ca) link_options.channel.ca_file = *options_.gateway_ca;
  link_options.poll_interval = options_.gateway_poll;
  if (auto written = gateway::writeLinkFile(link_options.link_file, link_options.link); !written.ok()) {
    return written.error().withContext("gateway link record");
  }
  gateway::SessionLinkHooks hooks;
  hooks.on_config = [this](const gateway::ConfigUpdate& update) {
    pipeline_->setJsonlEnabled(update.ocsf_enabled, update.config_revision);
  };
  hooks.on_policy = [this](const gateway::PolicyUpdate& update) { applyGatewayPolicy(update); };
  hooks.on_unreachable = [this](const audit::GatewayLinkFacts& facts) {
    emit(audit::gatewayUnreachableEvent(ctx_, nowMs(), facts));
  };
  hooks.on_reconnected = [this](const audit::GatewayLinkFacts& facts) {
    emit(audit::gatewayReconnectedEvent(ctx_, nowMs(), facts));
  };
  hooks.on_note = [this](audit::Level level, std::string_view message) {
    pipeline_->operational(level, "gateway", message);
  };
  auto link = gateway::SessionLink::start(std::move(link_options), *spool_, std::move(hooks));
  if (!link.ok()) return link.error().withContext("gateway link");
  link_ = std::move(link).value();
  link_ptr_.store(link_.get());
  // The gateway's config and policy apply from the start when it answers in time.
  const bool answered = link_->waitFirstContact(options_.gateway_first_contact);
  {
    std::lock_guard lock(policy_mu_);
    policy_planned_ = true;
  }
  ready("gateway", answered ? fmt::format("gateway {}: registered, config applied, pushing events", options_.gateway_url)
                            : fmt::format("gateway {}: no answer yet; running on the local config, events spooled",
                                          options_.gateway_url));
  // Leftovers of earlier sessions whose events never reached their gateway.
  replay_future_ = std::async(std::launch::async, [root = options_.spool_dir, id = ctx_.session_id,
                                                   ca = link_options.channel] {
    return gateway::replayLeftoverSpools(root, id, std::chrono::seconds(5), ca);
  });
  return okResult();
}

void Session::applyGatewayPolicy(const gateway::PolicyUpdate& update) {
  policy::Diagnostics diagnostics;
  auto loaded = policy::loadPolicyText(update.yaml, "gateway " + options_.gateway_url, &diagnostics);
  ocsf::ConfigChange change;
  if (!loaded.ok()) {
    change.state = std::string(ocsf::kConfigFailed);
    change.message = fmt::format("policy from the gateway (revision {}) does not load; the current policy stays in force",
                                 update.config_revision);
    for (const auto& d : diagnostics.entries()) change.errors.push_back(d.toString());
    if (change.errors.empty()) change.errors.push_back(loaded.error().message());
    const auto current = store_->current();
    change.policy_version = std::to_string(current->version);
    change.policy_hash = current->hash;
    emit(ocsf::configChange(ctx_, nowMs(), change));
    return;
  }
  auto next = std::make_shared<const policy::Policy>(std::move(loaded).value());
  if (next->hash == store_->current()->hash) return;
  change.state = std::string(ocsf::kConfigUpdated);
  change.policy_version = std::to_string(next->version);
  change.policy_hash = next->hash;
  {
    std::lock_guard lock(policy_mu_);
    if (!policy_planned_) {
      // Before the sandbox is planned the whole policy applies (filesystem, process, resources too).
      change.message = fmt::format("policy from the gateway (revision {}): {} network rules, in force for the whole "
                                   "session", update.config_revision, next->network.size());
      policy_ = next;
    } else {
      change.message = fmt::format("policy from the gateway (revision {}): {} network rules hot-reloaded (filesystem "
                                   "and process sections apply to the next session)",
                                   update.config_revision, next->network.size());
    }
  }
  store_->swap(std::move(next));
  emit(ocsf::configChange(ctx_, nowMs(), change));
}

void Session::finishGatewayLink() {
  if (!link_) return;
  if (replay_future_.valid()) {
    for (const auto& r : replay_future_.get()) {
      pipeline_->operational(r.complete ? audit::Level::kInfo : audit::Level::kWarn, "gateway",
                             r.complete ? fmt::format("sent {} leftover events of earlier session {}", r.sent, r.session_id)
                                        : fmt::format("leftover spool of session {} kept: {}", r.session_id, r.problem));
    }
  }
}

Result<void> Session::prepareAndSpawn() {
  // Our own lock first: from here on no other supervisor's sweep takes our files for stale ones.
  auto state_lock = lockSessionState(options_.state_dir, ctx_.session_id);
  if (!state_lock.ok()) return state_lock.error().withContext("session state");
  state_lock_ = std::move(state_lock).value();
  teardown_.push("state lock", [this] {
    std::error_code rm;
    std::filesystem::remove(options_.state_dir / (ctx_.session_id + ".lock"), rm);
    state_lock_.reset();
  });
  // Leftovers of crashed runs (the subnet lease cleans its own index; cgroups here).
  auto layout = CgroupLayout::detect();
  if (!layout.ok()) return layout.error().withContext("cgroups");
  for (const std::string& stale : cleanupStaleCgroups(layout.value())) removed_.push_back("stale " + stale);
  std::vector<std::string> stale_net;
  if (auto swept = sweepStaleSubnets(&stale_net, options_.run_dir / "net"); !swept.ok()) {
    pipeline_->operational(audit::Level::kWarn, "supervisor", "stale network clean-up: " + swept.error().toString());
  }
  for (const std::string& s : sweepStaleSessionFiles(options_.run_dir / "sessions", options_.state_dir)) {
    removed_.push_back("stale " + s);
  }
  auto lease = acquireSubnet(&stale_net, options_.run_dir / "net");
  if (!lease.ok()) return lease.error().withContext("network subnet");
  lease_ = std::make_unique<SubnetLease>(std::move(lease).value());
  for (const std::string& s : stale_net) removed_.push_back("stale " + s);
  if (!removed_.empty()) {
    ocsf::OperationalInput input;
    input.severity = ocsf::Severity::kLow;
    input.name = "Stale Cleanup";
    input.message = fmt::format("removed leftovers of a crashed earlier run: {}", fmt::join(removed_, ", "));
    emit(ocsf::operationalEvent(ctx_, nowMs(), input));
    removed_.clear();
  }

  // Who the agent is and what it may touch.
  auto user = resolveAgentUser(policy_->process.run_as_user);
  if (!user.ok()) return user.error().withContext("agent user");
  user_ = std::move(user).value();

  // The session CA: agent-readable copies under state_dir, the record's copy in the log directory.
  state_dir_ = options_.state_dir / ctx_.session_id;
  std::error_code ec;
  std::filesystem::create_directories(state_dir_, ec);
  if (ec) return internalError(fmt::format("creating {}: {}", state_dir_.string(), ec.message()));
  ::chmod(state_dir_.c_str(), 0755);
  teardown_.push("ca files", [this] {
    if (ca_future_.valid()) ca_future_.wait();
    std::error_code rm;
    if (std::filesystem::remove_all(state_dir_, rm) > 0) noteRemoved("CA files " + state_dir_.string());
  });
  ca_future_ = std::async(std::launch::async, [dir = state_dir_] { return proxy::CertificateAuthority::create(dir); });

  auto landlock = planLandlock(policy_->filesystem, {state_dir_.string()});
  if (!landlock.ok()) return landlock.error().withContext("Landlock");
  landlock_ = std::move(landlock).value();
  auto seccomp = buildSeccompProgram();
  if (!seccomp.ok()) return seccomp.error().withContext("seccomp");
  seccomp_ = std::move(seccomp).value();

  // Limits: the flags beat the policy.
  CgroupLimits limits;
  limits.memory_bytes = options_.memory_bytes ? options_.memory_bytes : policy_->resources.memory_bytes;
  limits.pids = options_.pids ? options_.pids : policy_->resources.pids;
  limits.cpus = policy_->resources.cpu;
  auto cgroup = SessionCgroup::create(ctx_.session_id, limits, layout.value());
  if (!cgroup.ok()) return cgroup.error().withContext("cgroup");
  cgroup_ = std::move(cgroup).value();
  teardown_.push(
      "cgroup",
      [this] {
        if (attach_future_.valid()) attach_future_.wait();
        {
          std::lock_guard lock(shared_.mu);
          shared_.cgroup = nullptr;
        }
        (void)cgroup_->thaw();
        (void)cgroup_->killAll(std::chrono::seconds(5));
        if (cgroup_->remove().ok()) noteRemoved("cgroup warden-" + ctx_.session_id);
      },
      /*independent=*/true);
  {
    std::lock_guard lock(shared_.mu);
    shared_.cgroup = cgroup_.get();
  }
  std::vector<std::string> parts;
  if (limits.memory_bytes) parts.push_back("memory " + humanBytes(*limits.memory_bytes));
  if (limits.pids) parts.push_back(fmt::format("pids {}", *limits.pids));
  if (limits.cpus) parts.push_back(fmt::format("cpu {}", *limits.cpus));
  const std::string described = fmt::format("cgroup {}: {} ({})", "warden-" + ctx_.session_id,
                                            parts.empty() ? "no limits" : fmt::format("{}", fmt::join(parts, ", ")),
                                            cgroup_->describe());
  if (cgroup_->missing().empty()) {
    config(ocsf::kConfigLoaded, described);
  } else {
    config(ocsf::kConfigDegraded, fmt::format("{}; not enforceable: {}", described, fmt::join(cgroup_->missing(), ", ")));
  }

  // The child, parked in its namespaces until everything around it is ready.
  std::vector<std::string> inherited;
  for (char** e = environ; e && *e; ++e) inherited.emplace_back(*e);
  LaunchSpec spec;
  spec.argv = options_.argv;
  spec.env = buildAgentEnv({.inherited = std::move(inherited),
                            .proxy_url = fmt::format("http://{}:{}", lease_->host_ip, kProxyPort),
                            .ca_bundle = (state_dir_ / "ca-bundle.pem").string(),
                            .ca_certificate = (state_dir_ / "ca.pem").string(),
                            .home = user_.home,
                            .user = user_.name,
                            .session_id = ctx_.session_id});
  spec.cwd = options_.cwd.empty() ? agentWorkingDirectory(std::filesystem::current_path(ec).string(),
                                                          policy_->filesystem.read_only, policy_->filesystem.read_write)
                                  : options_.cwd.string();
  spec.hostname = "warden-" + ctx_.session_id.substr(ctx_.session_id.size() - 8);
  spec.user = user_;
  spec.hidden_paths = {log_dir_.string(), "/var/log/warden", options_.run_dir.string()};
  if (!options_.gateway_url.empty()) spec.hidden_paths.push_back(options_.spool_dir.string());
  spec.private_tmp = true;
  // Name resolution goes to the sandbox resolver: the agent sees a resolv.conf that names only it.
  const std::filesystem::path resolv = state_dir_ / "resolv.conf";
  {
    std::FILE* f = std::fopen(resolv.c_str(), "we");
    if (f == nullptr) return internalError("writing " + resolv.string());
    std::fprintf(f, "# written by warden run for session %s\nnameserver %s\noptions timeout:2 attempts:2\n",
                 ctx_.session_id.c_str(), lease_->host_ip.c_str());
    std::fclose(f);
    ::chmod(resolv.c_str(), 0644);
  }
  spec.read_only_binds.push_back({resolv.string(), "/etc/resolv.conf"});
  spec.landlock = landlock_;
  spec.seccomp = seccomp_;
  main_process_ = mainProcess(spec.argv, spec.env, spec.cwd, user_.uid);
  auto child = SandboxChild::spawn(spec);
  if (!child.ok()) return child.error().withContext("starting the sandbox");
  child_ = std::move(child).value();
  attach_future_ = std::async(std::launch::async, [this] { return cgroup_->addProcess(child_->pid()); });
  return okResult();
}

Result<void> Session::startServices() {
  // The network: veth pair and routes (the sandbox side now exists in the child's namespace).
  auto network = SandboxNetwork::create(std::move(*lease_), child_->pid());
  if (!network.ok()) return network.error().withContext("sandbox network");
  network_ = std::move(network).value();
  teardown_.push(
      "network",
      [this] {
        // The agent is gone: its network namespace dies with its last process and takes the veth pair
        // and the sandbox's nftables table with it (no need to wait for the kernel here).
        const std::string veth = network_->lease().host_if;
        if (network_->teardown(/*delete_veth=*/false).ok()) {
          noteRemoved("network namespace with veth " + veth + " and its nftables table");
        }
      },
      /*independent=*/true);
  const SubnetLease& lease = network_->lease();
  ctx_.proxy = {.ip = lease.host_ip, .port = kProxyPort};

  // Caller identity inside the sandbox: its own /proc through the agent's root, pids as it sees them.
  proxy::CallerLookupOptions lookup_options;
  lookup_options.proc_root = fmt::format("/proc/{}/root/proc", child_->pid());
  lookup_options.net_pid = "1";
  lookup_options.stop_pid = 1;
  std::shared_ptr<proxy::CallerIdentityResolver> identities;
  if (auto resolver = proxy::CallerIdentityResolver::create(lookup_options); resolver.ok()) {
    identities = std::move(resolver).value();
  } else {
    pipeline_->operational(audit::Level::kWarn, "supervisor",
                           "caller identity unavailable: " + resolver.error().toString() + "; binary rules cannot match");
  }

  if (auto ca = awaitCa(); !ca.ok()) return ca.error();

  // The egress proxy on the host side of the veth.
  proxy::ServerOptions proxy_options;
  proxy_options.listen_address = lease.host_ip;
  proxy_options.listen_port = kProxyPort;
  proxy_options.targets.allow_loopback_upstream = options_.allow_loopback_upstream;
  proxy_options.threads = 1;
  auto server = proxy::Server::create(proxy_options, *store_, *pipeline_, ctx_,
                                      identities ? proxy::makeProcCallerLookup(identities) : proxy::CallerLookup{}, ca_);
  if (!server.ok()) return server.error().withContext("egress proxy");
  proxy_ = std::move(server).value();
  proxy_->start();
  teardown_.push("proxy", [this] { proxy_->stop(); });

  // The resolver beside it.
  proxy::DnsResolverOptions dns_options;
  dns_options.listen_address = lease.host_ip;
  dns_options.listen_port = kDnsPort;
  dns_options.upstreams = options_.dns_upstreams;
  auto dns = proxy::DnsResolver::create(dns_options, *pipeline_, proxy_->session(),
                                        identities ? proxy::makeDnsCallerLookup(identities) : proxy::DnsResolver::CallerLookup{});
  if (!dns.ok()) return dns.error().withContext("DNS resolver");
  dns_ = std::move(dns).value();
  dns_->start();
  teardown_.push("dns", [this] { dns_->stop(); });
  ready("dns", fmt::format("sandbox resolver listening on {}:{}", lease.host_ip, kDnsPort));

  // The firewall in the sandbox's namespace (and the host's guard table).
  FirewallSpec firewall;
  firewall.proxy_port = kProxyPort;
  firewall.dns_port = kDnsPort;
  firewall.log_prefix = fmt::format("warden:bypass:{}: ", ctx_.session_id);
  if (auto installed = network_->installFirewall(firewall); !installed.ok()) {
    return installed.error().withContext("nftables");
  }
  ready("network", fmt::format("veth {} {}/30 <-> sandbox eth0 {}; nftables: only the proxy and the resolver",
                               lease.host_if, lease.host_ip, lease.sandbox_ip));

  // Bypass attempts from the kernel log.
  capture::BypassMonitor::Options bypass_options;
  bypass_options.session_tag = ctx_.session_id;
  if (identities) {
    // The socket that tried is often still open (curl reports the refusal before it exits): name it.
    bypass_options.resolve_actor = [lookup = proxy::makeDnsCallerLookup(identities)](
                                       const capture::NftLogRecord& record) -> std::optional<ocsf::Process> {
      boost::system::error_code ec;
      const auto address = boost::asio::ip::make_address(record.src_ip, ec);
      if (ec || record.src_port == 0 || (record.protocol != "tcp" && record.protocol != "udp")) return std::nullopt;
      return lookup(boost::asio::ip::udp::endpoint(address, record.src_port), record.protocol == "tcp");
    };
  }
  if (auto monitor = capture::BypassMonitor::start(bypass_options, *pipeline_, proxy_->session()); monitor.ok()) {
    bypass_ = std::move(monitor).value();
    teardown_.push("kmsg", [this] { bypass_->stop(); });
    if (!bypass_->kernelChange().empty()) config(ocsf::kConfigUpdated, "kernel: " + bypass_->kernelChange());
    ready("kmsg", "bypass monitor reading the kernel log");
  } else {
    config(ocsf::kConfigDegraded, "bypass attempts are rejected but not recorded: " + monitor.error().toString());
  }

  // Limit hits from the cgroup.
  capture::LimitWatcher::Options limit_options;
  limit_options.memory_dir = cgroup_->memoryDir();
  limit_options.memory_v2 = cgroup_->memoryIsV2();
  limit_options.pids_dir = cgroup_->pidsDir();
  limit_options.pids_v2 = cgroup_->pidsIsV2();
  limit_options.memory_limit = options_.memory_bytes.value_or(policy_->resources.memory_bytes.value_or(0));
  limit_options.pids_limit = options_.pids.value_or(policy_->resources.pids.value_or(0));
  if (policy_->resources.cpu) {
    limit_options.cpu_dir = cgroup_->cpuDir();
    limit_options.cpu_v2 = cgroup_->cpuIsV2();
    limit_options.cpu_limit_millicores = static_cast<uint64_t>(*policy_->resources.cpu * 1000.0 + 0.5);
  }
  auto watcher = capture::LimitWatcher::create(limit_options, *pipeline_, ctx_, [this](const ocsf::LimitHit& hit) {
    if (hit.type == "oom") shared_.oom_killed = true;
  });
  if (watcher.ok() && watcher.value()->start().ok()) {
    limits_ = std::move(watcher).value();
    teardown_.push("limits", [this] { limits_->stop(); });
  } else {
    config(ocsf::kConfigDegraded, "resource limit hits are enforced but not recorded: " +
                                      (watcher.ok() ? std::string("watcher did not start") : watcher.error().toString()));
  }

  // Hot reload of the network section.
  if (options_.policy_file) {
    if (auto r = proxy::PolicyReloader::create({.policy_file = *options_.policy_file}, *store_, *pipeline_,
                                               proxy_->session());
        r.ok()) {
      reloader_ = std::move(r).value();
      reloader_->start();
      teardown_.push("reloader", [this] { reloader_->stop(); });
    } else {
      pipeline_->operational(audit::Level::kWarn, "supervisor",
                             "policy file watch unavailable: " + r.error().toString() + "; reload with SIGHUP");
    }
  }

  // The control socket.
  auto control_server = ControlServer::create(
      ctx_.session_id, ctx_.session_name, [this](std::string_view command) { return control(command); },
      [this](uid_t uid, pid_t pid) {
        pipeline_->operational(audit::Level::kWarn, "control",
                               fmt::format("refused a control connection from uid {} pid {}: not root", uid, pid));
      },
      options_.run_dir / "sessions");
  if (!control_server.ok()) return control_server.error().withContext("control socket");
  control_ = std::move(control_server).value();
  control_->start();
  teardown_.push("control", [this] { control_->stop(); });
  ready("control", "control socket " + control_->path().string());
  // The agent may run only once it is inside its cgroup.
  if (auto joined = attach_future_.get(); !joined.ok()) return joined.error().withContext("cgroup");
  return okResult();
}

Result<void> Session::awaitCa() {
  auto ca = ca_future_.get();
  if (!ca.ok()) return ca.error().withContext("session CA");
  ca_ = std::move(ca).value();
  std::error_code ec;
  std::filesystem::copy_file(ca_->certificatePath(), log_dir_ / "ca.pem", std::filesystem::copy_options::overwrite_existing,
                             ec);
  return okResult();
}

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
    // The child reports and exits (127 not found, 126 not executable, 125 a set-up step).
    int status = 0;
    ::waitpid(child_->pid(), &status, 0);
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : kExitSetupFailed;
    std::fprintf(err_, "warden run: %s\n", released.error().message().c_str());
    pipeline_->operational(audit::Level::kError, "launcher", released.error().toString());
    emit(ocsf::procTerminate(ctx_, nowMs(), main_process_, {.exit_code = code}));
    SessionEnd end;
    end.reason = ocsf::StopReason::kExit;
    end.agent_status = end.warden_status = code;
    return finish(end);
  }
  emit(ocsf::procLaunch(ctx_, nowMs(), main_process_, options_.argv));
  config(landlock_.degraded() ? ocsf::kConfigDegraded : ocsf::kConfigLoaded, "Landlock: " + landlock_.describe());
  config(ocsf::kConfigLoaded, seccomp_.describe());

  // Wait for: the agent's exit, the timeout, the grace period after SIGTERM, a stop request, signals.
  const std::optional<int64_t> timeout = options_.timeout_millis ? options_.timeout_millis : policy_->process.timeout_millis;
  UniqueFd timeout_timer = timeout ? oneShotTimer(std::chrono::milliseconds(*timeout)) : UniqueFd();
  UniqueFd grace_timer;
  bool timed_out = false;
  bool terminating = false;
  auto terminate = [&] {
    if (terminating) return;
    terminating = true;
    std::lock_guard lock(shared_.mu);
    if (shared_.paused && shared_.cgroup) (void)shared_.cgroup->thaw();  // frozen tasks cannot act on SIGTERM
    shared_.paused = false;
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
      break;
    }
    if (fds[1].revents & POLLIN) {
      signalfd_siginfo si{};
      if (::read(signals_.get(), &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
        if (si.ssi_signo == SIGHUP) {
          if (reloader_) reloader_->trigger();
        } else {
          pipeline_->operational(audit::Level::kInfo, "supervisor",
                                 fmt::format("received {}: stopping the session", ocsf::signalName(static_cast<int>(si.ssi_signo))));
          shared_.stop_requested = true;
          terminate();
        }
      }
    }
    if (fds[2].revents & POLLIN) {
      uint64_t n = 0;
      (void)!::read(shared_.wake.get(), &n, sizeof n);
      if (shared_.stop_requested) terminate();
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
  SessionEnd end = classifyEnd({.wait_status = wait_status,
                                .timed_out = timed_out,
                                .stop_requested = shared_.stop_requested,
                                .oom_killed = shared_.oom_killed});
  // The kernel may report the OOM a moment after the death: give the watcher its say first.
  if (end.signal == SIGKILL && !timed_out && limits_) {
    limits_->stop();
    end = classifyEnd({.wait_status = wait_status, .timed_out = timed_out,
                       .stop_requested = shared_.stop_requested, .oom_killed = shared_.oom_killed});
  }
  emit(ocsf::procTerminate(ctx_, nowMs(), main_process_,
                           {.exit_code = end.agent_status, .signal = end.signal, .killed_by_limit = end.killed_by_limit}));
  return finish(end);
}

int Session::finish(const SessionEnd& end) {
  {
    std::lock_guard lock(shared_.mu);
    shared_.ended = true;
  }
  // The event sources say their last word before the session's stop: a final limit hit, a bypass
  // still in the kernel log, the NET:CLOSE of connections the agent left open.
  if (limits_) limits_->stop();
  if (bypass_) bypass_->stop();
  if (dns_) dns_->stop();
  if (proxy_) proxy_->stop();
  ocsf::SessionInput stop;
  stop.activity = ocsf::SessionActivity::kStop;
  stop.reason = end.reason;
  stop.exit_code = end.agent_status;
  emit(ocsf::session(ctx_, nowMs(), stop));
  teardown_.runAll();
  const std::string kept = fmt::format("kept: the log directory {}", log_dir_.string());
  sessionEvent(ocsf::SessionActivity::kCleanup,
               removed_.empty() ? kept : fmt::format("removed: {}; {}", fmt::join(removed_, ", "), kept));
  emit(ocsf::lifecycle(ctx_, nowMs(), {.activity = ocsf::LifecycleActivity::kStop,
                                       .component = "supervisor",
                                       .message = fmt::format("session {} ended: {}", ctx_.session_name,
                                                              ocsf::stopReasonName(end.reason))}));
  finishGatewayLink();
  if (auto closed = pipeline_->close(); !closed.ok()) {
    std::fprintf(err_, "warden run: closing the log: %s\n", closed.error().toString().c_str());
  }
  if (link_) {
    // The final checkpoint is in the spool now: wait for the gateway to hold everything.
    const bool all = link_->drain(options_.gateway_drain);
    link_ptr_.store(nullptr);
    link_->stop();
    const uint64_t left = spool_->lastSequence() - spool_->ackedSequence();
    spool_.reset();
    if (all) {
      std::error_code ec;
      std::filesystem::remove_all(spool_path_, ec);
    } else {
      std::fprintf(err_,
                   "warden run: the gateway has not acknowledged %llu events; they are kept in %s and sent by the "
                   "next warden run --gateway\n",
                   static_cast<unsigned long long>(left), spool_path_.c_str());
    }
  }
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
  if (auto started = startRecord(); !started.ok()) return fail("audit log", started.error());
  if (auto spawned = prepareAndSpawn(); !spawned.ok()) {
    const int code = fail("set-up", spawned.error());
    return finish({.reason = ocsf::StopReason::kExit, .agent_status = code, .warden_status = code});
  }
  if (auto services = startServices(); !services.ok()) {
    const int code = fail("set-up", services.error());
    return finish({.reason = ocsf::StopReason::kExit, .agent_status = code, .warden_status = code});
  }
  return releaseAndWait();
}

}  // namespace

int Supervisor::run(const RunOptions& options, std::FILE* err) {
  Session session(options, err);
  return session.run();
}

}  // namespace warden::sandbox
