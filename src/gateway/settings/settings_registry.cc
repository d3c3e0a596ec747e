#include "gateway/settings/settings_registry.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <charconv>
#include <utility>

#include "common/encoding.h"

namespace warden::gateway {
namespace {

// Values echoed in messages are cut to this many bytes, control bytes escaped.
constexpr size_t kMaxEcho = 80;

std::string echo(std::string_view s) {
  std::string out;
  const size_t n = std::min(s.size(), kMaxEcho);
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f || c == '\'' || c == '\\') {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += s[i];
    }
  }
  if (s.size() > kMaxEcho) out += "...";
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view typeName(SettingSpec::Type type) {
  switch (type) {
    case SettingSpec::Type::kBool:
      return "a bool";
    case SettingSpec::Type::kInt:
      return "an integer";
    case SettingSpec::Type::kDuration:
      return "a duration";
    case SettingSpec::Type::kEnum:
      return "one of the allowed values";
    case SettingSpec::Type::kString:
      return "a valid string";
  }
  return "a valid value";
}

std::string formatDuration(int64_t ms) {
  if (ms == 0) return "0s";
  if (ms < 0) return fmt::format("{}ms", ms);
  static constexpr std::pair<int64_t, std::string_view> kUnits[] = {
      {86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}};
  for (const auto& [mult, unit] : kUnits) {
    if (ms % mult == 0) return fmt::format("{}{}", ms / mult, unit);
  }
  return fmt::format("{}ms", ms);
}

bool hasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c < 0x20 || c == 0x7f;
  });
}

SettingsRegistry makeBuiltin() {
  std::vector<SettingSpec> specs;
  specs.push_back(SettingSpec{
      .key = std::string(kOcsfJsonEnabled),
      .description = "Write the session's OCSF JSONL file (SandboxConfig.logging.ocsf_enabled). "
                     "Overrides the gateway's ocsf_logging / --ocsf-logging / WARDEN_OCSF_LOGGING "
                     "while set; a global value wins over a session value.",
      .type = SettingSpec::Type::kBool,
      .global = true,
      .per_session = true,
      .default_value = SettingValue{false},
  });
  return SettingsRegistry(std::move(specs));
}

}  // namespace

std::string SettingValue::text() const {
  if (const auto* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  return std::get<std::string>(v);
}

const SettingsRegistry& SettingsRegistry::builtin() {
  static const auto* registry = new SettingsRegistry(makeBuiltin());
  return *registry;
}

SettingsRegistry::SettingsRegistry(std::vector<SettingSpec> specs) : specs_(std::move(specs)) {
  for (size_t i = 0; i < specs_.size(); ++i) {
    for (size_t j = i + 1; j < specs_.size(); ++j) assert(specs_[i].key != specs_[j].key);
  }
}

const SettingSpec* SettingsRegistry::find(std::string_view key) const {
  for (const auto& spec : specs_) {
    if (spec.key == key) return &spec;
  }
  return nullptr;
}

Result<const SettingSpec*> SettingsRegistry::lookup(std::string_view key) const {
  if (const auto* spec = find(key)) return spec;
  std::string known;
  for (const auto& spec : specs_) {
    if (!known.empty()) known += ", ";
    known += spec.key;
  }
  return invalidArgument(fmt::format("unknown setting '{}'; known settings: {}", echo(key), known));
}

std::string SettingsRegistry::allowedText(const SettingSpec& spec) {
  switch (spec.type) {
    case SettingSpec::Type::kBool:
      return "true, false";
    case SettingSpec::Type::kInt:
      return fmt::format("integers from {} to {}", spec.min, spec.max);
    case SettingSpec::Type::kDuration:
      return fmt::format("durations (250ms, 30s, 5m, 2h, 7d) from {} to {}", formatDuration(spec.min),
                         formatDuration(spec.max));
    case SettingSpec::Type::kEnum: {
      std::string out;
      for (const auto& a : spec.allowed) {
        if (!out.empty()) out += ", ";
        out += a;
      }
      return out;
    }
    case SettingSpec::Type::kString:
      return fmt::format("UTF-8 text without control characters, at most {} bytes", kMaxSettingStringBytes);
  }
  return "";
}

std::string SettingsRegistry::render(const SettingSpec& spec, const SettingValue& value) {
  if (spec.type == SettingSpec::Type::kDuration) {
    if (const auto* ms = std::get_if<int64_t>(&value.v)) return formatDuration(*ms);
  }
  return value.text();
}

Result<SettingValue> SettingsRegistry::parse(std::string_view key, std::string_view text) const {
  auto spec_or = lookup(key);
  if (!spec_or.ok()) return spec_or.error();
  const SettingSpec& spec = **spec_or;
  auto reject = [&](std::string_view why) -> Error {
    return invalidArgument(
        fmt::format("{}: '{}' {}; allowed: {}", spec.key, echo(text), why, allowedText(spec)));
  };
  const std::string not_a = fmt::format("is not {}", typeName(spec.type));
  switch (spec.type) {
    case SettingSpec::Type::kBool: {
      const std::string l = lower(text);
      if (l == "true") return SettingValue{true};
      if (l == "false") return SettingValue{false};
      return reject(not_a);
    }
    case SettingSpec::Type::kInt: {
      int64_t v = 0;
      const char* end = text.data() + text.size();
      const auto [p, ec] = std::from_chars(text.data(), end, v);
      if (text.empty() || p != end || ec == std::errc::invalid_argument) return reject(not_a);
      if (ec == std::errc::result_out_of_range || v < spec.min || v > spec.max) return reject("is out of range");
      return SettingValue{v};
    }
    case SettingSpec::Type::kDuration: {
      const auto ms = parseDurationMillis(text);
      if (!ms) return reject(not_a);
      if (*ms < spec.min || *ms > spec.max) return reject("is out of range");
      return SettingValue{*ms};
    }
    case SettingSpec::Type::kEnum:
      if (std::find(spec.allowed.begin(), spec.allowed.end(), text) == spec.allowed.end())
        return reject("is not one of the allowed values");
      return SettingValue{std::string(text)};
    case SettingSpec::Type::kString:
      if (text.size() > kMaxSettingStringBytes) return reject("is too long");
      if (!isValidUtf8(text) || hasControl(text)) return reject(not_a);
      return SettingValue{std::string(text)};
  }
  return reject(not_a);
}

Result<void> SettingsRegistry::validate(std::string_view key, const SettingValue& value) const {
  auto spec_or = lookup(key);
  if (!spec_or.ok()) return spec_or.error();
  const SettingSpec& spec = **spec_or;
  const bool want_bool = spec.type == SettingSpec::Type::kBool;
  const bool want_int = spec.type == SettingSpec::Type::kInt || spec.type == SettingSpec::Type::kDuration;
  const bool ok_type = want_bool ? std::holds_alternative<bool>(value.v)
                       : want_int ? std::holds_alternative<int64_t>(value.v)
                                  : std::holds_alternative<std::string>(value.v);
  if (!ok_type) {
    return invalidArgument(fmt::format("{}: '{}' is not {}; allowed: {}", spec.key, echo(value.text()),
                                       typeName(spec.type), allowedText(spec)));
  }
  // The type is right: re-check the range and the allowed set by parsing the canonical text.
  auto parsed = parse(key, render(spec, value));
  if (!parsed.ok()) return parsed.error();
  if (!(*parsed == value)) {
    return invalidArgument(fmt::format("{}: '{}' is not {}; allowed: {}", spec.key, echo(value.text()),
                                       typeName(spec.type), allowedText(spec)));
  }
  return okResult();
}

}  // namespace warden::gateway
