// `warden rules check|test|builtin` as a user runs them: the built binary, real files, a trail
// written by the real pipeline (`warden audit generate`), exit statuses.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "support/test_env.h"

namespace warden {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

std::filesystem::path binary() {
  if (std::getenv("WARDEN_BINARY") != nullptr) return testing::wardenBinary();
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  const auto sibling = self.parent_path().parent_path() / "warden";
  if (!ec && std::filesystem::exists(sibling, ec)) return sibling;
  return testing::wardenBinary();
}

// In a subshell, so an argument's own redirections win over runCommand's trailing 2>&1.
testing::CommandResult warden(const std::string& args) {
  return testing::runCommand("(" + binary().string() + " " + args + ")");
}

// A session trail written by the real audit pipeline: the sample of every event, cycled.
std::filesystem::path generatedTrail(const testing::TempDir& dir) {
  const auto logs = dir / "logs";
  const auto r = warden("audit generate --events 200 --log-dir " + logs.string() + " --ocsf-json");
  EXPECT_EQ(r.status, 0) << r.output;
  return logs / "warden-ocsf.log";
}

TEST(RulesCheckCommandTest, PrintsOkForAValidFile) {
  testing::TempDir dir;
  const auto file = dir / "rules.yaml";
  testing::writeFile(file, "rules:\n  - name: curl-egress\n    condition: class_uid = 4001 and actor.process.name = \"curl\"\n");
  const auto r = warden("rules check " + file.string());
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, StartsWith("ok\n"));
  EXPECT_THAT(r.output, HasSubstr("13 rules loaded"));
}

TEST(RulesCheckCommandTest, PrintsEveryProblemWithFileLineColumnAndCodeAndExitsOne) {
  testing::TempDir dir;
  const auto file = dir / "bad.yaml";
  testing::writeFile(file,
                     "rules:\n"
                     "  - name: typo\n"
                     "    condition: class_uid = 1007 and process.nmae in (shellz)\n"
                     "  - name: re\n"
                     "    condition: class_uid = 1007 and process.cmd_line regex \"(\"\n"
                     "  - name: never\n"
                     "    condition: class_uid = 1007 and class_uid = 4001\n");
  const auto r = warden("rules check " + file.string());
  EXPECT_EQ(r.status, 1) << r.output;
  const std::string f = file.string();
  EXPECT_THAT(r.output, HasSubstr(f + ":3:37: unknown-field: 'process.nmae' is not a field of Process Activity (1007)"));
  EXPECT_THAT(r.output, HasSubstr(f + ":3:54: unknown-list: unknown list 'shellz'"));
  EXPECT_THAT(r.output, HasSubstr(f + ":5:60: bad-regex: "));
  EXPECT_THAT(r.output, HasSubstr(f + ":7:16: unreachable-rule: "));
  EXPECT_THAT(r.output, HasSubstr("warden rules check: 4 problems"));
}

TEST(RulesCheckCommandTest, YamlErrorsAndMissingFilesAreReported) {
  testing::TempDir dir;
  const auto file = dir / "syntax.yaml";
  testing::writeFile(file, "rules: [\n");
  const auto r = warden("rules check " + file.string());
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr(file.string() + ":2:1: yaml-error: YAML syntax error"));
  const auto missing = warden("rules check " + (dir / "absent.yaml").string());
  EXPECT_EQ(missing.status, 1) << missing.output;
  EXPECT_THAT(missing.output, HasSubstr("absent.yaml: unreadable: "));
}

TEST(RulesCheckCommandTest, JsonOutputCarriesCodesAndPositions) {
  testing::TempDir dir;
  const auto file = dir / "bad.yaml";
  testing::writeFile(file, "rules:\n  - name: x\n    condition: process.pid > \"a\"\n");
  const auto r = warden("rules check --json " + file.string());
  EXPECT_EQ(r.status, 1) << r.output;
  const auto j = nlohmann::json::parse(r.output.substr(0, r.output.find('\n')));
  EXPECT_EQ(j["ok"], false);
  ASSERT_EQ(j["problems"].size(), 1u);
  EXPECT_EQ(j["problems"][0]["code"], "type-mismatch");
  EXPECT_EQ(j["problems"][0]["line"], 3);
  EXPECT_EQ(j["problems"][0]["column"], 30);
}

