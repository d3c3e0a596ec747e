#pragma once

// Redaction of credential-bearing header values for anything that may be logged or put in an event.
// (URLs are redacted where every event is built: ocsf::redactUrl / splitUrl.) Pure and thread-safe.

#include <string>
#include <string_view>

#include "proxy/http_codec.h"

namespace warden::proxy {

inline constexpr std::string_view kRedacted = "[redacted]";

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
