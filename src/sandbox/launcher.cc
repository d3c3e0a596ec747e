#include "sandbox/launcher.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "sandbox/launcher_child.h"

namespace warden::sandbox {

using launcher_detail::ChildPlan;
using launcher_detail::ChildStatus;
using launcher_detail::Stage;

// Owns every byte the child reads; ChildPlan points into it. Built before clone, never changed after.
struct SandboxChild::Plan {
  std::vector<std::string> argv, env, exec_paths, ll_paths;
  std::string cwd, hostname, root_dir;
  std::vector<char*> argv_ptrs, env_ptrs;
  std::vector<const char*> exec_path_ptrs, ll_path_ptrs;
  std::vector<MountAction> mounts;
  std::vector<int> mount_kinds;
  std::vector<const char*> mount_source_ptrs, mount_target_ptrs, mount_data_ptrs;
  std::vector<uint64_t> ll_dir_rights, ll_file_rights;
  std::vector<uint16_t> ports;
  std::vector<sock_filter> filter;
  ChildPlan child;
};

namespace {

constexpr size_t kChildStackSize = 256 * 1024;
constexpr auto kReleaseTimeout = std::chrono::seconds(30);
constexpr idtype_t kPidfdIdType = static_cast<idtype_t>(3);  // P_PIDFD (glibc 2.36 lacks the name)

bool hasNul(const std::string& s) { return s.find('\0') != std::string::npos; }

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

std::vector<const char*> constPointers(const std::vector<std::string>& strings) {
  std::vector<const char*> out;
  out.reserve(strings.size());
  for (const auto& s : strings) out.push_back(s.c_str());
  return out;
}

// execvp's search: a name with a slash is used as is; else each PATH entry (empty = ".") + "/" + name.
std::vector<std::string> execCandidates(const std::string& name, const std::vector<std::string>& env) {
  if (name.find('/') != std::string::npos) return {name};
  std::string path = "/usr/local/bin:/usr/bin:/bin";
  for (const auto& kv : env) {
    if (kv.rfind("PATH=", 0) == 0) path = kv.substr(5);
  }
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t end = path.find(':', start);
    const std::string dir = path.substr(start, end == std::string::npos ? std::string::npos : end - start);
    out.push_back(dir.empty() ? name : dir + "/" + name);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

Result<void> validate(const LaunchSpec& spec) {
  if (spec.argv.empty() || spec.argv[0].empty()) return invalidArgument("launch: the command is empty");
  for (const auto& a : spec.argv) {
    if (hasNul(a)) return invalidArgument("launch: an argument contains a NUL byte");
  }
  for (const auto& e : spec.env) {
    if (hasNul(e) || e.find('=') == std::string::npos || e.front() == '=') {
      return invalidArgument(fmt::format("launch: environment entry '{}' is not NAME=VALUE", e));
    }
  }
  if (spec.cwd.empty() || spec.cwd.front() != '/' || hasNul(spec.cwd)) {
    return invalidArgument(fmt::format("launch: working directory '{}' is not an absolute path", spec.cwd));
  }
  if (spec.hostname.size() > HOST_NAME_MAX || hasNul(spec.hostname)) {
    return invalidArgument(fmt::format("launch: hostname '{}' is longer than {} bytes", spec.hostname, HOST_NAME_MAX));
  }
  if (spec.user.uid == 0 || spec.user.gid == 0) {
    return permissionDenied(fmt::format("launch: the agent may not run as uid {} gid {} (root)", spec.user.uid,
                                        spec.user.gid));
  }
  if (spec.user.uid == static_cast<uid_t>(-1) || spec.user.gid == static_cast<gid_t>(-1)) {
    return invalidArgument("launch: uid/gid 4294967295 is reserved");
  }
  if (spec.root_dir.empty() || spec.root_dir.front() != '/' || hasNul(spec.root_dir)) {
    return invalidArgument(fmt::format("launch: the new root '{}' is not an absolute path", spec.root_dir));
  }
  for (const auto& m : spec.mounts) {
    if (m.target.empty() || m.target.front() != '/' || m.target == "/" || hasNul(m.target) || hasNul(m.source) ||
        hasNul(m.data) || m.target.size() + spec.root_dir.size() >= PATH_MAX) {
      return invalidArgument(fmt::format("launch: mount target '{}' is not an absolute path below /", m.target));
    }
    const bool bind = m.kind == MountKind::kBindReadOnly || m.kind == MountKind::kBindReadWrite ||
                      m.kind == MountKind::kBindDevice || m.kind == MountKind::kBindWorkspace;
    if (bind && (m.source.empty() || m.source.front() != '/')) {
      return invalidArgument(fmt::format("launch: bind source '{}' is not an absolute path", m.source));
    }
  }
  for (const auto& paths : {&spec.landlock.read_only, &spec.landlock.read_write}) {
    for (const auto& p : *paths) {
      if (p.empty() || p.front() != '/' || hasNul(p)) {
        return invalidArgument(fmt::format("launch: Landlock path '{}' is not an absolute path", p));
      }
    }
  }
  if (spec.seccomp.filter.size() > BPF_MAXINSNS) {
    return invalidArgument(fmt::format("launch: the seccomp program has {} instructions (max {})",
                                       spec.seccomp.filter.size(), BPF_MAXINSNS));
  }
  return okResult();
}

std::unique_ptr<SandboxChild::Plan> buildPlan(const LaunchSpec& spec) {
  auto plan = std::make_unique<SandboxChild::Plan>();
  plan->argv = spec.argv;
  plan->env = spec.env;
  plan->exec_paths = execCandidates(spec.argv[0], spec.env);
  plan->cwd = spec.cwd;
  plan->hostname = spec.hostname;
  plan->root_dir = spec.root_dir;
  plan->argv_ptrs = pointers(plan->argv);
  plan->env_ptrs = pointers(plan->env);
  plan->exec_path_ptrs = constPointers(plan->exec_paths);
  plan->mounts = spec.mounts;
  for (const auto& m : plan->mounts) {
    plan->mount_kinds.push_back(static_cast<int>(m.kind));
    plan->mount_source_ptrs.push_back(m.source.c_str());
    plan->mount_target_ptrs.push_back(m.target.c_str());
    plan->mount_data_ptrs.push_back(m.data.c_str());
  }

  const LandlockPlan& ll = spec.landlock;
  const uint64_t read_only = landlockReadOnlyRights(ll.handled_fs);
  for (const auto& p : ll.read_only) {
    plan->ll_paths.push_back(p);
    plan->ll_dir_rights.push_back(read_only);
    plan->ll_file_rights.push_back(landlockFileRights(read_only));
  }
  for (const auto& p : ll.read_write) {
    plan->ll_paths.push_back(p);
    plan->ll_dir_rights.push_back(ll.handled_fs);
    plan->ll_file_rights.push_back(landlockFileRights(ll.handled_fs));
  }
  plan->ll_path_ptrs = constPointers(plan->ll_paths);
  plan->ports = ll.connect_tcp_ports;
  plan->filter = spec.seccomp.filter;

  ChildPlan& c = plan->child;
  c.argv = plan->argv_ptrs.data();
  c.envp = plan->env_ptrs.data();
  c.exec_paths = plan->exec_path_ptrs.data();
  c.exec_path_count = plan->exec_path_ptrs.size();
  c.cwd = plan->cwd.c_str();
  c.hostname = plan->hostname.empty() ? nullptr : plan->hostname.c_str();
  c.hostname_len = plan->hostname.size();
  c.root_dir = plan->root_dir.c_str();
  c.mount_kinds = plan->mount_kinds.data();
  c.mount_sources = plan->mount_source_ptrs.data();
  c.mount_targets = plan->mount_target_ptrs.data();
  c.mount_data = plan->mount_data_ptrs.data();
  c.mount_count = plan->mounts.size();
  c.workspace_userns = spec.workspace_userns;
  c.new_session = spec.new_session;
  c.init = spec.init;
  c.loopback_up = spec.loopback_up;
  for (int i = 0; i < 3; ++i) c.stdio[i] = spec.stdio[static_cast<size_t>(i)];
  c.uid = spec.user.uid;
  c.gid = spec.user.gid;
  c.landlock_abi = ll.kernel_abi;
  c.handled_fs = ll.handled_fs;
  c.handled_net = ll.handled_net;
  c.scoped = ll.scoped;
  c.ll_paths = plan->ll_path_ptrs.data();
  c.ll_dir_rights = plan->ll_dir_rights.data();
  c.ll_file_rights = plan->ll_file_rights.data();
  c.ll_count = plan->ll_path_ptrs.size();
  c.ll_ports = plan->ports.data();
  c.ll_port_count = plan->ports.size();
  c.filter = plan->filter.data();
  c.filter_len = static_cast<unsigned short>(plan->filter.size());
  return plan;
}

// A close-on-exec fd above 2, so the child's stdio set-up can never land on it.
Result<UniqueFd> aboveStdio(int fd, std::string_view what) {
  UniqueFd owned(fd);
  if (fd > 2) return owned;
  const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (moved < 0) return errnoError(what);
  return UniqueFd(moved);
}

std::string_view stageName(Stage stage) {
  switch (stage) {
    case Stage::kPark: return "waiting for release";
    case Stage::kMountPrivate: return "making mounts private";
    case Stage::kMountRoot: return "mounting the new root at";
    case Stage::kMount: return "mounting";
    case Stage::kPivotRoot: return "pivoting into the new root";
    case Stage::kHostname: return "setting the hostname";
    case Stage::kLoopback: return "bringing up lo";
    case Stage::kChdir: return "changing to";
    case Stage::kStdio: return "setting up stdio";
    case Stage::kSetsid: return "setsid";
    case Stage::kSetgroups: return "dropping supplementary groups";
    case Stage::kSetresgid: return "setresgid";
    case Stage::kCapBounding: return "dropping the capability bounding set";
    case Stage::kCapAmbient: return "clearing ambient capabilities";
    case Stage::kSetresuid: return "setresuid";
    case Stage::kCapClear: return "clearing capabilities";
    case Stage::kVerifyIds: return "verifying uid, gid and groups";
    case Stage::kVerifyCaps: return "verifying capabilities";
    case Stage::kParentDeath: return "arming the parent-death signal";
    case Stage::kNoNewPrivs: return "setting no_new_privs";
    case Stage::kLandlockRuleset: return "creating the Landlock ruleset";
    case Stage::kLandlockPath: return "adding the Landlock rule for";
    case Stage::kLandlockPort: return "adding the Landlock rule for port";
    case Stage::kLandlockRestrict: return "enforcing Landlock";
    case Stage::kSeccomp: return "loading the seccomp filter";
    case Stage::kSignals: return "resetting signals";
    case Stage::kCloseFds: return "closing inherited file descriptors";
    case Stage::kInit: return "starting the agent from Warden's init";
    case Stage::kExec: return "exec";
  }
  return "unknown stage";
}

template <typename T>
std::string at(const std::vector<T>& v, int32_t index) {
  if (index < 0 || static_cast<size_t>(index) >= v.size()) return "?";
  return fmt::format("{}", v[static_cast<size_t>(index)]);
}

}  // namespace

Result<std::unique_ptr<SandboxChild>> SandboxChild::spawn(const LaunchSpec& spec) {
  WARDEN_RETURN_IF_ERROR(validate(spec));
  std::unique_ptr<SandboxChild> child(new SandboxChild());
  child->plan_ = buildPlan(spec);

  // The go channel is a socket pair, so a write to a child that already died fails with EPIPE
  // instead of raising SIGPIPE in the supervisor.
  int go[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, go) != 0) return errnoError("launch: socketpair");
  auto go_read = aboveStdio(go[0], "launch: fcntl");
  auto go_write = aboveStdio(go[1], "launch: fcntl");
  int status[2];
  if (::pipe2(status, O_CLOEXEC) != 0) return errnoError("launch: pipe2");
  auto status_read = aboveStdio(status[0], "launch: fcntl");
  auto status_write = aboveStdio(status[1], "launch: fcntl");
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) return errnoError("launch: pipe2");
  auto exit_read = aboveStdio(report[0], "launch: fcntl");
  auto exit_write = aboveStdio(report[1], "launch: fcntl");
  for (auto* r : {&go_read, &go_write, &status_read, &status_write, &exit_read, &exit_write}) {
    if (!r->ok()) return r->error();
  }
  ChildPlan& c = child->plan_->child;
  c.go_read = go_read->get();
  c.status_write = status_write->get();
  c.exit_report_write = exit_write->get();
  c.parent_go_write = go_write->get();
  c.parent_status_read = status_read->get();

