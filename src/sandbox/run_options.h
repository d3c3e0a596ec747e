#pragma once

// What `warden run` was asked to do (product.md "Command-line contract"), after the CLI parsed it.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

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
  std::filesystem::path cwd;                        // the agent's working directory; empty: ours
  // The gateway (docs/gateway-link.md): empty = standalone. With a URL the session registers, pushes
  // every event from its spool, polls GetSandboxPolicy every gateway_poll and applies newer configs.
  std::string gateway_url;
  std::optional<std::filesystem::path> gateway_ca;     // PEM roots for an https gateway
  std::chrono::milliseconds gateway_poll{5000};
  // Before the agent starts: how long to wait for the gateway's first answer (its config and policy
  // then apply from the start); an unreachable gateway is recorded and the session starts anyway.
  std::chrono::milliseconds gateway_first_contact{3000};
  // At the end: how long to wait for the gateway to acknowledge the last events; what is left stays
  // in the spool for the next `warden run --gateway` to send.
  std::chrono::milliseconds gateway_drain{10000};
  std::filesystem::path spool_dir = "/var/lib/warden/spool";  // root-only; one directory per session
};

// The statuses `warden run` returns besides CMD's own (docs/sandbox.md, like timeout(1) and env(1)).
inline constexpr int kExitTimeout = 124;
inline constexpr int kExitSetupFailed = 125;
inline constexpr int kExitNotExecutable = 126;
inline constexpr int kExitNotFound = 127;

}  // namespace warden::sandbox
