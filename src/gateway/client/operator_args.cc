#include "gateway/client/operator_args.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>

#include "common/encoding.h"
#include "ocsf/enums.h"

namespace warden::gateway {
namespace {

std::string shown(std::string_view text) {
  return "'" + std::string(text.substr(0, 100)) + "'";
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t daysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned mp = m > 2 ? m - 3 : m + 9;
  const unsigned doy = (153 * mp + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool leapYear(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned daysInMonth(int64_t y, unsigned m) {
  static constexpr std::array<unsigned, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leapYear(y) ? 29 : kDays[m - 1];
}

// Reads exactly `n` digits at `pos`.
std::optional<unsigned> digits(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) return std::nullopt;
  unsigned v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    v = v * 10 + static_cast<unsigned>(s[i] - '0');
  }
  return v;
}

// "YYYY-MM-DD" at the start of `s`: days since the epoch.
std::optional<int64_t> parseDate(std::string_view s) {
  const auto y = digits(s, 0, 4), m = digits(s, 5, 2), d = digits(s, 8, 2);
  if (!y || !m || !d || s.size() < 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  if (*m < 1 || *m > 12 || *d < 1 || *d > daysInMonth(*y, *m)) return std::nullopt;
  return daysFromCivil(*y, *m, *d);
}

std::optional<int64_t> parseRfc3339(std::string_view s) {
  const auto days = parseDate(s);
  if (!days) return std::nullopt;
  if (s.size() == 10) return *days * 86'400'000;
  if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') return std::nullopt;
  const auto hh = digits(s, 11, 2), mm = digits(s, 14, 2), ss = digits(s, 17, 2);
  if (!hh || !mm || !ss || s.size() < 19 || s[13] != ':' || s[16] != ':') return std::nullopt;
  if (*hh > 23 || *mm > 59 || *ss > 60) return std::nullopt;  // 60: a leap second, read as :59 + 1 s
  size_t pos = 19;
  int64_t millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    const size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (pos - start < 3) millis = millis * 10 + (s[pos] - '0');
      ++pos;
    }
    if (pos == start) return std::nullopt;
    for (size_t n = pos - start; n < 3; ++n) millis *= 10;
  }
  int64_t offset_min = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    const auto oh = digits(s, pos + 1, 2), om = digits(s, pos + 4, 2);
    if (!oh || !om || s.size() < pos + 6 || s[pos + 3] != ':' || *oh > 23 || *om > 59) return std::nullopt;
    offset_min = (s[pos] == '-' ? -1 : 1) * static_cast<int64_t>(*oh * 60 + *om);
    pos += 6;
  } else {
    return std::nullopt;  // RFC 3339 needs the offset: local time is ambiguous
  }
  if (pos != s.size()) return std::nullopt;
  const int64_t seconds = *days * 86'400 + *hh * 3600 + *mm * 60 + *ss - offset_min * 60;
  return seconds * 1000 + millis;
}

}  // namespace

std::optional<int64_t> parseRfc3339Millis(std::string_view text) {
  return parseRfc3339(text);
}

Result<int64_t> parseTimeArg(std::string_view text, int64_t now_ms) {
  const std::string_view t = trim(text);
  if (const auto d = parseDurationMillis(t)) return now_ms - *d;
  if (const auto ms = parseRfc3339(t)) return *ms;
  return invalidArgument(
      shown(text) +
      " is not a time: give a duration back from now (30s, 5m, 2h, 7d) or an RFC 3339 time "
      "(2026-11-23T13:27:09Z, 2026-11-23T14:27:09+01:00) or a UTC date (2026-11-23)");
}

Result<int> parseLevel(std::string_view text) {
  const std::string u = upper(trim(text));
  struct Name {
    std::string_view name;
    int id;
  };
  static constexpr Name kNames[] = {
      {"INFO", 1}, {"INFORMATIONAL", 1}, {"LOW", 2},      {"MED", 3},   {"MEDIUM", 3},
      {"HIGH", 4}, {"CRIT", 5},          {"CRITICAL", 5}, {"FATAL", 6},
  };
  for (const Name& n : kNames) {
    if (u == n.name) return n.id;
  }
  if (u.size() == 1 && u[0] >= '0' && u[0] <= '6') return u[0] - '0';
  return invalidArgument("level " + shown(text) + " is not one of INFO, LOW, MED, HIGH, CRIT, FATAL or 0..6");
}

const std::vector<std::string>& knownEventClasses() {
  static const std::vector<std::string> kClasses = [] {
    std::vector<std::string> out;
    for (int k = static_cast<int>(ocsf::Kind::kNet); k <= static_cast<int>(ocsf::Kind::kEvent); ++k) {
      out.emplace_back(ocsf::kindPrefix(static_cast<ocsf::Kind>(k)));
    }
    return out;
  }();
  return kClasses;
}

Result<std::vector<std::string>> parseClassList(std::string_view text) {
  std::vector<std::string> out;
  const auto& known = knownEventClasses();
  size_t begin = 0;
  while (begin <= text.size()) {
    size_t comma = text.find(',', begin);
    if (comma == std::string_view::npos) comma = text.size();
    const std::string name = upper(trim(text.substr(begin, comma - begin)));
    begin = comma + 1;
    if (name.empty()) continue;
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      return invalidArgument("unknown event class " + shown(name) + "; known classes: " + list);
    }
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  }
  if (out.empty()) return invalidArgument("--class needs at least one class name (NET, HTTP, ...)");
  return out;
}

std::string_view shorthandClass(std::string_view shorthand) {
  const size_t colon = shorthand.find(':');
  if (colon == std::string_view::npos || colon == 0) return {};
  const std::string_view prefix = shorthand.substr(0, colon);
  for (const char c : prefix) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return {};
  }
  return prefix;
}

int shorthandSeverity(std::string_view shorthand) {
  // `<PREFIX>:<ACTIVITY> <SEV>`: the activity is one token, so the tag follows the first space.
  const size_t space = shorthand.find(' ');
  if (space == std::string_view::npos || shorthandClass(shorthand).empty()) return 0;
  const std::string_view rest = shorthand.substr(space + 1);
  static constexpr std::pair<std::string_view, int> kTags[] = {
      {"[INFO]", 1}, {"[LOW]", 2}, {"[MED]", 3}, {"[HIGH]", 4}, {"[CRIT]", 5}, {"[FATAL]", 6},
  };
  for (const auto& [tag, id] : kTags) {
    if (rest.starts_with(tag) && (rest.size() == tag.size() || rest[tag.size()] == ' ')) return id;
  }
  return 0;
}

}  // namespace warden::gateway