  void* stack = ::mmap(nullptr, kChildStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
                       -1, 0);
  if (stack == MAP_FAILED) return errnoError("launch: allocating the child's stack");
  int pidfd = -1;
  const int flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_PIDFD | SIGCHLD;
  const pid_t pid = ::clone(launcher_detail::childMain, static_cast<char*>(stack) + kChildStackSize, flags,
                            &c, &pidfd);
  const int clone_errno = errno;
  ::munmap(stack, kChildStackSize);  // the child has its own copy
  if (pid < 0) return errnoError("launch: clone (new pid, mount, net, uts, ipc namespaces)", clone_errno);

  child->pid_ = pid;
  child->pidfd_ = UniqueFd(pidfd);
  child->go_write_ = std::move(*go_write);
  child->status_read_ = std::move(*status_read);
  child->exit_read_ = std::move(*exit_read);
  ::fcntl(child->exit_read_.get(), F_SETFL, O_NONBLOCK);
  return child;  // go_read, status_write and exit_write (the child's ends) close here
}

SandboxChild::~SandboxChild() {
  if (released_ || pid_ <= 0 || !pidfd_.valid()) return;
  ::syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0);
  siginfo_t info{};
  while (::waitid(kPidfdIdType, static_cast<id_t>(pidfd_.get()), &info, WEXITED) != 0 && errno == EINTR) {
  }
}

