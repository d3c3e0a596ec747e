#include "detect/compiler.h"

#include <fmt/format.h>

#include <algorithm>

#include "detect/field_path.h"

namespace warden::detect {
namespace {

using ocsf::BaseType;

std::string_view baseName(BaseType b) {
  switch (b) {
    case BaseType::kString: return "a string";
    case BaseType::kInteger: return "an integer";
    case BaseType::kLong: return "a long integer";
    case BaseType::kFloat: return "a number";
    case BaseType::kBoolean: return "a boolean";
    case BaseType::kJson: return "JSON";
    case BaseType::kObject: return "an object";
    case BaseType::kUnknown: return "of a type the schema does not resolve";
  }
  return "a value";
}

bool isStringOp(Op op) {
  return op == Op::kContains || op == Op::kIContains || op == Op::kStartsWith || op == Op::kEndsWith ||
         op == Op::kGlob || op == Op::kRegex;
}
bool isOrderOp(Op op) { return op == Op::kLt || op == Op::kLe || op == Op::kGt || op == Op::kGe; }

std::string literalText(const Literal& l) {
  if (l.kind == Literal::Kind::kString) return fmt::format("\"{}\"", l.text.size() > 60 ? l.text.substr(0, 60) + "..." : l.text);
  return l.text;
}

char lowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

int classIndex(int64_t uid) {
  for (size_t i = 0; i < kWardenClasses.size(); ++i) {
    if (kWardenClasses[i] == uid) return static_cast<int>(i);
  }
  return -1;
}

std::string describeClasses(const ocsf::Schema& schema, ClassSet classes) {
  std::vector<std::string> names;
  for (size_t i = 0; i < kWardenClasses.size(); ++i) {
    if ((classes & (1u << i)) == 0) continue;
    const auto* spec = schema.findClass(kWardenClasses[i]);
    names.push_back(fmt::format("{} ({})", spec != nullptr ? spec->caption : "?", kWardenClasses[i]));
  }
  if (classes == kAllClasses) return "any class Warden emits";
  if (names.size() == 1) return names.front();
  std::string out = "classes ";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ", ";
    out += names[i];
  }
  return out;
}

// ----- Library -----

const Library::List* Library::findList(std::string_view name) const {
  const auto it = lists_.find(std::string(name));
  return it == lists_.end() ? nullptr : &it->second;
}
const Library::Macro* Library::findMacro(std::string_view name) const {
  const auto it = macros_.find(std::string(name));
  return it == macros_.end() ? nullptr : &it->second;
}
bool Library::addList(std::string name, List list) { return lists_.emplace(std::move(name), std::move(list)).second; }
bool Library::addMacro(std::string name, Macro macro) {
  return macros_.emplace(std::move(name), std::move(macro)).second;
}

// ----- ConditionCompiler -----

bool ConditionCompiler::FieldType::has(BaseType b) const { return std::find(bases.begin(), bases.end(), b) != bases.end(); }
bool ConditionCompiler::FieldType::numeric() const {
  return has(BaseType::kInteger) || has(BaseType::kLong) || has(BaseType::kFloat);
}

ConditionCompiler::ConditionCompiler(const Library& library, const ocsf::Schema& schema, Diagnostics& diagnostics,
                                     std::string rule_name)
    : library_(library), schema_(schema), diagnostics_(diagnostics), rule_name_(std::move(rule_name)) {}

void ConditionCompiler::error(const Where& where, SourcePos pos, Code code, std::string message) {
  diagnostics_.add(where.file, pos, code, std::move(message));
}

ClassSet ConditionCompiler::classesOf(const Expr& e) const {
  std::vector<std::string> expanding;
  return classesOf(e, expanding);
}

ClassSet ConditionCompiler::classesOf(const Expr& e, std::vector<std::string>& expanding) const {
  switch (e.kind) {
    case Expr::Kind::kAnd: {
      ClassSet s = kAllClasses;
      for (const auto& a : e.args) s &= classesOf(*a, expanding);
      return s;
    }
    case Expr::Kind::kOr: {
      ClassSet s = 0;
      for (const auto& a : e.args) s |= classesOf(*a, expanding);
      return s;
    }
    case Expr::Kind::kMacro: {
      const auto* m = library_.findMacro(e.name);
      if (m == nullptr || m->expr == nullptr) return kAllClasses;
      if (std::find(expanding.begin(), expanding.end(), e.name) != expanding.end()) return kAllClasses;
      expanding.push_back(e.name);
      const ClassSet s = classesOf(*m->expr, expanding);
      expanding.pop_back();
      return s;
    }
    case Expr::Kind::kCompare: {
      if (e.name != "class_uid") return kAllClasses;
      // The values, lists expanded; anything that is not a number leaves the set open.
      std::vector<Literal> values;
      for (const auto& o : e.operands) {
        if (!o.is_list) {
          values.push_back(o.literal);
          continue;
        }
        const auto* list = library_.findList(o.name);
        if (list == nullptr) return kAllClasses;
        values.insert(values.end(), list->items.begin(), list->items.end());
      }
      ClassSet s = 0;
      for (const auto& v : values) {
        if (v.kind != Literal::Kind::kNumber || !v.is_int) return kAllClasses;
        const int i = classIndex(v.i);
        if (i >= 0) s |= 1u << i;
      }
      if (e.op == Op::kEq || e.op == Op::kIn) return s;
      if (e.op == Op::kNe && values.size() == 1) return kAllClasses & ~s;
      return kAllClasses;
    }
    default: return kAllClasses;
  }
}

std::optional<ConditionCompiler::FieldType> ConditionCompiler::checkField(std::string_view path, ClassSet context,
                                                                           const Where& where, SourcePos pos) {
  const FieldPath fp(path);
  const auto& segs = fp.segments();
  for (const auto& s : segs) {
    if (s.empty()) {
      error(where, pos, Code::kSyntaxError, fmt::format("'{}' is not a field path (an empty segment)", path));
      return std::nullopt;
    }
  }
  FieldType out;
  if (segs.front() == "unmapped") {
    out.free = true;  // free-form by design (events.md names what Warden puts there)
    return out;
  }
  if (context == 0) return out;  // nothing can reach it; the rule is reported as unreachable
  bool found = false;
  std::string why;  // the first reason, for a single-class message
  for (size_t i = 0; i < kWardenClasses.size(); ++i) {
    if ((context & (1u << i)) == 0) continue;
    const auto* cls = schema_.findClass(kWardenClasses[i]);
    if (cls == nullptr) continue;
    const ocsf::ObjectSpec* spec = &cls->body;
    const ocsf::AttributeSpec* attr = nullptr;
    bool free = false;
    bool ok = true;
    for (size_t k = 0; k < segs.size(); ++k) {
      attr = spec->find(segs[k]);
      if (attr == nullptr) {
        if (why.empty()) {
          why = k == 0 ? fmt::format("it has no attribute '{}'", segs[k])
                       : fmt::format("object {} has no attribute '{}'", spec->name, segs[k]);
        }
        ok = false;
        break;
      }
      if (k + 1 == segs.size()) break;
      if (attr->base == BaseType::kJson) {
        free = true;
        break;
      }
      if (attr->base != BaseType::kObject || attr->object == nullptr) {
        if (why.empty()) why = fmt::format("'{}' is {}, with no fields below it", segs[k], baseName(attr->base));
        ok = false;
        break;
      }
      spec = attr->object;
      if (spec->free_form) {
        free = true;
        break;
      }
    }
    if (!ok) continue;
    found = true;
    if (free || (attr != nullptr && attr->base == BaseType::kUnknown)) {
      out.free = true;  // nothing to check a value against
    } else if (attr != nullptr && !out.has(attr->base)) {
      out.bases.push_back(attr->base);
    }
  }
  if (!found) {
    const std::string where_text = describeClasses(schema_, context);
    const bool single = __builtin_popcount(context) == 1;
    error(where, pos, Code::kUnknownField,
          single ? fmt::format("'{}' is not a field of {}: {}", path, where_text, why)
                 : fmt::format("'{}' is not a field of {} this condition can match", path,
                               context == kAllClasses ? std::string("any class Warden emits") : where_text));
    return std::nullopt;
  }
  return out;
}

std::optional<CompiledNode> ConditionCompiler::compile(const Expr& e, const Where& where, ClassSet context) {
  switch (e.kind) {
    case Expr::Kind::kAnd:
    case Expr::Kind::kOr: {
      CompiledNode n;
      n.kind = e.kind == Expr::Kind::kAnd ? CompiledNode::Kind::kAnd : CompiledNode::Kind::kOr;
      std::vector<ClassSet> sets;
      for (const auto& a : e.args) sets.push_back(classesOf(*a));
      bool ok = true;
      for (size_t i = 0; i < e.args.size(); ++i) {
        ClassSet ctx = context;
        if (e.kind == Expr::Kind::kAnd) {
          for (size_t j = 0; j < sets.size(); ++j) {
            if (j != i) ctx &= sets[j];
          }
        }
        auto c = compile(*e.args[i], where, ctx);
        if (!c) {
          ok = false;
          continue;
        }
        n.children.push_back(std::move(*c));
      }
      if (!ok) return std::nullopt;
      return n;
    }
    case Expr::Kind::kNot: {
      auto c = compile(*e.args.front(), where, context);
      if (!c) return std::nullopt;
      CompiledNode n;
      n.kind = CompiledNode::Kind::kNot;
      n.children.push_back(std::move(*c));
      return n;
    }
    case Expr::Kind::kExists: {
      if (!checkField(e.name, context, where, where.at(e.offset))) return std::nullopt;
      CompiledNode n;
      n.kind = CompiledNode::Kind::kExists;
      n.path = FieldPath(e.name);
      return n;
    }
    case Expr::Kind::kMacro: return compileMacro(e, where, context);
    case Expr::Kind::kCall: return compileCall(e, where, context);
    case Expr::Kind::kCompare: return compileCompare(e, where, context);
  }
  return std::nullopt;
}

std::optional<CompiledNode> ConditionCompiler::compileMacro(const Expr& e, const Where& where, ClassSet context) {
  const auto* m = library_.findMacro(e.name);
  if (m == nullptr) {
    if (library_.findList(e.name) != nullptr) {
      error(where, where.at(e.offset), Code::kUnknownMacro,
            fmt::format("'{}' is a list, not a macro or a condition (use: <field> in ({}))", e.name, e.name));
    } else {
      error(where, where.at(e.offset), Code::kUnknownMacro,
            fmt::format("unknown macro '{}' (or a field with no operator after it)", e.name));
    }
    return std::nullopt;
  }
  if (m->expr == nullptr) return std::nullopt;  // its syntax error is reported where it is defined
  if (std::find(expanding_.begin(), expanding_.end(), e.name) != expanding_.end()) {
    std::string chain;
    for (const auto& n : expanding_) chain += n + " -> ";
    error(where, where.at(e.offset), Code::kMacroCycle, fmt::format("macro cycle: {}{}", chain, e.name));
    return std::nullopt;
  }
  expanding_.push_back(e.name);
  const Where inner{m->file, m->map.get()};
  auto c = compile(*m->expr, inner, context);
  expanding_.pop_back();
  return c;
}

std::optional<CompiledNode> ConditionCompiler::compileCall(const Expr& e, const Where& where, ClassSet context) {
  if (e.name != "first_seen") {
    error(where, where.at(e.offset), Code::kUnknownFunction,
          fmt::format("unknown function '{}' (the language has first_seen(field, ...))", e.name));
    return std::nullopt;
  }
  CompiledNode n;
  n.kind = CompiledNode::Kind::kFirstSeen;
  bool ok = true;
  std::string paths;
  for (const auto& [path, offset] : e.call_args) {
    const auto type = checkField(path, context, where, where.at(offset));
    if (!type) {
      ok = false;
      continue;
    }
    if (!type->free && type->has(BaseType::kObject) && type->bases.size() == 1) {
      error(where, where.at(offset), Code::kTypeMismatch,
            fmt::format("first_seen({}): '{}' is an object; name one of its fields", path, path));
      ok = false;
      continue;
    }
    n.paths.emplace_back(path);
    if (!paths.empty()) paths += ",";
    paths += path;
  }
  if (!ok) return std::nullopt;
  n.space = rule_name_ + ":" + paths;
  return n;
}

std::optional<std::vector<std::pair<Literal, SourcePos>>> ConditionCompiler::expand(const Expr& e, const Where& where) {
  std::vector<std::pair<Literal, SourcePos>> out;
  bool ok = true;
  for (const auto& o : e.operands) {
    if (!o.is_list) {
      out.emplace_back(o.literal, where.at(o.offset));
      continue;
    }
    const auto* list = library_.findList(o.name);
    if (list == nullptr) {
      const bool is_macro = library_.findMacro(o.name) != nullptr;
      error(where, where.at(o.offset), Code::kUnknownList,
            is_macro ? fmt::format("'{}' is a macro, not a list", o.name)
                     : fmt::format("unknown list '{}' (quote a string: \"{}\")", o.name, o.name));
      ok = false;
      continue;
    }
    for (const auto& item : list->items) out.emplace_back(item, where.at(o.offset));
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<CompiledNode> ConditionCompiler::compileCompare(const Expr& e, const Where& where, ClassSet context) {
  const SourcePos field_pos = where.at(e.offset);
  const SourcePos op_pos = where.at(e.op_offset);
  const std::string_view op = opName(e.op);
  if (e.set && (e.op == Op::kNe || isOrderOp(e.op))) {
    error(where, op_pos, Code::kSyntaxError,
          e.op == Op::kNe ? fmt::format("'!=' takes one value; for a set write: not {} in (...)", e.name)
                          : fmt::format("'{}' takes one value, not a set", op));
    return std::nullopt;
  }
  auto values = expand(e, where);
  const auto type = checkField(e.name, context, where, field_pos);
  if (!values || !type) return std::nullopt;
  if (values->empty()) {
    error(where, op_pos, Code::kBadValue, fmt::format("'{} {} ()': an empty set matches nothing", e.name, op));
    return std::nullopt;
  }
  bool ok = true;
  // Types: what the field holds against the operator and each value.
  if (!type->free && !type->bases.empty()) {
    if (type->bases.size() == 1 && type->has(BaseType::kObject)) {
      error(where, field_pos, Code::kTypeMismatch,
            fmt::format("'{}' is an object; compare one of its fields (or use `{} exists`)", e.name, e.name));
      return std::nullopt;
    }
    if (isOrderOp(e.op) && !type->numeric()) {
      error(where, op_pos, Code::kTypeMismatch,
            fmt::format("'{}' is {}; '{}' compares numbers", e.name, baseName(type->bases.front()), op));
      ok = false;
    }
    if (isStringOp(e.op) && !type->has(BaseType::kString)) {
      error(where, op_pos, Code::kTypeMismatch,
            fmt::format("'{}' is {}; '{}' works on strings", e.name, baseName(type->bases.front()), op));
      ok = false;
    }
    if (ok && !isStringOp(e.op) && !isOrderOp(e.op)) {
      for (const auto& [lit, pos] : *values) {
        const bool fits = (lit.kind == Literal::Kind::kNumber && (type->numeric() || type->has(BaseType::kString))) ||
                          (lit.kind == Literal::Kind::kString && type->has(BaseType::kString)) ||
                          (lit.kind == Literal::Kind::kBool && type->has(BaseType::kBoolean));
        if (!fits) {
          error(where, pos, Code::kTypeMismatch,
                fmt::format("'{}' is {}; {} can never equal it", e.name, baseName(type->bases.front()), literalText(lit)));
          ok = false;
        }
      }
    }
  }
  if (isOrderOp(e.op) && (*values)[0].first.kind != Literal::Kind::kNumber) {
    error(where, (*values)[0].second, Code::kTypeMismatch,
          fmt::format("'{}' compares numbers; {} is not one", op, literalText((*values)[0].first)));
    ok = false;
  }
  if (e.name == "class_uid" && (e.op == Op::kEq || e.op == Op::kIn || e.op == Op::kNe)) {
    for (const auto& [lit, pos] : *values) {
      if (lit.kind != Literal::Kind::kNumber || !lit.is_int) continue;
      if (schema_.findClass(lit.i) == nullptr) {
        error(where, pos, Code::kUnknownClass, fmt::format("class_uid {}: OCSF 1.7.0 has no such class", lit.i));
        ok = false;
      } else if (classIndex(lit.i) < 0 && e.op != Op::kNe) {
        error(where, pos, Code::kUnreachableRule,
              fmt::format("class_uid {} ({}): Warden never emits this class", lit.i, schema_.findClass(lit.i)->caption));
        reported_unreachable_ = true;
        ok = false;
      }
    }
  }
  CompiledNode n;
  n.kind = CompiledNode::Kind::kCompare;
  n.path = FieldPath(e.name);
  n.op = e.set && e.op == Op::kEq ? Op::kIn : e.op;
  for (const auto& [lit, pos] : *values) {
    switch (e.op) {
      case Op::kRegex: {
        if (lit.kind != Literal::Kind::kString) {
          error(where, pos, Code::kTypeMismatch, fmt::format("regex takes a quoted pattern, not {}", literalText(lit)));
          ok = false;
          break;
        }
        re2::RE2::Options options;
        options.set_log_errors(false);
        auto re = std::make_shared<const re2::RE2>(lit.text, options);
        if (!re->ok()) {
          error(where, pos, Code::kBadRegex, fmt::format("regex {}: {}", literalText(lit), re->error()));
          ok = false;
          break;
        }
        n.regexes.push_back(std::move(re));
        break;
      }
      case Op::kGlob: {
        const auto kind = !lit.text.empty() && lit.text.front() == '/' ? policy::Glob::Kind::kPath : policy::Glob::Kind::kText;
        auto g = policy::Glob::create(lit.text, kind);
        if (!g.ok()) {
          error(where, pos, Code::kBadGlob, fmt::format("glob {}: {}", literalText(lit), g.error().message()));
          ok = false;
          break;
        }
        n.globs.push_back(std::move(g).value());
        break;
      }
      case Op::kIContains: {
        std::string lowered = lit.text;
        for (char& c : lowered) c = lowerAscii(c);
        n.strings.push_back(std::move(lowered));
        break;
      }
      default:
        if (lit.kind != Literal::Kind::kBool) n.strings.push_back(lit.text);
        if (lit.kind == Literal::Kind::kNumber) {
          n.numbers.push_back(lit.d);
          n.ints.push_back(lit.is_int ? lit.i : 0);
          if (!lit.is_int) n.ints.back() = static_cast<int64_t>(lit.d) == lit.d ? static_cast<int64_t>(lit.d) : INT64_MIN;
        }
        if (lit.kind == Literal::Kind::kBool) n.bools.push_back(lit.b);
    }
  }
  if (!ok) return std::nullopt;
  // Many strings: a hash set instead of a scan.
  if ((n.op == Op::kIn || n.op == Op::kEq || n.op == Op::kNe) && n.strings.size() > 8) {
    n.string_set.insert(n.strings.begin(), n.strings.end());
  }
  return n;
}

}  // namespace warden::detect