TEST(RulesTestCommandTest, ReplaysARecordedTrailAndPrintsFindingsAsShorthand) {
  testing::TempDir dir;
  const auto trail = generatedTrail(dir);
  const auto rules = dir / "rules.yaml";
  testing::writeFile(rules,
                     "rules:\n  - name: python-touches-ssh\n    condition: class_uid = 1001 and file.path contains \"/.ssh/\""
                     " and actor.process.name = \"python3\"\n    severity: high\n    title: \"ssh file %{file.path}\"\n");
  const auto r = warden("rules test " + rules.string() + " --events " + trail.string() + " 2>/dev/null");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output,
              StartsWith("FINDING:CREATED [HIGH] \"ssh file /home/agent/.ssh/authorized_keys\" [rule:python-touches-ssh]\n"));
  EXPECT_THAT(r.output, Not(HasSubstr("[rule:credential-file-write]")));  // the pack's rules are off
  const auto summary = warden("rules test " + rules.string() + " --events " + trail.string() + " 2>&1 >/dev/null");
  EXPECT_THAT(summary.output, HasSubstr(" evaluated, "));
  EXPECT_THAT(summary.output, HasSubstr(" 0 unparsable, 0 rules disabled"));
}

TEST(RulesTestCommandTest, BuiltinRunsThePackAndJsonPrintsEachFindingAsCanonicalJson) {
  testing::TempDir dir;
  const auto trail = generatedTrail(dir);
  const auto r = warden("rules test --builtin --json --events " + trail.string() + " 2>/dev/null");
  EXPECT_EQ(r.status, 0) << r.output;
  std::istringstream lines(r.output);
  int findings = 0;
  bool credential = false;
  for (std::string line; std::getline(lines, line);) {
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["class_uid"], 2004) << line;
    ASSERT_TRUE(j["evidences"][0]["data"].contains("sequence")) << line;
    EXPECT_GT(j["evidences"][0]["data"]["sequence"].get<int>(), 0);
    if (j["finding_info"]["analytic"]["name"] == "credential-file-write") credential = true;
    ++findings;
  }
  EXPECT_GT(findings, 0);
  EXPECT_TRUE(credential) << r.output;
}

TEST(RulesTestCommandTest, BadTrailLinesAreCountedAndARuleFileWithErrorsRunsNothing) {
  testing::TempDir dir;
  const auto trail = dir / "trail.jsonl";
  testing::writeFile(trail, "{\"class_uid\":1001\nnot json\n\n[]\n");
  const auto r = warden("rules test --builtin --events " + trail.string());
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("4 lines, 0 evaluated, 0 findings, 3 unparsable"));
  const auto bad = dir / "bad.yaml";
  testing::writeFile(bad, "rules:\n  - name: x\n    condition: nope\n");
  const auto r2 = warden("rules test " + bad.string() + " --events " + trail.string());
  EXPECT_EQ(r2.status, 1) << r2.output;
  EXPECT_THAT(r2.output, HasSubstr(bad.string() + ":3:16: unknown-macro: "));
  const auto r3 = warden("rules test --builtin --events " + (dir / "absent.jsonl").string());
  EXPECT_EQ(r3.status, 1) << r3.output;
}

TEST(RulesCommandTest, BuiltinPrintsThePackAndUsageErrorsExitTwo) {
  const auto r = warden("rules builtin");
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(r.output, HasSubstr("- name: pipe-download-to-shell"));
  EXPECT_THAT(r.output, HasSubstr("- name: model-requested-denied-tool"));
  EXPECT_EQ(warden("rules").status, 2);
  EXPECT_EQ(warden("rules check").status, 2);
  EXPECT_EQ(warden("rules test x.yaml").status, 2);  // --events is required
  EXPECT_EQ(warden("rules test --events x.jsonl").status, 2);  // no rules at all
}

}  // namespace
}  // namespace warden
