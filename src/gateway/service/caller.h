#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "gateway/service/peer_credentials.h"
#include "ocsf/builders.h"

namespace warden::gateway {

class OperatorSocket;
class OperatorTokens;

// What the service knows about one call's transport, taken from grpc::ServerContext by the service
// (so that this file needs no gRPC headers).
struct CallInfo {
  std::string peer;                          // ServerContext::peer(): "ipv4:10.0.0.7:5123", "fd:300", ...
  std::optional<std::string> authorization;  // the "authorization" metadata, when sent
  bool tls = false;                          // the call came over TLS
  std::string certificate_subject;           // x509_subject of the client certificate gRPC verified
  std::string certificate_pem;               // x509_pem_cert (its SHA-256 names the credential)
  bool connection_gone = false;              // ServerContext::IsCancelled() when identified
};

// Who may act as the gateway's operator (docs/gateway.md "Authentication").
struct OperatorAccess {
  std::optional<gid_t> group;     // besides root: members of this group, on the unix socket
  std::string group_name;         // for messages
  const OperatorTokens* tokens = nullptr;   // nullptr: no operator tokens
  const OperatorSocket* socket = nullptr;   // nullptr: no unix socket
  bool client_certificates = false;         // TLS client certificates are verified (tls.client_ca)
};

// The caller of one RPC.
struct Caller {
  enum class Kind { kAnonymous, kUnixPeer, kCertificate, kOperatorToken, kSession };
  Kind kind = Kind::kAnonymous;
  bool is_operator = false;
  std::string session;                     // kSession: the token's session
  std::optional<PeerCredentials> unix_peer;  // kUnixPeer
  std::string name;            // the Unix user name, certificate subject, token id or session id
  std::string credential_type;  // "operator token", "x509 certificate"
  std::string credential_uid;   // the token's id, "sha256:<certificate fingerprint>"
  std::string not_operator;    // why this caller is not an operator (a denial's reason)
  std::string peer;            // the transport peer, as gRPC names it

  // "root (uid 0, pid 4242) on the operator socket", "certificate CN=ops", "operator token ops-1",
  // "session 0190...", "an anonymous caller from ipv4:10.0.0.7:5123": for messages.
  std::string describe() const;
  // The same as the OCSF API event's actor (ocsf::apiCall).
  ocsf::ApiCaller toApiCaller() const;
};

// Looks up the session a (non-operator) bearer token belongs to: nullopt when none does.
using SessionOfToken = std::function<Result<std::optional<std::string>>(std::string_view token)>;

// Who is calling:
//  - with "authorization: Bearer T": an operator token (accepted only over TLS or from this host:
//    the unix socket or loopback), else a session token; a malformed header or an unknown token is
//    Unauthenticated;
//  - else, on the operator socket: the peer's SO_PEERCRED — an operator when root or in the operator
//    group, else a caller that is not (not_operator says why);
//  - else, a verified TLS client certificate: an operator, named by its subject;
//  - else anonymous.
// A unix-socket call whose connection is already gone is Unauthenticated (its fd number may have
// been reused). Errors from `session_of_token` (the store) are passed on.
Result<Caller> identifyCaller(const CallInfo& call, const OperatorAccess& access,
                              const SessionOfToken& session_of_token);

// A TCP peer "ipv4:1.2.3.4:5" / "ipv6:[::1]:5" (also %5B..%5D) as an endpoint; empty otherwise.
ocsf::Endpoint endpointOfPeer(std::string_view peer);

}  // namespace warden::gateway
