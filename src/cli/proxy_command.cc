// `warden proxy --policy FILE [--listen ADDR:PORT] [--log-dir DIR] [--ocsf-json]
//  [--allow-loopback-upstream] [--max-connections N] [--threads N] [--export URL]...`: the egress proxy alone, as an
// explicit HTTP/HTTPS proxy for processes on this host (product.md). Runs until SIGINT/SIGTERM;
// SIGHUP (or an edit of the policy file) reloads the policy. Exit 0 after a clean stop, 1 when it
// cannot start (bad policy, address in use, log directory), 2 on a usage error.

#include <fmt/format.h>
#include <signal.h>
#include <sys/resource.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "audit/pipeline.h"
#include "audit/spool_sink.h"
#include "cli/dispatch.h"
#include "cli/export_option.h"
#include "common/clock.h"
#include "common/encoding.h"
#include "common/host_name.h"
#include "common/unique_fd.h"
#include "detect/live_detector.h"
#include "detect/rule_set.h"
#include "ocsf/builders.h"
#include "policy/diagnostics.h"
#include "policy/loader.h"
#include "policy/snapshot.h"
#include "proxy/inspect/credentials.h"
#include "proxy/server/proxy_stack.h"
#include "proxy/tls_ca.h"

namespace warden::cli {
namespace {

// A file only this user can read (0600), replaced whole.
Result<void> writePrivateFile(const std::filesystem::path& path, std::string_view content) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) return errnoError("open " + path.string());
  if (::fchmod(fd.get(), 0600) != 0) return errnoError("chmod " + path.string());
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return errnoError("write " + path.string());
    done += static_cast<size_t>(n);
  }
  return okResult();
}

// "127.0.0.1:3128", "[::1]:3128", ":3128" (loopback). False if it does not parse.
bool parseListen(const std::string& text, std::string* address, uint16_t* port) {
  std::string host;
  std::string port_text;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') return false;
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string::npos) return false;
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  if (host.empty()) host = "127.0.0.1";
  if (port_text.empty() || port_text.size() > 5) return false;
  unsigned long value = 0;
  for (char c : port_text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned long>(c - '0');
  }
  if (value > 65535) return false;
  *address = host;
  *port = static_cast<uint16_t>(value);
  return true;
}

