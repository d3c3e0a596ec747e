// The gateway reads every pushed event's JSON to index it (domain, path, package, stop reason) and
// to decide what retention must keep: bytes a session sends, so untrusted. The streaming scanner must
// also answer exactly what the reference (a full parse, then lookups) answers.

#include <cstddef>
#include <cstdlib>
#include <cstdint>
#include <string>

#include "gateway/store/store.h"
#include "support/facts_reference.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  warden::gateway::StoredEvent event;
  event.session_id = "0193a5b0-0000-7000-8000-000000000001";
  event.sequence = 1;
  event.json.assign(reinterpret_cast<const char*>(data), size);
  event.shorthand = "EVENT:OTHER [INFO] fuzz";
  for (const char* kind : {"", "PKG", "SESSION"}) {
    event.kind = kind;
    const warden::gateway::StoredEvent fast = warden::gateway::extractFacts(event);
    if (!warden::testing::sameFacts(fast, warden::testing::extractFactsReference(event))) std::abort();
  }
  event.kind = "";
  const warden::gateway::StoredEvent facts = warden::gateway::extractFacts(event);
  (void)warden::gateway::isRetainedForever(facts);
  (void)warden::gateway::validateEvent(facts);
  return 0;
}
