// verifyStoredSession: a session's chained, signed JSONL pushed to a real in-process gateway verifies
// as it does from files; a stored event changed or deleted in the database is named by sequence.

#include "gateway/client/verify_stored_session.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>

#include "audit/verify_report.h"
#include "gateway/client/operator_log_dir.h"
#include "operator_test_util.h"
#include "support/chain_log_writer.h"

namespace warden::gateway {
namespace {

using ::testing::HasSubstr;

class VerifyStoredSessionTest : public OperatorGatewayTest {
 protected:
  // Registers the writer's session with its public key and pushes every line as a stored event.
  void store(const warden::testing::ChainLogWriter& log, const std::string& registered_key) {
    const std::string token = registerSession(log.sessionId(), "verify", registered_key);
    std::vector<v1::StoredEvent> evs;
    for (const std::string& line : log.lines()) {
      const auto j = nlohmann::json::parse(line);
      v1::StoredEvent e;
      e.set_session_id(log.sessionId());
      e.set_sequence(j["metadata"]["sequence"].get<uint64_t>());
      e.set_time_ms(j["time"].get<int64_t>());
      e.set_json(line);
      e.set_shorthand(jsonEventClass(line) + ":STORED [INFO] seq " + std::to_string(e.sequence()));
      evs.push_back(std::move(e));
    }
    ASSERT_EQ(push(log.sessionId(), token, evs), log.lastSequence());
  }

  audit::VerifyReport verify(const std::string& session) {
    auto r = verifyStoredSession(*client_, session, audit::VerifyOptions{});
    EXPECT_TRUE(r.ok()) << r.error().toString();
    return r.ok() ? std::move(*r) : audit::VerifyReport{};
  }

  static bool hasFinding(const audit::VerifyReport& r, audit::FindingKind kind, uint64_t seq) {
    for (const auto& f : r.findings) {
      if (f.kind == kind && f.sequence <= seq && seq <= std::max(f.sequence, f.last_sequence)) return true;
    }
    return false;
  }
};

TEST_F(VerifyStoredSessionTest, AnIntactStoredSessionVerifiesWithTheRegisteredKey) {
  const auto log = warden::testing::standardLog(2500);
  store(log, log.publicKeyHex());
  const auto report = verify(log.sessionId());
  EXPECT_TRUE(report.ok()) << audit::formatReportText(report);
  EXPECT_EQ(report.events, log.lastSequence());
  EXPECT_TRUE(report.final_checkpoint);
  EXPECT_EQ(report.key_source, audit::KeySource::kGiven);
  EXPECT_THAT(report.key_origin, HasSubstr("registered"));
  EXPECT_EQ(report.signed_checkpoints, report.checkpoints);
  EXPECT_GT(report.checkpoints, 2u);
}

TEST_F(VerifyStoredSessionTest, WithoutARegisteredKeyTheLogStartKeyIsTrustedOnFirstUse) {
  const auto log = warden::testing::standardLog(300);
  store(log, "");
  const auto report = verify(log.sessionId());
  EXPECT_TRUE(report.ok()) << audit::formatReportText(report);
  EXPECT_EQ(report.key_source, audit::KeySource::kFromLog);
}

TEST_F(VerifyStoredSessionTest, AStoredEventChangedInTheDatabaseIsNamedBySequence) {
  const auto log = warden::testing::standardLog(1500);
  store(log, log.publicKeyHex());
  // A session this short is stored uncompressed (dict 0: body is the JSON).
  sql("UPDATE event_rows SET body = CAST(substr(CAST(body AS TEXT), 1, length(body) - 1) || ',\"injected\":1}' AS "
      "BLOB) WHERE dict = 0 AND sid = (SELECT sid FROM streams WHERE session_id = '" +
      log.sessionId() + "') AND seq = 700");
  const auto report = verify(log.sessionId());
  EXPECT_FALSE(report.ok());
  EXPECT_TRUE(hasFinding(report, audit::FindingKind::kModified, 700)) << audit::formatReportText(report);
}

TEST_F(VerifyStoredSessionTest, AStoredEventDeletedFromTheDatabaseIsReportedMissing) {
  const auto log = warden::testing::standardLog(1500);
  store(log, log.publicKeyHex());
  sql("DELETE FROM event_rows WHERE sid = (SELECT sid FROM streams WHERE session_id = '" + log.sessionId() +
      "') AND seq = 321");
  const auto report = verify(log.sessionId());
  EXPECT_FALSE(report.ok());
  EXPECT_TRUE(hasFinding(report, audit::FindingKind::kMissing, 321)) << audit::formatReportText(report);
}

TEST_F(VerifyStoredSessionTest, ARegisteredKeyThatIsNotTheLogsKeyFails) {
  const auto log = warden::testing::standardLog(300);
  const auto other = warden::testing::standardLog(1);
  store(log, other.publicKeyHex());
  const auto report = verify(log.sessionId());
  EXPECT_FALSE(report.ok());
  bool wrong_key = false;
  for (const auto& f : report.findings) wrong_key |= f.kind == audit::FindingKind::kWrongKey;
  EXPECT_TRUE(wrong_key) << audit::formatReportText(report);
}

// A gateway whose retention keeps at most 1 byte of events: every pass deletes all it may (each
// session's LOG:START, checkpoints and retention records stay).
class VerifyAfterRetentionTest : public VerifyStoredSessionTest {
 protected:
  void configure(GatewayServerOptions& o) override {
    o.retention_max_bytes = 1;
    o.retention_interval_ms = 50;
  }
  // How many events of `session` the LOG:DELETE records stored in the gateway's trail account for.
  uint64_t recordedDeletions(const std::string& session) {
    auto trail = server_->store().query({.session = server_->gatewaySessionId(), .limit = kMaxQueryLimit});
    uint64_t count = 0;
    if (!trail.ok()) return 0;
    for (const auto& e : *trail) {
      const auto j = nlohmann::json::parse(e.json, nullptr, false);
      if (!j.is_object() || !j.contains("unmapped") || !j["unmapped"].contains("retention")) continue;
      const auto& r = j["unmapped"]["retention"];
      if (r.value("session_id", "") == session) count += r.value("count", uint64_t{0});
    }
    return count;
  }

