#pragma once

// Sniffing the bytes that follow "200 Connection Established" (untrusted, from the agent): whether
// they start a TLS ClientHello, and what it offers (SNI, ALPN). Bounds-checked, allocation-bounded,
// fuzzed (tests/fuzz/tls_client_hello_fuzz.cc). Stateless and thread-safe.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace warden::proxy {

// Bytes needed by looksLikeTlsClientHello() to decide.
inline constexpr size_t kTlsSniffBytes = 6;
// Handshake messages longer than this are not ClientHellos we accept (real ones are < 16 KiB).
inline constexpr size_t kMaxClientHelloBytes = 64 * 1024;

// True if `first_bytes` (at least kTlsSniffBytes of them; fewer give false) start a TLS handshake
// record (content type 22, version 3.x) carrying a ClientHello (handshake type 1).
bool looksLikeTlsClientHello(std::string_view first_bytes);

enum class ClientHelloStatus {
  kComplete,    // a whole, well-formed ClientHello
  kIncomplete,  // well-formed so far: read more
  kInvalid,     // not a ClientHello, malformed, or over kMaxClientHelloBytes
};

struct ClientHelloInfo {
  ClientHelloStatus status = ClientHelloStatus::kInvalid;
  std::optional<std::string> sni;  // host_name from server_name, lower-cased; validated as a DNS name
  std::vector<std::string> alpn;   // protocols offered, in order
  size_t record_bytes = 0;         // bytes of records holding the ClientHello (when kComplete)
};

// Parses the ClientHello at the start of `bytes` (which may span several handshake records).
// Every length is checked against its enclosing one; nothing is read past `bytes`.
ClientHelloInfo inspectClientHello(std::string_view bytes);

// The SNI host name of a complete ClientHello; nullopt if incomplete, malformed, or without SNI.
std::optional<std::string> parseSni(std::string_view client_hello);

}  // namespace warden::proxy
