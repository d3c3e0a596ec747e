#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "gateway/settings/runtime_settings.h"
#include "gateway/store/store.h"

namespace grpc {
class Server;
}

namespace warden::gateway {

class GatewayService;

inline constexpr std::string_view kDefaultGatewayListen = "127.0.0.1:7443";
inline constexpr std::string_view kDefaultGatewayDb = "/var/lib/warden/gateway.db";

// How `warden gateway` starts. Unset optionals fall back to the config file, then the defaults.
struct GatewayServerOptions {
  std::optional<std::string> listen;        // ADDR:PORT; port 0 = any free port (see port())
  std::optional<std::string> db;            // "sqlite:///path", a plain path, or "postgresql://..."
  std::optional<std::filesystem::path> config_file;
  bool ocsf_logging_flag = false;           // --ocsf-logging
  // WARDEN_OCSF_LOGGING as read by the caller (nullopt: unset). Kept out of getenv() so tests are
  // independent of the environment.
  std::optional<std::string> ocsf_logging_env;
};

// A store URL split: SQLite path or PostgreSQL URL. InvalidArgument for an empty URL, an empty
// sqlite path, or another scheme.
struct StoreLocation {
  bool postgres = false;
  std::string sqlite_path;   // when !postgres
  std::string postgres_url;  // when postgres
};
Result<StoreLocation> parseStoreUrl(std::string_view url);

// The running gateway: the store (migrated), the runtime settings (base ocsf_enabled from config
// file > flag > environment > false), the Gateway service, and a gRPC server bound to `listen`
// (plaintext; TLS when the config file has `tls`).
//
// Lifetime: start() returns a serving object; stop() (or the destructor) shuts the server down,
// waiting up to 5 s for RPCs in flight, then cancelling them. Thread-safe: stop() and wait() may be
// called from any thread; port() is immutable.
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

  void stop();
  // Blocks until stop() is called from another thread (or the server shuts down).
  void wait();

 private:
  GatewayServer() = default;

  std::unique_ptr<EventStore> store_;
  std::unique_ptr<RuntimeSettings> settings_;
  std::unique_ptr<GatewayService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::string listen_;
  int port_ = 0;
};

}  // namespace warden::gateway
