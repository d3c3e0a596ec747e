#include "common/clock.h"

#include <ctime>
#include <string>

#include <fmt/format.h>

namespace warden {

const SystemClock& SystemClock::instance() {
  static const SystemClock* clock = new SystemClock();
  return *clock;
}

int64_t SystemClock::nowMillis() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::chrono::steady_clock::time_point SystemClock::steadyNow() const {
  return std::chrono::steady_clock::now();
}

namespace {
struct tm utcTm(int64_t epoch_millis) {
  int64_t secs = epoch_millis / 1000;
  if (epoch_millis < 0 && epoch_millis % 1000 != 0) --secs;
  time_t t = static_cast<time_t>(secs);
  struct tm tm {};
  gmtime_r(&t, &tm);
  return tm;
}
}  // namespace

std::string formatUtcMillis(int64_t epoch_millis) {
  const struct tm tm = utcTm(epoch_millis);
  int64_t ms = epoch_millis % 1000;
  if (ms < 0) ms += 1000;
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:03d}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

std::string formatUtcDate(int64_t epoch_millis) {
  const struct tm tm = utcTm(epoch_millis);
  return fmt::format("{:04d}-{:02d}-{:02d}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

int64_t nextUtcMidnight(int64_t epoch_millis) {
  constexpr int64_t kDay = 86'400'000;
  int64_t day = epoch_millis / kDay;
  if (epoch_millis < 0 && epoch_millis % kDay != 0) --day;
  return (day + 1) * kDay;
}

}  // namespace warden
