#include "gateway/service/gateway_server.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>

#include <chrono>
#include <fstream>
#include <map>
#include <sstream>

#include "common/error.h"
#include "gateway/service/gateway_service.h"
#include "gateway/settings/gateway_config.h"
#include "gateway/settings/settings_registry.h"
#include "gateway/store/postgres/postgres_store.h"
#include "gateway/store/sqlite/sqlite_store.h"

namespace warden::gateway {

namespace {

bool startsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

Result<std::string> readSmallFile(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return errnoError(std::string(what) + " " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

Result<std::unique_ptr<EventStore>> openStore(const std::string& url) {
  auto loc = parseStoreUrl(url);
  if (!loc.ok()) return loc.error();
  Result<std::unique_ptr<EventStore>> store =
      loc->postgres ? openPostgresStore(loc->postgres_url) : openSqliteStore(loc->sqlite_path);
  if (!store.ok()) return store.error().withContext("opening the event store " + url);
  if (auto m = (*store)->migrate(); !m.ok()) return m.error().withContext("migrating the event store " + url);
  return store;
}

}  // namespace

Result<StoreLocation> parseStoreUrl(std::string_view url) {
  StoreLocation loc;
  if (url.empty()) return invalidArgument("empty --db URL; give sqlite:///path, a path, or postgresql://...");
  if (startsWith(url, "postgresql://") || startsWith(url, "postgres://")) {
    loc.postgres = true;
    loc.postgres_url = std::string(url);
    return loc;
  }
  std::string_view path = url;
  if (startsWith(url, "sqlite://")) {
    path = url.substr(9);
  } else if (url.find("://") != std::string_view::npos) {
    return invalidArgument("unsupported database URL '" + std::string(url) +
                           "'; give sqlite:///path, a path, or postgresql://...");
  }
  if (path.empty()) return invalidArgument("database URL '" + std::string(url) + "' has no file path");
  loc.sqlite_path = std::string(path);
  return loc;
}

Result<std::unique_ptr<GatewayServer>> GatewayServer::start(const GatewayServerOptions& options) {
  GatewayConfig config;
  if (options.config_file) {
    auto loaded = loadGatewayConfig(*options.config_file);
    if (!loaded.ok()) return loaded.error();
    config = std::move(*loaded);
  }
  const std::string listen = options.listen.value_or(config.listen.value_or(std::string(kDefaultGatewayListen)));
  const std::string db = options.db.value_or(config.db.value_or(std::string(kDefaultGatewayDb)));
  const char* env = options.ocsf_logging_env ? options.ocsf_logging_env->c_str() : nullptr;
  auto base_ocsf = baseOcsfEnabled(config.ocsf_logging, options.ocsf_logging_flag, env);
  if (!base_ocsf.ok()) return base_ocsf.error();

  std::unique_ptr<GatewayServer> s(new GatewayServer());
  s->listen_ = listen;
  auto store = openStore(db);
  if (!store.ok()) return store.error();
  s->store_ = std::move(*store);
  std::map<std::string, SettingValue> base;
  base.emplace(std::string(kOcsfJsonEnabled), SettingValue{*base_ocsf});
  s->settings_ = std::make_unique<RuntimeSettings>(SettingsRegistry::builtin(), std::move(base));
  s->service_ = std::make_unique<GatewayService>(*s->store_, *s->settings_);

  std::shared_ptr<grpc::ServerCredentials> creds = grpc::InsecureServerCredentials();
  if (config.tls) {
    auto cert = readSmallFile(config.tls->cert, "reading the TLS certificate");
    if (!cert.ok()) return cert.error();
    auto key = readSmallFile(config.tls->key, "reading the TLS key");
    if (!key.ok()) return key.error();
    grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back({*key, *cert});
    creds = grpc::SslServerCredentials(ssl);
  }
  grpc::ServerBuilder builder;
  builder.AddListeningPort(listen, creds, &s->port_);
  builder.SetMaxReceiveMessageSize(kMaxGrpcMessageBytes);
  builder.SetMaxSendMessageSize(kMaxGrpcMessageBytes);
  builder.RegisterService(s->service_->service());
  s->server_ = builder.BuildAndStart();
  if (!s->server_ || s->port_ == 0) {
    return unavailable("cannot listen on " + listen + " (address in use, not local, or malformed ADDR:PORT)");
  }
  return s;
}

GatewayServer::~GatewayServer() { stop(); }

void GatewayServer::stop() {
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
}

void GatewayServer::wait() {
  if (server_) server_->Wait();
}

}  // namespace warden::gateway