Result<void> SandboxChild::release() {
  if (released_) return failedPrecondition("launch: the child was already released");
  released_ = true;
  const std::string& cmd = plan_->argv[0];

  const char go = 1;
  ssize_t sent = -1;
  do {
    sent = ::send(go_write_.get(), &go, 1, MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  // A child that is gone cannot take the byte; what it reported (if anything) is read below.

  ChildStatus status;
  size_t got = 0;
  const auto deadline = std::chrono::steady_clock::now() + kReleaseTimeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0);
      go_write_.reset();
      return deadlineExceeded(fmt::format("setting up: {}: the child did not exec within {} s; killed", cmd,
                                          kReleaseTimeout.count()));
    }
    struct pollfd pfd {status_read_.get(), POLLIN, 0};
    const int n = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errnoError("launch: poll on the status pipe");
    if (n == 0) continue;
    const ssize_t r = ::read(status_read_.get(), reinterpret_cast<char*>(&status) + got, sizeof status - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return errnoError("launch: reading the status pipe");
    if (r == 0) break;
    got += static_cast<size_t>(r);
    if (got == sizeof status) break;
  }
  go_write_.reset();
  status_read_.reset();
  if (got == 0) {
    if (sent != 1) return internalError(fmt::format("setting up: {}: the child exited before release", cmd));
    return okResult();  // EOF: the close-on-exec pipe closed in execve
  }
  if (got != sizeof status) return internalError("setting up: a truncated status from the child");

  const auto stage = static_cast<Stage>(status.stage);
  const int err = status.err;
  if (stage == Stage::kExec) {
    if (status.exit_code == kChildExitNotFound) return notFound(fmt::format("{}: command not found", cmd));
    if (err == EACCES) return permissionDenied(fmt::format("{}: permission denied", cmd));
    return errnoError(fmt::format("{}: cannot execute", cmd), err);
  }
  std::string what(stageName(stage));
  switch (stage) {
    case Stage::kMountRoot: what += " " + plan_->root_dir; break;
    case Stage::kMount: {
      const auto i = static_cast<size_t>(status.index);
      if (status.index >= 0 && i < plan_->mounts.size()) {
        const MountAction& m = plan_->mounts[i];
        what += m.source.empty() || m.kind == MountKind::kSymlink ? " " + m.target : fmt::format(" {} at {}", m.source, m.target);
      }
      break;
    }
    case Stage::kChdir: what += " " + plan_->cwd; break;
    case Stage::kLandlockPath: what += " " + at(plan_->ll_paths, status.index); break;
    case Stage::kLandlockPort: what += " " + at(plan_->ports, status.index); break;
    case Stage::kCapBounding: what += fmt::format(" (capability {})", status.index); break;
    default: break;
  }
  return errnoError(fmt::format("setting up: {}", what), err);
}

std::optional<int> SandboxChild::agentWaitStatus() {
  if (!exit_read_.valid()) return std::nullopt;
  int status = 0;
  ssize_t n = -1;
  do {
    n = ::read(exit_read_.get(), &status, sizeof status);
  } while (n < 0 && errno == EINTR);
  exit_read_.reset();
  if (n != static_cast<ssize_t>(sizeof status)) return std::nullopt;
  return status;
}

pid_t SandboxChild::agentPid() const {
  if (!plan_ || !plan_->child.init) return released_ ? pid_ : -1;
  // Init's only child (the kernel lists the children of a thread in task/<tid>/children).
  const std::string path = fmt::format("/proc/{}/task/{}/children", pid_, pid_);
  char buf[64] = {};
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  const ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return -1;
  return static_cast<pid_t>(std::strtol(buf, nullptr, 10));
}

}  // namespace warden::sandbox
