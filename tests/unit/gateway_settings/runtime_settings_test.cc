#include "gateway/settings/runtime_settings.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace warden::gateway {
namespace {

using ::testing::HasSubstr;

const SettingScope kGlobal = SettingScope::global();
const SettingScope kA = SettingScope::forSession("sess-a");
const SettingScope kB = SettingScope::forSession("sess-b");
constexpr std::string_view kKey = kOcsfJsonEnabled;

bool ocsfFor(const RuntimeSettings& s, std::string_view session) {
  return std::get<bool>(s.effective(session, kKey)->value.v);
}

RuntimeSettings withBase(bool base) {
  return RuntimeSettings(SettingsRegistry::builtin(), {{std::string(kKey), SettingValue{base}}});
}

TEST(RuntimeSettingsTest, NothingSetGivesBaseValue) {
  const auto s = withBase(true);
  const auto e = s.effective("sess-a", kKey);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->value, SettingValue{true});
  EXPECT_EQ(e->source, SettingSource::kBase);
}

TEST(RuntimeSettingsTest, NoBaseGivesRegistryDefault) {
  const RuntimeSettings s(SettingsRegistry::builtin(), {});
  EXPECT_EQ(s.effective("sess-a", kKey)->source, SettingSource::kDefault);
  EXPECT_FALSE(ocsfFor(s, "sess-a"));
}

TEST(RuntimeSettingsTest, SessionValueOverridesBaseForThatSessionOnly) {
  auto s = withBase(false);
  ASSERT_TRUE(s.set(kA, kKey, SettingValue{true}).ok());
  EXPECT_TRUE(ocsfFor(s, "sess-a"));
  EXPECT_EQ(s.effective("sess-a", kKey)->source, SettingSource::kSession);
  EXPECT_FALSE(ocsfFor(s, "sess-b"));
  EXPECT_FALSE(ocsfFor(s, ""));
}

TEST(RuntimeSettingsTest, GlobalValueBeatsSessionValue) {
  auto s = withBase(false);
  ASSERT_TRUE(s.set(kA, kKey, SettingValue{true}).ok());
  ASSERT_TRUE(s.set(kGlobal, kKey, SettingValue{false}).ok());
  EXPECT_FALSE(ocsfFor(s, "sess-a"));
  EXPECT_EQ(s.effective("sess-a", kKey)->source, SettingSource::kGlobal);
  // Order of setting does not matter: a later session value still loses.
  ASSERT_TRUE(s.set(kB, kKey, SettingValue{true}).ok());
  EXPECT_FALSE(ocsfFor(s, "sess-b"));
}

TEST(RuntimeSettingsTest, RuntimeGlobalOverridesBaseForEverySession) {
  auto s = withBase(true);
  ASSERT_TRUE(s.set(kGlobal, kKey, SettingValue{false}).ok());
  EXPECT_FALSE(ocsfFor(s, "sess-a"));
  EXPECT_FALSE(ocsfFor(s, "sess-b"));
  EXPECT_FALSE(ocsfFor(s, ""));
}

TEST(RuntimeSettingsTest, DeleteFallsBackToSessionThenBase) {
  auto s = withBase(false);
  ASSERT_TRUE(s.set(kA, kKey, SettingValue{true}).ok());
  ASSERT_TRUE(s.set(kGlobal, kKey, SettingValue{false}).ok());
  EXPECT_FALSE(ocsfFor(s, "sess-a"));
  EXPECT_TRUE(*s.erase(kGlobal, kKey));
  EXPECT_TRUE(ocsfFor(s, "sess-a"));  // the session value is back in force
  EXPECT_TRUE(*s.erase(kA, kKey));
  EXPECT_FALSE(ocsfFor(s, "sess-a"));  // the base value
  EXPECT_EQ(s.effective("sess-a", kKey)->source, SettingSource::kBase);
}

TEST(RuntimeSettingsTest, GetReturnsOnlyTheValueAtThatScope) {
  auto s = withBase(false);
  ASSERT_TRUE(s.set(kA, kKey, SettingValue{true}).ok());
  EXPECT_EQ(*s.get(kA, kKey), std::optional<SettingValue>(SettingValue{true}));
  EXPECT_EQ(*s.get(kGlobal, kKey), std::nullopt);
  EXPECT_EQ(*s.get(kB, kKey), std::nullopt);
}

TEST(RuntimeSettingsTest, RevisionStartsAtOne) {
  EXPECT_EQ(withBase(false).revision(), 1u);
}

