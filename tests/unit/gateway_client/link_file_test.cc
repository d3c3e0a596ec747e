#include "gateway/client/link_file.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "support/test_env.h"

namespace warden::gateway {
namespace {

using warden::testing::TempDir;
using warden::testing::writeFile;

TEST(LinkFileTest, RoundTripsAndIsPrivateToRoot) {
  TempDir dir;
  const LinkRecord r{.gateway_url = "127.0.0.1:7443", .session_id = "0193-abc", .session_name = "agent \"7\"",
                     .hostname = "host1", .public_key = std::string(64, 'b'), .token = std::string(64, 'c')};
  ASSERT_TRUE(writeLinkFile(dir / "link", r).ok());
  auto back = readLinkFile(dir / "link");
  ASSERT_TRUE(back.ok()) << back.error().toString();
  EXPECT_EQ(*back, r);
  struct stat st {};
  ASSERT_EQ(::stat((dir / "link").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(std::filesystem::exists(dir / "link.tmp"));
}

TEST(LinkFileTest, NamesWhatIsWrongWithADamagedRecord) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "not a JSON object"},
      {"[1,2]", "not a JSON object"},
      {"{\"gateway\":1}", "'gateway' missing or not a string"},
      {R"({"gateway":"g:1","session_id":"s","session_name":"n","hostname":"h","public_key":"k"})",
       "'token' missing or not a string"},
      {R"({"gateway":"","session_id":"s","session_name":"n","hostname":"h","public_key":"k","token":""})",
       "'gateway' is empty"},
  };
  for (const auto& [text, why] : cases) {
    auto r = parseLinkRecord(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_NE(r.error().message().find(why), std::string::npos) << text << ": " << r.error().message();
  }
  TempDir dir;
  EXPECT_EQ(readLinkFile(dir / "missing").error().code(), Code::kNotFound);
  writeFile(dir / "big", std::string(70000, ' '));
  EXPECT_FALSE(readLinkFile(dir / "big").ok());
}

}  // namespace
}  // namespace warden::gateway
