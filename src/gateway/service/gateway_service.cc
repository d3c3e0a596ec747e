#include "gateway/service/gateway_service.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

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

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Who is calling: the local operator (no token, loopback peer) or one session (its token).
struct Caller {
  bool is_operator = false;
  std::string session;  // for a session caller
};

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

}  // namespace

class GatewayService::Impl final : public v1::Gateway::Service {
 public:
  Impl(EventStore& store, RuntimeSettings& settings, GatewayServiceOptions options)
      : store_(store),
        settings_(settings),
        sandbox_(settings),
        policy_(options.policy),
        own_signal_(options.appended ? nullptr : std::make_unique<AppendSignal>()),
        appended_(options.appended ? *options.appended : *own_signal_) {}

  // ---- Sessions ----------------------------------------------------------------------------

  grpc::Status RegisterSession(grpc::ServerContext* ctx, const v1::RegisterSessionRequest* req,
                               v1::RegisterSessionResponse* resp) override {
    if (!isValidSessionId(req->id())) {
      return statusOf(invalidArgument("session id " + quote(req->id().substr(0, 140)) +
                                      " is not 1..128 bytes of [A-Za-z0-9._:-]"));
    }
    auto existing = store_.session(req->id());
    if (!existing.ok()) return storeStatus(existing.error());
    const int64_t now = nowMs();
    SessionRecord rec;
    if (existing->has_value()) {
      // Re-registration (a restarted supervisor): only the session itself or the operator.
      auto caller = authenticate(ctx);
      if (!caller.ok()) {
        return statusOf(alreadyExists("session " + quote(req->id()) +
                                      " is already registered; re-register with its token (" +
                                      caller.error().message() + ")"));
      }
      if (!caller->is_operator && caller->session != req->id()) {
        return statusOf(permissionDenied("a token of session " + quote(caller->session) +
                                         " cannot re-register session " + quote(req->id())));
      }
      rec = **existing;
    } else {
      rec.id = req->id();
      rec.created_ms = now;
    }
    if (!req->name().empty()) rec.name = req->name();
    if (!req->public_key().empty()) rec.public_key = req->public_key();
    if (!req->hostname().empty()) {
      // Kept as text: cut at a NUL and to kMaxHostnameBytes on a UTF-8 boundary.
      const std::string_view host = std::string_view(req->hostname()).substr(0, req->hostname().find('\0'));
      rec.hostname = std::string(host.substr(0, utf8PrefixLength(host, kMaxHostnameBytes)));
    }
    rec.state = "running";  // a (re-)registered session runs: an earlier stop no longer applies
    rec.stop_reason.clear();
    rec.exit_code.reset();
    rec.updated_ms = now;
    auto token = generateSessionToken();
    if (!token.ok()) return statusOf(token.error());
    rec.token_hash = sessionTokenHash(*token);
    if (auto r = store_.upsertSession(rec); !r.ok()) return storeStatus(r.error());
    {
      std::lock_guard lock(mu_);
      std::erase_if(token_sessions_, [&](const auto& kv) { return kv.second == rec.id; });
      token_sessions_[rec.token_hash] = rec.id;
    }
    auto highest = store_.highestContiguous(rec.id);
    if (!highest.ok()) return storeStatus(highest.error());
    resp->set_token(*token);
    resp->set_resume_after_sequence(*highest);
    return grpc::Status::OK;
  }

  grpc::Status ListSessions(grpc::ServerContext* ctx, const v1::ListSessionsRequest*,
                            v1::ListSessionsResponse* resp) override {
    if (auto s = requireOperator(ctx, "ListSessions"); !s.ok()) return s;
    auto all = store_.sessions();
    if (!all.ok()) return storeStatus(all.error());
    for (const auto& rec : *all) {
      auto highest = store_.highestContiguous(rec.id);
      if (!highest.ok()) return storeStatus(highest.error());
      toProto(rec, *highest, resp->add_sessions());
    }
    return grpc::Status::OK;
  }

