#pragma once

#include <cstddef>
#include <memory>

#include "gateway/settings/runtime_settings.h"
#include "gateway/store/store.h"

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
// Authentication (docs/gateway.md): RegisterSession issues a random bearer token; the store keeps
// only its SHA-256. PushEvents and GetSandboxPolicy need "authorization: Bearer <token>" of the
// session they name (UNAUTHENTICATED without a valid token, PERMISSION_DENIED for another session's
// id). Reading RPCs accept either a session token (then only that session may be read) or no token
// from a loopback peer (the local operator). Settings writes are operator-only.
//
// GetSandboxPolicy serves `options.policy` when given (policy_yaml, policy_hash, policy_version,
// looked at again at most once per its check interval), else an empty policy_yaml ("keep your
// policy"). RegisterSession stores the hostname and marks the session running (clearing an old
// stop); a stored SESSION stop marks it stopped (the store does, in the push's transaction).
// FollowLogs is woken by `options.appended`, which PushEvents notifies after each stored batch.
//
// Ownership: borrows `store`, `settings` and what `options` points to, which must outlive this
// object and the grpc::Server it is registered with. Thread-safe: gRPC calls handlers from its own
// threads; the store, settings, policy source and signal are thread-safe.
struct GatewayServiceOptions {
  PolicySource* policy = nullptr;    // nullptr: serve no policy
  AppendSignal* appended = nullptr;  // nullptr: the service uses one of its own
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
