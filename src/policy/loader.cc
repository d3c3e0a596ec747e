#include "policy/loader.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <exception>
#include <initializer_list>
#include <set>
#include <sstream>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/file_io.h"
#include "common/encoding.h"
#include "common/unique_fd.h"

namespace warden::policy {
namespace {

// A YAML alias is walked every time it is used, so an alias bomb can make a small file huge;
// past this many visited nodes the loader stops with one diagnostic.
constexpr size_t kMaxNodes = 100'000;
// Values echoed in messages are cut to this many bytes.
constexpr size_t kMaxEcho = 80;
constexpr uint64_t kMinMemoryBytes = 1ull << 20;
constexpr int64_t kMaxPids = 4'194'304;  // the kernel's PID_MAX_LIMIT
constexpr double kMaxCpus = 4096;
constexpr size_t kMaxRuleName = 64;

constexpr std::string_view kMethods[] = {"GET",    "HEAD",    "POST",  "PUT",    "PATCH",
                                         "DELETE", "OPTIONS", "TRACE", "CONNECT"};

std::string echo(std::string_view s) {
  std::string out;
  const size_t n = std::min(s.size(), kMaxEcho);
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += s[i];
    }
  }
  if (s.size() > kMaxEcho) out += "...";
  return out;
}

std::string_view kindOf(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Scalar:
      return "a value";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Undefined:
      return "nothing";
  }
  return "nothing";
}

