#pragma once

#include <cstdint>
#include <vector>

#include "ocsf/builders.h"

namespace warden::ocsf {

// Realistic sample events, built with the real builders, for `warden audit generate`, the
// benchmarks and the schema tests. Pure functions: stateless, thread-safe.

// A session context for samples and tests: host "warden-host-1", session "agent-7", proxy
// 10.200.0.1:3128, image "python:3.12-slim".
SessionContext sampleContext();

// One of every event the builders can produce — every builder, every activity variant, every
// decision (allowed, denied, observed), the dual-emitted findings — in the order a session would
// produce them (supervisor start … session stop, cleanup, supervisor stop). Times start at
// `start_time` (epoch ms) and increase. Sequence numbers and integrity links are left to the
// audit writer. LOG (Event Log Activity) events are not included: src/audit builds those.
std::vector<Event> sampleOfEveryEvent(const SessionContext& ctx, int64_t start_time = 1763900000000);

}  // namespace warden::ocsf
