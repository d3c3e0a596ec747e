#pragma once

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "ocsf/value.h"

namespace warden::detect {

// Strings copied into a finding's evidence are cut to this many bytes (at a UTF-8 boundary, with
// "..." appended): the evidence names the event's uid and sequence, so the full event is one
// lookup away, and an agent-controlled 256 KiB command line does not make every finding huge.
inline constexpr size_t kMaxEvidenceStringBytes = 1024;

// A JSON value as an ocsf::Value (objects keep their keys sorted), strings cut as above; null
// members are left out, as canonical JSON has none. Depth is bounded by the parser (simdjson's
// default of 1024). Never throws but std::bad_alloc.
ocsf::Value toValue(simdjson::dom::element e, size_t max_string_bytes = kMaxEvidenceStringBytes);

// The evidences[] object for one triggering event: uid (its metadata.uid), name (its type_name),
// data {sequence (0 if none), type_uid}, and the objects it carries that a finding's evidence may hold
// (actor, api, connection_info, dst_endpoint, file, http_request, http_response, process, query,
// src_endpoint), copied from the event's canonical JSON.
ocsf::Value evidenceFrom(simdjson::dom::element event);

// The ocsf::Profile bits an event's evidence copy needs its finding to declare: the profiles the
// event itself declared whose attributes an evidence object can hold (linux/linux_users: process
// euid, egid, auid, group). The always-declared host and container need nothing.
uint8_t evidenceProfiles(simdjson::dom::element event);

// A member of an object as a string/int, or the fallback. Error-code API only.
std::string stringAt(simdjson::dom::element object, std::string_view key);
int64_t intAt(simdjson::dom::element object, std::string_view key, int64_t fallback);

}  // namespace warden::detect
