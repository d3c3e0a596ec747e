#include "gateway/service/gateway_service.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "audit/emitter.h"
#include "common/clock.h"
#include "common/encoding.h"
#include "common/error.h"
#include "gateway/service/append_signal.h"
#include "gateway/service/policy_source.h"
#include "gateway/service/proto_convert.h"
#include "gateway/service/session_auth.h"
#include "gateway/settings/sandbox_config.h"
#include "gateway/settings/settings_registry.h"
#include "warden/v1/gateway.grpc.pb.h"

namespace warden::gateway {

namespace {

using ocsf::ApiActivity;
using Request = std::vector<std::pair<std::string, std::string>>;

int64_t nowMs() { return SystemClock::instance().nowMillis(); }

grpc::Status statusOf(const Error& e) { return toGrpcStatus(e); }

// RegisterSession's hostname is kept up to this many bytes.
constexpr size_t kMaxHostnameBytes = 255;

std::string quote(std::string_view s) { return "'" + std::string(s) + "'"; }

// The registry's view of one value, as the proto's Setting.
void fillSetting(const SettingSpec& spec, const SettingValue& value, std::string scope,
                 std::string session, uint64_t revision, v1::Setting* out) {
  out->set_key(spec.key);
  out->set_config_revision(revision);
  out->set_value(SettingsRegistry::render(spec, value));
  out->set_scope(std::move(scope));
  out->set_session(std::move(session));
  switch (spec.type) {
    case SettingSpec::Type::kBool:
      out->set_type("bool");
      out->add_allowed("true");
      out->add_allowed("false");
      break;
    case SettingSpec::Type::kInt: out->set_type("int"); break;
    case SettingSpec::Type::kDuration: out->set_type("duration"); break;
    case SettingSpec::Type::kEnum:
      out->set_type("enum");
      for (const auto& a : spec.allowed) out->add_allowed(a);
      break;
    case SettingSpec::Type::kString: out->set_type("string"); break;
  }
}

// The request items an API event shows for an EventQuery-shaped request.
Request queryItems(const EventQuery& q) {
  Request r;
  if (q.session) r.emplace_back("session", *q.session);
  if (q.since_ms) r.emplace_back("since_ms", std::to_string(*q.since_ms));
  if (q.until_ms) r.emplace_back("until_ms", std::to_string(*q.until_ms));
  if (!q.kinds.empty()) {
    std::string kinds;
    for (const auto& k : q.kinds) kinds += (kinds.empty() ? "" : ",") + k;
    r.emplace_back("classes", kinds);
  }
  if (q.min_severity) r.emplace_back("min_severity", std::to_string(*q.min_severity));
  if (q.domain) r.emplace_back("domain", *q.domain);
  if (q.path) r.emplace_back("path", *q.path);
  if (q.package) r.emplace_back("package", *q.package);
  if (q.stop_reason) r.emplace_back("stop_reason", *q.stop_reason);
  if (q.after_sequence > 0) r.emplace_back("after_sequence", std::to_string(q.after_sequence));
  return r;
}

Request scopeItems(bool global, const std::string& session) {
  if (global) return {{"scope", "global"}};
  if (session.empty()) return {};
  return {{"scope", "session"}, {"session", session}};
}

bool isDenial(grpc::StatusCode code) {
  return code == grpc::StatusCode::UNAUTHENTICATED || code == grpc::StatusCode::PERMISSION_DENIED;
}

}  // namespace

class GatewayService::Impl final : public v1::Gateway::Service {
 public:
  Impl(EventStore& store, RuntimeSettings& settings, GatewayServiceOptions options)
      : store_(store),
        settings_(settings),
        sandbox_(settings),
        policy_(options.policy),
        access_(options.access),
        trail_(options.trail),
        trail_session_(options.trail_session),
        own_signal_(options.appended ? nullptr : std::make_unique<AppendSignal>()),
        appended_(options.appended ? *options.appended : *own_signal_) {}

  // ---- Sessions ----------------------------------------------------------------------------

