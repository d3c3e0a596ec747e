#include "detect/field_path.h"

#include <fmt/format.h>

namespace warden::detect {

FieldPath::FieldPath(std::string_view dotted) : text_(dotted) {
  size_t start = 0;
  for (;;) {
    const size_t dot = dotted.find('.', start);
    segments_.emplace_back(dotted.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
}

std::string scalarText(simdjson::dom::element e) {
  std::string_view s;
  if (e.get_string().get(s) == simdjson::SUCCESS) return std::string(s);
  int64_t i = 0;
  if (e.get_int64().get(i) == simdjson::SUCCESS) return fmt::format("{}", i);
  uint64_t u = 0;
  if (e.get_uint64().get(u) == simdjson::SUCCESS) return fmt::format("{}", u);
  double d = 0;
  if (e.get_double().get(d) == simdjson::SUCCESS) return fmt::format("{}", d);
  bool b = false;
  if (e.get_bool().get(b) == simdjson::SUCCESS) return b ? "true" : "false";
  return "-";
}

}  // namespace warden::detect