TEST(RuntimeSettingsTest, EveryChangeBumpsRevisionByOne) {
  auto s = withBase(false);
  EXPECT_TRUE(*s.set(kGlobal, kKey, SettingValue{true}));
  EXPECT_EQ(s.revision(), 2u);
  EXPECT_TRUE(*s.set(kGlobal, kKey, SettingValue{false}));
  EXPECT_EQ(s.revision(), 3u);
  EXPECT_TRUE(*s.set(kA, kKey, SettingValue{true}));  // shadowed by the global value: still a change
  EXPECT_EQ(s.revision(), 4u);
  EXPECT_TRUE(*s.erase(kA, kKey));
  EXPECT_EQ(s.revision(), 5u);
}

TEST(RuntimeSettingsTest, SettingTheSameValueAgainIsANoOp) {
  auto s = withBase(false);
  ASSERT_TRUE(*s.set(kGlobal, kKey, SettingValue{true}));
  const auto again = s.set(kGlobal, kKey, SettingValue{true});
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  EXPECT_EQ(s.revision(), 2u);
}

TEST(RuntimeSettingsTest, DeletingAnUnsetValueIsANoOp) {
  auto s = withBase(false);
  const auto erased = s.erase(kA, kKey);
  ASSERT_TRUE(erased.ok());
  EXPECT_FALSE(*erased);
  EXPECT_EQ(s.revision(), 1u);
}

TEST(RuntimeSettingsTest, SetTextRejectsWrongTypeWithAllowedValuesAndChangesNothing) {
  auto s = withBase(false);
  const auto result = s.setText(kGlobal, kKey, "yes please");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(result.error().message(), "ocsf_json_enabled: 'yes please' is not a bool; allowed: true, false");
  EXPECT_EQ(s.revision(), 1u);
  EXPECT_TRUE(s.list().empty());
  EXPECT_TRUE(*s.setText(kGlobal, kKey, "true"));
  EXPECT_TRUE(ocsfFor(s, "sess-a"));
}

TEST(RuntimeSettingsTest, SetRejectsWrongVariantAndUnknownKey) {
  auto s = withBase(false);
  const auto wrong = s.set(kGlobal, kKey, SettingValue{std::string("true")});
  ASSERT_FALSE(wrong.ok());
  EXPECT_THAT(wrong.error().message(), HasSubstr("allowed: true, false"));
  const auto unknown = s.set(kGlobal, "no_such_key", SettingValue{true});
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.error().message(), HasSubstr("unknown setting 'no_such_key'"));
  EXPECT_FALSE(s.erase(kGlobal, "no_such_key").ok());
  EXPECT_FALSE(s.get(kGlobal, "no_such_key").ok());
  EXPECT_FALSE(s.effective("x", "no_such_key").ok());
  EXPECT_EQ(s.revision(), 1u);
}

TEST(RuntimeSettingsTest, ScopeRestrictionsOfTheSpecAreEnforced) {
  const SettingsRegistry registry({
      {.key = "only_global", .type = SettingSpec::Type::kBool, .global = true, .per_session = false,
       .default_value = {false}},
      {.key = "only_session", .type = SettingSpec::Type::kBool, .global = false, .per_session = true,
       .default_value = {false}},
  });
  RuntimeSettings s(registry, {});
  const auto a = s.set(kA, "only_global", SettingValue{true});
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(a.error().message(), HasSubstr("can only be set globally"));
  const auto b = s.set(kGlobal, "only_session", SettingValue{true});
  ASSERT_FALSE(b.ok());
  EXPECT_THAT(b.error().message(), HasSubstr("can only be set per session"));
  EXPECT_TRUE(s.set(kGlobal, "only_global", SettingValue{true}).ok());
  EXPECT_TRUE(s.set(kA, "only_session", SettingValue{true}).ok());
}

TEST(RuntimeSettingsTest, RejectsOverlongSessionId) {
  auto s = withBase(false);
  const auto r = s.set(SettingScope::forSession(std::string(kMaxSessionIdBytes + 1, 's')), kKey, SettingValue{true});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
}