  grpc::Status RegisterSession(grpc::ServerContext* ctx, const v1::RegisterSessionRequest* req,
                               v1::RegisterSessionResponse* resp) override {
    Call call(*this, ctx, ApiActivity::kCreate, "RegisterSession",
              {{"session", req->id().substr(0, 140)}, {"name", req->name().substr(0, 140)}});
    call.always_record = true;
    if (!isValidSessionId(req->id())) {
      return call.done(statusOf(invalidArgument("session id " + quote(req->id().substr(0, 140)) +
                                                " is not 1..128 bytes of [A-Za-z0-9._:-]")));
    }
    const int64_t now = nowMs();
    SessionRecord rec;
    rec.id = req->id();
    rec.created_ms = now;
    rec.updated_ms = now;
    rec.name = req->name();
    rec.public_key = req->public_key();
    // Kept as text: cut at a NUL and to kMaxHostnameBytes on a UTF-8 boundary.
    const std::string_view host = std::string_view(req->hostname()).substr(0, req->hostname().find('\0'));
    rec.hostname = std::string(host.substr(0, utf8PrefixLength(host, kMaxHostnameBytes)));
    rec.state = "running";
    auto token = generateSessionToken();
    if (!token.ok()) return call.done(statusOf(token.error()));
    rec.token_hash = sessionTokenHash(*token);
    // One statement: of two registrations of one id only one is stored; the other is refused.
    auto created = store_.createSession(rec);
    if (!created.ok()) return call.done(storeStatus(created.error()));
    if (!*created) {
      call.severity = ocsf::Severity::kHigh;  // an attempt to take over a session
      return call.done(statusOf(alreadyExists(
          "session " + quote(req->id()) +
          " is already registered; a session id is registered once and its key and token are never replaced")));
    }
    {
      std::lock_guard lock(mu_);
      token_sessions_[rec.token_hash] = rec.id;
    }
    auto highest = store_.highestContiguous(rec.id);
    if (!highest.ok()) return call.done(storeStatus(highest.error()));
    resp->set_token(*token);
    resp->set_resume_after_sequence(*highest);
    return call.done(grpc::Status::OK);
  }

  grpc::Status ListSessions(grpc::ServerContext* ctx, const v1::ListSessionsRequest*,
                            v1::ListSessionsResponse* resp) override {
    Call call(*this, ctx, ApiActivity::kRead, "ListSessions", {});
    if (auto s = call.requireOperator(); !s.ok()) return call.done(s);
    auto all = store_.sessions();
    if (!all.ok()) return call.done(storeStatus(all.error()));
    for (const auto& rec : *all) {
      auto highest = store_.highestContiguous(rec.id);
      if (!highest.ok()) return call.done(storeStatus(highest.error()));
      toProto(rec, *highest, resp->add_sessions());
    }
    return call.done(grpc::Status::OK);
  }

  grpc::Status GetSession(grpc::ServerContext* ctx, const v1::GetSessionRequest* req,
                          v1::Session* resp) override {
    Call call(*this, ctx, ApiActivity::kRead, "GetSession", {{"session", req->id().substr(0, 140)}});
    if (auto s = call.requireSessionOrOperator(req->id()); !s.ok()) return call.done(s);
    auto rec = loadSession(req->id());
    if (!rec.ok()) return call.done(statusOf(rec.error()));
    auto highest = store_.highestContiguous(req->id());
    if (!highest.ok()) return call.done(storeStatus(highest.error()));
    toProto(*rec, *highest, resp);
    return call.done(grpc::Status::OK);
  }

  grpc::Status GetSandboxPolicy(grpc::ServerContext* ctx, const v1::GetSandboxPolicyRequest* req,
                                v1::GetSandboxPolicyResponse* resp) override {
    Call call(*this, ctx, ApiActivity::kRead, "GetSandboxPolicy", {{"session", req->session_id().substr(0, 140)}});
    if (auto s = call.requireSessionOrOperator(req->session_id()); !s.ok()) return call.done(s);
    auto rec = loadSession(req->session_id());
    if (!rec.ok()) return call.done(statusOf(rec.error()));
    Result<SandboxConfig> config = internalError("no config");
    if (policy_ == nullptr) {
      // policy_yaml stays empty: "keep the policy the session has".
      config = sandbox_.configFor(req->session_id());
    } else {
      policy_->maybeCheck();
      // The revision is read under the policy's lock, so it always belongs to the policy served.
      policy_->withServed([&](const ServedPolicy& p) {
        resp->set_policy_yaml(p.yaml);
        resp->set_policy_hash(p.hash);
        resp->set_policy_version(p.version);
        config = sandbox_.configFor(req->session_id());
      });
    }
    if (!config.ok()) return call.done(statusOf(config.error()));
    toProto(*config, resp->mutable_sandbox_config());
    return call.done(grpc::Status::OK);
  }

