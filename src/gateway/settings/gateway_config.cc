#include "gateway/settings/gateway_config.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <exception>
#include <initializer_list>
#include <set>
#include <sstream>
#include <unordered_map>

#include "common/file_io.h"
#include "common/encoding.h"
#include "common/unique_fd.h"

namespace warden::gateway {
namespace {

constexpr size_t kMaxEcho = 80;
constexpr std::string_view kTopKeys[] = {"listen",          "db",     "ocsf_logging",   "retention",
                                         "policy",          "log_dir", "poll_interval", "tls",
                                         "operator_socket", "operator_group", "operator_tokens"};
constexpr std::string_view kTlsKeys[] = {"cert", "key", "client_ca"};
constexpr std::string_view kRetentionKeys[] = {"max_age", "max_bytes", "interval"};

std::string echo(std::string_view s) {
  std::string out;
  const size_t n = std::min(s.size(), kMaxEcho);
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    out += (c < 0x20 || c == 0x7f) ? fmt::format("\\x{:02x}", c) : std::string(1, s[i]);
  }
  if (s.size() > kMaxEcho) out += "...";
  return out;
}

template <size_t N>
std::string join(const std::string_view (&items)[N]) {
  std::string out;
  for (const auto item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

std::string_view kindOf(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Scalar:
      return "a value";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    default:
      return "nothing";
  }
}

struct Position {
  int line = 0;
  int column = 0;
};

// Walks one parsed document into a GatewayConfig, recording every problem. Single use; all
// yaml-cpp calls it makes are on nodes it has type-checked.
class ConfigWalker {
 public:
  ConfigWalker(std::string_view file, std::vector<ConfigDiagnostic>& out) : file_(file), out_(out) {}

  void walk(const YAML::Node& root, GatewayConfig& config) {
    if (root.IsNull()) return;  // an empty file: nothing set here
    forEachEntry(root, "", kTopKeys, {1, 1}, [&](const std::string& key, Position at, const YAML::Node& v) {
      if (key == "listen") {
        config.listen = listen(v, at);
      } else if (key == "db") {
        config.db = db(v, at);
      } else if (key == "ocsf_logging") {
        config.ocsf_logging = boolean(v, key, at);
      } else if (key == "poll_interval") {
        config.poll_interval_millis = duration(v, key, at);
      } else if (key == "retention") {
        retention(v, at, config);
      } else if (key == "policy" || key == "log_dir") {
        (key == "policy" ? config.policy : config.log_dir) = path(v, key, at);
      } else if (key == "operator_socket" || key == "operator_tokens") {
        (key == "operator_socket" ? config.operator_socket : config.operator_tokens) = path(v, key, at);
      } else if (key == "operator_group") {
        config.operator_group = path(v, key, at);
      } else if (key == "tls") {
        config.tls = tls(v, at);
      }
    });
  }

 private:
  Position locate(const YAML::Node& n, Position fallback) const {
    const YAML::Mark m = n.Mark();
    if (m.is_null() || m.line < 0 || m.column < 0) return fallback;
    return {m.line + 1, m.column + 1};
  }
  void error(Position at, std::string message) { out_.push_back({file_, at.line, at.column, std::move(message)}); }
  // Reports at the value; an empty value (`key:`) at its key, `fallback`.
  void error(const YAML::Node& at, Position fallback, std::string message) {
    error(at.IsNull() ? fallback : locate(at, fallback), std::move(message));
  }

  template <size_t N, typename F>
  void forEachEntry(const YAML::Node& map, std::string_view path, const std::string_view (&allowed)[N],
                    Position fallback, F&& f) {
    if (!map.IsMap()) {
      error(map, fallback,
            fmt::format("{}: expected a mapping, got {}", path.empty() ? "the config" : path, kindOf(map)));
      return;
    }
    std::unordered_map<std::string, int> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      const YAML::Node key_node = it->first;
      const YAML::Node value = it->second;
      if (!key_node.IsScalar()) {
        error(key_node, fallback, "keys must be plain strings");
        continue;
      }
      const std::string key = key_node.Scalar();
      const Position at = locate(key_node, fallback);
      const std::string full = path.empty() ? key : fmt::format("{}.{}", path, key);
      if (const auto [first, inserted] = seen.emplace(key, at.line); !inserted) {
        error(at, fmt::format("duplicate key '{}' (first at line {})", echo(full), first->second));
        continue;
      }
      if (std::find(std::begin(allowed), std::end(allowed), key) == std::end(allowed)) {
        error(at, fmt::format("unknown key '{}' {} (expected one of: {})", echo(key),
                              path.empty() ? std::string("at the top level") : fmt::format("in {}", path),
                              join(allowed)));
        continue;
      }
      f(key, at, value);
    }
  }

  std::optional<std::string> scalar(const YAML::Node& n, std::string_view key, Position at,
                                    std::string_view expected) {
    if (n.IsScalar() && !n.Scalar().empty()) return n.Scalar();
    error(n, at, fmt::format("{}: expected {}, got {}", key, expected, n.IsScalar() ? "an empty value" : kindOf(n)));
    return std::nullopt;
  }

  std::optional<bool> boolean(const YAML::Node& n, std::string_view key, Position at) {
    const auto s = scalar(n, key, at, "true or false");
    if (!s) return std::nullopt;
    if (*s == "true" || *s == "True" || *s == "TRUE") return true;
    if (*s == "false" || *s == "False" || *s == "FALSE") return false;
    error(n, at, fmt::format("{}: '{}' is not a bool; allowed: true, false", key, echo(*s)));
    return std::nullopt;
  }

  std::optional<int64_t> duration(const YAML::Node& n, std::string_view key, Position at) {
    const auto s = scalar(n, key, at, "a duration such as 30s, 5m, 2h or 90d");
    if (!s) return std::nullopt;
    const auto ms = parseDurationMillis(*s);
    if (!ms || *ms <= 0) {
      error(n, at,
            fmt::format("{}: '{}' is not a positive duration; use a number and a unit: ms, s, m, h or d (90d)", key,
                        echo(*s)));
      return std::nullopt;
    }
    return ms;
  }

  std::optional<uint64_t> size(const YAML::Node& n, std::string_view key, Position at) {
    const auto s = scalar(n, key, at, "a size such as 512MiB or 10GiB");
    if (!s) return std::nullopt;
    const auto bytes = parseByteSize(*s);
    if (!bytes || *bytes == 0) {
      error(n, at,
            fmt::format("{}: '{}' is not a positive size; use bytes or a unit: K, M, G, T (KiB...), KB, MB, GB",
                        key, echo(*s)));
      return std::nullopt;
    }
    return bytes;
  }

  std::optional<std::string> listen(const YAML::Node& n, Position at) {
    const auto s = scalar(n, "listen", at, "ADDR:PORT");
    if (!s) return std::nullopt;
    const auto colon = s->rfind(':');
    bool ok = colon != std::string::npos && colon > 0 && colon + 1 < s->size();
    if (ok) {
      const std::string_view host = std::string_view(*s).substr(0, colon);
      const std::string_view port = std::string_view(*s).substr(colon + 1);
      unsigned value = 0;
      const auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
      ok = ec == std::errc() && p == port.data() + port.size() && value <= 65535;
      const bool bracketed = host.front() == '[';
      if (bracketed) ok = ok && host.size() > 2 && host.back() == ']';
      else ok = ok && host.find(':') == std::string_view::npos;
      for (const char c : host) {
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) ok = false;
      }
    }
    if (!ok) {
      error(n, at,
            fmt::format("listen: '{}' is not ADDR:PORT (e.g. 127.0.0.1:7443, [::1]:7443; port 0-65535)", echo(*s)));
      return std::nullopt;
    }
    return s;
  }

