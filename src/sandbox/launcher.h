#pragma once

// The session's first process (sandbox.md "Isolation"): cloned into new pid, mount, network, uts and
// ipc namespaces, where it is pid 1; parked until the supervisor has put it in its cgroup and wired its
// network namespace; then, on release(), it sets itself up in the order of sandbox.md, becomes
// Warden's init and forks the agent, which execs the command:
//
//   (parked) -> mounts private -> a new root (tmpfs) holding only the planned mounts (root_layout.h)
//   -> pivot_root -> hostname -> loopback up -> chdir -> setsid -> supplementary groups, gid,
//   bounding set, ambient, uid, capabilities (each verified) -> parent-death signal -> no_new_privs
//   -> Landlock -> seccomp -> init: fork the agent (own process group, signals reset, fds >= 3
//   closed, execve on each candidate path); init forwards signals to the agent, reaps orphans and
//   exits with the agent's status.
//
// Each step that fails is reported to the supervisor as {stage, errno} through an O_CLOEXEC status
// pipe and the child exits (127 command not found, 126 not executable, 125 any other set-up failure).

#include <sys/types.h>

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"
#include "sandbox/agent_user.h"
#include "sandbox/landlock.h"
#include "sandbox/root_layout.h"
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
  // The agent's filesystem view: an empty directory on the host where the child mounts its new
  // root (in its own mount namespace; the host sees nothing there), and what the root holds.
  std::string root_dir;
  std::vector<MountAction> mounts;  // planRootLayout()
  // A user namespace whose uid/gid mapping idmaps the workspace mount (makeWorkspaceIdmap()); -1: a
  // plain bind. Borrowed: the caller keeps it open until release() returns.
  int workspace_userns = -1;
  LandlockPlan landlock;          // applied when landlock.kernel_abi > 0
  SeccompProgram seccomp;         // applied when not empty
  // Additions to the contract:
  std::array<int, 3> stdio{-1, -1, -1};  // fds to put on the child's 0, 1, 2; -1: inherit ours
  bool new_session = true;        // setsid(): the session leads its own session (no controlling
                                  // terminal shared with the user)
  bool init = true;               // Warden's init is pid 1 and the agent its child (false: the agent
                                  // itself is pid 1; launcher tests of the bare sequence)
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

  pid_t pid() const { return pid_; }        // host pid of pid 1 (init)
  int pidfd() const { return pidfd_.get(); }  // poll it; reap with waitid(P_PIDFD)
  // After pid 1 was reaped: the agent's own wait status as init reported it (exit code or signal),
  // or nullopt when init did not report (it was killed, or there is no init) — then pid 1's status
  // is the agent's.
  std::optional<int> agentWaitStatus();
  // The agent's host pid once released (init's only child), or -1 when it is not known (yet).
  pid_t agentPid() const;

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
  UniqueFd exit_read_;     // init's report of the agent's wait status
  bool released_ = false;
  std::unique_ptr<Plan> plan_;  // for error messages (argv[0], path names)
};

}  // namespace warden::sandbox
