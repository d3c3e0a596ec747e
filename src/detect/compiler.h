#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "detect/condition.h"
#include "detect/diagnostics.h"
#include "detect/matcher.h"
#include "detect/source_map.h"
#include "ocsf/schema.h"

namespace warden::detect {

// The OCSF classes Warden emits (events.md class table). Rules are indexed by these; a rule
// whose class_uid constraints leave none of them can never match.
inline constexpr std::array<int64_t, 12> kWardenClasses = {0,    1001, 1007, 1008, 2004, 4001,
                                                            4002, 4003, 4007, 5019, 6002, 6003};
// A set of those classes: bit i stands for kWardenClasses[i].
using ClassSet = uint32_t;
inline constexpr ClassSet kAllClasses = (1u << kWardenClasses.size()) - 1;
// The index of `uid` in kWardenClasses, or -1.
int classIndex(int64_t uid);

// Where a condition's text lives, for diagnostics.
struct Where {
  std::string_view file;
  const TextMap* map = nullptr;
  SourcePos at(size_t offset) const { return map != nullptr ? map->at(offset) : SourcePos{}; }
};

// The named lists and macros rules can use: the built-in pack's first, then each rule file's,
// in load order. Macros are parsed once when defined. Not thread-safe while being filled;
// read-only afterwards.
class Library {
 public:
  struct List {
    std::vector<Literal> items;
    std::string file;
    SourcePos pos;
  };
  struct Macro {
    std::unique_ptr<Expr> expr;  // null when its text did not parse (reported once, at definition)
    std::string file;
    SourcePos pos;
    std::string text;
    std::unique_ptr<TextMap> map;
  };

  const List* findList(std::string_view name) const;
  const Macro* findMacro(std::string_view name) const;
  // False when the name is taken (the caller reports duplicate-name).
  bool addList(std::string name, List list);
  bool addMacro(std::string name, Macro macro);
  const std::unordered_map<std::string, Macro>& macros() const { return macros_; }

 private:
  std::unordered_map<std::string, List> lists_;
  std::unordered_map<std::string, Macro> macros_;
};

// Resolves and checks one rule's conditions against the library and the OCSF schema, and
// compiles them (matcher.h). Every problem goes to `diagnostics` with its file:line:col and
// code: unknown field for the classes the condition can match, type mismatch, unknown
// list/macro/function/class, bad regex or glob, macro cycle, a class no Warden event has.
// One compiler per rule (it holds the rule's name for first_seen key spaces); not thread-safe.
class ConditionCompiler {
 public:
  ConditionCompiler(const Library& library, const ocsf::Schema& schema, Diagnostics& diagnostics,
                    std::string rule_name);

  // The classes `e` can be true for, from its class_uid constraints (kAllClasses when it has
  // none). Pure: reports nothing.
  ClassSet classesOf(const Expr& e) const;
  // Compiles `e`, checking each field against the classes in `context`. nullopt after a problem.
  std::optional<CompiledNode> compile(const Expr& e, const Where& where, ClassSet context);

  // The base types a field has in the classes of `context` (several when classes disagree);
  // `free` when it is under `unmapped` or a JSON/free-form object. Reports unknown-field at `pos`
  // and returns nullopt when no class in `context` has it.
  struct FieldType {
    bool free = false;
    std::vector<ocsf::BaseType> bases;
    bool has(ocsf::BaseType b) const;
    bool numeric() const;
  };
  std::optional<FieldType> checkField(std::string_view path, ClassSet context, const Where& where, SourcePos pos);

  // True once compile() reported that a class_uid value is one Warden never emits.
  bool reportedUnreachable() const { return reported_unreachable_; }

 private:
  ClassSet classesOf(const Expr& e, std::vector<std::string>& expanding) const;
  std::optional<CompiledNode> compileCompare(const Expr& e, const Where& where, ClassSet context);
  std::optional<CompiledNode> compileCall(const Expr& e, const Where& where, ClassSet context);
  std::optional<CompiledNode> compileMacro(const Expr& e, const Where& where, ClassSet context);
  // Operands with lists expanded; nullopt after reporting an unknown list.
  std::optional<std::vector<std::pair<Literal, SourcePos>>> expand(const Expr& e, const Where& where);
  void error(const Where& where, SourcePos pos, Code code, std::string message);

  const Library& library_;
  const ocsf::Schema& schema_;
  Diagnostics& diagnostics_;
  std::string rule_name_;
  std::vector<std::string> expanding_;  // macros being compiled (cycle detection)
  bool reported_unreachable_ = false;
};

// "Process Activity (1007)", or "classes File System Activity (1001), Process Activity (1007)".
std::string describeClasses(const ocsf::Schema& schema, ClassSet classes);

}  // namespace warden::detect
