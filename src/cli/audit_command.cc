// `warden audit <subcommand>`: the tamper-evident audit trail. Each subcommand lives in its own
// file (audit_commands.h); this file only parses and picks one.

#include <exception>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/audit_commands.h"
#include "cli/dispatch.h"

namespace warden::cli {

int auditCommand(int argc, char** argv) {
  CLI::App app{"Verify, generate and query the tamper-evident audit trail.", "warden audit"};
  app.require_subcommand(1);

  std::vector<AuditSubcommand> subcommands;
  subcommands.push_back(addAuditVerifyCommand(app));
  subcommands.push_back(addAuditGenerateCommand(app));
  subcommands.push_back(addAuditQueryCommand(app));
  subcommands.push_back(addAuditTreeCommand(app));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);  // prints help (rc 0) or the usage error
    return rc == 0 ? kExitOk : kExitUsage;
  }

  try {
    for (const AuditSubcommand& s : subcommands) {
      if (s.app->parsed()) return s.run();
    }
  } catch (const std::exception& e) {  // the edge: nothing escapes a command
    fmt::print(stderr, "warden audit: internal error: {}\n", e.what());
    return kExitFailure;
  }
  return kExitUsage;
}

}  // namespace warden::cli
