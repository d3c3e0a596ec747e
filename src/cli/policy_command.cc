#include <cstdio>

#include "cli/dispatch.h"

namespace warden::cli {

// Placeholder until the policy command lands; replaced whole by its implementation.
int policyCommand(int, char**) {
  std::fprintf(stderr, "warden policy: not built yet\n");
  return kExitFailure;
}

}  // namespace warden::cli
