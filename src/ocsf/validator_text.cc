// Text for problems: paths and messages stay one printable ASCII line whatever the event held.

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "ocsf/validator_internal.h"

namespace warden::ocsf::validator_detail {

using nlohmann::json;

namespace {

// Longest piece of event-controlled text quoted in a message.
constexpr std::size_t kMaxQuoted = 80;

}  // namespace

bool isIdentifier(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

std::string jsonQuoted(std::string_view s) {
  const bool cut = s.size() > kMaxQuoted;
  const json j = std::string(s.substr(0, kMaxQuoted));
  std::string out = j.dump(-1, ' ', /*ensure_ascii=*/true, json::error_handler_t::replace);
  if (cut) out.insert(out.size() - 1, "...");
  return out;
}

std::string quoteName(std::string_view s) {
  return isIdentifier(s) ? fmt::format("'{}'", s) : jsonQuoted(s);
}

std::string sanitize(std::string_view s, std::size_t limit) {
  std::string out;
  for (const char c : s) {
    if (out.size() >= limit) {
      out += "...";
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      out += fmt::format("\\x{:02x}", u);
    }
  }
  return out;
}

std::string valueText(const json& v) {
  if (v.is_string()) return jsonQuoted(v.get_ref<const std::string&>());
  if (v.is_structured()) return v.is_array() ? "[...]" : "{...}";
  return sanitize(v.dump(-1, ' ', /*ensure_ascii=*/true, json::error_handler_t::replace), kMaxQuoted);
}

std::string_view typeOf(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::object:
      return "object";
    case json::value_t::array:
      return "array";
    case json::value_t::string:
      return "string_t";
    case json::value_t::boolean:
      return "boolean_t";
    case json::value_t::number_integer:
      return "integer_t";
    case json::value_t::number_unsigned:
      return asInt64(v) ? "integer_t" : "long_t";
    case json::value_t::number_float:
      return "float_t";
    case json::value_t::binary:
    case json::value_t::discarded:
      break;
  }
  return "unknown type";
}

std::string deprecationText(const Deprecation& d) {
  std::string out;
  if (!d.since.empty()) out += fmt::format(" since {}", sanitize(d.since, 16));
  if (!d.message.empty()) out += fmt::format(": {}", sanitize(d.message, 160));
  return out;
}

const json* member(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::optional<std::int64_t> asInt64(const json& v) {
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
    return static_cast<std::int64_t>(u);
  }
  return v.get<std::int64_t>();
}

std::size_t PathBuilder::pushKey(std::string_view key) {
  const auto mark = path_.size();
  if (isIdentifier(key)) {
    path_ += '.';
    path_ += key;
  } else {
    path_ += '[';
    path_ += jsonQuoted(key);
    path_ += ']';
  }
  return mark;
}

std::size_t PathBuilder::pushIndex(std::size_t i) {
  const auto mark = path_.size();
  path_ += '[';
  path_ += std::to_string(i);
  path_ += ']';
  return mark;
}

void Reporter::reportBelow(const CheckCode& check, std::string_view key, std::string message) {
  const auto mark = path_.pushKey(key);
  report(check, std::move(message));
  path_.pop(mark);
}

}  // namespace warden::ocsf::validator_detail
