#pragma once

// The node side of the proxy inspection tests: tests/support/node_inspect (verdaccio, the MCP SDK,
// undici; installed by its install.sh) and servers started from its scripts.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "support/child_process.h"

namespace warden::testing {

std::filesystem::path inspectNodeDir();

// Runs tests/support/node_inspect/install.sh once per process. False (and *why) when node/npm are
// missing or the install fails: the caller skips.
bool ensureInspectNodePackages(std::string* why);

// `node <script> <args...>` from tests/support/node_inspect (prefixed with `prefix`, e.g. "ip netns
// exec NS"), waited for until it prints "listening <port>". nullptr (and *why) otherwise.
std::unique_ptr<ChildProcess> startNodeScript(const std::string& script, const std::vector<std::string>& args,
                                              uint16_t* port, std::string* why,
                                              const std::vector<std::string>& prefix = {});

}  // namespace warden::testing
