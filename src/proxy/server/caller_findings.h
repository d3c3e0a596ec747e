#pragma once

// The finding the proxy dual-emits when a process a rule's binaries matched runs with injected code
// (docs/policy.md "Binary identity"): built here so NET:OPEN's emitter stays short.

#include <cstdint>
#include <optional>
#include <string_view>

#include "ocsf/builders.h"
#include "proxy/server/connection.h"

namespace warden::proxy {

// FINDING High "Allowed binary runs with injected code" (type injected-code, MITRE T1574.006): which
// holder of the socket shows which signs, what the connection was decided (`decision`: allowed under
// `injected: alert`, blocked under `injected: deny`), `evidence` the NET:OPEN it follows.
ocsf::Event injectionFinding(const ocsf::SessionContext& session, int64_t time, const CallerInfo& caller,
                             const std::optional<ocsf::Process>& actor, const ocsf::Decision& decision,
                             std::string_view target, ocsf::Value evidence);

}  // namespace warden::proxy
