#pragma once

// Redaction for anything that may be logged or put in an event: query strings and credential-bearing
// header values. Pure and thread-safe.

#include <string>
#include <string_view>

#include "proxy/http_codec.h"

namespace warden::proxy {

inline constexpr std::string_view kRedacted = "[redacted]";

// A URL or request-target with its query replaced by "?[redacted]" and any fragment dropped:
// "/search?q=secret" -> "/search?[redacted]"; an absolute URL's userinfo is replaced too
// ("http://user:pw@host/" -> "http://[redacted]@host/"). A bare '?' stays as it is (nothing to hide).
std::string redactTarget(std::string_view target);

// True for fields whose values are credentials: Authorization, Proxy-Authorization, Cookie,
// Set-Cookie, and the common API-key fields (X-Api-Key, Api-Key, X-Auth-Token, X-Amz-Security-Token,
// X-Goog-Api-Key). Case-insensitive.
bool isSensitiveHeader(std::string_view name);

// The value to log for a field: unchanged for ordinary fields; for Authorization and
// Proxy-Authorization the scheme is kept ("Bearer [redacted]") so a log still says what kind of
// credential was sent; for every other sensitive field just "[redacted]".
std::string redactHeaderValue(std::string_view name, std::string_view value);

// A copy of `headers` with redactHeaderValue applied to every value.
HeaderList redactHeaders(const HeaderList& headers);

}  // namespace warden::proxy
