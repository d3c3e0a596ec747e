#include "sandbox/landlock.h"

#include <linux/landlock.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include <gtest/gtest.h>

namespace warden::sandbox {
namespace {

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

policy::FilesystemAccess access(std::vector<std::string> ro, std::vector<std::string> rw) {
  policy::FilesystemAccess fs;
  fs.read_only = std::move(ro);
  fs.read_write = std::move(rw);
  return fs;
}

TEST(LandlockPlanTest, UsesTheAbiTheKernelReports) {
  const long abi = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  const auto plan = planLandlock(access({"/usr"}, {}), {});
  ASSERT_TRUE(plan.ok()) << plan.error().toString();
  EXPECT_EQ(plan->kernel_abi, abi > 0 ? abi : 0);
  EXPECT_EQ(landlockKernelAbi(), plan->kernel_abi);
  EXPECT_EQ(plan->degraded(), plan->kernel_abi < kLandlockKnownAbi);
  if (abi >= 7) {
    EXPECT_FALSE(plan->degraded());
    EXPECT_EQ(plan->handled_fs, 0xffffu);  // every right through ABI 5's IOCTL_DEV
    EXPECT_EQ(plan->scoped, 0x3u);
  }
}

TEST(LandlockPlanTest, AddsProcDevicesAndExtraPaths) {
  const auto plan = planLandlockForAbi(7, access({"/usr"}, {"/var/tmp"}), {"/etc/ssl"});
  ASSERT_TRUE(plan.ok()) << plan.error().toString();
  EXPECT_TRUE(contains(plan->read_only, "/usr"));
  EXPECT_TRUE(contains(plan->read_only, "/etc/ssl"));
  EXPECT_TRUE(contains(plan->read_only, "/proc"));
  EXPECT_TRUE(contains(plan->read_write, "/var/tmp"));
  for (const char* dev : {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"}) {
    EXPECT_TRUE(contains(plan->read_write, dev)) << dev;
  }
  EXPECT_FALSE(contains(plan->read_only, "/var/tmp"));
}

TEST(LandlockPlanTest, ReportsMissingPathsInDescribe) {
  const auto plan = planLandlockForAbi(7, access({"/usr", "/no/such/ro"}, {"/no/such/rw"}), {});
  ASSERT_TRUE(plan.ok()) << plan.error().toString();
  EXPECT_EQ(plan->missing, (std::vector<std::string>{"/no/such/ro", "/no/such/rw"}));
  const size_t paths = plan->read_only.size() + plan->read_write.size();
  EXPECT_EQ(plan->describe(), "abi 7: fs rights 0xffff, scoped 0x3, " + std::to_string(paths) +
                                  " paths (2 missing: /no/such/ro, /no/such/rw)");
}

TEST(LandlockPlanTest, OlderAbisHandleFewerRightsAndAreDegraded) {
  const auto abi1 = planLandlockForAbi(1, access({"/usr"}, {}), {});
  ASSERT_TRUE(abi1.ok());
  EXPECT_EQ(abi1->handled_fs, 0x1fffu);
  EXPECT_EQ(abi1->scoped, 0u);
  EXPECT_TRUE(abi1->degraded());
  const auto abi3 = planLandlockForAbi(3, access({"/usr"}, {}), {});
  ASSERT_TRUE(abi3.ok());
  EXPECT_EQ(abi3->handled_fs, 0x7fffu);  // + REFER + TRUNCATE, no IOCTL_DEV yet
  EXPECT_TRUE(abi3->degraded());
  EXPECT_EQ(landlockNetRightsForAbi(3), 0u);
  EXPECT_EQ(landlockNetRightsForAbi(4), 0x3u);
}

TEST(LandlockPlanTest, NoLandlockIsDegradedAndSaysNothingIsEnforced) {
  const auto plan = planLandlockForAbi(0, access({"/usr"}, {}), {});
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->handled_fs, 0u);
  EXPECT_TRUE(plan->degraded());
  EXPECT_NE(plan->describe().find("unavailable"), std::string::npos) << plan->describe();
}

TEST(LandlockPlanTest, NetworkIsLeftToTheNetworkNamespace) {
  const auto plan = planLandlockForAbi(7, access({"/usr"}, {}), {});
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->handled_net, 0u);
}

TEST(LandlockPlanTest, RelativeOrEmptyPathsAreInvalidArgument) {
  for (const char* bad : {"usr", "", "./x"}) {
    const auto plan = planLandlockForAbi(7, access({bad}, {}), {});
    ASSERT_FALSE(plan.ok()) << bad;
    EXPECT_EQ(plan.error().code(), Code::kInvalidArgument);
  }
  const auto extra = planLandlockForAbi(7, access({}, {}), {"relative"});
  ASSERT_FALSE(extra.ok());
}

TEST(LandlockRightsTest, ReadOnlyIsExecuteReadFileReadDir) {
  EXPECT_EQ(landlockReadOnlyRights(0xffff), 0x1u | 0x4u | 0x8u);
  EXPECT_EQ(landlockReadOnlyRights(0), 0u);
}

TEST(LandlockRightsTest, FilesGetOnlyFileRights) {
  // execute, write_file, read_file, truncate, ioctl_dev
  EXPECT_EQ(landlockFileRights(0xffff), 0x1u | 0x2u | 0x4u | (1u << 14) | (1u << 15));
}

}  // namespace
}  // namespace warden::sandbox
