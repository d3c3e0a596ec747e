#pragma once

#include <re2/re2.h>
#include <simdjson.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/result.h"
#include "detect/condition.h"
#include "detect/field_path.h"
#include "ocsf/schema.h"  // StringHash
#include "policy/glob.h"

namespace warden::detect {

class FleetState;

// A compiled condition: lists and macros inlined, values converted once (numbers, lower-cased
// strings for icontains, hash sets for `in`, RE2 programs, globs). Built by the compiler
// (compiler.h); immutable afterwards and safe to evaluate from any number of threads at once
// (RE2 and Glob are thread-safe for matching).
//
// Semantics (detect.md): a comparison is true when any value the path reaches satisfies it; a
// path that reaches nothing makes every comparison false (`!=` included: write
// `not f = x` to include events without the field). Numbers compare as numbers, strings
// byte-wise; a value of another JSON type than the literal never matches. `regex` searches
// (RE2 partial match); `glob` matches the whole string (policy::Glob: a pattern starting with
// '/' is a path glob, anything else a text glob where `*` spans '/').
struct CompiledNode {
  enum class Kind { kAnd, kOr, kNot, kCompare, kExists, kFirstSeen, kFalse, kTrue };
  Kind kind = Kind::kFalse;
  std::vector<CompiledNode> children;  // kAnd/kOr/kNot

  // kCompare / kExists
  FieldPath path;
  Op op = Op::kEq;
  std::vector<std::string> strings;  // string operands (lower-cased for icontains)
  std::vector<double> numbers;       // numeric operands
  std::vector<int64_t> ints;         // the integral ones among them, exactly
  std::vector<bool> bools;
  std::unordered_set<std::string, ocsf::StringHash, std::equal_to<>> string_set;  // `in`/`=` with many strings
  std::vector<std::shared_ptr<const re2::RE2>> regexes;
  std::vector<policy::Glob> globs;

  // kFirstSeen
  std::vector<FieldPath> paths;
  std::string space;  // "<rule>:<paths>": the key space in the fleet state
};

// Simplifies a compiled step that the engine only ever evaluates for events of `classes` (the
// class index guarantees it): nested `and`s are flattened and every top-level `class_uid = N` /
// `class_uid in (...)` conjunct that holds for all of `classes` is dropped (it would always be true
// there). Exact: the result matches the same events of those classes.
void pruneClassChecks(CompiledNode& node, uint32_t classes);

// Evaluates `node` over one parsed event. An Error is a run-time failure (the fleet state's);
// the engine then disables the rule. `fleet` is used by first_seen(), which records as it asks.
Result<bool> evaluate(const CompiledNode& node, simdjson::dom::element event, FleetState& fleet);

}  // namespace warden::detect
