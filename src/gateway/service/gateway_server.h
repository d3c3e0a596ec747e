#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "gateway/settings/runtime_settings.h"
#include "gateway/store/store.h"

namespace grpc {
class Server;
}

namespace warden::gateway {

class AppendSignal;
class FleetDetector;
class FleetExport;
class GatewayAuditTrail;
class GatewayService;
class OperatorSocket;
class OperatorTokens;
class PolicySource;
struct ServedPolicy;
class RetentionTask;

inline constexpr std::string_view kDefaultGatewayListen = "127.0.0.1:7443";
inline constexpr std::string_view kDefaultGatewayDb = "/var/lib/warden/gateway.db";
inline constexpr std::string_view kDefaultGatewayLogDir = "/var/log/warden/gateway";

// How `warden gateway` starts. Unset optionals fall back to the config file, then the defaults.
struct GatewayServerOptions {
  std::optional<std::string> listen;        // ADDR:PORT; port 0 = any free port (see port())
  std::optional<std::string> db;            // "sqlite:///path", a plain path, or "postgresql://..."
  std::optional<std::filesystem::path> config_file;
  bool ocsf_logging_flag = false;           // --ocsf-logging
  // WARDEN_OCSF_LOGGING as read by the caller (nullopt: unset). Kept out of getenv() so tests are
  // independent of the environment.
  std::optional<std::string> ocsf_logging_env;
  // The gateway's own audit trail goes to <log_dir>/<its session id>/ (default kDefaultGatewayLogDir).
  std::optional<std::filesystem::path> log_dir;
  // Retention (--retention, --retention-max-bytes, --retention-interval; the config file's
  // retention.max_age / max_bytes / interval). Neither an age nor a size: nothing is ever deleted.
  std::optional<int64_t> retention_max_age_ms;
  std::optional<uint64_t> retention_max_bytes;
  std::optional<int64_t> retention_interval_ms;  // default 1 h
  // The policy GetSandboxPolicy serves (--policy; the config file's `policy`). None: policy_yaml
  // stays empty ("keep your policy").
  std::optional<std::filesystem::path> policy_file;
  std::chrono::milliseconds policy_check_interval{1000};  // how often the file is looked at, at most
  // Operators (docs/gateway.md "Authentication"); each falls back to the config file, then the
  // default. The unix socket (default kDefaultOperatorSocket; "none": no socket) where root and
  // `operator_group` are operators; the operator token file (none by default).
  std::optional<std::string> operator_socket;
  std::optional<std::string> operator_group;
  std::optional<std::filesystem::path> operator_tokens;
  // Fleet rules (docs/detection.md "Fleet rules at the gateway"): rule files evaluated over every
  // pushed event, and whether the built-in pack runs here too (off by default: sessions run it live).
  std::vector<std::filesystem::path> rules_files;
  bool rules_builtin = false;
  // Exports (docs/export.md "At the gateway"): every stored event of every session to each URL
  // (syslog+tcp/tls, https/http; not syslog+udp), resuming from the cursor the store keeps. The
  // flags' URLs come after the config file's `exports`.
  std::vector<std::string> exports;
  std::chrono::milliseconds export_drain{5000};  // stop(): how long each export keeps delivering
};

// A store URL split: SQLite path or PostgreSQL URL. InvalidArgument for an empty URL, an empty
// sqlite path, or another scheme.
struct StoreLocation {
  bool postgres = false;
  std::string sqlite_path;   // when !postgres
  std::string postgres_url;  // when postgres
};
Result<StoreLocation> parseStoreUrl(std::string_view url);

// The running gateway, started in order: the policy file validated (refused with the loader's
// file:line:col diagnostics); the store (migrated); the gateway's own audit trail (a session of its
// own, registered in the store, its events stored as they are written); the runtime settings
// restored from the store (revision = last persisted + 1, saved at once) and persisted through it
// (base ocsf_enabled from config file > flag > environment > false); the served policy (its version
// kept across restarts while the file's bytes are the same, + 1 when they differ); the operators'
// access (token file loaded and checked, group resolved, unix socket bound); the Gateway service
// (recording operator actions in the trail); a gRPC server bound to `listen` (plaintext; TLS when the
// config file has `tls`, verifying operators' client certificates with `tls.client_ca`) and fed the
// unix socket's connections; the retention task (when an age or size limit is set; runs at once,
// then every interval).
//
// Lifetime: start() returns a serving object; stop() (or the destructor) stops retention, wakes
// followers, shuts the server down (waiting up to 5 s for RPCs in flight, then cancelling them) and
// closes the audit trail (final checkpoint, stored). Thread-safe: stop() and wait() may be called
// from any thread; port() and the accessors are immutable after start().
class GatewayServer {
 public:
  static Result<std::unique_ptr<GatewayServer>> start(const GatewayServerOptions& options);
  ~GatewayServer();
  GatewayServer(const GatewayServer&) = delete;
  GatewayServer& operator=(const GatewayServer&) = delete;

  int port() const { return port_; }               // the bound port (the chosen one for port 0)
  const std::string& listenAddress() const { return listen_; }  // as configured
  RuntimeSettings& settings() { return *settings_; }
  EventStore& store() { return *store_; }
  // The gateway's own session (its audit trail) and the directory its warden.log is in.
  const std::string& gatewaySessionId() const;
  const std::filesystem::path& gatewayLogDir() const;
  // nullptr when no retention limit is set / no policy is served / no fleet rules are given.
  FleetDetector* fleet() { return fleet_.get(); }
  // The exports, in the order of their URLs (config file first, then flags).
  const std::vector<std::unique_ptr<FleetExport>>& exports() const { return exports_; }
  RetentionTask* retention() { return retention_.get(); }
  PolicySource* policy() { return policy_.get(); }
  // The operators' unix socket; empty when there is none.
  std::filesystem::path operatorSocketPath() const;

  void stop();
  // Blocks until stop() is called from another thread (or the server shuts down).
  void wait();

 private:
  GatewayServer();
  // The served policy's CONFIG events (LOADED at start, UPDATED on a change, FAILED on a rejected
  // edit) in the gateway's own trail; policyChanged is PolicySource's on_change hook (bumps and
  // saves the config revision and the policy version; an error keeps the previous version).
  void recordPolicy(std::string_view state, const ServedPolicy& policy, uint64_t revision);
  Result<void> policyChanged(const ServedPolicy& next);
  void policyRejected(const std::string& problems);

  std::unique_ptr<EventStore> store_;
  std::unique_ptr<GatewayAuditTrail> trail_;
  std::unique_ptr<RuntimeSettings> settings_;
  std::unique_ptr<PolicySource> policy_;
  std::filesystem::path policy_file_;
  std::unique_ptr<AppendSignal> appended_;
  std::unique_ptr<OperatorTokens> operator_tokens_;
  std::unique_ptr<OperatorSocket> operator_socket_;
  std::unique_ptr<GatewayService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<RetentionTask> retention_;
  std::unique_ptr<FleetDetector> fleet_;  // null without fleet rules
  std::vector<std::unique_ptr<FleetExport>> exports_;
  std::string listen_;
  int port_ = 0;
  std::once_flag stopped_;
};

}  // namespace warden::gateway
