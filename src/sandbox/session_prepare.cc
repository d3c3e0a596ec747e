// Preparing a session before its first process exists: leftovers of crashed runs, the agent user,
// the session's state directory and CA, the agent's view (workspace, a new root, Landlock), seccomp,
// the cgroup with its limits, and the child, parked in its namespaces.

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/stat.h>
#include <unistd.h>

#include <system_error>

#include "common/clock.h"
#include "common/encoding.h"
#include "sandbox/agent_env.h"
#include "proxy/inspect/credentials.h"
#include "sandbox/default_policy.h"
#include "sandbox/session.h"
#include "sandbox/session_process.h"
#include "sandbox/stale_sessions.h"

extern char** environ;

namespace warden::sandbox {
namespace {

int64_t nowMs() { return SystemClock::instance().nowMillis(); }

// The host path the agent's /etc/resolv.conf resolves to, so the session's copy can be placed there
// even when the host's is a symlink (into /run, which the view replaces).
std::string resolvConfTarget() {
  std::error_code ec;
  const auto canonical = std::filesystem::canonical("/etc/resolv.conf", ec);
  return ec ? std::string("/etc/resolv.conf") : canonical.string();
}

}  // namespace

Result<void> Session::sweepLeftovers() {
  // Our own lock first: from here on no other supervisor's sweep takes our files for stale ones.
  auto state_lock = lockSessionState(options_.state_dir, ctx_.session_id);
  if (!state_lock.ok()) return state_lock.error().withContext("session state");
  state_lock_ = std::move(state_lock).value();
  teardown_.push("state lock", [this] {
    std::error_code rm;
    std::filesystem::remove(options_.state_dir / (ctx_.session_id + ".lock"), rm);
    state_lock_.reset();
  });
  auto layout = CgroupLayout::detect();
  if (!layout.ok()) return layout.error().withContext("cgroups");
  cgroup_layout_ = std::move(layout).value();
  // Leftovers of crashed runs. The subnet lease must be swept and taken now; the cgroups, control
  // sockets and state directories of dead sessions do not collide with ours (their ids differ), so
  // they are removed beside the start-up, and recorded when that is done (before SESSION:STOP).
  std::vector<std::string> stale_net;
  if (auto swept = sweepStaleSubnets(&stale_net, options_.run_dir / "net"); !swept.ok()) {
    pipeline_->operational(audit::Level::kWarn, "supervisor", "stale network clean-up: " + swept.error().toString());
  }
  auto lease = acquireSubnet(&stale_net, options_.run_dir / "net");
  if (!lease.ok()) return lease.error().withContext("network subnet");
  lease_ = std::make_unique<SubnetLease>(std::move(lease).value());
  std::vector<std::string> removed;
  for (const std::string& s : stale_net) removed.push_back("stale " + s);
  sweep_future_ = std::async(std::launch::async, [this, removed = std::move(removed)]() mutable {
    for (const std::string& stale : cleanupStaleCgroups(cgroup_layout_, options_.run_dir / "sessions",
                                                         options_.state_dir)) {
      removed.push_back("stale " + stale);
    }
    for (const std::string& s : sweepStaleSessionFiles(options_.run_dir / "sessions", options_.state_dir)) {
      removed.push_back("stale " + s);
    }
    if (removed.empty()) return;
    ocsf::OperationalInput input;
    input.severity = ocsf::Severity::kLow;
    input.name = "Stale Cleanup";
    input.message = fmt::format("removed leftovers of a crashed earlier run: {}", fmt::join(removed, ", "));
    emit(ocsf::operationalEvent(ctx_, nowMs(), input));
  });
  teardown_.push("stale sweep", [this] {
    if (sweep_future_.valid()) sweep_future_.wait();
  });
  return okResult();
}

Result<void> Session::createStateDir() {
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
  // Where the agent's new root is mounted (in its own mount namespace; on the host an empty dir).
  root_dir_ = options_.run_dir / "roots" / ctx_.session_id;
  std::filesystem::create_directories(root_dir_, ec);
  if (ec) return internalError(fmt::format("creating {}: {}", root_dir_.string(), ec.message()));
  ::chmod(root_dir_.c_str(), 0700);
  teardown_.push("root dir", [this] {
    std::error_code rm;
    std::filesystem::remove(root_dir_, rm);
  });
  // Name resolution goes to the sandbox resolver: the agent sees a resolv.conf that names only it.
  const std::filesystem::path resolv = state_dir_ / "resolv.conf";
  std::FILE* f = std::fopen(resolv.c_str(), "we");
  if (f == nullptr) return internalError("writing " + resolv.string());
  std::fprintf(f, "# written by warden run for session %s\nnameserver %s\noptions timeout:2 attempts:2\n",
               ctx_.session_id.c_str(), lease_->host_ip.c_str());
  std::fclose(f);
  ::chmod(resolv.c_str(), 0644);
  return okResult();
}

Result<void> Session::createCgroup() {
  // Limits: the flags beat the policy, which beats the defaults; every one is recorded.
  const auto& resources = policy_->resources;
  const std::optional<uint64_t> memory = options_.memory_bytes ? options_.memory_bytes : resources.memory_bytes;
  const DefaultLimits defaults =
      defaultLimits(memory, options_.tmp_bytes ? options_.tmp_bytes : resources.tmp_bytes);
  limits_.memory_bytes = defaults.memory_bytes;
  limits_.pids = options_.pids ? options_.pids : resources.pids.value_or(defaults.pids);
  limits_.cpus = resources.cpu;
  auto cgroup = SessionCgroup::create(ctx_.session_id, limits_, cgroup_layout_);
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
  auto source = [](bool flag, bool policy) { return flag ? "flag" : policy ? "policy" : "default"; };
  std::vector<std::string> parts;
  parts.push_back(fmt::format("memory {} ({})", formatByteSize(*limits_.memory_bytes),
                              source(options_.memory_bytes.has_value(), resources.memory_bytes.has_value())));
  parts.push_back(fmt::format("pids {} ({})", *limits_.pids, source(options_.pids.has_value(), resources.pids.has_value())));
  if (limits_.cpus) parts.push_back(fmt::format("cpu {} (policy)", *limits_.cpus));
  parts.push_back(fmt::format("/tmp {} ({}, charged to the memory limit)", formatByteSize(defaults.tmp_bytes),
                              source(options_.tmp_bytes.has_value(), resources.tmp_bytes.has_value())));
  parts.push_back(fmt::format("/dev/shm {}", formatByteSize(defaults.shm_bytes)));
  const std::string described =
      fmt::format("cgroup warden-{}: {} ({})", ctx_.session_id, fmt::join(parts, ", "), cgroup_->describe());
  if (cgroup_->missing().empty()) {
    config(ocsf::kConfigLoaded, described);
  } else {
    config(ocsf::kConfigDegraded, fmt::format("{}; not enforceable: {}", described, fmt::join(cgroup_->missing(), ", ")));
  }
  return okResult();
}

Result<LaunchSpec> Session::planLaunch() {
  // The filesystem view: the policy's, or the default one.
  policy::FilesystemAccess view = policy_->filesystem;
  if (!view.declared) view.read_only.assign(std::begin(kDefaultReadOnly), std::end(kDefaultReadOnly));
  // The workspace: where warden run started, or --workspace.
  std::error_code ec;
  const bool from_flag = options_.workspace.has_value();
  const std::string dir = from_flag ? options_.workspace->string() : std::filesystem::current_path(ec).string();
  if (ec) return notFound(fmt::format("the current directory: {}; cd to a project directory or pass --workspace DIR",
                                      ec.message()));
  std::vector<std::string> own = {log_dir_.string(), "/var/log/warden", options_.run_dir.string(),
                                  options_.state_dir.string()};
  if (uplink_) {
    for (const auto& p : uplink_->hiddenPaths()) own.push_back(p);
  }
  auto workspace = planWorkspace(dir, from_flag, view, own);
  if (!workspace.ok()) return workspace.error().withContext("workspace");
  workspace_ = std::move(workspace).value();
  std::string idmap_note;
  if (workspace_.bind && (workspace_.owner_uid != user_.uid || workspace_.owner_gid != user_.gid)) {
    auto userns = makeIdmapUserNamespace(workspace_.owner_uid, workspace_.owner_gid, user_.uid, user_.gid);
    if (userns.ok()) {
      workspace_idmap_ = std::move(userns).value();
      idmap_note = fmt::format("; idmapped: the owner {}:{} appears as the agent {}:{}", workspace_.owner_uid,
                               workspace_.owner_gid, user_.uid, user_.gid);
    } else {
      idmap_note = fmt::format("; not idmapped ({}): the agent writes only where the directory's permissions let "
                               "uid {} write",
                               userns.error().message(), user_.uid);
    }
  }
  // Landlock sees the same view.
  policy::FilesystemAccess ruled = view;
  if (workspace_.bind) ruled.read_write.push_back(workspace_.path);
  auto landlock = planLandlock(ruled, {state_dir_.string()});
  if (!landlock.ok()) return landlock.error().withContext("Landlock");
  landlock_ = std::move(landlock).value();
  auto seccomp = buildSeccompProgram();
  if (!seccomp.ok()) return seccomp.error().withContext("seccomp");
  seccomp_ = std::move(seccomp).value();

  // The view holds what exists (a missing policy path is reported by the Landlock plan).
  auto existing = [](const std::vector<std::string>& paths) {
    std::vector<std::string> out;
    for (const auto& p : paths) {
      std::error_code exists_ec;
      if (std::filesystem::symlink_status(p, exists_ec).type() != std::filesystem::file_type::not_found &&
          !exists_ec) {
        out.push_back(p);
      }
    }
    return out;
  };
  RootLayoutInput layout;
  layout.read_only = existing(view.read_only);
  layout.read_write = existing(view.read_write);
  if (workspace_.bind) layout.workspace = workspace_.path;
  layout.extra_read_only = {{state_dir_.string(), state_dir_.string()},
                            {(state_dir_ / "resolv.conf").string(), resolvConfTarget()}};
  // Hidden if a policy path brings them in: the record and the control sockets. (The state directory
  // holds only public CA certificates and resolv.conf files; the session's own is bound above.)
  layout.hidden = {log_dir_.string(), "/var/log/warden", options_.run_dir.string()};
  if (uplink_) {
    for (const auto& p : uplink_->hiddenPaths()) layout.hidden.push_back(p);
  }
  const DefaultLimits sizes = defaultLimits(limits_.memory_bytes, options_.tmp_bytes ? options_.tmp_bytes
                                                                                     : policy_->resources.tmp_bytes);
  layout.tmp_bytes = sizes.tmp_bytes;
  layout.shm_bytes = sizes.shm_bytes;

  LaunchSpec spec;
  spec.argv = options_.argv;
  std::vector<std::string> inherited;
  for (char** e = environ; e && *e; ++e) inherited.emplace_back(*e);
  // Credentials: the values stay in the supervisor (the proxy's vault), the agent gets placeholders.
  auto vault = proxy::inspect::CredentialVault::load(policy_->credentials);
  if (!vault.ok()) return vault.error().withContext("credentials");
  credentials_ = std::move(vault).value();
  auto policy_env = policy_->process.env;
  for (auto& placeholder : credentials_->agentEnvironment()) policy_env.push_back(std::move(placeholder));
  auto env = buildAgentEnv({.inherited = std::move(inherited),
                            .requested = options_.env,
                            .policy = std::move(policy_env),
                            .proxy_url = fmt::format("http://{}:{}", lease_->host_ip, kProxyPort),
                            .ca_bundle = (state_dir_ / "ca-bundle.pem").string(),
                            .ca_certificate = (state_dir_ / "ca.pem").string(),
                            .home = user_.home,
                            .user = user_.name,
                            .session_id = ctx_.session_id});
  if (!env.ok()) return env.error().withContext("the agent's environment");
  spec.env = std::move(env).value();
  spec.cwd = workspace_.path;
  spec.hostname = "warden-" + ctx_.session_id.substr(ctx_.session_id.size() - 8);
  spec.user = user_;
  spec.root_dir = root_dir_.string();
  spec.mounts = planRootLayout(layout);
  spec.workspace_userns = workspace_idmap_.valid() ? workspace_idmap_.get() : -1;
  spec.landlock = landlock_;
  spec.seccomp = seccomp_;
  config(ocsf::kConfigLoaded,
         fmt::format("filesystem view: {} read-only, {} read-write ({}), workspace {} {}{}; private /tmp, /dev/shm, /run",
                     view.read_only.size(), view.read_write.size(), view.declared ? "policy" : "default view",
                     workspace_.path, workspace_.bind ? "read-write" : "as the policy lists it", idmap_note));
  return spec;
}

Result<void> Session::prepareAndSpawn() {
  WARDEN_RETURN_IF_ERROR(sweepLeftovers());
  startup_.mark("sweep");
  // Who the agent is and what it may touch.
  auto user = resolveAgentUser(policy_->process.run_as_user);
  if (!user.ok()) return user.error().withContext("agent user");
  user_ = std::move(user).value();
  WARDEN_RETURN_IF_ERROR(createStateDir());
  startup_.mark("user+state");
  WARDEN_RETURN_IF_ERROR(createCgroup());
  startup_.mark("cgroup");
  auto spec = planLaunch();
  if (!spec.ok()) return spec.error();
  startup_.mark("plan");
  main_process_ = mainProcess(spec->argv, spec->env, spec->cwd, user_.uid);
  // The child, parked in its namespaces until everything around it is ready.
  auto child = SandboxChild::spawn(*spec);
  if (!child.ok()) return child.error().withContext("starting the sandbox");
  startup_.mark("clone");
  child_ = std::move(child).value();
  attach_future_ = std::async(std::launch::async, [this] { return cgroup_->addProcess(child_->pid()); });
  return okResult();
}

}  // namespace warden::sandbox
