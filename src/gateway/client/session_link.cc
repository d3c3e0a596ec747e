#include "gateway/client/session_link.h"

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>

#include "common/clock.h"
#include "warden/v1/gateway.grpc.pb.h"

namespace warden::gateway {
namespace {

using std::chrono::milliseconds;

int64_t nowMs() { return SystemClock::instance().nowMillis(); }

}  // namespace

Result<std::unique_ptr<SessionLink>> SessionLink::start(SessionLinkOptions options, audit::Spool& spool,
                                                       SessionLinkHooks hooks) {
  if (options.link.session_id.empty()) return invalidArgument("gateway link: a session id is required");
  if (options.batch_events == 0) return invalidArgument("gateway link: batch_events must be at least 1");
  if (options.backoff_initial.count() <= 0 || options.backoff_max < options.backoff_initial) {
    return invalidArgument("gateway link: backoff must be positive and initial <= max");
  }
  auto channel = makeGatewayChannel(options.link.gateway_url, options.channel);
  if (!channel.ok()) return channel.error();
  std::unique_ptr<SessionLink> link(new SessionLink(std::move(options), spool, std::move(hooks), std::move(*channel)));
  link->push_thread_ = std::thread([l = link.get()] { l->pushLoop(); });
  if (link->options_.poll_interval.count() > 0) link->poll_thread_ = std::thread([l = link.get()] { l->pollLoop(); });
  return link;
}

SessionLink::SessionLink(SessionLinkOptions options, audit::Spool& spool, SessionLinkHooks hooks,
                         std::shared_ptr<grpc::Channel> channel)
    : options_(std::move(options)), spool_(spool), hooks_(std::move(hooks)), channel_(std::move(channel)) {
  token_ = options_.link.token;
  stats_.acknowledged = spool_.ackedSequence();
}

SessionLink::~SessionLink() { stop(); }

void SessionLink::stop() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
    for (grpc::ClientContext* ctx : calls_) ctx->TryCancel();
  }
  cv_.notify_all();
  acked_cv_.notify_all();
  if (push_thread_.joinable()) push_thread_.join();
  if (poll_thread_.joinable()) poll_thread_.join();
}

void SessionLink::notify() {
  {
    std::lock_guard lk(mu_);
    notified_ = true;
  }
  cv_.notify_all();
}

bool SessionLink::drain(milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lk(mu_);
  notified_ = true;
  cv_.notify_all();
  return acked_cv_.wait_until(lk, deadline, [&] {
    return stopping_ || spool_.ackedSequence() >= spool_.lastSequence();
  }) && spool_.ackedSequence() >= spool_.lastSequence();
}

bool SessionLink::waitFirstContact(milliseconds timeout) {
  std::unique_lock lk(mu_);
  acked_cv_.wait_for(lk, timeout, [&] { return stopping_ || first_contact_; });
  return first_applied_;
}

SessionLinkStats SessionLink::stats() const {
  std::lock_guard lk(mu_);
  SessionLinkStats s = stats_;
  s.acknowledged = spool_.ackedSequence();
  s.up = up_;
  return s;
}

std::string SessionLink::token() const {
  std::lock_guard lk(mu_);
  return token_;
}

void SessionLink::note(audit::Level level, std::string_view message) {
  if (hooks_.on_note) hooks_.on_note(level, message);
}

bool SessionLink::sleepFor(milliseconds d) {
  std::unique_lock lk(mu_);
  cv_.wait_for(lk, d, [&] { return stopping_ || notified_; });
  notified_ = false;
  return !stopping_;
}

// A call registers its context so that stop() can cancel it; the scope guard removes it.
void SessionLink::trackCall(grpc::ClientContext* ctx) {
  std::lock_guard lk(mu_);
  if (stopping_) ctx->TryCancel();
  calls_.push_back(ctx);
}

namespace {

class CallScope {
 public:
  CallScope(std::mutex& mu, std::vector<grpc::ClientContext*>& calls, grpc::ClientContext* ctx)
      : mu_(mu), calls_(calls), ctx_(ctx) {}
  ~CallScope() {
    std::lock_guard lk(mu_);
    calls_.erase(std::remove(calls_.begin(), calls_.end(), ctx_), calls_.end());
  }
  CallScope(const CallScope&) = delete;
  CallScope& operator=(const CallScope&) = delete;

 private:
  std::mutex& mu_;
  std::vector<grpc::ClientContext*>& calls_;
  grpc::ClientContext* ctx_;
};

}  // namespace

