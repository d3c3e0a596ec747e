#include "support/inspect_tools.h"

#include <fmt/format.h>

#include <mutex>

#include "support/test_env.h"

namespace warden::testing {

std::filesystem::path inspectNodeDir() { return sourceDir() / "tests" / "support" / "node_inspect"; }

bool ensureInspectNodePackages(std::string* why) {
  static std::once_flag once;
  static bool ready = false;
  static std::string reason;
  std::call_once(once, [] {
    const auto r = runCommand(fmt::format("timeout 900 sh '{}' 2>&1", (inspectNodeDir() / "install.sh").string()));
    ready = r.status == 0;
    if (!ready) reason = fmt::format("tests/support/node_inspect/install.sh failed (exit {}): {}", r.status, r.output);
  });
  if (!ready && why) *why = reason;
  return ready;
}

std::unique_ptr<ChildProcess> startNodeScript(const std::string& script, const std::vector<std::string>& args,
                                              uint16_t* port, std::string* why, const std::vector<std::string>& prefix) {
  ChildProcess::Options o;
  o.argv = prefix;
  o.argv.push_back("node");
  o.argv.push_back((inspectNodeDir() / script).string());
  for (const auto& a : args) o.argv.push_back(a);
  o.working_directory = inspectNodeDir();
  auto child = ChildProcess::start(o, why);
  if (!child) return nullptr;
  const std::string line = child->waitForLine("listening ", std::chrono::seconds(20));
  if (line.empty()) {
    if (why) *why = fmt::format("{} did not start: {}", script, child->output());
    return nullptr;
  }
  if (port != nullptr) *port = static_cast<uint16_t>(std::stoi(line.substr(line.find("listening ") + 10)));
  return child;
}

}  // namespace warden::testing
