// `warden policy check FILE [--json]`: loads a policy and prints every problem with
// FILE:LINE:COL, or "ok" and a one-line summary. Exit 0 ok, 1 problems (or unreadable file),
// 2 usage error.

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/dispatch.h"
#include "policy/diagnostics.h"
#include "policy/loader.h"
#include "policy/model.h"

namespace warden::cli {
namespace {

std::string summary(const policy::Policy& p) {
  return fmt::format("{}: version {}, {} rule{}, {} endpoint{}, sha256 {}", p.source, p.version,
                     p.network.size(), p.network.size() == 1 ? "" : "s", p.endpointCount(),
                     p.endpointCount() == 1 ? "" : "s", p.hash);
}

void printJson(const nlohmann::json& j) {
  // Policy text may hold invalid UTF-8; replace it rather than throw.
  std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
}

int runCheck(const std::string& file, bool json) {
  policy::Diagnostics diagnostics;
  const auto loaded = policy::loadPolicyFile(file, &diagnostics);
  if (loaded.ok()) {
    const policy::Policy& p = loaded.value();
    if (json) {
      printJson({{"ok", true},
                 {"file", file},
                 {"version", p.version},
                 {"rules", p.network.size()},
                 {"endpoints", p.endpointCount()},
                 {"sha256", p.hash},
                 {"problems", nlohmann::json::array()}});
    } else {
      std::printf("ok\n%s\n", summary(p).c_str());
    }
    return kExitOk;
  }
  if (json) {
    nlohmann::json problems = nlohmann::json::array();
    for (const auto& d : diagnostics.entries()) {
      nlohmann::json item = {{"file", d.file}, {"message", d.message}};
      if (d.location.line > 0) {
        item["line"] = d.location.line;
        item["column"] = d.location.column;
      }
      problems.push_back(std::move(item));
    }
    printJson({{"ok", false}, {"file", file}, {"problems", problems}, {"count", diagnostics.count()}});
    return kExitFailure;
  }
  const auto& entries = diagnostics.entries();
  if (entries.empty() || (entries.size() == 1 && entries.front().location.line == 0)) {
    // The file could not be read (missing, unreadable, a directory, too large): one plain message.
    std::fprintf(stderr, "warden policy check: %s\n", loaded.error().message().c_str());
    return kExitFailure;
  }
  std::fprintf(stderr, "%s\n", diagnostics.toString().c_str());
  const size_t n = diagnostics.count();
  std::fprintf(stderr, "%s: %zu problem%s\n", file.c_str(), n, n == 1 ? "" : "s");
  return kExitFailure;
}

}  // namespace

int policyCommand(int argc, char** argv) {
  CLI::App app{"Check sandbox policy files.", "warden policy"};
  app.require_subcommand(1);
  std::string file;
  bool json = false;
  CLI::App* check = app.add_subcommand(
      "check", "Load a policy and print every problem as FILE:LINE:COL: message, or \"ok\" and a summary.");
  check->add_option("FILE", file, "the policy file (YAML)")->required();
  check->add_flag("--json", json, "machine-readable output on stdout");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);  // prints help to stdout, or the usage error to stderr
    return rc == 0 ? kExitOk : kExitUsage;
  }
  if (check->parsed()) return runCheck(file, json);
  return kExitUsage;
}

}  // namespace warden::cli
