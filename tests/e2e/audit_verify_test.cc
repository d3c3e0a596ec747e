// `warden audit verify` as a user runs it: the built binary on files written to a temp dir.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "audit/signer.h"
#include "support/chain_log_writer.h"
#include "support/test_env.h"

namespace warden {
namespace {

using ::testing::HasSubstr;
using warden::testing::ChainLogWriter;
using warden::testing::runCommand;
using warden::testing::TempDir;
using warden::testing::wardenBinary;
using warden::testing::writeFile;

class AuditVerifyE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { log_ = new ChainLogWriter(warden::testing::standardLog(3000)); }
  static void TearDownTestSuite() {
    delete log_;
    log_ = nullptr;
  }

  std::string verify(const std::string& args) { return wardenBinary().string() + " audit verify " + args; }

  TempDir dir_;
  static ChainLogWriter* log_;
};

ChainLogWriter* AuditVerifyE2eTest::log_ = nullptr;

TEST_F(AuditVerifyE2eTest, IntactLogExitsZeroWithOkSummary) {
  writeFile(dir_ / "warden-ocsf.log", log_->text());
  const auto r = runCommand(verify((dir_ / "warden-ocsf.log").string()));
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("ok: 3005 events, 4 checkpoints"));
  EXPECT_THAT(r.output, HasSubstr("session " + log_->sessionId()));
  EXPECT_THAT(r.output, HasSubstr("trust on first use"));
}

TEST_F(AuditVerifyE2eTest, SessionDirectoryIsAcceptedAsPath) {
  writeFile(dir_ / "warden-ocsf.log", log_->text());
  writeFile(dir_ / "warden.log", "2026-11-23T10:00:00.000Z INFO audit: shorthand, not verified\n");
  const auto r = runCommand(verify(dir_.path().string()));
  EXPECT_EQ(r.status, 0) << r.output;
}

TEST_F(AuditVerifyE2eTest, ModifiedLineExitsOneNamingItsSequence) {
  auto lines = log_->lines();
  const size_t at = lines[1999].find("\"time\":");
  lines[1999][at + 8] = lines[1999][at + 8] == '9' ? '8' : '9';
  writeFile(dir_ / "warden-ocsf.log", ChainLogWriter::join(lines));
  const auto r = runCommand(verify((dir_ / "warden-ocsf.log").string()));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("modified: seq 2000 at "));
  EXPECT_THAT(r.output, HasSubstr("warden-ocsf.log:2000"));
  EXPECT_THAT(r.output, HasSubstr("FAILED: 1 problem"));
}

TEST_F(AuditVerifyE2eTest, JsonOutputIsOneParsableReport) {
  auto lines = log_->lines();
  lines.erase(lines.begin() + 1499);
  writeFile(dir_ / "warden-ocsf.log", ChainLogWriter::join(lines));
  const auto r = runCommand(verify((dir_ / "warden-ocsf.log").string() + " --json 2>/dev/null"));
  EXPECT_EQ(r.status, 1) << r.output;
  const auto j = nlohmann::json::parse(r.output, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.output;
  EXPECT_EQ(j["ok"], false);
  ASSERT_EQ(j["problems"].size(), 1u);
  EXPECT_EQ(j["problems"][0]["kind"], "missing");
  EXPECT_EQ(j["problems"][0]["sequence"], 1500);
}

TEST_F(AuditVerifyE2eTest, KeyFileOfTheSessionVerifies) {
  writeFile(dir_ / "warden-ocsf.log", log_->text());
  writeFile(dir_ / "session.pub", log_->publicKeyHex() + "\n");
  const auto r = runCommand(verify((dir_ / "warden-ocsf.log").string() + " --key " + (dir_ / "session.pub").string()));
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("from " + (dir_ / "session.pub").string()));
  EXPECT_THAT(r.output, ::testing::Not(HasSubstr("trust on first use")));
}

TEST_F(AuditVerifyE2eTest, KeyFileOfAnotherSessionIsWrongKey) {
  auto other = audit::Signer::generate();
  ASSERT_TRUE(other.ok());
  writeFile(dir_ / "warden-ocsf.log", log_->text());
  writeFile(dir_ / "other.pub", other->publicKeyHex() + "\n");
  const auto r = runCommand(verify((dir_ / "warden-ocsf.log").string() + " --key " + (dir_ / "other.pub").string()));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("wrong key: "));
}

TEST_F(AuditVerifyE2eTest, MissingFileExitsOneWithAClearMessage) {
  const auto r = runCommand(verify((dir_ / "nope.log").string()));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("no such file or directory"));
}

TEST_F(AuditVerifyE2eTest, NoPathIsAUsageError) {
  const auto r = runCommand(verify(""));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("PATH"));
}

TEST_F(AuditVerifyE2eTest, UnknownOptionIsAUsageError) {
  writeFile(dir_ / "warden-ocsf.log", log_->text());
  const auto r = runCommand(verify((dir_ / "warden-ocsf.log").string() + " --frobnicate"));
  EXPECT_EQ(r.status, 2) << r.output;
}

TEST_F(AuditVerifyE2eTest, UnreadableKeyFileIsAUsageError) {
  writeFile(dir_ / "warden-ocsf.log", log_->text());
  writeFile(dir_ / "bad.pub", "not a key\n");
  auto r = runCommand(verify((dir_ / "warden-ocsf.log").string() + " --key " + (dir_ / "missing.pub").string()));
  EXPECT_EQ(r.status, 2) << r.output;
  r = runCommand(verify((dir_ / "warden-ocsf.log").string() + " --key " + (dir_ / "bad.pub").string()));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("64 hex digits"));
}

TEST_F(AuditVerifyE2eTest, AuditWithoutSubcommandIsAUsageError) {
  const auto r = runCommand(wardenBinary().string() + " audit");
  EXPECT_EQ(r.status, 2) << r.output;
}

TEST_F(AuditVerifyE2eTest, HelpExitsZero) {
  const auto r = runCommand(verify("--help"));
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("--key"));
}

}  // namespace
}  // namespace warden
