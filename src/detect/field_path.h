#pragma once

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace warden::detect {

// A dotted OCSF field path ("process.parent_process.cmd_line"), split once at compile time, and
// its lookup in a parsed event. Immutable; thread-safe.
//
// Lookup semantics (detect.md): objects are walked by key; an array met anywhere on the way
// (or at the end) fans out, and the visitor sees every element that the rest of the path
// reaches — "a path into an array matches if any element matches". JSON null is never visited.
class FieldPath {
 public:
  FieldPath() = default;
  explicit FieldPath(std::string_view dotted);

  const std::string& text() const { return text_; }
  const std::vector<std::string>& segments() const { return segments_; }

  // Calls visit(element) for every value the path reaches, until visit returns true; returns
  // whether one did. Never throws; elements of the wrong shape simply lead nowhere.
  template <typename Visit>
  bool any(simdjson::dom::element root, Visit&& visit) const {
    return walk(root, 0, visit);
  }

 private:
  template <typename Visit>
  bool walk(simdjson::dom::element e, size_t i, Visit& visit) const {
    // Error-code API only: nothing here throws, whatever the document holds.
    if (simdjson::dom::array items; e.get_array().get(items) == simdjson::SUCCESS) {
      for (simdjson::dom::element item : items) {
        if (walk(item, i, visit)) return true;
      }
      return false;
    }
    if (i == segments_.size()) {
      if (e.is_null()) return false;
      return visit(e);
    }
    simdjson::dom::object object;
    if (e.get_object().get(object) != simdjson::SUCCESS) return false;
    simdjson::dom::element child;
    if (object.at_key(segments_[i]).get(child) != simdjson::SUCCESS) return false;
    return walk(child, i + 1, visit);
  }

  std::string text_;
  std::vector<std::string> segments_;
};

// The text a value stands for in a title or a first-seen key: strings as they are, numbers in
// decimal, booleans as true/false, objects and arrays as "-".
std::string scalarText(simdjson::dom::element e);

}  // namespace warden::detect
