#pragma once

// `warden run --gateway URL`: the session's uplink (sandbox/session_uplink.h) backed by the gateway
// link (docs/gateway-link.md). Every written batch goes to an on-disk spool hidden from the agent
// (spool_dir/<session id>); the SessionLink registers the session, pushes from the spool, trims it at
// each acknowledgement and polls GetSandboxPolicy; leftovers of earlier sessions whose supervisor
// died are replayed on a thread of their own.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "sandbox/session_uplink.h"

namespace warden::cli {

struct GatewayUplinkOptions {
  std::string gateway_url;
  std::optional<std::filesystem::path> gateway_ca;       // PEM roots for an https gateway
  std::chrono::milliseconds poll{5000};                  // GetSandboxPolicy interval
  std::chrono::milliseconds first_contact{3000};         // before the agent starts
  std::chrono::milliseconds drain{10000};                // at the end
  std::filesystem::path spool_dir = "/var/lib/warden/spool";  // root-only; one directory per session
};

// The factory RunOptions::uplink takes.
sandbox::UplinkFactory gatewayUplinkFactory(GatewayUplinkOptions options);

}  // namespace warden::cli
