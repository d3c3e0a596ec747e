#include "sandbox/agent_user.h"

#include <gtest/gtest.h>

#include "support/test_env.h"

namespace warden::sandbox {
namespace {

using warden::testing::TempDir;
using warden::testing::writeFile;

constexpr const char* kPasswd =
    "root:x:0:0:root:/root:/bin/bash\n"
    "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
    "alice:x:1000:1001:Alice:/home/alice:/bin/bash\n"
    "nogroup0:x:1500:0::/home/ng:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";

class AgentUserTest : public ::testing::Test {
 protected:
  std::filesystem::path passwd(const std::string& content) {
    const auto path = dir_ / "passwd";
    writeFile(path, content);
    return path;
  }
  TempDir dir_;
};

TEST_F(AgentUserTest, DefaultIsUid64000WhenPasswdHasNoWardenAgent) {
  const auto user = resolveAgentUser(std::nullopt, passwd(kPasswd));
  ASSERT_TRUE(user.ok()) << user.error().toString();
  EXPECT_EQ(user->uid, 64000u);
  EXPECT_EQ(user->gid, 64000u);
  EXPECT_EQ(user->name, "warden-agent");
  EXPECT_EQ(user->home, "/tmp");
}

TEST_F(AgentUserTest, DefaultIsTheWardenAgentEntryWhenPasswdHasIt) {
  const auto user = resolveAgentUser(
      std::nullopt, passwd(std::string(kPasswd) + "warden-agent:x:998:997::/var/lib/warden-agent:/bin/sh\n"));
  ASSERT_TRUE(user.ok()) << user.error().toString();
  EXPECT_EQ(user->uid, 998u);
  EXPECT_EQ(user->gid, 997u);
  EXPECT_EQ(user->home, "/var/lib/warden-agent");
}

TEST_F(AgentUserTest, NameResolvesToUidPrimaryGidAndHome) {
  const auto user = resolveAgentUser(std::string("alice"), passwd(kPasswd));
  ASSERT_TRUE(user.ok()) << user.error().toString();
  EXPECT_EQ(user->uid, 1000u);
  EXPECT_EQ(user->gid, 1001u);
  EXPECT_EQ(user->name, "alice");
  EXPECT_EQ(user->home, "/home/alice");
}

TEST_F(AgentUserTest, RootByNameIsPermissionDenied) {
  const auto user = resolveAgentUser(std::string("root"), passwd(kPasswd));
  ASSERT_FALSE(user.ok());
  EXPECT_EQ(user.error().code(), Code::kPermissionDenied);
}

TEST_F(AgentUserTest, UserWhosePrimaryGroupIsZeroIsPermissionDenied) {
  const auto user = resolveAgentUser(std::string("nogroup0"), passwd(kPasswd));
  ASSERT_FALSE(user.ok());
  EXPECT_EQ(user.error().code(), Code::kPermissionDenied);
}

TEST_F(AgentUserTest, UidZeroOrGidZeroNumbersArePermissionDenied) {
  const auto file = passwd(kPasswd);
  for (const char* spec : {"0", "0:5", "5:0", "0:0"}) {
    const auto user = resolveAgentUser(std::string(spec), file);
    ASSERT_FALSE(user.ok()) << spec;
    EXPECT_EQ(user.error().code(), Code::kPermissionDenied) << spec;
  }
}

TEST_F(AgentUserTest, UnknownNameIsNotFound) {
  const auto user = resolveAgentUser(std::string("mallory"), passwd(kPasswd));
  ASSERT_FALSE(user.ok());
  EXPECT_EQ(user.error().code(), Code::kNotFound);
  EXPECT_NE(user.error().message().find("mallory"), std::string::npos);
}

TEST_F(AgentUserTest, KnownUidNumberTakesNameGidAndHomeFromPasswd) {
  const auto user = resolveAgentUser(std::string("1000"), passwd(kPasswd));
  ASSERT_TRUE(user.ok()) << user.error().toString();
  EXPECT_EQ(user->name, "alice");
  EXPECT_EQ(user->gid, 1001u);
  EXPECT_EQ(user->home, "/home/alice");
}

TEST_F(AgentUserTest, UnknownUidNumberUsesItsOwnNumberForGidAndName) {
  const auto user = resolveAgentUser(std::string("4242"), passwd(kPasswd));
  ASSERT_TRUE(user.ok()) << user.error().toString();
  EXPECT_EQ(user->uid, 4242u);
  EXPECT_EQ(user->gid, 4242u);
  EXPECT_EQ(user->name, "4242");
  EXPECT_EQ(user->home, "/tmp");
}

TEST_F(AgentUserTest, UidColonGidSetsBoth) {
  const auto user = resolveAgentUser(std::string("4242:77"), passwd(kPasswd));
  ASSERT_TRUE(user.ok()) << user.error().toString();
  EXPECT_EQ(user->uid, 4242u);
  EXPECT_EQ(user->gid, 77u);
}

TEST_F(AgentUserTest, MalformedValuesAreInvalidArgument) {
  const auto file = passwd(kPasswd);
  for (const char* spec : {"", "12:", ":12", "12:ab", "1x:2", "99999999999", "4294967295", "5:4294967295"}) {
    const auto user = resolveAgentUser(std::string(spec), file);
    ASSERT_FALSE(user.ok()) << spec;
    EXPECT_EQ(user.error().code(), Code::kInvalidArgument) << spec << ": " << user.error().toString();
  }
}

TEST_F(AgentUserTest, UnreadablePasswdFileIsAnError) {
  const auto user = resolveAgentUser(std::string("alice"), dir_ / "missing");
  ASSERT_FALSE(user.ok());
  EXPECT_EQ(user.error().code(), Code::kNotFound);
}

TEST(AgentUserSystemTest, ReadsTheSystemPasswd) {
  const auto user = resolveAgentUser(std::string("root"));
  ASSERT_FALSE(user.ok());
  EXPECT_EQ(user.error().code(), Code::kPermissionDenied);  // /etc/passwd always has root
}

}  // namespace
}  // namespace warden::sandbox
