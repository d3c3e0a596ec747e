// The `filesystem` section of a policy.

#include <fmt/format.h>

#include <set>

#include "policy/policy_reader.h"

namespace warden::policy {

void PolicyReader::loadFilesystem(const YAML::Node& n, SourceLocation at, FilesystemAccess& out) {
  out.declared = true;
  forEachEntry(n, "filesystem", {"read_only", "read_write"}, at,
               [&](const std::string& key, SourceLocation key_at, const YAML::Node& value) {
                 auto paths = loadPaths(value, yamlChildPath("filesystem", key), key_at, false);
                 (key == "read_only" ? out.read_only : out.read_write) = std::move(paths);
               });
  const std::set<std::string_view> read_only(out.read_only.begin(), out.read_only.end());
  for (const auto& p : out.read_write) {
    if (read_only.count(p) != 0) {
      error(at, fmt::format("filesystem: '{}' is in both read_only and read_write; keep it in one", echoValue(p)));
    }
  }
}

}  // namespace warden::policy