  // ---- Settings (operator only) ------------------------------------------------------------

  grpc::Status GetSetting(grpc::ServerContext* ctx, const v1::GetSettingRequest* req,
                          v1::Setting* resp) override {
    Request items = {{"key", req->key().substr(0, 140)}};
    for (auto& i : scopeItems(req->global(), req->session())) items.push_back(std::move(i));
    Call call(*this, ctx, ApiActivity::kRead, "GetSetting", std::move(items));
    if (auto s = call.requireOperator(); !s.ok()) return call.done(s);
    auto spec = SettingsRegistry::builtin().lookup(req->key());
    if (!spec.ok()) return call.done(statusOf(spec.error()));
    const std::string session = req->global() ? std::string() : req->session();
    auto eff = settings_.effective(session, req->key());
    if (!eff.ok()) return call.done(statusOf(eff.error()));
    fillSetting(**spec, eff->value, std::string(settingSourceName(eff->source)), session, settings_.revision(),
                resp);
    return call.done(grpc::Status::OK);
  }

  grpc::Status SetSetting(grpc::ServerContext* ctx, const v1::SetSettingRequest* req,
                          v1::Setting* resp) override {
    Request items = {{"key", req->key().substr(0, 140)}, {"value", req->value().substr(0, 256)}};
    for (auto& i : scopeItems(req->global(), req->session())) items.push_back(std::move(i));
    Call call(*this, ctx, ApiActivity::kUpdate, "SetSetting", std::move(items));
    if (auto s = call.requireOperator(); !s.ok()) return call.done(s);
    auto scope = scopeOf(req->global(), req->session());
    if (!scope.ok()) return call.done(statusOf(scope.error()));
    auto spec = SettingsRegistry::builtin().lookup(req->key());
    if (!spec.ok()) return call.done(statusOf(spec.error()));
    auto changed = settings_.setText(*scope, req->key(), req->value());
    if (!changed.ok()) return call.done(statusOf(changed.error()));
    auto stored = settings_.get(*scope, req->key());
    if (!stored.ok() || !stored->has_value()) {
      return call.done(statusOf(internalError("setting " + quote(req->key()) + " vanished after it was set")));
    }
    fillSetting(**spec, **stored, scope->isGlobal() ? "global" : "session", scope->session, settings_.revision(),
                resp);
    call.request.emplace_back("config_revision", std::to_string(resp->config_revision()));
    return call.done(grpc::Status::OK);
  }

  grpc::Status DeleteSetting(grpc::ServerContext* ctx, const v1::DeleteSettingRequest* req,
                             v1::DeleteSettingResponse* resp) override {
    Request items = {{"key", req->key().substr(0, 140)}};
    for (auto& i : scopeItems(req->global(), req->session())) items.push_back(std::move(i));
    Call call(*this, ctx, ApiActivity::kDelete, "DeleteSetting", std::move(items));
    if (auto s = call.requireOperator(); !s.ok()) return call.done(s);
    auto scope = scopeOf(req->global(), req->session());
    if (!scope.ok()) return call.done(statusOf(scope.error()));
    auto existed = settings_.erase(*scope, req->key());
    if (!existed.ok()) return call.done(statusOf(existed.error()));
    resp->set_existed(*existed);
    resp->set_config_revision(settings_.revision());
    call.request.emplace_back("existed", *existed ? "true" : "false");
    return call.done(grpc::Status::OK);
  }

  grpc::Status ListSettings(grpc::ServerContext* ctx, const v1::ListSettingsRequest* req,
                            v1::ListSettingsResponse* resp) override {
    Request items;
    if (!req->session().empty()) items.emplace_back("session", req->session().substr(0, 140));
    Call call(*this, ctx, ApiActivity::kRead, "ListSettings", std::move(items));
    if (auto s = call.requireOperator(); !s.ok()) return call.done(s);
    for (const auto& stored : settings_.list()) {
      if (!req->session().empty() && !stored.scope.isGlobal() && stored.scope.session != req->session()) {
        continue;
      }
      const SettingSpec* spec = SettingsRegistry::builtin().find(stored.key);
      if (spec == nullptr) continue;
      fillSetting(*spec, stored.value, stored.scope.isGlobal() ? "global" : "session",
                  stored.scope.session, settings_.revision(), resp->add_settings());
    }
    return call.done(grpc::Status::OK);
  }

