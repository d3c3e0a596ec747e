// The cloned child of SandboxChild: async-signal-safe code only. No allocation, no C++ library
// calls, no glibc set*id wrappers (they signal threads that do not exist here): raw system calls on
// the ChildPlan prepared before clone. Every failure is reported as {stage, errno, index} on the
// status pipe, then the child exits.

#include "sandbox/launcher_child.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cerrno>
#include <cstdint>

#include "sandbox/landlock_abi.h"
#include "sandbox/root_layout.h"

namespace warden::sandbox::launcher_detail {
namespace {

constexpr int kExitNotFound = 127;
constexpr int kExitNotExecutable = 126;
constexpr int kExitSetupFailed = 125;

[[noreturn]] void fail(const ChildPlan& p, Stage stage, int err, int index = -1, int code = kExitSetupFailed) {
  ChildStatus status;
  status.stage = static_cast<int32_t>(stage);
  status.err = err;
  status.index = index;
  status.exit_code = code;
  for (;;) {
    const ssize_t n = ::write(p.status_write, &status, sizeof status);
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  ::_exit(code);
}

void check(const ChildPlan& p, long rc, Stage stage, int index = -1) {
  if (rc < 0) fail(p, stage, errno, index);
}

// EPERM for a verification that found privilege left (there is no errno of its own).
void verify(const ChildPlan& p, bool ok, Stage stage) {
  if (!ok) fail(p, stage, EPERM);
}

void park(const ChildPlan& p) {
  char byte = 0;
  for (;;) {
    const ssize_t n = ::read(p.go_read, &byte, 1);
    if (n == 1) return;
    if (n < 0 && errno == EINTR) continue;
    // The supervisor went away (EOF) or the channel broke: nobody to report to.
    ::_exit(kExitSetupFailed);
  }
}

// Without glibc wrappers in 2.36: the mount API's system calls.
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
constexpr unsigned kOpenTreeClone = 1;            // OPEN_TREE_CLONE
constexpr unsigned kOpenTreeCloexec = O_CLOEXEC;  // OPEN_TREE_CLOEXEC
constexpr unsigned kMoveMountFEmptyPath = 0x4;    // MOVE_MOUNT_F_EMPTY_PATH
constexpr uint64_t kMountAttrRdonly = 0x1, kMountAttrNosuid = 0x2, kMountAttrNodev = 0x4, kMountAttrIdmap = 0x100000;
struct MountAttr {
  uint64_t attr_set;
  uint64_t attr_clr;
  uint64_t propagation;
  uint64_t userns_fd;
};

// `root` + `path` into `out` (PATH_MAX bytes); false when it does not fit.
bool joinPath(char* out, const char* root, const char* path) {
  size_t n = 0;
  for (const char* c = root; *c != '\0'; ++c) {
    if (n + 1 >= PATH_MAX) return false;
    out[n++] = *c;
  }
  if (n > 0 && out[n - 1] == '/') --n;
  for (const char* c = path; *c != '\0'; ++c) {
    if (n + 1 >= PATH_MAX) return false;
    out[n++] = *c;
  }
  out[n] = '\0';
  return true;
}

// mkdir -p of `path` (a writable copy); existing components are fine.
int makeDirs(char* path) {
  for (char* c = path + 1;; ++c) {
    if (*c != '/' && *c != '\0') continue;
    const char saved = *c;
    *c = '\0';
    struct stat st {};
    if (::stat(path, &st) != 0) {
      if (::mkdir(path, 0755) != 0 && errno != EEXIST) {
        *c = saved;
        return -1;
      }
    }
    *c = saved;
    if (saved == '\0') return 0;
  }
}

// The directory part of `path` made to exist.
int makeParentDirs(char* path) {
  char* slash = nullptr;
  for (char* c = path; *c != '\0'; ++c) {
    if (*c == '/') slash = c;
  }
  if (slash == nullptr || slash == path) return 0;
  *slash = '\0';
  const int rc = makeDirs(path);
  *slash = '/';
  return rc;
}

// A mount point for a bind of `source`: a directory for a directory, an empty file for anything else.
int makeMountPoint(const char* source, char* target) {
  struct stat st {};
  if (::stat(source, &st) != 0) return -1;
  if (S_ISDIR(st.st_mode)) return makeDirs(target);
  if (makeParentDirs(target) != 0) return -1;
  struct stat existing {};
  if (::stat(target, &existing) == 0) return 0;
  const int fd = ::open(target, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0);
  if (fd < 0) return -1;
  ::close(fd);
  return 0;
}

// The workspace with the agent user's idmapping: a clone of the source tree, idmapped, attached.
long bindIdmapped(const ChildPlan& p, const char* source, const char* target) {
  const long tree = ::syscall(SYS_open_tree, AT_FDCWD, source, kOpenTreeClone | kOpenTreeCloexec);
  if (tree < 0) return -1;
  MountAttr attr{kMountAttrIdmap | kMountAttrNosuid | kMountAttrNodev, 0, 0,
                 static_cast<uint64_t>(p.workspace_userns)};
  if (::syscall(SYS_mount_setattr, static_cast<int>(tree), "", AT_EMPTY_PATH, &attr, sizeof attr) != 0 ||
      ::syscall(SYS_move_mount, static_cast<int>(tree), "", AT_FDCWD, target, kMoveMountFEmptyPath) != 0) {
    const int err = errno;
    ::close(static_cast<int>(tree));
    errno = err;
    return -1;
  }
  ::close(static_cast<int>(tree));
  return 0;
}

// One mount action of the layout, with `target` already under the new root.
long mountAction(const ChildPlan& p, size_t i, char* target) {
  const auto kind = static_cast<MountKind>(p.mount_kinds[i]);
  const char* source = p.mount_sources[i];
  const char* data = p.mount_data[i];
  constexpr unsigned long kPlain = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  switch (kind) {
    case MountKind::kProc:
      if (makeDirs(target) != 0) return -1;
      return ::mount("proc", target, "proc", kPlain, nullptr);
    case MountKind::kSysfs:
      if (makeDirs(target) != 0) return -1;
      return ::mount("sysfs", target, "sysfs", kPlain | MS_RDONLY, nullptr);
    case MountKind::kTmpfs:
      if (makeDirs(target) != 0) return -1;
      return ::mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, data);
    case MountKind::kDevpts:
      if (makeDirs(target) != 0) return -1;
      return ::mount("devpts", target, "devpts", MS_NOSUID | MS_NOEXEC, data);
    case MountKind::kSymlink:
      if (makeParentDirs(target) != 0) return -1;
      if (::symlink(source, target) != 0 && errno != EEXIST) return -1;
      return 0;
    case MountKind::kHide: {
      struct stat st {};
      if (::stat(target, &st) != 0) return (errno == ENOENT || errno == ENOTDIR) ? 0 : -1;
      if (S_ISDIR(st.st_mode)) {
        return ::mount("tmpfs", target, "tmpfs", kPlain | MS_RDONLY, "mode=000,size=4k");
      }
      if (::mount("/dev/null", target, nullptr, MS_BIND, nullptr) != 0) return -1;
      return ::mount(nullptr, target, nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NOEXEC, nullptr);
    }
    case MountKind::kBindReadOnly:
    case MountKind::kBindReadWrite:
    case MountKind::kBindDevice:
    case MountKind::kBindWorkspace: {
      struct stat st {};
      if (::lstat(source, &st) != 0) return -1;  // the plan holds only paths that existed
      if (S_ISLNK(st.st_mode) && kind != MountKind::kBindWorkspace) {
        // /lib -> usr/lib stays a symlink, resolved inside the view.
        char link[PATH_MAX];
        const ssize_t n = ::readlink(source, link, sizeof link - 1);
        if (n < 0) return -1;
        link[n] = '\0';
        if (makeParentDirs(target) != 0) return -1;
        if (::symlink(link, target) != 0 && errno != EEXIST) return -1;
        return 0;
      }
      if (makeMountPoint(source, target) != 0) return -1;
      if (kind == MountKind::kBindWorkspace && p.workspace_userns >= 0) return bindIdmapped(p, source, target);
      if (::mount(source, target, nullptr, MS_BIND, nullptr) != 0) return -1;
      unsigned long flags = MS_REMOUNT | MS_BIND | MS_NOSUID;
      flags |= kind == MountKind::kBindDevice ? MS_NOEXEC : MS_NODEV;
      if (kind == MountKind::kBindReadOnly) flags |= MS_RDONLY;
      return ::mount(nullptr, target, nullptr, flags, nullptr);
    }
  }
  errno = EINVAL;
  return -1;
}

// The agent's filesystem view: a new root holding only the planned mounts, then pivot_root into it.
void mountFilesystems(const ChildPlan& p) {
  check(p, ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), Stage::kMountPrivate);
  check(p, ::mount("tmpfs", p.root_dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=4194304"), Stage::kMountRoot);
  // The skeleton's directories must be searchable by the agent whatever the supervisor's umask.
  const mode_t umask_before = ::umask(022);
  char target[PATH_MAX];
  for (size_t i = 0; i < p.mount_count; ++i) {
    const int index = static_cast<int>(i);
    if (!joinPath(target, p.root_dir, p.mount_targets[i])) fail(p, Stage::kMount, ENAMETOOLONG, index);
    check(p, mountAction(p, i, target), Stage::kMount, index);
  }
  // pivot_root(".", "."): the old root ends up on top of the new one and is detached at once.
  check(p, ::chdir(p.root_dir), Stage::kPivotRoot);
  check(p, ::syscall(SYS_pivot_root, ".", "."), Stage::kPivotRoot);
  check(p, ::umount2(".", MNT_DETACH), Stage::kPivotRoot);
  check(p, ::chdir("/"), Stage::kPivotRoot);
  // The skeleton itself is read-only: nothing can be created at the top of the view.
  check(p, ::mount(nullptr, "/", nullptr, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, "mode=0755"),
        Stage::kPivotRoot);
  ::umask(umask_before);
}

void loopbackUp(const ChildPlan& p) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  check(p, fd, Stage::kLoopback);
  struct ifreq ifr {};
  ifr.ifr_name[0] = 'l';
  ifr.ifr_name[1] = 'o';
  check(p, ::ioctl(fd, SIOCGIFFLAGS, &ifr), Stage::kLoopback);
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  check(p, ::ioctl(fd, SIOCSIFFLAGS, &ifr), Stage::kLoopback);
  ::close(fd);
}

void setupStdio(const ChildPlan& p) {
  int moved[3] = {-1, -1, -1};
  // First move every source above 2 so that a later dup2 cannot clobber an earlier source.
  for (int i = 0; i < 3; ++i) {
    if (p.stdio[i] < 0) continue;
    moved[i] = ::fcntl(p.stdio[i], F_DUPFD_CLOEXEC, 3);
    check(p, moved[i], Stage::kStdio, i);
  }
  for (int i = 0; i < 3; ++i) {
    if (moved[i] < 0) continue;
    check(p, ::dup2(moved[i], i), Stage::kStdio, i);  // the copy on 0..2 is not close-on-exec
    ::close(moved[i]);
  }
}

long capget(__user_cap_header_struct* header, __user_cap_data_struct* data) {
  return ::syscall(SYS_capget, header, data);
}

void dropPrivileges(const ChildPlan& p) {
  check(p, ::syscall(SYS_setgroups, 0, nullptr), Stage::kSetgroups);
  check(p, ::syscall(SYS_setresgid, p.gid, p.gid, p.gid), Stage::kSetresgid);
  // The bounding set needs CAP_SETPCAP, so before the uid change. EINVAL marks the end of the list.
  int cap = 0;
  for (;; ++cap) {
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0) continue;
    if (errno == EINVAL && cap > 0) break;
    fail(p, Stage::kCapBounding, errno, cap);
  }
  const int cap_count = cap;
  check(p, ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), Stage::kCapAmbient);
  // From uid 0 to a non-zero uid: the kernel clears the permitted and effective sets.
  check(p, ::syscall(SYS_setresuid, p.uid, p.uid, p.uid), Stage::kSetresuid);
  // The inheritable set survives setresuid; clear everything explicitly.
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  check(p, ::syscall(SYS_capset, &header, data), Stage::kCapClear);

