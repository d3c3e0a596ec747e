#include "sandbox/agent_env.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace warden::sandbox {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

AgentEnvInput input(std::vector<std::string> inherited, std::vector<std::string> requested = {},
                    std::vector<std::pair<std::string, std::string>> policy = {}) {
  return {.inherited = std::move(inherited),
          .requested = std::move(requested),
          .policy = std::move(policy),
          .proxy_url = "http://10.200.7.1:3128",
          .ca_bundle = "/var/lib/warden/s/ca-bundle.pem",
          .ca_certificate = "/var/lib/warden/s/ca.pem",
          .home = "/tmp",
          .user = "warden-agent",
          .session_id = "s-1"};
}

std::vector<std::string> build(const AgentEnvInput& in) {
  auto env = buildAgentEnv(in);
  EXPECT_TRUE(env.ok()) << env.error().toString();
  return env.ok() ? *env : std::vector<std::string>{};
}

TEST(AgentEnv, SetsEveryProxyAndCaVariableOfTheSpec) {
  const auto env = build(input({}));
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

TEST(AgentEnv, TheSupervisorsSecretsDoNotReachTheAgent) {
  const auto env = build(input({"AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI", "GITHUB_TOKEN=ghp_x", "TERM=xterm",
                                "LANG=C.UTF-8", "LC_ALL=C", "TZ=UTC", "PATH=/opt/bin", "SSH_AUTH_SOCK=/run/a"}));
  for (const auto& entry : env) {
    EXPECT_THAT(entry, Not(HasSubstr("wJalrXUtnFEMI")));
    EXPECT_THAT(entry, Not(HasSubstr("ghp_x")));
    EXPECT_THAT(entry, Not(HasSubstr("SSH_AUTH_SOCK")));
  }
  for (const char* kept : {"TERM=xterm", "LANG=C.UTF-8", "LC_ALL=C", "TZ=UTC", "PATH=/opt/bin"}) {
    EXPECT_THAT(env, Contains(kept));
  }
}

TEST(AgentEnv, EnvFlagPassesANamedVariableOrSetsAValue) {
  const auto env = build(input({"GITHUB_TOKEN=ghp_x", "A=1", "A=2"}, {"GITHUB_TOKEN", "A", "B=two=2", "MISSING"}));
  EXPECT_THAT(env, Contains("GITHUB_TOKEN=ghp_x"));
  EXPECT_THAT(env, Contains("A=1"));  // the first definition, as getenv() sees it
  EXPECT_THAT(env, Contains("B=two=2"));
  for (const auto& entry : env) EXPECT_THAT(entry, Not(HasSubstr("MISSING")));
}

TEST(AgentEnv, PolicyEnvIsAddedAndBeatsTheFlag) {
  const auto env = build(input({}, {"PIP_INDEX_URL=https://a"}, {{"PIP_INDEX_URL", "https://pypi.example.org/simple"}}));
  EXPECT_THAT(env, Contains("PIP_INDEX_URL=https://pypi.example.org/simple"));
}

TEST(AgentEnv, NeitherFlagNorPolicyCanSetLoaderOrProxyVariables) {
  for (const char* name : {"LD_PRELOAD=/x.so", "https_proxy=http://evil:1", "HOME=/root", "BASH_ENV=/x"}) {
    const auto env = buildAgentEnv(input({}, {name}));
    ASSERT_FALSE(env.ok()) << name;
    EXPECT_EQ(env.error().code(), Code::kInvalidArgument);
    EXPECT_THAT(env.error().message(), HasSubstr("--env"));
  }
  const auto policy = buildAgentEnv(input({}, {}, {{"LD_AUDIT", "/x.so"}}));
  ASSERT_FALSE(policy.ok());
  EXPECT_THAT(policy.error().message(), HasSubstr("process.env: LD_AUDIT"));
  EXPECT_FALSE(buildAgentEnv(input({}, {"1BAD=x"})).ok());
}

TEST(AgentEnv, InheritedProxyAndLoaderVariablesCannotOverrideTheSandbox) {
  const auto env = build(input({"https_proxy=http://evil:1", "Http_Proxy=http://evil:2", "LD_PRELOAD=/x.so",
                                "BASH_ENV=/x", "HOME=/root", "SSL_CERT_DIR=/etc/ssl/mine", "TERM=xterm"}));
  EXPECT_THAT(env, Contains("https_proxy=http://10.200.7.1:3128"));
  EXPECT_THAT(env, Not(Contains("Http_Proxy=http://evil:2")));
  EXPECT_THAT(env, Not(Contains("LD_PRELOAD=/x.so")));
  EXPECT_THAT(env, Not(Contains("SSL_CERT_DIR=/etc/ssl/mine")));
  EXPECT_THAT(env, Contains("HOME=/tmp"));
}

TEST(AgentEnv, GivesAStandardPathWhenNoneWasInherited) {
  EXPECT_THAT(build(input({})), Contains("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
  EXPECT_THAT(build(input({"PATH=/opt/bin"})), Contains("PATH=/opt/bin"));
}

}  // namespace
}  // namespace warden::sandbox
