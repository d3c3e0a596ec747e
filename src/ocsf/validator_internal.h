#pragma once

// Internal to src/ocsf/validator*.cc: how a walk records problems, and the text helpers that keep
// every path and message one printable ASCII line.

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ocsf/schema.h"
#include "ocsf/validator.h"

namespace warden::ocsf::validator_detail {

// ----- text (validator_text.cc) -----

bool isIdentifier(std::string_view s);
// `s` as a JSON string literal in printable ASCII (so it cannot break a line), cut to 80 bytes.
std::string jsonQuoted(std::string_view s);
// A member name for a message: 'name' when it is a plain identifier, else a JSON literal.
std::string quoteName(std::string_view s);
// Printable-ASCII copy of text that may echo input bytes, cut to `limit` bytes.
std::string sanitize(std::string_view s, std::size_t limit);
// A value for a message: JSON text in printable ASCII, cut to 80 bytes.
std::string valueText(const nlohmann::json& v);
// The official validator's name for a value's type: "string_t", "integer_t", "long_t",
// "big integer", "float_t", "boolean_t", "array", "object", "null".
std::string_view typeOf(const nlohmann::json& v);
// "; <message>" when there is one (deprecations), else "".
std::string deprecationText(const Deprecation& d);

// ----- JSON numbers -----

const nlohmann::json* member(const nlohmann::json& object, std::string_view key);
// The value of a JSON integer as int64, or nullopt when it is above INT64_MAX.
std::optional<std::int64_t> asInt64(const nlohmann::json& v);

// ----- where a problem is -----

// Keeps the path of the value being looked at; appends and truncates, never reallocates per step
// once warmed up.
class PathBuilder {
 public:
  PathBuilder() : path_("$") {}
  std::size_t pushKey(std::string_view key);
  std::size_t pushIndex(std::size_t i);
  void pop(std::size_t mark) { path_.resize(mark); }
  const std::string& str() const { return path_; }

 private:
  std::string path_;
};

// Appends problems to the caller's list. Not thread-safe; one per validation.
class Reporter {
 public:
  explicit Reporter(std::vector<Problem>& out) : out_(out) {}
  PathBuilder& path() { return path_; }
  // A problem at the current path.
  void report(const CheckCode& check, std::string message) {
    reportAt(check, path_.str(), std::move(message));
  }
  // A problem at the current path followed by `key` ($.a.b + "c" -> $.a.b.c).
  void reportBelow(const CheckCode& check, std::string_view key, std::string message);
  void reportAt(const CheckCode& check, std::string path, std::string message) {
    out_.push_back(Problem{check.code, check.severity, std::move(path), std::move(message)});
  }

 private:
  std::vector<Problem>& out_;
  PathBuilder path_;
};

// ----- the walk (validator_walk.cc) -----

// Checks an object against its spec, recursively: unknown and out-of-profile attributes, types,
// requirements, enums and their siblings, deprecations, constraints. The reporter's path is the
// object's on entry and on return.
void walkObject(Reporter& r, const ObjectSpec& spec, const nlohmann::json& object, ProfileMask declared,
                const ValidatorOptions& options, int depth);

// ----- event-level checks (validator_event.cc) -----

// metadata.profiles: profile_unknown, profile_not_in_class; returns the declared profiles' bits.
ProfileMask checkProfiles(Reporter& r, const Schema& schema, const ClassSpec& cls,
                          const nlohmann::json& event);
// metadata.version against the schema's (version_* codes).
void checkVersion(Reporter& r, const Schema& schema, const nlohmann::json& event);
// type_uid == class_uid * 100 + activity_id (type_uid_incorrect).
void checkTypeUid(Reporter& r, const nlohmann::json& event);
// observables[].name names an attribute of the class (observable_name_invalid_reference).
void checkObservables(Reporter& r, const ClassSpec& cls, const nlohmann::json& event, ProfileMask declared);

}  // namespace warden::ocsf::validator_detail