  // ---- Push --------------------------------------------------------------------------------

  grpc::Status PushEvents(
      grpc::ServerContext* ctx,
      grpc::ServerReaderWriter<v1::PushEventsResponse, v1::PushEventsRequest>* stream) override {
    Call call(*this, ctx, ApiActivity::kCreate, "PushEvents", {});
    if (!call.caller.ok()) return call.done(statusOf(call.caller.error()));
    if (call.caller->kind != Caller::Kind::kSession) {
      return call.done(statusOf(Error(Code::kUnauthenticated,
                                      "PushEvents needs the session's token (authorization: Bearer <token>); " +
                                          call.caller->describe() + " has none")));
    }
    const std::string session = call.caller->session;
    v1::PushEventsRequest req;
    while (stream->Read(&req)) {
      v1::PushEventsResponse resp;
      std::vector<StoredEvent> batch;
      if (auto bad = checkBatch(session, req, &batch); !bad.ok()) {
        if (bad.error().code() == Code::kPermissionDenied) {
          Call refused(*this, *call.caller, ApiActivity::kCreate, "PushEvents",
                       {{"session", req.session_id().substr(0, 140)}});
          refused.done(statusOf(bad.error()));
        }
        resp.set_error(bad.error().message());
        auto highest = store_.highestContiguous(session);
        if (highest.ok()) resp.set_acknowledged_through(*highest);
      } else if (batch.empty()) {
        auto highest = store_.highestContiguous(session);
        if (!highest.ok()) return unavailableStatus(highest.error());
        resp.set_acknowledged_through(*highest);
      } else {
        auto appended = store_.append(batch);
        if (!appended.ok()) {
          if (appended.error().code() == Code::kInvalidArgument) {
            resp.set_error(appended.error().message());
            auto highest = store_.highestContiguous(session);
            if (highest.ok()) resp.set_acknowledged_through(*highest);
          } else {
            return unavailableStatus(appended.error());
          }
        } else {
          resp.set_acknowledged_through(appended->highest_contiguous);
          resp.set_duplicates(appended->duplicates);
          if (appended->inserted > 0) appended_.notify();
        }
      }
      if (!stream->Write(resp)) return grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
    }
    return grpc::Status::OK;
  }

  // ---- Reading back ------------------------------------------------------------------------

  grpc::Status GetLogs(grpc::ServerContext* ctx, const v1::GetLogsRequest* req,
                       v1::GetLogsResponse* resp) override {
    auto q = toEventQuery(*req);
    Call call(*this, ctx, ApiActivity::kRead, "GetLogs", q.ok() ? queryItems(*q) : Request{});
    if (!q.ok()) return call.done(statusOf(q.error()));
    if (auto s = call.restrictToCaller(&*q); !s.ok()) return call.done(s);
    auto events = store_.query(*q);
    if (!events.ok()) return call.done(storeStatus(events.error()));
    for (const auto& e : *events) toProto(e, resp->add_events());
    return call.done(grpc::Status::OK);
  }

  grpc::Status FollowLogs(grpc::ServerContext* ctx, const v1::GetLogsRequest* req,
                          grpc::ServerWriter<v1::StoredEvent>* writer) override {
    auto q = toEventQuery(*req);
    Call call(*this, ctx, ApiActivity::kRead, "FollowLogs", q.ok() ? queryItems(*q) : Request{});
    if (req->session_id().empty()) {
      return call.done(statusOf(invalidArgument("FollowLogs needs a session_id (follows one session)")));
    }
    if (!q.ok()) return call.done(statusOf(q.error()));
    if (auto s = call.restrictToCaller(&*q); !s.ok()) return call.done(s);
    call.done(grpc::Status::OK);  // recorded when the follow starts
    // Woken by a stored push (AppendSignal); the bounded wait only notices a cancelled call.
    constexpr auto kCancelCheck = std::chrono::milliseconds(250);
    q->limit = 1000;
    while (!ctx->IsCancelled() && !appended_.closed()) {
      const uint64_t generation = appended_.generation();
      auto events = store_.query(*q);
      if (!events.ok()) return storeStatus(events.error());
      for (const auto& e : *events) {
        v1::StoredEvent out;
        toProto(e, &out);
        if (!writer->Write(out)) return grpc::Status::OK;
        q->after_sequence = e.sequence;
      }
      if (events->size() < q->limit) {
        appended_.waitChange(generation, std::chrono::steady_clock::now() + kCancelCheck);
      }
    }
    return grpc::Status::OK;
  }

