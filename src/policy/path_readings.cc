#include "policy/path_readings.h"

#include <algorithm>

namespace warden::policy {
namespace {

// One reading: each segment transformed by the cuts asked for, empty results collapsed.
std::string readAs(std::string_view path, bool cut_params, bool cut_dots) {
  std::string out;
  out.reserve(path.size());
  bool trailing_slash = false;
  std::string_view rest = path.substr(1);
  while (true) {
    const size_t slash = rest.find('/');
    std::string_view segment = rest.substr(0, slash);
    const bool last = slash == std::string_view::npos;
    if (cut_params) segment = segment.substr(0, segment.find(';'));
    if (cut_dots && segment.find_first_not_of('.') != std::string_view::npos) {
      while (!segment.empty() && segment.back() == '.') segment.remove_suffix(1);
    }
    if (segment.empty()) {
      trailing_slash = true;
    } else {
      out.push_back('/');
      out.append(segment);
      trailing_slash = false;
    }
    if (last) break;
    rest.remove_prefix(slash + 1);
  }
  if (out.empty() || trailing_slash) out.push_back('/');
  return out;
}

}  // namespace

std::vector<std::string> pathReadings(std::string_view canonical) {
  std::vector<std::string> out{std::string(canonical)};
  if (canonical.empty() || canonical.front() != '/') return out;
  const bool params = canonical.find(';') != std::string_view::npos;
  // A dot that ends a segment, or would once its parameters are cut.
  bool dots = false;
  for (size_t at = canonical.find('.'); at != std::string_view::npos && !dots; at = canonical.find('.', at + 1)) {
    dots = at + 1 == canonical.size() || canonical[at + 1] == '/' || canonical[at + 1] == ';';
  }
  if (!params && !dots) return out;
  for (const auto& [cut_params, cut_dots] : {std::pair{true, false}, std::pair{false, true}, std::pair{true, true}}) {
    if ((cut_params && !params) || (cut_dots && !dots)) continue;
    std::string reading = readAs(canonical, cut_params, cut_dots);
    if (std::find(out.begin(), out.end(), reading) == out.end()) out.push_back(std::move(reading));
  }
  return out;
}

}  // namespace warden::policy
