#pragma once

// Pids across the sandbox's pid namespace. The agent's processes have two pids: the sandbox's
// (what its own /proc shows, what the proxy's caller identity reads through the init's root) and
// the host's (what the kernel capture records). Events name the host's, so the proxy's actors and
// the capture's processes are the same `process.pid` and a rule's `same: process_tree` joins them.

#include <sys/types.h>

#include <unordered_map>
#include <vector>

namespace warden::sandbox {

// The one of `host_pids` (the session cgroup's processes) whose innermost pid (the last number of
// NSpid in /proc/<pid>/status) is `sandbox_pid`; 0 when none is (it exited). Cost: one status read
// per process listed until the match.
int sandboxPidToHost(const std::vector<pid_t>& host_pids, int sandbox_pid);
// The same for several sandbox pids at once: each of `host_pids`' status read once. Pids not found
// (exited) are absent from the result.
std::unordered_map<int, int> sandboxPidsToHost(const std::vector<pid_t>& host_pids, const std::vector<int>& sandbox_pids);

}  // namespace warden::sandbox
