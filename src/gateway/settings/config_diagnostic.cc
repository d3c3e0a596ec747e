#include "gateway/settings/config_diagnostic.h"

#include <fmt/format.h>

namespace warden::gateway {

std::string ConfigDiagnostic::toString() const {
  if (line <= 0) return fmt::format("{}: {}", file, message);
  return fmt::format("{}:{}:{}: {}", file, line, column, message);
}

std::string joinDiagnostics(const std::vector<ConfigDiagnostic>& diagnostics) {
  std::string out;
  for (const auto& d : diagnostics) {
    if (!out.empty()) out += '\n';
    out += d.toString();
  }
  return out;
}

}  // namespace warden::gateway
