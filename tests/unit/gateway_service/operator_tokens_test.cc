// The operator token file: its format, its permissions, and matching a presented token.

#include "gateway/service/operator_tokens.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "support/test_env.h"

namespace warden::gateway {
namespace {

using warden::testing::TempDir;
using warden::testing::writeFile;

const std::string kA = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4";
const std::string kB = "ffffeeeeddddccccbbbbaaaa9999888877776666";

TEST(OperatorTokens, MatchesEachTokenToItsIdAndNothingElse) {
  auto t = OperatorTokens::parse("# ops\n\nops-1 " + kA + "\n  ops.2\t" + kB + "  \n", "f");
  ASSERT_TRUE(t.ok()) << t.error().toString();
  EXPECT_EQ(t->size(), 2u);
  EXPECT_EQ(t->match(kA), "ops-1");
  EXPECT_EQ(t->match(kB), "ops.2");
  EXPECT_EQ(t->match(kA + "x"), std::nullopt);
  EXPECT_EQ(t->match(kA.substr(1)), std::nullopt);
  EXPECT_EQ(t->match(""), std::nullopt);
}

TEST(OperatorTokens, MalformedLinesAreRefusedWithTheirLine) {
  const struct {
    std::string text, says;
  } cases[] = {
      {"ops-1\n", "f:1: expected 'ID TOKEN'"},
      {"# c\nops-1 short\n", "f:2: the token of 'ops-1' must be 32..256"},
      {"bad/id " + kA + "\n", "f:1: the id must be"},
      {"a " + kA + "\na " + kB + "\n", "f:2: id 'a' appears twice"},
      {"# nothing\n", "no 'ID TOKEN' line"},
  };
  for (const auto& c : cases) {
    auto t = OperatorTokens::parse(c.text, "f");
    ASSERT_FALSE(t.ok()) << c.text;
    EXPECT_EQ(t.error().code(), Code::kInvalidArgument);
    EXPECT_NE(t.error().message().find(c.says), std::string::npos) << t.error().message();
  }
}

TEST(OperatorTokens, AFileOthersMayReadOrWriteIsRefused) {
  TempDir dir;
  const auto file = dir / "tokens";
  writeFile(file, "ops-1 " + kA + "\n");
  ASSERT_EQ(::chmod(file.c_str(), 0600), 0);
  ASSERT_TRUE(OperatorTokens::load(file).ok());
  for (mode_t mode : {0640, 0604, 0620, 0644}) {
    ASSERT_EQ(::chmod(file.c_str(), mode), 0);
    auto t = OperatorTokens::load(file);
    ASSERT_FALSE(t.ok()) << std::oct << mode;
    EXPECT_EQ(t.error().code(), Code::kPermissionDenied);
    EXPECT_NE(t.error().message().find("chmod 600"), std::string::npos) << t.error().message();
  }
  auto missing = OperatorTokens::load(dir / "none");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), Code::kNotFound);
}

}  // namespace
}  // namespace warden::gateway