  grpc::Status GetSession(grpc::ServerContext* ctx, const v1::GetSessionRequest* req,
                          v1::Session* resp) override {
    if (auto s = requireSessionOrOperator(ctx, req->id()); !s.ok()) return s;
    auto rec = loadSession(req->id());
    if (!rec.ok()) return statusOf(rec.error());
    auto highest = store_.highestContiguous(req->id());
    if (!highest.ok()) return storeStatus(highest.error());
    toProto(*rec, *highest, resp);
    return grpc::Status::OK;
  }

  grpc::Status GetSandboxPolicy(grpc::ServerContext* ctx, const v1::GetSandboxPolicyRequest* req,
                                v1::GetSandboxPolicyResponse* resp) override {
    if (auto s = requireSessionOrOperator(ctx, req->session_id()); !s.ok()) return s;
    auto rec = loadSession(req->session_id());
    if (!rec.ok()) return statusOf(rec.error());
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
    if (!config.ok()) return statusOf(config.error());
    toProto(*config, resp->mutable_sandbox_config());
    return grpc::Status::OK;
  }

  // ---- Settings (operator only) ------------------------------------------------------------

  grpc::Status GetSetting(grpc::ServerContext* ctx, const v1::GetSettingRequest* req,
                          v1::Setting* resp) override {
    if (auto s = requireOperator(ctx, "GetSetting"); !s.ok()) return s;
    auto spec = SettingsRegistry::builtin().lookup(req->key());
    if (!spec.ok()) return statusOf(spec.error());
    const std::string session = req->global() ? std::string() : req->session();
    auto eff = settings_.effective(session, req->key());
    if (!eff.ok()) return statusOf(eff.error());
    fillSetting(**spec, eff->value, std::string(settingSourceName(eff->source)), session, settings_.revision(),
                resp);
    return grpc::Status::OK;
  }

  grpc::Status SetSetting(grpc::ServerContext* ctx, const v1::SetSettingRequest* req,
                          v1::Setting* resp) override {
    if (auto s = requireOperator(ctx, "SetSetting"); !s.ok()) return s;
    auto scope = scopeOf(req->global(), req->session());
    if (!scope.ok()) return statusOf(scope.error());
    auto spec = SettingsRegistry::builtin().lookup(req->key());
    if (!spec.ok()) return statusOf(spec.error());
    auto changed = settings_.setText(*scope, req->key(), req->value());
    if (!changed.ok()) return statusOf(changed.error());
    auto stored = settings_.get(*scope, req->key());
    if (!stored.ok() || !stored->has_value()) {
      return statusOf(internalError("setting " + quote(req->key()) + " vanished after it was set"));
    }
    fillSetting(**spec, **stored, scope->isGlobal() ? "global" : "session", scope->session, settings_.revision(),
                resp);
    return grpc::Status::OK;
  }

  grpc::Status DeleteSetting(grpc::ServerContext* ctx, const v1::DeleteSettingRequest* req,
                             v1::DeleteSettingResponse* resp) override {
    if (auto s = requireOperator(ctx, "DeleteSetting"); !s.ok()) return s;
    auto scope = scopeOf(req->global(), req->session());
    if (!scope.ok()) return statusOf(scope.error());
    auto existed = settings_.erase(*scope, req->key());
    if (!existed.ok()) return statusOf(existed.error());
    resp->set_existed(*existed);
    resp->set_config_revision(settings_.revision());
    return grpc::Status::OK;
  }

  grpc::Status ListSettings(grpc::ServerContext* ctx, const v1::ListSettingsRequest* req,
                            v1::ListSettingsResponse* resp) override {
    if (auto s = requireOperator(ctx, "ListSettings"); !s.ok()) return s;
    for (const auto& stored : settings_.list()) {
      if (!req->session().empty() && !stored.scope.isGlobal() && stored.scope.session != req->session()) {
        continue;
      }
      const SettingSpec* spec = SettingsRegistry::builtin().find(stored.key);
      if (spec == nullptr) continue;
      fillSetting(*spec, stored.value, stored.scope.isGlobal() ? "global" : "session",
                  stored.scope.session, settings_.revision(), resp->add_settings());
    }
    return grpc::Status::OK;
  }

