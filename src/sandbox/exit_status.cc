#include "sandbox/exit_status.h"

#include <signal.h>
#include <sys/wait.h>

#include "sandbox/run_options.h"

namespace warden::sandbox {

SessionEnd classifyEnd(const EndFacts& facts) {
  SessionEnd end;
  if (WIFSIGNALED(facts.wait_status)) {
    end.signal = WTERMSIG(facts.wait_status);
    end.agent_status = 128 + *end.signal;
  } else {
    end.agent_status = WEXITSTATUS(facts.wait_status);
  }
  end.warden_status = end.agent_status;
  if (facts.policy_violation) {
    end.reason = ocsf::StopReason::kPolicyViolation;
    end.killed_by_limit = true;
  } else if (facts.timed_out) {
    end.reason = ocsf::StopReason::kTimeout;
    end.warden_status = kExitTimeout;
    end.killed_by_limit = true;
  } else if (facts.oom_killed && end.signal == SIGKILL) {
    end.reason = ocsf::StopReason::kOom;
    end.killed_by_limit = true;
  } else if (facts.stop_requested) {
    end.reason = ocsf::StopReason::kApi;
  } else if (end.signal) {
    end.reason = ocsf::StopReason::kSignal;
  } else {
    end.reason = ocsf::StopReason::kExit;
  }
  return end;
}

}  // namespace warden::sandbox
