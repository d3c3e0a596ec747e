// `warden gateway [--config FILE] [--listen ADDR:PORT] [--db URL] [--ocsf-logging]`: runs the gateway
// (product.md "Gateway", docs/gateway.md) in the foreground until SIGINT or SIGTERM. Prints one line
// "warden gateway: listening on ADDR:PORT" once it serves (the chosen port when PORT is 0).
// Exit 1 when it cannot start (bad config, store unreachable, address in use), 2 on a usage error.

#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "cli/dispatch.h"
#include "gateway/service/gateway_server.h"
#include "gateway/settings/gateway_config.h"

namespace warden::cli {

int gatewayCommand(int argc, char** argv);  // also declared in dispatch.h once it is wired there

int gatewayCommand(int argc, char** argv) {
  CLI::App app{"Runs the Warden gateway: session config, event store, logs and queries.", "warden gateway"};
  std::string config, listen, db;
  bool ocsf_logging = false;
  app.add_option("--config", config, "YAML config file (docs/gateway-settings.md)");
  app.add_option("--listen", listen, "ADDR:PORT to serve gRPC on (default 127.0.0.1:7443; port 0 = any)");
  app.add_option("--db", db, "sqlite:///path or a path (default /var/lib/warden/gateway.db), or postgresql://...");
  app.add_flag("--ocsf-logging", ocsf_logging, "sessions write OCSF JSONL unless the config file says otherwise");
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
  options.ocsf_logging_flag = ocsf_logging;
  if (const char* env = std::getenv(std::string(gateway::kOcsfLoggingEnv).c_str())) options.ocsf_logging_env = env;

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
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  std::fprintf(stderr, "warden gateway: signal %d, stopping\n", signal_number);
  (*server)->stop();
  return kExitOk;
}

}  // namespace warden::cli
