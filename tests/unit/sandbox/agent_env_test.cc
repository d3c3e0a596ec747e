#include "sandbox/agent_env.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace warden::sandbox {
namespace {

using ::testing::Contains;
using ::testing::Not;

AgentEnvInput input(std::vector<std::string> inherited) {
  return {.inherited = std::move(inherited),
          .proxy_url = "http://10.200.7.1:3128",
          .ca_bundle = "/var/lib/warden/s/ca-bundle.pem",
          .ca_certificate = "/var/lib/warden/s/ca.pem",
          .home = "/tmp",
          .user = "warden-agent",
          .session_id = "s-1"};
}

TEST(AgentEnv, SetsEveryProxyAndCaVariableOfTheSpec) {
  const auto env = buildAgentEnv(input({}));
  for (const char* name : {"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"}) {
    EXPECT_THAT(env, Contains(std::string(name) + "=http://10.200.7.1:3128"));
  }
  EXPECT_THAT(env, Contains("NO_PROXY=localhost,127.0.0.1,::1"));
  EXPECT_THAT(env, Contains("NODE_USE_ENV_PROXY=1"));
  for (const char* name : {"SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "GIT_SSL_CAINFO"}) {
    EXPECT_THAT(env, Contains(std::string(name) + "=/var/lib/warden/s/ca-bundle.pem"));
  }
  EXPECT_THAT(env, Contains("NODE_EXTRA_CA_CERTS=/var/lib/warden/s/ca.pem"));
  EXPECT_THAT(env, Contains("WARDEN_SESSION_ID=s-1"));
  EXPECT_THAT(env, Contains("HOME=/tmp"));
}

TEST(AgentEnv, InheritedProxyAndLoaderVariablesCannotOverrideTheSandbox) {
  const auto env = buildAgentEnv(
      input({"https_proxy=http://evil:1", "Http_Proxy=http://evil:2", "LD_PRELOAD=/x.so", "BASH_ENV=/x",
             "HOME=/root", "SSL_CERT_DIR=/etc/ssl/mine", "TERM=xterm"}));
  EXPECT_THAT(env, Contains("https_proxy=http://10.200.7.1:3128"));
  EXPECT_THAT(env, Not(Contains("Http_Proxy=http://evil:2")));
  EXPECT_THAT(env, Not(Contains("LD_PRELOAD=/x.so")));
  EXPECT_THAT(env, Not(Contains("BASH_ENV=/x")));
  EXPECT_THAT(env, Not(Contains("SSL_CERT_DIR=/etc/ssl/mine")));
  EXPECT_THAT(env, Contains("HOME=/tmp"));
  EXPECT_THAT(env, Contains("TERM=xterm"));
}

TEST(AgentEnv, KeepsTheFirstDefinitionOfADuplicateAndSkipsNonVariables) {
  const auto env = buildAgentEnv(input({"A=1", "A=2", "=x", "novalue"}));
  EXPECT_THAT(env, Contains("A=1"));
  EXPECT_THAT(env, Not(Contains("A=2")));
  EXPECT_THAT(env, Not(Contains("novalue")));
}

TEST(AgentEnv, GivesAStandardPathWhenNoneWasInherited) {
  const auto env = buildAgentEnv(input({}));
  EXPECT_THAT(env, Contains("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
  EXPECT_THAT(buildAgentEnv(input({"PATH=/opt/bin"})), Contains("PATH=/opt/bin"));
}

}  // namespace
}  // namespace warden::sandbox
