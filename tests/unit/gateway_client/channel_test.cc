#include "gateway/client/channel.h"

#include <gtest/gtest.h>

namespace warden::gateway {
namespace {

TEST(GatewayUrlTest, AcceptsHostPortAndHttpAndHttps) {
  auto plain = parseGatewayUrl("127.0.0.1:7443");
  ASSERT_TRUE(plain.ok()) << plain.error().toString();
  EXPECT_EQ(plain->target, "127.0.0.1:7443");
  EXPECT_FALSE(plain->tls);
  auto http = parseGatewayUrl("http://gateway.example:80/");
  ASSERT_TRUE(http.ok());
  EXPECT_EQ(http->target, "gateway.example:80");
  EXPECT_FALSE(http->tls);
  auto https = parseGatewayUrl("https://[::1]:7443");
  ASSERT_TRUE(https.ok());
  EXPECT_EQ(https->target, "[::1]:7443");
  EXPECT_TRUE(https->tls);
}

TEST(GatewayUrlTest, RefusesWhatIsNotAGatewayAddressWithTheReason) {
  const std::pair<const char*, const char*> cases[] = {
      {"ftp://host:21", "scheme must be http or https"},
      {"http://host", "a port is required"},
      {"host:0", "port must be 1..65535"},
      {"host:70000", "port must be 1..65535"},
      {"host:12ab", "port must be 1..65535"},
      {"http://user:pw@host:1", "credentials do not belong in the URL"},
      {"http://host:1/path", "no path, query or fragment"},
      {"http://host:1?token=x", "no path, query or fragment"},
      {"bad_host!:1", "bad host"},
      {"", "a port is required"},
  };
  for (const auto& [url, why] : cases) {
    auto r = parseGatewayUrl(url);
    ASSERT_FALSE(r.ok()) << url;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument) << url;
    EXPECT_NE(r.error().message().find(why), std::string::npos) << url << ": " << r.error().message();
  }
}

TEST(GatewayUrlTest, AnUnreadableCaFileIsAnErrorNotAPlaintextFallback) {
  auto ch = makeGatewayChannel("https://127.0.0.1:7443", {.ca_file = "/no/such/ca.pem"});
  ASSERT_FALSE(ch.ok());
  EXPECT_NE(ch.error().message().find("gateway CA file"), std::string::npos) << ch.error().message();
}

}  // namespace
}  // namespace warden::gateway
