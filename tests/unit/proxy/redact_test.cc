#include "proxy/redact.h"

#include <gtest/gtest.h>

namespace warden::proxy {
namespace {

TEST(RedactTest, RedactsCredentialHeadersKeepingAuthScheme) {
  EXPECT_EQ(redactHeaderValue("Authorization", "Bearer sk-123"), "Bearer [redacted]");
  EXPECT_EQ(redactHeaderValue("proxy-authorization", "Basic Zm9vOmJhcg=="), "Basic [redacted]");
  EXPECT_EQ(redactHeaderValue("Authorization", "sk-123"), "[redacted]");
  EXPECT_EQ(redactHeaderValue("Cookie", "session=abc"), "[redacted]");
  EXPECT_EQ(redactHeaderValue("SET-COOKIE", "id=1; HttpOnly"), "[redacted]");
  EXPECT_EQ(redactHeaderValue("X-Api-Key", "k"), "[redacted]");
  EXPECT_EQ(redactHeaderValue("Accept", "*/*"), "*/*");
}

TEST(RedactTest, RedactsHeaderListInPlaceOfValues) {
  const HeaderList in{{"Host", "a.example"}, {"Authorization", "Bearer t"}, {"Cookie", "c=1"}};
  const HeaderList out = redactHeaders(in);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0], in[0]);
  EXPECT_EQ(out[1].value, "Bearer [redacted]");
  EXPECT_EQ(out[2].value, "[redacted]");
  EXPECT_TRUE(isSensitiveHeader("cookie"));
  EXPECT_FALSE(isSensitiveHeader("Content-Type"));
}

}  // namespace
}  // namespace warden::proxy
