#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ocsf/event.h"

namespace warden::audit {

// Severity of a plain operational line in warden.log (`<ts> <LEVEL> <component>: <message>`).
enum class Level : uint8_t { kError, kWarn, kInfo, kDebug };

// "ERROR", "WARN", "INFO", "DEBUG".
std::string_view levelName(Level level);

// Where producers (proxy, capture, sandbox, detect) send what they record. They hold an
// Emitter&, never a sink. Implementations are thread-safe: emit() and operational() may be called
// from any number of threads at once, and neither blocks for longer than the implementation's
// documented bound. The Emitter must outlive every producer that holds it.
class Emitter {
 public:
  virtual ~Emitter() = default;

  // Takes one event. The implementation assigns metadata.sequence and the integrity chain;
  // whatever the caller put there is overwritten. Never fails from the caller's point of view:
  // an event that cannot be accepted is counted and reported as a LOG:LOSS event.
  virtual void emit(ocsf::Event&& event) = 0;

  // A plain operational line for warden.log (not sequenced, not an OCSF event). Control
  // characters and invalid UTF-8 in `component`/`message` are escaped, so it stays one line.
  virtual void operational(Level level, std::string_view component, std::string_view message) = 0;
};

// Appends `<YYYY-MM-DDTHH:MM:SS.mmmZ> <LEVEL> <component>: <message>` (no newline) to `out`.
// `component` and `message` are escaped as shorthand escapes free text (ocsf::appendShorthandText),
// so the line stays one line; the message is cut to `max_message_bytes` at a UTF-8 boundary with
// `...` appended. Stateless and thread-safe.
void appendOperationalLine(std::string& out, int64_t epoch_millis, Level level, std::string_view component,
                           std::string_view message, size_t max_message_bytes = 4096);

}  // namespace warden::audit
