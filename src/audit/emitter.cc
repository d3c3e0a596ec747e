#include "audit/emitter.h"

#include <fmt/format.h>

#include "common/clock.h"
#include "common/encoding.h"
#include "ocsf/shorthand.h"

namespace warden::audit {

std::string_view levelName(Level level) {
  switch (level) {
    case Level::kError: return "ERROR";
    case Level::kWarn: return "WARN";
    case Level::kInfo: return "INFO";
    case Level::kDebug: return "DEBUG";
  }
  return "INFO";
}

void appendOperationalLine(std::string& out, int64_t epoch_millis, Level level, std::string_view component,
                           std::string_view message, size_t max_message_bytes) {
  out.append(formatUtcMillis(epoch_millis));
  out.push_back(' ');
  out.append(levelName(level));
  out.push_back(' ');
  ocsf::appendShorthandText(out, component.substr(0, utf8PrefixLength(component, 64)));
  out.append(": ");
  if (message.size() > max_message_bytes) {
    ocsf::appendShorthandText(out, message.substr(0, utf8PrefixLength(message, max_message_bytes)));
    out.append("...");
  } else {
    ocsf::appendShorthandText(out, message);
  }
  // No trailing space, whatever the message ended with.
  while (!out.empty() && out.back() == ' ') out.pop_back();
}

}  // namespace warden::audit