void SessionLink::markDown(std::string_view error) {
  audit::GatewayLinkFacts facts;
  {
    std::lock_guard lk(mu_);
    if (stopping_) return;  // a call cancelled by stop() is not an outage
    if (up_ || !down_reported_) {
      if (up_ || down_since_ == 0) {
        down_since_ = nowMs();
        down_steady_ = std::chrono::steady_clock::now();
      }
      up_ = false;
      if (down_reported_) return;
      down_reported_ = true;
      facts.gateway = options_.link.gateway_url;
      facts.error = std::string(error.substr(0, 512));
      facts.since = down_since_;
    } else {
      return;
    }
  }
  facts.pending = spool_.lastSequence() - spool_.ackedSequence();
  if (hooks_.on_unreachable) hooks_.on_unreachable(facts);
  {
    std::lock_guard lk(mu_);
    first_contact_ = true;
  }
  acked_cv_.notify_all();
}

void SessionLink::markUp() {
  audit::GatewayLinkFacts facts;
  bool report = false;
  {
    std::lock_guard lk(mu_);
    if (up_) return;
    up_ = true;
    if (down_reported_) {
      report = true;
      facts.gateway = options_.link.gateway_url;
      facts.since = down_since_;
      facts.down_ms = static_cast<uint64_t>(
          std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - down_steady_).count());
      ++stats_.reconnects;
    }
    down_reported_ = false;
    down_since_ = 0;
  }
  if (report) {
    facts.pending = spool_.lastSequence() - spool_.ackedSequence();
    if (hooks_.on_reconnected) hooks_.on_reconnected(facts);
  }
}

Result<void> SessionLink::registerSession() {
  auto stub = v1::Gateway::NewStub(channel_);
  grpc::ClientContext ctx;
  const std::string current = token();
  prepareGatewayCall(ctx, current, options_.rpc_deadline);
  trackCall(&ctx);
  CallScope scope(mu_, calls_, &ctx);
  v1::RegisterSessionRequest req;
  req.set_id(options_.link.session_id);
  req.set_name(options_.link.session_name);
  req.set_public_key(options_.link.public_key);
  req.set_hostname(options_.link.hostname);
  v1::RegisterSessionResponse resp;
  const grpc::Status status = stub->RegisterSession(&ctx, req, &resp);
  if (!status.ok()) return gatewayCallError(status, "gateway " + options_.link.gateway_url + ": RegisterSession");
  {
    std::lock_guard lk(mu_);
    token_ = resp.token();
  }
  cv_.notify_all();
  if (!options_.link_file.empty()) {
    LinkRecord record = options_.link;
    record.token = resp.token();
    if (auto w = writeLinkFile(options_.link_file, record); !w.ok()) {
      note(audit::Level::kWarn, "keeping the gateway token for a restart failed: " + w.error().toString());
    }
  }
  // What the gateway already holds needs no resend (a restarted supervisor's replay).
  const uint64_t stored = std::min(resp.resume_after_sequence(), spool_.lastSequence());
  if (stored > spool_.ackedSequence()) (void)spool_.ack(stored);
  return okResult();
}

void SessionLink::pushLoop() {
  milliseconds backoff = options_.backoff_initial;
  for (;;) {
    {
      std::lock_guard lk(mu_);
      if (stopping_) return;
    }
    std::string failure;
    if (token().empty()) {
      if (auto r = registerSession(); !r.ok()) failure = r.error().message();
    }
    if (failure.empty()) {
      failure = pushStream();
      if (failure.empty()) backoff = options_.backoff_initial;
    }
    if (failure.empty()) continue;
    markDown(failure);
    if (!sleepFor(backoff)) return;
    backoff = std::min(backoff * 2, options_.backoff_max);
  }
}

