#pragma once

// Socket-free parsers of cgroup event files (fuzzed: tests/fuzz/cgroup_events_fuzz.cc).

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "common/result.h"

namespace warden::capture {

// A flat-keyed cgroup file ("oom 0\noom_kill 1\n", "max 3\n", v1 memory.oom_control
// "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n"): key -> value; InvalidArgument on anything else.
// Lines are "<key> <unsigned decimal>"; the key is [A-Za-z0-9_.]+, at most 64 bytes; the value
// fits uint64; "max" as a value is taken as UINT64_MAX; an empty file is an empty map; a duplicate
// key is an error. Pure, thread-safe.
Result<std::map<std::string, uint64_t>> parseFlatKeyed(std::string_view text);

// A single-value cgroup file ("12345\n", "max\n"): the number, UINT64_MAX for "max".
Result<uint64_t> parseSingleValue(std::string_view text);

}  // namespace warden::capture
