#include "audit/export/syslog_message.h"

#include <gtest/gtest.h>

namespace warden::audit::exporting {
namespace {

// 2026-11-23T12:00:00.123Z
constexpr int64_t kTime = 1795435200123;

SyslogHeader header() {
  SyslogHeader h;
  h.hostname = "host1";
  h.session_id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
  h.procid = 4242;
  return h;
}

TEST(SyslogMessageTest, IsRfc5424WithTheSessionAndSequenceAndTheJsonAsMsg) {
  const SinkRecord r{.sequence = 17, .time = kTime, .json = R"({"a":1})", .shorthand = "NET:OPEN [MED] DENIED x"};
  std::string out;
  appendSyslogMessage(out, header(), r);
  // facility 13 (log audit) * 8 + severity 4 (warning, from [MED]) = 108
  EXPECT_EQ(out,
            "<108>1 2026-11-23T12:00:00.123Z host1 warden 4242 NET:OPEN "
            "[warden@32473 session=\"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b\" seq=\"17\"] {\"a\":1}");
}

TEST(SyslogMessageTest, SeverityFollowsTheShorthandLabel) {
  const std::pair<const char*, int> cases[] = {{"X:Y [INFO] m", 110}, {"X:Y [LOW] m", 109}, {"X:Y [HIGH] m", 107},
                                               {"X:Y [CRIT] m", 106}, {"X:Y [FATAL] m", 105}, {"X:Y", 110}};
  for (const auto& [shorthand, pri] : cases) {
    std::string out;
    appendSyslogMessage(out, header(), SinkRecord{.sequence = 1, .time = kTime, .json = "{}", .shorthand = shorthand});
    EXPECT_EQ(out.substr(0, out.find(' ')), "<" + std::to_string(pri) + ">1") << shorthand;
  }
}

TEST(SyslogMessageTest, UnusableHeaderFieldsAreNilOrReplacedAndParamValuesEscaped) {
  SyslogHeader h = header();
  h.hostname = "";
  h.session_id = R"(a"b]c\d)";
  std::string out;
  appendSyslogMessage(out, h, SinkRecord{.sequence = 2, .time = kTime, .json = "{}", .shorthand = ""});
  EXPECT_EQ(out, "<110>1 2026-11-23T12:00:00.123Z - warden 4242 - [warden@32473 session=\"a\\\"b\\]c\\\\d\" seq=\"2\"] {}");
  out.clear();
  appendSyslogMessage(out, h,
                      SinkRecord{.sequence = 3, .time = kTime, .json = "{}", .shorthand = "A-TYPE-LONGER-THAN-32-CHARACTERS-X [INFO]"});
  EXPECT_NE(out.find(" 4242 - [warden"), std::string::npos) << out;
}

TEST(SyslogMessageTest, OctetCountingPrefixesTheExactByteLength) {
  const std::string json = R"({"message":"naïve ✓"})";
  const SinkRecord r{.sequence = 9, .time = kTime, .json = json, .shorthand = "EVENT [INFO]"};
  std::string message, framed;
  appendSyslogMessage(message, header(), r);
  appendOctetCounted(framed, header(), r);
  EXPECT_EQ(framed, std::to_string(message.size()) + " " + message);
  EXPECT_TRUE(framed.ends_with(json));
}

}  // namespace
}  // namespace warden::audit::exporting
