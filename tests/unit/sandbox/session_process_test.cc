#include "sandbox/session_process.h"

#include <gtest/gtest.h>

namespace warden::sandbox {
namespace {

TEST(FindExecutable, SearchesTheAgentsPathInOrder) {
  EXPECT_EQ(findExecutable("sh", {"PATH=/nonexistent:/bin"}), "/bin/sh");
  EXPECT_EQ(findExecutable("definitely-not-a-command-xyz", {"PATH=/bin:/usr/bin"}), std::nullopt);
}

TEST(FindExecutable, APathWithASlashIsTakenAsIs) {
  EXPECT_EQ(findExecutable("./run.sh", {}), "./run.sh");
  EXPECT_EQ(findExecutable("/missing/tool", {}), "/missing/tool");
  EXPECT_EQ(findExecutable("", {}), std::nullopt);
}

TEST(MainProcess, IsPid1WithTheAgentsUidAndTheResolvedExecutable) {
  const ocsf::Process p = mainProcess({"sh", "-c", "echo hi"}, {"PATH=/bin"}, "/work", 64000);
  EXPECT_EQ(p.pid, 1);
  EXPECT_EQ(p.uid, 64000);
  EXPECT_EQ(p.name, "sh");
  ASSERT_TRUE(p.file);
  EXPECT_EQ(p.file->path, "/bin/sh");
  EXPECT_EQ(p.cmd_line, "sh -c echo hi");
  EXPECT_EQ(p.working_directory, "/work");
}

}  // namespace
}  // namespace warden::sandbox
