#pragma once

// What `warden run` was asked to do (product.md "Command-line contract"), after the CLI parsed it.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "audit/sink.h"
#include "common/result.h"
#include "sandbox/session_uplink.h"

namespace warden::sandbox {

struct RunOptions {
  std::vector<std::string> argv;                    // CMD [ARG...]; never empty
  std::optional<std::filesystem::path> policy_file; // none: the embedded default (default_policy.h)
  std::string name;                                 // session name; the session id when empty
  std::filesystem::path log_dir;                    // empty: /var/log/warden/<session id>
  bool ocsf_json = false;                           // warden-ocsf.log from the start
  std::optional<int64_t> timeout_millis;            // beats the policy's process.timeout
  std::optional<uint64_t> memory_bytes;             // beats resources.memory
  std::optional<uint32_t> pids;                     // beats resources.pids
  std::optional<uint64_t> tmp_bytes;                // beats resources.tmp (the private /tmp's size)
  // The session's log budget (bytes of warden.log + warden-ocsf.log lines): when it is reached the
  // record says so and the session is stopped (fail-closed: an agent that can no longer be recorded
  // does not go on). 0: no budget.
  uint64_t log_budget_bytes = uint64_t{4} << 30;
  // The agent's working directory, bound read-write (workspace.h); none: where warden run started.
  std::optional<std::filesystem::path> workspace;
  // `--env NAME[=VALUE]`, in order (agent_env.h).
  std::vector<std::string> env;
  // Copies every warden.log line to this fd as it is written (the demo streams the session).
  int stream_fd = -1;
  // Loopback upstreams may be allowed by allowed_ips (tests and local development; CONFIG:DEGRADED).
  bool allow_loopback_upstream = false;
  // Where the sandbox resolver forwards ("ip" or "ip:port"); empty: /etc/resolv.conf's nameservers.
  std::vector<std::string> dns_upstreams;
  // After SIGTERM (timeout, stop, the supervisor's own SIGTERM): how long before SIGKILL.
  std::chrono::milliseconds kill_grace{5000};
  std::filesystem::path run_dir = "/run/warden";         // control sockets, subnet leases
  std::filesystem::path state_dir = "/var/lib/warden/sessions";  // the agent-readable CA files
  // `--capture all|processes|none`: how much the kernel capture records, overriding the policy's
  // audit.processes / audit.file_writes; none: the policy decides.
  enum class Capture { kAll, kProcesses, kNone };
  std::optional<Capture> capture;
  // Detection rules (detect.md): the built-in pack unless `rules_builtin` is false, plus each file.
  std::vector<std::filesystem::path> rules_files;
  bool rules_builtin = true;
  // Where the record goes besides the files and where live config comes from (session_uplink.h):
  // `warden run --gateway` sets the gateway link; empty: standalone.
  UplinkFactory uplink;
  // `--export URL` (detect.md "Delivery (exports)", docs/export.md): makes the export sinks once the
  // session's log directory is known (their spools live under it); empty: no exports. An error
  // fails the session's setup.
  std::function<Result<std::vector<std::shared_ptr<audit::Sink>>>(const std::filesystem::path& log_dir)> exports;
};

// Limits a session gets when neither the policy nor a flag sets them (sandbox.md "Isolation": no
// session runs unbounded), recorded in the cgroup's CONFIG event.
struct DefaultLimits {
  uint64_t memory_bytes;  // 4GiB, or half of the machine's memory when that is less
  uint32_t pids;          // 2048 tasks (threads count)
  uint64_t tmp_bytes;     // 2GiB, at most half of the memory limit (tmpfs pages are charged to it)
  uint64_t shm_bytes;     // 256MiB, at most the /tmp size
};
// The defaults for this machine given the limits already chosen (memory first: /tmp follows it).
DefaultLimits defaultLimits(std::optional<uint64_t> memory_bytes, std::optional<uint64_t> tmp_bytes);

// The statuses `warden run` returns besides CMD's own (docs/sandbox.md, like timeout(1) and env(1)).
inline constexpr int kExitTimeout = 124;
inline constexpr int kExitSetupFailed = 125;
inline constexpr int kExitNotExecutable = 126;
inline constexpr int kExitNotFound = 127;

}  // namespace warden::sandbox
