#pragma once

// The request-by-request HTTP/1.1 relay (sandbox.md "L7"): every request parsed strictly, its
// canonical path decided by the policy engine and forwarded as decided; responses relayed by their
// framing; 1xx and 101 handled per the upgrade rule. The relay itself is Connection::exchange()
// (connection_internal.h); this header holds its pure pieces.

#include <string>

#include "proxy/http_response.h"

namespace warden::proxy {

// The response head sent to the client: status line (always HTTP/1.1) and the upstream's fields
// minus hop-by-hop ones (Connection, Keep-Alive, Proxy-Connection, Proxy-Authenticate, TE, Trailer,
// Upgrade, and whatever the upstream's Connection names, except the framing fields). A 101 keeps
// Upgrade and says "Connection: Upgrade". `close` adds "Connection: close".
std::string serializeResponseHead(const HttpResponseHead& head, bool close);

}  // namespace warden::proxy
