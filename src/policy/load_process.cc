// The `process` and `resources` sections of a policy.

#include <fmt/format.h>

#include <algorithm>

#include "common/encoding.h"
#include "policy/policy_reader.h"

namespace warden::policy {
namespace {

constexpr uint64_t kMinMemoryBytes = 1ull << 20;
constexpr int64_t kMaxPids = 4'194'304;  // the kernel's PID_MAX_LIMIT
constexpr double kMaxCpus = 4096;
constexpr size_t kMaxEnvValue = 32 * 1024;

bool validUserName(const std::string& text, bool numeric, std::optional<int64_t> uid) {
  if (text.empty() || text.size() > 32) return false;
  if (numeric) return uid.has_value() && *uid < 4294967295;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool first_ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    const bool rest_ok =
        first_ok || (c >= '0' && c <= '9') || c == '-' || c == '.' || (c == '$' && i + 1 == text.size());
    if (!(i == 0 ? first_ok : rest_ok)) return false;
  }
  return true;
}


}  // namespace

void PolicyReader::loadProcess(const YAML::Node& n, SourceLocation at, ProcessSettings& out) {
  forEachEntry(n, "process", {"run_as_user", "timeout", "env"}, at,
               [&](const std::string& key, SourceLocation key_at, const YAML::Node& value) {
                 const std::string path = yamlChildPath("process", key);
                 if (key == "env") {
                   forEachEntry(
                       value, path, {}, key_at,
                       [&](const std::string& name, SourceLocation name_at, const YAML::Node& v) {
                         const std::string item_path = yamlChildPath(path, name);
                         if (!isEnvironmentName(name)) {
                           error(name_at, fmt::format("{}: '{}' is not a variable name (letters, digits and '_', "
                                                      "not starting with a digit)",
                                                      path, echoValue(name)));
                           return;
                         }
                         const auto text = scalar(v, item_path, name_at);
                         if (!text) return;
                         if (text->find('\0') != std::string::npos || text->size() > kMaxEnvValue) {
                           error(v, fmt::format("{}: the value has a NUL byte or is over {} bytes", item_path,
                                                kMaxEnvValue),
                                 name_at);
                           return;
                         }
                         out.env.emplace_back(name, *text);
                       },
                       /*any_key=*/true);
                   return;
                 }
                 const auto text = scalar(value, path, key_at);
                 if (!text) return;
                 if (key == "run_as_user") {
                   const bool numeric = !text->empty() && std::all_of(text->begin(), text->end(), [](char c) {
                     return c >= '0' && c <= '9';
                   });
                   std::optional<int64_t> uid;
                   if (numeric) uid = parseWholeNumber(*text);
                   if (*text == "root" || (uid && *uid == 0)) {
                     error(value,
                           fmt::format("{}: the agent never runs as root; name an unprivileged user "
                                       "(or leave it out for a dedicated one)",
                                       path),
                           key_at);
                     return;
                   }
                   if (!validUserName(*text, numeric, uid)) {
                     error(value, fmt::format("{}: '{}' is not a valid user name or uid", path, echoValue(*text)),
                           key_at);
                     return;
                   }
                   out.run_as_user = *text;
                 } else {
                   const auto ms = parseDurationMillis(*text);
                   if (!ms || *ms <= 0) {
                     error(value,
                           fmt::format("{}: '{}' is not a positive duration (e.g. 30s, 5m, 2h, 7d)", path,
                                       echoValue(*text)),
                           key_at);
                     return;
                   }
                   out.timeout_millis = *ms;
                 }
               });
}

void PolicyReader::loadResources(const YAML::Node& n, SourceLocation at, ResourceLimits& out) {
  forEachEntry(
      n, "resources", {"memory", "pids", "cpu", "tmp"}, at,
      [&](const std::string& key, SourceLocation key_at, const YAML::Node& value) {
        const std::string path = yamlChildPath("resources", key);
        const bool size = key == "memory" || key == "tmp";
        const auto text = scalar(value, path, key_at, size ? "a size" : "a number");
        if (!text) return;
        if (key == "tmp") {
          const auto bytes = parseByteSize(*text);
          if (!bytes || *bytes < kMinMemoryBytes) {
            error(value, fmt::format("{}: '{}' is not a size of at least 1MiB (e.g. 512MiB, 2GiB)", path,
                                     echoValue(*text)),
                  key_at);
          } else {
            out.tmp_bytes = *bytes;
          }
        } else if (key == "memory") {
          const auto bytes = parseByteSize(*text);
          if (!bytes) {
            error(value, fmt::format("{}: '{}' is not a size (e.g. 512MiB, 4GiB)", path, echoValue(*text)), key_at);
          } else if (*bytes < kMinMemoryBytes) {
            error(value, fmt::format("{}: {} is below the minimum of 1MiB", path, echoValue(*text)), key_at);
          } else {
            out.memory_bytes = *bytes;
          }
        } else if (key == "pids") {
          const auto pids = parseWholeNumber(*text);
          if (!pids || *pids < 1 || *pids > kMaxPids) {
            error(value, fmt::format("{}: '{}' is not a whole number from 1 to {}", path, echoValue(*text), kMaxPids),
                  key_at);
          } else {
            out.pids = static_cast<uint32_t>(*pids);
          }
        } else {
          const auto cpu = parseFiniteNumber(*text);
          if (!cpu || *cpu <= 0 || *cpu > kMaxCpus) {
            error(value,
                  fmt::format("{}: '{}' is not a number of CPUs above 0 (e.g. 0.5, 2.0)", path, echoValue(*text)),
                  key_at);
          } else {
            out.cpu = *cpu;
          }
        }
      });
}

}  // namespace warden::policy
