#include "detect/matcher.h"

#include <algorithm>
#include <string>

#include "detect/compiler.h"  // classIndex
#include "detect/fleet_state.h"

namespace warden::detect {
namespace {

char lowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool containsIgnoringCase(std::string_view hay, std::string_view lowered_needle) {
  if (lowered_needle.empty()) return true;
  const auto it = std::search(hay.begin(), hay.end(), lowered_needle.begin(), lowered_needle.end(),
                              [](char a, char b) { return lowerAscii(a) == b; });
  return it != hay.end();
}

bool startsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool endsWith(std::string_view s, std::string_view p) { return s.size() >= p.size() && s.substr(s.size() - p.size()) == p; }

// One value the path reached, read once.
struct Leaf {
  enum class Type { kString, kInt, kUint, kDouble, kBool, kOther };
  Type type = Type::kOther;
  std::string_view s;
  int64_t i = 0;
  uint64_t u = 0;
  double d = 0;
  bool b = false;
};

Leaf read(simdjson::dom::element e) {
  Leaf l;
  switch (e.type()) {
    case simdjson::dom::element_type::STRING:
      if (e.get_string().get(l.s) == simdjson::SUCCESS) l.type = Leaf::Type::kString;
      break;
    case simdjson::dom::element_type::INT64:
      if (e.get_int64().get(l.i) == simdjson::SUCCESS) l.type = Leaf::Type::kInt;
      break;
    case simdjson::dom::element_type::UINT64:
      if (e.get_uint64().get(l.u) == simdjson::SUCCESS) l.type = Leaf::Type::kUint;
      break;
    case simdjson::dom::element_type::DOUBLE:
      if (e.get_double().get(l.d) == simdjson::SUCCESS) l.type = Leaf::Type::kDouble;
      break;
    case simdjson::dom::element_type::BOOL:
      if (e.get_bool().get(l.b) == simdjson::SUCCESS) l.type = Leaf::Type::kBool;
      break;
    default: break;
  }
  return l;
}

bool isNumber(const Leaf& l) { return l.type == Leaf::Type::kInt || l.type == Leaf::Type::kUint || l.type == Leaf::Type::kDouble; }

// -1, 0, 1: the leaf against operand k (numbers only; the caller checked isNumber).
int compareNumber(const Leaf& l, const CompiledNode& n, size_t k) {
  const double operand = n.numbers[k];
  if (l.type == Leaf::Type::kInt && k < n.ints.size() && static_cast<double>(n.ints[k]) == operand) {
    return l.i < n.ints[k] ? -1 : (l.i > n.ints[k] ? 1 : 0);
  }
  if (l.type == Leaf::Type::kUint && k < n.ints.size() && static_cast<double>(n.ints[k]) == operand) {
    if (n.ints[k] < 0) return 1;
    const auto v = static_cast<uint64_t>(n.ints[k]);
    return l.u < v ? -1 : (l.u > v ? 1 : 0);
  }
  const double v = l.type == Leaf::Type::kInt ? static_cast<double>(l.i)
                   : l.type == Leaf::Type::kUint ? static_cast<double>(l.u)
                                                 : l.d;
  return v < operand ? -1 : (v > operand ? 1 : 0);
}

bool equalsAny(const Leaf& l, const CompiledNode& n) {
  if (l.type == Leaf::Type::kString) {
    if (!n.string_set.empty()) return n.string_set.find(l.s) != n.string_set.end();
    return std::find(n.strings.begin(), n.strings.end(), l.s) != n.strings.end();
  }
  if (isNumber(l)) {
    for (size_t k = 0; k < n.numbers.size(); ++k) {
      if (compareNumber(l, n, k) == 0) return true;
    }
    return false;
  }
  if (l.type == Leaf::Type::kBool) return std::find(n.bools.begin(), n.bools.end(), l.b) != n.bools.end();
  return false;
}

bool compareLeaf(const Leaf& l, const CompiledNode& n) {
  switch (n.op) {
    case Op::kEq:
    case Op::kIn: return equalsAny(l, n);
    case Op::kNe: return l.type != Leaf::Type::kOther && !equalsAny(l, n);
    case Op::kLt:
    case Op::kLe:
    case Op::kGt:
    case Op::kGe: {
      if (!isNumber(l) || n.numbers.empty()) return false;
      const int c = compareNumber(l, n, 0);
      if (n.op == Op::kLt) return c < 0;
      if (n.op == Op::kLe) return c <= 0;
      if (n.op == Op::kGt) return c > 0;
      return c >= 0;
    }
    default: break;
  }
  if (l.type != Leaf::Type::kString) return false;
  const std::string_view s = l.s;
  switch (n.op) {
    case Op::kContains:
      return std::any_of(n.strings.begin(), n.strings.end(), [&](const std::string& p) { return s.find(p) != std::string_view::npos; });
    case Op::kIContains:
      return std::any_of(n.strings.begin(), n.strings.end(), [&](const std::string& p) { return containsIgnoringCase(s, p); });
    case Op::kStartsWith:
      return std::any_of(n.strings.begin(), n.strings.end(), [&](const std::string& p) { return startsWith(s, p); });
    case Op::kEndsWith:
      return std::any_of(n.strings.begin(), n.strings.end(), [&](const std::string& p) { return endsWith(s, p); });
    case Op::kGlob:
      return std::any_of(n.globs.begin(), n.globs.end(), [&](const policy::Glob& g) { return g.matches(s); });
    case Op::kRegex:
      return std::any_of(n.regexes.begin(), n.regexes.end(), [&](const std::shared_ptr<const re2::RE2>& re) {
        return re2::RE2::PartialMatch(re2::StringPiece(s.data(), s.size()), *re);
      });
    default: return false;
  }
}

Result<bool> firstSeen(const CompiledNode& n, simdjson::dom::element event, FleetState& fleet) {
  if (n.paths.size() == 1) {
    // Every value of the path is recorded; true when any of them is new.
    bool any_new = false;
    std::optional<Error> failure;
    n.paths.front().any(event, [&](simdjson::dom::element e) {
      auto r = fleet.recordSeen(n.space, scalarText(e));
      if (!r.ok()) {
        failure = r.error();
        return true;
      }
      any_new = any_new || r.value();
      return false;
    });
    if (failure) return *failure;
    return any_new;
  }
  // Several paths: one key from the first value of each; a missing one means nothing to record.
  std::string key;
  for (size_t k = 0; k < n.paths.size(); ++k) {
    std::string part;
    const bool found = n.paths[k].any(event, [&](simdjson::dom::element e) {
      part = scalarText(e);
      return true;
    });
    if (!found) return false;
    if (k > 0) key.push_back('\x1f');
    key.append(part);
  }
  return fleet.recordSeen(n.space, key);
}

}  // namespace

Result<bool> evaluate(const CompiledNode& n, simdjson::dom::element event, FleetState& fleet) {
  switch (n.kind) {
    case CompiledNode::Kind::kAnd:
      for (const auto& c : n.children) {
        auto r = evaluate(c, event, fleet);
        if (!r.ok() || !r.value()) return r;
      }
      return true;
    case CompiledNode::Kind::kOr:
      for (const auto& c : n.children) {
        auto r = evaluate(c, event, fleet);
        if (!r.ok() || r.value()) return r;
      }
      return false;
    case CompiledNode::Kind::kNot: {
      auto r = evaluate(n.children.front(), event, fleet);
      if (!r.ok()) return r;
      return !r.value();
    }
    case CompiledNode::Kind::kExists:
      return n.path.any(event, [](simdjson::dom::element) { return true; });
    case CompiledNode::Kind::kCompare:
      return n.path.any(event, [&](simdjson::dom::element e) { return compareLeaf(read(e), n); });
    case CompiledNode::Kind::kFirstSeen: return firstSeen(n, event, fleet);
    case CompiledNode::Kind::kFalse: return false;
    case CompiledNode::Kind::kTrue: return true;
  }
  return false;
}

void pruneClassChecks(CompiledNode& node, uint32_t classes) {
  // The classes a `class_uid = / in` comparison admits, as a ClassSet; 0 when it is not one.
  auto admitted = [](const CompiledNode& n) -> uint32_t {
    if (n.kind != CompiledNode::Kind::kCompare || n.path.text() != "class_uid") return 0;
    if (n.op != Op::kEq && n.op != Op::kIn) return 0;
    uint32_t set = 0;
    for (size_t k = 0; k < n.numbers.size(); ++k) {
      if (k >= n.ints.size() || static_cast<double>(n.ints[k]) != n.numbers[k]) return 0;
      const int i = classIndex(n.ints[k]);
      if (i >= 0) set |= 1u << i;
    }
    return set;
  };
  if (node.kind != CompiledNode::Kind::kAnd) {
    if ((admitted(node) & classes) == classes && admitted(node) != 0) node = CompiledNode{.kind = CompiledNode::Kind::kTrue};
    return;
  }
  std::vector<CompiledNode> flat;
  std::vector<CompiledNode> pending = std::move(node.children);
  for (size_t i = 0; i < pending.size(); ++i) {
    if (pending[i].kind == CompiledNode::Kind::kAnd) {
      for (auto& c : pending[i].children) pending.push_back(std::move(c));
      continue;
    }
    const uint32_t set = admitted(pending[i]);
    if (set != 0 && (set & classes) == classes) continue;  // always true for these classes
    flat.push_back(std::move(pending[i]));
  }
  if (flat.empty()) {
    node = CompiledNode{.kind = CompiledNode::Kind::kTrue};
  } else if (flat.size() == 1) {
    node = std::move(flat.front());
  } else {
    node.children = std::move(flat);
  }
}

}  // namespace warden::detect
