#include "gateway/service/session_auth.h"

#include <gtest/gtest.h>

#include "common/encoding.h"
#include "gateway/service/gateway_server.h"

namespace warden::gateway {
namespace {

TEST(SessionToken, IsSixtyFourHexCharactersAndFreshEachTime) {
  auto a = generateSessionToken();
  auto b = generateSessionToken();
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->size(), 64u);
  EXPECT_TRUE(hexDecode(*a).has_value());
  EXPECT_NE(*a, *b);
}

TEST(SessionToken, MatchesOnlyItsOwnHash) {
  const std::string hash = sessionTokenHash("secret");
  EXPECT_EQ(hash, sha256Hex("secret"));
  EXPECT_TRUE(sessionTokenMatches("secret", hash));
  EXPECT_FALSE(sessionTokenMatches("secreT", hash));
  EXPECT_FALSE(sessionTokenMatches("secret", ""));
  EXPECT_FALSE(sessionTokenMatches("secret", "short"));
}

TEST(ParseBearer, AcceptsTheBearerSchemeInAnyCase) {
  EXPECT_EQ(parseBearer("Bearer abc").value_or(""), "abc");
  EXPECT_EQ(parseBearer("bearer abc").value_or(""), "abc");
  EXPECT_EQ(parseBearer("BEARER abc").value_or(""), "abc");
}

TEST(ParseBearer, RefusesOtherShapes) {
  EXPECT_FALSE(parseBearer(""));
  EXPECT_FALSE(parseBearer("Bearer "));
  EXPECT_FALSE(parseBearer("Basic abc"));
  EXPECT_FALSE(parseBearer("Bearer a b"));
  EXPECT_FALSE(parseBearer("Bearerabc"));
  EXPECT_FALSE(parseBearer("Bearer " + std::string(300, 'a')));
}

TEST(LoopbackPeer, RecognisesLoopbackOnly) {
  EXPECT_TRUE(isLoopbackPeer("ipv4:127.0.0.1:5555"));
  EXPECT_TRUE(isLoopbackPeer("ipv6:[::1]:5555"));
  EXPECT_TRUE(isLoopbackPeer("ipv6:%5B::1%5D:5555"));
  EXPECT_TRUE(isLoopbackPeer("unix:/run/x.sock"));
  EXPECT_FALSE(isLoopbackPeer("ipv4:10.0.0.1:5555"));
  EXPECT_FALSE(isLoopbackPeer("ipv6:[2001:db8::1]:5555"));
  EXPECT_FALSE(isLoopbackPeer("ipv4:1.127.0.0:5555"));
}

TEST(StoreUrl, SqliteUrlsAndPlainPathsAreSqlite) {
  auto a = parseStoreUrl("sqlite:///var/lib/x.db");
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->postgres);
  EXPECT_EQ(a->sqlite_path, "/var/lib/x.db");
  auto b = parseStoreUrl("/tmp/y.db");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->sqlite_path, "/tmp/y.db");
}

TEST(StoreUrl, PostgresUrlsArePostgres) {
  auto a = parseStoreUrl("postgresql://u@localhost/db");
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->postgres);
  EXPECT_EQ(a->postgres_url, "postgresql://u@localhost/db");
}

TEST(StoreUrl, RefusesEmptyAndUnknownSchemes) {
  EXPECT_EQ(parseStoreUrl("").error().code(), Code::kInvalidArgument);
  EXPECT_EQ(parseStoreUrl("sqlite://").error().code(), Code::kInvalidArgument);
  auto m = parseStoreUrl("mysql://x/y");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message().find("unsupported"), std::string::npos);
}

}  // namespace
}  // namespace warden::gateway
