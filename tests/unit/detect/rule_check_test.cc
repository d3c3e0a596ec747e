// Loading rule files: every problem reported with file:line:col and its code, all or nothing.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "detect/builtin_rules.h"
#include "detect/rule_set.h"
#include "support/test_env.h"

namespace warden::detect {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Every diagnostic as "line:col code" for compact assertions, plus the full text on failure.
struct Checked {
  bool ok = false;
  std::vector<std::string> where;
  std::string text;
};

Checked check(const std::string& yaml, RuleSetOptions options = {}) {
  Diagnostics d;
  auto r = RuleSet::compile({RuleSource{"rules.yaml", yaml}}, options, &d);
  Checked c;
  c.ok = r.ok();
  for (const auto& e : d.entries()) {
    c.where.push_back(std::to_string(e.pos.line) + ":" + std::to_string(e.pos.column) + " " +
                      std::string(codeName(e.code)));
  }
  c.text = d.toString();
  if (!r.ok()) {
    EXPECT_EQ(r.error().message(), d.toString());
  }
  return c;
}

TEST(RuleCheckTest, TheBuiltInPackCompilesWithoutProblems) {
  Diagnostics d;
  auto r = RuleSet::compile({}, {}, &d);
  ASSERT_TRUE(r.ok()) << d.toString();
  EXPECT_EQ(r.value()->rules().size(), 12u);
}

TEST(RuleCheckTest, AValidFileLoadsAfterThePackAndCanUseItsListsAndMacros) {
  const auto c = check(R"(rules:
  - name: python-spawns-shell
    condition: spawned_exec and process.name in (shells) and process.parent_process.name = "python3"
)");
  EXPECT_TRUE(c.ok) << c.text;
}

TEST(RuleCheckTest, ReportsAYamlSyntaxErrorWithItsPosition) {
  const auto c = check("rules:\n  - name: x\n    condition: [unclosed\n");
  EXPECT_FALSE(c.ok);
  ASSERT_EQ(c.where.size(), 1u) << c.text;
  EXPECT_THAT(c.where[0], HasSubstr("yaml-error"));
  EXPECT_THAT(c.text, HasSubstr("rules.yaml:"));
}

TEST(RuleCheckTest, ReportsUnknownKeysAndBadValuesInOnePass) {
  const auto c = check(R"(colour: blue
rules:
  - name: a
    condition: class_uid = 1007
    severity: urgent
    priority: 3
  - name: b
    condition: class_uid = 1007
    action: explode
)");
  EXPECT_FALSE(c.ok);
  EXPECT_THAT(c.where, ElementsAre("1:1 unknown-key", "5:15 bad-value", "6:5 unknown-key", "9:13 bad-value")) << c.text;
}

TEST(RuleCheckTest, UnknownFieldNamesTheClassAndTheMissingAttribute) {
  const auto c = check(R"(rules:
  - name: typo
    condition: class_uid = 1007 and process.nmae = "sh"
)");
  EXPECT_THAT(c.where, ElementsAre("3:37 unknown-field")) << c.text;
  EXPECT_THAT(c.text, HasSubstr("'process.nmae' is not a field of Process Activity (1007): object process has no attribute 'nmae'"));
}

TEST(RuleCheckTest, AFieldIsCheckedAgainstTheClassesItsBranchCanMatch) {
  // file.path exists in File System Activity, not in Process Activity.
  const auto ok = check(R"(rules:
  - name: either
    condition: (class_uid = 1007 and process.name = "sh") or (class_uid = 1001 and file.path = "/x")
)");
  EXPECT_TRUE(ok.ok) << ok.text;
  const auto bad = check(R"(rules:
  - name: wrong-branch
    condition: (class_uid = 1007 and file.path = "/x") or class_uid = 1001
)");
  EXPECT_THAT(bad.where, ElementsAre("3:38 unknown-field")) << bad.text;
}

TEST(RuleCheckTest, UnmappedIsFreeFormAndAnyFieldBelowItIsAccepted) {
  const auto c = check(R"(rules:
  - name: verdict
    condition: class_uid = 6002 and unmapped.package.verdict = "mismatch" and unmapped.anything.at.all exists
)");
  EXPECT_TRUE(c.ok) << c.text;
}

TEST(RuleCheckTest, ReportsTypeMismatches) {
  const auto c = check(R"(rules:
  - name: types
    condition: >
      class_uid = 4001 and traffic.bytes_out > "lots"
      and dst_endpoint.hostname > 3 and dst_endpoint.port contains "44"
      and connection_info = "tcp" and is_src_dst_assignment_known = "yes"
)");
  EXPECT_THAT(c.where, ElementsAre("4:48 type-mismatch", "5:33 type-mismatch", "5:59 type-mismatch",
                                   "6:11 type-mismatch", "6:69 type-mismatch"))
      << c.text;
  EXPECT_THAT(c.text, HasSubstr("'dst_endpoint.hostname' is a string; '>' compares numbers"));
  EXPECT_THAT(c.text, HasSubstr("'connection_info' is an object"));
}

TEST(RuleCheckTest, ReportsUnknownListsMacrosAndFunctions) {
  const auto c = check(R"(rules:
  - name: refs
    condition: spawned_exek and process.name in (shellz) and firstseen(process.name)
)");
  EXPECT_THAT(c.where, ElementsAre("3:16 unknown-macro", "3:50 unknown-list", "3:62 unknown-function")) << c.text;
}

TEST(RuleCheckTest, ReportsABadRegexWithRe2sReason) {
  const auto c = check(R"(rules:
  - name: re
    condition: class_uid = 1007 and process.cmd_line regex "(unclosed"
)");
  EXPECT_THAT(c.where, ElementsAre("3:60 bad-regex")) << c.text;
  EXPECT_THAT(c.text, HasSubstr("missing )"));
}

TEST(RuleCheckTest, ReportsABadGlob) {
  const auto c = check(R"(rules:
  - name: g
    condition: class_uid = 1001 and file.path glob "/a/***"
)");
  EXPECT_THAT(c.where, ElementsAre("3:52 bad-glob")) << c.text;
}

TEST(RuleCheckTest, ReportsUnreachableRules) {
  const auto c = check(R"(rules:
  - name: contradiction
    condition: class_uid = 1007 and class_uid = 1001
  - name: never-emitted
    condition: class_uid = 3002
  - name: no-such-class
    condition: class_uid = 9999
)");
  EXPECT_THAT(c.where, ElementsAre("3:16 unreachable-rule", "5:28 unreachable-rule", "7:28 unknown-class")) << c.text;
  EXPECT_THAT(c.text, HasSubstr("Warden never emits this class"));
}

TEST(RuleCheckTest, ReportsAMacroCycleAndASyntaxErrorInAMacroWhereTheyAre) {
  const auto c = check(R"(macros:
  a: b and class_uid = 1007
  b: a
  broken: class_uid = = 1
rules:
  - name: uses-cycle
    condition: a
)");
  EXPECT_FALSE(c.ok);
  EXPECT_THAT(c.where, ::testing::Contains("4:23 syntax-error")) << c.text;
  EXPECT_THAT(c.text, HasSubstr("macro cycle: "));
}

TEST(RuleCheckTest, APositionInsideAFoldedMultiLineConditionPointsAtTheLineItIsOn) {
  const auto c = check(R"(rules:
  - name: folded
    condition: >
      class_uid = 1007
      and activity_id = 1
      and process.parent_process.cmd_lin regex "curl"
)");
  EXPECT_THAT(c.where, ElementsAre("6:11 unknown-field")) << c.text;
}

TEST(RuleCheckTest, ReportsDuplicateNamesAcrossTheFileAndThePack) {
  const auto c = check(R"(lists:
  shells: [fish]
rules:
  - name: pipe-download-to-shell
    condition: class_uid = 1007
  - name: mine
    condition: class_uid = 1007
  - name: mine
    condition: class_uid = 1001
)");
  EXPECT_THAT(c.where, ElementsAre("2:3 duplicate-name", "4:5 duplicate-name", "8:5 duplicate-name")) << c.text;
}

TEST(RuleCheckTest, ALaterFileTurnsOffABuiltInRule) {
  Diagnostics d;
  auto r = RuleSet::compile({RuleSource{"off.yaml", "rules:\n  - name: process-euid-root\n    enabled: false\n"}}, {}, &d);
  ASSERT_TRUE(r.ok()) << d.toString();
  EXPECT_EQ(r.value()->rules().size(), 11u);
  for (const auto& rule : r.value()->rules()) EXPECT_NE(rule.name, "process-euid-root");
  const auto c = check("rules:\n  - name: no-such-rule\n    enabled: false\n");
  EXPECT_THAT(c.where, ElementsAre("2:5 unknown-rule")) << c.text;
}

TEST(RuleCheckTest, WithTheBuiltInRulesOffOnlyTheFilesRulesLoadButThePackMacrosStillResolve) {
  Diagnostics d;
  RuleSetOptions off;
  off.builtin_rules = false;
  auto r = RuleSet::compile({RuleSource{"r.yaml", "rules:\n  - name: x\n    condition: spawned_exec\n"}}, off, &d);
  ASSERT_TRUE(r.ok()) << d.toString();
  ASSERT_EQ(r.value()->rules().size(), 1u);
  EXPECT_EQ(r.value()->rules()[0].name, "x");
}

TEST(RuleCheckTest, SequenceAndThresholdShapesAreChecked) {
  const auto c = check(R"(rules:
  - name: one-step
    sequence: [class_uid = 1001]
    within: 60s
  - name: no-window
    sequence: [class_uid = 1001, class_uid = 4001]
  - name: both
    condition: class_uid = 1001
    sequence: [class_uid = 1001, class_uid = 4001]
    within: 1m
  - name: bad-window
    sequence: [class_uid = 1001, class_uid = 4001]
    within: soon
  - name: bad-same
    sequence: [class_uid = 1001, class_uid = 4001]
    within: 1m
    same: galaxy
  - name: tiny-threshold
    condition: class_uid = 4001
    threshold: 1
    within: 10s
)");
  EXPECT_THAT(c.where, ElementsAre("3:15 bad-value", "5:5 missing-key", "7:5 bad-value", "13:13 bad-value",
                                   "17:11 bad-value", "20:16 bad-value"))
      << c.text;
}

TEST(RuleCheckTest, TitleFieldsAndJoinPathsAreChecked) {
  const auto c = check(R"(rules:
  - name: t
    condition: class_uid = 1007
    title: "ran %{process.nam}"
  - name: j
    sequence: [class_uid = 6003, class_uid = 1007]
    within: 1m
    join: [api.operation, process.nope]
)");
  EXPECT_THAT(c.where, ElementsAre("4:19 unknown-field", "8:27 unknown-field")) << c.text;
}

TEST(RuleCheckTest, AttackIdsMustBeTechniqueOrTacticIds) {
  const auto c = check(R"(rules:
  - name: a
    condition: class_uid = 1007
    attack: [T1059.004, TA0002, X1, T12345]
)");
  EXPECT_THAT(c.where, ElementsAre("4:33 bad-value", "4:37 bad-value")) << c.text;
}

TEST(RuleCheckTest, AFileWithAnyProblemLoadsNothing) {
  Diagnostics d;
  auto r = RuleSet::compile({RuleSource{"good.yaml", "rules:\n  - name: good\n    condition: class_uid = 1007\n"},
                             RuleSource{"bad.yaml", "rules:\n  - name: bad\n    condition: class_uid = \n"}},
                            {}, &d);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), warden::Code::kInvalidArgument);
  ASSERT_EQ(d.entries().size(), 1u);
  EXPECT_EQ(d.entries()[0].file, "bad.yaml");
}

