#include "common/proc_status.h"

#include <charconv>

namespace warden {

namespace {

// The text after "Key:" up to the end of its line; empty when there is no such line.
std::string_view lineValue(std::string_view status, std::string_view key) {
  size_t at = 0;
  while (at < status.size()) {
    const size_t end = std::min(status.find('\n', at), status.size());
    const std::string_view line = status.substr(at, end - at);
    if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ':') {
      return line.substr(key.size() + 1);
    }
    at = end + 1;
  }
  return {};
}

// Splits on blanks; calls fn(number) for each; false when a token is not a number.
template <typename Fn>
bool eachNumber(std::string_view text, Fn&& fn) {
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    if (i == text.size()) break;
    uint32_t v = 0;
    const auto [ptr, ec] = std::from_chars(text.data() + i, text.data() + text.size(), v);
    if (ec != std::errc() || (ptr != text.data() + text.size() && *ptr != ' ' && *ptr != '\t')) return false;
    if (!fn(v)) return true;
    i = static_cast<size_t>(ptr - text.data());
  }
  return true;
}

}  // namespace

uint32_t procStatusNumber(std::string_view status, std::string_view key, int index) {
  uint32_t found = 0;
  int at = 0;
  bool ok = eachNumber(lineValue(status, key), [&](uint32_t v) {
    if (at++ == index) {
      found = v;
      return false;
    }
    return true;
  });
  return ok && at > index ? found : 0;
}

uint32_t procStatusNamespacePid(std::string_view status) {
  uint32_t last = 0;
  if (!eachNumber(lineValue(status, "NSpid"), [&](uint32_t v) {
        last = v;
        return true;
      })) {
    return 0;
  }
  return last;
}

}  // namespace warden
