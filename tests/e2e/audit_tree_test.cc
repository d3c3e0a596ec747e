// `warden audit tree --log-dir DIR [--json]` as a user runs it, on a recorded trail.

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "ocsf/builders.h"
#include "ocsf/jsonl_formatter.h"
#include "ocsf/samples.h"
#include "support/test_env.h"

namespace warden {
namespace {

using testing::runCommand;
using testing::TempDir;
using testing::wardenBinary;

void writeTrail(const std::filesystem::path& dir) {
  const ocsf::SessionContext ctx = ocsf::sampleContext();
  ocsf::Process sh;
  sh.name = "sh";
  sh.pid = 100;
  sh.uid = 1000;
  ocsf::Process rm = sh;
  rm.name = "rm";
  rm.pid = 101;
  rm.parent_process = std::make_shared<const ocsf::Process>(sh);
  ocsf::FileAccess del;
  del.activity = ocsf::FileActivity::kDelete;
  del.actor = rm;
  del.file.path = "/workspace/b.txt";
  ocsf::ProcessExit ok;
  std::ofstream out(dir / "warden-ocsf.log");
  out << ocsf::toJsonl(ocsf::procLaunch(ctx, 1765000000000, sh, {"sh", "-c", "rm b.txt"})) << "\n"
      << ocsf::toJsonl(ocsf::procLaunch(ctx, 1765000000010, rm, {"rm", "b.txt"})) << "\n"
      << ocsf::toJsonl(ocsf::fileActivity(ctx, 1765000000011, del)) << "\n"
      << ocsf::toJsonl(ocsf::procTerminate(ctx, 1765000000012, rm, ok)) << "\n";
}

TEST(AuditTreeCommandTest, PrintsTheProcessTreeOfALogDirectory) {
  TempDir dir;
  writeTrail(dir.path());
  const auto r = runCommand(wardenBinary().string() + " audit tree --log-dir " + dir.path().string());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output,
            "05:46:40.000 sh(100) uid:1000 running sh -c rm b.txt\n"
            "  05:46:40.010 rm(101) uid:1000 exit:0 rm b.txt\n"
            "    05:46:40.011 FILE delete /workspace/b.txt\n");
}

TEST(AuditTreeCommandTest, JsonNestsChildrenWithArgv) {
  TempDir dir;
  writeTrail(dir.path());
  const auto r = runCommand(wardenBinary().string() + " audit tree --json --log-dir " + dir.path().string() + " 2>/dev/null");
  ASSERT_EQ(r.status, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output);
  EXPECT_EQ(j["processes"][0]["children"][0]["execs"][0]["argv"][1], "b.txt");
}

TEST(AuditTreeCommandTest, ADirectoryWithoutJsonlIsAFailureAndNoSessionIsAUsageError) {
  TempDir dir;
  EXPECT_EQ(runCommand(wardenBinary().string() + " audit tree --log-dir " + dir.path().string()).status, 1);
  EXPECT_EQ(runCommand(wardenBinary().string() + " audit tree --gateway 127.0.0.1:1").status, 2);
}

}  // namespace
}  // namespace warden
