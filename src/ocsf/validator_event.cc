// Checks that concern the event as a whole: its profiles, metadata.version, type_uid and
// observables (docs/validation.md).

#include <fmt/format.h>

#include "ocsf/validator_internal.h"

namespace warden::ocsf::validator_detail {

using nlohmann::json;

ProfileMask checkProfiles(Reporter& r, const Schema& schema, const ClassSpec& cls, const json& event) {
  const json* metadata = member(event, "metadata");
  const json* profiles = metadata ? member(*metadata, "profiles") : nullptr;
  if (!profiles || !profiles->is_array()) return 0;  // a wrong type is reported by the walk
  ProfileMask declared = 0;
  for (std::size_t i = 0; i < profiles->size(); ++i) {
    const json& p = (*profiles)[i];
    if (!p.is_string()) continue;  // the walk reports the type
    const auto& name = p.get_ref<const std::string&>();
    const auto path = [i] { return fmt::format("$.metadata.profiles[{}]", i); };
    const auto bit = schema.profileBit(name);
    if (bit) declared |= *bit;  // in scope even when the class does not list it, as officially
    if (!schema.describesProfile(name)) {
      r.reportAt(checks::kProfileUnknown, path(),
                 fmt::format("unknown profile {}: OCSF {} defines no such profile", jsonQuoted(name),
                             schema.version()));
    } else if (!bit || (*bit & cls.profiles) == 0) {
      r.reportAt(checks::kProfileNotInClass, path(),
                 fmt::format("profile '{}' is not one class {} lists ({})", name, cls.body.name,
                             fmt::join(cls.profile_names, ", ")));
    }
  }
  return declared;
}

void checkVersion(Reporter& r, const Schema& schema, const json& event) {
  const json* metadata = member(event, "metadata");
  const json* version = metadata ? member(*metadata, "version") : nullptr;
  if (!version || !version->is_string()) return;  // missing or wrong type: the walk reports it
  const std::string& text = version->get_ref<const std::string&>();
  constexpr const char* path = "$.metadata.version";
  const auto event_version = parseSemVer(text);
  const auto& schema_version = schema.parsedVersion();
  if (!event_version || !schema_version) {
    if (text == schema.version()) return;  // a schema whose own version is no semver: equal text passes
    r.reportAt(checks::kVersionMalformed, path,
               fmt::format("version {} is not MAJOR.MINOR.PATCH[-PRERELEASE]; the schema is {}",
                           jsonQuoted(text), schema.version()));
    return;
  }
  const int order = compareSemVer(*event_version, *schema_version);
  if (order == 0) return;
  if (order > 0) {
    r.reportAt(
        checks::kVersionIncompatibleLater, path,
        fmt::format("version {} is later than the schema's {}: events of a later version can fail or pass "
                    "wrongly",
                    jsonQuoted(text), schema.version()));
  } else if (event_version->isInitialDevelopment()) {
    r.reportAt(checks::kVersionIncompatibleInitialDevelopment, path,
               fmt::format("version {} is an initial development version, incompatible with the schema's {}",
                           jsonQuoted(text), schema.version()));
  } else if (event_version->isPrerelease()) {
    r.reportAt(checks::kVersionIncompatiblePrerelease, path,
               fmt::format("version {} is a prerelease, incompatible with the schema's {}", jsonQuoted(text),
                           schema.version()));
  } else {
    r.reportAt(checks::kVersionEarlier, path,
               fmt::format("version {} is earlier than the schema's {}", jsonQuoted(text), schema.version()));
  }
}

void checkTypeUid(Reporter& r, const json& event) {
  const json* class_uid = member(event, "class_uid");
  const json* activity_id = member(event, "activity_id");
  const json* type_uid = member(event, "type_uid");
  if (!class_uid || !activity_id || !type_uid || !class_uid->is_number_integer() ||
      !activity_id->is_number_integer() || !type_uid->is_number_integer()) {
    return;  // missing or the wrong type: reported by the walk
  }
  // Exact whatever the integers' size (JSON integers here fit in 64 bits, signed or not).
  __extension__ using Wide = __int128;
  const auto wide = [](const json& v) {
    return v.is_number_unsigned() ? static_cast<Wide>(v.get<std::uint64_t>())
                                  : static_cast<Wide>(v.get<std::int64_t>());
  };
  const Wide expected = wide(*class_uid) * 100 + wide(*activity_id);
  if (wide(*type_uid) == expected) return;
  const auto text = [](const json& v) { return valueText(v); };
  std::string expected_text;
  if (expected >= INT64_MIN && expected <= INT64_MAX) {
    expected_text = std::to_string(static_cast<std::int64_t>(expected));
  } else {
    expected_text = "a number beyond 64 bits";
  }
  r.reportAt(checks::kTypeUidIncorrect, "$.type_uid",
             fmt::format("type_uid {} is not class_uid {} * 100 + activity_id {} = {}", text(*type_uid),
                         text(*class_uid), text(*activity_id), expected_text));
}

namespace {

// Splits an observable name on the dots outside brackets: "resources[0].name" -> "resources[0]",
// "name" (the official `\.(?![^\[]*\])`).
std::vector<std::string_view> splitObservableName(std::string_view name) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (name[i] != '.') continue;
    // Is a ']' ahead before any '['? Then this dot is inside brackets.
    const auto close = name.find(']', i + 1);
    const auto open = name.find('[', i + 1);
    if (close != std::string_view::npos && (open == std::string_view::npos || close < open)) continue;
    parts.push_back(name.substr(start, i - start));
    start = i + 1;
  }
  parts.push_back(name.substr(start));
  return parts;
}

// "key[..]" -> ("key", true) when the segment is `^([^[]+)\[.*\]$`; else (segment, false).
std::pair<std::string_view, bool> arrayNotation(std::string_view segment) {
  const auto open = segment.find('[');
  if (open == std::string_view::npos || open == 0 || segment.back() != ']') return {segment, false};
  return {segment.substr(0, open), true};
}

bool refersToAttribute(const ObjectSpec& root, const std::vector<std::string_view>& parts,
                       ProfileMask declared) {
  const ObjectSpec* spec = &root;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto [key, is_array_access] = arrayNotation(parts[i]);
    const AttributeSpec* a = spec->find(key);
    if (!a || (a->profiles != 0 && (a->profiles & declared) == 0)) return false;
    if (i + 1 == parts.size()) return true;
    if (is_array_access && !a->is_array) return false;
    if (a->base != BaseType::kObject) return false;
    spec = a->object;
  }
  return false;
}

}  // namespace

void checkObservables(Reporter& r, const ClassSpec& cls, const json& event, ProfileMask declared) {
  const json* observables = member(event, "observables");
  if (!observables || !observables->is_array()) return;
  for (std::size_t i = 0; i < observables->size(); ++i) {
    const json* name = member((*observables)[i], "name");
    if (!name || !name->is_string()) continue;  // the walk reports a missing or mistyped name
    const auto& text = name->get_ref<const std::string&>();
    if (refersToAttribute(cls.body, splitObservableName(text), declared)) continue;
    r.reportAt(checks::kObservableNameInvalidReference, fmt::format("$.observables[{}].name", i),
               fmt::format("observable name {} does not refer to an attribute of class {}", jsonQuoted(text),
                           cls.body.name));
  }
}

}  // namespace warden::ocsf::validator_detail
