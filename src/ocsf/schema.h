#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/result.h"
#include "ocsf/semver.h"
#include "ocsf/type_regex.h"

namespace warden::ocsf {

// The JSON shape a dictionary type's primitive asks for: string_t, integer_t, long_t, float_t,
// boolean_t, json_t; object_t for attributes that hold an OCSF object. kUnknown: the type names a
// parent that is no primitive (a schema bug, reported per value as the official validator does).
enum class BaseType { kString, kInteger, kLong, kFloat, kBoolean, kJson, kObject, kUnknown };

enum class Requirement { kOptional, kRecommended, kRequired };

// One bit per profile named anywhere in the schema (Schema::profileList() order).
using ProfileMask = std::uint64_t;

// `@deprecated: {message, since}` of a class, object, attribute or enum value. The message has its
// HTML tags removed ("Use the <code>ancestry</code> attribute." -> "Use the ancestry attribute.").
struct Deprecation {
  std::string message;
  std::string since;
};

// A numeric range from a dictionary type (port_t: 0..65535).
struct NumericRange {
  double low = 0;
  double high = 0;
  std::optional<std::pair<std::int64_t, std::int64_t>> integral;  // when both bounds are integers
};

// One type of `dictionary.types.attributes`. A subtype names its primitive in `super`, whose own
// range/max_len/regex/values the official validator falls back on when the subtype has none.
struct TypeSpec {
  std::string name;            // "ip_t"
  std::string primitive_name;  // "string_t" (itself for a primitive)
  BaseType base = BaseType::kUnknown;
  const TypeSpec* super = nullptr;  // the parent type; nullptr for a primitive
  std::optional<NumericRange> range;
  std::optional<std::size_t> max_len;  // in characters
  std::optional<TypeRegex> regex;
  std::string regex_error;  // set when `regex` was given but does not compile
  std::shared_ptr<const nlohmann::json>
      values;  // an array of the only values allowed (boolean_t); may be null
};

// One value of an attribute's enum. `key` is the schema's text ("1", "GET"): the official validator
// looks a value up by its text, so an integer 1 and a string "1" both find key "1".
struct EnumEntry {
  std::string key;
  std::string caption;
  std::optional<Deprecation> deprecated;
};

struct EnumSpec {
  std::vector<EnumEntry> entries;                          // sorted by key
  std::vector<std::pair<std::int64_t, std::size_t>> ints;  // integer keys -> entries index, sorted

  const EnumEntry* findText(std::string_view key) const;
  const EnumEntry* findInt(std::int64_t key) const;
};

struct ObjectSpec;

// One attribute of a class or an object, resolved against the dictionary.
struct AttributeSpec {
  std::string name;
  std::string type;  // as declared: "port_t", "object_t", "string_t", ...
  BaseType base = BaseType::kUnknown;
  bool is_array = false;
  Requirement requirement = Requirement::kOptional;
  ProfileMask profiles = 0;  // 0: always in scope; else in scope only with one of these declared
  std::vector<std::string> profile_names;
  const ObjectSpec* object = nullptr;         // object_t: the object's spec (never null for kObject)
  const TypeSpec* dictionary_type = nullptr;  // a dictionary type; nullptr for object_t or a missing type
  std::optional<EnumSpec> enumeration;
  std::string sibling;  // the caption's attribute of an enum ("activity_name"); may be empty
  std::optional<Deprecation> deprecated;
};

// A class- or object-level constraint, as the official validator applies it: each key is looked up
// literally in the object that declares the constraint (so a dotted key such as "device.hostname"
// never matches: docs/validation.md).
struct Constraint {
  enum class Kind { kAtLeastOne, kJustOne, kUnknown };
  Kind kind = Kind::kAtLeastOne;
  std::string kind_name;  // "at_least_one", ... as the schema spells it
  std::vector<std::string> keys;
  std::string text;  // "dst_endpoint, src_endpoint" for messages
};

// Transparent hashing so attribute lookups take a string_view without allocating.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
using AttributeMap = std::unordered_map<std::string, AttributeSpec, StringHash, std::equal_to<>>;

// The attribute table of one class or object, with its required attributes precomputed.
struct ObjectSpec {
  std::string name;        // "device", or the class name ("network_activity")
  bool is_class = false;   // for messages: "class x" vs "object x"
  bool free_form = false;  // no attributes defined (the generic `object`): any members accepted
  AttributeMap attributes;
  std::vector<const AttributeSpec*> required;     // requirement == kRequired, name order
  std::vector<const AttributeSpec*> recommended;  // requirement == kRecommended, name order
  std::vector<Constraint> constraints;
  std::optional<Deprecation> deprecated;

  const AttributeSpec* find(std::string_view attribute) const {
    const auto it = attributes.find(attribute);
    return it == attributes.end() ? nullptr : &it->second;
  }
};

// An event class: its identity and its attribute table.
struct ClassSpec {
  std::int64_t uid = 0;
  std::int64_t category_uid = 0;
  std::string caption;       // "Network Activity"
  ProfileMask profiles = 0;  // the profiles the class lists
  std::vector<std::string> profile_names;
  std::optional<Deprecation> deprecated;
  ObjectSpec body;  // body.name is the class name ("network_activity")
};

// The compiled OCSF schema (schema-1.7.0.json), indexed once for validation: classes by uid,
// objects by name, dictionary types with their constraints (regexes compiled here, once), enums
// with captions and deprecations, profiles as bits. Immutable after load(); copies share the same
// index (cheap, thread-safe to read from any number of threads). Pointers returned by the
// accessors stay valid as long as any copy of the Schema is alive.
class Schema {
 public:
  // Reads and indexes a compiled schema file. NotFound when the file is missing, DataLoss
  // when it is not JSON, InvalidArgument when it is JSON but not a compiled OCSF schema.
  static Result<Schema> load(const std::filesystem::path& path);
  // Same, from the document's text (tests, embedded copies).
  static Result<Schema> parse(std::string_view text);

  const std::string& version() const;  // "1.7.0"
  // The version parsed as ocsf-server parses it; nullopt when the schema's own is malformed.
  const std::optional<SemVer>& parsedVersion() const;
  const ClassSpec* findClass(std::int64_t uid) const;         // nullptr when unknown
  const ObjectSpec* findObject(std::string_view name) const;  // nullptr when unknown
  const TypeSpec* findType(std::string_view name) const;      // nullptr when unknown
  // The bit of a profile name ("host", "linux/linux_users"), or nullopt when no attribute or class
  // names it and the `profiles` section does not describe it.
  std::optional<ProfileMask> profileBit(std::string_view name) const;
  // True when the `profiles` section describes `name` (the official validator's profile_unknown).
  bool describesProfile(std::string_view name) const;
  // Names of the profiles in `mask`, comma-separated, schema order.
  std::string profileList(ProfileMask mask) const;
  std::size_t classCount() const;
  std::size_t objectCount() const;

  struct Index;  // implementation detail, defined in schema.cc

 private:
  explicit Schema(std::shared_ptr<const Index> index) : index_(std::move(index)) {}

  std::shared_ptr<const Index> index_;  // never null
};

}  // namespace warden::ocsf