  grpc::Status Query(grpc::ServerContext* ctx, const v1::QueryRequest* req,
                     v1::QueryResponse* resp) override {
    auto q = toEventQuery(*req);
    Call call(*this, ctx, ApiActivity::kRead, "Query", q.ok() ? queryItems(*q) : Request{});
    if (!q.ok()) return call.done(statusOf(q.error()));
    const bool about_sessions = !q->session && (q->domain || q->path || q->package || q->stop_reason);
    if (about_sessions) {
      if (auto s = call.requireOperator(); !s.ok()) return call.done(s);
      auto ids = store_.sessionsMatching(*q);
      if (!ids.ok()) return call.done(storeStatus(ids.error()));
      for (auto& id : *ids) resp->add_sessions(std::move(id));
      return call.done(grpc::Status::OK);
    }
    if (auto s = call.restrictToCaller(&*q); !s.ok()) return call.done(s);
    auto events = store_.query(*q);
    if (!events.ok()) return call.done(storeStatus(events.error()));
    for (const auto& e : *events) toProto(e, resp->add_events());
    return call.done(grpc::Status::OK);
  }

  grpc::Status GetVerificationMaterial(grpc::ServerContext* ctx,
                                       const v1::GetVerificationMaterialRequest* req,
                                       v1::GetVerificationMaterialResponse* resp) override {
    Call call(*this, ctx, ApiActivity::kRead, "GetVerificationMaterial",
              {{"session", req->session_id().substr(0, 140)}});
    if (auto s = call.requireSessionOrOperator(req->session_id()); !s.ok()) return call.done(s);
    auto rec = loadSession(req->session_id());
    if (!rec.ok()) return call.done(statusOf(rec.error()));
    resp->set_public_key(rec->public_key);
    EventQuery first;
    first.session = req->session_id();
    first.limit = 1;
    auto start = store_.query(first);
    if (!start.ok()) return call.done(storeStatus(start.error()));
    if (!start->empty() && start->front().sequence == 1) toProto(start->front(), resp->mutable_log_start());
    // Every LOG event, paged; the checkpoints among them.
    EventQuery logs;
    logs.session = req->session_id();
    logs.kinds = {"LOG"};
    logs.limit = 10000;
    for (;;) {
      auto page = store_.query(logs);
      if (!page.ok()) return call.done(storeStatus(page.error()));
      for (const auto& e : *page) {
        if (e.sequence != 1 && isRetainedForever(e)) toProto(e, resp->add_checkpoints());
      }
      if (page->size() < logs.limit) break;
      logs.after_sequence = page->back().sequence;
    }
    return call.done(grpc::Status::OK);
  }

 private:
  // One RPC: who called (identified once), what they asked, and its record in the gateway's trail.
  // done(status) records the call when the caller is an operator, when it was refused, or when
  // `always_record` is set, and returns the status.
  struct Call {
    Call(Impl& impl_in, grpc::ServerContext* ctx, ApiActivity activity_in, std::string operation_in, Request request_in)
        : impl(impl_in),
          caller(impl_in.identify(ctx)),
          activity(activity_in),
          operation(std::move(operation_in)),
          request(std::move(request_in)),
          peer(ctx->peer()) {}
    Call(Impl& impl_in, const Caller& known, ApiActivity activity_in, std::string operation_in, Request request_in)
        : impl(impl_in),
          caller(known),
          activity(activity_in),
          operation(std::move(operation_in)),
          request(std::move(request_in)),
          peer(known.peer) {}

    grpc::Status requireOperator() {
      if (!caller.ok()) return statusOf(caller.error());
      if (caller->is_operator) return grpc::Status::OK;
      if (caller->kind == Caller::Kind::kSession) {
        return statusOf(permissionDenied(operation + " is for the gateway's operators, not for session " +
                                         quote(caller->session)));
      }
      if (caller->kind == Caller::Kind::kUnixPeer) return statusOf(permissionDenied(caller->not_operator));
      return statusOf(Error(Code::kUnauthenticated, operation + ": " + caller->not_operator));
    }

