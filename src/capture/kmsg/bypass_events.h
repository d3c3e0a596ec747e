#pragma once

// The two events of one proxy-bypass attempt (events.md "Dual emit"): the domain event, then the
// finding that points at it. Pure functions of their inputs (builders.h), socket-free.

#include <cstdint>
#include <optional>
#include <utility>

#include "capture/kmsg/nft_log_line.h"
#include "ocsf/builders.h"
#include "ocsf/event.h"

namespace warden::capture {

// The reason every bypass NET:REFUSE carries.
inline constexpr std::string_view kBypassReason = "direct connection bypassed the proxy";
// sandbox.md's remediation hint.
inline constexpr std::string_view kBypassRemediation =
    "Set HTTP_PROXY/HTTPS_PROXY to the sandbox proxy; NODE_USE_ENV_PROXY=1 for Node.js; DNS must use "
    "the sandbox resolver.";

// NET:REFUSE [MED] DENIED <actor> -> <dst_ip>:<dst_port>/<proto> [policy:bypass-detect engine:nftables]
// [reason:direct connection bypassed the proxy]. The actor is `actor` when given with a pid (OCSF
// needs one), else none ("-"); the socket's uid, when the record has one, is unmapped.uid.
ocsf::Event bypassRefuse(const ocsf::SessionContext& ctx, int64_t time, const NftLogRecord& record,
                         const std::optional<ocsf::Process>& actor = std::nullopt);
// FINDING:BLOCKED [MED] "Proxy bypass attempt" with the refuse event as evidence, MITRE T1090
// (Proxy), the remediation hint, firewall_rule bypass-detect/nftables.
ocsf::Event bypassFinding(const ocsf::SessionContext& ctx, int64_t time, const NftLogRecord& record,
                          const ocsf::Event& refuse);

}  // namespace warden::capture
