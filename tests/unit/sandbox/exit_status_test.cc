#include "sandbox/exit_status.h"

#include <gtest/gtest.h>
#include <signal.h>

namespace warden::sandbox {
namespace {

constexpr int exited(int code) { return code << 8; }
constexpr int signaled(int sig) { return sig; }

TEST(ClassifyEnd, AnExitPassesItsCodeThrough) {
  const auto end = classifyEnd({.wait_status = exited(3)});
  EXPECT_EQ(end.reason, ocsf::StopReason::kExit);
  EXPECT_EQ(end.agent_status, 3);
  EXPECT_EQ(end.warden_status, 3);
  EXPECT_FALSE(end.signal);
  EXPECT_FALSE(end.killed_by_limit);
}

TEST(ClassifyEnd, ADeathBySignalIs128PlusTheSignal) {
  const auto end = classifyEnd({.wait_status = signaled(SIGSEGV)});
  EXPECT_EQ(end.reason, ocsf::StopReason::kSignal);
  EXPECT_EQ(end.agent_status, 128 + SIGSEGV);
  EXPECT_EQ(end.signal, SIGSEGV);
}

TEST(ClassifyEnd, ATimeoutReturns124AndKeepsTheAgentsStatusForTheEvent) {
  const auto end = classifyEnd({.wait_status = signaled(SIGKILL), .timed_out = true});
  EXPECT_EQ(end.reason, ocsf::StopReason::kTimeout);
  EXPECT_EQ(end.agent_status, 137);
  EXPECT_EQ(end.warden_status, 124);
  EXPECT_TRUE(end.killed_by_limit);
  // An agent that exits cleanly on the SIGTERM of a timeout still timed out.
  EXPECT_EQ(classifyEnd({.wait_status = exited(0), .timed_out = true}).warden_status, 124);
}

TEST(ClassifyEnd, AnOomKillNeedsSigkill) {
  EXPECT_EQ(classifyEnd({.wait_status = signaled(SIGKILL), .oom_killed = true}).reason, ocsf::StopReason::kOom);
  // A child was OOM-killed but the main process exited on its own: an ordinary exit.
  EXPECT_EQ(classifyEnd({.wait_status = exited(1), .oom_killed = true}).reason, ocsf::StopReason::kExit);
}

TEST(ClassifyEnd, AStopRequestIsApiWhateverTheAgentDiedOf) {
  const auto end = classifyEnd({.wait_status = signaled(SIGTERM), .stop_requested = true});
  EXPECT_EQ(end.reason, ocsf::StopReason::kApi);
  EXPECT_EQ(end.warden_status, 143);
  // A timeout that fires during a stop is still a timeout.
  EXPECT_EQ(classifyEnd({.wait_status = signaled(SIGKILL), .timed_out = true, .stop_requested = true}).reason,
            ocsf::StopReason::kTimeout);
}

}  // namespace
}  // namespace warden::sandbox
