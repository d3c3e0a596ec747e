#pragma once

// The proxy's own answers to the agent: small, complete HTTP/1.1 responses with JSON bodies that say
// what was refused and what to do about it (sandbox.md "CONNECT"). Pure and thread-safe.

#include <string>
#include <string_view>

namespace warden::proxy {

// What goes into a JSON error body: {"error":..., "detail":..., "reason":..., "rule":...}.
// Empty `reason`/`rule` are left out. `error` is a stable snake_case code ("policy_denied",
// "bad_request", "upstream_unreachable", "upstream_timeout", "connection_limit", ...).
struct ErrorBody {
  std::string_view error;
  std::string_view detail;
  std::string_view reason;
  std::string_view rule;
};

// "Forbidden" for 403, ...; "Error" for codes it does not know.
std::string_view statusText(int status);

// A whole response: status line, Content-Type: application/json, Content-Length, Cache-Control:
// no-store, "Connection: close" (every error answer closes the connection), `X-Warden-Policy: <rule>`
// when `policy_header` is set (L7 denials), then the JSON body.
std::string errorResponse(int status, const ErrorBody& body, bool policy_header = false);

// "HTTP/1.1 200 Connection Established\r\n\r\n".
std::string_view connectEstablishedResponse();

}  // namespace warden::proxy
