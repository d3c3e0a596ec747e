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

void appendUtcMillis(std::string& out, int64_t epoch_millis) {
  // Every event's log line starts with this: plain arithmetic (days to civil date, H. Hinnant's
  // algorithm) rather than gmtime_r and a format string. Years 0000-9999 only; outside that range
  // (never a real event time) the slow path below keeps the old behaviour.
  constexpr int64_t kDay = 86'400'000;
  int64_t days = epoch_millis / kDay;
  int64_t rem = epoch_millis % kDay;
  if (rem < 0) {
    rem += kDay;
    --days;
  }
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  if (year < 0 || year > 9999) {
    const struct tm tm = utcTm(epoch_millis);
    out.append(fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:03d}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, rem % 1000));
    return;
  }
  char b[24];
  auto two = [&](int at, int64_t v) {
    b[at] = static_cast<char>('0' + v / 10);
    b[at + 1] = static_cast<char>('0' + v % 10);
  };
  two(0, year / 100);
  two(2, year % 100);
  b[4] = '-';
  two(5, month);
  b[7] = '-';
  two(8, day);
  b[10] = 'T';
  const int64_t secs = rem / 1000;
  two(11, secs / 3600);
  b[13] = ':';
  two(14, secs / 60 % 60);
  b[16] = ':';
  two(17, secs % 60);
  b[19] = '.';
  const int64_t ms = rem % 1000;
  b[20] = static_cast<char>('0' + ms / 100);
  two(21, ms % 100);
  b[23] = 'Z';
  out.append(b, sizeof b);
}

std::string formatUtcMillis(int64_t epoch_millis) {
  std::string s;
  appendUtcMillis(s, epoch_millis);
  return s;
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
