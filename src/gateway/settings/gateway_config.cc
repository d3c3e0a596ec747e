#include "gateway/settings/gateway_config.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <charconv>

#include "common/diagnostics.h"
#include "common/encoding.h"
#include "common/file_io.h"
#include "common/unique_fd.h"
#include "common/yaml_reader.h"

namespace warden::gateway {
namespace {

const YamlReader::Keys kTopKeys = {"listen",          "db",             "ocsf_logging",   "retention",
                                       "policy",          "log_dir",        "poll_interval",  "tls",
                                       "operator_socket", "operator_group", "operator_tokens", "exports"};
const YamlReader::Keys kTlsKeys = {"cert", "key", "client_ca"};
const YamlReader::Keys kRetentionKeys = {"max_age", "max_bytes", "interval"};

// Walks one parsed document into a GatewayConfig with the shared YAML reader (common/yaml_reader.h),
// recording every problem. Single use.
class ConfigWalker {
 public:
  explicit ConfigWalker(YamlReader& reader) : r_(reader) {}

  void walk(const YAML::Node& root, GatewayConfig& config) {
    if (root.IsNull()) return;  // an empty file: nothing set here
    if (!root.IsMap()) {
      r_.error(root, fmt::format("the config: expected a mapping, got {}", yamlKindOf(root)), {1, 1});
      return;
    }
    r_.forEachEntry(root, "", kTopKeys, {1, 1}, [&](const std::string& key, SourceLocation at, const YAML::Node& v) {
      if (key == "listen") {
        config.listen = listen(v, at);
      } else if (key == "db") {
        config.db = db(v, at);
      } else if (key == "ocsf_logging") {
        config.ocsf_logging = r_.boolean(v, key, at);
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
      } else if (key == "exports") {
        std::vector<std::string> urls;
        r_.forEachItem(v, key, at, [&](size_t, const std::string& item_path, const YAML::Node& item) {
          if (auto url = scalar(item, item_path, at, "an export URL")) urls.push_back(*url);
        });
        config.exports = std::move(urls);
      }
    });
  }

 private:
  // A non-empty scalar, or a recorded "expected <what>" problem.
  std::optional<std::string> scalar(const YAML::Node& n, const std::string& key, SourceLocation at,
                                    std::string_view expected) {
    if (n.IsScalar() && n.Scalar().empty()) {
      r_.error(n, fmt::format("{}: expected {}, got an empty value", key, expected), at);
      return std::nullopt;
    }
    return r_.scalar(n, key, at, expected);
  }

  std::optional<int64_t> duration(const YAML::Node& n, const std::string& key, SourceLocation at) {
    const auto s = scalar(n, key, at, "a duration such as 30s, 5m, 2h or 90d");
    if (!s) return std::nullopt;
    const auto ms = parseDurationMillis(*s);
    if (!ms || *ms <= 0) {
      r_.error(n,
               fmt::format("{}: '{}' is not a positive duration; use a number and a unit: ms, s, m, h or d (90d)", key,
                           echoValue(*s)),
               at);
      return std::nullopt;
    }
    return ms;
  }

  std::optional<uint64_t> size(const YAML::Node& n, const std::string& key, SourceLocation at) {
    const auto s = scalar(n, key, at, "a size such as 512MiB or 10GiB");
    if (!s) return std::nullopt;
    const auto bytes = parseByteSize(*s);
    if (!bytes || *bytes == 0) {
      r_.error(n,
               fmt::format("{}: '{}' is not a positive size; use bytes or a unit: K, M, G, T (KiB...), KB, MB, GB",
                           key, echoValue(*s)),
               at);
      return std::nullopt;
    }
    return bytes;
  }

  std::optional<std::string> listen(const YAML::Node& n, SourceLocation at) {
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
      r_.error(n,
               fmt::format("listen: '{}' is not ADDR:PORT (e.g. 127.0.0.1:7443, [::1]:7443; port 0-65535)",
                           echoValue(*s)),
               at);
      return std::nullopt;
    }
    return s;
  }