TEST(RuntimeSettingsTest, PersistHookSeesEachChangeWithItsNewRevision) {
  std::vector<SettingChange> seen;
  RuntimeSettings s(SettingsRegistry::builtin(), {}, [&](const SettingChange& c) -> Result<void> {
    seen.push_back(c);
    return okResult();
  });
  ASSERT_TRUE(s.set(kA, kKey, SettingValue{true}).ok());
  ASSERT_TRUE(s.set(kA, kKey, SettingValue{true}).ok());  // no-op: not persisted
  ASSERT_TRUE(s.erase(kA, kKey).ok());
  ASSERT_TRUE(s.erase(kA, kKey).ok());  // no-op: not persisted
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].scope, kA);
  EXPECT_EQ(seen[0].key, "ocsf_json_enabled");
  EXPECT_EQ(seen[0].value, std::optional<SettingValue>(SettingValue{true}));
  EXPECT_EQ(seen[0].revision, 2u);
  EXPECT_EQ(seen[1].value, std::nullopt);
  EXPECT_EQ(seen[1].revision, 3u);
  EXPECT_EQ(s.revision(), 3u);
}

TEST(RuntimeSettingsTest, FailedPersistAbandonsTheChange) {
  bool fail = true;
  RuntimeSettings s(SettingsRegistry::builtin(), {}, [&](const SettingChange&) -> Result<void> {
    if (fail) return unavailable("database is locked");
    return okResult();
  });
  const auto r = s.set(kGlobal, kKey, SettingValue{true});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
  EXPECT_EQ(s.revision(), 1u);
  EXPECT_FALSE(ocsfFor(s, "sess-a"));
  EXPECT_EQ(*s.get(kGlobal, kKey), std::nullopt);
  fail = false;
  ASSERT_TRUE(*s.set(kGlobal, kKey, SettingValue{true}));
  fail = true;
  EXPECT_FALSE(s.erase(kGlobal, kKey).ok());
  EXPECT_TRUE(ocsfFor(s, "sess-a"));  // still set
  EXPECT_EQ(s.revision(), 2u);
}

TEST(RuntimeSettingsTest, SetBaseBumpsOnlyWhenItChangesAndIsPersistedAsBase) {
  std::vector<SettingChange> seen;
  RuntimeSettings s(SettingsRegistry::builtin(), {{std::string(kKey), SettingValue{false}}},
                    [&](const SettingChange& c) -> Result<void> {
                      seen.push_back(c);
                      return okResult();
                    });
  EXPECT_FALSE(*s.setBase(kKey, SettingValue{false}));
  EXPECT_EQ(s.revision(), 1u);
  EXPECT_TRUE(*s.setBase(kKey, SettingValue{true}));
  EXPECT_EQ(s.revision(), 2u);
  EXPECT_TRUE(ocsfFor(s, "sess-a"));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_TRUE(seen[0].base);
  EXPECT_EQ(seen[0].revision, 2u);
}

TEST(RuntimeSettingsTest, BumpRevisionChangesNoValueAndIsPersistedAsABaseChange) {
  std::vector<SettingChange> seen;
  bool fail = false;
  RuntimeSettings s(SettingsRegistry::builtin(), {{std::string(kKey), SettingValue{true}}},
                    [&](const SettingChange& c) -> Result<void> {
                      if (fail) return unavailable("database is locked");
                      seen.push_back(c);
                      return okResult();
                    });
  const auto bumped = s.bumpRevision();
  ASSERT_TRUE(bumped.ok()) << bumped.error().message();
  EXPECT_EQ(*bumped, 2u);
  EXPECT_EQ(s.revision(), 2u);
  EXPECT_TRUE(ocsfFor(s, "sess-a"));
  EXPECT_TRUE(s.list().empty());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_TRUE(seen[0].base);
  EXPECT_TRUE(seen[0].key.empty());
  EXPECT_EQ(seen[0].value, std::nullopt);
  EXPECT_EQ(seen[0].revision, 2u);
  fail = true;
  const auto refused = s.bumpRevision();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), Code::kUnavailable);
  EXPECT_EQ(s.revision(), 2u);
}

TEST(RuntimeSettingsTest, EraseSessionDropsOnlyThatSessionsValues) {
  auto s = withBase(false);
  ASSERT_TRUE(s.set(kA, kKey, SettingValue{true}).ok());
  ASSERT_TRUE(s.set(kB, kKey, SettingValue{true}).ok());
  ASSERT_TRUE(s.set(kGlobal, kKey, SettingValue{true}).ok());
  const uint64_t before = s.revision();
  EXPECT_EQ(*s.eraseSession("sess-a"), 1u);
  EXPECT_EQ(s.revision(), before + 1);
  EXPECT_EQ(*s.get(kA, kKey), std::nullopt);
  EXPECT_TRUE(s.get(kB, kKey)->has_value());
  EXPECT_TRUE(s.get(kGlobal, kKey)->has_value());
  EXPECT_EQ(*s.eraseSession("sess-a"), 0u);
  EXPECT_EQ(s.revision(), before + 1);
  EXPECT_FALSE(s.eraseSession("").ok());
}