  // Verify: ids, groups, every capability set.
  uid_t ru = 0, eu = 0, su = 0;
  gid_t rg = 0, eg = 0, sg = 0;
  check(p, ::syscall(SYS_getresuid, &ru, &eu, &su), Stage::kVerifyIds);
  check(p, ::syscall(SYS_getresgid, &rg, &eg, &sg), Stage::kVerifyIds);
  verify(p, ru == p.uid && eu == p.uid && su == p.uid && rg == p.gid && eg == p.gid && sg == p.gid,
         Stage::kVerifyIds);
  const long groups = ::syscall(SYS_getgroups, 0, nullptr);
  check(p, groups, Stage::kVerifyIds);
  verify(p, groups == 0, Stage::kVerifyIds);
  verify(p, ::syscall(SYS_setresuid, 0, 0, 0) != 0, Stage::kVerifyIds);  // no way back to root

  __user_cap_header_struct get_header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct now[_LINUX_CAPABILITY_U32S_3] = {};
  check(p, capget(&get_header, now), Stage::kVerifyCaps);
  for (const auto& d : now) verify(p, d.effective == 0 && d.permitted == 0 && d.inheritable == 0, Stage::kVerifyCaps);
  for (int c = 0; c < cap_count; ++c) {
    verify(p, ::prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 0, Stage::kVerifyCaps);
    verify(p, ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c, 0, 0) == 0, Stage::kVerifyCaps);
  }
}

