#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace warden::ocsf {

// A version as ocsf-server reads metadata.version and the schema's version (Schema.Utils'
// `^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-(.+))?$`): MAJOR.MINOR.PATCH without leading
// zeros, then an optional "-prerelease" of any non-newline characters. Plain value.
struct SemVer {
  std::uint64_t major = 0;
  std::uint64_t minor = 0;
  std::uint64_t patch = 0;
  std::string prerelease;  // empty: a release

  bool operator==(const SemVer&) const = default;
  bool isInitialDevelopment() const { return major == 0; }
  bool isPrerelease() const { return !prerelease.empty(); }
};

// nullopt when `text` is not such a version (also a component above 2^64-1, and a trailing
// newline, which the official regex's `$` would let through).
std::optional<SemVer> parseSemVer(std::string_view text);

// Orders as ocsf-server's version_sorter: by major, minor, patch; for equal numbers a prerelease
// sorts before the release and two prereleases compare bytewise. <0, 0, >0.
int compareSemVer(const SemVer& a, const SemVer& b);

}  // namespace warden::ocsf
