#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace warden::audit {

// The per-session hash chain of events.md "Integrity".
//   h_0 = SHA-256("warden.chain.v1\n" + session_id)
//   h_n = SHA-256("warden.chain.v1\n" + h_{n-1} (32 raw bytes) + canonical JSON of event n)
// Event n carries unmapped.integrity.prev = hex(h_{n-1}). Pure functions; thread-safe.
using Digest = std::array<uint8_t, 32>;

Digest chainSeed(std::string_view session_id);
Digest chainNext(const Digest& prev, std::string_view canonical_json);
std::string digestHex(const Digest& d);

// chainNext() for a hot loop: one reusable OpenSSL digest context and a pre-fetched SHA-256, fed
// the domain, h_{n-1} and the JSON where they lie (no copy into one buffer, no per-call
// algorithm lookup). Same result as chainNext(). Owns its context; not thread-safe (the audit
// writer has one).
class ChainHasher {
 public:
  ChainHasher();
  ~ChainHasher();
  ChainHasher(const ChainHasher&) = delete;
  ChainHasher& operator=(const ChainHasher&) = delete;
  Digest next(const Digest& prev, std::string_view canonical_json);

 private:
  struct State;
  State* state_;
};
// Parses 64 hex digits; false on anything else.
bool parseDigestHex(std::string_view hex, Digest& out);

// The bytes a checkpoint signature covers:
//   "warden.checkpoint.v1\n" + session_id + "\n" + last_seq + "\n" + head_hex + "\n" + time
// with last_seq and time (the checkpoint event's epoch ms) in decimal.
std::string checkpointMessage(std::string_view session_id, uint64_t last_seq, std::string_view head_hex,
                              int64_t time_ms);

}  // namespace warden::audit