  // Stores `log`, then waits until retention has deleted its events and its records of that are
  // stored (the gateway stores its own trail asynchronously).
  void storeAndExpire(const warden::testing::ChainLogWriter& log) {
    store(log, log.publicKeyHex());
    ASSERT_TRUE(warden::testing::waitFor(
        [&] {
          auto left = server_->store().query({.session = log.sessionId(), .limit = kMaxQueryLimit});
          return left.ok() && left->size() < log.lastSequence() / 100 &&
                 recordedDeletions(log.sessionId()) == log.lastSequence() - left->size();
        },
        std::chrono::seconds(20)));
  }
};

TEST_F(VerifyAfterRetentionTest, EventsDeletedByRetentionAreAWarningAndTheCheckpointsStillVerify) {
  const auto log = warden::testing::standardLog(2500);
  storeAndExpire(log);
  const auto report = verify(log.sessionId());
  EXPECT_TRUE(report.ok()) << audit::formatReportText(report);
  EXPECT_TRUE(hasFinding(report, audit::FindingKind::kGap, 500)) << audit::formatReportText(report);
  EXPECT_THAT(audit::formatReportText(report), HasSubstr("deleted by retention (LOG:DELETE seq "));
  // The kept checkpoints are still checked: head against their own prev, signature against the
  // registered key (a deleted predecessor leaves them unlinked, so they are not counted as signed).
  EXPECT_GE(report.checkpoints, 2u);
  for (const auto& f : report.findings) {
    EXPECT_NE(f.kind, audit::FindingKind::kBadSignature) << f.message;
    EXPECT_NE(f.kind, audit::FindingKind::kBadCheckpoint) << f.message;
  }
  EXPECT_TRUE(report.final_checkpoint);
}

TEST_F(VerifyAfterRetentionTest, AKeptCheckpointRemovedInsideADeletedRangeIsStillReported) {
  const auto log = warden::testing::standardLog(2500);
  storeAndExpire(log);
  auto kept = server_->store().query({.session = log.sessionId(), .limit = kMaxQueryLimit});
  ASSERT_TRUE(kept.ok());
  ASSERT_GE(kept->size(), 3u);
  const uint64_t checkpoint = (*kept)[1].sequence;  // after LOG:START: the first kept checkpoint
  sql("DELETE FROM event_rows WHERE sid = (SELECT sid FROM streams WHERE session_id = '" + log.sessionId() +
      "') AND seq = " + std::to_string(checkpoint));
  const auto report = verify(log.sessionId());
  EXPECT_FALSE(report.ok()) << audit::formatReportText(report);
  // Inside one recorded range the removal shows as one more missing than deleted; between two
  // ranges (retention ran while the batches were arriving) as the checkpoint's own seq missing.
  const std::string text = audit::formatReportText(report);
  EXPECT_TRUE(text.find("1 were removed otherwise") != std::string::npos ||
              hasFinding(report, audit::FindingKind::kMissing, checkpoint))
      << text;
}

TEST_F(VerifyStoredSessionTest, AnUnknownSessionIsNotFound) {
  auto r = verifyStoredSession(*client_, "no-such-session", audit::VerifyOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kNotFound);
}

}  // namespace
}  // namespace warden::gateway
