// `warden gateway [--config FILE] [--listen ADDR:PORT] [--db URL] [--ocsf-logging] [--log-dir DIR]
//  [--policy FILE] [--retention DUR] [--retention-max-bytes SIZE] [--retention-interval DUR]
//  [--operator-socket PATH|none] [--operator-group GROUP] [--operator-tokens FILE]
//  [--rules FILE]... [--rules-builtin on|off] [--export URL]...`: runs the
// gateway (product.md "Gateway", docs/gateway.md) in the foreground until SIGINT or SIGTERM. Prints
// "warden gateway: listening on ADDR:PORT" once it serves (the chosen port when PORT is 0), then
// "warden gateway: operator socket PATH" (when there is one) and "warden gateway: session ID, audit
// log DIR" (its own audit trail). Exit 1 when it cannot start (bad
// config or policy, store unreachable, address in use), 2 on a usage error.

#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "audit/export/export_sinks.h"
#include "cli/dispatch.h"
#include "common/encoding.h"
#include "gateway/service/gateway_server.h"
#include "gateway/settings/gateway_config.h"

namespace warden::cli {
namespace {

// A positive duration flag ("90d", "12h", "30s"), or a usage error on stderr.
bool durationFlag(const char* flag, const std::string& text, std::optional<int64_t>* out) {
  if (text.empty()) return true;
  const auto ms = parseDurationMillis(text);
  if (!ms || *ms <= 0) {
    std::fprintf(stderr, "warden gateway: %s '%s': expected a positive duration like 90d, 12h, 30s, 500ms\n", flag,
                 text.c_str());
    return false;
  }
  *out = *ms;
  return true;
}

}  // namespace

int gatewayCommand(int argc, char** argv) {
  CLI::App app{"Runs the Warden gateway: session config, event store, logs and queries.", "warden gateway"};
  std::string config, listen, db, log_dir, policy, retention, retention_max_bytes, retention_interval;
  std::string operator_socket, operator_group, operator_tokens;
  std::vector<std::string> rules, exports;
  std::string rules_builtin = "off";
  bool ocsf_logging = false;
  app.add_option("--config", config, "YAML config file (docs/gateway-settings.md); flags win over it");
  app.add_option("--listen", listen, "ADDR:PORT to serve gRPC on (default 127.0.0.1:7443; port 0 = any)");
  app.add_option("--db", db, "sqlite:///path or a path (default /var/lib/warden/gateway.db), or postgresql://...");
  app.add_flag("--ocsf-logging", ocsf_logging, "sessions write OCSF JSONL unless the config file says otherwise");
  app.add_option("--log-dir", log_dir,
                 "the gateway's own audit trail goes to DIR/<its session id>/ (default /var/log/warden/gateway)");
  app.add_option("--policy", policy,
                 "policy file served to sessions by GetSandboxPolicy; validated at start, re-read when it changes");
  app.add_option("--retention", retention, "delete stored events older than DUR (e.g. 90d, 12h, 30s); default: keep");
  app.add_option("--retention-max-bytes", retention_max_bytes,
                 "then delete the oldest events until the stored JSON fits SIZE (e.g. 10GiB)");
  app.add_option("--retention-interval", retention_interval, "how often retention runs (default 1h; also at start)");
  app.add_option("--operator-socket", operator_socket,
                 "the operators' unix socket (default /run/warden/gateway.sock; 'none': no socket)");
  app.add_option("--operator-group", operator_group,
                 "besides root, members of this group (name or number) are operators on the socket");
  app.add_option("--operator-tokens", operator_tokens,
                 "operator token file: 'ID TOKEN' lines, mode 0600, owned by root (docs/gateway.md)");
  app.add_option("--rules", rules,
                 "fleet rules: a detection rule file evaluated over every pushed event, first_seen() across all "
                 "sessions; findings go into the gateway's own trail (repeatable)");
  app.add_option("--rules-builtin", rules_builtin,
                 "also run the built-in pack here: on or off (default; sessions run it live)")
      ->check(CLI::IsMember({"on", "off"}));
  app.add_option("--export", exports,
                 "send every stored event of every session to a SIEM: syslog+tcp://, syslog+tls://, https:// "
                 "(docs/export.md); resumes from a cursor kept in the store (repeatable)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }

  gateway::GatewayServerOptions options;
  if (!config.empty()) options.config_file = config;
  if (!listen.empty()) options.listen = listen;
  if (!db.empty()) options.db = db;
  if (!log_dir.empty()) options.log_dir = log_dir;
  if (!policy.empty()) options.policy_file = policy;
  if (!operator_socket.empty()) options.operator_socket = operator_socket;
  if (!operator_group.empty()) options.operator_group = operator_group;
  if (!operator_tokens.empty()) options.operator_tokens = operator_tokens;
  options.ocsf_logging_flag = ocsf_logging;
  for (const auto& file : rules) options.rules_files.emplace_back(file);
  options.rules_builtin = rules_builtin == "on";
  options.exports = exports;
  if (auto urls = audit::exporting::parseExportUrls(exports); !urls.ok()) {
    std::fprintf(stderr, "warden gateway: %s\n", urls.error().message().c_str());
    return kExitUsage;
  }
  if (const char* env = std::getenv(std::string(gateway::kOcsfLoggingEnv).c_str())) options.ocsf_logging_env = env;
  if (!durationFlag("--retention", retention, &options.retention_max_age_ms) ||
      !durationFlag("--retention-interval", retention_interval, &options.retention_interval_ms)) {
    return kExitUsage;
  }
  if (!retention_max_bytes.empty()) {
    const auto bytes = parseByteSize(retention_max_bytes);
    if (!bytes || *bytes == 0) {
      std::fprintf(stderr, "warden gateway: --retention-max-bytes '%s': expected a positive size like 10GiB, 512MiB\n",
                   retention_max_bytes.c_str());
      return kExitUsage;
    }
    options.retention_max_bytes = *bytes;
  }

  // Block the stop signals before gRPC starts its threads, so that only sigwait() below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto server = gateway::GatewayServer::start(options);
  if (!server.ok()) {
    std::fprintf(stderr, "warden gateway: %s\n", server.error().toString().c_str());
    return kExitFailure;
  }
  const std::string address = (*server)->listenAddress();
  const std::string host = address.substr(0, address.rfind(':'));
  std::printf("warden gateway: listening on %s:%d\n", host.c_str(), (*server)->port());
  if (const auto sock = (*server)->operatorSocketPath(); !sock.empty()) {
    std::printf("warden gateway: operator socket %s\n", sock.c_str());
  }
  std::printf("warden gateway: session %s, audit log %s\n", (*server)->gatewaySessionId().c_str(),
              (*server)->gatewayLogDir().c_str());
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  std::fprintf(stderr, "warden gateway: signal %d, stopping\n", signal_number);
  (*server)->stop();
  return kExitOk;
}

}  // namespace warden::cli
