#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace warden::gateway {

// The gateway's per-session bearer tokens (docs/gateway.md "Authentication"). A token is 32 random
// bytes from getrandom(2), hex-encoded (64 characters); the store keeps only tokenHash(token).
// Stateless free functions; thread-safe.

// A fresh token, or Unavailable when the kernel's random source fails.
Result<std::string> generateSessionToken();
// Lower-case hex SHA-256 of the token: what SessionRecord::token_hash holds.
std::string sessionTokenHash(std::string_view token);
// Compares a presented token with a stored hash in time independent of where they differ. False for
// an empty stored hash (a session registered without a token can never be pushed to).
bool sessionTokenMatches(std::string_view token, std::string_view stored_hash);
// The token of an "authorization" metadata value "Bearer <token>" (scheme case-insensitive, one
// space), or nullopt when the value has another shape or the token is empty or over 256 bytes.
std::optional<std::string> parseBearer(std::string_view header_value);

// True for a gRPC peer string on loopback: "ipv4:127.x.x.x:port", "ipv6:[::1]:port",
// "ipv6:%5B::1%5D:port", "unix:...". Operator RPCs without a token are accepted only from these.
bool isLoopbackPeer(std::string_view peer);

}  // namespace warden::gateway
