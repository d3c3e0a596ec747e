#pragma once

// The agent's first process (sandbox.md "Isolation"): cloned into new pid, mount, network, uts and
// ipc namespaces, where it is pid 1; parked until the supervisor has put it in its cgroup and wired its
// network namespace; then, on release(), it sets itself up in the order of sandbox.md and execs the
// command:
//
//   (parked) -> mounts private -> new /proc -> read-only sysfs on /sys -> private /tmp -> hidden paths -> read-only binds
//   -> hostname -> loopback up -> chdir -> supplementary groups, gid, bounding set, ambient, uid,
//   capabilities (each verified) -> parent-death signal -> no_new_privs -> Landlock -> seccomp
//   -> signals reset, fds >= 3 closed -> execve on each candidate path.
//
// Each step that fails is reported to the supervisor as {stage, errno} through an O_CLOEXEC status
// pipe and the child exits (127 command not found, 126 not executable, 125 any other set-up failure).

#include <sys/types.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"
#include "sandbox/agent_user.h"
#include "sandbox/landlock.h"
#include "sandbox/seccomp_filter.h"

namespace warden::sandbox {

// The exit statuses of a child that failed before exec.
inline constexpr int kChildExitNotFound = 127;
inline constexpr int kChildExitNotExecutable = 126;
inline constexpr int kChildExitSetupFailed = 125;

struct LaunchSpec {
  std::vector<std::string> argv;  // argv[0] is searched in env's PATH like execvp (resolved in the parent)
  std::vector<std::string> env;   // the complete environment, "K=V"
  std::string cwd;                // absolute; chdir'd after mounts; must exist in the child's view
  std::string hostname;           // uts namespace; empty: left as the host's
  AgentUser user;                 // never uid 0 or gid 0
  std::vector<std::string> hidden_paths;  // each gets an empty read-only tmpfs mounted over it (mode 0):
                                          // the log directory, /run/warden, /var/log/warden ... (a file
                                          // gets /dev/null bound read-only over it; a missing path is skipped)
  bool private_tmp = true;        // a fresh tmpfs on /tmp (mode 1777)
  // Files or directories bound read-only over a path of the agent's view, after the hidden paths
  // (the session's resolv.conf over /etc/resolv.conf). A missing target is an error.
  struct BindMount {
    std::string source;
    std::string target;
  };
  std::vector<BindMount> read_only_binds;
  LandlockPlan landlock;          // applied when landlock.kernel_abi > 0
  SeccompProgram seccomp;         // applied when not empty
  // Additions to the contract:
  std::array<int, 3> stdio{-1, -1, -1};  // fds to put on the child's 0, 1, 2; -1: inherit ours
  bool new_session = true;        // setsid(): the agent leads its own session and process group
                                  // (pgid == pid(); no controlling terminal shared with the user)
  bool loopback_up = true;        // bring "lo" up in the new network namespace
};

// One sandboxed child from clone to exec.
// Ownership: owns the pidfd and the control pipes; the supervisor reaps the child (waitid(P_PIDFD)) after
// release(). Lifetime: if it dies before release() was called, it kills (SIGKILL) and reaps the child.
// Threads: spawn() and release() from one thread, and that thread must outlive the agent: the child's
// parent-death signal (SIGKILL) fires when the thread that cloned it exits. The caller may be
// multi-threaded: the child runs only async-signal-safe code (raw system calls on data prepared before
// clone).
class SandboxChild {
 public:
  // Validates the spec, prepares everything the child needs and clones it, parked. Returns at once.
  // Errors: InvalidArgument (empty argv, relative cwd, a NUL byte in a string, uid/gid 0 ...) or the
  // clone's errno.
  static Result<std::unique_ptr<SandboxChild>> spawn(const LaunchSpec& spec);
  ~SandboxChild();
  SandboxChild(const SandboxChild&) = delete;
  SandboxChild& operator=(const SandboxChild&) = delete;

  pid_t pid() const { return pid_; }        // host pid
  int pidfd() const { return pidfd_.get(); }  // poll it; reap with waitid(P_PIDFD)

  // Lets the child run its set-up and exec; returns once exec happened or with what failed:
  // NotFound "CMD: command not found" (exit 127), PermissionDenied "CMD: permission denied" (126),
  // else "setting up: <stage>: <strerror>" with the errno's code (125; exec errors other than
  // ENOENT/EACCES: 126). After an error the child has exited; the supervisor still reaps it.
  // A second call -> FailedPrecondition. Waits at most 30 s for the child (then kills it:
  // DeadlineExceeded).
  Result<void> release();

  // Opaque; defined in launcher.cc.
  struct Plan;

 private:
  SandboxChild() = default;

  pid_t pid_ = -1;
  UniqueFd pidfd_;
  UniqueFd go_write_;      // parked child reads one byte from its end
  UniqueFd status_read_;   // EOF on exec; {stage, errno, index} on failure
  bool released_ = false;
  std::unique_ptr<Plan> plan_;  // for error messages (argv[0], path names)
};

}  // namespace warden::sandbox