// The parent-death signal is cleared by the uid change, so it is set again afterwards; if the
// supervisor died before that, its end of the go channel is closed (it holds it until exec).
void armParentDeath(const ChildPlan& p) {
  check(p, ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0), Stage::kParentDeath);
  struct pollfd pfd {p.go_read, POLLIN, 0};
  const int n = ::poll(&pfd, 1, 0);
  check(p, n, Stage::kParentDeath);
  if (n > 0 && (pfd.revents & (POLLHUP | POLLERR | POLLIN)) != 0) ::_exit(kExitSetupFailed);
}

void applyLandlock(const ChildPlan& p) {
  using namespace landlock_abi;
  RulesetAttr attr{p.handled_fs, p.handled_net, p.scoped};
  const long ruleset = ::syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
  check(p, ruleset, Stage::kLandlockRuleset);
  const int rfd = static_cast<int>(ruleset);
  for (size_t i = 0; i < p.ll_count; ++i) {
    const int index = static_cast<int>(i);
    const int fd = ::open(p.ll_paths[i], O_PATH | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT || errno == ENOTDIR) continue;  // reported as missing by the plan
      fail(p, Stage::kLandlockPath, errno, index);
    }
    struct stat st {};
    check(p, ::fstat(fd, &st), Stage::kLandlockPath, index);
    PathBeneathAttr rule{};
    rule.allowed_access = S_ISDIR(st.st_mode) ? p.ll_dir_rights[i] : p.ll_file_rights[i];
    rule.parent_fd = fd;
    if (rule.allowed_access != 0) {
      check(p, ::syscall(SYS_landlock_add_rule, rfd, kRulePathBeneath, &rule, 0), Stage::kLandlockPath, index);
    }
    ::close(fd);
  }
  if ((p.handled_net & kAccessNetConnectTcp) != 0) {
    for (size_t i = 0; i < p.ll_port_count; ++i) {
      NetPortAttr rule{kAccessNetConnectTcp, p.ll_ports[i]};
      check(p, ::syscall(SYS_landlock_add_rule, rfd, kRuleNetPort, &rule, 0), Stage::kLandlockPort,
            static_cast<int>(i));
    }
  }
  check(p, ::syscall(SYS_landlock_restrict_self, rfd, 0), Stage::kLandlockRestrict);
  ::close(rfd);
}