std::string defaultLogDir(int64_t now_ms) {
  const std::time_t t = static_cast<std::time_t>(now_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return fmt::format("/var/log/warden/proxy-{}", buf);
}


// Idle tunnels hold descriptors (two sockets and, with splice, two pipes each): raise the soft limit.
void raiseFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

int proxyCommand(int argc, char** argv) {
  CLI::App app{"The egress proxy alone: an explicit HTTP/HTTPS proxy for processes on this host.", "warden proxy"};
  std::string policy_file;
  std::string listen = "127.0.0.1:3128";
  std::string log_dir;
  bool ocsf_json = false;
  bool allow_loopback = false;
  size_t max_connections = 4096;
  int threads = 0;
  std::vector<std::string> rule_files;
  std::string rules_builtin = "on";
  std::vector<std::string> exports;
  app.add_option("--policy", policy_file, "the policy file (YAML)")->required();
  app.add_option("--listen", listen, "ADDR:PORT to listen on (port 0: any free port)")->capture_default_str();
  app.add_option("--log-dir", log_dir, "log directory (default: /var/log/warden/proxy-<timestamp>)");
  app.add_flag("--ocsf-json", ocsf_json, "also write OCSF JSONL (warden-ocsf.log)");
  app.add_flag("--allow-loopback-upstream", allow_loopback,
               "let loopback upstreams through when a rule's allowed_ips covers them (tests only)");
  app.add_option("--max-connections", max_connections, "client connections served at once; more get 503")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1} << 20));
  app.add_option("--threads", threads, "io threads (0: one per core, at most 4)")
      ->capture_default_str()
      ->check(CLI::Range(0, 64));
  app.add_option("--rules", rule_files,
                 "a detection rule file (repeatable); findings go into the proxy's log (kill and pause rules "
                 "are recorded, not acted on: the proxy has no session to stop)");
  app.add_option("--rules-builtin", rules_builtin, "the built-in detection rules: on (default) or off")
      ->check(CLI::IsMember({"on", "off"}));
  addExportOption(app, &exports);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  const auto export_urls = checkExportUrls("warden proxy", exports);
  if (!export_urls) return kExitUsage;
  proxy::ServerOptions options;
  if (!parseListen(listen, &options.listen_address, &options.listen_port)) {
    std::fprintf(stderr, "warden proxy: --listen '%s': expected ADDR:PORT, e.g. 127.0.0.1:3128\n", listen.c_str());
    return kExitUsage;
  }
  options.max_connections = max_connections;
  options.threads = threads;
  options.targets.allow_loopback_upstream = allow_loopback;

  // 1. The policy: refuse to start on a bad one.
  policy::Diagnostics diagnostics;
  auto loaded = policy::loadPolicyFile(policy_file, &diagnostics);
  if (!loaded.ok()) {
    std::fprintf(stderr, "warden proxy: %s\n",
                 diagnostics.empty() ? loaded.error().message().c_str() : diagnostics.toString().c_str());
    return kExitFailure;
  }
  auto initial = std::make_shared<const policy::Policy>(std::move(loaded).value());
  // Credentials the agent never holds: their values from this process's environment or root-only files.
  auto credentials = proxy::inspect::CredentialVault::load(initial->credentials);
  if (!credentials.ok()) {
    std::fprintf(stderr, "warden proxy: %s\n", credentials.error().toString().c_str());
    return kExitFailure;
  }
  options.credentials = credentials.value();
  // The detection rules: a file with a problem starts nothing and says where.
  std::shared_ptr<const detect::RuleSet> rules;
  if (rules_builtin == "on" || !rule_files.empty()) {
    detect::RuleSetOptions rule_options;
    rule_options.builtin_rules = rules_builtin == "on";
    std::vector<std::filesystem::path> files(rule_files.begin(), rule_files.end());
    detect::Diagnostics rule_diagnostics;
    auto loaded_rules = detect::RuleSet::load(files, rule_options, &rule_diagnostics);
    if (!loaded_rules.ok()) {
      std::fprintf(stderr, "warden proxy: the detection rules do not load; nothing was started:\n%s\n",
                   rule_diagnostics.empty() ? loaded_rules.error().message().c_str()
                                            : rule_diagnostics.toString().c_str());
      return kExitFailure;
    }
    rules = std::move(loaded_rules).value();
  }

  // 2. Signals go to this thread only (sigwait below): block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  raiseFileLimit();

  // 3. The audit pipeline.
  const int64_t now = SystemClock::instance().nowMillis();
  if (log_dir.empty()) log_dir = defaultLogDir(now);
  audit::PipelineOptions pipeline_options;
  pipeline_options.log_dir = log_dir;
  pipeline_options.session.hostname = hostName();
  pipeline_options.session.session_id = uuidV7(now);
  pipeline_options.session.session_name = "warden-proxy";
  pipeline_options.jsonl_enabled = ocsf_json;
  if (auto sinks = makeExports(*export_urls, log_dir); sinks.ok()) {
    pipeline_options.sinks = std::move(sinks).value();
  } else {
    std::fprintf(stderr, "warden proxy: --export: %s\n", sinks.error().toString().c_str());
    return kExitFailure;
  }
  const ocsf::SessionContext session = pipeline_options.session;
  // Findings while the proxy runs: every written event is evaluated beside the writer (never
  // blocking it); a kill or pause action has no session here, so only its finding is written.
  std::unique_ptr<detect::LiveDetector> detector;
  if (rules) {
    detect::LiveDetectorOptions detector_options;
    detector_options.session = session;
    auto started = detect::LiveDetector::start(rules, std::move(detector_options));
    if (!started.ok()) {
      std::fprintf(stderr, "warden proxy: detection rules: %s\n", started.error().toString().c_str());
      return kExitFailure;
    }
    detector = std::move(started).value();
    pipeline_options.sinks.push_back(std::make_shared<audit::CallbackSink>(
        "detection rules", [d = detector.get()](const audit::SinkBatch& batch) { d->submit(batch); }));
  }
  auto pipeline_result = audit::Pipeline::start(std::move(pipeline_options));
  if (!pipeline_result.ok()) {
    std::fprintf(stderr, "warden proxy: %s\n", pipeline_result.error().toString().c_str());
    return kExitFailure;
  }
  std::unique_ptr<audit::Pipeline> pipeline = std::move(pipeline_result).value();
  if (detector) detector->attach(*pipeline);

  policy::PolicyStore store(initial);
  {
    ocsf::ConfigChange change;
    change.state = std::string(ocsf::kConfigLoaded);
    change.message = fmt::format("policy loaded from {}: {} rule{}", policy_file, initial->network.size(),
                                 initial->network.size() == 1 ? "" : "s");
    change.policy_version = std::to_string(initial->version);
    change.policy_hash = initial->hash;
    pipeline->emit(ocsf::configChange(session, now, change));
  }
  if (allow_loopback) {
    ocsf::ConfigChange change;
    change.state = std::string(ocsf::kConfigDegraded);
    change.message = "loopback upstreams allowed (--allow-loopback-upstream) where allowed_ips covers them";
    pipeline->emit(ocsf::configChange(session, now, change));
  }

  // 4. The session CA for TLS termination: ca.pem and ca-bundle.pem in the log directory.
  auto ca = proxy::CertificateAuthority::create(log_dir);
  if (!ca.ok()) {
    std::fprintf(stderr, "warden proxy: session CA: %s\n", ca.error().toString().c_str());
    (void)pipeline->close();
    return kExitFailure;
  }
  std::shared_ptr<proxy::CertificateAuthority> authority = std::move(ca).value();
  if (!options.credentials->empty()) {
    // The agent's side of the credentials: NAME=placeholder lines for its environment (never a value).
    std::string lines;
    for (const auto& [name, placeholder] : options.credentials->agentEnvironment()) lines += name + "=" + placeholder + "\n";
    const std::filesystem::path env_file = std::filesystem::path(log_dir) / "credentials.env";
    if (auto written = writePrivateFile(env_file, lines); !written.ok()) {
      std::fprintf(stderr, "warden proxy: %s\n", written.error().toString().c_str());
      (void)pipeline->close();
      return kExitFailure;
    }
    std::fprintf(stderr, "warden proxy: credential placeholders for the agent's environment in %s\n", env_file.c_str());
  }

  // 5. The proxy stack: caller identity from this host's /proc (clients are other processes: this
  // one is never its own caller, so its fds — one per connection — are not scanned), the listener,
  // the policy file's reloader.
  proxy::ProxyStackOptions stack_options;
  stack_options.server = options;
  stack_options.caller.skip_pid = static_cast<int>(::getpid());
  stack_options.ca = authority;
  stack_options.policy_file = policy_file;
  stack_options.note = [&pipeline](std::string_view component, std::string message) {
    pipeline->operational(audit::Level::kWarn, component, message);
  };
  auto stack_result = proxy::ProxyStack::create(std::move(stack_options), store, *pipeline, session);
  if (!stack_result.ok()) {
    std::fprintf(stderr, "warden proxy: %s\n", stack_result.error().toString().c_str());
    (void)pipeline->close();
    return kExitFailure;
  }
  std::unique_ptr<proxy::ProxyStack> stack = std::move(stack_result).value();
  stack->start();
  proxy::Server* server = &stack->server();

  const std::string address = server->localAddress();
  std::printf("warden proxy listening on %s (log dir %s)\n", address.c_str(), log_dir.c_str());
  std::printf("HTTP_PROXY=http://%s\nHTTPS_PROXY=http://%s\nhttp_proxy=http://%s\nhttps_proxy=http://%s\n",
              address.c_str(), address.c_str(), address.c_str(), address.c_str());
  const std::string bundle = authority->bundlePath().string();
  std::printf("SSL_CERT_FILE=%s\nREQUESTS_CA_BUNDLE=%s\nCURL_CA_BUNDLE=%s\nGIT_SSL_CAINFO=%s\nNODE_EXTRA_CA_CERTS=%s\n",
              bundle.c_str(), bundle.c_str(), bundle.c_str(), bundle.c_str(), authority->certificatePath().c_str());
  std::fflush(stdout);

  // 8. Run until SIGINT/SIGTERM.
  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      stack->reload();
      continue;
    }
    break;
  }
  pipeline->operational(audit::Level::kInfo, "proxy", "stopping");
  stack->stop();
  if (detector) {
    // The rules see the last events before the record is sealed.
    detector->drain([&pipeline] {
      const auto st = pipeline->stats();
      return st.written + st.shed >= st.emitted;
    }, std::chrono::seconds(2));
    detector->close();
  }
  const auto closed = pipeline->close();
  if (!closed.ok()) {
    std::fprintf(stderr, "warden proxy: %s\n", closed.error().toString().c_str());
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace warden::cli
