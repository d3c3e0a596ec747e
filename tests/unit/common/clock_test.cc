#include "common/clock.h"

#include <cstdio>
#include <ctime>
#include <random>

#include <gtest/gtest.h>

namespace warden {
namespace {

// What gmtime_r makes of the same instant: the reference the fast formatter must match.
std::string reference(int64_t ms) {
  int64_t secs = ms / 1000;
  int64_t rem = ms % 1000;
  if (rem < 0) {
    rem += 1000;
    --secs;
  }
  const time_t t = static_cast<time_t>(secs);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char out[80];
  std::snprintf(out, sizeof out, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(rem));
  return out;
}

TEST(ClockTest, UtcMillisMatchesTheCalendarAcrossLeapYearsMidnightsAndTheEpoch) {
  for (const int64_t ms : {int64_t{0}, int64_t{-1}, int64_t{999}, int64_t{1000}, int64_t{951782400000},  // 2000-02-29
                           int64_t{951868799999}, int64_t{4107542400000},                             // 2100-03-01
                           int64_t{1795435200000}, int64_t{253402300799999}, int64_t{-62135596800000}}) {
    EXPECT_EQ(formatUtcMillis(ms), reference(ms)) << ms;
  }
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int64_t> any(-62135596800000, 253402300799999);  // years 1..9999
  for (int i = 0; i < 100000; ++i) {
    const int64_t ms = any(rng);
    ASSERT_EQ(formatUtcMillis(ms), reference(ms)) << ms;
  }
}

TEST(ClockTest, AppendUtcMillisAppends) {
  std::string s = "x ";
  appendUtcMillis(s, 1795435200123);
  EXPECT_EQ(s, "x 2026-11-23T12:00:00.123Z");
}

}  // namespace
}  // namespace warden
