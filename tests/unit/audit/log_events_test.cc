#include "audit/log_events.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "audit_test_util.h"
#include "ocsf/jsonl_formatter.h"
#include "ocsf/schema.h"
#include "ocsf/shorthand.h"
#include "ocsf/validator.h"
#include "support/test_env.h"

namespace warden::audit {
namespace {

using testutil::kNoon;
using testutil::testSession;

class LogEventsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto loaded = ocsf::Schema::load(warden::testing::schemaPath());
    if (loaded.ok()) schema_ = new ocsf::Schema(std::move(loaded).value());
  }
  static void TearDownTestSuite() {
    delete schema_;
    schema_ = nullptr;
  }
  void SetUp() override {
    if (schema_ == nullptr) GTEST_SKIP() << "schema not found at " << warden::testing::schemaPath();
  }
  // Problems with the event as written (sequence and prev filled as the writer would).
  static std::string problems(ocsf::Event e) {
    e.metadata.sequence = 7;
    e.integrity_prev = std::string(64, 'a');
    std::string out;
    for (const auto& p : ocsf::Validator(*schema_).validateLine(ocsf::toJsonl(e))) {
      out.append(p.path).append(": ").append(p.message).append("\n");
    }
    return out;
  }
  static ocsf::Schema* schema_;
};
ocsf::Schema* LogEventsTest::schema_ = nullptr;

TEST_F(LogEventsTest, EveryPipelineEventIsValidOcsf) {
  const auto s = testSession();
  EXPECT_EQ(problems(logStartEvent(s, kNoon, std::string(64, 'b'), "0123456789abcdef")), "");
  EXPECT_EQ(problems(checkpointEvent(s, kNoon, CheckpointFacts{.first_seq = 1, .last_seq = 1000,
                                                               .head_hex = std::string(64, 'c'),
                                                               .key_id = "0123456789abcdef",
                                                               .signature_hex = std::string(128, 'd'),
                                                               .final = true})),
            "");
  EXPECT_EQ(problems(lossEvent(s, kNoon, LossFacts{.count = 5, .first_seq = 10, .last_seq = 20, .operational_lines = 1})),
            "");
  EXPECT_EQ(problems(rotateEvent(s, kNoon, "daily", {{"warden.log", "warden.log.2026-11-23"}}, 1)), "");
  const WriteFailureFacts wf{.file = "warden.log", .error = "No space left on device", .since = kNoon,
                             .lines_delayed = 3, .lines_lost = 1};
  EXPECT_EQ(problems(writeFailureEvent(s, kNoon, wf)), "");
  EXPECT_EQ(problems(writeRecoveredEvent(s, kNoon, wf)), "");
  EXPECT_EQ(problems(jsonlConfigEvent(s, kNoon, true, 4)), "");
  EXPECT_EQ(problems(jsonlConfigEvent(s, kNoon, true, std::nullopt, "Permission denied")), "");
  const GatewayLinkFacts g{.gateway = "127.0.0.1:7443", .error = "connection refused", .since = kNoon,
                           .down_ms = 30000, .pending = 12};
  EXPECT_EQ(problems(gatewayUnreachableEvent(s, kNoon, g)), "");
  EXPECT_EQ(problems(gatewayReconnectedEvent(s, kNoon, g)), "");
  EXPECT_EQ(problems(retentionEvent(s, kNoon, RetentionFacts{.session_id = "s1", .count = 10, .first_seq = 2,
                                                              .last_seq = 11, .cutoff_ms = kNoon, .max_bytes = 1024})),
            "");
  const SinkFacts sink{.sink = "syslog+tcp://siem.example:6514", .error = "connection refused", .since = kNoon,
                       .down_ms = 10000, .pending = 40, .skipped = 7, .first_seq = 100, .last_seq = 106};
  EXPECT_EQ(problems(sinkUnreachableEvent(s, kNoon, sink)), "");
  EXPECT_EQ(problems(sinkReconnectedEvent(s, kNoon, sink)), "");
  EXPECT_EQ(problems(sinkOverflowEvent(s, kNoon, sink)), "");
  EXPECT_EQ(problems(budgetExhaustedEvent(s, kNoon, BudgetFacts{.max_events = 1000, .max_bytes = 0, .events = 1000,
                                                                .bytes = 1500000, .action = "stop"})),
            "");
  EXPECT_EQ(problems(lossEvent(s, kNoon, LossFacts{.count = 0, .first_seq = 10, .last_seq = 20,
                                                   .operational_lines = 0, .refused_over_budget = 5})),
            "");
}

TEST_F(LogEventsTest, CoalescedSummaryOfADenialIsValidOcsf) {
  ocsf::Event e = ocsf::netOpen(testSession(), kNoon,
                                ocsf::Connection{.actor = ocsf::Process{.name = "curl", .pid = 64},
                                                 .dst = ocsf::Endpoint{.hostname = "evil.example", .port = 443}},
                                ocsf::Decision{.action = ocsf::Action::kDenied, .rule = "-", .engine = "policy",
                                               .reason = "no policy allows evil.example:443"});
  e.count = 1234;
  e.start_time = kNoon;
  e.end_time = kNoon + 999;
  ocsf::Value coalesced = ocsf::Value::object();
  coalesced.set("window_ms", 1000);
  coalesced.set("first_uid", "01a24b72-867c-784a-8dca-53bc9923561f");
  e.unmapped.set("coalesced", std::move(coalesced));
  EXPECT_EQ(problems(e), "");
}

