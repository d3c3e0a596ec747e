#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace warden {

// Lower-case hex of `bytes`.
std::string hexEncode(std::string_view bytes);
// Decodes hex (either case); nullopt on odd length or a non-hex digit.
std::optional<std::string> hexDecode(std::string_view hex);

// Standard base64 (RFC 4648 section 4, with '=' padding).
std::string base64Encode(std::string_view bytes);
// Decodes standard base64; padding optional; no whitespace. nullopt on any other byte or a bad length.
std::optional<std::string> base64Decode(std::string_view text);

// SHA-256 of `data` (OpenSSL), raw 32 bytes.
std::array<uint8_t, 32> sha256(std::string_view data);
std::string sha256Hex(std::string_view data);

// Incremental SHA-256 for streams (package downloads, executables). Not thread-safe.
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;
  void update(std::string_view data);
  // Ends the stream; further updates are a bug.
  std::string finishHex();

 private:
  void* ctx_;  // EVP_MD_CTX*
};

// True if `s` is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool isValidUtf8(std::string_view s);
// Length of the longest prefix of `s` of at most `max_bytes` that ends on a UTF-8 boundary.
size_t utf8PrefixLength(std::string_view s, size_t max_bytes);

// A UUIDv7 string (RFC 9562): 48-bit epoch ms, then random bits. Thread-safe.
std::string uuidV7(int64_t epoch_millis);

// Parses "30s", "5m", "2h", "7d", "250ms" into milliseconds; nullopt on anything else.
std::optional<int64_t> parseDurationMillis(std::string_view text);
// Parses "4GiB", "512MiB", "1024", "10K", "2G" into bytes; nullopt on anything else.
std::optional<uint64_t> parseByteSize(std::string_view text);
// The value of a hex digit (0-9, a-f, A-F), or -1 for any other byte.
int hexDigitValue(char c);
// "%3a" -> ":"; invalid escapes are kept as they are.
std::string percentDecode(std::string_view s);

// A portable environment variable name: [A-Za-z_][A-Za-z0-9_]*, at most 255 bytes.
bool isEnvironmentName(std::string_view name);
// The inverse for messages: "4GiB", "512MiB", "64KiB" when exact, else "1234 bytes".
std::string formatByteSize(uint64_t bytes);

}  // namespace warden
