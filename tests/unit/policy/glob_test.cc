#include "policy/glob.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace warden::policy {
namespace {

Glob path(std::string_view pattern) {
  auto g = Glob::create(pattern, Glob::Kind::kPath);
  EXPECT_TRUE(g.ok()) << pattern;
  return g.ok() ? std::move(g).value() : Glob();
}

HostPattern host(std::string_view pattern) {
  auto h = HostPattern::create(pattern);
  EXPECT_TRUE(h.ok()) << pattern << ": " << (h.ok() ? "" : h.error().message());
  return h.ok() ? std::move(h).value() : HostPattern();
}

TEST(PolicyGlobTest, SingleStarStaysWithinOneSegment) {
  const Glob g = path("/opt/app/*");
  EXPECT_TRUE(g.matches("/opt/app/server"));
  EXPECT_TRUE(g.matches("/opt/app/"));
  EXPECT_FALSE(g.matches("/opt/app/bin/server"));
  EXPECT_FALSE(g.matches("/opt/other/server"));
  EXPECT_TRUE(path("/usr/bin/python3*").matches("/usr/bin/python3.11"));
}

TEST(PolicyGlobTest, DoubleStarCrossesSegments) {
  const Glob g = path("/opt/**/bin/tool");
  EXPECT_TRUE(g.matches("/opt/a/b/c/bin/tool"));
  EXPECT_TRUE(g.matches("/opt/a/bin/tool"));
  EXPECT_FALSE(g.matches("/opt/a/bin/tool2"));
}

TEST(PolicyGlobTest, TrailingDoubleStarAlsoMatchesTheDirectoryItself) {
  const Glob g = path("/repos/**");
  EXPECT_TRUE(g.matches("/repos"));
  EXPECT_TRUE(g.matches("/repos/"));
  EXPECT_TRUE(g.matches("/repos/a/b/c"));
  EXPECT_FALSE(g.matches("/reposx"));
  EXPECT_FALSE(g.matches("/repo"));
}

TEST(PolicyGlobTest, LiteralPatternMatchesExactlyAndCaseSensitively) {
  const Glob g = path("/usr/bin/curl");
  EXPECT_TRUE(g.isLiteral());
  EXPECT_TRUE(g.matches("/usr/bin/curl"));
  EXPECT_FALSE(g.matches("/usr/bin/Curl"));
  EXPECT_FALSE(g.matches("/usr/bin/curl2"));
}

TEST(PolicyGlobTest, QuestionMarkAndBracketsAreLiteral) {
  EXPECT_FALSE(path("/a?c").matches("/abc"));
  EXPECT_TRUE(path("/a[1]").matches("/a[1]"));
}

TEST(PolicyGlobTest, TextGlobStarCrossesSlashes) {
  auto g = Glob::create("ref=*", Glob::Kind::kText);
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(g->matches("ref=refs/heads/main"));
  EXPECT_FALSE(g->matches("other=1"));
  auto empty = Glob::create("", Glob::Kind::kText);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->matches(""));
  EXPECT_FALSE(empty->matches("a=1"));
}

TEST(PolicyGlobTest, RejectsRelativeTripleStarAndControlBytes) {
  EXPECT_FALSE(Glob::create("usr/bin/curl").ok());
  EXPECT_FALSE(Glob::create("").ok());
  EXPECT_FALSE(Glob::create("/a/***").ok());
  EXPECT_FALSE(Glob::create(std::string("/a\nb")).ok());
  EXPECT_FALSE(Glob::create(std::string(5000, '/')).ok());
}

TEST(PolicyGlobTest, PathologicalPatternMatchesInPolynomialTime) {
  std::string pattern = "/";
  for (int i = 0; i < 30; ++i) pattern += "**a";
  pattern += "b";
  const Glob g = path(pattern);
  const std::string text = "/" + std::string(4000, 'a');
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(g.matches(text));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(PolicyHostPatternTest, ExactHostMatchesCaseInsensitivelyIgnoringTrailingDot) {
  const HostPattern h = host("API.GitHub.com.");
  EXPECT_EQ(h.pattern(), "api.github.com");
  EXPECT_TRUE(h.matches("api.github.com"));
  EXPECT_TRUE(h.matches("API.GITHUB.COM"));
  EXPECT_TRUE(h.matches("api.github.com."));
  EXPECT_FALSE(h.matches("api.github.com.."));
  EXPECT_FALSE(h.matches("xapi.github.com"));
  EXPECT_FALSE(h.matches("github.com"));
}

TEST(PolicyHostPatternTest, SingleStarIsExactlyOneLabel) {
  const HostPattern h = host("*.example.com");
  EXPECT_TRUE(h.matches("a.example.com"));
  EXPECT_FALSE(h.matches("example.com"));
  EXPECT_FALSE(h.matches("a.b.example.com"));
  EXPECT_FALSE(h.matches("aexample.com"));
  EXPECT_FALSE(h.matches(".example.com"));
}

TEST(PolicyHostPatternTest, DoubleStarIsAnyDepthOfAtLeastOneLabel) {
  const HostPattern h = host("**.example.com");
  EXPECT_TRUE(h.matches("a.example.com"));
  EXPECT_TRUE(h.matches("a.b.c.example.com"));
  EXPECT_FALSE(h.matches("example.com"));
  EXPECT_FALSE(h.matches("evil-example.com"));
  const HostPattern two = host("*.*.example.com");
  EXPECT_TRUE(two.matches("a.b.example.com"));
  EXPECT_FALSE(two.matches("a.example.com"));
}

TEST(PolicyHostPatternTest, RejectsMalformedPatterns) {
  for (const char* bad : {"*", "**", "api.*.example.com", "a*.example.com", "*a.example.com",
                          "***.example.com", "ex ample.com", "a..b", "", ".", "exa$mple.com"}) {
    EXPECT_FALSE(HostPattern::create(bad).ok()) << bad;
  }
  EXPECT_FALSE(HostPattern::create(std::string(64, 'a') + ".com").ok());
}

TEST(PolicyHostPatternTest, IpLiteralMatchesItsCanonicalForms) {
  const HostPattern v4 = host("10.30.1.5");
  EXPECT_TRUE(v4.isIpLiteral());
  EXPECT_TRUE(v4.matches("10.30.1.5"));
  EXPECT_FALSE(v4.matches("10.30.1.50"));
  const HostPattern v6 = host("FD00:0::5");
  EXPECT_TRUE(v6.matches("fd00::5"));
  EXPECT_TRUE(v6.matches("[fd00:0:0::5]"));
}

TEST(PolicyNormalizeHostTest, LowercasesStripsDotAndBracketsAndRejectsGarbage) {
  EXPECT_EQ(normalizeHost("Api.Example.COM."), "api.example.com");
  EXPECT_EQ(normalizeHost("[2001:DB8::1]"), "2001:db8::1");
  EXPECT_FALSE(normalizeHost("").has_value());
  EXPECT_FALSE(normalizeHost("a b.com").has_value());
  EXPECT_FALSE(normalizeHost("a..com").has_value());
  EXPECT_FALSE(normalizeHost("[10.0.0.1]").has_value());
  EXPECT_FALSE(normalizeHost(std::string("a\0b.com", 7)).has_value());
}

}  // namespace
}  // namespace warden::policy
