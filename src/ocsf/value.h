#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace warden::ocsf {

// A small JSON value for the free-form parts of an event (`unmapped`, `evidences`).
// Objects keep their keys sorted by byte order, so the canonical writer walks them as they are.
// Value semantics; not thread-safe for concurrent mutation.
class Value {
 public:
  using Array = std::vector<Value>;
  using Object = std::vector<std::pair<std::string, Value>>;  // Sorted by key, unique keys.

  Value() = default;  // null: never written (canonical JSON has no nulls)
  Value(bool b) : v_(b) {}  // NOLINT: implicit by design
  Value(int v) : v_(static_cast<int64_t>(v)) {}  // NOLINT
  Value(int64_t v) : v_(v) {}  // NOLINT
  Value(uint64_t v) : v_(v) {}  // NOLINT
  Value(double v) : v_(v) {}  // NOLINT
  Value(std::string s) : v_(std::move(s)) {}  // NOLINT
  Value(std::string_view s) : v_(std::string(s)) {}  // NOLINT
  Value(const char* s) : v_(std::string(s)) {}  // NOLINT
  Value(Array a) : v_(std::move(a)) {}  // NOLINT
  Value(Object o);  // NOLINT: sorts and de-duplicates (last wins)

  static Value object() { return Value(Object{}); }
  static Value array() { return Value(Array{}); }

  bool isNull() const { return v_.index() == 0; }
  bool isBool() const { return v_.index() == 1; }
  bool isInt() const { return v_.index() == 2; }
  bool isUint() const { return v_.index() == 3; }
  bool isDouble() const { return v_.index() == 4; }
  bool isString() const { return v_.index() == 5; }
  bool isArray() const { return v_.index() == 6; }
  bool isObject() const { return v_.index() == 7; }

  bool asBool() const { return std::get<1>(v_); }
  // Integer value of an int or uint (uint above INT64_MAX saturates).
  int64_t asInt() const;
  uint64_t asUint() const { return std::get<3>(v_); }
  double asDouble() const { return std::get<4>(v_); }
  const std::string& asString() const { return std::get<5>(v_); }
  const Array& asArray() const { return std::get<6>(v_); }
  Array& asArray() { return std::get<6>(v_); }
  const Object& asObject() const { return std::get<7>(v_); }

  // Object access. set() turns a null into an object; on any other non-object it is a bug.
  Value& set(std::string_view key, Value value);
  const Value* find(std::string_view key) const;
  Value* find(std::string_view key);
  // Path lookup through nested objects: find({"limit", "type"}).
  const Value* findPath(std::initializer_list<std::string_view> path) const;
  // The string at `key`, or "" if absent or not a string.
  std::string_view stringAt(std::string_view key) const;
  bool erase(std::string_view key);

  // Array append. push() turns a null into an array.
  Value& push(Value value);

  // True when the canonical writer would omit it: null, or an empty array/object/… recursively.
  bool isEmptyForJson() const;

  friend bool operator==(const Value& a, const Value& b) { return a.v_ == b.v_; }

 private:
  std::variant<std::monostate, bool, int64_t, uint64_t, double, std::string, Array, Object> v_;
};

}  // namespace warden::ocsf
