#pragma once

// How a session ended, from the main process's wait status and what the supervisor knows about why
// (timeout, a stop request, an OOM kill). Pure: unit-tested without processes.

#include <optional>

#include "ocsf/builders.h"

namespace warden::sandbox {

struct EndFacts {
  int wait_status = 0;           // as from waitpid (WIFEXITED/WIFSIGNALED)
  bool timed_out = false;        // the supervisor's timeout fired
  bool stop_requested = false;   // `warden session stop`, or SIGTERM/SIGINT to the supervisor
  bool oom_killed = false;       // the cgroup recorded an OOM kill in this session
  bool policy_violation = false; // a detection rule with `action: kill` ended the session
};

struct SessionEnd {
  ocsf::StopReason reason = ocsf::StopReason::kExit;
  int agent_status = 0;            // shell convention: the exit code, or 128 + signal (SESSION:STOP exit)
  std::optional<int> signal;       // the terminating signal
  int warden_status = 0;           // what `warden run` returns: agent_status, 124 on a timeout
  bool killed_by_limit = false;    // a timeout or OOM kill: PROC:TERMINATE is Critical
};

// Precedence when several facts hold: a policy violation (a kill rule), timeout, then an OOM kill
// (only when the agent died of SIGKILL), then a stop request, then signal / exit.
SessionEnd classifyEnd(const EndFacts& facts);

}  // namespace warden::sandbox