TEST(RuleCheckTest, UnreadableAndOversizedFilesAreReportedWithoutAPosition) {
  testing::TempDir dir;
  Diagnostics d;
  auto r = RuleSet::load({dir / "missing.yaml", dir.path()}, {}, &d);
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(d.entries().size(), 2u);
  EXPECT_EQ(d.entries()[0].code, Code::kUnreadable);
  EXPECT_EQ(d.entries()[1].code, Code::kUnreadable);
  const auto big = dir / "big.yaml";
  testing::writeFile(big, std::string(kMaxRuleFileBytes + 1, '#'));
  Diagnostics d2;
  EXPECT_FALSE(RuleSet::load({big}, {}, &d2).ok());
  ASSERT_EQ(d2.entries().size(), 1u);
  EXPECT_EQ(d2.entries()[0].code, Code::kTooLarge);
}

TEST(RuleCheckTest, AnAliasFloodIsCutOffWithOneDiagnostic) {
  // Each alias is walked again: 200,000 copies of one rule would otherwise all be checked.
  std::string yaml = "rules: [&r {name: a, condition: class_uid = 1007}";
  for (int i = 0; i < 200000; ++i) yaml += ", *r";
  yaml += "]\n";
  const auto c = check(yaml);
  EXPECT_FALSE(c.ok);
  EXPECT_THAT(c.text, HasSubstr("too-large: more than 100000 YAML nodes"));
}

TEST(RuleCheckTest, DiagnosticsAreBoundedAndCountTheRest) {
  std::string yaml = "rules:\n";
  for (int i = 0; i < 300; ++i) yaml += "  - name: r" + std::to_string(i) + "\n    condition: class_uid = 1007 and x" +
                                        std::to_string(i) + " = 1\n";
  Diagnostics d;
  EXPECT_FALSE(RuleSet::compile({RuleSource{"many.yaml", yaml}}, {}, &d).ok());
  EXPECT_EQ(d.entries().size(), Diagnostics::kMaxDiagnostics);
  EXPECT_EQ(d.count(), 300u);
  EXPECT_THAT(d.toString(), HasSubstr("... and 100 more problems"));
}

}  // namespace
}  // namespace warden::detect
