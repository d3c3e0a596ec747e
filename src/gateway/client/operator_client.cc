#include "gateway/client/operator_client.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "gateway/client/token_file.h"
#include "warden/v1/gateway.grpc.pb.h"

namespace warden::gateway {

std::string resolveGatewayUrl(std::string_view flag, const char* env) {
  if (!flag.empty()) return std::string(flag);
  if (env != nullptr && *env != '\0') return env;
  return std::string(kDefaultGatewayUrl);
}

// ---- FollowCancel ---------------------------------------------------------------------------

void FollowCancel::cancel() {
  std::lock_guard lock(mu_);
  cancelled_ = true;
  if (ctx_ != nullptr) ctx_->TryCancel();
}

bool FollowCancel::cancelled() const {
  std::lock_guard lock(mu_);
  return cancelled_;
}

bool FollowCancel::attach(grpc::ClientContext* ctx) {
  std::lock_guard lock(mu_);
  if (cancelled_) return false;
  ctx_ = ctx;
  return true;
}

void FollowCancel::detach() {
  std::lock_guard lock(mu_);
  ctx_ = nullptr;
}

// ---- OperatorClient -------------------------------------------------------------------------

namespace {

// A page of GetLogs when the caller did not ask for a size.
constexpr uint32_t kDefaultPage = 1000;

LogEvent fromProto(const v1::StoredEvent& in) {
  LogEvent e;
  e.session_id = in.session_id();
  e.sequence = in.sequence();
  e.json = in.json();
  e.shorthand = in.shorthand();
  e.time_ms = in.time_ms();
  return e;
}

SessionInfo fromProto(const v1::Session& in) {
  SessionInfo s;
  s.id = in.id();
  s.name = in.name();
  s.state = in.state();
  s.stop_reason = in.stop_reason();
  s.public_key = in.public_key();
  if (in.has_exit_code()) s.exit_code = in.exit_code();
  s.created_ms = in.created_ms();
  s.updated_ms = in.updated_ms();
  s.highest_sequence = in.highest_sequence();
  s.hostname = in.hostname();
  return s;
}

SettingInfo fromProto(const v1::Setting& in) {
  SettingInfo s;
  s.key = in.key();
  s.value = in.value();
  s.scope = in.scope();
  s.session = in.session();
  s.type = in.type();
  s.allowed.assign(in.allowed().begin(), in.allowed().end());
  s.config_revision = in.config_revision();
  return s;
}

v1::GetLogsRequest toProto(const LogsRequest& in) {
  v1::GetLogsRequest out;
  out.set_session_id(in.session_id);
  out.set_since_ms(in.since_ms);
  for (const auto& c : in.classes) out.add_classes(c);
  out.set_min_severity(in.min_severity);
  out.set_after_sequence(in.after_sequence);
  out.set_limit(in.limit);
  return out;
}

}  // namespace

struct OperatorClient::Impl {
  std::string address;
  Options options;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::Gateway::Stub> stub;

  void prepare(grpc::ClientContext& ctx) const { prepareGatewayCall(ctx, options.token, options.deadline); }

