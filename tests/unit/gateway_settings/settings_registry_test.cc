#include "gateway/settings/settings_registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace warden::gateway {
namespace {

using ::testing::HasSubstr;

// A registry with one key of every type, built with defaults the tests override.
SettingsRegistry allTypes() {
  std::vector<SettingSpec> specs;
  specs.push_back({.key = "flag", .type = SettingSpec::Type::kBool, .default_value = {false}});
  specs.push_back(
      {.key = "count", .type = SettingSpec::Type::kInt, .min = 1, .max = 10, .default_value = {int64_t{5}}});
  specs.push_back({.key = "interval",
                   .type = SettingSpec::Type::kDuration,
                   .min = 1000,
                   .max = 86'400'000,
                   .default_value = {int64_t{5000}}});
  specs.push_back({.key = "level",
                   .type = SettingSpec::Type::kEnum,
                   .allowed = {"debug", "info", "warn"},
                   .default_value = {std::string("info")}});
  specs.push_back({.key = "label", .type = SettingSpec::Type::kString, .default_value = {std::string()}});
  return SettingsRegistry(std::move(specs));
}

TEST(SettingsRegistryTest, BuiltinHasOcsfJsonEnabledAsBoolInBothScopes) {
  const SettingSpec* spec = SettingsRegistry::builtin().find("ocsf_json_enabled");
  ASSERT_NE(spec, nullptr);
  EXPECT_EQ(spec->type, SettingSpec::Type::kBool);
  EXPECT_TRUE(spec->global);
  EXPECT_TRUE(spec->per_session);
  EXPECT_EQ(spec->default_value, SettingValue{false});
  EXPECT_FALSE(spec->description.empty());
  EXPECT_EQ(SettingsRegistry::builtin().all().front().key, "ocsf_json_enabled");
}

TEST(SettingsRegistryTest, ParsesBoolInAnyCase) {
  const auto& r = SettingsRegistry::builtin();
  EXPECT_EQ(*r.parse("ocsf_json_enabled", "true"), SettingValue{true});
  EXPECT_EQ(*r.parse("ocsf_json_enabled", "FALSE"), SettingValue{false});
  EXPECT_EQ(*r.parse("ocsf_json_enabled", "True"), SettingValue{true});
}

TEST(SettingsRegistryTest, RejectsNonBoolNamingKeyAndAllowedValues) {
  const auto result = SettingsRegistry::builtin().parse("ocsf_json_enabled", "yes please");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(result.error().message(), "ocsf_json_enabled: 'yes please' is not a bool; allowed: true, false");
}

TEST(SettingsRegistryTest, RejectsEmptyAndNumericBool) {
  EXPECT_FALSE(SettingsRegistry::builtin().parse("ocsf_json_enabled", "").ok());
  EXPECT_FALSE(SettingsRegistry::builtin().parse("ocsf_json_enabled", "1").ok());
}

TEST(SettingsRegistryTest, UnknownKeyListsKnownKeys) {
  const auto result = SettingsRegistry::builtin().parse("ocsf_jsonl", "true");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(result.error().message(), "unknown setting 'ocsf_jsonl'; known settings: ocsf_json_enabled");
  EXPECT_EQ(SettingsRegistry::builtin().find("nope"), nullptr);
}

TEST(SettingsRegistryTest, ParsesIntWithinRange) {
  const auto r = allTypes();
  EXPECT_EQ(*r.parse("count", "1"), SettingValue{int64_t{1}});
  EXPECT_EQ(*r.parse("count", "10"), SettingValue{int64_t{10}});
}

TEST(SettingsRegistryTest, RejectsIntOutOfRangeOrNotANumber) {
  const auto r = allTypes();
  const auto over = r.parse("count", "11");
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().message(), "count: '11' is out of range; allowed: integers from 1 to 10");
  const auto text = r.parse("count", "ten");
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error().message(), "count: 'ten' is not an integer; allowed: integers from 1 to 10");
  EXPECT_FALSE(r.parse("count", "5 ").ok());
  EXPECT_FALSE(r.parse("count", "").ok());
  EXPECT_FALSE(r.parse("count", "99999999999999999999999").ok());
}