TEST(LogEventsShorthandTest, SinkAndBudgetEventsReadAsOneLineEach) {
  const auto s = testSession();
  const SinkFacts sink{.sink = "syslog+tcp://siem.example:6514", .error = "connection refused", .since = kNoon,
                       .down_ms = 10000, .pending = 40, .skipped = 7, .first_seq = 100, .last_seq = 106};
  EXPECT_EQ(ocsf::toShorthand(sinkUnreachableEvent(s, kNoon, sink)),
            "LOG:SINK_UNREACHABLE [MED] syslog+tcp://siem.example:6514 unreachable: connection refused; 40 events wait "
            "in its spool");
  EXPECT_EQ(ocsf::toShorthand(sinkReconnectedEvent(s, kNoon, sink)),
            "LOG:SINK_RECONNECTED [INFO] syslog+tcp://siem.example:6514 reachable again after 10000 ms; 40 events to "
            "deliver");
  EXPECT_EQ(ocsf::toShorthand(sinkOverflowEvent(s, kNoon, sink)),
            "LOG:SINK_OVERFLOW [HIGH] syslog+tcp://siem.example:6514 skipped 7 (seq 100-106): connection refused; the "
            "session's files hold them");
  EXPECT_EQ(ocsf::toShorthand(budgetExhaustedEvent(s, kNoon, BudgetFacts{.max_events = 1000, .max_bytes = 0,
                                                                         .events = 1000, .bytes = 1500000,
                                                                         .action = "stop"})),
            "LOG:BUDGET_EXHAUSTED [CRIT] session log budget reached (1000 events): 1000 events, 1500000 bytes "
            "written; action: stop");
  EXPECT_EQ(ocsf::toShorthand(lossEvent(s, kNoon, LossFacts{.count = 3, .first_seq = 10, .last_seq = 20,
                                                            .operational_lines = 0, .refused_over_budget = 5})),
            "LOG:LOSS [HIGH] [count:3 seq:10-20 refused:5]");
}

TEST(LogEventsShorthandTest, GatewayAndRetentionEventsReadAsOneLineEach) {
  const auto s = testSession();
  const GatewayLinkFacts g{.gateway = "127.0.0.1:7443", .error = "connection refused", .since = kNoon,
                           .down_ms = 30000, .pending = 12};
  EXPECT_EQ(ocsf::toShorthand(gatewayUnreachableEvent(s, kNoon, g)),
            "LOG:GATEWAY_UNREACHABLE [MED] gateway 127.0.0.1:7443 unreachable: connection refused; events kept in the "
            "spool");
  EXPECT_EQ(ocsf::toShorthand(gatewayReconnectedEvent(s, kNoon, g)),
            "LOG:GATEWAY_RECONNECTED [INFO] gateway 127.0.0.1:7443 reachable again after 30000 ms; 12 spooled events "
            "to resend");
  EXPECT_EQ(ocsf::toShorthand(retentionEvent(s, kNoon, RetentionFacts{.session_id = "s1", .count = 10,
                                                                       .first_seq = 2, .last_seq = 11})),
            "LOG:DELETE [INFO] retention deleted 10 events of session s1 (seq 2-11); checkpoints kept");
}

TEST(LogEventsShorthandTest, CheckpointAndLossReadAsEventsMdShowsThem) {
  const auto s = testSession();
  auto cp = checkpointEvent(s, kNoon, CheckpointFacts{.first_seq = 1, .last_seq = 5000, .head_hex = "ab12cd34ef",
                                                      .key_id = "5f1e0000", .signature_hex = "00", .final = false});
  EXPECT_EQ(ocsf::toShorthand(cp), "LOG:CHECKPOINT [INFO] [seq:1-5000 head:ab12cd34 key:5f1e]");
  auto loss = lossEvent(s, kNoon, LossFacts{.count = 12, .first_seq = 40, .last_seq = 90, .operational_lines = 0});
  EXPECT_EQ(ocsf::toShorthand(loss), "LOG:LOSS [HIGH] [count:12 seq:40-90]");
  auto cfg = jsonlConfigEvent(s, kNoon, true, 4);
  EXPECT_EQ(ocsf::toShorthand(cfg), "CONFIG:UPDATED [INFO] OCSF JSONL output enabled [config_revision:4]");
}

TEST(LogEventsTest2, FillsOnlyWhatAProducerLeftEmpty) {
  ocsf::Event e;
  e.time = kNoon;
  e.metadata.correlation_uid = "other";
  fillMissingSessionFields(e, testSession());
  EXPECT_EQ(e.metadata.correlation_uid, "other");
  EXPECT_EQ(e.metadata.uid.size(), 36u);
  ASSERT_TRUE(e.device.has_value());
  EXPECT_EQ(e.device->hostname, "host1");
  ASSERT_TRUE(e.device->container.has_value());
  EXPECT_EQ(e.device->container->uid, testSession().session_id);
}

}  // namespace
}  // namespace warden::audit