  std::optional<std::string> db(const YAML::Node& n, SourceLocation at) {
    const auto s = scalar(n, "db", at, "an SQLite file path or a postgresql:// URL");
    if (!s) return std::nullopt;
    const bool postgres = s->starts_with("postgresql://") || s->starts_with("postgres://");
    if (!postgres && s->find("://") != std::string::npos) {
      r_.error(n, fmt::format("db: '{}' is neither an SQLite file path nor a postgresql:// URL", echoValue(*s)), at);
      return std::nullopt;
    }
    if (s->find('\0') != std::string::npos) {
      r_.error(n, "db: contains a NUL byte", at);
      return std::nullopt;
    }
    return s;
  }

  void retention(const YAML::Node& n, SourceLocation at, GatewayConfig& config) {
    r_.forEachEntry(n, "retention", kRetentionKeys, at,
                    [&](const std::string& key, SourceLocation key_at, const YAML::Node& v) {
                      const std::string full = yamlChildPath("retention", key);
                      if (key == "max_age") {
                        config.retention_millis = duration(v, full, key_at);
                      } else if (key == "max_bytes") {
                        config.retention_max_bytes = size(v, full, key_at);
                      } else {
                        config.retention_interval_millis = duration(v, full, key_at);
                      }
                    });
  }

  std::optional<std::string> path(const YAML::Node& n, const std::string& key, SourceLocation at) {
    const std::string_view what = key == "policy"            ? "a policy file path"
                                  : key == "log_dir"         ? "a directory path"
                                  : key == "operator_group"  ? "a group name or number"
                                  : key == "operator_socket" ? "a unix socket path"
                                                             : "a file path";
    const auto s = scalar(n, key, at, what);
    if (!s) return std::nullopt;
    if (s->find('\0') != std::string::npos) {
      r_.error(n, fmt::format("{}: contains a NUL byte", key), at);
      return std::nullopt;
    }
    return s;
  }

  std::optional<GatewayTlsConfig> tls(const YAML::Node& n, SourceLocation at) {
    GatewayTlsConfig out;
    bool have_cert = false, have_key = false;
    const size_t before = r_.errors();
    r_.forEachEntry(n, "tls", kTlsKeys, at, [&](const std::string& key, SourceLocation key_at, const YAML::Node& v) {
      const auto s = scalar(v, yamlChildPath("tls", key), key_at, "a file path");
      if (!s) return;
      if (key == "cert") {
        out.cert = *s;
        have_cert = true;
      } else if (key == "client_ca") {
        out.client_ca = *s;
      } else {
        out.key = *s;
        have_key = true;
      }
    });
    if (r_.errors() != before) return std::nullopt;
    if (!have_cert || !have_key) {
      r_.error(n, fmt::format("tls: needs both 'cert' and 'key' (missing '{}')", have_cert ? "key" : "cert"), at);
      return std::nullopt;
    }
    return out;
  }

  YamlReader& r_;
};

Result<GatewayConfig> finish(GatewayConfig config, Diagnostics& found, std::vector<ConfigDiagnostic>* diagnostics) {
  found.sortByLocation();
  std::vector<ConfigDiagnostic> out;
  for (const auto& d : found.entries()) out.push_back({d.file, d.location.line, d.location.column, d.message});
  if (diagnostics != nullptr) diagnostics->insert(diagnostics->end(), out.begin(), out.end());
  if (!out.empty()) return invalidArgument(joinDiagnostics(out));
  return config;
}

}  // namespace

Result<GatewayConfig> parseGatewayConfig(std::string_view text, std::string_view name,
                                         std::vector<ConfigDiagnostic>* diagnostics) {
  Diagnostics found;
  GatewayConfig config;
  const auto root = parseYamlDocument(text, name, kMaxGatewayConfigBytes, found);
  if (root) {
    YamlReader reader(name, found);
    ConfigWalker(reader).walk(*root, config);
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
