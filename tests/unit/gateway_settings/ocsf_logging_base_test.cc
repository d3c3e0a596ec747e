#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "gateway/settings/gateway_config.h"

namespace warden::gateway {
namespace {

using ::testing::HasSubstr;

TEST(OcsfLoggingEnvTest, AcceptsTheDocumentedSpellingsInAnyCase) {
  for (const char* yes : {"1", "true", "TRUE", "True", "yes", "YES", "Yes"}) {
    const auto r = parseOcsfLoggingEnv(yes);
    ASSERT_TRUE(r.ok()) << yes;
    EXPECT_EQ(*r, std::optional<bool>(true)) << yes;
  }
  for (const char* no : {"0", "false", "FALSE", "no", "No"}) {
    const auto r = parseOcsfLoggingEnv(no);
    ASSERT_TRUE(r.ok()) << no;
    EXPECT_EQ(*r, std::optional<bool>(false)) << no;
  }
}

TEST(OcsfLoggingEnvTest, UnsetIsNoValue) {
  const auto r = parseOcsfLoggingEnv(nullptr);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, std::nullopt);
}

TEST(OcsfLoggingEnvTest, AnythingElseIsAnErrorNamingTheVariable) {
  for (const char* bad : {"", "on", "off", "2", " true", "y", "enable"}) {
    const auto r = parseOcsfLoggingEnv(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
    EXPECT_THAT(r.error().message(), HasSubstr("WARDEN_OCSF_LOGGING"));
    EXPECT_THAT(r.error().message(), HasSubstr("1, 0, true, false, yes or no"));
  }
  EXPECT_EQ(parseOcsfLoggingEnv("maybe").error().message(),
            "WARDEN_OCSF_LOGGING='maybe' is not understood; use 1, 0, true, false, yes or no (any case), or unset it");
}

// Every combination of (config file: unset/true/false) x (flag: absent/given) x
// (env: unset/true/false), against the precedence of product.md: file, flag, env, false.
TEST(BaseOcsfEnabledTest, PrecedenceIsConfigFileThenFlagThenEnvThenFalse) {
  const std::optional<bool> files[] = {std::nullopt, true, false};
  const char* envs[] = {nullptr, "1", "0"};
  int checked = 0;
  for (const auto file : files) {
    for (const bool flag : {false, true}) {
      for (const char* env : envs) {
        bool expected = false;
        if (file) expected = *file;
        else if (flag) expected = true;
        else if (env != nullptr) expected = std::string(env) == "1";
        const auto r = baseOcsfEnabled(file, flag, env);
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(*r, expected) << "file=" << (file ? (*file ? "true" : "false") : "unset") << " flag=" << flag
                                << " env=" << (env ? env : "unset");
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 18);
}

TEST(BaseOcsfEnabledTest, ConfigFileFalseBeatsFlagAndEnv) {
  EXPECT_FALSE(*baseOcsfEnabled(false, true, "yes"));
}

TEST(BaseOcsfEnabledTest, NothingGivenIsFalse) {
  EXPECT_FALSE(*baseOcsfEnabled(std::nullopt, false, nullptr));
}

TEST(BaseOcsfEnabledTest, InvalidEnvIsAnErrorEvenWhenAHigherSourceDecides) {
  for (const std::optional<bool> file : {std::optional<bool>(), std::optional<bool>(true)}) {
    for (const bool flag : {false, true}) {
      const auto r = baseOcsfEnabled(file, flag, "perhaps");
      ASSERT_FALSE(r.ok());
      EXPECT_THAT(r.error().message(), HasSubstr("WARDEN_OCSF_LOGGING='perhaps'"));
    }
  }
}

}  // namespace
}  // namespace warden::gateway
