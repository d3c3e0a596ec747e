// `warden sessions list [--json] [--gateway URL]`: the sessions the gateway knows, with their state,
// stop reason, exit code, highest stored sequence and creation time (docs/gateway-client.md).
// Exit 0 ok, 1 on a failure reported on stderr (gateway unreachable), 2 on a usage error.

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <cstdio>
#include <exception>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/dispatch.h"
#include "common/clock.h"
#include "cli/operator_flags.h"
#include "gateway/client/operator_client.h"

namespace warden::cli {
namespace {

constexpr size_t kColumns = 7;
using Row = std::array<std::string, kColumns>;

Row row(const gateway::SessionInfo& s) {
  auto dash = [](const std::string& v) { return v.empty() ? std::string("-") : v; };
  return {s.id,
          dash(s.name),
          dash(s.state),
          dash(s.stop_reason),
          s.exit_code ? std::to_string(*s.exit_code) : std::string("-"),
          std::to_string(s.highest_sequence),
          s.created_ms > 0 ? formatUtcMillis(s.created_ms) : std::string("-")};
}

void printTable(const std::vector<gateway::SessionInfo>& sessions) {
  std::vector<Row> rows;
  rows.push_back({"ID", "NAME", "STATE", "REASON", "EXIT", "SEQ", "CREATED"});
  for (const auto& s : sessions) rows.push_back(row(s));
  std::array<size_t, kColumns> width{};
  for (const Row& r : rows) {
    for (size_t c = 0; c < kColumns; ++c) width[c] = std::max(width[c], r[c].size());
  }
  for (const Row& r : rows) {
    std::string line;
    for (size_t c = 0; c < kColumns; ++c) {
      line += c + 1 == kColumns ? r[c] : fmt::format("{:<{}}  ", r[c], width[c]);
    }
    fmt::print(stdout, "{}\n", line);
  }
}

std::string sessionsJson(const std::vector<gateway::SessionInfo>& sessions) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& s : sessions) {
    nlohmann::json j = {{"id", s.id},
                        {"name", s.name},
                        {"state", s.state},
                        {"stop_reason", s.stop_reason},
                        {"exit_code", nullptr},
                        {"highest_sequence", s.highest_sequence},
                        {"created_ms", s.created_ms},
                        {"created", s.created_ms > 0 ? formatUtcMillis(s.created_ms) : std::string()},
                        {"updated_ms", s.updated_ms},
                        {"public_key", s.public_key},
                        {"hostname", s.hostname}};
    if (s.exit_code) j["exit_code"] = *s.exit_code;
    list.push_back(std::move(j));
  }
  return nlohmann::json{{"sessions", std::move(list)}}.dump(-1, ' ', false,
                                                            nlohmann::json::error_handler_t::replace);
}

int runList(const OperatorFlags& flags, bool json) {
  auto client = gateway::OperatorClient::forCommand(flags.connection());
  if (!client.ok()) {
    fmt::print(stderr, "warden sessions list: {}\n", client.error().message());
    return client.error().code() == Code::kInvalidArgument ? kExitUsage : kExitFailure;
  }
  auto sessions = client->listSessions();
  if (!sessions.ok()) {
    fmt::print(stderr, "warden sessions list: {}\n", sessions.error().message());
    return kExitFailure;
  }
  if (json) {
    fmt::print(stdout, "{}\n", sessionsJson(*sessions));
  } else if (sessions->empty()) {
    fmt::print(stdout, "no sessions on gateway {}\n", client->address());
  } else {
    printTable(*sessions);
  }
  std::fflush(stdout);
  return kExitOk;
}

}  // namespace

int sessionsCommand(int argc, char** argv) {
  CLI::App app{"Lists the sessions known to the gateway.", "warden sessions"};
  app.require_subcommand(1);
  OperatorFlags flags;
  bool json = false;
  CLI::App* list =
      app.add_subcommand("list", "sessions with state, stop reason, exit code, highest sequence, created");
  list->add_flag("--json", json, "print one JSON object {\"sessions\": [...]}");
  addOperatorFlags(list, &flags);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  try {
    return runList(flags, json);
  } catch (const std::exception& e) {  // the edge: nothing escapes a command
    fmt::print(stderr, "warden sessions: internal error: {}\n", e.what());
    return kExitFailure;
  }
}

}  // namespace warden::cli
