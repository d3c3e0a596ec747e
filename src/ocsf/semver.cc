#include "ocsf/semver.h"

#include <charconv>
#include <system_error>

namespace warden::ocsf {

namespace {

// One numeric component: "0" or digits without a leading zero, into `out`; advances `s`.
bool component(std::string_view& s, std::uint64_t& out) {
  std::size_t n = 0;
  while (n < s.size() && s[n] >= '0' && s[n] <= '9') ++n;
  if (n == 0 || (n > 1 && s[0] == '0')) return false;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + n, out);
  if (ec != std::errc() || ptr != s.data() + n) return false;  // above 2^64-1
  s.remove_prefix(n);
  return true;
}

}  // namespace

std::optional<SemVer> parseSemVer(std::string_view text) {
  SemVer v;
  std::string_view s = text;
  if (!component(s, v.major) || s.empty() || s[0] != '.') return std::nullopt;
  s.remove_prefix(1);
  if (!component(s, v.minor) || s.empty() || s[0] != '.') return std::nullopt;
  s.remove_prefix(1);
  if (!component(s, v.patch)) return std::nullopt;
  if (s.empty()) return v;
  if (s[0] != '-' || s.size() < 2) return std::nullopt;
  s.remove_prefix(1);
  if (s.find('\n') != std::string_view::npos) return std::nullopt;
  v.prerelease = std::string(s);
  return v;
}

int compareSemVer(const SemVer& a, const SemVer& b) {
  if (a.major != b.major) return a.major < b.major ? -1 : 1;
  if (a.minor != b.minor) return a.minor < b.minor ? -1 : 1;
  if (a.patch != b.patch) return a.patch < b.patch ? -1 : 1;
  if (a.isPrerelease() != b.isPrerelease()) return a.isPrerelease() ? -1 : 1;
  const int c = a.prerelease.compare(b.prerelease);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

}  // namespace warden::ocsf
