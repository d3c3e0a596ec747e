// verifyStoredSession: a session's chained, signed JSONL pushed to a real in-process gateway verifies
// as it does from files; a stored event changed or deleted in the database is named by sequence.

#include "gateway/client/verify_stored_session.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

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
  sql("UPDATE events SET json = substr(json, 1, length(json) - 1) || ',\"injected\":1}' WHERE session_id = "
      "'" +
      log.sessionId() + "' AND sequence = 700");
  const auto report = verify(log.sessionId());
  EXPECT_FALSE(report.ok());
  EXPECT_TRUE(hasFinding(report, audit::FindingKind::kModified, 700)) << audit::formatReportText(report);
}

TEST_F(VerifyStoredSessionTest, AStoredEventDeletedFromTheDatabaseIsReportedMissing) {
  const auto log = warden::testing::standardLog(1500);
  store(log, log.publicKeyHex());
  sql("DELETE FROM events WHERE session_id = '" + log.sessionId() + "' AND sequence = 321");
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

TEST_F(VerifyStoredSessionTest, AnUnknownSessionIsNotFound) {
  auto r = verifyStoredSession(*client_, "no-such-session", audit::VerifyOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kNotFound);
}

}  // namespace
}  // namespace warden::gateway
