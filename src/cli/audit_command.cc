#include <cstdio>

#include "cli/dispatch.h"

namespace warden::cli {

// Placeholder until the audit command lands; replaced whole by its implementation.
int auditCommand(int, char**) {
  std::fprintf(stderr, "warden audit: not built yet\n");
  return kExitFailure;
}

}  // namespace warden::cli
