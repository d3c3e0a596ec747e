// `warden audit verify PATH... [--key PUBKEY] [--json]`: recomputes the hash chain of a session's
// OCSF JSONL files, checks every signed checkpoint, and names each problem with its sequence
// number and file:line (docs/verification.md says what this proves and what it cannot).
// `warden audit verify --from-syslog FILE...` does the same on a SIEM's copy (audit/verify_syslog.h).
// `warden audit verify --session ID [--gateway URL] [--key PUBKEY] [--json]` verifies the same way
// the events a gateway stores for that session (gateway/client/verify_stored_session.h).

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "audit/signer.h"
#include "audit/verify.h"
#include "audit/verify_files.h"
#include "audit/verify_report.h"
#include "audit/verify_syslog.h"
#include "cli/audit_commands.h"
#include "cli/dispatch.h"
#include "cli/operator_flags.h"
#include "gateway/client/operator_client.h"
#include "gateway/client/verify_stored_session.h"

namespace warden::cli {
namespace {

struct VerifyCommandOptions {
  std::vector<std::string> paths;
  std::vector<std::string> syslog_files;
  std::string key_file;
  bool json = false;
  std::string session;
  OperatorFlags gateway;
};

int usage(std::string_view message) {
  fmt::print(stderr, "warden audit verify: {}\nRun 'warden audit verify --help' for the options.\n", message);
  return kExitUsage;
}

// The session as the gateway stores it; the report is printed like the one for files.
Result<audit::VerifyReport> verifyFromGateway(const VerifyCommandOptions& o, audit::VerifyOptions options,
                                              bool* usage_error) {
  auto client = gateway::OperatorClient::forCommand(o.gateway.connection());
  if (!client.ok()) {
    *usage_error = client.error().code() == Code::kInvalidArgument;
    return client.error();
  }
  auto session = client->resolveSession(o.session);
  if (!session.ok()) return session.error().withContext("--session");
  return gateway::verifyStoredSession(*client, session->id, std::move(options));
}

int runVerify(const VerifyCommandOptions& o) {
  if (!o.session.empty() && !o.paths.empty()) {
    return usage("give log files (PATH...) or --session ID of a gateway, not both");
  }
  if (!o.syslog_files.empty() && (!o.session.empty() || !o.paths.empty())) {
    return usage("give --from-syslog FILE, log files (PATH...) or --session ID, not several");
  }
  if (o.session.empty() && !o.gateway.gateway.empty()) return usage("--gateway needs --session ID");
  if (o.session.empty() && o.paths.empty() && o.syslog_files.empty()) {
    return usage("give log files (PATH...), --from-syslog FILE or --session ID");
  }
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
  audit::VerifyReport report;
  if (!o.syslog_files.empty()) {
    report = audit::verifySyslogFiles(o.syslog_files, options);
  } else if (o.session.empty()) {
    report = audit::verifyPaths(o.paths, options);
  } else {
    bool usage_error = false;
    auto stored = verifyFromGateway(o, std::move(options), &usage_error);
    if (!stored.ok()) {
      if (usage_error) return usage(stored.error().message());
      fmt::print(stderr, "warden audit verify: {}\n", stored.error().message());
      return kExitFailure;
    }
    report = std::move(*stored);
  }
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
      "Verify the hash chain and signed checkpoints of OCSF JSONL logs, or of a session stored by a gateway; exit 0 "
      "when intact, 1 naming each problem");
  verify->add_option("PATH", options->paths,
                     "warden-ocsf.log files, or a session's log directory (its warden-ocsf.log* files, oldest first)");
  verify->add_option("--session", options->session,
                     "verify this session as the gateway stores it (id, name or id prefix) instead of files");
  verify->add_option("--from-syslog", options->syslog_files,
                     "a syslog receiver's file of an exported session (repeatable, in order): the JSON of each "
                     "message's MSG is verified; duplicate deliveries are skipped (docs/export.md)")
      ->check(CLI::ExistingFile);
  addOperatorFlags(verify, &options->gateway);
  verify->add_option("--key", options->key_file,
                     "the session's public key (64 hex digits or a PEM public key); without it the key registered "
                     "with the gateway (--session), else the one in the log itself (trust on first use)")
      ->check(CLI::ExistingFile);
  verify->add_flag("--json", options->json, "print one machine-readable JSON report");
  return AuditSubcommand{verify, [options] { return runVerify(*options); }};
}

}  // namespace warden::cli
