#include "audit/emitter.h"

#include <fmt/format.h>

#include "common/clock.h"
#include "common/encoding.h"

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

namespace {

// Length of the well-formed UTF-8 sequence starting at s[i], or 0 if the byte there does not
// start one (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
size_t utf8SequenceLength(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  const size_t left = s.size() - i;
  const auto cont = [&](size_t k, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return k < s.size() && b(k) >= lo && b(k) <= hi;
  };
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return left >= 2 && cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    const unsigned char lo = c == 0xE0 ? 0xA0 : 0x80;
    const unsigned char hi = c == 0xED ? 0x9F : 0xBF;
    return left >= 3 && cont(i + 1, lo, hi) && cont(i + 2) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    const unsigned char lo = c == 0xF0 ? 0x90 : 0x80;
    const unsigned char hi = c == 0xF4 ? 0x8F : 0xBF;
    return left >= 4 && cont(i + 1, lo, hi) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  }
  return 0;
}

void appendEscaped(std::string& out, std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t n = utf8SequenceLength(s, i);
    if (n == 0) {
      out.append("\\u{fffd}");
      ++i;
    } else if (n == 1 && (c < 0x20 || c == 0x7f)) {
      fmt::format_to(std::back_inserter(out), "\\u{{{:x}}}", c);
      ++i;
    } else if (n == 2 && c == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0) {  // C1 control
      fmt::format_to(std::back_inserter(out), "\\u{{{:x}}}", static_cast<unsigned char>(s[i + 1]));
      i += 2;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
}

}  // namespace

void appendOperationalLine(std::string& out, int64_t epoch_millis, Level level, std::string_view component,
                           std::string_view message, size_t max_message_bytes) {
  out.append(formatUtcMillis(epoch_millis));
  out.push_back(' ');
  out.append(levelName(level));
  out.push_back(' ');
  appendEscaped(out, component.substr(0, utf8PrefixLength(component, 64)));
  out.append(": ");
  if (message.size() > max_message_bytes) {
    appendEscaped(out, message.substr(0, utf8PrefixLength(message, max_message_bytes)));
    out.append("...");
  } else {
    appendEscaped(out, message);
  }
  // No trailing space, whatever the message ended with.
  while (!out.empty() && out.back() == ' ') out.pop_back();
}

}  // namespace warden::audit
