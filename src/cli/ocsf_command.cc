#include <cstdio>

#include "cli/dispatch.h"

namespace warden::cli {

// Placeholder until the ocsf command lands; replaced whole by its implementation.
int ocsfCommand(int, char**) {
  std::fprintf(stderr, "warden ocsf: not built yet\n");
  return kExitFailure;
}

}  // namespace warden::cli
