#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/result.h"

namespace warden::gateway {

// A typed setting value. Bools are kBool; kInt and kDuration are int64_t (durations in
// milliseconds); kEnum and kString are std::string. A plain value; compares by content.
struct SettingValue {
  std::variant<bool, int64_t, std::string> v;

  // The value as a user would type it back: "true"/"false", a decimal integer, or the string.
  // (Durations print as milliseconds here; SettingsRegistry::render() prints "90d".)
  std::string text() const;
  bool operator==(const SettingValue&) const = default;
};

// One key of the registry: what it holds, where it may be set, and its default.
struct SettingSpec {
  enum class Type { kBool, kInt, kDuration, kEnum, kString };

  std::string key;
  std::string description;
  Type type = Type::kBool;
  std::vector<std::string> allowed;  // kEnum: the accepted strings, exactly as typed.
  int64_t min = 0;                   // kInt: inclusive range; kDuration: milliseconds.
  int64_t max = 0;
  bool global = true;       // may be set with --global
  bool per_session = true;  // may be set with --sandbox NAME
  SettingValue default_value;  // used when neither a runtime value nor a base value exists
};

// The longest string a kString setting accepts, in bytes.
inline constexpr size_t kMaxSettingStringBytes = 4096;

// The typed registry of runtime settings (`warden settings get|set|delete`). It only describes
// keys and turns typed text into values; the values themselves live in RuntimeSettings.
// Immutable after construction, so thread-safe; builtin() is a process-wide instance, never
// destroyed.
class SettingsRegistry {
 public:
  // The gateway's keys. First (and so far only) entry: ocsf_json_enabled (bool, both scopes,
  // default false; the gateway's base value from config/flag/env replaces the default).
  static const SettingsRegistry& builtin();

  // A registry of `specs` (tests, and future callers that compose their own). Keys are unique;
  // a duplicate is a bug (asserted).
  explicit SettingsRegistry(std::vector<SettingSpec> specs);

  // The spec of `key`, or nullptr.
  const SettingSpec* find(std::string_view key) const;
  // The spec of `key`, or InvalidArgument "unknown setting 'k'; known settings: a, b".
  Result<const SettingSpec*> lookup(std::string_view key) const;

  // Turns what a user typed into a typed value, or InvalidArgument naming the key and what is
  // allowed, e.g. "ocsf_json_enabled: 'yes please' is not a bool; allowed: true, false".
  //   kBool: true|false (any case).   kInt: a decimal integer within [min, max].
  //   kDuration: 250ms|30s|5m|2h|7d within [min, max] ms.   kEnum: one of `allowed`, exactly.
  //   kString: valid UTF-8 without control characters, at most kMaxSettingStringBytes.
  Result<SettingValue> parse(std::string_view key, std::string_view text) const;
  // Checks that an already-typed value fits `key` (variant alternative and range/allowed).
  Result<void> validate(std::string_view key, const SettingValue& value) const;

  // The value in the spec's own notation ("90d" for a duration, "true" for a bool).
  static std::string render(const SettingSpec& spec, const SettingValue& value);
  // "true, false" / "integers from 1 to 10" / "a, b, c" / ... — the text after "allowed: ".
  static std::string allowedText(const SettingSpec& spec);

  const std::vector<SettingSpec>& all() const { return specs_; }

 private:
  std::vector<SettingSpec> specs_;
};

// The key name of the JSONL switch (SandboxConfig.logging.ocsf_enabled).
inline constexpr std::string_view kOcsfJsonEnabled = "ocsf_json_enabled";

}  // namespace warden::gateway
