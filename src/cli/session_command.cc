// `warden session pause|resume|stop|status ID`: controls a running session through its supervisor's
// root-only control socket (product.md). ID is the session id, a unique prefix of it, or its name.
// Prints the supervisor's reply; exit 1 when there is no such session or it refused.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "cli/dispatch.h"
#include "sandbox/control_socket.h"

namespace warden::cli {

int sessionCommand(int argc, char** argv) {
  CLI::App app{"Controls a running session through its supervisor's control socket.", "warden session"};
  app.require_subcommand(1);
  std::string id;
  for (const char* verb : {"pause", "resume", "stop", "status"}) {
    auto* sub = app.add_subcommand(verb, std::string(verb) + " a running session");
    sub->add_option("id", id, "session id, unique id prefix, or name")->required();
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  const std::string verb = app.get_subcommands().front()->get_name();
  auto reply = sandbox::sendControlCommand(id, verb);
  if (!reply.ok()) {
    std::fprintf(stderr, "warden session %s: %s\n", verb.c_str(), reply.error().toString().c_str());
    return kExitFailure;
  }
  std::printf("%s\n", reply.value().c_str());
  return kExitOk;
}

}  // namespace warden::cli
