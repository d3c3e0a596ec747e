// `warden run [--policy FILE] [--name NAME] [--log-dir DIR] [--ocsf-json] [--gateway URL] [--export URL]... [--timeout DUR]
//  [--memory BYTES] [--pids N] [--tmp-size BYTES] [--workspace DIR] [--env NAME[=VALUE]]... -- CMD [ARG...]`:
// runs CMD in a new sandbox session (product.md) and
// returns its exit status; 124 on a timeout, 125 when the sandbox could not be set up, 126/127 when
// CMD cannot be executed / is not found, 2 on a usage error.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <tuple>
#include <vector>

#include "cli/dispatch.h"
#include "cli/export_option.h"
#include "cli/gateway_uplink.h"
#include "common/encoding.h"
#include "gateway/client/channel.h"
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
  std::string tmp_size;
  std::string log_budget;
  std::string workspace;
  std::string capture;
  std::vector<std::string> rules;
  std::string rules_builtin = "on";
  uint32_t pids = 0;
  GatewayUplinkOptions gateway;
  bool stream = false;
  std::string kill_grace;
  std::string gateway_ca, gateway_poll, gateway_drain, spool_dir;
  std::vector<std::string> exports;
  app.add_option("--policy", policy_file, "the policy file (YAML); default: no egress, system dirs read-only");
  app.add_option("--name", options.name, "a name for the session (default: its id)");
  app.add_option("--log-dir", log_dir, "log directory (default: /var/log/warden/<session-id>)");
  app.add_flag("--ocsf-json", options.ocsf_json, "also write OCSF JSONL (warden-ocsf.log)");
  app.add_option("--timeout", timeout, "wall-clock limit, e.g. 30s, 5m, 2h (beats the policy's)");
  app.add_option("--memory", memory, "memory limit, e.g. 512MiB, 2GiB or bytes (beats the policy's)");
  app.add_option("--pids", pids, "process limit (beats the policy's)")->check(CLI::Range(1u, 4194304u));
  app.add_option("--log-budget", log_budget,
                 "the session's log budget, e.g. 2GiB (default 4GiB; 0: none); reaching it stops the session");
  app.add_option("--tmp-size", tmp_size, "size of the sandbox's private /tmp, e.g. 1GiB (beats the policy's)");
  app.add_option("--capture", capture,
                 "how much the kernel capture records: all (processes and files), processes, none "
                 "(default: the policy's audit.processes / audit.file_writes)")
      ->check(CLI::IsMember({"all", "processes", "none"}));
  app.add_option("--rules", rules, "a detection rule file (repeatable; warden rules check FILE checks one)");
  app.add_option("--rules-builtin", rules_builtin, "the built-in detection rules: on (default) or off")
      ->check(CLI::IsMember({"on", "off"}));
  app.add_option("--workspace", workspace,
                 "the agent's read-write working directory (default: the directory warden run is started in)");
  app.add_option("--env", options.env,
                 "NAME (pass the variable from this shell) or NAME=VALUE, for the agent's environment (repeatable); "
                 "nothing else of this shell's environment reaches the agent but PATH, LANG, LC_*, TERM, TZ");
  app.add_flag("--stream", stream, "also print the session's warden.log lines on stderr as they are written");
  app.add_flag("--allow-loopback-upstream", options.allow_loopback_upstream,
               "let loopback upstreams through when a rule's allowed_ips covers them (tests only)");
  app.add_option("--dns-upstream", options.dns_upstreams,
                 "where the sandbox resolver forwards (IP or IP:PORT; default: /etc/resolv.conf)");
  app.add_option("--kill-grace", kill_grace, "time between SIGTERM and SIGKILL when stopping (default 5s)");
  app.add_option("--gateway", gateway.gateway_url,
                 "the gateway (HOST:PORT, http:// or https://): config, policy and every event pushed to it");
  app.add_option("--gateway-ca", gateway_ca, "PEM CA bundle for an https gateway (default: system roots)");
  app.add_option("--gateway-poll", gateway_poll, "how often to ask the gateway for its config (default 5s)");
  app.add_option("--gateway-drain", gateway_drain,
                 "at the end, how long to wait for the gateway to acknowledge the last events (default 10s)");
  app.add_option("--spool-dir", spool_dir, "where unacknowledged events wait (default /var/lib/warden/spool)");
  addExportOption(app, &exports);
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
  if (!exports.empty()) {
    auto urls = checkExportUrls("warden run", exports);
    if (!urls) return kExitUsage;
    options.exports = [urls = std::move(*urls)](const std::filesystem::path& dir) { return makeExports(urls, dir); };
  }
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
  for (auto [flag, text, out, min_ms] :
       {std::tuple{"--gateway-poll", &gateway_poll, &gateway.poll, int64_t{10}},
        std::tuple{"--gateway-drain", &gateway_drain, &gateway.drain, int64_t{0}}}) {
    if (text->empty()) continue;
    const auto ms = parseDurationMillis(*text);
    if (!ms || *ms < min_ms) {
      std::fprintf(stderr, "warden run: %s '%s': expected a duration like 500ms, 5s\n", flag, text->c_str());
      return kExitUsage;
    }
    *out = std::chrono::milliseconds(*ms);
  }
  if ((!gateway_ca.empty() || !gateway_poll.empty() || !gateway_drain.empty()) && gateway.gateway_url.empty()) {
    std::fprintf(stderr, "warden run: --gateway-ca, --gateway-poll and --gateway-drain need --gateway\n");
    return kExitUsage;
  }
  if (!gateway_ca.empty()) gateway.gateway_ca = gateway_ca;
  if (!spool_dir.empty()) gateway.spool_dir = spool_dir;
  if (!gateway.gateway_url.empty()) {
    if (auto url = gateway::parseGatewayUrl(gateway.gateway_url); !url.ok()) {
      std::fprintf(stderr, "warden run: --gateway: %s\n", url.error().message().c_str());
      return kExitUsage;
    }
    options.uplink = gatewayUplinkFactory(std::move(gateway));
  }
  if (!tmp_size.empty()) {
    const auto bytes = parseByteSize(tmp_size);
    if (!bytes || *bytes < (1u << 20)) {
      std::fprintf(stderr, "warden run: --tmp-size '%s': expected a size of at least 1MiB, e.g. 1GiB\n", tmp_size.c_str());
      return kExitUsage;
    }
    options.tmp_bytes = *bytes;
  }
  if (!workspace.empty()) options.workspace = workspace;
  if (!log_budget.empty()) {
    const auto bytes = parseByteSize(log_budget);
    if (!bytes) {
      std::fprintf(stderr, "warden run: --log-budget '%s': expected a size like 2GiB, or 0 for none\n",
                   log_budget.c_str());
      return kExitUsage;
    }
    options.log_budget_bytes = *bytes;
  }
  for (const auto& file : rules) options.rules_files.emplace_back(file);
  options.rules_builtin = rules_builtin == "on";
  if (capture == "all") options.capture = sandbox::RunOptions::Capture::kAll;
  if (capture == "processes") options.capture = sandbox::RunOptions::Capture::kProcesses;
  if (capture == "none") options.capture = sandbox::RunOptions::Capture::kNone;
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