  std::optional<std::string> db(const YAML::Node& n, Position at) {
    const auto s = scalar(n, "db", at, "an SQLite file path or a postgresql:// URL");
    if (!s) return std::nullopt;
    const bool postgres = s->starts_with("postgresql://") || s->starts_with("postgres://");
    if (!postgres && s->find("://") != std::string::npos) {
      error(n, at,
            fmt::format("db: '{}' is neither an SQLite file path nor a postgresql:// URL", echo(*s)));
      return std::nullopt;
    }
    if (s->find('\0') != std::string::npos) {
      error(n, at, "db: contains a NUL byte");
      return std::nullopt;
    }
    return s;
  }

  void retention(const YAML::Node& n, Position at, GatewayConfig& config) {
    forEachEntry(n, "retention", kRetentionKeys, at, [&](const std::string& key, Position key_at, const YAML::Node& v) {
      const std::string full = fmt::format("retention.{}", key);
      if (key == "max_age") {
        config.retention_millis = duration(v, full, key_at);
      } else if (key == "max_bytes") {
        config.retention_max_bytes = size(v, full, key_at);
      } else {
        config.retention_interval_millis = duration(v, full, key_at);
      }
    });
  }

  std::optional<std::string> path(const YAML::Node& n, std::string_view key, Position at) {
    const std::string_view what = key == "policy"            ? "a policy file path"
                                  : key == "log_dir"         ? "a directory path"
                                  : key == "operator_group"  ? "a group name or number"
                                  : key == "operator_socket" ? "a unix socket path"
                                                             : "a file path";
    const auto s = scalar(n, key, at, what);
    if (!s) return std::nullopt;
    if (s->find('\0') != std::string::npos) {
      error(n, at, fmt::format("{}: contains a NUL byte", key));
      return std::nullopt;
    }
    return s;
  }

