#include "proxy/path_canon.h"

#include <gtest/gtest.h>

#include <string>

namespace warden::proxy {
namespace {

std::string canon(std::string_view path) {
  auto r = canonicalizePath(path);
  EXPECT_TRUE(r.ok()) << path << ": " << (r.ok() ? "" : r.error().message());
  return r.ok() ? *r : std::string("<error>");
}

// The reason code at the start of the error message, or "ok".
std::string reasonOf(std::string_view path) {
  auto r = canonicalizePath(path);
  if (r.ok()) return "ok";
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  const std::string& m = r.error().message();
  return m.substr(0, m.find(':'));
}

TEST(PathCanonicalizationTest, LeavesCanonicalPathsAlone) {
  EXPECT_EQ(canon("/"), "/");
  EXPECT_EQ(canon("/repos/owner/name"), "/repos/owner/name");
  EXPECT_EQ(canon("/a/b/"), "/a/b/");
  EXPECT_EQ(canon("/v1/x:y@z;p=1,2!$&'()*+="), "/v1/x:y@z;p=1,2!$&'()*+=");
}

TEST(PathCanonicalizationTest, DecodesOnlyUnreservedEscapes) {
  EXPECT_EQ(canon("/%61%62%63"), "/abc");
  EXPECT_EQ(canon("/%7Euser/%2D%2e%5F"), "/~user/-._");
  EXPECT_EQ(canon("/a%20b"), "/a%20b");
  EXPECT_EQ(canon("/a%3ab%3F"), "/a%3Ab%3F");
  EXPECT_EQ(canon("/caf%c3%a9"), "/caf%C3%A9");
}

TEST(PathCanonicalizationTest, EncodesRawCharactersOutsidePchar) {
  EXPECT_EQ(canon("/a b"), "/a%20b");
  EXPECT_EQ(canon("/{x}|\"^`<>"), "/%7Bx%7D%7C%22%5E%60%3C%3E");
  EXPECT_EQ(canon("/a b"), canon("/a%20b"));
}

TEST(PathCanonicalizationTest, ResolvesDotSegments) {
  EXPECT_EQ(canon("/a/./b"), "/a/b");
  EXPECT_EQ(canon("/a/b/../c"), "/a/c");
  EXPECT_EQ(canon("/a/b/.."), "/a/");
  EXPECT_EQ(canon("/a/."), "/a/");
  EXPECT_EQ(canon("/a/.."), "/");
  EXPECT_EQ(canon("/."), "/");
  EXPECT_EQ(canon("/a/%2e%2E/b"), "/b");
  EXPECT_EQ(canon("/a/.%2e/b"), "/b");
  EXPECT_EQ(canon("/a/..."), "/a/...");
  EXPECT_EQ(canon("/a/..b/.c"), "/a/..b/.c");
}

TEST(PathCanonicalizationTest, CollapsesEmptySegments) {
  EXPECT_EQ(canon("//admin"), "/admin");
  EXPECT_EQ(canon("/a//b///c"), "/a/b/c");
  EXPECT_EQ(canon("/a//"), "/a/");
  EXPECT_EQ(canon("//"), "/");
}

TEST(PathCanonicalizationTest, RejectsDotDotAboveRoot) {
  EXPECT_EQ(reasonOf("/.."), "path_above_root");
  EXPECT_EQ(reasonOf("/../etc/passwd"), "path_above_root");
  EXPECT_EQ(reasonOf("/a/../../b"), "path_above_root");
  EXPECT_EQ(reasonOf("/%2e%2e/x"), "path_above_root");
}

TEST(PathCanonicalizationTest, RejectsEncodedSlashOrBackslashInSegment) {
  EXPECT_EQ(reasonOf("/a%2Fb"), "encoded_slash");
  EXPECT_EQ(reasonOf("/a%2fb"), "encoded_slash");
  EXPECT_EQ(reasonOf("/a%5Cb"), "encoded_slash");
  EXPECT_EQ(reasonOf("/a%5cb"), "encoded_slash");
  EXPECT_EQ(reasonOf("/a\\b"), "encoded_slash");
  EXPECT_EQ(reasonOf("/..%2f..%2fetc"), "encoded_slash");
}

TEST(PathCanonicalizationTest, RejectsControlBytesRawOrEncoded) {
  EXPECT_EQ(reasonOf("/a%00b"), "control_byte");
  EXPECT_EQ(reasonOf("/a%0d%0aX"), "control_byte");
  EXPECT_EQ(reasonOf("/a%1F"), "control_byte");
  EXPECT_EQ(reasonOf("/a%7f"), "control_byte");
  EXPECT_EQ(reasonOf(std::string("/a\0b", 4)), "control_byte");
  EXPECT_EQ(reasonOf("/a\tb"), "control_byte");
  EXPECT_EQ(reasonOf("/a\x7f"), "control_byte");
}

TEST(PathCanonicalizationTest, RejectsInvalidPercentEscapes) {
  EXPECT_EQ(reasonOf("/a%"), "invalid_percent_escape");
  EXPECT_EQ(reasonOf("/a%4"), "invalid_percent_escape");
  EXPECT_EQ(reasonOf("/a%zz"), "invalid_percent_escape");
  EXPECT_EQ(reasonOf("/a%4g/b"), "invalid_percent_escape");
  EXPECT_EQ(reasonOf("/a%%41"), "invalid_percent_escape");
}

TEST(PathCanonicalizationTest, RejectsRelativePathsQueriesAndRawNonAscii) {
  EXPECT_EQ(reasonOf(""), "path_not_absolute");
  EXPECT_EQ(reasonOf("a/b"), "path_not_absolute");
  EXPECT_EQ(reasonOf("/a?b"), "query_in_path");
  EXPECT_EQ(reasonOf("/a#b"), "query_in_path");
  EXPECT_EQ(reasonOf("/caf\xc3\xa9"), "non_ascii");
}

TEST(PathCanonicalizationTest, RejectsDotSegmentsWithParameters) {
  EXPECT_EQ(reasonOf("/public/..;/admin"), "dot_segment_params");
  EXPECT_EQ(reasonOf("/public/.;x/admin"), "dot_segment_params");
  EXPECT_EQ(reasonOf("/public/..%3b/admin"), "dot_segment_params");
  EXPECT_EQ(canon("/a;b/c"), "/a;b/c");
}

TEST(PathCanonicalizationTest, IsIdempotent) {
  for (std::string_view p : {"/a/./b/../c//d/", "/%61%20%7e", "/x y/{z}", "/a/..."}) {
    const std::string once = canon(p);
    EXPECT_EQ(canon(once), once) << p;
  }
}

}  // namespace
}  // namespace warden::proxy
