// The operator commands' argument parsers: times (durations, RFC 3339, dates), levels, classes, and
// reading severity and class back from a shorthand.

#include "gateway/client/operator_args.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/clock.h"

namespace warden::gateway {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kNow = 1795461910671;  // 2026-11-23T19:25:10.671Z

TEST(ParseTimeArgTest, ADurationCountsBackFromNow) {
  EXPECT_EQ(*parseTimeArg("30s", kNow), kNow - 30'000);
  EXPECT_EQ(*parseTimeArg("5m", kNow), kNow - 300'000);
  EXPECT_EQ(*parseTimeArg("7d", kNow), kNow - 7 * 86'400'000LL);
}

TEST(ParseTimeArgTest, AnRfc3339TimeIsAbsolute) {
  EXPECT_EQ(*parseTimeArg("2026-11-23T19:25:10.671Z", 0), kNow);
  EXPECT_EQ(*parseTimeArg("2026-11-23t19:25:10.671z", 0), kNow);
  EXPECT_EQ(*parseTimeArg("2026-11-23 19:25:10.671Z", 0), kNow);
  EXPECT_EQ(*parseTimeArg("2026-11-23T20:25:10.671+01:00", 0), kNow);
  EXPECT_EQ(*parseTimeArg("2026-11-23T18:55:10.671-00:30", 0), kNow);
  EXPECT_EQ(*parseTimeArg("2026-11-23T19:25:10.6719999Z", 0), kNow);  // beyond ms: truncated
  EXPECT_EQ(*parseTimeArg("2026-11-23T19:25:10Z", 0), kNow - 671);
  EXPECT_EQ(*parseTimeArg("1970-01-01T00:00:00Z", 0), 0);
}

TEST(ParseTimeArgTest, ItReadsBackWhatFormatUtcMillisWrites) {
  for (const int64_t t : {int64_t{0}, int64_t{951782400000} /* 2000-02-29 */, int64_t{4107542399999}, kNow}) {
    EXPECT_EQ(*parseTimeArg(formatUtcMillis(t), 0), t) << formatUtcMillis(t);
  }
}

TEST(ParseTimeArgTest, ADateIsItsUtcMidnight) {
  EXPECT_EQ(*parseTimeArg("2026-11-23", 0), kNow - (19 * 3600 + 25 * 60 + 10) * 1000LL - 671);
}

TEST(ParseTimeArgTest, AnythingElseIsRefusedWithTheAcceptedForms) {
  for (const char* bad : {"", "yesterday", "30", "5 m", "2026-11-23T19:25:10", "2026-02-30", "2026-13-01",
                          "2026-11-23T24:00:00Z", "2026-11-23T19:25:10+1:00", "2026-11-23T19:25:10.Z",
                          "2026-11-23T19:25:10Zjunk", "-5m"}) {
    auto r = parseTimeArg(bad, kNow);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
    EXPECT_THAT(r.error().message(), HasSubstr("RFC 3339")) << bad;
  }
}

TEST(ParseLevelTest, NamesAndNumbersMapToSeverityIds) {
  EXPECT_EQ(*parseLevel("INFO"), 1);
  EXPECT_EQ(*parseLevel("low"), 2);
  EXPECT_EQ(*parseLevel("Med"), 3);
  EXPECT_EQ(*parseLevel("medium"), 3);
  EXPECT_EQ(*parseLevel("HIGH"), 4);
  EXPECT_EQ(*parseLevel("crit"), 5);
  EXPECT_EQ(*parseLevel("critical"), 5);
  EXPECT_EQ(*parseLevel("FATAL"), 6);
  EXPECT_EQ(*parseLevel("4"), 4);
  EXPECT_EQ(*parseLevel("0"), 0);
}

TEST(ParseLevelTest, AnUnknownLevelListsTheNames) {
  for (const char* bad : {"", "WARN", "7", "-1", "44"}) {
    auto r = parseLevel(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_THAT(r.error().message(), HasSubstr("INFO, LOW, MED, HIGH, CRIT")) << bad;
  }
}

TEST(ParseClassListTest, SplitsUpperCasesAndDropsDuplicates) {
  auto r = parseClassList("net, http,DNS,NET");
  ASSERT_TRUE(r.ok()) << r.error().toString();
  EXPECT_THAT(*r, ElementsAre("NET", "HTTP", "DNS"));
}

TEST(ParseClassListTest, AnUnknownClassListsTheKnownOnes) {
  auto r = parseClassList("NET,NTE");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message(), HasSubstr("'NTE'"));
  EXPECT_THAT(r.error().message(), HasSubstr("NET, HTTP, DNS"));
  EXPECT_FALSE(parseClassList(",,").ok());
}

TEST(KnownEventClassesTest, AreTheShorthandFamilies) {
  EXPECT_THAT(knownEventClasses(),
              ElementsAre("NET", "HTTP", "DNS", "SSH", "PROC", "FILE", "FINDING", "CONFIG", "LIFECYCLE",
                          "SESSION", "PKG", "TOOL", "MODEL", "API", "LIMIT", "LOG", "EVENT"));
}

TEST(ShorthandTest, SeverityAndClassAreReadFromTheLine) {
  EXPECT_EQ(shorthandSeverity("NET:CONNECT [INFO] ALLOWED curl(12) -> a:443"), 1);
  EXPECT_EQ(shorthandSeverity("HTTP:GET [HIGH] DENIED x"), 4);
  EXPECT_EQ(shorthandSeverity("LIFECYCLE:FAILED [FATAL] proxy: gone"), 6);
  EXPECT_EQ(shorthandSeverity("LOG:START [INFO]"), 1);
  EXPECT_EQ(shorthandSeverity("FILE:WRITE [CRITICAL] x"), 0);
  EXPECT_EQ(shorthandSeverity("no shorthand [HIGH]"), 0);
  EXPECT_EQ(shorthandClass("NET:CONNECT [INFO]"), "NET");
  EXPECT_EQ(shorthandClass("net:CONNECT"), "");
  EXPECT_EQ(shorthandClass(":X"), "");
}

}  // namespace
}  // namespace warden::gateway