std::string SessionLink::pushStream() {
  auto stub = v1::Gateway::NewStub(channel_);
  grpc::ClientContext ctx;
  const std::string current = token();
  if (!current.empty()) ctx.AddMetadata("authorization", "Bearer " + current);
  trackCall(&ctx);
  CallScope scope(mu_, calls_, &ctx);
  auto stream = stub->PushEvents(&ctx);
  // Probe: an empty batch says what the gateway holds (and whether the token is good).
  uint64_t sent_through = 0;
  bool probed = false;
  std::string failure;
  for (;;) {
    v1::PushEventsRequest req;
    req.set_session_id(options_.link.session_id);
    uint64_t batch_last = 0;
    if (probed) {
      auto pending = spool_.pending(std::max(sent_through, spool_.ackedSequence()), options_.batch_events,
                                    options_.batch_bytes);
      if (!pending.ok()) {
        note(audit::Level::kError, "reading the spool: " + pending.error().toString());
        failure = pending.error().message();
        break;
      }
      if (pending->empty()) {
        acked_cv_.notify_all();
        if (!sleepFor(milliseconds(200))) break;
        continue;
      }
      for (auto& e : *pending) {
        v1::StoredEvent* out = req.add_events();
        out->set_session_id(options_.link.session_id);
        out->set_sequence(e.sequence);
        out->set_json(std::move(e.json));
        out->set_shorthand(std::move(e.shorthand));
      }
      batch_last = req.events(req.events_size() - 1).sequence();
    }
    if (!stream->Write(req)) break;
    v1::PushEventsResponse resp;
    if (!stream->Read(&resp)) break;
    markUp();
    {
      std::lock_guard lk(mu_);
      if (probed) ++stats_.batches_sent;
    }
    const uint64_t acked = std::min(resp.acknowledged_through(), spool_.lastSequence());
    if (acked > spool_.ackedSequence()) {
      if (auto a = spool_.ack(acked); !a.ok()) note(audit::Level::kError, "acknowledging the spool: " + a.error().toString());
    }
    acked_cv_.notify_all();
    if (!resp.error().empty()) {
      {
        std::lock_guard lk(mu_);
        ++stats_.batches_refused;
      }
      note(audit::Level::kError, "the gateway refused a batch: " + resp.error().substr(0, 512) + "; retrying");
      failure = "batch refused: " + resp.error().substr(0, 512);
      break;
    }
    if (!probed) {
      probed = true;
      sent_through = acked;
      continue;
    }
    // A gap at the gateway (it acknowledged less than we sent): resend from what it holds.
    sent_through = acked < batch_last ? acked : batch_last;
  }
  stream->WritesDone();
  const grpc::Status status = stream->Finish();
  if (!failure.empty()) return failure;
  {
    std::lock_guard lk(mu_);
    if (stopping_) return {};
  }
  if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED || status.error_code() == grpc::StatusCode::NOT_FOUND) {
    // A gateway that lost the session (a new database): register again.
    note(audit::Level::kWarn, "the gateway does not know this session's token (" + status.error_message() +
                                  "); registering again");
    std::lock_guard lk(mu_);
    token_.clear();
  }
  return status.ok() ? std::string("push stream ended") : fmt::format("PushEvents: {}", status.error_message());
}

Result<void> SessionLink::pollOnce() {
  auto stub = v1::Gateway::NewStub(channel_);
  grpc::ClientContext ctx;
  prepareGatewayCall(ctx, token(), options_.rpc_deadline);
  trackCall(&ctx);
  CallScope scope(mu_, calls_, &ctx);
  v1::GetSandboxPolicyRequest req;
  req.set_session_id(options_.link.session_id);
  v1::GetSandboxPolicyResponse resp;
  const grpc::Status status = stub->GetSandboxPolicy(&ctx, req, &resp);
  if (!status.ok()) return gatewayCallError(status, "GetSandboxPolicy");
  markUp();
  std::optional<ConfigUpdate> config;
  std::optional<PolicyUpdate> policy;
  {
    std::lock_guard lk(mu_);
    ++stats_.polls;
    // A response without sandbox_config (an older gateway) changes nothing; nor does an old revision.
    const uint64_t revision = resp.has_sandbox_config() ? resp.sandbox_config().config_revision() : 0;
    if (revision <= applied_revision_) {
      first_contact_ = first_applied_ = true;
      acked_cv_.notify_all();
      return okResult();
    }
    applied_revision_ = revision;
    ++stats_.configs_applied;
    config = ConfigUpdate{.config_revision = revision, .ocsf_enabled = resp.sandbox_config().logging().ocsf_enabled()};
    if (!resp.policy_yaml().empty() && resp.policy_hash() != applied_policy_hash_) {
      applied_policy_hash_ = resp.policy_hash();
      policy = PolicyUpdate{.config_revision = revision,
                            .yaml = resp.policy_yaml(),
                            .hash = resp.policy_hash(),
                            .version = resp.policy_version()};
    }
  }
  if (config && hooks_.on_config) hooks_.on_config(*config);
  if (policy && hooks_.on_policy) hooks_.on_policy(*policy);
  {
    std::lock_guard lk(mu_);
    first_contact_ = first_applied_ = true;
  }
  acked_cv_.notify_all();
  return okResult();
}

void SessionLink::pollLoop() {
  milliseconds wait(0);
  for (;;) {
    {
      std::unique_lock lk(mu_);
      if (cv_.wait_for(lk, wait, [&] { return stopping_; })) return;
    }
    wait = options_.poll_interval;
    {
      // The push thread registers first; poll as soon as it has a token.
      std::unique_lock lk(mu_);
      cv_.wait(lk, [&] { return stopping_ || !token_.empty(); });
      if (stopping_) return;
    }
    if (auto r = pollOnce(); !r.ok()) {
      markDown(r.error().message());
      if (r.error().code() == Code::kUnauthenticated) note(audit::Level::kWarn, r.error().message());
    }
  }
}

}  // namespace warden::gateway
