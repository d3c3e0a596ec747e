#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/result.h"

namespace warden::ocsf {

// The JSON shape an OCSF type resolves to, after following the dictionary's `types` chain
// (port_t -> integer_t, timestamp_t -> long_t, uuid_t -> string_t, ...).
enum class BaseType { kString, kInteger, kLong, kFloat, kBoolean, kJson, kObject };

enum class Requirement { kOptional, kRecommended, kRequired };

// One bit per profile in the schema's `profiles` section (Schema::profileNames() order).
using ProfileMask = std::uint64_t;

struct ObjectSpec;

// One attribute of a class or an object, resolved against the dictionary.
struct AttributeSpec {
  std::string name;
  std::string type;                   // as declared: "port_t", "object_t", "string_t", ...
  BaseType base = BaseType::kString;  // what the JSON value must be
  bool is_array = false;
  Requirement requirement = Requirement::kOptional;
  ProfileMask profiles = 0;  // 0: always in scope; else in scope only with one of these
  std::vector<std::string> profile_names;
  const ObjectSpec* object = nullptr;  // object_t: the object's spec (never null for kObject)
  std::vector<std::int64_t> int_enum;  // sorted; non-empty when an integer enum applies
  std::optional<std::pair<std::int64_t, std::int64_t>> range;  // e.g. port_t 0..65535
  std::optional<std::size_t> max_len;  // string length limit from the type (ip_t, mac_t, ...)
};

// A class- or object-level constraint. Paths may be dotted ("device.hostname").
struct Constraint {
  enum class Kind { kAtLeastOne, kJustOne };
  Kind kind = Kind::kAtLeastOne;
  std::vector<std::vector<std::string>> paths;  // each split on '.'
  std::string text;                             // "a, b, c" for messages
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
  bool free_form = false;  // the generic `object` type: any members accepted
  AttributeMap attributes;
  std::vector<const AttributeSpec*> required;  // requirement == kRequired, name order
  std::vector<Constraint> constraints;

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
  ProfileMask profiles = 0;  // the profiles an event of this class may declare
  std::vector<std::string> profile_names;
  ObjectSpec body;  // body.name is the class name ("network_activity")
};

// The compiled OCSF schema (schema-1.7.0.json), indexed once for validation: classes by uid,
// objects by name, attribute types resolved to base types, enums as sorted integer sets,
// profiles as bits. Immutable after load(); copies share the same index (cheap, thread-safe
// to read from any number of threads). Pointers returned by the accessors stay valid as long
// as any copy of the Schema is alive.
class Schema {
 public:
  // Reads and indexes a compiled schema file. NotFound when the file is missing, DataLoss
  // when it is not JSON, InvalidArgument when it is JSON but not a compiled OCSF schema.
  static Result<Schema> load(const std::filesystem::path& path);
  // Same, from the document's text (tests, embedded copies).
  static Result<Schema> parse(std::string_view text);

  const std::string& version() const;                         // "1.7.0"
  const ClassSpec* findClass(std::int64_t uid) const;         // nullptr when unknown
  const ObjectSpec* findObject(std::string_view name) const;  // nullptr when unknown
  // The bit of a profile name ("host", "linux/linux_users"), or nullopt when unknown.
  std::optional<ProfileMask> profileBit(std::string_view name) const;
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
