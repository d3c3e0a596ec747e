#include "gateway/service/session_auth.h"

#include <sys/random.h>

#include <cerrno>
#include <cstddef>

#include "common/encoding.h"
#include "common/error.h"

namespace warden::gateway {

namespace {
constexpr size_t kTokenBytes = 32;
constexpr size_t kMaxTokenBytes = 256;

bool startsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }
}  // namespace

Result<std::string> generateSessionToken() {
  std::string raw(kTokenBytes, '\0');
  size_t got = 0;
  while (got < raw.size()) {
    const ssize_t n = ::getrandom(raw.data() + got, raw.size() - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return unavailable(errnoError("getrandom for a session token").message());
    }
    got += static_cast<size_t>(n);
  }
  return hexEncode(raw);
}

std::string sessionTokenHash(std::string_view token) { return sha256Hex(token); }

bool sessionTokenMatches(std::string_view token, std::string_view stored_hash) {
  if (stored_hash.empty()) return false;
  const std::string presented = sessionTokenHash(token);
  if (presented.size() != stored_hash.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < presented.size(); ++i) {
    diff |= static_cast<unsigned char>(presented[i] ^ stored_hash[i]);
  }
  return diff == 0;
}

std::optional<std::string> parseBearer(std::string_view value) {
  constexpr std::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size()) return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    char c = value[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kScheme[i]) return std::nullopt;
  }
  const std::string_view token = value.substr(kScheme.size());
  if (token.empty() || token.size() > kMaxTokenBytes) return std::nullopt;
  for (const char c : token) {
    if (c <= ' ' || c == 0x7f) return std::nullopt;
  }
  return std::string(token);
}

bool isLoopbackPeer(std::string_view peer) {
  return startsWith(peer, "ipv4:127.") || startsWith(peer, "ipv6:[::1]:") ||
         startsWith(peer, "ipv6:%5B::1%5D:") || startsWith(peer, "ipv6:[::ffff:127.") ||
         startsWith(peer, "unix:");
}

}  // namespace warden::gateway
