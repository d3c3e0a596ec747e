#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace grpc {
class Channel;
class ClientContext;
class Status;
}  // namespace grpc

namespace warden::gateway {

// Where a client reaches the gateway: `--gateway URL` split. Accepted forms:
//   http://HOST:PORT    plaintext gRPC
//   https://HOST:PORT   TLS (system roots, or `ca_file` when given)
//   HOST:PORT           plaintext (as `warden gateway --listen` prints it)
//   unix:/PATH          the gateway's unix socket (an absolute path; the operators' way in)
// HOST may be a name, an IPv4 address or a bracketed IPv6 address; PORT is 1..65535. Anything else
// (another scheme, a path, credentials in the URL, no port) is InvalidArgument naming the problem.
struct GatewayEndpoint {
  std::string target;  // "HOST:PORT" as gRPC takes it
  bool tls = false;
};
Result<GatewayEndpoint> parseGatewayUrl(std::string_view url);

struct ChannelOptions {
  std::optional<std::filesystem::path> ca_file;  // PEM roots for https (default: system roots)
  // A client certificate and its key (PEM) for https: an operator's mutual TLS. Both or neither.
  std::optional<std::filesystem::path> client_cert;
  std::optional<std::filesystem::path> client_key;
};

// A gRPC channel to the gateway (lazy: it connects on the first call). InvalidArgument for a bad
// URL, for a client certificate without its key (or the other way round) and for either over a
// URL that is not https; NotFound/PermissionDenied for an unreadable CA, certificate or key file. Thread-safe like grpc::Channel.
Result<std::shared_ptr<grpc::Channel>> makeGatewayChannel(std::string_view url, const ChannelOptions& options = {});

// Sets the per-call deadline and, when `token` is non-empty, "authorization: Bearer <token>".
void prepareGatewayCall(grpc::ClientContext& ctx, std::string_view token, std::chrono::milliseconds deadline);

// A failed call as our Error: the same canonical code (gRPC's numbers are ours), the message prefixed
// with what was being done ("gateway 127.0.0.1:7443: RegisterSession: ...").
Error gatewayCallError(const grpc::Status& status, std::string_view what);

}  // namespace warden::gateway
