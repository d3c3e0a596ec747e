#pragma once

#include <cstdint>
#include <string>

#include "audit/chain.h"
#include "common/clock.h"
#include "ocsf/builders.h"
#include "ocsf/event.h"
#include "ocsf/jsonl_formatter.h"

namespace warden::audit {

// An event rendered once, on the thread that emitted it, ready for the audit writer: its
// canonical JSON with placeholders where metadata.sequence and unmapped.integrity.prev go
// (ocsf::JsonlSlots), and its warden.log line. The writer then only splices in the two values,
// hashes and copies (docs/formats.md "The writer"). A plain value, reused from a pool: the
// strings keep their capacity between events.
struct PreparedEvent {
  std::string json;  // canonical JSON with placeholder sequence and prev
  ocsf::JsonlSlots slots;
  std::string line;        // `<ts> OCSF <shorthand>`, no newline, guaranteed one line
  size_t shorthand_at = 0;  // where the shorthand starts in `line`
  int64_t time = 0;         // the event's time (epoch ms)
  bool coalescible = false;  // unused by the writer; see Coalescer
};

// Fills what the producer left empty (time from `clock` when 0, metadata.uid, correlation_uid,
// device: fillMissingSessionFields) and renders `event` into `out` (whose strings are reused).
// Stateless and thread-safe.
void prepareEvent(PreparedEvent& out, ocsf::Event& event, const ocsf::SessionContext& session, const Clock& clock);

// Appends the canonical JSON of `p` as event `sequence` whose predecessor's chain hash is `prev`:
// exactly ocsf::appendJsonl of the event with that sequence and integrity_prev = hex(prev).
void appendSequencedJson(std::string& out, const PreparedEvent& p, uint64_t sequence, const Digest& prev);

}  // namespace warden::audit
