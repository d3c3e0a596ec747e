// The gateway reads every pushed event's JSON to index it (domain, path, package, stop reason) and
// to decide what retention must keep: bytes a session sends, so untrusted.

#include <cstddef>
#include <cstdint>
#include <string>

#include "gateway/store/store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  warden::gateway::StoredEvent event;
  event.session_id = "0193a5b0-0000-7000-8000-000000000001";
  event.sequence = 1;
  event.json.assign(reinterpret_cast<const char*>(data), size);
  event.shorthand = "EVENT:OTHER [INFO] fuzz";
  const warden::gateway::StoredEvent facts = warden::gateway::extractFacts(event);
  (void)warden::gateway::isRetainedForever(facts);
  (void)warden::gateway::validateEvent(facts);
  return 0;
}
