// `warden run [--policy FILE] [--name NAME] [--log-dir DIR] [--ocsf-json] [--timeout DUR]
//  [--memory BYTES] [--pids N] -- CMD [ARG...]`: runs CMD in a new sandbox session (product.md) and
// returns its exit status; 124 on a timeout, 125 when the sandbox could not be set up, 126/127 when
// CMD cannot be executed / is not found, 2 on a usage error.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/dispatch.h"
#include "common/encoding.h"
#include "sandbox/run_options.h"
#include "sandbox/supervisor.h"

namespace warden::cli {

int runCommand(int argc, char** argv) {
  CLI::App app{"Runs CMD in a new sandbox session and returns its exit status.", "warden run"};
  sandbox::RunOptions options;
  std::string policy_file;
  std::string log_dir;
  std::string timeout;
  std::string memory;
  uint32_t pids = 0;
  bool stream = false;
  std::string kill_grace;
  app.add_option("--policy", policy_file, "the policy file (YAML); default: no egress, system dirs read-only");
  app.add_option("--name", options.name, "a name for the session (default: its id)");
  app.add_option("--log-dir", log_dir, "log directory (default: /var/log/warden/<session-id>)");
  app.add_flag("--ocsf-json", options.ocsf_json, "also write OCSF JSONL (warden-ocsf.log)");
  app.add_option("--timeout", timeout, "wall-clock limit, e.g. 30s, 5m, 2h (beats the policy's)");
  app.add_option("--memory", memory, "memory limit, e.g. 512MiB, 2GiB or bytes (beats the policy's)");
  app.add_option("--pids", pids, "process limit (beats the policy's)")->check(CLI::Range(1u, 4194304u));
  app.add_flag("--stream", stream, "also print the session's warden.log lines on stderr as they are written");
  app.add_flag("--allow-loopback-upstream", options.allow_loopback_upstream,
               "let loopback upstreams through when a rule's allowed_ips covers them (tests only)");
  app.add_option("--dns-upstream", options.dns_upstreams,
                 "where the sandbox resolver forwards (IP or IP:PORT; default: /etc/resolv.conf)");
  app.add_option("--kill-grace", kill_grace, "time between SIGTERM and SIGKILL when stopping (default 5s)");
  std::vector<std::string> command;
  app.add_option("command", command, "CMD [ARG...] (after --)")->required();
  app.positionals_at_end();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  options.argv = std::move(command);
  if (!policy_file.empty()) options.policy_file = policy_file;
  if (!log_dir.empty()) options.log_dir = log_dir;
  if (!timeout.empty()) {
    const auto ms = parseDurationMillis(timeout);
    if (!ms || *ms <= 0) {
      std::fprintf(stderr, "warden run: --timeout '%s': expected a duration like 30s, 5m, 2h\n", timeout.c_str());
      return kExitUsage;
    }
    options.timeout_millis = *ms;
  }
  if (!kill_grace.empty()) {
    const auto ms = parseDurationMillis(kill_grace);
    if (!ms || *ms < 0) {
      std::fprintf(stderr, "warden run: --kill-grace '%s': expected a duration like 2s\n", kill_grace.c_str());
      return kExitUsage;
    }
    options.kill_grace = std::chrono::milliseconds(*ms);
  }
  if (!memory.empty()) {
    const auto bytes = parseByteSize(memory);
    if (!bytes || *bytes < (1u << 20)) {
      std::fprintf(stderr, "warden run: --memory '%s': expected a size of at least 1MiB, e.g. 512MiB\n", memory.c_str());
      return kExitUsage;
    }
    options.memory_bytes = *bytes;
  }
  if (pids > 0) options.pids = pids;
  if (stream) options.stream_fd = 2;
  return sandbox::Supervisor::run(options);
}

}  // namespace warden::cli
