#include "proxy/dns_tunnel.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace warden::proxy {
namespace {

TEST(DnsTunnelTest, TheParentIsTheLastTwoLabels) {
  EXPECT_EQ(dnsParentDomain("c2VjcmV0LWRhdGE.exfil.Evil.Example"), "evil.example");
  EXPECT_EQ(dnsParentDomain("example.com."), "example.com");
  EXPECT_EQ(dnsParentDomain("localhost"), "localhost");
}

TEST(DnsTunnelTest, EncodedLabelsAreDataAndNamesAreNot) {
  // Data: mixed case, base32, base64url, hex.
  EXPECT_TRUE(dataLikeLabel("c2VjcmV0LWRhdGEtYW5kLW1vcmU", 20));
  EXPECT_TRUE(dataLikeLabel("xroxb2xdx7ufg73zeymer7snlzsfk", 20));
  EXPECT_TRUE(dataLikeLabel("n--JRkHz8_kA7Zdl50DWy87lbiiQFyKS", 20));
  EXPECT_TRUE(dataLikeLabel("d41d8cd98f00b204e9800998ecf8427e", 20));
  // Names: words joined by hyphens, short labels.
  EXPECT_FALSE(dataLikeLabel("this-is-a-long-legit-subdomain-name", 20));
  EXPECT_FALSE(dataLikeLabel("my-bucket-name-production-logs", 20));
  EXPECT_FALSE(dataLikeLabel("kubernetes-dashboard-metrics-scraper", 20));
  EXPECT_FALSE(dataLikeLabel("storage-googleapis-commondatastorage", 20));
  EXPECT_FALSE(dataLikeLabel("c2VjcmV0LWRhdGE", 20));  // short: 15 bytes
  EXPECT_FALSE(dataLikeLabel("githubusercontent", 20));
}

TEST(DnsTunnelTest, ADataLabelIsReportedOncePerParentAndWindow) {
  DnsTunnelDetector detector;
  const auto sign = detector.observe("c2VjcmV0LWRhdGEtYW5kLW1vcmU.exfil.evil.example", 1000);
  ASSERT_TRUE(sign);
  EXPECT_EQ(sign->parent, "evil.example");
  EXPECT_EQ(sign->kind, "data-label");
  EXPECT_THAT(sign->detail, ::testing::HasSubstr("27-byte label"));
  EXPECT_FALSE(detector.observe("bW9yZS1zZWNyZXQtZGF0YS1oZXJl.exfil.evil.example", 2000));
  // A new window: reported again.
  EXPECT_TRUE(detector.observe("bW9yZS1zZWNyZXQtZGF0YS1oZXJl.exfil.evil.example", 61'000));
  // Another parent is its own.
  EXPECT_TRUE(detector.observe("c2VjcmV0LWRhdGEtYW5kLW1vcmU.other.example", 2000));
}

TEST(DnsTunnelTest, ALongRunOfLabelsIsData) {
  DnsTunnelDetector detector;
  std::string name;
  for (int i = 0; i < 9; ++i) name += "abcdefghijk.";
  const auto sign = detector.observe(name + "t.evil.example", 0);
  ASSERT_TRUE(sign);
  EXPECT_EQ(sign->kind, "long-name");
}

TEST(DnsTunnelTest, ManyDistinctNamesUnderOneParentAreATunnel) {
  DnsTunnelDetector detector(DnsTunnelOptions{.unique_names = 50, .window_ms = 60'000});
  for (int i = 0; i < 49; ++i) {
    ASSERT_FALSE(detector.observe(fmt::format("a{}.t.evil.example", i), i)) << i;
    ASSERT_FALSE(detector.observe(fmt::format("A{}.t.evil.example", i), i)) << "case is not a new name";
  }
  const auto sign = detector.observe("a49.t.evil.example", 100);
  ASSERT_TRUE(sign);
  EXPECT_EQ(sign->kind, "many-names");
  EXPECT_EQ(sign->detail, "50 distinct names under evil.example within 60 s");
  EXPECT_FALSE(detector.observe("a50.t.evil.example", 200));
  // The same few names asked again and again are no tunnel.
  DnsTunnelDetector quiet;
  for (int i = 0; i < 500; ++i) ASSERT_FALSE(quiet.observe(fmt::format("api{}.github.com", i % 5), i));
}

TEST(DnsTunnelTest, TrackedParentsAreBounded) {
  DnsTunnelDetector detector(DnsTunnelOptions{.unique_names = 3, .max_parents = 8});
  for (int i = 0; i < 1000; ++i) (void)detector.observe(fmt::format("x.p{}.example{}", i, i), i);
  // Still works after evictions.
  EXPECT_FALSE(detector.observe("a.t.evil.example", 2000));
  EXPECT_FALSE(detector.observe("b.t.evil.example", 2001));
  EXPECT_TRUE(detector.observe("c.t.evil.example", 2002));
}

}  // namespace
}  // namespace warden::proxy
