// `warden audit verify PATH... [--key PUBKEY] [--json]`: recomputes the hash chain of a session's
// OCSF JSONL files, checks every signed checkpoint, and names each problem with its sequence
// number and file:line (docs/verification.md says what this proves and what it cannot).

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "audit/signer.h"
#include "audit/verify.h"
#include "audit/verify_report.h"
#include "cli/audit_commands.h"
#include "cli/dispatch.h"

namespace warden::cli {
namespace {

struct VerifyCommandOptions {
  std::vector<std::string> paths;
  std::string key_file;
  bool json = false;
};

int runVerify(const VerifyCommandOptions& o) {
  audit::VerifyOptions options;
  if (!o.key_file.empty()) {
    auto key = audit::readPublicKeyFile(o.key_file);
    if (!key.ok()) {
      fmt::print(stderr, "warden audit verify: --key: {}\n", key.error().message());
      return kExitUsage;
    }
    options.public_key_hex = std::move(key).value();
    options.key_origin = o.key_file;
  }
  const audit::VerifyReport report = audit::verifyPaths(o.paths, options);
  if (o.json) {
    fmt::print(stdout, "{}\n", audit::formatReportJson(report));
  } else {
    fmt::print(stdout, "{}", audit::formatReportText(report));
  }
  std::fflush(stdout);
  return report.ok() ? kExitOk : kExitFailure;
}

}  // namespace

AuditSubcommand addAuditVerifyCommand(CLI::App& audit) {
  auto options = std::make_shared<VerifyCommandOptions>();
  CLI::App* verify = audit.add_subcommand(
      "verify",
      "Verify the hash chain and signed checkpoints of OCSF JSONL logs; exit 0 when intact, 1 naming each problem");
  verify->add_option("PATH", options->paths,
                     "warden-ocsf.log files, or a session's log directory (its warden-ocsf.log* files, oldest first)")
      ->required();
  verify->add_option("--key", options->key_file,
                     "the session's public key (64 hex digits or a PEM public key); without it the key is taken "
                     "from the log itself (trust on first use)")
      ->check(CLI::ExistingFile);
  verify->add_flag("--json", options->json, "print one machine-readable JSON report");
  return AuditSubcommand{verify, [options] { return runVerify(*options); }};
}

}  // namespace warden::cli
