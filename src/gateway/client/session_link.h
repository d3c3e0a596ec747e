#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "audit/emitter.h"
#include "audit/log_events.h"
#include "audit/spool.h"
#include "common/result.h"
#include "gateway/client/channel.h"
#include "gateway/client/link_file.h"

namespace grpc {
class Channel;
class ClientContext;
}  // namespace grpc

namespace warden::gateway {

// What a GetSandboxPolicy answer asks the session to change, handed to the hooks only when its
// config_revision is higher than the last one applied (product.md "Gateway").
struct ConfigUpdate {
  uint64_t config_revision = 0;
  bool ocsf_enabled = false;
};
struct PolicyUpdate {
  uint64_t config_revision = 0;  // 0 when the gateway sent no SandboxConfig
  std::string yaml;
  std::string hash;     // as the gateway states it
  uint64_t version = 0;
};

struct SessionLinkOptions {
  LinkRecord link;                  // gateway URL, session id/name/hostname/public key, token if known
  ChannelOptions channel;
  // Where the link record is kept (the spool directory's `link` file): rewritten 0600 whenever the
  // token changes, so a restarted supervisor can push what is left in the spool as this session.
  std::filesystem::path link_file;
  // GetSandboxPolicy every poll_interval; zero: push only (a replay of a leftover spool).
  std::chrono::milliseconds poll_interval{5000};
  std::chrono::milliseconds rpc_deadline{5000};
  std::chrono::milliseconds backoff_initial{200};
  std::chrono::milliseconds backoff_max{5000};
  size_t batch_events = 1000;        // events per PushEvents request
  size_t batch_bytes = 4u << 20;     // and their JSON + shorthand bytes (at least one event)
};

// What the link tells the session. Called on the link's threads; each must be quick and must not
// call back into the SessionLink. Unset hooks are skipped.
struct SessionLinkHooks {
  std::function<void(const ConfigUpdate&)> on_config;
  std::function<void(const PolicyUpdate&)> on_policy;
  // The link went down (first failure after being up, or never up) or came back: once per edge.
  std::function<void(const audit::GatewayLinkFacts&)> on_unreachable;
  std::function<void(const audit::GatewayLinkFacts&)> on_reconnected;
  std::function<void(audit::Level, std::string_view)> on_note;  // operational lines
};

struct SessionLinkStats {
  uint64_t acknowledged = 0;   // the spool's acknowledged sequence
  uint64_t batches_sent = 0;
  uint64_t batches_refused = 0;  // replies with `error` (the batch is kept and retried)
  uint64_t reconnects = 0;
  uint64_t polls = 0;
  uint64_t configs_applied = 0;
  bool up = false;
};

// The session's half of the gateway protocol (docs/gateway-link.md): registers the session (or
// re-uses the token in `link`), pushes every spooled event over one PushEvents stream, drops from the
// spool what the gateway acknowledges as durably stored, and polls GetSandboxPolicy. An unreachable
// gateway changes nothing for the session: events stay in the spool, the last config stays in force,
// the link reconnects with exponential backoff (backoff_initial doubling to backoff_max) and reports
// the outage once (on_unreachable) and its end once (on_reconnected).
//
// Threads: start() starts a push thread and, when poll_interval > 0, a poll thread. notify() (new
// events in the spool) is cheap and thread-safe; call it from the pipeline's tap. drain() and stop()
// are called by the session's owner. Borrows the spool, which must outlive the link.
class SessionLink {
 public:
  static Result<std::unique_ptr<SessionLink>> start(SessionLinkOptions options, audit::Spool& spool,
                                                   SessionLinkHooks hooks);
  ~SessionLink();
  SessionLink(const SessionLink&) = delete;
  SessionLink& operator=(const SessionLink&) = delete;

  void notify();
  // Waits until the first GetSandboxPolicy answer was applied (its hooks have returned) or the link
  // failed once, or `timeout` passed. True when the first answer was applied. A session calls it
  // before starting the agent so that the gateway's config and policy are in force from the start.
  bool waitFirstContact(std::chrono::milliseconds timeout);
  // Waits until the gateway has acknowledged everything spooled so far, or `timeout` passes (the
  // push thread keeps retrying meanwhile). True when everything is acknowledged.
  bool drain(std::chrono::milliseconds timeout);
  // Stops both threads (a call in flight is cancelled). Idempotent; the destructor calls it.
  void stop();

  SessionLinkStats stats() const;
  // The token in use ("" before the first registration). Never logged.
  std::string token() const;

 private:
  SessionLink(SessionLinkOptions options, audit::Spool& spool, SessionLinkHooks hooks,
              std::shared_ptr<grpc::Channel> channel);
  void pushLoop();
  void pollLoop();
  // One PushEvents stream until it breaks or stop(); returns the status text of the break.
  std::string pushStream();
  // RegisterSession (re-registering with the current token when there is one).
  Result<void> registerSession();
  Result<void> pollOnce();
  void markDown(std::string_view error);
  void markUp();
  // Waits on cv_ up to `d` or until stop()/notify(); returns false once stopping.
  bool sleepFor(std::chrono::milliseconds d);
  void note(audit::Level level, std::string_view message);
  void trackCall(grpc::ClientContext* ctx);

  SessionLinkOptions options_;
  audit::Spool& spool_;
  SessionLinkHooks hooks_;
  std::shared_ptr<grpc::Channel> channel_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;                 // Guarded by mu_.
  bool notified_ = false;                 // Guarded by mu_.
  std::string token_;                     // Guarded by mu_.
  bool up_ = false;                       // Guarded by mu_.
  bool down_reported_ = false;            // Guarded by mu_. An outage was reported (on_unreachable).
  int64_t down_since_ = 0;                // Guarded by mu_.
  std::chrono::steady_clock::time_point down_steady_{};  // Guarded by mu_.
  uint64_t applied_revision_ = 0;         // Guarded by mu_.
  std::string applied_policy_hash_;       // Guarded by mu_.
  std::vector<grpc::ClientContext*> calls_;  // Guarded by mu_. Cancelled by stop().
  SessionLinkStats stats_;                // Guarded by mu_.
  bool first_contact_ = false;            // Guarded by mu_. A poll answered or the link failed once.
  bool first_applied_ = false;            // Guarded by mu_. A poll answered.
  std::condition_variable acked_cv_;      // drain() and waitFirstContact() wait here

  std::thread push_thread_;
  std::thread poll_thread_;
};

}  // namespace warden::gateway
