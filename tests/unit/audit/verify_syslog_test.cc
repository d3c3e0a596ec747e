// `warden audit verify --from-syslog`: the JSON taken from each syslog line and verified like the
// session's own JSONL, duplicate deliveries tolerated.

#include "audit/verify_syslog.h"

#include <gtest/gtest.h>

#include "audit/pipeline.h"
#include "audit/verify_files.h"
#include "audit/verify_report.h"
#include "audit_test_util.h"
#include "support/test_env.h"

namespace warden::audit {
namespace {

using testutil::fileLines;
using testutil::kNoon;
using testutil::testEvent;
using testutil::testOptions;
using warden::testing::TempDir;
using warden::testing::writeFile;

// A closed session's JSONL lines (LOG:START, `n` events, the final checkpoint).
std::vector<std::string> sessionLines(const std::filesystem::path& dir, int n) {
  ManualClock clock(kNoon);
  PipelineOptions options = testOptions(dir, clock);
  options.jsonl_enabled = true;
  auto pipeline = Pipeline::start(std::move(options));
  EXPECT_TRUE(pipeline.ok());
  for (int i = 0; i < n; ++i) (*pipeline)->emit(testEvent(kNoon, "event " + std::to_string(i)));
  EXPECT_TRUE((*pipeline)->close().ok());
  return fileLines(dir / "warden-ocsf.log").lines;
}

std::string rfc5424(const std::string& json, size_t seq) {
  return "<110>1 2026-11-23T12:00:00.000Z host1 warden 42 EVENT [warden@32473 session=\"s\\]x\" seq=\"" +
         std::to_string(seq) + "\"] " + json;
}

size_t countKind(const VerifyReport& r, FindingKind kind) {
  size_t n = 0;
  for (const auto& f : r.findings) n += f.kind == kind;
  return n;
}

TEST(VerifySyslogTest, TheJsonIsWhatFollowsWardensStructuredDataOrTheFirstBrace) {
  EXPECT_EQ(syslogMessageJson(R"(<110>1 T h warden 1 X [warden@32473 session="a\"]{" seq="2"] {"a":1})"), R"({"a":1})");
  EXPECT_EQ(syslogMessageJson("{\"a\":1}\r"), "{\"a\":1}");
  EXPECT_EQ(syslogMessageJson("Nov 23 12:00:00 host1 warden[42]: {\"a\":1}"), "{\"a\":1}");
  EXPECT_EQ(syslogMessageJson("no json here"), "no json here");
  // The structured data's text inside the JSON itself (an agent's command line) is not a header.
  const std::string echoed = R"({"cmd_line":"echo [warden@32473 session="x" seq="1"] {}","seq":1})";
  EXPECT_EQ(syslogMessageJson(echoed), echoed);
  EXPECT_EQ(syslogMessageJson(R"(<110>1 T h warden 1 X [warden@32473 session="s" seq="2"] )" + echoed), echoed);
  EXPECT_EQ(syslogMessageJson("[warden@32473 session=\"unterminated"), "[warden@32473 session=\"unterminated");
}

TEST(VerifySyslogTest, ACopyWithResentDuplicatesVerifiesAndCountsThem) {
  TempDir dir;
  const auto lines = sessionLines(dir / "log", 50);
  ASSERT_GT(lines.size(), 50u);
  std::string file;
  for (size_t i = 0; i < 30; ++i) file += rfc5424(lines[i], i + 1) + "\n";
  for (size_t i = 20; i < lines.size(); ++i) file += rfc5424(lines[i], i + 1) + "\n";  // 20..29 resent
  writeFile(dir / "siem.log", file);
  const VerifyReport syslog = verifySyslogFiles({(dir / "siem.log").string()}, {});
  const VerifyReport own = verifyPaths({(dir / "log" / "warden-ocsf.log").string()}, {});
  EXPECT_TRUE(syslog.ok());
  EXPECT_EQ(syslog.ok(), own.ok());
  EXPECT_EQ(syslog.events, own.events);
  EXPECT_TRUE(syslog.final_checkpoint);
  ASSERT_EQ(countKind(syslog, FindingKind::kDuplicate), 1u);
  for (const auto& f : syslog.findings) {
    if (f.kind == FindingKind::kDuplicate) {
      EXPECT_EQ(f.message, "10 duplicate deliveries (identical copies of sequences in 21-30) skipped");
    }
  }
}

TEST(VerifySyslogTest, AnEditedMessageFailsNamingItsLineInTheSyslogFile) {
  TempDir dir;
  auto lines = sessionLines(dir / "log", 20);
  std::string file;
  for (size_t i = 0; i < 10; ++i) file += rfc5424(lines[i], i + 1) + "\n";
  for (size_t i = 5; i < lines.size(); ++i) {
    std::string json = lines[i];
    if (i == 12) json.replace(json.find("event 1"), 7, "event X");
    file += rfc5424(json, i + 1) + "\n";
  }
  writeFile(dir / "siem.log", file);
  const VerifyReport r = verifySyslogFiles({(dir / "siem.log").string()}, {});
  EXPECT_FALSE(r.ok());
  bool named = false;
  // Line 18 of the file: 10 lines, then the resend from sequence 6, so sequence 13 is line 18.
  for (const auto& f : r.findings) named |= f.kind == FindingKind::kModified && f.line == 18;
  EXPECT_TRUE(named) << formatReportText(r);
}

TEST(VerifySyslogTest, ADuplicateThatDiffersIsNotSkipped) {
  TempDir dir;
  auto lines = sessionLines(dir / "log", 10);
  std::string file;
  for (size_t i = 0; i < lines.size(); ++i) file += lines[i] + "\n";
  std::string altered = lines[3];
  altered.replace(altered.find("event 2"), 7, "event Y");
  file += altered + "\n";
  writeFile(dir / "siem.log", file);
  const VerifyReport r = verifySyslogFiles({(dir / "siem.log").string()}, {});
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(countKind(r, FindingKind::kDuplicate), 0u);
}

}  // namespace
}  // namespace warden::audit
