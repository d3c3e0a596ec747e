// `warden audit tree [SESSION] [--log-dir DIR | --gateway URL] [--json]`: the session's process tree
// in time order — each process with its command, uid and exit status, and beneath it the files it
// touched, the connections it made and its tool and model calls (audit/process_tree.h). From a
// session's log directory (its warden-ocsf.log JSONL) or from a gateway (the session's events).
// Exit 0 ok, 1 a failure reported on stderr, 2 a usage error.

#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <string>

#include "audit/process_tree.h"
#include "cli/audit_commands.h"
#include "cli/dispatch.h"
#include "gateway/client/operator_client.h"
#include "gateway/client/operator_log_dir.h"

namespace warden::cli {
namespace {

struct TreeOptions {
  std::string session, log_dir, gateway;
  bool json = false;
};

int usage(std::string_view message) {
  fmt::print(stderr, "warden audit tree: {}\nRun 'warden audit tree --help' for the options.\n", message);
  return kExitUsage;
}

int failure(std::string_view message) {
  fmt::print(stderr, "warden audit tree: {}\n", message);
  return kExitFailure;
}

int runTree(const TreeOptions& o) {
  audit::ProcessTreeBuilder builder;
  if (!o.log_dir.empty()) {
    if (!o.gateway.empty()) return usage("--log-dir and --gateway are exclusive");
    auto reader = gateway::LogDirReader::open(o.log_dir, gateway::LogDirFormat::kJson, {});
    if (!reader.ok()) return failure(reader.error().message());
    if (!reader->hasFiles())
      return failure(fmt::format("{} has no {} (OCSF JSONL output was never on for this session)", o.log_dir,
                                 reader->liveName()));
    if (auto r = reader->readAll([&](std::string_view line) { builder.add(line); }); !r.ok()) return failure(r.error().message());
  } else {
    if (o.session.empty()) return usage("name a SESSION (or give --log-dir DIR)");
    auto client = gateway::OperatorClient::forCommand(o.gateway);
    if (!client.ok()) {
      return client.error().code() == Code::kInvalidArgument ? usage(client.error().message())
                                                             : failure(client.error().message());
    }
    auto session = client->resolveSession(o.session);
    if (!session.ok()) return failure(session.error().message());
    gateway::LogsRequest request;
    request.session_id = session->id;
    auto last = client->forEachLog(request, [&](const gateway::LogEvent& e) { builder.add(e.json); });
    if (!last.ok()) return failure(last.error().message());
  }
  const audit::ProcessTree tree = builder.build();
  if (o.json) {
    fmt::print(stdout, "{}\n", audit::renderTreeJson(tree));
  } else {
    fmt::print(stdout, "{}", audit::renderTreeText(tree));
    if (tree.processes.empty()) fmt::print(stderr, "warden audit tree: no process events in {} events\n", tree.events);
  }
  if (tree.unparsed > 0) fmt::print(stderr, "warden audit tree: {} lines were not OCSF JSON and were skipped\n", tree.unparsed);
  std::fflush(stdout);
  return kExitOk;
}

}  // namespace

AuditSubcommand addAuditTreeCommand(CLI::App& audit) {
  auto o = std::make_shared<TreeOptions>();
  CLI::App* tree = audit.add_subcommand(
      "tree", "The session's process tree in time order: argv, uid, exit status, and what each process did");
  tree->add_option("SESSION", o->session, "the session on the gateway (id, name or id prefix)");
  tree->add_option("--log-dir", o->log_dir, "read the session's log directory instead (its warden-ocsf.log)");
  tree->add_option("--gateway", o->gateway,
                   "the gateway: http://HOST:PORT, https://HOST:PORT or HOST:PORT (default: $WARDEN_GATEWAY, "
                   "else 127.0.0.1:7443)");
  tree->add_flag("--json", o->json, "the tree as one JSON object");
  return AuditSubcommand{tree, [o] { return runTree(*o); }};
}

}  // namespace warden::cli
