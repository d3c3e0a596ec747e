#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace warden::cli {

// The subcommands of `warden audit`, one per file (cli/audit_<name>.cc). Each adds itself to the
// `warden audit` CLI::App (which owns it) and returns how to run it; audit_command.cc parses
// once and runs the one that was chosen. `run` returns the exit status (dispatch.h) and must
// not throw; it is called at most once, after a successful parse.
struct AuditSubcommand {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

// `warden audit verify PATH... [--key PUBKEY] [--json]`, or `warden audit verify --session ID
// [--gateway URL] [--key PUBKEY] [--json]` for a session stored by a gateway (audit_verify.cc).
AuditSubcommand addAuditVerifyCommand(CLI::App& audit);

// `warden audit generate --events N --log-dir DIR [--ocsf-json] [--rate EPS] [--producers K]`
// (audit_generate.cc).
AuditSubcommand addAuditGenerateCommand(CLI::App& audit);

// `warden audit query [--session S] [--since T] [--until T] [--class C] [--domain D] [--path P]
// [--package N] [--reason R] [--limit N] [--json] [--gateway URL]` (audit_query.cc).
AuditSubcommand addAuditQueryCommand(CLI::App& audit);

// `warden audit tree [SESSION] [--log-dir DIR | --gateway URL] [--json]` (audit_tree.cc).
AuditSubcommand addAuditTreeCommand(CLI::App& audit);

}  // namespace warden::cli
