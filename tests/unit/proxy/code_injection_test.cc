#include "proxy/code_injection.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace warden::proxy {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::string block(std::initializer_list<std::string> entries) {
  std::string out;
  for (const auto& e : entries) {
    out += e;
    out.push_back('\0');
  }
  return out;
}

TEST(LoaderVariablesTest, FindsPreloadAuditAndLibraryPathAndNothingElse) {
  const std::string env = block({"PATH=/usr/bin", "LD_PRELOAD=/tmp/hook.so", "AWS_SECRET_ACCESS_KEY=wJalr",
                                 "LD_AUDIT=/w/a.so", "LD_LIBRARY_PATH=/workspace/lib", "LD_BIND_NOW=1"});
  EXPECT_THAT(loaderVariables(env),
              ElementsAre("LD_PRELOAD=/tmp/hook.so", "LD_AUDIT=/w/a.so", "LD_LIBRARY_PATH=/workspace/lib"));
}

TEST(LoaderVariablesTest, EmptyValuesLookalikesAndGarbageAreIgnored) {
  EXPECT_THAT(loaderVariables(block({"LD_PRELOAD=", "XLD_PRELOAD=/x.so", "LD_PRELOADX=/y.so", "LD_PRELOAD"})),
              IsEmpty());
  EXPECT_THAT(loaderVariables(""), IsEmpty());
  EXPECT_THAT(loaderVariables(std::string("\0\0=\0", 4)), IsEmpty());
  // Without a final NUL (a block cut at a bound) the last entry still counts.
  EXPECT_THAT(loaderVariables("A=1\0LD_AUDIT=/a.so"), IsEmpty());  // a C string stops at the NUL
  EXPECT_THAT(loaderVariables(std::string("A=1\0LD_AUDIT=/a.so", 18)), ElementsAre("LD_AUDIT=/a.so"));
}

TEST(LoaderVariablesTest, LongValuesAreCut) {
  const auto found = loaderVariables(block({"LD_PRELOAD=" + std::string(1000, 'a')}));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0], "LD_PRELOAD=" + std::string(256, 'a') + "...");
}

TEST(MapsLineTest, ParsesFileAnonymousAndKernelMappings) {
  const auto file = parseMapsLine("7f2496e00000-7f2496e22000 r-xp 00022000 08:01 1835 /usr/lib/x86_64-linux-gnu/libc.so.6");
  ASSERT_TRUE(file);
  EXPECT_EQ(file->start, 0x7f2496e00000u);
  EXPECT_EQ(file->end, 0x7f2496e22000u);
  EXPECT_TRUE(file->executable);
  EXPECT_FALSE(file->writable);
  EXPECT_EQ(file->inode, 1835u);
  EXPECT_EQ(file->path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
  EXPECT_EQ(codeOrigin(*file), CodeOrigin::kFile);

  const auto jit = parseMapsLine("7f2496fc3000-7f2496fff000 rwxp 00000000 00:00 0 ");
  ASSERT_TRUE(jit);
  EXPECT_EQ(jit->path, "");
  EXPECT_EQ(codeOrigin(*jit), CodeOrigin::kAnonymous);

  const auto vdso = parseMapsLine("7ffd1b3e0000-7ffd1b3e2000 r-xp 00000000 00:00 0                  [vdso]");
  ASSERT_TRUE(vdso);
  EXPECT_EQ(codeOrigin(*vdso), CodeOrigin::kKernel);

  const auto data = parseMapsLine("55d0c8a00000-55d0c8a21000 rw-p 00000000 00:00 0                  [heap]");
  ASSERT_TRUE(data);
  EXPECT_EQ(codeOrigin(*data), CodeOrigin::kNotCode);
}

TEST(MapsLineTest, MemfdAndDeletedFilesAreFilelessCode) {
  const auto memfd = parseMapsLine("7f00-7f10 r-xp 00001000 00:01 4242 /memfd:payload (deleted)");
  ASSERT_TRUE(memfd);
  EXPECT_EQ(memfd->path, "/memfd:payload (deleted)");
  EXPECT_EQ(codeOrigin(*memfd), CodeOrigin::kFilelessCode);
  const auto deleted = parseMapsLine("7f00-7f10 r-xp 00000000 08:01 99 /tmp/evil lib.so (deleted)");
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->path, "/tmp/evil lib.so (deleted)");
  EXPECT_EQ(codeOrigin(*deleted), CodeOrigin::kFilelessCode);
  // Not executable: a deleted data file is no code.
  const auto data = parseMapsLine("7f00-7f10 rw-s 00000000 00:01 5 /memfd:buf (deleted)");
  ASSERT_TRUE(data);
  EXPECT_EQ(codeOrigin(*data), CodeOrigin::kNotCode);
}

TEST(MapsLineTest, RejectsMalformedLines) {
  for (const char* bad : {"", "garbage", "7f10-7f00 r-xp 0 08:01 1 /x", "7f00-7f10 r-x 0 08:01 1 /x",
                          "7f00-7f10 rzxp 0 08:01 1 /x", "7f00 r-xp 0 08:01 1 /x", "7f00-7f10 r-xp 0 0801 1 /x",
                          "7f00-7f10 r-xp 0 08:01 x /x", "7f00-7f10  r-xp 0 08:01 1", "1ffffffffffffffff-2 r-xp 0 0:0 0"}) {
    EXPECT_FALSE(parseMapsLine(bad)) << bad;
  }
}

TEST(MapsLineTest, EveryLineOfThisProcessesMapsParses) {
  std::ifstream in("/proc/self/maps");
  std::string line;
  size_t lines = 0;
  size_t code = 0;
  while (std::getline(in, line)) {
    ++lines;
    const auto entry = parseMapsLine(line);
    ASSERT_TRUE(entry) << line;
    if (codeOrigin(*entry) == CodeOrigin::kFile) ++code;
  }
  EXPECT_GT(lines, 5u);
  EXPECT_GT(code, 0u);  // this test binary's own text at least
}

}  // namespace
}  // namespace warden::proxy
