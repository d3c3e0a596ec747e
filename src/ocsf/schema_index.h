#pragma once

// Internal to src/ocsf/schema*.cc: the index behind Schema and the helpers its builders share.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/result.h"
#include "ocsf/schema.h"

namespace warden::ocsf {

struct Schema::Index {
  std::string version;
  std::optional<SemVer> parsed_version;
  std::unordered_map<std::string, TypeSpec, StringHash, std::equal_to<>> types;
  std::unordered_map<std::string, ObjectSpec, StringHash, std::equal_to<>> objects;
  std::unordered_map<std::int64_t, ClassSpec> classes;
  std::vector<std::string> profile_names;  // bit i is profile_names[i]
  std::unordered_map<std::string, ProfileMask, StringHash, std::equal_to<>> profile_bits;
  std::unordered_set<std::string, StringHash, std::equal_to<>> described_profiles;
};

namespace schema_detail {

// The member `key` of a JSON object, or nullptr (also when `object` is not an object).
const nlohmann::json* member(const nlohmann::json& object, std::string_view key);

// `@deprecated` of a definition, with the message's HTML tags removed; nullopt when not deprecated.
std::optional<Deprecation> deprecationOf(const nlohmann::json& def);

// Fills index.types from dictionary.types.attributes: each type's primitive (one level, as the
// official validator resolves it), range, max_len, compiled regex and allowed values.
Result<void> buildTypes(const nlohmann::json& doc, Schema::Index& index);

}  // namespace schema_detail
}  // namespace warden::ocsf