void applySeccomp(const ChildPlan& p) {
  struct sock_fprog prog {};
  prog.len = p.filter_len;
  prog.filter = const_cast<sock_filter*>(p.filter);
  check(p, ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog), Stage::kSeccomp);
  verify(p, ::prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == 2, Stage::kSeccomp);
}

void resetSignals(const ChildPlan& p) {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    ::sigaction(sig, &dfl, nullptr);  // the C library's reserved signals refuse; that is fine
  }
  sigset_t none;
  sigemptyset(&none);
  check(p, ::sigprocmask(SIG_SETMASK, &none, nullptr), Stage::kSignals);
}

// Everything but 0, 1, 2 and the (close-on-exec) status pipe.
void closeFds(const ChildPlan& p) {
  const unsigned keep = static_cast<unsigned>(p.status_write);
  if (keep > 3) check(p, ::syscall(SYS_close_range, 3u, keep - 1, 0u), Stage::kCloseFds);
  check(p, ::syscall(SYS_close_range, keep + 1, ~0u, 0u), Stage::kCloseFds);
}

bool isNotFound(int err) {
  return err == ENOENT || err == ENOTDIR || err == ESTALE || err == ENODEV || err == ETIMEDOUT;
}

[[noreturn]] void execCommand(const ChildPlan& p) {
  bool saw_eacces = false;
  int last_err = ENOENT;
  int last_index = -1;
  for (size_t i = 0; i < p.exec_path_count; ++i) {
    ::execve(p.exec_paths[i], p.argv, p.envp);
    const int err = errno;
    last_index = static_cast<int>(i);
    if (err == EACCES) {
      saw_eacces = true;
      continue;
    }
    last_err = err;
    if (!isNotFound(err)) break;  // like execvp: a real error on an existing file ends the search
  }
  if (isNotFound(last_err) && saw_eacces) last_err = EACCES;
  fail(p, Stage::kExec, last_err, last_index, isNotFound(last_err) ? kExitNotFound : kExitNotExecutable);
}