std::string join(std::initializer_list<std::string_view> items) {
  std::string out;
  for (const auto item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::optional<int64_t> parseInteger(std::string_view s) {
  int64_t v = 0;
  const auto* end = s.data() + s.size();
  const auto [p, ec] = std::from_chars(s.data(), end, v);
  if (s.empty() || ec != std::errc() || p != end) return std::nullopt;
  return v;
}

std::optional<double> parseNumber(std::string_view s) {
  double v = 0;
  const auto* end = s.data() + s.size();
  const auto [p, ec] = std::from_chars(s.data(), end, v);
  if (s.empty() || ec != std::errc() || p != end || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::string child(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
}

std::string item(std::string_view path, size_t index) {
  return fmt::format("{}[{}]", path, index);
}

// Walks one parsed YAML document into a Policy, recording every problem.
// Single use, single thread; all yaml-cpp calls it makes are on nodes it has type-checked.
class Loader {
 public:
  Loader(std::string_view file, Diagnostics& diagnostics) : file_(file), diagnostics_(diagnostics) {}

  void load(const YAML::Node& root, Policy& policy);

 private:
  using Keys = std::initializer_list<std::string_view>;

  SourceLocation locate(const YAML::Node& n, SourceLocation fallback = {}) const {
    const YAML::Mark m = n.Mark();
    if (m.is_null() || m.line < 0 || m.column < 0) return fallback;
    return {m.line + 1, m.column + 1};
  }

  void error(SourceLocation at, std::string message) {
    ++errors_;
    if (too_large_stopped_) return;  // what is left unwalked would only produce noise
    diagnostics_.add(file_, at, std::move(message));
  }
  // Reports at `at`'s position; an empty value (`key:`) is reported at its key, `fallback`.
  void error(const YAML::Node& at, std::string message, SourceLocation fallback = {}) {
    const bool use_fallback = at.IsNull() && fallback.line > 0;
    error(use_fallback ? fallback : locate(at, fallback), std::move(message));
  }

  // Counts a visited node; false once the document is too large to walk.
  bool tick() {
    if (++visited_ <= kMaxNodes) return true;
    if (!too_large_) {
      too_large_ = true;
      error(SourceLocation{1, 1},
            fmt::format("the policy has more than {} YAML nodes (aliases count every time "
                        "they are used); it is too large to check",
                        kMaxNodes));
      too_large_stopped_ = true;
    }
    return false;
  }

  // Calls f(key, key_node, value) for each entry of a mapping, rejecting non-mappings, keys that
  // are not strings, duplicate keys and (unless `any_key`) keys not in `allowed`.
  template <typename F>
  void forEachEntry(const YAML::Node& map, const std::string& path, Keys allowed, SourceLocation fallback,
                    F&& f, bool any_key = false) {
    if (!map.IsMap()) {
      error(map, fmt::format("{}: expected a mapping, got {}", path, kindOf(map)), fallback);
      return;
    }
    std::unordered_map<std::string, SourceLocation> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (!tick()) return;
      const YAML::Node key_node = it->first;
      const YAML::Node value = it->second;
      if (!key_node.IsScalar()) {
        error(key_node, fmt::format("{}: keys must be plain strings", path.empty() ? "policy" : path),
              fallback);
        continue;
      }
      const std::string key = key_node.Scalar();
      const SourceLocation at = locate(key_node, fallback);
      const auto [first, inserted] = seen.emplace(key, at);
      if (!inserted) {
        error(at, fmt::format("duplicate key '{}' (first at line {})", echo(child(path, key)),
                              first->second.line));
        continue;
      }
      if (!any_key && std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        error(at, unknownKey(path, key, allowed));
        continue;
      }
      f(key, at, value);
    }
  }

  std::string unknownKey(const std::string& path, const std::string& key, Keys allowed) const {
    std::string where = path.empty() ? "at the top level" : fmt::format("in {}", path);
    for (const auto candidate : allowed) {
      if (editDistance(key, candidate) <= 2) {
        return fmt::format("unknown key '{}' {} (did you mean '{}'?)", echo(key), where, candidate);
      }
    }
    return fmt::format("unknown key '{}' {} (expected one of: {})", echo(key), where, join(allowed));
  }

  // Calls f(index, item_path, node) for each element of a list.
  template <typename F>
  void forEachItem(const YAML::Node& list, const std::string& path, SourceLocation fallback, F&& f) {
    if (!list.IsSequence()) {
      error(list, fmt::format("{}: expected a list, got {}", path, kindOf(list)), fallback);
      return;
    }
    size_t index = 0;
    for (auto it = list.begin(); it != list.end(); ++it, ++index) {
      if (!tick()) return;
      f(index, item(path, index), *it);
    }
  }

  std::optional<std::string> scalar(const YAML::Node& n, const std::string& path, SourceLocation fallback,
                                    std::string_view expected = "a string") {
    if (n.IsScalar()) return n.Scalar();
    error(n, fmt::format("{}: expected {}, got {}", path, expected, kindOf(n)), fallback);
    return std::nullopt;
  }

  void loadVersion(const YAML::Node& n, const std::string& path, SourceLocation at, Policy& policy);
  void loadProcess(const YAML::Node& n, SourceLocation at, ProcessSettings& out);
  void loadResources(const YAML::Node& n, SourceLocation at, ResourceLimits& out);
  void loadFilesystem(const YAML::Node& n, SourceLocation at, FilesystemAccess& out);
  void loadAudit(const YAML::Node& n, SourceLocation at, AuditSettings& out);
  void loadNetwork(const YAML::Node& n, SourceLocation at, std::vector<NetworkRule>& out);
  void loadRule(const std::string& name, const YAML::Node& n, SourceLocation at, NetworkRule& out);
  void loadEndpoint(const YAML::Node& n, const std::string& path, SourceLocation at, Endpoint& out);
  std::optional<HttpRule> loadHttpRule(const YAML::Node& n, const std::string& path, SourceLocation at);
  std::vector<std::string> loadMethods(const YAML::Node& n, const std::string& path, SourceLocation at);
  std::vector<std::string> loadPaths(const YAML::Node& n, const std::string& path, SourceLocation at,
                                     bool allow_home);
  std::optional<uint16_t> loadPort(const YAML::Node& n, const std::string& path, SourceLocation at);

  std::string file_;
  Diagnostics& diagnostics_;
  size_t errors_ = 0;
  size_t visited_ = 0;
  bool too_large_ = false;
  bool too_large_stopped_ = false;
};

void Loader::load(const YAML::Node& root, Policy& policy) {
  if (root.IsNull()) {
    error(SourceLocation{1, 1}, "the policy is empty; it needs at least 'version: 1'");
    return;
  }
  const SourceLocation top = locate(root, {1, 1});
  bool have_version = false;
  forEachEntry(root, "", {"version", "process", "resources", "filesystem", "audit", "network"}, top,
               [&](const std::string& key, SourceLocation at, const YAML::Node& value) {
                 if (key == "version") {
                   have_version = true;
                   loadVersion(value, key, at, policy);
                 } else if (key == "process") {
                   loadProcess(value, at, policy.process);
                 } else if (key == "resources") {
                   loadResources(value, at, policy.resources);
                 } else if (key == "filesystem") {
                   loadFilesystem(value, at, policy.filesystem);
                 } else if (key == "audit") {
                   loadAudit(value, at, policy.audit);
                 } else if (key == "network") {
                   loadNetwork(value, at, policy.network);
                 }
               });
  if (root.IsMap() && !have_version && !too_large_) {
    error(top, "missing 'version: 1' at the top level");
  }
}

void Loader::loadVersion(const YAML::Node& n, const std::string& path, SourceLocation at, Policy& policy) {
  const auto text = scalar(n, path, at, "the number 1");
  if (!text) return;
  const auto v = parseInteger(*text);
  if (!v || *v != 1) {
    error(n, fmt::format("unsupported policy version '{}'; this Warden reads version 1", echo(*text)), at);
    return;
  }
  policy.version = static_cast<int>(*v);
}

void Loader::loadProcess(const YAML::Node& n, SourceLocation at, ProcessSettings& out) {
  forEachEntry(
      n, "process", {"run_as_user", "timeout"}, at,
      [&](const std::string& key, SourceLocation key_at, const YAML::Node& value) {
        const std::string path = child("process", key);
        const auto text = scalar(value, path, key_at);
        if (!text) return;
        if (key == "run_as_user") {
          const bool numeric = !text->empty() && std::all_of(text->begin(), text->end(),
                                                             [](char c) { return c >= '0' && c <= '9'; });
          const auto uid = numeric ? parseInteger(*text) : std::nullopt;
          if (*text == "root" || (uid && *uid == 0)) {
            error(value,
                  fmt::format("{}: the agent never runs as root; name an unprivileged user "
                              "(or leave it out for a dedicated one)",
                              path),
                  key_at);
            return;
          }
          bool valid = !text->empty() && text->size() <= 32;
          if (numeric) {
            valid = uid.has_value() && *uid < 4294967295;
          } else {
            for (size_t i = 0; i < text->size() && valid; ++i) {
              const char c = (*text)[i];
              const bool first_ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
              const bool rest_ok = first_ok || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                                   (c == '$' && i + 1 == text->size());
              valid = i == 0 ? first_ok : rest_ok;
            }
          }
          if (!valid) {
            error(value, fmt::format("{}: '{}' is not a valid user name or uid", path, echo(*text)), key_at);
            return;
          }
          out.run_as_user = *text;
        } else {
          const auto ms = parseDurationMillis(*text);
          if (!ms || *ms <= 0) {
            error(
                value,
                fmt::format("{}: '{}' is not a positive duration (e.g. 30s, 5m, 2h, 7d)", path, echo(*text)),
                key_at);
            return;
          }
          out.timeout_millis = *ms;
        }
      });
}

void Loader::loadResources(const YAML::Node& n, SourceLocation at, ResourceLimits& out) {
  forEachEntry(
      n, "resources", {"memory", "pids", "cpu"}, at,
      [&](const std::string& key, SourceLocation key_at, const YAML::Node& value) {
        const std::string path = child("resources", key);
        const auto text = scalar(value, path, key_at, key == "memory" ? "a size" : "a number");
        if (!text) return;
        if (key == "memory") {
          const auto bytes = parseByteSize(*text);
          if (!bytes) {
            error(value, fmt::format("{}: '{}' is not a size (e.g. 512MiB, 4GiB)", path, echo(*text)),
                  key_at);
          } else if (*bytes < kMinMemoryBytes) {
            error(value, fmt::format("{}: {} is below the minimum of 1MiB", path, echo(*text)), key_at);
          } else {
            out.memory_bytes = *bytes;
          }
        } else if (key == "pids") {
          const auto pids = parseInteger(*text);
          if (!pids || *pids < 1 || *pids > kMaxPids) {
            error(value,
                  fmt::format("{}: '{}' is not a whole number from 1 to {}", path, echo(*text), kMaxPids),
                  key_at);
          } else {
            out.pids = static_cast<uint32_t>(*pids);
          }
        } else {
          const auto cpu = parseNumber(*text);
          if (!cpu || *cpu <= 0 || *cpu > kMaxCpus) {
            error(value,
                  fmt::format("{}: '{}' is not a number of CPUs above 0 (e.g. 0.5, 2.0)", path, echo(*text)),
                  key_at);
          } else {
            out.cpu = *cpu;
          }
        }
      });
}

std::vector<std::string> Loader::loadPaths(const YAML::Node& n, const std::string& path, SourceLocation at,
                                           bool allow_home) {
  std::vector<std::string> out;
  forEachItem(n, path, at, [&](size_t, const std::string& item_path, const YAML::Node& v) {
    const auto text = scalar(v, item_path, at, "a path");
    if (!text) return;
    std::string_view p = *text;
    const bool home = allow_home && (p == "~" || p.starts_with("~/"));
    if (!home && (p.empty() || p.front() != '/')) {
      error(v,
            fmt::format("{}: '{}' must be an absolute path{}", item_path, echo(p),
                        allow_home ? " (or '~', '~/...' for the agent's home)" : ""),
            at);
      return;
    }
    const bool bad_byte = std::any_of(p.begin(), p.end(), [](char c) {
      const auto u = static_cast<unsigned char>(c);
      return u < 0x20 || u == 0x7f;
    });
    if (bad_byte) {
      error(v, fmt::format("{}: '{}' contains a control character", item_path, echo(p)), at);
      return;
    }
    std::string_view rest = p;
    bool dotted = false;
    while (!rest.empty()) {
      const size_t slash = rest.find('/');
      const std::string_view segment = rest.substr(0, slash);
      if (segment == "." || segment == "..") dotted = true;
      if (slash == std::string_view::npos) break;
      rest.remove_prefix(slash + 1);
    }
    if (dotted) {
      error(v, fmt::format("{}: '{}' has a '.' or '..' segment; write the path it means", item_path, echo(p)),
            at);
      return;
    }
    while (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
    out.emplace_back(p);
  });
  return out;
}

void Loader::loadFilesystem(const YAML::Node& n, SourceLocation at, FilesystemAccess& out) {
  std::vector<std::pair<std::string, SourceLocation>> read_only_at;
  forEachEntry(n, "filesystem", {"read_only", "read_write"}, at,
               [&](const std::string& key, SourceLocation key_at, const YAML::Node& value) {
                 const std::string path = child("filesystem", key);
                 auto paths = loadPaths(value, path, key_at, false);
                 if (key == "read_only") {
                   out.read_only = std::move(paths);
                 } else {
                   out.read_write = std::move(paths);
                 }
               });
  const std::set<std::string_view> read_only(out.read_only.begin(), out.read_only.end());
  for (const auto& p : out.read_write) {
    if (read_only.count(p) != 0) {
      error(at, fmt::format("filesystem: '{}' is in both read_only and read_write; keep it in one", echo(p)));
    }
  }
}

void Loader::loadAudit(const YAML::Node& n, SourceLocation at, AuditSettings& out) {
  forEachEntry(n, "audit", {"sensitive_paths", "package_sources"}, at,
               [&](const std::string& key, SourceLocation key_at, const YAML::Node& value) {
                 const std::string path = child("audit", key);
                 if (key == "sensitive_paths") {
                   out.sensitive_paths = loadPaths(value, path, key_at, true);
                   return;
                 }
                 forEachItem(value, path, key_at,
                             [&](size_t, const std::string& item_path, const YAML::Node& v) {
                               const auto text = scalar(v, item_path, key_at, "a host name");
                               if (!text) return;
                               auto host = HostPattern::create(*text);
                               if (!host.ok()) {
                                 error(v, fmt::format("{}: {}", item_path, host.error().message()), key_at);
                                 return;
                               }
                               out.package_sources.push_back(std::move(host).value());
                             });
               });
}

void Loader::loadNetwork(const YAML::Node& n, SourceLocation at, std::vector<NetworkRule>& out) {
  if (n.IsNull()) return;  // `network:` with nothing under it: no egress
  forEachEntry(
      n, "network", {}, at,
      [&](const std::string& name, SourceLocation key_at, const YAML::Node& value) {
        const bool name_ok =
            !name.empty() && name.size() <= kMaxRuleName && std::all_of(name.begin(), name.end(), [](char c) {
              return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                     c == '-' || c == '.';
            });
        if (!name_ok) {
          error(key_at,
                fmt::format("network: rule name '{}' must be 1-{} letters, digits, '_', '-' or '.' (it "
                            "appears in events as [policy:<name>])",
                            echo(name), kMaxRuleName));
        }
        NetworkRule rule;
        rule.name = name;
        rule.location = key_at;
        loadRule(name, value, key_at, rule);
        out.push_back(std::move(rule));
      },
      /*any_key=*/true);
}

void Loader::loadRule(const std::string& name, const YAML::Node& n, SourceLocation at, NetworkRule& out) {
  const std::string path = child("network", name);
  bool have_endpoints = false;
  bool have_binaries = false;
  forEachEntry(
      n, path, {"endpoints", "binaries"}, at,
      [&](const std::string& key, SourceLocation key_at, const YAML::Node& value) {
        const std::string list_path = child(path, key);
        if (key == "endpoints") {
          have_endpoints = true;
          forEachItem(value, list_path, key_at,
                      [&](size_t, const std::string& item_path, const YAML::Node& v) {
                        Endpoint endpoint;
                        endpoint.rule = name;
                        endpoint.location = locate(v, key_at);
                        loadEndpoint(v, item_path, key_at, endpoint);
                        out.endpoints.push_back(std::move(endpoint));
                      });
          if (value.IsSequence() && value.size() == 0) {
            error(value, fmt::format("{}: empty; a rule needs at least one endpoint", list_path), key_at);
          }
          return;
        }
        have_binaries = true;
        forEachItem(value, list_path, key_at, [&](size_t, const std::string& item_path, const YAML::Node& v) {
          const SourceLocation item_at = locate(v, key_at);
          if (v.IsScalar()) {
            error(v, fmt::format("{}: expected a mapping like '- path: {}'", item_path, echo(v.Scalar())),
                  key_at);
            return;
          }
          std::optional<Glob> glob;
          forEachEntry(v, item_path, {"path"}, item_at,
                       [&](const std::string&, SourceLocation path_at, const YAML::Node& pv) {
                         const auto text = scalar(pv, child(item_path, "path"), path_at, "a path");
                         if (!text) return;
                         if (text->empty() || text->front() != '/') {
                           error(pv,
                                 fmt::format("{}.path: '{}' must be an absolute path (e.g. /usr/bin/curl); "
                                             "Warden matches the executable file, never argv[0]",
                                             item_path, echo(*text)),
                                 path_at);
                           return;
                         }
                         auto g = Glob::create(*text, Glob::Kind::kPath);
                         if (!g.ok()) {
                           error(pv, fmt::format("{}.path: {}", item_path, g.error().message()), path_at);
                           return;
                         }
                         glob = std::move(g).value();
                       });
          if (v.IsMap() && !glob && v.size() == 0) {
            error(v, fmt::format("{}: missing 'path'", item_path), item_at);
          }
          if (glob) out.binaries.push_back(BinaryRule{std::move(*glob), item_at});
        });
        if (value.IsSequence() && value.size() == 0) {
          error(value,
                fmt::format("{}: empty; no process could use this rule (to allow any executable, write "
                            "'- path: \"/**\"')",
                            list_path),
                key_at);
        }
      });
  if (!n.IsMap()) return;
  if (!have_endpoints) error(at, fmt::format("{}: missing 'endpoints'", path));
  if (!have_binaries) {
    error(at, fmt::format("{}: missing 'binaries'; no process could use this rule (to allow any executable, "
                          "write 'binaries: [{{path: \"/**\"}}]')",
                          path));
  }
}

std::optional<uint16_t> Loader::loadPort(const YAML::Node& n, const std::string& path, SourceLocation at) {
  const auto text = scalar(n, path, at, "a port number");
  if (!text) return std::nullopt;
  const auto port = parseInteger(*text);
  if (!port || *port < 1 || *port > 65535) {
    error(n, fmt::format("{}: port '{}' is not a number from 1 to 65535", path, echo(*text)), at);
    return std::nullopt;
  }
  return static_cast<uint16_t>(*port);
}

std::vector<std::string> Loader::loadMethods(const YAML::Node& n, const std::string& path,
                                             SourceLocation at) {
  std::vector<std::string> out;
  auto one = [&](const YAML::Node& v, const std::string& item_path) {
    const auto text = scalar(v, item_path, at, "a method");
    if (!text) return;
    if (*text == "*" || std::find(std::begin(kMethods), std::end(kMethods), *text) != std::end(kMethods)) {
      out.push_back(*text);
      return;
    }
    std::string upper = *text;
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; });
    if (std::find(std::begin(kMethods), std::end(kMethods), upper) != std::end(kMethods)) {
      error(v,
            fmt::format("{}: method '{}' must be upper case ('{}'); HTTP methods are case-sensitive",
                        item_path, echo(*text), upper),
            at);
      return;
    }
    error(v,
          fmt::format("{}: unknown method '{}' (expected '*' or one of: {})", item_path, echo(*text),
                      join({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})),
          at);
  };
  if (n.IsSequence()) {
    forEachItem(n, path, at,
                [&](size_t, const std::string& item_path, const YAML::Node& v) { one(v, item_path); });
    if (n.size() == 0) error(n, fmt::format("{}: empty list of methods", path), at);
  } else {
    one(n, path);
  }
  return out;
}

std::optional<HttpRule> Loader::loadHttpRule(const YAML::Node& n, const std::string& path,
                                             SourceLocation at) {
  HttpRule rule;
  rule.location = locate(n, at);
  const size_t errors_before = errors_;
  bool have_method = false;
  bool have_path = false;
  forEachEntry(
      n, path, {"method", "path", "query"}, at,
      [&](const std::string& key, SourceLocation key_at, const YAML::Node& value) {
        const std::string field = child(path, key);
        if (key == "method") {
          have_method = true;
          rule.methods = loadMethods(value, field, key_at);
          return;
        }
        const auto text = scalar(value, field, key_at);
        if (!text) {
          if (key == "path") have_path = true;
          return;
        }
        if (key == "path") {
          have_path = true;
          if (text->find_first_of("?#") != std::string::npos) {
            error(value,
                  fmt::format("{}: '{}' contains '?' or '#'; put the query in 'query'", field, echo(*text)),
                  key_at);
            return;
          }
          auto g = Glob::create(*text, Glob::Kind::kPath);
          if (!g.ok()) {
            error(value, fmt::format("{}: {}", field, g.error().message()), key_at);
            return;
          }
          rule.path = std::move(g).value();
        } else {
          auto g = Glob::create(*text, Glob::Kind::kText);
          if (!g.ok()) {
            error(value, fmt::format("{}: {}", field, g.error().message()), key_at);
            return;
          }
          rule.query = std::move(g).value();
        }
      });
  if (!n.IsMap()) return std::nullopt;
  if (!have_method)
    error(rule.location, fmt::format("{}: missing 'method' (a method, a list of them, or \"*\")", path));
  if (!have_path) error(rule.location, fmt::format("{}: missing 'path' (e.g. \"/repos/**\")", path));
  if (errors_ != errors_before) return std::nullopt;
  return rule;
}

void Loader::loadEndpoint(const YAML::Node& n, const std::string& path, SourceLocation at, Endpoint& out) {
  const SourceLocation here = locate(n, at);
  bool have_host = false;
  bool have_ports = false;
  std::optional<SourceLocation> protocol_at, access_at, rules_at, deny_at, tls_at;
  forEachEntry(
      n, path,
      {"host", "ports", "protocol", "enforcement", "access", "rules", "deny_rules", "tls", "allowed_ips"},
      here, [&](const std::string& key, SourceLocation key_at, const YAML::Node& value) {
        const std::string field = child(path, key);
        if (key == "host") {
          have_host = true;
          const auto text = scalar(value, field, key_at, "a host name");
          if (!text) return;
          auto host = HostPattern::create(*text);
          if (!host.ok()) {
            error(value, fmt::format("{}: {}", field, host.error().message()), key_at);
            return;
          }
          out.host = std::move(host).value();
        } else if (key == "ports") {
          have_ports = true;
          std::vector<bool> seen(65536, false);
          forEachItem(value, field, key_at, [&](size_t, const std::string& item_path, const YAML::Node& v) {
            const auto port = loadPort(v, item_path, key_at);
            if (port && !seen[*port]) {
              seen[*port] = true;
              out.ports.push_back(*port);
            }
          });
          if (value.IsSequence() && value.size() == 0) {
            error(value, fmt::format("{}: empty; list the ports this endpoint may use (e.g. [443])", field),
                  key_at);
          }
        } else if (key == "protocol") {
          protocol_at = key_at;
          const auto text = scalar(value, field, key_at);
          if (!text) return;
          if (*text == "rest") {
            out.protocol = Protocol::kRest;
          } else if (*text == "websocket") {
            out.protocol = Protocol::kWebsocket;
          } else if (*text == "mcp") {
            out.protocol = Protocol::kMcp;
          } else {
            error(value,
                  fmt::format(
                      "{}: unknown protocol '{}' (expected rest, websocket or mcp; leave it out for L4 only)",
                      field, echo(*text)),
                  key_at);
          }
        } else if (key == "enforcement") {
          const auto text = scalar(value, field, key_at);
          if (!text) return;
          if (*text == "enforce") {
            out.enforcement = Enforcement::kEnforce;
          } else if (*text == "audit") {
            out.enforcement = Enforcement::kAudit;
          } else {
            error(value,
                  fmt::format("{}: unknown enforcement '{}' (expected enforce or audit)", field, echo(*text)),
                  key_at);
          }
        } else if (key == "access") {
          access_at = key_at;
          const auto text = scalar(value, field, key_at);
          if (!text) return;
          if (*text == "read-only") {
            out.access = Access::kReadOnly;
          } else if (*text == "read-write") {
            out.access = Access::kReadWrite;
          } else if (*text == "full") {
            out.access = Access::kFull;
          } else {
            error(value,
                  fmt::format("{}: unknown access '{}' (expected read-only, read-write or full)", field,
                              echo(*text)),
                  key_at);
          }
        } else if (key == "rules") {
          rules_at = key_at;
          forEachItem(value, field, key_at, [&](size_t, const std::string& item_path, const YAML::Node& v) {
            const SourceLocation item_at = locate(v, key_at);
            forEachEntry(v, item_path, {"allow"}, item_at,
                         [&](const std::string&, SourceLocation allow_at, const YAML::Node& allow) {
                           if (auto rule = loadHttpRule(allow, child(item_path, "allow"), allow_at)) {
                             out.allow_rules.push_back(std::move(*rule));
                           }
                         });
            if (v.IsMap() && v.size() == 0) error(v, fmt::format("{}: missing 'allow'", item_path), item_at);
          });
          if (value.IsSequence() && value.size() == 0) {
            error(value, fmt::format("{}: empty; with no allow rules every request is denied", field),
                  key_at);
          }
        } else if (key == "deny_rules") {
          deny_at = key_at;
          forEachItem(value, field, key_at, [&](size_t, const std::string& item_path, const YAML::Node& v) {
            if (auto rule = loadHttpRule(v, item_path, locate(v, key_at)))
              out.deny_rules.push_back(std::move(*rule));
          });
        } else if (key == "tls") {
          tls_at = key_at;
          const auto text = scalar(value, field, key_at);
          if (!text) return;
          if (*text == "skip") {
            out.tls_skip = true;
          } else {
            error(
                value,
                fmt::format("{}: unknown tls mode '{}' (the only mode is 'skip'; leave it out to let Warden "
                            "inspect TLS where the endpoint needs it)",
                            field, echo(*text)),
                key_at);
          }
        } else if (key == "allowed_ips") {
          forEachItem(value, field, key_at, [&](size_t, const std::string& item_path, const YAML::Node& v) {
            const auto text = scalar(v, item_path, key_at, "an address block");
            if (!text) return;
            auto cidr = Cidr::parse(*text);
            if (!cidr.ok()) {
              error(v, fmt::format("{}: {}", item_path, cidr.error().message()), key_at);
              return;
            }
            out.allowed_ips.push_back(std::move(cidr).value());
          });
        }
      });
  if (!n.IsMap()) return;
  if (!have_host) error(here, fmt::format("{}: missing 'host'", path));
  if (!have_ports) error(here, fmt::format("{}: missing 'ports' (e.g. ports: [443])", path));
  if (access_at && rules_at) {
    error(*rules_at, fmt::format("{}: use either 'access' or 'rules', not both", path));
  }
  const bool l7 = access_at || rules_at || deny_at;
  if (l7 && !protocol_at) {
    error(
        access_at  ? *access_at
        : rules_at ? *rules_at
                   : *deny_at,
        fmt::format("{}: request rules need a protocol (rest, websocket or mcp); without one the endpoint is "
                    "relayed at L4 and requests are never seen",
                    path));
  }
  if (protocol_at && !access_at && !rules_at) {
    error(*protocol_at,
          fmt::format("{}: protocol '{}' needs 'access' (read-only, read-write, full) or 'rules' to say "
                      "which requests are allowed",
                      path, protocolName(out.protocol)));
  }
  if (tls_at && out.tls_skip && l7) {
    error(*tls_at,
          fmt::format("{}: 'tls: skip' relays raw bytes, so the request rules could never be checked; "
                      "remove one or the other",
                      path));
  }
}

// Counts documents without building them, stopping at the second. (YAML::LoadAll is not used:
// yaml-cpp 0.7 can report an endless stream of documents for some malformed input.)
class DocumentCounter final : public YAML::EventHandler {
 public:
  std::optional<SourceLocation> second;

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents_ == 2)
      second = mark.is_null() ? SourceLocation{} : SourceLocation{mark.line + 1, mark.column + 1};
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
  }
  void OnMapEnd() override {}

 private:
  int documents_ = 0;
};

