#pragma once

// The session supervisor: runs one `warden run` session from start to finish (sandbox.md
// "Isolation", "Session lifecycle"). Start-up is a list of ordered steps, each of which registers its
// own teardown; whatever happens later (the agent exits, a timeout, `warden session stop`, SIGTERM or
// SIGINT to the supervisor, a failed step), the teardowns run in reverse order and the session's
// record is closed with a final signed checkpoint.
//
//   1. policy (file or embedded default)     -> nothing started on error, exit 125
//   2. session id, log dir, audit pipeline   -> LOG:START, LIFECYCLE start, SESSION:CREATE, CONFIG
//   3. stale leftovers of crashed runs       -> removed and recorded
//   4. agent user, Landlock plan, seccomp    -> built in the supervisor, applied in the child
//   5. subnet lease, session CA, cgroup       -> CONFIG for the limits (DEGRADED when missing)
//   6. the child, parked in its namespaces    -> joins the cgroup
//   7. veth + routes, proxy, DNS resolver, nftables, kmsg bypass monitor, cgroup limit watcher,
//      policy reloader, control socket        -> LIFECYCLE ready per component
//   8. release: the child drops privileges, applies Landlock and seccomp, execs CMD
//                                              -> SESSION:START, PROC:LAUNCH, CONFIG landlock/seccomp
//   9. wait for: the agent's exit, the timeout, a stop request, SIGTERM/SIGINT (SIGHUP reloads)
//  10. PROC:TERMINATE, SESSION:STOP (reason, exit status), teardown, SESSION:CLEANUP, LIFECYCLE stop
//
// Threads: run() owns the calling thread (it blocks SIGTERM, SIGINT, SIGHUP and SIGCHLD there and in
// every thread it starts, and waits on a signalfd); the components own theirs; control commands
// arrive on the control socket's thread and reach the session under a mutex. Needs root.

#include <cstdio>

#include "sandbox/run_options.h"

namespace warden::sandbox {

class Supervisor {
 public:
  // Runs the session; returns what `warden run` exits with: CMD's status, 124 on a timeout, 125
  // when the sandbox could not be set up (the reason is printed on `err` and, once the log exists,
  // recorded), 126/127 when CMD is not executable / not found.
  static int run(const RunOptions& options, std::FILE* err = stderr);
};

}  // namespace warden::sandbox
