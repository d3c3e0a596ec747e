#include "capture/argv_area.h"

namespace warden::capture {

std::vector<std::string> splitArgv(std::string_view area) {
  std::vector<std::string> out;
  while (!area.empty()) {
    const size_t nul = area.find('\0');
    out.emplace_back(area.substr(0, nul));
    if (nul == std::string_view::npos) break;
    area = area.substr(nul + 1);
  }
  return out;
}

}  // namespace warden::capture
