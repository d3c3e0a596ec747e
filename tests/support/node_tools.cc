#include "support/node_tools.h"

#include <fmt/format.h>

#include <mutex>

#include "support/test_env.h"

namespace warden::testing {

std::filesystem::path nodeSupportDir() { return sourceDir() / "tests" / "support" / "node"; }

bool ensureNodePackages(std::string* why) {
  static std::once_flag once;
  static bool ready = false;
  static std::string reason;
  std::call_once(once, [] {
    const auto r = runCommand(fmt::format("timeout 600 sh '{}'", (nodeSupportDir() / "install.sh").string()));
    ready = r.status == 0;
    if (!ready) reason = fmt::format("tests/support/node/install.sh failed (exit {}): {}", r.status, r.output);
  });
  if (!ready && why) *why = reason;
  return ready;
}

}  // namespace warden::testing
