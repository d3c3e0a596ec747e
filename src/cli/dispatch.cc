#include "cli/dispatch.h"

#include <cstdio>
#include <cstring>
#include <string_view>

namespace warden::cli {
namespace {

struct Command {
  const char* name;
  int (*run)(int, char**);
  const char* summary;
};

constexpr Command kCommands[] = {
    {"audit", auditCommand, "verify, generate and query the tamper-evident audit trail"},
    {"ocsf", ocsfCommand, "validate OCSF 1.7.0 JSONL against the official schema"},
    {"policy", policyCommand, "check a sandbox policy file"},
    {"rules", rulesCommand, "check detection rule files and test them on recorded trails"},
    {"proxy", proxyCommand, "run the egress proxy as an explicit HTTP/HTTPS proxy"},
    {"run", runCommand, "run a command in a recorded sandbox session"},
    {"gateway", gatewayCommand, "run the gateway: session config, event store, logs and queries"},
    {"session", sessionCommand, "pause, resume or stop a running session"},
    {"logs", logsCommand, "show a session's events, from the gateway or a log directory"},
    {"sessions", sessionsCommand, "list the sessions known to the gateway"},
    {"settings", settingsCommand, "get, set, delete or list the gateway's runtime settings"},
};

void printUsage(FILE* out) {
  std::fprintf(out, "usage: warden <command> [options]\n\ncommands:\n");
  for (const auto& c : kCommands) std::fprintf(out, "  %-10s %s\n", c.name, c.summary);
  std::fprintf(out, "\nRun 'warden <command> --help' for a command's options.\n");
}

}  // namespace

int dispatch(int argc, char** argv) {
  if (argc < 2) {
    printUsage(stderr);
    return kExitUsage;
  }
  const std::string_view name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    printUsage(stdout);
    return kExitOk;
  }
  if (name == "--version") {
    std::printf("warden %s\n", WARDEN_VERSION);
    return kExitOk;
  }
  for (const auto& c : kCommands) {
    if (name == c.name) return c.run(argc - 1, argv + 1);
  }
  std::fprintf(stderr, "warden: unknown command '%s'\n\n", argv[1]);
  printUsage(stderr);
  return kExitUsage;
}

}  // namespace warden::cli