    grpc::Status requireSessionOrOperator(const std::string& session) {
      if (!caller.ok()) return statusOf(caller.error());
      if (caller->is_operator) return grpc::Status::OK;
      if (caller->kind == Caller::Kind::kSession) {
        if (caller->session == session) return grpc::Status::OK;
        return statusOf(permissionDenied("a token of session " + quote(caller->session) +
                                         " cannot act on session " + quote(session.substr(0, 140))));
      }
      return requireOperator();
    }

    // A session caller may read only itself: an empty session filter becomes its own id.
    grpc::Status restrictToCaller(EventQuery* q) {
      if (!caller.ok()) return statusOf(caller.error());
      if (caller->is_operator) return grpc::Status::OK;
      if (caller->kind != Caller::Kind::kSession) return requireOperator();
      if (!q->session) q->session = caller->session;
      if (*q->session != caller->session) {
        return statusOf(permissionDenied("a token of session " + quote(caller->session) +
                                         " cannot read session " + quote(q->session->substr(0, 140))));
      }
      return grpc::Status::OK;
    }

    grpc::Status done(grpc::Status status) {
      impl.record(*this, status);
      return status;
    }

    Impl& impl;
    Result<Caller> caller;
    ApiActivity activity;
    std::string operation;
    Request request;
    std::string peer;
    bool always_record = false;
    std::optional<ocsf::Severity> severity;
  };

  // The caller of this RPC (identifyCaller over what the context says).
  Result<Caller> identify(grpc::ServerContext* ctx) {
    CallInfo info;
    info.peer = ctx->peer();
    const auto& md = ctx->client_metadata();
    if (const auto it = md.find("authorization"); it != md.end()) {
      info.authorization = std::string(it->second.data(), it->second.size());
    }
    if (const auto auth = ctx->auth_context(); auth) {
      for (const auto& v : auth->FindPropertyValues(GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME)) {
        if (std::string_view(v.data(), v.size()) == GRPC_SSL_TRANSPORT_SECURITY_TYPE) info.tls = true;
      }
      for (const auto& v : auth->FindPropertyValues(GRPC_X509_SUBJECT_PROPERTY_NAME)) {
        info.certificate_subject.assign(v.data(), v.size());
      }
      for (const auto& v : auth->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME)) {
        info.certificate_pem.assign(v.data(), v.size());
      }
    }
    info.connection_gone = ctx->IsCancelled();
    return identifyCaller(info, access_, [this](std::string_view token) { return sessionOfToken(token); });
  }

  Result<std::optional<std::string>> sessionOfToken(std::string_view token) {
    const std::string hash = sessionTokenHash(token);
    if (auto s = sessionOfHash(hash); s) return s;
    // Not cached (a restarted gateway): reload the sessions' hashes once.
    auto all = store_.sessions();
    if (!all.ok()) return unavailable("event store: " + all.error().message());
    {
      std::lock_guard lock(mu_);
      for (const auto& rec : *all) {
        if (!rec.token_hash.empty()) token_sessions_[rec.token_hash] = rec.id;
      }
    }
    return sessionOfHash(hash);
  }

  std::optional<std::string> sessionOfHash(const std::string& hash) {
    std::lock_guard lock(mu_);
    // A lookup by the SHA-256 of a 256-bit random token: timing reveals nothing usable.
    const auto it = token_sessions_.find(hash);
    if (it == token_sessions_.end()) return std::nullopt;
    return it->second;
  }

  // The API event of one call, on the gateway's own trail (see the class comment for which calls).
  void record(const Call& call, const grpc::Status& status) {
    if (trail_ == nullptr || trail_session_ == nullptr) return;
    const bool refused = isDenial(status.error_code()) ||
                         (call.operation == "RegisterSession" && status.error_code() == grpc::StatusCode::ALREADY_EXISTS);
    const bool by_operator = call.caller.ok() && call.caller->is_operator;
    if (!refused && !by_operator && !call.always_record) return;
    ocsf::ApiCall api;
    api.activity = call.activity;
    api.operation = call.operation;
    if (call.caller.ok()) {
      api.caller = call.caller->toApiCaller();
    } else {
      api.caller.src = endpointOfPeer(call.peer);
    }
    api.request = call.request;
    if (!status.ok()) api.request.emplace_back("status", grpcStatusName(status.error_code()));
    api.action = refused ? ocsf::Action::kDenied : ocsf::Action::kAllowed;
    api.reason = status.error_message();
    api.severity = call.severity;
    trail_->emit(ocsf::apiCall(*trail_session_, nowMs(), api));
  }