TEST(RuntimeSettingsTest, ListsGlobalValuesFirst) {
  auto s = withBase(false);
  ASSERT_TRUE(s.set(kB, kKey, SettingValue{true}).ok());
  ASSERT_TRUE(s.set(kGlobal, kKey, SettingValue{false}).ok());
  const auto all = s.list();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_TRUE(all[0].scope.isGlobal());
  EXPECT_EQ(all[1].scope, kB);
}

TEST(RuntimeSettingsTest, RestoreLoadsValuesAndServesAHigherRevisionThanBeforeTheRestart) {
  std::vector<SettingChange> seen;
  RuntimeSettings s(SettingsRegistry::builtin(), {}, [&](const SettingChange& c) -> Result<void> {
    seen.push_back(c);
    return okResult();
  });
  ASSERT_TRUE(s.restore({{kA, std::string(kKey), SettingValue{true}}}, 41).ok());
  EXPECT_EQ(s.revision(), 42u);
  EXPECT_TRUE(ocsfFor(s, "sess-a"));
  EXPECT_TRUE(seen.empty());
  ASSERT_TRUE(s.restore({}, 0).ok());
  EXPECT_EQ(s.revision(), 1u);
  EXPECT_FALSE(ocsfFor(s, "sess-a"));
}

TEST(RuntimeSettingsTest, RestoreRejectsInvalidStoredValuesAndKeepsState) {
  auto s = withBase(false);
  ASSERT_TRUE(s.set(kA, kKey, SettingValue{true}).ok());
  const auto r = s.restore({{kA, std::string(kKey), SettingValue{int64_t{3}}}}, 7);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message(), HasSubstr("restoring runtime settings"));
  EXPECT_EQ(s.revision(), 2u);
  EXPECT_TRUE(ocsfFor(s, "sess-a"));
  EXPECT_FALSE(s.restore({{kA, "bogus", SettingValue{true}}}, 7).ok());
}

TEST(RuntimeSettingsTest, ConcurrentWritersAndReadersSeeValidValuesAndMonotonicRevisions) {
  auto s = withBase(false);
  constexpr int kWrites = 2000;
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::atomic<uint64_t> reads{0};
  std::atomic<int> readers_ready{0};  // start gate: writers begin once both readers run
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([&, w] {
      while (readers_ready.load() < 2) std::this_thread::yield();
      const SettingScope scope = w == 0 ? kGlobal : kA;
      for (int i = 0; i < kWrites; ++i) {
        if (i % 3 == 2) {
          if (!s.erase(scope, kKey).ok()) ++bad;
        } else if (!s.set(scope, kKey, SettingValue{i % 2 == 0}).ok()) {
          ++bad;
        }
      }
    });
  }
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      uint64_t last = 0;
      ++readers_ready;
      while (!stop.load()) {
        const auto both = s.effectiveWithRevision("sess-a", kKey);
        if (!both.ok() || !std::holds_alternative<bool>(both->first.value.v)) ++bad;
        if (both.ok() && both->second < last) ++bad;  // the revision never goes back
        if (both.ok()) last = both->second;
        const uint64_t rev = s.revision();
        if (rev < last) ++bad;
        last = rev;
        ++reads;
      }
    });
  }
  for (auto& t : writers) t.join();
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(reads.load(), 0u);
  // Each writer's effective changes were counted exactly once.
  EXPECT_GT(s.revision(), 1u);
  EXPECT_LE(s.revision(), 1u + 2u * kWrites);
}

TEST(RuntimeSettingsTest, RevisionCountsEveryConcurrentChangeExactlyOnce) {
  RuntimeSettings s(SettingsRegistry::builtin(), {});
  std::atomic<uint64_t> changes{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const SettingScope scope = SettingScope::forSession("s" + std::to_string(t));
      for (int i = 0; i < 500; ++i) {
        const auto r = s.set(scope, kKey, SettingValue{i % 2 == 0});
        if (r.ok() && *r) ++changes;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(changes.load(), 2000u);
  EXPECT_EQ(s.revision(), 1u + changes.load());
}

}  // namespace
}  // namespace warden::gateway
