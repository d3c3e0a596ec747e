// The detector beside a real audit pipeline: findings land in the trail after their trigger and
// name it; actions reach the supervisor's callback; events it could not evaluate are counted and
// reported, never silently lost.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "audit/pipeline.h"
#include "audit/spool_sink.h"
#include "detect/live_detector.h"
#include "ocsf/jsonl_formatter.h"
#include "ocsf/shorthand.h"
#include "support/collecting_emitter.h"
#include "support/test_env.h"
#include "trail.h"

namespace warden::detect {
namespace {

using ::testing::HasSubstr;

std::shared_ptr<const RuleSet> packWith(const std::string& yaml) {
  Diagnostics d;
  auto r = RuleSet::compile({RuleSource{"live.yaml", yaml}}, {}, &d);
  EXPECT_TRUE(r.ok()) << d.toString();
  return r.value();
}

TEST(LiveDetectorTest, FindingsAreWrittenAfterTheirTriggerAndActionsReachTheSupervisor) {
  warden::testing::TempDir dir;
  const ocsf::SessionContext ctx = ocsf::sampleContext();
  std::mutex mu;
  std::vector<RuleAction> actions;
  LiveDetectorOptions dopt;
  dopt.session = ctx;
  dopt.on_action = [&](const RuleAction& a) {
    std::lock_guard<std::mutex> lock(mu);
    actions.push_back(a);
  };
  auto det = LiveDetector::start(
      packWith("rules:\n  - name: no-sudo\n    condition: spawned_exec and process.name = \"sudo\"\n    action: kill\n"),
      dopt);
  ASSERT_TRUE(det.ok()) << det.error().toString();
  LiveDetector* d = det.value().get();

  audit::PipelineOptions popt;
  popt.log_dir = dir.path();
  popt.session = ctx;
  popt.jsonl_enabled = true;
  popt.sinks.push_back(
      std::make_shared<audit::CallbackSink>("detection rules", [d](const audit::SinkBatch& b) { d->submit(b); }));
  auto pipeline = audit::Pipeline::start(std::move(popt));
  ASSERT_TRUE(pipeline.ok()) << pipeline.error().toString();
  d->attach(*pipeline.value());

  ocsf::FileAccess fa;
  fa.activity = ocsf::FileActivity::kUpdate;
  fa.actor = test::proc("python3", 42, "python3 x.py");
  fa.file.path = "/home/agent/.ssh/authorized_keys";
  pipeline.value()->emit(ocsf::fileActivity(ctx, test::kStart, fa));
  pipeline.value()->emit(ocsf::procLaunch(ctx, test::kStart + 1, test::proc("sudo", 43, "sudo id"), {"sudo", "id"}));

  auto& p = *pipeline.value();
  ASSERT_TRUE(d->drain([&] {
    const auto s = p.stats();
    return s.written + s.shed >= s.emitted;
  }, std::chrono::seconds(10)));
  d->close();
  ASSERT_TRUE(p.close().ok());

  // The trail: each finding comes after its trigger and names the trigger's uid and sequence.
  std::istringstream jsonl(warden::testing::readFile(dir / "warden-ocsf.log"));
  std::map<uint64_t, nlohmann::json> by_seq;
  for (std::string line; std::getline(jsonl, line);) {
    auto j = nlohmann::json::parse(line);
    by_seq[j["metadata"]["sequence"].get<uint64_t>()] = j;
  }
  int findings = 0;
  for (const auto& [seq, j] : by_seq) {
    if (j["class_uid"] != 2004) continue;
    ++findings;
    const uint64_t trigger = j["evidences"][0]["data"]["sequence"];
    ASSERT_TRUE(by_seq.count(trigger)) << j.dump();
    EXPECT_LT(trigger, seq);
    EXPECT_EQ(j["evidences"][0]["uid"], by_seq[trigger]["metadata"]["uid"]);
  }
  EXPECT_EQ(findings, 2);
  const std::string log = warden::testing::readFile(dir / "warden.log");
  EXPECT_THAT(log, HasSubstr(" OCSF FINDING:CREATED [HIGH] \"Credential file written: /home/agent/.ssh/authorized_keys\" "
                             "[rule:credential-file-write]"));
  EXPECT_THAT(log, HasSubstr(" OCSF FINDING:CREATED [MED] \"no-sudo\" [rule:no-sudo action:kill]"));
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(actions[0].kind, ActionKind::kAlert);
  EXPECT_EQ(actions[1].kind, ActionKind::kKill);
  EXPECT_EQ(actions[1].rule, "no-sudo");
  EXPECT_EQ(actions[1].session_id, ctx.session_id);
  EXPECT_GT(actions[1].trigger_sequence, 0u);
  EXPECT_EQ(d->stats().skipped, 0u);
}

TEST(LiveDetectorTest, EventsItCannotQueueAreCountedAndReportedWithTheirSequenceWindow) {
  const ocsf::SessionContext ctx = ocsf::sampleContext();
  std::mutex mu;
  std::condition_variable cv;
  bool in_action = false;
  bool release = false;
  LiveDetectorOptions dopt;
  dopt.session = ctx;
  dopt.queue_capacity = 2;
  dopt.on_action = [&](const RuleAction&) {
    std::unique_lock<std::mutex> lock(mu);
    in_action = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });  // holds the detector's thread: its queue fills
  };
  auto det = LiveDetector::start(packWith("rules: [{name: any-proc, condition: class_uid = 1007}]"), dopt);
  ASSERT_TRUE(det.ok());
  warden::testing::CollectingEmitter emitter;
  det.value()->attach(emitter);
  test::Trail t(ctx);
  for (int i = 0; i < 6; ++i) t.launch(test::proc("sh", 200 + i));
  det.value()->submit(1, t.lines()[0]);
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return in_action; }));
  }
  for (uint64_t seq = 2; seq <= 6; ++seq) det.value()->submit(seq, t.lines()[seq - 1]);  // 2 fit, 3 do not
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  det.value()->close();
  const auto stats = det.value()->stats();
  EXPECT_EQ(stats.submitted, 6u);
  EXPECT_EQ(stats.skipped, 3u);
  EXPECT_EQ(stats.evaluated, 3u);
  EXPECT_EQ(stats.findings, 3u);
  // Three findings and one report, which names the count and the sequences it covers.
  const auto events = emitter.events();
  ASSERT_EQ(events.size(), 4u);
  const ocsf::Event* report = nullptr;
  for (const auto& e : events) {
    if (e.activity_name == "Detection Skipped") report = &e;
  }
  ASSERT_NE(report, nullptr);
  EXPECT_EQ(ocsf::toShorthand(*report).rfind("EVENT:DETECTION_SKIPPED [HIGH] 3 events were not evaluated by the detection rules", 0), 0u)
      << ocsf::toShorthand(*report);
  const ocsf::Value* skipped = report->unmapped.find("detection_skipped");
  ASSERT_NE(skipped, nullptr);
  EXPECT_EQ(skipped->find("count")->asInt(), 3);
  EXPECT_EQ(skipped->find("first_seq")->asInt(), 4);
  EXPECT_EQ(skipped->find("last_seq")->asInt(), 6);
  // After close nothing is queued, and that is counted too.
  det.value()->submit(7, t.lines()[0]);
  EXPECT_EQ(det.value()->stats().after_close, 1u);
}

}  // namespace
}  // namespace warden::detect