  static std::string grpcStatusName(grpc::StatusCode code) {
    const int n = static_cast<int>(code);
    if (n <= 0 || n > static_cast<int>(Code::kUnauthenticated)) return std::to_string(n);
    return std::string(codeName(static_cast<Code>(n)));
  }

  Result<SessionRecord> loadSession(const std::string& id) {
    auto rec = store_.session(id);
    if (!rec.ok()) return unavailable("event store: " + rec.error().message());
    if (!rec->has_value()) return notFound("no session " + quote(id.substr(0, 140)));
    return std::move(**rec);
  }

  static Result<SettingScope> scopeOf(bool global, const std::string& session) {
    if (global && !session.empty()) return invalidArgument("give either global or a session, not both");
    if (!global && session.empty()) return invalidArgument("give global or a session");
    return global ? SettingScope::global() : SettingScope::forSession(session);
  }

  // Checks one pushed batch as a whole; on success fills `out` (nothing is stored here).
  // The batch's strings are moved out of `req` into `out`.
  static Result<void> checkBatch(const std::string& caller, v1::PushEventsRequest& req,
                                 std::vector<StoredEvent>* out) {
    if (req.session_id() != caller) {
      return permissionDenied("batch for session " + quote(req.session_id().substr(0, 140)) +
                              " refused: this stream's token belongs to session " + quote(caller));
    }
    if (static_cast<size_t>(req.events_size()) > kMaxPushBatchEvents) {
      return invalidArgument("batch of " + std::to_string(req.events_size()) + " events is over the maximum " +
                             std::to_string(kMaxPushBatchEvents));
    }
    uint64_t previous = 0;
    out->reserve(static_cast<size_t>(req.events_size()));
    for (auto& pe : *req.mutable_events()) {
      if (!pe.session_id().empty() && pe.session_id() != caller) {
        return permissionDenied("event " + std::to_string(pe.sequence()) + " names session " +
                                quote(pe.session_id().substr(0, 140)) + ", not " + quote(caller));
      }
      if (pe.sequence() <= previous) {
        return invalidArgument("sequences must increase strictly within a batch: " +
                               std::to_string(pe.sequence()) + " after " + std::to_string(previous));
      }
      previous = pe.sequence();
      StoredEvent e = fromProto(std::move(pe), caller);
      if (auto v = validateEvent(e); !v.ok()) {
        return invalidArgument("event " + std::to_string(pe.sequence()) + ": " + v.error().message());
      }
      out->push_back(std::move(e));
    }
    return okResult();
  }

  static grpc::Status storeStatus(const Error& e) {
    if (e.code() == Code::kInvalidArgument || e.code() == Code::kNotFound) return statusOf(e);
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "event store: " + e.message());
  }
  static grpc::Status unavailableStatus(const Error& e) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        "event store: " + e.message() + " (this batch was not acknowledged; resend it)");
  }

  EventStore& store_;
  RuntimeSettings& settings_;
  SandboxConfigState sandbox_;
  PolicySource* const policy_;  // nullable
  const OperatorAccess access_;
  audit::Emitter* const trail_;                      // nullable
  const ocsf::SessionContext* const trail_session_;  // nullable
  std::unique_ptr<AppendSignal> own_signal_;  // when the options gave none
  AppendSignal& appended_;
  std::mutex mu_;
  std::map<std::string, std::string> token_sessions_;  // token hash -> session id. Guarded by mu_.
};

GatewayService::GatewayService(EventStore& store, RuntimeSettings& settings, GatewayServiceOptions options)
    : impl_(std::make_unique<Impl>(store, settings, options)) {}
GatewayService::~GatewayService() = default;
grpc::Service* GatewayService::service() { return impl_.get(); }

}  // namespace warden::gateway
