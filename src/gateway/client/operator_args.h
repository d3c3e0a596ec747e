#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace warden::gateway {

// The operator commands' argument parsers (`warden logs`, `warden audit query`): pure functions,
// thread-safe. Every error is InvalidArgument naming the text and what is accepted.

// A point in time as `--since` / `--until` take it, in epoch milliseconds:
//   a duration ("30s", "5m", "2h", "7d", "250ms"): that long before `now_ms`;
//   RFC 3339 ("2026-11-23T13:27:09Z", "2026-11-23T13:27:09.123+02:00", 't'/'z' and a space for
//   'T' accepted, fractions beyond milliseconds truncated);
//   a UTC date ("2026-11-23"): its midnight.
Result<int64_t> parseTimeArg(std::string_view text, int64_t now_ms);
// The RFC 3339 / date part of parseTimeArg() alone ("2026-11-23T13:27:09.123Z", as warden.log
// writes its timestamps); nullopt for anything else.
std::optional<int64_t> parseRfc3339Millis(std::string_view text);

// A minimum severity as `--level` takes it: INFO, LOW, MED, HIGH, CRIT, FATAL (any case; also the
// OCSF captions Informational, Medium, Critical) or a severity_id 0..6. Returns the severity_id.
Result<int> parseLevel(std::string_view text);

// The shorthand families (`NET`, `HTTP`, ... events.md), in the order events.md lists them.
const std::vector<std::string>& knownEventClasses();
// `--class NET,http, DNS`: a comma-separated list, upper-cased, each a known family; duplicates
// dropped. An unknown name lists the known ones.
Result<std::vector<std::string>> parseClassList(std::string_view text);

// The severity_id a shorthand's tag stands for: "[INFO]" 1, "[LOW]" 2, "[MED]" 3, "[HIGH]" 4,
// "[CRIT]" 5, "[FATAL]" 6; 0 when `shorthand` has no such tag after its `PREFIX:ACTIVITY`.
int shorthandSeverity(std::string_view shorthand);
// The family of a shorthand ("NET" of "NET:CONNECT [INFO] ..."), "" when there is none.
std::string_view shorthandClass(std::string_view shorthand);

}  // namespace warden::gateway