// The agent: its own process group (init forwards signals to it), default signals, only stdio and
// the status pipe open, then exec.
[[noreturn]] void startAgent(const ChildPlan& p) {
  if (p.init) check(p, ::setpgid(0, 0), Stage::kInit);
  resetSignals(p);
  closeFds(p);
  execCommand(p);
}

bool forwarded(int sig) {
  return sig != SIGCHLD && sig != SIGKILL && sig != SIGSTOP;
}

// Warden's init (sandbox.md "Isolation"): pid 1 of the session, with the agent's uid and
// restrictions. It forks the agent, forwards every signal it gets (SIGTERM, SIGINT, SIGHUP, ...) to
// the agent's process group, reaps every orphan that the kernel re-parents to it, and when the agent
// itself ends, reports its wait status on the exit-report pipe and exits with the agent's status
// (128 + signal for a signal). Its exit ends the pid namespace: the kernel kills what is left.
[[noreturn]] void runInit(const ChildPlan& p) {
  sigset_t all;
  sigfillset(&all);
  check(p, ::sigprocmask(SIG_BLOCK, &all, nullptr), Stage::kInit);
  // A raw fork: glibc's fork() runs atfork handlers that may wait on locks another supervisor
  // thread held when this process was cloned.
  const long agent = ::syscall(SYS_clone, SIGCHLD, 0, nullptr, nullptr, 0);
  check(p, agent, Stage::kInit);
  if (agent == 0) startAgent(p);
  // Init keeps nothing but the exit-report pipe: the status pipe now belongs to the agent alone (its
  // exec closes it: EOF, released; or it reports a failure), and no descriptor of the supervisor's
  // stays reachable through /proc/1/fd. Not dumpable: the agent (same uid) cannot read init's memory.
  const unsigned report = static_cast<unsigned>(p.exit_report_write);
  if (report > 0) ::syscall(SYS_close_range, 0u, report - 1, 0u);
  ::syscall(SYS_close_range, report + 1, ~0u, 0u);
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  ::prctl(PR_SET_NAME, "warden-init", 0, 0, 0);
  for (;;) {
    siginfo_t info{};
    const int sig = static_cast<int>(::syscall(SYS_rt_sigtimedwait, &all, &info, nullptr, _NSIG / 8));
    if (sig < 0) continue;  // EINTR, or nothing
    if (sig != SIGCHLD) {
      if (forwarded(sig)) ::kill(-static_cast<pid_t>(agent), sig);
      continue;
    }
    for (;;) {
      int status = 0;
      const long reaped = ::syscall(SYS_wait4, -1, &status, WNOHANG, nullptr);
      if (reaped <= 0) break;
      if (reaped != agent) continue;  // an orphan: reaped, nothing else
      for (;;) {
        const ssize_t n = ::write(p.exit_report_write, &status, sizeof status);
        if (n < 0 && errno == EINTR) continue;
        break;
      }
      ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
  }
}

}  // namespace

int childMain(void* arg) {
  const ChildPlan& p = *static_cast<const ChildPlan*>(arg);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  ::close(p.parent_go_write);
  ::close(p.parent_status_read);
  park(p);

  mountFilesystems(p);
  if (p.hostname != nullptr) check(p, ::sethostname(p.hostname, p.hostname_len), Stage::kHostname);
  if (p.loopback_up) loopbackUp(p);
  check(p, ::chdir(p.cwd), Stage::kChdir);
  setupStdio(p);
  if (p.new_session) check(p, ::setsid(), Stage::kSetsid);
  dropPrivileges(p);
  armParentDeath(p);
  check(p, ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), Stage::kNoNewPrivs);
  verify(p, ::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1, Stage::kNoNewPrivs);
  if (p.landlock_abi > 0) applyLandlock(p);
  if (p.filter_len > 0) applySeccomp(p);
  if (p.init) runInit(p);
  ::close(p.exit_report_write);
  startAgent(p);
}

}  // namespace warden::sandbox::launcher_detail
