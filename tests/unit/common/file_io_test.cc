#include "common/file_io.h"

#include <gtest/gtest.h>

#include "support/test_env.h"

namespace warden {
namespace {

using testing::TempDir;
using testing::writeFile;

TEST(ReadFileBounded, AFileOfExactlyTheBoundIsReadWhole) {
  TempDir dir;
  writeFile(dir / "f", std::string(100, 'x'));
  auto text = readFileBounded(dir / "f", 100, OverLimit::kFail);
  ASSERT_TRUE(text.ok()) << text.error().toString();
  EXPECT_EQ(text->size(), 100u);
}

TEST(ReadFileBounded, ALongerFileFailsOrIsCutAsAsked) {
  TempDir dir;
  writeFile(dir / "f", std::string(200000, 'y'));
  auto failed = readFileBounded(dir / "f", 100000, OverLimit::kFail);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code(), Code::kOutOfRange);
  EXPECT_NE(failed.error().message().find("larger than 100000 bytes"), std::string::npos);
  auto cut = readFileBounded(dir / "f", 100000, OverLimit::kTruncate);
  ASSERT_TRUE(cut.ok());
  EXPECT_EQ(cut->size(), 100000u);
}

TEST(ReadFileBounded, AMissingFileIsNotFoundNamingIt) {
  TempDir dir;
  auto missing = readFileBounded(dir / "nope", 10, OverLimit::kFail);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), Code::kNotFound);
  EXPECT_NE(missing.error().message().find("nope"), std::string::npos);
}

TEST(ReadFileBounded, ProcFilesThatReportSizeZeroAreReadToTheirEnd) {
  auto status = readFileBounded("/proc/self/status", 1 << 20, OverLimit::kFail);
  ASSERT_TRUE(status.ok()) << status.error().toString();
  EXPECT_NE(status->find("Pid:"), std::string::npos);
}

TEST(ReadFileBounded, NoBoundReadsEverything) {
  TempDir dir;
  writeFile(dir / "f", std::string(300000, 'z'));
  auto text = readFileBounded(dir / "f", SIZE_MAX, OverLimit::kFail);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->size(), 300000u);
}

}  // namespace
}  // namespace warden
