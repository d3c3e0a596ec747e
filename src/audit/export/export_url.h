#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace warden::audit::exporting {

// An `--export URL` (detect.md "Delivery (exports)") taken apart. Pure value; no I/O.
//   syslog+tcp://HOST:PORT          RFC 5424 over TCP, octet-counted framing (RFC 6587)
//   syslog+tls://HOST:PORT?ca=FILE  the same over TLS (RFC 5425), the server verified against FILE
//   syslog+udp://HOST:PORT          RFC 5426, one datagram per event (lossy)
// HOST is a DNS name, an IPv4 address or a bracketed IPv6 address ("[::1]"). PORT is required
// (1-65535). The only query parameter is `ca` (TLS only; without it the system's roots verify the
// server). Anything else — another scheme (https:// exports are not implemented yet), a path, a
// fragment, user info, an unknown parameter — is InvalidArgument naming the URL and the problem.
struct ExportUrl {
  enum class Transport { kTcp, kTls, kUdp };
  Transport transport = Transport::kTcp;
  std::string host;  // without brackets
  uint16_t port = 0;
  std::optional<std::string> ca_file;
  std::string text;  // the URL as given (usage errors)
  // "scheme://host:port" without the query: the sink's name in events and warden.log (query strings
  // are never logged).
  std::string name;

  static Result<ExportUrl> parse(std::string_view url);
};

}  // namespace warden::audit::exporting
