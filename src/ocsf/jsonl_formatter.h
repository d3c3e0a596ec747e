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
std::string toJsonl(const Event& event);

}  // namespace warden::ocsf