  // ---- Push --------------------------------------------------------------------------------

  grpc::Status PushEvents(
      grpc::ServerContext* ctx,
      grpc::ServerReaderWriter<v1::PushEventsResponse, v1::PushEventsRequest>* stream) override {
    auto caller = authenticate(ctx);
    if (!caller.ok()) return statusOf(caller.error());
    if (caller->is_operator) {
      return statusOf(Error(Code::kUnauthenticated,
                            "PushEvents needs the session's token (authorization: Bearer <token>)"));
    }
    v1::PushEventsRequest req;
    while (stream->Read(&req)) {
      v1::PushEventsResponse resp;
      std::vector<StoredEvent> batch;
      if (auto bad = checkBatch(caller->session, req, &batch); !bad.ok()) {
        resp.set_error(bad.error().message());
        auto highest = store_.highestContiguous(caller->session);
        if (highest.ok()) resp.set_acknowledged_through(*highest);
      } else if (batch.empty()) {
        auto highest = store_.highestContiguous(caller->session);
        if (!highest.ok()) return unavailableStatus(highest.error());
        resp.set_acknowledged_through(*highest);
      } else {
        auto appended = store_.append(batch);
        if (!appended.ok()) {
          if (appended.error().code() == Code::kInvalidArgument) {
            resp.set_error(appended.error().message());
            auto highest = store_.highestContiguous(caller->session);
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
    if (!q.ok()) return statusOf(q.error());
    if (auto s = restrictToCaller(ctx, &*q); !s.ok()) return s;
    auto events = store_.query(*q);
    if (!events.ok()) return storeStatus(events.error());
    for (const auto& e : *events) toProto(e, resp->add_events());
    return grpc::Status::OK;
  }

  grpc::Status FollowLogs(grpc::ServerContext* ctx, const v1::GetLogsRequest* req,
                          grpc::ServerWriter<v1::StoredEvent>* writer) override {
    if (req->session_id().empty()) {
      return statusOf(invalidArgument("FollowLogs needs a session_id (follows one session)"));
    }
    auto q = toEventQuery(*req);
    if (!q.ok()) return statusOf(q.error());
    if (auto s = restrictToCaller(ctx, &*q); !s.ok()) return s;
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
    if (!q.ok()) return statusOf(q.error());
    const bool about_sessions = !q->session && (q->domain || q->path || q->package || q->stop_reason);
    if (about_sessions) {
      if (auto s = requireOperator(ctx, "Query across sessions"); !s.ok()) return s;
      auto ids = store_.sessionsMatching(*q);
      if (!ids.ok()) return storeStatus(ids.error());
      for (auto& id : *ids) resp->add_sessions(std::move(id));
      return grpc::Status::OK;
    }
    if (auto s = restrictToCaller(ctx, &*q); !s.ok()) return s;
    auto events = store_.query(*q);
    if (!events.ok()) return storeStatus(events.error());
    for (const auto& e : *events) toProto(e, resp->add_events());
    return grpc::Status::OK;
  }

  grpc::Status GetVerificationMaterial(grpc::ServerContext* ctx,
                                       const v1::GetVerificationMaterialRequest* req,
                                       v1::GetVerificationMaterialResponse* resp) override {
    if (auto s = requireSessionOrOperator(ctx, req->session_id()); !s.ok()) return s;
    auto rec = loadSession(req->session_id());
    if (!rec.ok()) return statusOf(rec.error());
    resp->set_public_key(rec->public_key);
    EventQuery first;
    first.session = req->session_id();
    first.limit = 1;
    auto start = store_.query(first);
    if (!start.ok()) return storeStatus(start.error());
    if (!start->empty() && start->front().sequence == 1) toProto(start->front(), resp->mutable_log_start());
    // Every LOG event, paged; the checkpoints among them.
    EventQuery logs;
    logs.session = req->session_id();
    logs.kinds = {"LOG"};
    logs.limit = 10000;
    for (;;) {
      auto page = store_.query(logs);
      if (!page.ok()) return storeStatus(page.error());
      for (const auto& e : *page) {
        if (e.sequence != 1 && isRetainedForever(e)) toProto(e, resp->add_checkpoints());
      }
      if (page->size() < logs.limit) break;
      logs.after_sequence = page->back().sequence;
    }
    return grpc::Status::OK;
  }

 private:
  // The caller of this RPC: a session (valid token) or the operator (no token, loopback peer).
  Result<Caller> authenticate(grpc::ServerContext* ctx) {
    const auto& md = ctx->client_metadata();
    const auto it = md.find("authorization");
    if (it == md.end()) {
      if (isLoopbackPeer(ctx->peer())) return Caller{true, {}};
      return Error(Code::kUnauthenticated,
                   "missing 'authorization: Bearer <token>' metadata (tokens come from RegisterSession; "
                   "the operator may call without one only over loopback)");
    }
    auto token = parseBearer(std::string_view(it->second.data(), it->second.size()));
    if (!token) {
      return Error(Code::kUnauthenticated, "the authorization metadata is not 'Bearer <token>'");
    }
    const std::string hash = sessionTokenHash(*token);
    if (auto s = sessionOfHash(hash); s) return Caller{false, *s};
    // Not cached (a restarted gateway): reload the sessions' hashes once.
    auto all = store_.sessions();
    if (!all.ok()) return unavailable("event store: " + all.error().message());
    {
      std::lock_guard lock(mu_);
      for (const auto& rec : *all) {
        if (!rec.token_hash.empty()) token_sessions_[rec.token_hash] = rec.id;
      }
    }
    if (auto s = sessionOfHash(hash); s) return Caller{false, *s};
    return Error(Code::kUnauthenticated, "the session token is not valid (unknown or replaced)");
  }

  std::optional<std::string> sessionOfHash(const std::string& hash) {
    std::lock_guard lock(mu_);
    // A lookup by the SHA-256 of a 256-bit random token: timing reveals nothing usable.
    const auto it = token_sessions_.find(hash);
    if (it == token_sessions_.end()) return std::nullopt;
    return it->second;
  }

  grpc::Status requireOperator(grpc::ServerContext* ctx, std::string_view what) {
    auto caller = authenticate(ctx);
    if (!caller.ok()) return statusOf(caller.error());
    if (!caller->is_operator) {
      return statusOf(permissionDenied(std::string(what) + " is for the gateway's operator, not for session " +
                                       quote(caller->session)));
    }
    return grpc::Status::OK;
  }

  grpc::Status requireSessionOrOperator(grpc::ServerContext* ctx, const std::string& session) {
    auto caller = authenticate(ctx);
    if (!caller.ok()) return statusOf(caller.error());
    if (!caller->is_operator && caller->session != session) {
      return statusOf(permissionDenied("a token of session " + quote(caller->session) +
                                       " cannot act on session " + quote(session)));
    }
    return grpc::Status::OK;
  }

  // A session caller may read only itself: an empty session filter becomes its own id.
  grpc::Status restrictToCaller(grpc::ServerContext* ctx, EventQuery* q) {
    auto caller = authenticate(ctx);
    if (!caller.ok()) return statusOf(caller.error());
    if (caller->is_operator) return grpc::Status::OK;
    if (!q->session) q->session = caller->session;
    if (*q->session != caller->session) {
      return statusOf(permissionDenied("a token of session " + quote(caller->session) +
                                       " cannot read session " + quote(*q->session)));
    }
    return grpc::Status::OK;
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
  static Result<void> checkBatch(const std::string& caller, const v1::PushEventsRequest& req,
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
    for (const auto& pe : req.events()) {
      if (!pe.session_id().empty() && pe.session_id() != caller) {
        return permissionDenied("event " + std::to_string(pe.sequence()) + " names session " +
                                quote(pe.session_id().substr(0, 140)) + ", not " + quote(caller));
      }
      if (pe.sequence() <= previous) {
        return invalidArgument("sequences must increase strictly within a batch: " +
                               std::to_string(pe.sequence()) + " after " + std::to_string(previous));
      }
      previous = pe.sequence();
      StoredEvent e = fromProto(pe, caller);
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
  PolicySource* const policy_;                // nullable
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
