#include "gateway/settings/sandbox_config.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace warden::gateway {
namespace {

const SettingScope kA = SettingScope::forSession("sess-a");
const SettingScope kB = SettingScope::forSession("sess-b");

RuntimeSettings withBase(bool base) {
  return RuntimeSettings(SettingsRegistry::builtin(), {{std::string(kOcsfJsonEnabled), SettingValue{base}}});
}

TEST(SandboxConfigStateTest, ServesRevisionOneAndTheBaseValueAtStart) {
  const auto settings = withBase(true);
  const SandboxConfigState state(settings);
  EXPECT_EQ(*state.configFor("sess-a"), (SandboxConfig{.config_revision = 1, .ocsf_enabled = true}));
}

TEST(SandboxConfigStateTest, GlobalChangeRaisesTheRevisionServedToEverySession) {
  auto settings = withBase(false);
  const SandboxConfigState state(settings);
  const auto a0 = *state.configFor("sess-a");
  const auto b0 = *state.configFor("sess-b");
  ASSERT_TRUE(settings.set(SettingScope::global(), kOcsfJsonEnabled, SettingValue{true}).ok());
  const auto a1 = *state.configFor("sess-a");
  const auto b1 = *state.configFor("sess-b");
  EXPECT_GT(a1.config_revision, a0.config_revision);
  EXPECT_GT(b1.config_revision, b0.config_revision);
  EXPECT_TRUE(a1.ocsf_enabled);
  EXPECT_TRUE(b1.ocsf_enabled);
}

TEST(SandboxConfigStateTest, SessionChangeRaisesThatSessionsRevisionAndValue) {
  auto settings = withBase(false);
  const SandboxConfigState state(settings);
  const auto a0 = *state.configFor("sess-a");
  ASSERT_TRUE(settings.set(kA, kOcsfJsonEnabled, SettingValue{true}).ok());
  const auto a1 = *state.configFor("sess-a");
  EXPECT_GT(a1.config_revision, a0.config_revision);
  EXPECT_TRUE(a1.ocsf_enabled);
  EXPECT_FALSE(state.configFor("sess-b")->ocsf_enabled);
}

TEST(SandboxConfigStateTest, NoOpSetServesTheSameRevisionWhichIsNotNews) {
  auto settings = withBase(false);
  const SandboxConfigState state(settings);
  ASSERT_TRUE(settings.set(kA, kOcsfJsonEnabled, SettingValue{true}).ok());
  const auto first = *state.configFor("sess-a");
  ASSERT_TRUE(settings.set(kA, kOcsfJsonEnabled, SettingValue{true}).ok());
  const auto second = *state.configFor("sess-a");
  EXPECT_EQ(first, second);
  EXPECT_FALSE(SandboxConfigState::isNewer(second, first.config_revision));
  EXPECT_TRUE(SandboxConfigState::isNewer(first, 0));
}

TEST(AppliedSandboxConfigTest, AppliesOnlyHigherRevisions) {
  AppliedSandboxConfig applied;
  EXPECT_EQ(applied.revision(), 0u);
  EXPECT_TRUE(applied.offer({.config_revision = 3, .ocsf_enabled = true}));
  EXPECT_FALSE(applied.offer({.config_revision = 3, .ocsf_enabled = false}));  // a repeat
  EXPECT_FALSE(applied.offer({.config_revision = 2, .ocsf_enabled = false}));  // stale
  EXPECT_TRUE(applied.current().ocsf_enabled);
  EXPECT_TRUE(applied.offer({.config_revision = 4, .ocsf_enabled = false}));
  EXPECT_FALSE(applied.current().ocsf_enabled);
  EXPECT_EQ(applied.revision(), 4u);
}

// A session polling while settings change converges on the last value, never applies an older
// revision, and never sees a revision paired with a value that was not in force at it.
TEST(SandboxConfigStateTest, PollerConvergesOnLastValueWhileWritersToggle) {
  auto settings = withBase(false);
  const SandboxConfigState state(settings);
  std::atomic<bool> done{false};
  std::atomic<int> regressions{0};
  std::thread writer([&] {
    for (int i = 0; i < 3000; ++i) {
      const auto r = settings.set(i % 2 ? kA : SettingScope::global(), kOcsfJsonEnabled, SettingValue{i % 3 == 0});
      (void)r;
    }
    EXPECT_TRUE(settings.erase(SettingScope::global(), kOcsfJsonEnabled).ok());
    EXPECT_TRUE(settings.set(kA, kOcsfJsonEnabled, SettingValue{true}).ok());
    done = true;
  });
  AppliedSandboxConfig applied;
  uint64_t last = 0;
  while (!done.load()) {
    const auto served = state.configFor("sess-a");
    if (!served.ok()) {
      ++regressions;
      continue;
    }
    if (served->config_revision < last) ++regressions;
    last = served->config_revision;
    applied.offer(*served);
  }
  writer.join();
  applied.offer(*state.configFor("sess-a"));
  EXPECT_EQ(regressions.load(), 0);
  EXPECT_EQ(applied.revision(), settings.revision());
  EXPECT_TRUE(applied.current().ocsf_enabled);
}

}  // namespace
}  // namespace warden::gateway
