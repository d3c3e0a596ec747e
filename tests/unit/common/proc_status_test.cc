#include "common/proc_status.h"

#include <gtest/gtest.h>

namespace warden {
namespace {

constexpr std::string_view kStatus =
    "Name:\tcurl\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t9175\nNgid:\t0\nPid:\t9175\nPPid:\t9172\n"
    "Uid:\t64000\t0\t64000\t64000\nGid:\t64000\t64000\t64000\t64000\nNSpid:\t9175\t5\nNSpgid:\t9172\t2\n";

TEST(ProcStatus, ANumberIsReadByItsKeyAndIndex) {
  EXPECT_EQ(procStatusNumber(kStatus, "PPid", 0), 9172u);
  EXPECT_EQ(procStatusNumber(kStatus, "Uid", 0), 64000u);
  EXPECT_EQ(procStatusNumber(kStatus, "Uid", 1), 0u);
  EXPECT_EQ(procStatusNumber(kStatus, "Gid", 3), 64000u);
}

TEST(ProcStatus, AMissingKeyIndexOrMalformedNumberIsZero) {
  EXPECT_EQ(procStatusNumber(kStatus, "Uid", 4), 0u);
  EXPECT_EQ(procStatusNumber(kStatus, "Nope", 0), 0u);
  EXPECT_EQ(procStatusNumber(kStatus, "Pi", 0), 0u) << "a key is matched whole, not as a prefix of Pid";
  EXPECT_EQ(procStatusNumber("PPid:\t12x\n", "PPid", 0), 0u);
  EXPECT_EQ(procStatusNumber("", "PPid", 0), 0u);
}

TEST(ProcStatus, TheNamespacePidIsTheLastNumberOfNSpid) {
  EXPECT_EQ(procStatusNamespacePid(kStatus), 5u);
  EXPECT_EQ(procStatusNamespacePid("NSpid:\t42\n"), 42u) << "a process in the host's namespace only";
  EXPECT_EQ(procStatusNamespacePid("Pid:\t42\n"), 0u) << "no NSpid line";
  EXPECT_EQ(procStatusNamespacePid("NSpid:\t42\tx\n"), 0u);
  EXPECT_EQ(procStatusNamespacePid("NSpid:\t42\t7"), 7u) << "no trailing newline";
}

}  // namespace
}  // namespace warden