TEST(SettingsRegistryTest, ParsesDurationToMillisAndRendersItBack) {
  const auto r = allTypes();
  EXPECT_EQ(*r.parse("interval", "30s"), SettingValue{int64_t{30'000}});
  EXPECT_EQ(*r.parse("interval", "1d"), SettingValue{int64_t{86'400'000}});
  EXPECT_EQ(SettingsRegistry::render(*r.find("interval"), SettingValue{int64_t{90'000}}), "90s");
  EXPECT_EQ(SettingsRegistry::render(*r.find("interval"), SettingValue{int64_t{7'200'000}}), "2h");
  EXPECT_EQ(SettingsRegistry::render(*r.find("interval"), SettingValue{int64_t{1500}}), "1500ms");
}

TEST(SettingsRegistryTest, RejectsBadDurationWithAllowedRange) {
  const auto r = allTypes();
  const auto bad = r.parse("interval", "5 minutes");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message(),
            "interval: '5 minutes' is not a duration; allowed: durations (250ms, 30s, 5m, 2h, 7d) from 1s to 1d");
  const auto small = r.parse("interval", "500ms");
  ASSERT_FALSE(small.ok());
  EXPECT_THAT(small.error().message(), HasSubstr("is out of range"));
}

TEST(SettingsRegistryTest, ParsesEnumExactlyAndListsAllowedOnError) {
  const auto r = allTypes();
  EXPECT_EQ(*r.parse("level", "warn"), SettingValue{std::string("warn")});
  const auto bad = r.parse("level", "WARN");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message(), "level: 'WARN' is not one of the allowed values; allowed: debug, info, warn");
}

TEST(SettingsRegistryTest, StringRejectsControlCharactersInvalidUtf8AndOverlongText) {
  const auto r = allTypes();
  EXPECT_EQ(*r.parse("label", "team a \xc3\xa9"), SettingValue{std::string("team a \xc3\xa9")});
  const auto ctl = r.parse("label", "a\nb");
  ASSERT_FALSE(ctl.ok());
  EXPECT_THAT(ctl.error().message(), HasSubstr("'a\\x0ab' is not a valid string"));
  EXPECT_FALSE(r.parse("label", "\xff\xfe").ok());
  const auto longer = r.parse("label", std::string(kMaxSettingStringBytes + 1, 'x'));
  ASSERT_FALSE(longer.ok());
  EXPECT_THAT(longer.error().message(), HasSubstr("is too long"));
  // The echo of a long value is cut.
  EXPECT_LT(longer.error().message().size(), 300u);
}

TEST(SettingsRegistryTest, ValidateRejectsWrongVariantAndOutOfRange) {
  const auto r = allTypes();
  EXPECT_TRUE(r.validate("count", SettingValue{int64_t{3}}).ok());
  const auto wrong = r.validate("flag", SettingValue{int64_t{1}});
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().message(), "flag: '1' is not a bool; allowed: true, false");
  EXPECT_FALSE(r.validate("count", SettingValue{int64_t{0}}).ok());
  EXPECT_FALSE(r.validate("level", SettingValue{std::string("trace")}).ok());
  EXPECT_FALSE(r.validate("interval", SettingValue{int64_t{-5}}).ok());
  EXPECT_FALSE(r.validate("label", SettingValue{true}).ok());
}

TEST(SettingsRegistryTest, TextOfEachAlternative) {
  EXPECT_EQ(SettingValue{true}.text(), "true");
  EXPECT_EQ(SettingValue{false}.text(), "false");
  EXPECT_EQ(SettingValue{int64_t{-42}}.text(), "-42");
  EXPECT_EQ(SettingValue{std::string("x y")}.text(), "x y");
}

}  // namespace
}  // namespace warden::gateway
