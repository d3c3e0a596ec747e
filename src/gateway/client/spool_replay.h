#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/client/channel.h"

namespace warden::gateway {

// What happened to one leftover spool.
struct ReplayOutcome {
  std::string session_id;
  uint64_t sent = 0;        // events the gateway acknowledged during the replay
  bool complete = false;    // everything acknowledged; the spool directory was removed
  std::string problem;      // why not (gateway unreachable, damaged spool, no link record)
};

// Leftover spools (docs/gateway-link.md "Leftover spools"): a supervisor that was killed, or whose
// gateway stayed away past the end of its session, leaves `<root>/<session id>/` with the events the
// gateway has not acknowledged and the `link` record (gateway URL, token). replayLeftoverSpools()
// pushes each such spool to the gateway its record names, as that session, and removes the directory
// once everything is acknowledged. A spool still locked by a running supervisor, and `skip` (the
// caller's own session), are left alone; so is one whose gateway does not answer within `each`
// (kept for the next attempt). Blocking; run it on a thread of its own.
std::vector<ReplayOutcome> replayLeftoverSpools(const std::filesystem::path& root, std::string_view skip,
                                                std::chrono::milliseconds each, const ChannelOptions& channel = {});

}  // namespace warden::gateway