// Where the second YAML document in `text` starts, if there is one. May throw YAML::Exception.
std::optional<SourceLocation> secondDocument(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentCounter counter;
  for (int i = 0; i < 2 && parser.HandleNextDocument(counter); ++i) {
  }
  return counter.second;
}

Result<Policy> finish(Policy policy, Diagnostics& found, Diagnostics* diagnostics) {
  found.sortByLocation();
  if (diagnostics != nullptr) {
    diagnostics->append(found);
  }
  if (!found.empty()) return invalidArgument(found.toString());
  return policy;
}

}  // namespace

Result<Policy> loadPolicyText(std::string_view text, std::string_view name, Diagnostics* diagnostics) {
  Diagnostics found;
  Policy policy;
  policy.source = std::string(name);
  policy.hash = sha256Hex(text);
  if (text.size() > kMaxPolicyBytes) {
    found.add(
        name, {},
        fmt::format("the file is {} bytes; a policy may be at most {} bytes", text.size(), kMaxPolicyBytes));
    return finish(std::move(policy), found, diagnostics);
  }
  Loader loader(name, found);
  try {
    const std::string buffer(text);
    const YAML::Node root = YAML::Load(buffer);
    if (const auto second = secondDocument(buffer)) {
      found.add(name, *second, "the file holds more than one YAML document; a policy is exactly one");
    } else {
      loader.load(root, policy);
    }
  } catch (const YAML::Exception& e) {
    const SourceLocation at =
        e.mark.is_null() ? SourceLocation{} : SourceLocation{e.mark.line + 1, e.mark.column + 1};
    found.add(name, at, fmt::format("YAML syntax error: {}", e.msg));
  } catch (const std::exception& e) {
    found.add(name, {}, fmt::format("could not read the policy: {}", e.what()));
  }
  return finish(std::move(policy), found, diagnostics);
}

Result<Policy> loadPolicyFile(const std::filesystem::path& path, Diagnostics* diagnostics) {
  const std::string name = path.string();
  auto fail = [&](Error error) -> Result<Policy> {
    if (diagnostics != nullptr) diagnostics->add(name, {}, error.message());
    return error;
  };
  UniqueFd fd(::open(name.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return fail(errnoError(fmt::format("cannot open policy file '{}'", name)));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return fail(errnoError(fmt::format("cannot stat policy file '{}'", name)));
  if (S_ISDIR(st.st_mode))
    return fail(invalidArgument(fmt::format("'{}' is a directory, not a policy file", name)));
  auto text = readAll(fd.get(), name, kMaxPolicyBytes, OverLimit::kFail);
  if (!text.ok()) {
    if (text.error().code() == Code::kOutOfRange) {
      return fail(invalidArgument(fmt::format(
          "'{}' is larger than {} bytes; a policy may be at most that large", name, kMaxPolicyBytes)));
    }
    return fail(text.error().withContext(fmt::format("cannot read policy file '{}'", name)));
  }
  return loadPolicyText(*text, name, diagnostics);
}

}  // namespace warden::policy