  std::optional<GatewayTlsConfig> tls(const YAML::Node& n, Position at) {
    GatewayTlsConfig out;
    bool have_cert = false, have_key = false, bad = false;
    const size_t before = out_.size();
    forEachEntry(n, "tls", kTlsKeys, at, [&](const std::string& key, Position key_at, const YAML::Node& v) {
      const auto s = scalar(v, fmt::format("tls.{}", key), key_at, "a file path");
      if (!s) {
        bad = true;
      } else if (key == "cert") {
        out.cert = *s;
        have_cert = true;
      } else if (key == "client_ca") {
        out.client_ca = *s;
      } else {
        out.key = *s;
        have_key = true;
      }
    });
    if (out_.size() != before) return std::nullopt;
    if (!have_cert || !have_key) {
      error(n, at, fmt::format("tls: needs both 'cert' and 'key' (missing '{}')", have_cert ? "key" : "cert"));
      return std::nullopt;
    }
    if (bad) return std::nullopt;
    return out;
  }

  std::string file_;
  std::vector<ConfigDiagnostic>& out_;
};

// Counts documents without building them, stopping at the second (see policy/loader.cc for
// why YAML::LoadAll is avoided with yaml-cpp 0.7).
class DocumentCounter final : public YAML::EventHandler {
 public:
  std::optional<Position> second;

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents_ == 2) second = mark.is_null() ? Position{} : Position{mark.line + 1, mark.column + 1};
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

 private:
  int documents_ = 0;
};

std::optional<Position> secondDocument(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentCounter counter;
  for (int i = 0; i < 2 && parser.HandleNextDocument(counter); ++i) {
  }
  return counter.second;
}

Result<GatewayConfig> finish(GatewayConfig config, std::vector<ConfigDiagnostic>& found,
                             std::vector<ConfigDiagnostic>* diagnostics) {
  std::stable_sort(found.begin(), found.end(), [](const ConfigDiagnostic& a, const ConfigDiagnostic& b) {
    return std::pair(a.line, a.column) < std::pair(b.line, b.column);
  });
  if (diagnostics != nullptr) diagnostics->insert(diagnostics->end(), found.begin(), found.end());
  if (!found.empty()) return invalidArgument(joinDiagnostics(found));
  return config;
}

}  // namespace

Result<GatewayConfig> parseGatewayConfig(std::string_view text, std::string_view name,
                                         std::vector<ConfigDiagnostic>* diagnostics) {
  std::vector<ConfigDiagnostic> found;
  GatewayConfig config;
  const std::string file(name);
  if (text.size() > kMaxGatewayConfigBytes) {
    found.push_back({file, 0, 0,
                     fmt::format("the file is {} bytes; a gateway config may be at most {} bytes", text.size(),
                                 kMaxGatewayConfigBytes)});
    return finish(std::move(config), found, diagnostics);
  }
  try {
    const std::string buffer(text);
    const YAML::Node root = YAML::Load(buffer);
    if (const auto second = secondDocument(buffer)) {
      found.push_back({file, second->line, second->column,
                       "the file holds more than one YAML document; a gateway config is exactly one"});
    } else {
      ConfigWalker(file, found).walk(root, config);
    }
  } catch (const YAML::Exception& e) {
    const Position at = e.mark.is_null() ? Position{} : Position{e.mark.line + 1, e.mark.column + 1};
    found.push_back({file, at.line, at.column, fmt::format("YAML syntax error: {}", e.msg)});
  } catch (const std::exception& e) {
    found.push_back({file, 0, 0, fmt::format("could not read the config: {}", e.what())});
  }
  return finish(std::move(config), found, diagnostics);
}

Result<GatewayConfig> loadGatewayConfig(const std::filesystem::path& path,
                                        std::vector<ConfigDiagnostic>* diagnostics) {
  const std::string name = path.string();
  auto fail = [&](Error error) -> Result<GatewayConfig> {
    if (diagnostics != nullptr) diagnostics->push_back({name, 0, 0, error.message()});
    return error;
  };
  UniqueFd fd(::open(name.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return fail(errnoError(fmt::format("cannot open gateway config '{}'", name)));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return fail(errnoError(fmt::format("cannot stat gateway config '{}'", name)));
  if (S_ISDIR(st.st_mode)) return fail(invalidArgument(fmt::format("'{}' is a directory, not a config file", name)));
  auto text = readAll(fd.get(), name, kMaxGatewayConfigBytes, OverLimit::kFail);
  if (!text.ok()) {
    if (text.error().code() == Code::kOutOfRange) {
      return fail(invalidArgument(
          fmt::format("'{}' is larger than {} bytes; a gateway config may be at most that large", name,
                      kMaxGatewayConfigBytes)));
    }
    return fail(text.error().withContext(fmt::format("cannot read gateway config '{}'", name)));
  }
  return parseGatewayConfig(*text, name, diagnostics);
}

}  // namespace warden::gateway
