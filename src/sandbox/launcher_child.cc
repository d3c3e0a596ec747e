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
#include <unistd.h>

#include <cerrno>

#include "sandbox/landlock_abi.h"

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

void mountFilesystems(const ChildPlan& p) {
  check(p, ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), Stage::kMountPrivate);
  check(p, ::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr), Stage::kMountProc);
  check(p, ::mount("sysfs", "/sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr),
        Stage::kMountSys);
  if (p.private_tmp) {
    check(p, ::mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"), Stage::kMountTmp);
  }
  for (size_t i = 0; i < p.hidden_count; ++i) {
    const char* path = p.hidden[i];
    const int index = static_cast<int>(i);
    struct stat st {};
    if (::stat(path, &st) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) continue;  // nothing there to hide
      fail(p, Stage::kHide, errno, index);
    }
    if (S_ISDIR(st.st_mode)) {
      check(p, ::mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=000,size=4k"),
            Stage::kHide, index);
    } else {
      check(p, ::mount("/dev/null", path, nullptr, MS_BIND, nullptr), Stage::kHide, index);
      check(p, ::mount(nullptr, path, nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NOEXEC, nullptr),
            Stage::kHide, index);
    }
  }
  for (size_t i = 0; i < p.bind_count; ++i) {
    const int index = static_cast<int>(i);
    check(p, ::mount(p.bind_sources[i], p.bind_targets[i], nullptr, MS_BIND, nullptr), Stage::kBind, index);
    check(p, ::mount(nullptr, p.bind_targets[i], nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr),
          Stage::kBind, index);
  }
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
  resetSignals(p);
  closeFds(p);
  execCommand(p);
}

}  // namespace warden::sandbox::launcher_detail
