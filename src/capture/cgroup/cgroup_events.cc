#include "capture/cgroup/cgroup_events.h"

#include <fmt/format.h>

#include <limits>

namespace warden::capture {
namespace {

constexpr size_t kMaxKeyBytes = 64;
constexpr size_t kMaxFileBytes = 64 * 1024;

bool isKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
}

// A printable rendering of untrusted bytes for error messages: at most 32 bytes, others as \xNN.
std::string quoted(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < 32; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  if (s.size() > 32) out += "...";
  return out;
}

Result<uint64_t> parseNumber(std::string_view s) {
  if (s == "max") return std::numeric_limits<uint64_t>::max();
  if (s.empty()) return invalidArgument("empty value");
  if (s.size() > 20) return invalidArgument(fmt::format("value '{}' is too long", quoted(s)));
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return invalidArgument(fmt::format("value '{}' is not a decimal number", quoted(s)));
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
      return invalidArgument(fmt::format("value '{}' overflows 64 bits", quoted(s)));
    }
    v = v * 10 + digit;
  }
  return v;
}

}  // namespace

Result<std::map<std::string, uint64_t>> parseFlatKeyed(std::string_view text) {
  if (text.size() > kMaxFileBytes) return invalidArgument(fmt::format("{} bytes is too long for a cgroup file", text.size()));
  std::map<std::string, uint64_t> out;
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    const size_t sp = line.find(' ');
    if (sp == std::string_view::npos) {
      return invalidArgument(fmt::format("line {}: '{}' is not '<key> <value>'", line_no, quoted(line)));
    }
    const std::string_view key = line.substr(0, sp);
    if (key.empty() || key.size() > kMaxKeyBytes) {
      return invalidArgument(fmt::format("line {}: bad key length {}", line_no, key.size()));
    }
    for (char c : key) {
      if (!isKeyChar(c)) return invalidArgument(fmt::format("line {}: bad key '{}'", line_no, quoted(key)));
    }
    auto value = parseNumber(line.substr(sp + 1));
    if (!value.ok()) return value.error().withContext(fmt::format("line {} ({})", line_no, std::string(key)));
    if (!out.emplace(std::string(key), *value).second) {
      return invalidArgument(fmt::format("line {}: duplicate key '{}'", line_no, std::string(key)));
    }
  }
  return out;
}

Result<uint64_t> parseSingleValue(std::string_view text) {
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  return parseNumber(text);
}

}  // namespace warden::capture
