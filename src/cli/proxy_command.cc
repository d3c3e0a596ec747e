#include <cstdio>

#include "cli/dispatch.h"

namespace warden::cli {

// Placeholder until the proxy command lands; replaced whole by its implementation.
int proxyCommand(int, char**) {
  std::fprintf(stderr, "warden proxy: not built yet\n");
  return kExitFailure;
}

}  // namespace warden::cli
