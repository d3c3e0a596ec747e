#include "ocsf/json_writer.h"

#include <cassert>
#include <charconv>
#include <cmath>
#include <cstring>

namespace warden::ocsf {

namespace {

constexpr char kHex[] = "0123456789abcdef";

// Length of the well-formed UTF-8 sequence starting at p (p < end, *p >= 0x80), or 0.
size_t utf8Seq(const unsigned char* p, const unsigned char* end) {
  const unsigned char c = *p;
  size_t n;
  uint32_t cp;
  if (c >= 0xC2 && c <= 0xDF) { n = 2; cp = c & 0x1F; }
  else if ((c & 0xF0) == 0xE0) { n = 3; cp = c & 0x0F; }
  else if (c >= 0xF0 && c <= 0xF4) { n = 4; cp = c & 0x07; }
  else return 0;
  if (static_cast<size_t>(end - p) < n) return 0;
  for (size_t i = 1; i < n; ++i) {
    if ((p[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (p[i] & 0x3F);
  }
  if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
    return 0;
  return n;
}

// True when none of the 8 bytes at p needs attention: each is >= 0x20, < 0x80, not '"', not '\\'.
// Word-at-a-time test (the classic has-zero-byte trick) so long clean runs cost ~1/8 per byte.
bool cleanWord(const unsigned char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHigh = 0x8080808080808080ull;
  const auto hasZero = [](uint64_t x) { return (x - kOnes) & ~x & kHigh; };
  const uint64_t below_space = (v - kOnes * 0x20) & ~v & kHigh;  // some byte < 0x20 (or >= 0x80)
  return ((v & kHigh) | below_space | hasZero(v ^ (kOnes * '"')) | hasZero(v ^ (kOnes * '\\'))) == 0;
}

}  // namespace

void appendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  appendJsonStringContent(out, s);
  out.push_back('"');
}

void appendJsonStringContent(std::string& out, std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  const auto* run = p;  // start of bytes to copy verbatim
  while (p < end) {
    if (end - p >= 8 && cleanWord(p)) {
      p += 8;
      continue;
    }
    const unsigned char c = *p;
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      ++p;
      continue;
    }
    if (c >= 0x80) {
      const size_t n = utf8Seq(p, end);
      if (n != 0) {
        p += n;
        continue;
      }
    }
    out.append(reinterpret_cast<const char*>(run), static_cast<size_t>(p - run));
    if (c == '"') {
      out.append("\\\"");
    } else if (c == '\\') {
      out.append("\\\\");
    } else if (c < 0x20) {
      const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      out.append(esc, 6);
    } else {
      out.append("\xEF\xBF\xBD");  // U+FFFD for a byte that is not well-formed UTF-8
    }
    ++p;
    run = p;
  }
  out.append(reinterpret_cast<const char*>(run), static_cast<size_t>(p - run));
}

void appendJsonInt(std::string& out, int64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void appendJsonUint(std::string& out, uint64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void appendJsonDouble(std::string& out, double v) {
  if (!std::isfinite(v)) {  // JSON has no NaN/Inf; never produced by Warden, guarded anyway
    out.push_back('0');
    return;
  }
  if (v == std::trunc(v) && std::fabs(v) < 9.0e15) {
    appendJsonInt(out, static_cast<int64_t>(v));
    return;
  }
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void appendJsonValue(std::string& out, const Value& v) {
  if (v.isBool()) {
    out.append(v.asBool() ? "true" : "false");
  } else if (v.isInt()) {
    appendJsonInt(out, v.asInt());
  } else if (v.isUint()) {
    appendJsonUint(out, v.asUint());
  } else if (v.isDouble()) {
    appendJsonDouble(out, v.asDouble());
  } else if (v.isString()) {
    appendJsonString(out, v.asString());
  } else if (v.isArray()) {
    out.push_back('[');
    bool first = true;
    for (const auto& e : v.asArray()) {
      if (e.isEmptyForJson()) continue;
      if (!first) out.push_back(',');
      first = false;
      appendJsonValue(out, e);
    }
    out.push_back(']');
  } else if (v.isObject()) {
    out.push_back('{');
    bool first = true;
    for (const auto& [k, e] : v.asObject()) {
      if (e.isEmptyForJson()) continue;
      if (!first) out.push_back(',');
      first = false;
      appendJsonString(out, k);
      out.push_back(':');
      appendJsonValue(out, e);
    }
    out.push_back('}');
  }
}

#ifndef NDEBUG
bool ObjectWriter::shouldCheckOrder() {
  thread_local uint64_t objects = 0;
  const uint64_t n = objects++;
  return n < 50000 || (n & 63) == 0;
}

void ObjectWriter::assertOrder(std::string_view key) {
  assert((last_key_.empty() || last_key_ < key) && "ObjectWriter keys out of order");
  prev_key_ = last_key_;
  last_key_ = key;
}
#endif

}  // namespace warden::ocsf
