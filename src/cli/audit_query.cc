// `warden audit query [--session S] [--since T] [--until T] [--class C] [--domain D] [--path P]
// [--package N] [--tool T] [--reason R] [--limit N] [--json] [--gateway URL]`: the incident questions over the
// events a gateway stores (product.md, docs/gateway-client.md).
//
// With --session (or without any fact filter): the matching events, as warden.log lines
// (`<UTC ts ms> OCSF <shorthand>`; prefixed with the session id when no session is named) or with
// --json as their canonical JSONL lines. Without --session but with a fact filter (--domain,
// --path, --package, --tool, --reason): which sessions match, one id per line, or {"sessions": [...]}.
// Exit 0 ok (also for an empty answer), 1 a failure reported on stderr, 2 a usage error.

#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/audit_commands.h"
#include "cli/dispatch.h"
#include "common/clock.h"
#include "gateway/client/operator_args.h"
#include "cli/operator_flags.h"
#include "gateway/client/operator_client.h"

namespace warden::cli {
namespace {

constexpr uint32_t kDefaultLimit = 1000;
constexpr uint32_t kMaxLimit = 100000;  // the gateway's kMaxQueryLimit

struct QueryOptions {
  std::string session, since, until, classes, domain, path, package, tool, reason;
  uint32_t limit = kDefaultLimit;
  bool json = false;
  OperatorFlags gateway;
};

int usage(std::string_view message) {
  fmt::print(stderr, "warden audit query: {}\nRun 'warden audit query --help' for the options.\n", message);
  return kExitUsage;
}

int failure(std::string_view message) {
  fmt::print(stderr, "warden audit query: {}\n", message);
  return kExitFailure;
}

int runQuery(const QueryOptions& o) {
  gateway::EventsQuery q;
  const int64_t now = SystemClock::instance().nowMillis();
  if (!o.since.empty()) {
    auto t = gateway::parseTimeArg(o.since, now);
    if (!t.ok()) return usage("--since: " + t.error().message());
    q.since_ms = *t;
  }
  if (!o.until.empty()) {
    auto t = gateway::parseTimeArg(o.until, now);
    if (!t.ok()) return usage("--until: " + t.error().message());
    q.until_ms = *t;
  }
  if (q.since_ms != 0 && q.until_ms != 0 && q.until_ms <= q.since_ms) {
    return usage("--until must be later than --since");
  }
  if (!o.classes.empty()) {
    auto classes = gateway::parseClassList(o.classes);
    if (!classes.ok()) return usage("--class: " + classes.error().message());
    q.classes = std::move(*classes);
  }
  q.domain = o.domain;
  q.path = o.path;
  q.package = o.package;
  if (!o.tool.empty()) {
    // The store keeps a tool call's name in the package fact as "tool:NAME" (gateway/store/event_facts.cc).
    if (!o.package.empty()) return usage("--package and --tool cannot be combined");
    q.package = "tool:" + o.tool;
  }
  q.stop_reason = o.reason;
  q.limit = o.limit;
  const bool fact_filter =
      !q.domain.empty() || !q.path.empty() || !q.package.empty() || !q.stop_reason.empty();

  auto client = gateway::OperatorClient::forCommand(o.gateway.connection());
  if (!client.ok()) {
    return client.error().code() == Code::kInvalidArgument ? usage(client.error().message())
                                                           : failure(client.error().message());
  }
  if (!o.session.empty()) {
    auto s = client->resolveSession(o.session);
    if (!s.ok()) return failure(s.error().withContext("--session").message());
    q.session_id = s->id;
  }
  auto answer = client->query(q);
  if (!answer.ok()) return failure(answer.error().message());

  if (q.session_id.empty() && fact_filter) {
    if (o.json) {
      fmt::print(stdout, "{}\n", nlohmann::json{{"sessions", answer->sessions}}.dump());
    } else {
      for (const auto& id : answer->sessions) fmt::print(stdout, "{}\n", id);
      if (answer->sessions.empty()) fmt::print(stderr, "warden audit query: no session matches\n");
    }
    std::fflush(stdout);
    return kExitOk;
  }
  for (const auto& e : answer->events) {
    if (o.json) {
      fmt::print(stdout, "{}\n", e.json);
    } else if (q.session_id.empty()) {
      fmt::print(stdout, "{} {} OCSF {}\n", e.session_id, formatUtcMillis(e.time_ms), e.shorthand);
    } else {
      fmt::print(stdout, "{} OCSF {}\n", formatUtcMillis(e.time_ms), e.shorthand);
    }
  }
  std::fflush(stdout);
  if (answer->events.size() >= q.limit) {
    fmt::print(
        stderr,
        "warden audit query: showing the first {} events; there may be more (raise --limit, up to {})\n",
        q.limit, kMaxLimit);
  }
  return kExitOk;
}

}  // namespace

AuditSubcommand addAuditQueryCommand(CLI::App& audit) {
  auto o = std::make_shared<QueryOptions>();
  CLI::App* query = audit.add_subcommand(
      "query", "Answer incident questions over the events a gateway stores: events, or which sessions match");
  query->add_option("--session", o->session, "only this session (id, name or id prefix)");
  query->add_option("--since", o->since,
                    "events from this time on: a duration back from now (30s, 5m, 2h, 7d) or "
                    "an RFC 3339 time");
  query->add_option("--until", o->until, "events before this time (same forms as --since)");
  query->add_option("--class", o->classes, "only these event classes, comma-separated (NET,HTTP,...)");
  query->add_option("--domain", o->domain, "events (or sessions) that reached this domain");
  query->add_option("--path", o->path, "events (or sessions) that touched this file path");
  query->add_option("--package", o->package, "events (or sessions) that installed this package");
  query->add_option("--tool", o->tool, "events (or sessions) that called this MCP tool (TOOL:CALL)");
  query->add_option("--reason", o->reason,
                    "sessions (or their stop events) that stopped for this reason "
                    "(exit, timeout, oom, signal, api, policy_violation)");
  query->add_option("--limit", o->limit, "at most this many events (default 1000)")
      ->check(CLI::Range(uint32_t{1}, kMaxLimit));
  query->add_flag("--json", o->json, "events as their JSONL lines; sessions as {\"sessions\": [...]}");
  addOperatorFlags(query, &o->gateway);
  return AuditSubcommand{query, [o] { return runQuery(*o); }};
}

}  // namespace warden::cli
