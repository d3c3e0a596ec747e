#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "ocsf/value.h"

namespace warden::ocsf {

// Canonical JSON primitives (events.md "JSONL"): no whitespace, integers written plainly,
// strings escaped minimally — `\"`, `\\`, and every byte below 0x20 as `\u00XX` — and any byte
// that is not part of well-formed UTF-8 replaced by U+FFFD, so every line is valid UTF-8 JSON.
void appendJsonString(std::string& out, std::string_view s);
// The same escaping without the surrounding quotes, for a string written in pieces.
void appendJsonStringContent(std::string& out, std::string_view s);
void appendJsonInt(std::string& out, int64_t v);
void appendJsonUint(std::string& out, uint64_t v);
void appendJsonDouble(std::string& out, double v);
// A Value, canonically: object keys in byte order (Value keeps them so), nulls and empty
// arrays/objects omitted (the caller must not ask to write an empty top-level value).
void appendJsonValue(std::string& out, const Value& v);

// Writes one JSON object into `out`, member by member. The caller adds members in strictly
// increasing key byte order (asserted in debug builds) — that is what makes the output canonical.
// Empty strings, unset values and nested objects that end up empty are omitted: a nested object
// with no members rolls back its key. Borrowed `out`; single-threaded.
class ObjectWriter {
 public:
  explicit ObjectWriter(std::string& out) : out_(out) {
    out_.push_back('{');
#ifndef NDEBUG
    check_ = shouldCheckOrder();
#endif
  }
  ObjectWriter(const ObjectWriter&) = delete;
  ObjectWriter& operator=(const ObjectWriter&) = delete;

  void str(std::string_view key, std::string_view v) {
    if (v.empty()) return;
    key_(key);
    appendJsonString(out_, v);
  }
  void i64(std::string_view key, int64_t v) {
    key_(key);
    appendJsonInt(out_, v);
  }
  void u64(std::string_view key, uint64_t v) {
    key_(key);
    appendJsonUint(out_, v);
  }
  void boolean(std::string_view key, bool v) {
    key_(key);
    out_.append(v ? "true" : "false");
  }
  void value(std::string_view key, const Value& v) {
    if (v.isEmptyForJson()) return;
    key_(key);
    appendJsonValue(out_, v);
  }
  // A nested object member whose members `fill(ObjectWriter&)` writes.
  template <typename Fn>
  void object(std::string_view key, Fn&& fill) {
    const size_t mark = out_.size();
    const bool had = has_members_;
    key_(key);
    ObjectWriter nested(out_);
    fill(nested);
    if (!nested.close()) {  // empty: roll back the key and the comma
      out_.resize(mark);
      has_members_ = had;
#ifndef NDEBUG
      last_key_ = prev_key_;
#endif
    }
  }
  // An array member: `each(item)` appends one element to buffer(); commas are written here.
  // Omitted when `items` is empty.
  template <typename Range, typename Fn>
  void array(std::string_view key, const Range& items, Fn&& each) {
    if (items.empty()) return;
    key_(key);
    out_.push_back('[');
    bool first = true;
    for (const auto& item : items) {
      if (!first) out_.push_back(',');
      first = false;
      each(item);
    }
    out_.push_back(']');
  }

  // Writes the (escaped) key of a member whose value the caller appends next to buffer(),
  // e.g. with appendJsonValue. For keys that are data rather than our own identifiers.
  std::string& member(std::string_view key) {
#ifndef NDEBUG
    if (check_) assertOrder(key);
#endif
    if (has_members_) out_.push_back(',');
    has_members_ = true;
    appendJsonString(out_, key);
    out_.push_back(':');
    return out_;
  }

  // Ends the object; returns false if it had no members (the caller may roll back).
  bool close() {
    out_.push_back('}');
    return has_members_;
  }
  std::string& buffer() { return out_; }

 private:
  void key_(std::string_view key) {
#ifndef NDEBUG
    if (check_) assertOrder(key);
#endif
    // `,"key":` with one append: keys are our own identifiers (no escaping needed), and this
    // runs ~60 times per event.
    char buf[80];
    if (key.size() > sizeof buf - 4) {
      if (has_members_) out_.push_back(',');
      has_members_ = true;
      out_.push_back('"');
      out_.append(key);
      out_.append("\":");
      return;
    }
    char* p = buf;
    if (has_members_) *p++ = ',';
    has_members_ = true;
    *p++ = '"';
    std::memcpy(p, key.data(), key.size());
    p += key.size();
    *p++ = '"';
    *p++ = ':';
    out_.append(buf, static_cast<size_t>(p - buf));
  }
#ifndef NDEBUG
  // Keys are literals or keys of a Value the caller keeps alive while writing: views suffice.
  void assertOrder(std::string_view key);
  // The order is fixed by the code, so checking every object of a long run adds nothing: each
  // thread checks its first 50,000 objects (every test) and then one in 64.
  static bool shouldCheckOrder();
  bool check_ = true;
  std::string_view last_key_;
  std::string_view prev_key_;
#endif

  std::string& out_;
  bool has_members_ = false;
};

}  // namespace warden::ocsf
