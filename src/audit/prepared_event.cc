#include "audit/prepared_event.h"

#include <charconv>
#include <cstring>

#include "audit/log_events.h"
#include "ocsf/shorthand.h"

namespace warden::audit {

void prepareEvent(PreparedEvent& out, ocsf::Event& e, const ocsf::SessionContext& session, const Clock& clock) {
  if (e.time == 0) e.time = clock.nowMillis();
  fillMissingSessionFields(e, session);
  out.time = e.time;
  out.json.clear();
  if (out.json.capacity() < 2048) out.json.reserve(2048);  // one allocation for a new cell, none after
  ocsf::appendJsonlWithSlots(out.json, e, out.slots);
  out.line.clear();
  ocsf::appendLogLine(out.line, e);
  // The formatter promises one line; a newline slipping through would forge a second one.
  if (std::memchr(out.line.data(), '\n', out.line.size()) != nullptr) {
    std::string fixed;
    fixed.reserve(out.line.size() + 8);
    for (const char c : out.line) {
      if (c == '\n') {
        fixed.append("\\u{a}");
      } else {
        fixed.push_back(c);
      }
    }
    out.line.swap(fixed);
  }
  // appendLogLine writes "<24-byte UTC timestamp> OCSF " before the shorthand.
  static constexpr std::string_view kSeparator = " OCSF ";
  const size_t at = out.line.find(kSeparator);
  out.shorthand_at = at == std::string::npos ? 0 : at + kSeparator.size();
}

void appendSequencedJson(std::string& out, const PreparedEvent& p, uint64_t sequence, const Digest& prev) {
  const std::string_view json = p.json;
  const ocsf::JsonlSlots& s = p.slots;
  char digits[24];
  const auto r = std::to_chars(digits, digits + sizeof digits, sequence);
  const size_t seq_len = static_cast<size_t>(r.ptr - digits);
  const size_t start = out.size();
  out.resize(start + json.size() - s.sequence_len + seq_len);
  char* o = out.data() + start;
  std::memcpy(o, json.data(), s.sequence_at);
  o += s.sequence_at;
  std::memcpy(o, digits, seq_len);
  o += seq_len;
  const size_t mid = s.sequence_at + s.sequence_len;
  std::memcpy(o, json.data() + mid, s.prev_at - mid);
  o += s.prev_at - mid;
  static constexpr char kHex[] = "0123456789abcdef";
  for (const uint8_t b : prev) {
    *o++ = kHex[b >> 4];
    *o++ = kHex[b & 0xf];
  }
  const size_t tail = s.prev_at + ocsf::kPrevHexLength;
  std::memcpy(o, json.data() + tail, json.size() - tail);
}

}  // namespace warden::audit
