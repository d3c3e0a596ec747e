#include "gateway/service/caller.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <charconv>

#include "common/encoding.h"
#include "common/error.h"
#include "common/ip_address.h"
#include "gateway/service/operator_socket.h"
#include "gateway/service/operator_tokens.h"
#include "gateway/service/session_auth.h"

namespace warden::gateway {

namespace {

bool startsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// The SHA-256 of the certificate's DER bytes (what `openssl x509 -fingerprint -sha256` prints), hex;
// empty when the PEM does not parse.
std::string certificateFingerprint(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return {};
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (cert == nullptr) return {};
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  const bool ok = X509_digest(cert, EVP_sha256(), digest, &length) == 1;
  X509_free(cert);
  if (!ok) return {};
  return hexEncode(std::string_view(reinterpret_cast<const char*>(digest), length));
}

std::string unixName(const PeerCredentials& p) {
  return userNameOf(p.uid) + " (uid " + std::to_string(p.uid) + ", pid " + std::to_string(p.pid) + ")";
}

}  // namespace

std::string Caller::describe() const {
  switch (kind) {
    case Kind::kUnixPeer: return unix_peer ? unixName(*unix_peer) + " on the operator socket" : "a unix peer";
    case Kind::kCertificate: return "the client certificate " + name;
    case Kind::kOperatorToken: return "the operator token " + name;
    case Kind::kSession: return "session " + session;
    case Kind::kAnonymous: break;
  }
  return "an anonymous caller from " + (peer.empty() ? std::string("?") : peer);
}

ocsf::ApiCaller Caller::toApiCaller() const {
  ocsf::ApiCaller out;
  out.name = name;
  out.credential_type = credential_type;
  out.credential_uid = credential_uid;
  out.src = endpointOfPeer(peer);
  switch (kind) {
    case Kind::kUnixPeer:
      out.auth = "unix";
      if (unix_peer) {
        out.uid = unix_peer->uid;
        out.pid = unix_peer->pid;
      }
      break;
    case Kind::kCertificate: out.auth = "cert"; break;
    case Kind::kOperatorToken: out.auth = "token"; break;
    case Kind::kSession: out.auth = "session"; break;
    case Kind::kAnonymous: out.auth = "none"; break;
  }
  return out;
}

ocsf::Endpoint endpointOfPeer(std::string_view peer) {
  ocsf::Endpoint e;
  std::string_view rest;
  if (startsWith(peer, "ipv4:")) {
    rest = peer.substr(5);
  } else if (startsWith(peer, "ipv6:")) {
    rest = peer.substr(5);
  } else {
    return e;
  }
  const size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos) return e;
  std::string host(rest.substr(0, colon));
  const std::string_view port_text = rest.substr(colon + 1);
  if (startsWith(host, "%5B") && host.size() >= 6 && host.substr(host.size() - 3) == "%5D") {
    host = host.substr(3, host.size() - 6);
  } else if (!host.empty() && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const auto ip = IpAddress::parse(host);
  int port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (!ip || ec != std::errc() || end != port_text.data() + port_text.size() || port < 0 || port > 65535) return e;
  e.ip = ip->toString();
  e.port = port;
  return e;
}

Result<Caller> identifyCaller(const CallInfo& call, const OperatorAccess& access,
                              const SessionOfToken& session_of_token) {
  Caller c;
  c.peer = call.peer;
  const std::optional<PeerCredentials> unix_peer =
      access.socket != nullptr ? access.socket->credentialsOf(call.peer) : std::nullopt;
  if (unix_peer && call.connection_gone) {
    return Error(Code::kUnauthenticated, "the connection closed before the call was identified");
  }
  if (call.authorization) {
    auto token = parseBearer(*call.authorization);
    if (!token) return Error(Code::kUnauthenticated, "the authorization metadata is not 'Bearer <token>'");
    if (access.tokens != nullptr) {
      if (auto id = access.tokens->match(*token)) {
        if (!call.tls && !unix_peer && !isLoopbackPeer(call.peer)) {
          return Error(Code::kUnauthenticated,
                       "operator tokens are accepted only over TLS or from this host (the operator socket or "
                       "loopback); this call came in plaintext from " + call.peer);
        }
        c.kind = Caller::Kind::kOperatorToken;
        c.is_operator = true;
        c.name = *id;
        c.credential_type = "operator token";
        c.credential_uid = *id;
        if (unix_peer) c.unix_peer = unix_peer;
        return c;
      }
    }
    auto session = session_of_token(*token);
    if (!session.ok()) return session.error();
    if (!*session) return Error(Code::kUnauthenticated, "the token is not valid (no session or operator has it)");
    c.kind = Caller::Kind::kSession;
    c.session = **session;
    c.name = **session;
    return c;
  }
  if (unix_peer) {
    c.kind = Caller::Kind::kUnixPeer;
    c.unix_peer = unix_peer;
    c.name = userNameOf(unix_peer->uid);
    if (unix_peer->uid == 0 || (access.group && unix_peer->inGroup(*access.group))) {
      c.is_operator = true;
    } else {
      c.not_operator = "uid " + std::to_string(unix_peer->uid) + " (" + c.name + ", pid " +
                       std::to_string(unix_peer->pid) + ") is not an operator of this gateway: operators are root" +
                       (access.group ? " and members of group " + access.group_name : std::string());
    }
    return c;
  }
  if (call.tls && access.client_certificates && !call.certificate_subject.empty()) {
    c.kind = Caller::Kind::kCertificate;
    c.is_operator = true;
    c.name = call.certificate_subject;
    if (const std::string fp = certificateFingerprint(call.certificate_pem); !fp.empty()) {
      c.credential_type = "x509 certificate";
      c.credential_uid = "sha256:" + fp;
    }
    return c;
  }
  c.not_operator = "no operator credentials: use the operator socket (as root" +
                   (access.group ? " or a member of group " + access.group_name : std::string()) +
                   "), a client certificate over TLS, or an operator token (--token-file)";
  return c;
}

}  // namespace warden::gateway
