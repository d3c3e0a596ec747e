#pragma once

#include <cstddef>
#include <memory>

#include "gateway/service/caller.h"
#include "gateway/settings/runtime_settings.h"
#include "gateway/store/store.h"

namespace warden::audit {
class Emitter;
}

namespace grpc {
class Service;
}

namespace warden::gateway {

class AppendSignal;
class PolicySource;

// Limits on what one PushEvents request may carry (docs/gateway.md "Push").
inline constexpr size_t kMaxPushBatchEvents = 10000;
// The server's maximum gRPC message size (a batch); larger messages fail with RESOURCE_EXHAUSTED.
inline constexpr int kMaxGrpcMessageBytes = 64 * 1024 * 1024;

// The Gateway gRPC service (proto/warden/v1/gateway.proto) over one EventStore and one
// RuntimeSettings. Register service() with a grpc::ServerBuilder (GatewayServer does).
//
// Authentication (docs/gateway.md "Authentication"; identifyCaller): RegisterSession registers a
// new session id once and issues its random bearer token (the store keeps only its SHA-256); an id
// that exists is refused (ALREADY_EXISTS) whoever asks — a session's key and token are never
// replaced. PushEvents needs the session's token. GetSession, GetSandboxPolicy, GetLogs, FollowLogs,
// Query and GetVerificationMaterial take a session token (that session only) or an operator. Listing
// sessions, "which sessions" queries and settings are for operators only: root or the operator group
// on the operator socket (SO_PEERCRED), a verified TLS client certificate, or an operator token
// (`options.access`). Nobody else is an operator: not loopback, not the unix socket's other users.
//
// Recording (`options.trail`, the gateway's own audit trail): every call by an operator, every
// refused call (UNAUTHENTICATED, PERMISSION_DENIED, a refused re-registration) and every new
// registration becomes an API event (ocsf::apiCall) with who called — uid/pid, certificate subject,
// token id or session, never a token — what they asked and the outcome. A session's own calls
// (push, poll, reading itself) are not recorded.
//
// GetSandboxPolicy serves `options.policy` when given (policy_yaml, policy_hash, policy_version,
// looked at again at most once per its check interval), else an empty policy_yaml ("keep your
// policy"). RegisterSession stores the hostname; a stored SESSION stop marks the session stopped (the
// store does, in the push's transaction). FollowLogs is woken by `options.appended`, which PushEvents
// notifies after each stored batch.
//
// Ownership: borrows `store`, `settings` and what `options` points to, which must outlive this
// object and the grpc::Server it is registered with. Thread-safe: gRPC calls handlers from its own
// threads; the store, settings, policy source, signal and emitter are thread-safe.
struct GatewayServiceOptions {
  PolicySource* policy = nullptr;    // nullptr: serve no policy
  AppendSignal* appended = nullptr;  // nullptr: the service uses one of its own
  OperatorAccess access;             // default: no operators at all
  audit::Emitter* trail = nullptr;   // nullptr: nothing is recorded
  const ocsf::SessionContext* trail_session = nullptr;  // the trail's session (with `trail`)
};

class GatewayService {
 public:
  GatewayService(EventStore& store, RuntimeSettings& settings, GatewayServiceOptions options = {});
  ~GatewayService();
  GatewayService(const GatewayService&) = delete;
  GatewayService& operator=(const GatewayService&) = delete;

  // The generated Gateway::Service to register; owned by this object.
  grpc::Service* service();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace warden::gateway
