#include "gateway/service/gateway_server.h"

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>

#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "audit/export/export_sinks.h"
#include "common/clock.h"
#include "common/error.h"
#include "detect/diagnostics.h"
#include "detect/rule_set.h"
#include "gateway/service/append_signal.h"
#include "gateway/service/audit_trail.h"
#include "gateway/service/fleet_detector.h"
#include "gateway/service/fleet_export.h"
#include "gateway/service/gateway_service.h"
#include "gateway/service/operator_socket.h"
#include "gateway/service/operator_tokens.h"
#include "gateway/service/policy_source.h"
#include "gateway/service/retention_task.h"
#include "gateway/service/settings_persistence.h"
#include "gateway/settings/gateway_config.h"
#include "gateway/settings/settings_registry.h"
#include "gateway/store/postgres/postgres_store.h"
#include "gateway/store/sqlite/sqlite_store.h"
#include "ocsf/builders.h"

namespace warden::gateway {

namespace {

constexpr std::string_view kPolicyComponent = "policy";

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

// Flags win over the config file, which wins over the defaults.
RetentionOptions retentionOptions(const GatewayServerOptions& o, const GatewayConfig& c) {
  RetentionOptions r;
  r.max_age_ms = o.retention_max_age_ms ? o.retention_max_age_ms : c.retention_millis;
  r.max_bytes = o.retention_max_bytes.value_or(c.retention_max_bytes.value_or(0));
  const int64_t interval = o.retention_interval_ms.value_or(
      c.retention_interval_millis.value_or(kDefaultRetentionInterval.count()));
  r.interval = std::chrono::milliseconds(interval);
  return r;
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

GatewayServer::GatewayServer() = default;

Result<std::unique_ptr<GatewayServer>> GatewayServer::start(const GatewayServerOptions& options) {
  GatewayConfig config;
  if (options.config_file) {
    auto loaded = loadGatewayConfig(*options.config_file);
    if (!loaded.ok()) return loaded.error();
    config = std::move(*loaded);
  }
  const std::string listen = options.listen.value_or(config.listen.value_or(std::string(kDefaultGatewayListen)));
  const std::string db = options.db.value_or(config.db.value_or(std::string(kDefaultGatewayDb)));
  const std::filesystem::path log_dir =
      options.log_dir.value_or(std::filesystem::path(config.log_dir.value_or(std::string(kDefaultGatewayLogDir))));
  const char* env = options.ocsf_logging_env ? options.ocsf_logging_env->c_str() : nullptr;
  auto base_ocsf = baseOcsfEnabled(config.ocsf_logging, options.ocsf_logging_flag, env);
  if (!base_ocsf.ok()) return base_ocsf.error();
  const RetentionOptions retention = retentionOptions(options, config);
  if ((retention.max_age_ms && *retention.max_age_ms <= 0) || retention.interval.count() <= 0) {
    return invalidArgument("retention max age and interval must be positive durations");
  }

  // 0. Fleet rules: a rule file with a problem starts nothing and says where.
  std::shared_ptr<const detect::RuleSet> fleet_rules;
  if (options.rules_builtin || !options.rules_files.empty()) {
    detect::RuleSetOptions rule_options;
    rule_options.builtin_rules = options.rules_builtin;
    detect::Diagnostics diagnostics;
    auto loaded = detect::RuleSet::load(options.rules_files, rule_options, &diagnostics);
    if (!loaded.ok()) {
      return invalidArgument("the fleet rules do not load; nothing was started:\n" +
                             (diagnostics.empty() ? loaded.error().message() : diagnostics.toString()));
    }
    fleet_rules = std::move(loaded).value();
  }

  // 0b. Exports: a bad URL starts nothing and says which.
  std::vector<std::string> export_texts = config.exports.value_or(std::vector<std::string>{});
  export_texts.insert(export_texts.end(), options.exports.begin(), options.exports.end());
  auto export_urls = audit::exporting::parseExportUrls(export_texts);
  if (!export_urls.ok()) return export_urls.error();
  for (const auto& url : *export_urls) {
    if (url.transport == audit::exporting::ExportUrl::Transport::kUdp) {
      return invalidArgument(fmt::format("export URL '{}': the gateway exports over syslog+tcp, syslog+tls, https or "
                                         "http (UDP could lose the fleet's events without anyone knowing)",
                                         url.name));
    }
  }

  // 1. The policy to serve: refused before anything else starts when it does not load.
  std::optional<std::filesystem::path> policy_file = options.policy_file;
  if (!policy_file && config.policy) policy_file = std::filesystem::path(*config.policy);
  std::optional<ServedPolicy> policy;
  if (policy_file) {
    auto loaded = PolicySource::load(*policy_file);
    if (!loaded.ok()) return loaded.error().withContext("the policy to serve (--policy) does not load");
    policy = std::move(*loaded);
  }

  std::unique_ptr<GatewayServer> s(new GatewayServer());
  s->listen_ = listen;
  // 2. The store.
  auto store = openStore(db);
  if (!store.ok()) return store.error();
  s->store_ = std::move(*store);
  s->appended_ = std::make_unique<AppendSignal>();

  // 3. The gateway's own audit trail.
  AuditTrailOptions trail_options;
  trail_options.log_root = log_dir;
  trail_options.on_stored = [signal = s->appended_.get()] { signal->notify(); };
  auto trail = GatewayAuditTrail::start(*s->store_, std::move(trail_options));
  if (!trail.ok()) return trail.error();
  s->trail_ = std::move(*trail);
  audit::Emitter& emitter = s->trail_->emitter();

  // 4. Runtime settings, persisted in the store and restored from it.
  const SettingsRegistry& registry = SettingsRegistry::builtin();
  std::map<std::string, SettingValue> base;
  base.emplace(std::string(kOcsfJsonEnabled), SettingValue{*base_ocsf});
  s->settings_ = std::make_unique<RuntimeSettings>(registry, std::move(base), settingsPersistence(*s->store_, registry));
  std::vector<std::string> skipped;
  auto persisted = restoreSettings(*s->store_, *s->settings_, registry, &skipped);
  if (!persisted.ok()) return persisted.error();
  for (const auto& line : skipped) emitter.operational(audit::Level::kWarn, "settings", line);

  // 5. The served policy: same bytes as last time keep their version; other bytes get the next one.
  if (policy) {
    const bool same = persisted->policy_version > 0 && persisted->policy_hash == policy->hash;
    policy->version = same ? persisted->policy_version : persisted->policy_version + 1;
    if (!same) {
      if (auto saved = s->store_->savePolicyState(policy->version, policy->hash); !saved.ok()) {
        return saved.error().withContext("saving the served policy's version");
      }
    }
    s->policy_file_ = *policy_file;
    s->recordPolicy(ocsf::kConfigLoaded, *policy, s->settings_->revision());
    PolicySourceOptions po;
    po.file = *policy_file;
    po.check_interval = options.policy_check_interval;
    po.on_change = [self = s.get()](const ServedPolicy& next) { return self->policyChanged(next); };
    po.on_rejected = [self = s.get()](const std::string& problems) { self->policyRejected(problems); };
    s->policy_ = std::make_unique<PolicySource>(std::move(po), std::move(*policy));
  }

  // 6. Who the operators are: the token file (refused when others may read it), the group, the
  // unix socket (bound now, so that a path in use stops the start before anything listens).
  OperatorAccess access;
  if (auto tokens_file = options.operator_tokens
                             ? std::optional<std::filesystem::path>(*options.operator_tokens)
                             : (config.operator_tokens ? std::optional<std::filesystem::path>(*config.operator_tokens)
                                                       : std::nullopt)) {
    auto tokens = OperatorTokens::load(*tokens_file);
    if (!tokens.ok()) return tokens.error().withContext("operator tokens (--operator-tokens)");
    s->operator_tokens_ = std::make_unique<OperatorTokens>(std::move(*tokens));
    access.tokens = s->operator_tokens_.get();
  }
  if (const auto group = options.operator_group ? options.operator_group : config.operator_group) {
    auto gid = resolveGroup(*group);
    if (!gid.ok()) return gid.error().withContext("--operator-group");
    access.group = *gid;
    access.group_name = *group;
  }
  const std::string socket_path =
      options.operator_socket.value_or(config.operator_socket.value_or(std::string(kDefaultOperatorSocket)));
  if (socket_path != "none" && !socket_path.empty()) {
    auto sock = OperatorSocket::listen({.path = socket_path});
    if (!sock.ok()) return sock.error();
    s->operator_socket_ = std::move(*sock);
    access.socket = s->operator_socket_.get();
  }

  // 7. The service and the gRPC server.
  std::shared_ptr<grpc::ServerCredentials> creds = grpc::InsecureServerCredentials();
  if (config.tls) {
    auto cert = readSmallFile(config.tls->cert, "reading the TLS certificate");
    if (!cert.ok()) return cert.error();
    auto key = readSmallFile(config.tls->key, "reading the TLS key");
    if (!key.ok()) return key.error();
    grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back({*key, *cert});
    if (!config.tls->client_ca.empty()) {
      auto ca = readSmallFile(config.tls->client_ca, "reading the operators' client CA (tls.client_ca)");
      if (!ca.ok()) return ca.error();
      // Requested, verified when presented, not required: sessions connect without one (their token).
      ssl.pem_root_certs = *ca;
      ssl.client_certificate_request = GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY;
      access.client_certificates = true;
    }
    creds = grpc::SslServerCredentials(ssl);
  }
  GatewayServiceOptions service_options;
  service_options.policy = s->policy_.get();
  service_options.appended = s->appended_.get();
  service_options.access = access;
  service_options.trail = &emitter;
  service_options.trail_session = &s->trail_->session();
  s->service_ = std::make_unique<GatewayService>(*s->store_, *s->settings_, service_options);

  grpc::ServerBuilder builder;
  builder.AddListeningPort(listen, creds, &s->port_);
  builder.SetMaxReceiveMessageSize(kMaxGrpcMessageBytes);
  builder.SetMaxSendMessageSize(kMaxGrpcMessageBytes);
  builder.RegisterService(s->service_->service());
  s->server_ = builder.BuildAndStart();
  if (!s->server_ || s->port_ == 0) {
    return unavailable("cannot listen on " + listen + " (address in use, not local, or malformed ADDR:PORT)");
  }
  if (s->operator_socket_) s->operator_socket_->serve(s->server_.get());

  // 8. Retention.
  if (retention.enabled()) {
    s->retention_ = std::make_unique<RetentionTask>(*s->store_, emitter, s->trail_->session(), retention);
    s->retention_->start();
  }

  // 9. Fleet rules over every pushed event; findings into this trail.
  if (fleet_rules) {
    FleetDetectorOptions fo;
    fo.own_session = s->trail_->sessionId();
    auto fleet = FleetDetector::start(*s->store_, *s->appended_, emitter, fleet_rules, std::move(fo));
    if (!fleet.ok()) return fleet.error();
    s->fleet_ = std::move(*fleet);
    const size_t count = fleet_rules->rules().size();
    ocsf::ConfigChange change;
    change.state = std::string(ocsf::kConfigLoaded);
    change.message = fmt::format("fleet rules: {} rule{} evaluated over every pushed event", count, count == 1 ? "" : "s");
    emitter.emit(ocsf::configChange(s->trail_->session(), SystemClock::instance().nowMillis(), change));
  }

  // 10. Exports of every stored event, from each export's persisted cursor.
  for (const auto& url : *export_urls) {
    FleetExportOptions eo;
    eo.drain = options.export_drain;
    auto exporter = FleetExport::start(*s->store_, *s->appended_, emitter, s->trail_->session(), url, eo);
    if (!exporter.ok()) return exporter.error();
    s->exports_.push_back(std::move(*exporter));
    ocsf::ConfigChange change;
    change.state = std::string(ocsf::kConfigLoaded);
    change.message = fmt::format("export {}: every stored event, from its cursor", url.name);
    emitter.emit(ocsf::configChange(s->trail_->session(), SystemClock::instance().nowMillis(), change));
  }
  return s;
}

GatewayServer::~GatewayServer() { stop(); }

void GatewayServer::recordPolicy(std::string_view state, const ServedPolicy& policy, uint64_t revision) {
  ocsf::ConfigChange change;
  change.state = std::string(state);
  change.message = fmt::format("serving policy {} (version {})", policy_file_.string(), policy.version);
  change.policy_version = std::to_string(policy.version);
  change.policy_hash = policy.hash;
  change.config_revision = revision;
  trail_->emitter().emit(ocsf::configChange(trail_->session(), SystemClock::instance().nowMillis(), change));
}

Result<void> GatewayServer::policyChanged(const ServedPolicy& next) {
  audit::Emitter& out = trail_->emitter();
  auto revision = settings_->bumpRevision();
  if (!revision.ok()) {
    out.operational(audit::Level::kError, kPolicyComponent,
                    fmt::format("policy file {} changed but the config revision cannot be saved: {}; still "
                                "serving the previous version, trying again at the next check",
                                policy_file_.string(), revision.error().message()));
    return revision.error();
  }
  if (auto saved = store_->savePolicyState(next.version, next.hash); !saved.ok()) {
    out.operational(audit::Level::kError, kPolicyComponent,
                    fmt::format("policy file {} changed but its version cannot be saved: {}; still serving the "
                                "previous version, trying again at the next check",
                                policy_file_.string(), saved.error().message()));
    return saved.error();
  }
  recordPolicy(ocsf::kConfigUpdated, next, *revision);
  return okResult();
}

void GatewayServer::policyRejected(const std::string& problems) {
  const auto served = policy_->current();
  audit::Emitter& out = trail_->emitter();
  out.operational(audit::Level::kError, kPolicyComponent,
                  fmt::format("policy file {} cannot be served; still serving version {} ({}): {}",
                              policy_file_.string(), served->version, served->hash, problems));
  ocsf::ConfigChange change;
  change.state = std::string(ocsf::kConfigFailed);
  change.message = fmt::format("policy file {} cannot be served; version {} stays in force", policy_file_.string(),
                               served->version);
  change.policy_version = std::to_string(served->version);
  change.policy_hash = served->hash;
  std::istringstream lines(problems);
  for (std::string line; std::getline(lines, line);) change.errors.push_back(line);
  out.emit(ocsf::configChange(trail_->session(), SystemClock::instance().nowMillis(), change));
}

std::filesystem::path GatewayServer::operatorSocketPath() const {
  return operator_socket_ ? operator_socket_->path() : std::filesystem::path();
}

const std::string& GatewayServer::gatewaySessionId() const { return trail_->sessionId(); }
const std::filesystem::path& GatewayServer::gatewayLogDir() const { return trail_->logDir(); }

void GatewayServer::stop() {
  std::call_once(stopped_, [this] {
    if (retention_) retention_->stop();
    if (fleet_) fleet_->close();
    if (operator_socket_) operator_socket_->stop();  // no new operator connections
    if (appended_) appended_->close();  // FollowLogs streams end instead of holding up the shutdown
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    // No more pushes: each export delivers what is stored (bounded), its cursor saved; what is
    // stored after this (the trail's last events) is exported after the next start.
    for (auto& e : exports_) e->close();
    if (trail_) trail_->close();
  });
}

void GatewayServer::wait() {
  if (server_) server_->Wait();
}

}  // namespace warden::gateway
