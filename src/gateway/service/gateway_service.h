#pragma once

#include <cstddef>
#include <memory>

#include "gateway/settings/runtime_settings.h"
#include "gateway/store/store.h"

namespace grpc {
class Service;
}

namespace warden::gateway {

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
// Ownership: borrows `store` and `settings`, which must outlive this object and the grpc::Server it
// is registered with. Thread-safe: gRPC calls handlers from its own threads; the store and settings
// are thread-safe.
class GatewayService {
 public:
  GatewayService(EventStore& store, RuntimeSettings& settings);
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
