#include "sandbox/sandbox_pids.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <string>

#include "common/file_io.h"
#include "common/proc_status.h"
#include "support/child_process.h"
#include "support/test_env.h"

namespace warden::sandbox {
namespace {

TEST(SandboxPids, AProcessOfTheHostsNamespaceIsItsOwnSandboxPid) {
  EXPECT_EQ(sandboxPidToHost({::getpid()}, ::getpid()), ::getpid());
  EXPECT_EQ(sandboxPidToHost({::getpid()}, ::getpid() + 1'000'000), 0) << "no listed process has that pid";
  EXPECT_EQ(sandboxPidToHost({}, 1), 0);
  EXPECT_EQ(sandboxPidToHost({::getpid()}, 0), 0);
}

TEST(SandboxPids, AProcessInANewPidNamespaceIsFoundByItsInnerPid) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to create a pid namespace";
  // unshare forks `sh`, pid 1 of a new namespace, which starts `sleep` as its pid 2.
  std::string why;
  auto child = testing::ChildProcess::start({.argv = {"unshare", "--pid", "--fork", "sh", "-c", "sleep 60 & wait"}}, &why);
  ASSERT_NE(child, nullptr) << why;
  // Find the host pids of the namespace's processes: unshare's descendants.
  std::vector<pid_t> inner;
  ASSERT_TRUE(testing::waitFor([&] {
    inner.clear();
    auto kids = readFileBounded("/proc/" + std::to_string(child->pid()) + "/task/" + std::to_string(child->pid()) +
                                    "/children",
                                4096, OverLimit::kTruncate);
    if (!kids.ok() || kids->empty()) return false;
    const pid_t sh = std::stoi(*kids);
    auto grandkids = readFileBounded("/proc/" + std::to_string(sh) + "/task/" + std::to_string(sh) + "/children",
                                     4096, OverLimit::kTruncate);
    if (!grandkids.ok() || grandkids->empty()) return false;
    inner = {sh, static_cast<pid_t>(std::stoi(*grandkids))};
    return true;
  }, std::chrono::seconds(10)));
  EXPECT_EQ(sandboxPidToHost(inner, 1), inner[0]);
  EXPECT_EQ(sandboxPidToHost(inner, 2), inner[1]);
  EXPECT_EQ(sandboxPidToHost(inner, 3), 0);
  child->signalAndWait(SIGKILL, std::chrono::seconds(10));
}

}  // namespace
}  // namespace warden::sandbox