  // The gRPC status as our Error (same code numbers), naming the gateway when it is the link that
  // failed rather than the gateway that answered.
  Error toError(const grpc::Status& st) const {
    const auto code = static_cast<Code>(static_cast<int>(st.error_code()));
    switch (st.error_code()) {
      case grpc::StatusCode::UNAVAILABLE:
        // A gateway that answered UNAVAILABLE itself (its store is down) is reachable: the channel
        // is READY then. Anything else is the link.
        if (channel->GetState(false) == GRPC_CHANNEL_READY) {
          return unavailable("gateway " + address + ": " + st.error_message());
        }
        return unavailable("gateway " + address + " unreachable: " + st.error_message());
      case grpc::StatusCode::DEADLINE_EXCEEDED:
        return deadlineExceeded("gateway " + address + " unreachable: no answer within " +
                                std::to_string(options.deadline.count()) + " ms (" + st.error_message() +
                                ")");
      default:
        return Error(code, st.error_message());
    }
  }
};

OperatorClient::OperatorClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OperatorClient::~OperatorClient() = default;
OperatorClient::OperatorClient(OperatorClient&&) noexcept = default;
OperatorClient& OperatorClient::operator=(OperatorClient&&) noexcept = default;

Result<OperatorClient> OperatorClient::create(std::string_view url, Options options) {
  auto endpoint = parseGatewayUrl(url);
  if (!endpoint.ok()) return endpoint.error();
  auto channel = makeGatewayChannel(url, options.channel);
  if (!channel.ok()) return channel.error();
  auto impl = std::make_unique<Impl>();
  impl->address = endpoint->target;
  impl->options = std::move(options);
  impl->channel = std::move(*channel);
  impl->stub = v1::Gateway::NewStub(impl->channel);
  return OperatorClient(std::move(impl));
}

Result<OperatorClient> OperatorClient::forCommand(std::string_view gateway_flag, Options options) {
  const std::string env_name(kGatewayEnv);
  return create(resolveGatewayUrl(gateway_flag, std::getenv(env_name.c_str())), std::move(options));
}

Result<OperatorClient> OperatorClient::forCommand(const OperatorConnection& connection) {
  Options options;
  options.channel = connection.channel;
  if (connection.token_file) {
    auto token = readTokenFile(*connection.token_file);
    if (!token.ok()) return token.error();
    options.token = std::move(*token);
  }
  return forCommand(connection.gateway, std::move(options));
}

const std::string& OperatorClient::address() const {
  return impl_->address;
}

Result<std::vector<SessionInfo>> OperatorClient::listSessions() {
  grpc::ClientContext ctx;
  impl_->prepare(ctx);
  v1::ListSessionsResponse resp;
  const grpc::Status st = impl_->stub->ListSessions(&ctx, v1::ListSessionsRequest(), &resp);
  if (!st.ok()) return impl_->toError(st);
  std::vector<SessionInfo> out;
  out.reserve(static_cast<size_t>(resp.sessions_size()));
  for (const auto& s : resp.sessions()) out.push_back(fromProto(s));
  return out;
}

Result<SessionInfo> OperatorClient::getSession(std::string_view id) {
  grpc::ClientContext ctx;
  impl_->prepare(ctx);
  v1::GetSessionRequest req;
  req.set_id(std::string(id));
  v1::Session resp;
  const grpc::Status st = impl_->stub->GetSession(&ctx, req, &resp);
  if (!st.ok()) return impl_->toError(st);
  return fromProto(resp);
}

Result<SessionInfo> OperatorClient::resolveSession(std::string_view text) {
  if (text.empty()) return invalidArgument("an empty session id");
  auto direct = getSession(text);
  if (direct.ok() || direct.error().code() != Code::kNotFound) return direct;
  auto all = listSessions();
  if (!all.ok()) return all.error();
  auto pick = [&](auto matches) -> std::optional<Result<SessionInfo>> {
    std::vector<const SessionInfo*> found;
    for (const SessionInfo& s : *all) {
      if (matches(s)) found.push_back(&s);
    }
    if (found.empty()) return std::nullopt;
    if (found.size() == 1) return Result<SessionInfo>(*found.front());
    std::string ids;
    for (const SessionInfo* s : found) ids += (ids.empty() ? "" : ", ") + s->id;
    return Result<SessionInfo>(invalidArgument("'" + std::string(text) + "' names " +
                                               std::to_string(found.size()) + " sessions (" + ids +
                                               "); give the session id"));
  };
  if (auto r = pick([&](const SessionInfo& s) { return s.name == text; })) return std::move(*r);
  if (auto r = pick([&](const SessionInfo& s) { return s.id.starts_with(text); })) return std::move(*r);
  return notFound("no session '" + std::string(text.substr(0, 140)) + "' on gateway " + impl_->address +
                  " (not an id, a name or an id prefix of any of its " + std::to_string(all->size()) +
                  " sessions; see 'warden sessions list')");
}

Result<SessionConfig> OperatorClient::sessionConfig(std::string_view session_id) {
  grpc::ClientContext ctx;
  impl_->prepare(ctx);
  v1::GetSandboxPolicyRequest req;
  req.set_session_id(std::string(session_id));
  v1::GetSandboxPolicyResponse resp;
  const grpc::Status st = impl_->stub->GetSandboxPolicy(&ctx, req, &resp);
  if (!st.ok()) return impl_->toError(st);
  SessionConfig out;
  if (resp.has_sandbox_config()) {
    out.present = true;
    out.config_revision = resp.sandbox_config().config_revision();
    out.ocsf_enabled = resp.sandbox_config().logging().ocsf_enabled();
  }
  return out;
}

Result<SettingInfo> OperatorClient::getSetting(std::string_view key, const SettingTarget& target) {
  grpc::ClientContext ctx;
  impl_->prepare(ctx);
  v1::GetSettingRequest req;
  req.set_key(std::string(key));
  req.set_session(target.session);
  req.set_global(target.global);
  v1::Setting resp;
  const grpc::Status st = impl_->stub->GetSetting(&ctx, req, &resp);
  if (!st.ok()) return impl_->toError(st);
  return fromProto(resp);
}

Result<SettingInfo> OperatorClient::setSetting(std::string_view key, std::string_view value,
                                               const SettingTarget& target) {
  grpc::ClientContext ctx;
  impl_->prepare(ctx);
  v1::SetSettingRequest req;
  req.set_key(std::string(key));
  req.set_value(std::string(value));
  req.set_session(target.session);
  req.set_global(target.global);
  v1::Setting resp;
  const grpc::Status st = impl_->stub->SetSetting(&ctx, req, &resp);
  if (!st.ok()) return impl_->toError(st);
  return fromProto(resp);
}

Result<SettingDeleted> OperatorClient::deleteSetting(std::string_view key, const SettingTarget& target) {
  grpc::ClientContext ctx;
  impl_->prepare(ctx);
  v1::DeleteSettingRequest req;
  req.set_key(std::string(key));
  req.set_session(target.session);
  req.set_global(target.global);
  v1::DeleteSettingResponse resp;
  const grpc::Status st = impl_->stub->DeleteSetting(&ctx, req, &resp);
  if (!st.ok()) return impl_->toError(st);
  return SettingDeleted{resp.existed(), resp.config_revision()};
}

Result<std::vector<SettingInfo>> OperatorClient::listSettings(std::string_view session) {
  grpc::ClientContext ctx;
  impl_->prepare(ctx);
  v1::ListSettingsRequest req;
  req.set_session(std::string(session));
  v1::ListSettingsResponse resp;
  const grpc::Status st = impl_->stub->ListSettings(&ctx, req, &resp);
  if (!st.ok()) return impl_->toError(st);
  std::vector<SettingInfo> out;
  out.reserve(static_cast<size_t>(resp.settings_size()));
  for (const auto& s : resp.settings()) out.push_back(fromProto(s));
  return out;
}

Result<std::vector<LogEvent>> OperatorClient::getLogs(const LogsRequest& request) {
  grpc::ClientContext ctx;
  impl_->prepare(ctx);
  v1::GetLogsResponse resp;
  const grpc::Status st = impl_->stub->GetLogs(&ctx, toProto(request), &resp);
  if (!st.ok()) return impl_->toError(st);
  std::vector<LogEvent> out;
  out.reserve(static_cast<size_t>(resp.events_size()));
  for (const auto& e : resp.events()) out.push_back(fromProto(e));
  return out;
}

Result<uint64_t> OperatorClient::forEachLog(LogsRequest request,
                                            const std::function<void(const LogEvent&)>& on_event) {
  if (request.session_id.empty()) return invalidArgument("reading logs page by page needs a session id");
  uint32_t page = request.limit == 0 ? kDefaultPage : request.limit;
  for (;;) {
    request.limit = page;
    auto events = getLogs(request);
    if (!events.ok()) {
      // A page over the gateway's message size: ask again for fewer events at a time.
      if (events.error().code() == Code::kResourceExhausted && page > 1) {
        page = std::max<uint32_t>(1, page / 4);
        continue;
      }
      return events.error();
    }
    for (const LogEvent& e : *events) {
      on_event(e);
      request.after_sequence = std::max(request.after_sequence, e.sequence);
    }
    if (events->size() < page) return request.after_sequence;
  }
}

Result<void> OperatorClient::followLogs(const LogsRequest& request,
                                        const std::function<bool(const LogEvent&)>& on_event,
                                        FollowCancel* cancel) {
  grpc::ClientContext ctx;  // no deadline: a follow runs until it is stopped
  if (!impl_->options.token.empty()) ctx.AddMetadata("authorization", "Bearer " + impl_->options.token);
  if (cancel != nullptr && !cancel->attach(&ctx)) return okResult();
  struct Detach {
    FollowCancel* c;
    ~Detach() {
      if (c != nullptr) c->detach();
    }
  } detach{cancel};
  auto reader = impl_->stub->FollowLogs(&ctx, toProto(request));
  v1::StoredEvent event;
  bool stopped = false;
  while (reader->Read(&event)) {
    if (!on_event(fromProto(event))) {
      stopped = true;
      ctx.TryCancel();
      break;
    }
  }
  const grpc::Status st = reader->Finish();
  if (stopped || (cancel != nullptr && cancel->cancelled())) return okResult();
  if (!st.ok()) return impl_->toError(st);
  return okResult();
}

Result<QueryAnswer> OperatorClient::query(const EventsQuery& query) {
  grpc::ClientContext ctx;
  impl_->prepare(ctx);
  v1::QueryRequest req;
  req.set_session_id(query.session_id);
  req.set_since_ms(query.since_ms);
  req.set_until_ms(query.until_ms);
  for (const auto& c : query.classes) req.add_classes(c);
  req.set_domain(query.domain);
  req.set_path(query.path);
  req.set_package(query.package);
  req.set_stop_reason(query.stop_reason);
  req.set_limit(query.limit);
  v1::QueryResponse resp;
  const grpc::Status st = impl_->stub->Query(&ctx, req, &resp);
  if (!st.ok()) return impl_->toError(st);
  QueryAnswer out;
  out.events.reserve(static_cast<size_t>(resp.events_size()));
  for (const auto& e : resp.events()) out.events.push_back(fromProto(e));
  out.sessions.assign(resp.sessions().begin(), resp.sessions().end());
  return out;
}

Result<VerificationMaterial> OperatorClient::verificationMaterial(std::string_view session_id) {
  grpc::ClientContext ctx;
  impl_->prepare(ctx);
  v1::GetVerificationMaterialRequest req;
  req.set_session_id(std::string(session_id));
  v1::GetVerificationMaterialResponse resp;
  const grpc::Status st = impl_->stub->GetVerificationMaterial(&ctx, req, &resp);
  if (!st.ok()) return impl_->toError(st);
  VerificationMaterial out;
  out.public_key = resp.public_key();
  if (resp.has_log_start()) out.log_start = fromProto(resp.log_start());
  out.checkpoints.reserve(static_cast<size_t>(resp.checkpoints_size()));
  for (const auto& e : resp.checkpoints()) out.checkpoints.push_back(fromProto(e));
  return out;
}

}  // namespace warden::gateway
