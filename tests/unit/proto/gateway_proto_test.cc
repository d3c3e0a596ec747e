// The wire contract of product.md "Gateway" that older and newer peers rely on.

#include <gtest/gtest.h>

#include "warden/v1/gateway.pb.h"

namespace warden {
namespace {

TEST(GatewayProto, SandboxConfigIsOptionalField4SoAnOlderGatewaysAnswerHasNone) {
  v1::GetSandboxPolicyResponse old_style;
  old_style.set_policy_hash("abc");
  const std::string bytes = old_style.SerializeAsString();
  v1::GetSandboxPolicyResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));
  EXPECT_FALSE(parsed.has_sandbox_config()) << "absent means: change nothing";
  EXPECT_EQ(v1::GetSandboxPolicyResponse::descriptor()->FindFieldByName("sandbox_config")->number(), 4);
}

TEST(GatewayProto, AnExplicitConfigWithOcsfDisabledIsStillPresent) {
  v1::GetSandboxPolicyResponse response;
  response.mutable_sandbox_config()->set_config_revision(1);
  response.mutable_sandbox_config()->mutable_logging()->set_ocsf_enabled(false);
  v1::GetSandboxPolicyResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(response.SerializeAsString()));
  ASSERT_TRUE(parsed.has_sandbox_config());
  EXPECT_EQ(parsed.sandbox_config().config_revision(), 1u);
  EXPECT_FALSE(parsed.sandbox_config().logging().ocsf_enabled());
}

TEST(GatewayProto, FieldNumbersOfSandboxConfigMatchTheProductSpec) {
  const auto* config = v1::SandboxConfig::descriptor();
  EXPECT_EQ(config->FindFieldByName("config_revision")->number(), 1);
  EXPECT_EQ(config->FindFieldByName("logging")->number(), 2);
  EXPECT_EQ(v1::LoggingConfig::descriptor()->FindFieldByName("ocsf_enabled")->number(), 1);
}

}  // namespace
}  // namespace warden
