#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "gateway/settings/config_diagnostic.h"

namespace warden::gateway {

struct GatewayTlsConfig {
  std::string cert;  // PEM certificate chain file
  std::string key;   // PEM private key file
  // PEM CA certificates; when set, a client certificate they sign makes its caller an operator
  // (mutual TLS; clients without one still connect: sessions use their tokens).
  std::string client_ca;
};

// The gateway's YAML config file (`warden gateway --config FILE`). Every field is optional:
// an absent field means "not set here" so that flags and defaults can apply.
//
//   listen: 127.0.0.1:7443        # ADDR:PORT, IPv6 as [::1]:7443
//   db: /var/lib/warden/gw.db     # an SQLite path or postgresql://...
//   ocsf_logging: true            # true|false: the base value of ocsf_json_enabled
//   retention:                    # each entry optional
//     max_age: 90d                # duration: 250ms, 30s, 5m, 2h, 7d (> 0)
//     max_bytes: 10GiB            # size: 1024, 10K, 512MiB, 4GiB, 1GB (> 0)
//     interval: 1h                # how often retention runs: duration (> 0)
//   policy: /etc/warden/policy.yaml   # the policy GetSandboxPolicy serves (a file path)
//   log_dir: /var/log/warden/gateway  # where the gateway's own audit trail goes (a directory)
//   poll_interval: 5s             # duration (> 0)
//   tls: {cert: FILE, key: FILE, client_ca: FILE}  # cert and key required; client_ca: operators' CA
//   operator_socket: /run/warden/gateway.sock      # the operators' unix socket; "" for none
//   operator_group: warden                          # besides root, this group's members are operators there
//   operator_tokens: /etc/warden/operator-tokens    # "ID TOKEN" lines; root-only (mode 0600)
//   exports: [https://siem.example/ingest?header_file=/etc/warden/siem-headers]  # URLs (docs/export.md)
struct GatewayConfig {
  std::optional<std::string> listen;
  std::optional<std::string> db;
  std::optional<bool> ocsf_logging;
  std::optional<int64_t> retention_millis;           // retention.max_age
  std::optional<uint64_t> retention_max_bytes;       // retention.max_bytes
  std::optional<int64_t> retention_interval_millis;  // retention.interval
  std::optional<std::string> policy;
  std::optional<std::string> log_dir;
  std::optional<int64_t> poll_interval_millis;
  std::optional<GatewayTlsConfig> tls;
  std::optional<std::string> operator_socket;
  std::optional<std::string> operator_group;
  std::optional<std::string> operator_tokens;
  std::optional<std::vector<std::string>> exports;  // checked when the gateway starts
};

// Larger config files are rejected before parsing.
inline constexpr size_t kMaxGatewayConfigBytes = 256 * 1024;

// Parses `text`; `name` is the file name used in diagnostics. Unknown keys, duplicate keys,
// values of the wrong type and YAML syntax errors are each reported with file:line:col; the
// parser keeps going so that one run reports every problem (a syntax error stops it). On failure
// returns InvalidArgument whose message is every diagnostic, one per line; the same are appended
// to `*diagnostics` when given. An empty file is a valid, empty config. yaml-cpp throws; nothing
// thrown leaves this function. Stateless and thread-safe.
Result<GatewayConfig> parseGatewayConfig(std::string_view text, std::string_view name,
                                         std::vector<ConfigDiagnostic>* diagnostics = nullptr);
// Reads `path` and parses it as above. A file that cannot be read is NotFound /
// PermissionDenied / InvalidArgument (a directory, too large).
Result<GatewayConfig> loadGatewayConfig(const std::filesystem::path& path,
                                        std::vector<ConfigDiagnostic>* diagnostics = nullptr);

// The environment variable that sets the base ocsf_enabled when neither file nor flag does.
inline constexpr std::string_view kOcsfLoggingEnv = "WARDEN_OCSF_LOGGING";

// Parses the value of WARDEN_OCSF_LOGGING: nullptr (unset) -> nullopt; 1/true/yes -> true,
// 0/false/no -> false (any case); anything else (also the empty string) -> InvalidArgument
// naming the variable and the accepted values.
Result<std::optional<bool>> parseOcsfLoggingEnv(const char* value);

// The gateway's base ocsf_enabled (before runtime settings), highest first: the config file's
// `ocsf_logging`, the --ocsf-logging flag (a presence flag: true when given), the environment
// variable (its raw value, nullptr when unset), false. The variable is validated even when a
// higher source decides, so that a typo never lies in wait: an invalid value is an error.
Result<bool> baseOcsfEnabled(std::optional<bool> config_file_value, bool flag, const char* env_value);

}  // namespace warden::gateway
