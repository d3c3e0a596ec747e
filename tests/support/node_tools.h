#pragma once

#include <filesystem>
#include <string>

namespace warden::testing {

// tests/support/node in the source tree: the node scripts and their package.json/package-lock.json.
std::filesystem::path nodeSupportDir();

// Runs tests/support/node/install.sh once per process (npm ci of the pinned ws / https-proxy-agent /
// http-proxy-agent into tests/support/node/node_modules; a no-op when already installed). False, with
// the reason in *why, when node or npm is missing or the install fails: the caller skips.
bool ensureNodePackages(std::string* why);

}  // namespace warden::testing
