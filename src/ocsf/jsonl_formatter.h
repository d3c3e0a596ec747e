#pragma once

#include <string>

#include "ocsf/event.h"

namespace warden::ocsf {

// Renders an Event as one canonical OCSF 1.7.0 JSON object (events.md "JSONL"): keys sorted by
// byte order at every depth, no whitespace, no nulls, no empty arrays or objects. Enum ids carry
// their caption siblings (severity, action, …); unmapped.integrity.prev comes from
// Event::integrity_prev. The bytes are what the integrity chain hashes.
// Stateless and thread-safe; `out` is appended to, never cleared; no newline is added.
void appendJsonl(std::string& out, const Event& event);

// Where the two writer-assigned values sit in a rendering, as byte offsets from the start of the
// object: the decimal digits of metadata.sequence and the 64 hex digits of
// unmapped.integrity.prev. Producers render an event once with placeholders (appendJsonlWithSlots)
// and the audit writer splices the real values in, which yields exactly appendJsonl's bytes for
// the event with that sequence and prev (both members are always present in a sequenced event).
struct JsonlSlots {
  size_t sequence_at = 0;
  size_t sequence_len = 0;
  size_t prev_at = 0;
};
inline constexpr size_t kPrevHexLength = 64;
// appendJsonl with metadata.sequence and unmapped.integrity.prev always written (the event's own
// values, or "0" and 64 zeros when unset) and their positions reported in `slots`.
void appendJsonlWithSlots(std::string& out, const Event& event, JsonlSlots& slots);
std::string toJsonl(const Event& event);

}  // namespace warden::ocsf
