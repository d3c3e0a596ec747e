#pragma once

#include <string>
#include <vector>

namespace warden::gateway {

// One problem in the gateway's config file: where (1-based, as editors show it; 0 = unknown)
// and what is wrong. A plain value.
struct ConfigDiagnostic {
  std::string file;
  int line = 0;
  int column = 0;
  std::string message;

  // "file:line:col: message" ("file: message" when the position is not known).
  std::string toString() const;
};

// One diagnostic per line, no trailing newline.
std::string joinDiagnostics(const std::vector<ConfigDiagnostic>& diagnostics);

}  // namespace warden::gateway
