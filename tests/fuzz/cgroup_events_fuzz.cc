// libFuzzer target: the cgroup event-file parsers (capture/cgroup/cgroup_events.h). Whatever the bytes,
// the parsers return a value or an InvalidArgument error, never crash, and a parsed map round-trips.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "capture/cgroup/cgroup_events.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto map = warden::capture::parseFlatKeyed(text);
  if (map.ok()) {
    // Render it back and parse again: the same map.
    std::string again;
    for (const auto& [key, value] : *map) again += key + " " + std::to_string(value) + "\n";
    const auto reparsed = warden::capture::parseFlatKeyed(again);
    if (!reparsed.ok() || *reparsed != *map) std::abort();
  } else if (map.error().code() != warden::Code::kInvalidArgument) {
    std::abort();
  }
  (void)warden::capture::parseSingleValue(text);
  return 0;
}
