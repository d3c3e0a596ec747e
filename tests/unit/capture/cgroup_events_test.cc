#include "capture/cgroup/cgroup_events.h"

#include <gtest/gtest.h>

#include <limits>

namespace warden::capture {
namespace {

TEST(CgroupEventsTest, ParsesV2MemoryEvents) {
  const auto m = parseFlatKeyed("low 0\nhigh 0\nmax 12\noom 2\noom_kill 1\noom_group_kill 0\n");
  ASSERT_TRUE(m.ok()) << m.error().toString();
  EXPECT_EQ(m->size(), 6u);
  EXPECT_EQ(m->at("oom_kill"), 1u);
  EXPECT_EQ(m->at("max"), 12u);
}

TEST(CgroupEventsTest, ParsesPidsEventsAndV1OomControl) {
  const auto pids = parseFlatKeyed("max 3\n");
  ASSERT_TRUE(pids.ok());
  EXPECT_EQ(pids->at("max"), 3u);
  const auto oom = parseFlatKeyed("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
  ASSERT_TRUE(oom.ok());
  EXPECT_EQ(oom->at("oom_kill"), 2u);
  EXPECT_EQ(oom->at("under_oom"), 0u);
}

TEST(CgroupEventsTest, AcceptsEmptyFileAndMissingFinalNewline) {
  const auto empty = parseFlatKeyed("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  const auto no_nl = parseFlatKeyed("max 18446744073709551615");
  ASSERT_TRUE(no_nl.ok());
  EXPECT_EQ(no_nl->at("max"), std::numeric_limits<uint64_t>::max());
}

TEST(CgroupEventsTest, TakesMaxAsUnlimited) {
  const auto m = parseFlatKeyed("limit max\n");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->at("limit"), std::numeric_limits<uint64_t>::max());
}

TEST(CgroupEventsTest, RejectsMalformedLinesWithSpecificErrors) {
  struct Case {
    const char* text;
    const char* expect;
  };
  const Case cases[] = {
      {"oom_kill\n", "is not '<key> <value>'"},
      {"oom_kill -1\n", "not a decimal number"},
      {"oom_kill 18446744073709551616\n", "overflows 64 bits"},
      {"oom kill 1\n", "not a decimal number"},
      {"oom_kill 1\noom_kill 2\n", "duplicate key 'oom_kill'"},
      {"bad/key 1\n", "bad key"},
      {" 1\n", "bad key length 0"},
      {"oom_kill \n", "empty value"},
      {"a 1\n\n", "line 2"},
      {"a 1\r\n", "not a decimal number"},
  };
  for (const Case& c : cases) {
    const auto m = parseFlatKeyed(c.text);
    ASSERT_FALSE(m.ok()) << c.text;
    EXPECT_EQ(m.error().code(), Code::kInvalidArgument) << c.text;
    EXPECT_NE(m.error().message().find(c.expect), std::string::npos) << c.text << " -> " << m.error().message();
  }
}

TEST(CgroupEventsTest, RejectsOverlongKeyAndHugeInput) {
  EXPECT_FALSE(parseFlatKeyed(std::string(65, 'k') + " 1\n").ok());
  EXPECT_TRUE(parseFlatKeyed(std::string(64, 'k') + " 1\n").ok());
  std::string huge;
  for (int i = 0; i < 10000; ++i) huge += "k" + std::to_string(i) + " 1\n";
  const auto m = parseFlatKeyed(huge);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message().find("too long"), std::string::npos);
}

TEST(CgroupEventsTest, ParsesSingleValues) {
  EXPECT_EQ(*parseSingleValue("67108864\n"), 67108864u);
  EXPECT_EQ(*parseSingleValue("max\n"), std::numeric_limits<uint64_t>::max());
  EXPECT_FALSE(parseSingleValue("").ok());
  EXPECT_FALSE(parseSingleValue("12 34\n").ok());
  EXPECT_FALSE(parseSingleValue("-5").ok());
}

}  // namespace
}  // namespace warden::capture
