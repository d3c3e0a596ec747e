// `warden rules check FILE...`: loads rule files (after the built-in pack) and prints every
// problem as FILE:LINE:COL: code: message, or "ok" and a summary. Exit 0 ok, 1 problems.
// `warden rules test FILE... --events TRAIL.jsonl [--json] [--builtin]`: replays a recorded JSONL
// trail through the rules offline and prints each finding as its shorthand line (--json: the
// finding's canonical JSON). Exit 0 when the replay ran, 1 when the rules or the trail cannot
// be loaded.
// `warden rules builtin`: prints the built-in pack (rule-file YAML).
// Usage errors exit 2.

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/dispatch.h"
#include "detect/builtin_rules.h"
#include "detect/engine.h"
#include "detect/rule_set.h"
#include "ocsf/jsonl_formatter.h"
#include "ocsf/shorthand.h"

namespace warden::cli {
namespace {

// Trail lines longer than this are counted as unparsable, not read into memory whole.
constexpr size_t kMaxLineBytes = 16u << 20;

void printProblems(const detect::Diagnostics& d, bool json, const char* command) {
  if (json) {
    nlohmann::json problems = nlohmann::json::array();
    for (const auto& e : d.entries()) {
      nlohmann::json item = {{"file", e.file}, {"code", detect::codeName(e.code)}, {"message", e.message}};
      if (e.pos.line > 0) {
        item["line"] = e.pos.line;
        item["column"] = e.pos.column;
      }
      problems.push_back(std::move(item));
    }
    const nlohmann::json out = {{"ok", false}, {"problems", problems}, {"count", d.count()}};
    std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return;
  }
  std::fprintf(stderr, "%s\n", d.toString().c_str());
  std::fprintf(stderr, "warden rules %s: %zu problem%s\n", command, d.count(), d.count() == 1 ? "" : "s");
}

std::vector<std::filesystem::path> paths(const std::vector<std::string>& files) {
  return std::vector<std::filesystem::path>(files.begin(), files.end());
}

int runCheck(const std::vector<std::string>& files, bool json) {
  detect::Diagnostics d;
  auto set = detect::RuleSet::load(paths(files), {}, &d);
  if (!set.ok()) {
    if (d.empty()) std::fprintf(stderr, "warden rules check: %s\n", set.error().toString().c_str());
    printProblems(d, json, "check");
    return kExitFailure;
  }
  const size_t n = set.value()->rules().size();
  if (json) {
    const nlohmann::json out = {{"ok", true}, {"rules", n}, {"problems", nlohmann::json::array()}};
    std::printf("%s\n", out.dump().c_str());
  } else {
    std::printf("ok\n%zu rule%s loaded (built-in pack and %zu file%s)\n", n, n == 1 ? "" : "s", files.size(),
                files.size() == 1 ? "" : "s");
  }
  return kExitOk;
}

int runTest(const std::vector<std::string>& files, const std::string& events, bool json, bool builtin) {
  if (files.empty() && !builtin) {
    std::fprintf(stderr, "warden rules test: give a rule file, or --builtin to test the built-in pack\n");
    return kExitUsage;
  }
  detect::Diagnostics d;
  detect::RuleSetOptions options;
  options.builtin_rules = builtin;
  auto set = detect::RuleSet::load(paths(files), options, &d);
  if (!set.ok()) {
    if (d.empty()) std::fprintf(stderr, "warden rules test: %s\n", set.error().toString().c_str());
    printProblems(d, false, "test");
    return kExitFailure;
  }
  std::ifstream in(events, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "warden rules test: cannot open '%s'\n", events.c_str());
    return kExitFailure;
  }
  detect::Engine engine(set.value());
  detect::EngineOutput out;
  uint64_t lines = 0;
  uint64_t too_long = 0;
  std::string line;
  std::string rendered;
  while (std::getline(in, line)) {
    ++lines;
    if (line.empty()) continue;
    if (line.size() > kMaxLineBytes) {
      ++too_long;
      continue;
    }
    engine.evaluate(line, out);
    for (const auto& e : out.events) {
      rendered.clear();
      if (json) {
        rendered = ocsf::toJsonl(e);
        if (!rendered.empty() && rendered.back() == '\n') rendered.pop_back();
      } else {
        ocsf::appendShorthand(rendered, e);
      }
      std::printf("%s\n", rendered.c_str());
    }
    out.clear();
  }
  if (in.bad()) {
    std::fprintf(stderr, "warden rules test: reading '%s' failed part-way\n", events.c_str());
    return kExitFailure;
  }
  const auto& s = engine.stats();
  std::fprintf(stderr, "%llu line%s, %llu evaluated, %llu finding%s, %llu unparsable, %llu rule%s disabled\n",
               static_cast<unsigned long long>(lines), lines == 1 ? "" : "s",
               static_cast<unsigned long long>(s.evaluated), static_cast<unsigned long long>(s.findings),
               s.findings == 1 ? "" : "s", static_cast<unsigned long long>(s.unparsable + too_long),
               static_cast<unsigned long long>(s.rules_disabled), s.rules_disabled == 1 ? "" : "s");
  return kExitOk;
}

}  // namespace

int rulesCommand(int argc, char** argv) {
  CLI::App app{"Check detection rule files and test them on recorded trails.", "warden rules"};
  app.require_subcommand(1);
  std::vector<std::string> files;
  bool json = false;
  std::string events;
  bool builtin = false;
  CLI::App* check = app.add_subcommand(
      "check", "Load rule files after the built-in pack; print every problem as FILE:LINE:COL: code: message, or \"ok\".");
  check->add_option("FILE", files, "rule files (YAML)")->required();
  check->add_flag("--json", json, "machine-readable output on stdout");
  CLI::App* test = app.add_subcommand(
      "test", "Replay a JSONL trail through rule files offline; print each finding as a shorthand line.");
  test->add_option("FILE", files, "rule files (YAML)");
  test->add_option("--events", events, "the recorded trail (warden-ocsf.log or any OCSF JSONL)")->required();
  test->add_flag("--json", json, "print each finding as canonical JSON instead of shorthand");
  test->add_flag("--builtin", builtin, "also run the built-in pack's rules");
  CLI::App* show = app.add_subcommand("builtin", "Print the built-in rule pack.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  if (check->parsed()) return runCheck(files, json);
  if (test->parsed()) return runTest(files, events, json, builtin);
  if (show->parsed()) {
    const std::string_view text = detect::builtinRulesText();
    std::fwrite(text.data(), 1, text.size(), stdout);
    return kExitOk;
  }
  return kExitUsage;
}

}  // namespace warden::cli
