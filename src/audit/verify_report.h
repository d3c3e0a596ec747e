#pragma once

#include <string>

#include "audit/verify.h"

namespace warden::audit {

// Renders a VerifyReport for `warden audit verify`. Pure functions; thread-safe.

// Human-readable: one line per finding ("<kind>: <message>", warnings prefixed "warning: "),
// then a last line: "ok: N events, M checkpoints (…), session S; key …" or "FAILED: …".
std::string formatReportText(const VerifyReport& report);

// One JSON object (no trailing newline): ok, session, files, counts, key {source, key_id,
// origin, trust_on_first_use}, problems [...], warnings [...], each finding {kind, sequence,
// last_sequence, file, line, message}; absent values are omitted.
std::string formatReportJson(const VerifyReport& report);

}  // namespace warden::audit
