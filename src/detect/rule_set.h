#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "detect/compiler.h"
#include "detect/condition.h"
#include "detect/diagnostics.h"
#include "detect/field_path.h"
#include "detect/matcher.h"
#include "detect/rule_file.h"
#include "ocsf/event.h"

namespace warden::detect {

// One rule, compiled: what it matches, what it records, what it asks the supervisor to do.
struct CompiledRule {
  enum class Kind { kCondition, kSequence, kThreshold };
  Kind kind = Kind::kCondition;
  std::string name;
  std::string desc;
  std::string file;  // where it was defined ("builtin" for the pack)
  SourcePos pos;
  std::vector<CompiledNode> steps;     // one for a condition or threshold; 2..8 for a sequence
  std::vector<ClassSet> step_classes;  // the classes each step can match (the index keys)
  int64_t within_ms = 0;
  Same same = Same::kSession;
  uint64_t threshold = 0;
  std::optional<FieldPath> join_first;
  std::optional<FieldPath> join_last;
  ocsf::Severity severity = ocsf::Severity::kMedium;
  ocsf::Confidence confidence = ocsf::Confidence::kMedium;
  std::vector<ocsf::Attack> attacks;
  std::vector<TemplatePiece> title;  // rendered from the triggering (last) event
  std::vector<FieldPath> title_paths;  // one per path piece, in order
  ActionKind action = ActionKind::kAlert;
};

// A rule file to load: its name for diagnostics and its text.
struct RuleSource {
  std::string name;
  std::string text;
};

struct RuleSetOptions {
  // The built-in pack's rules (its lists and macros are always available to rule files).
  bool builtin_rules = true;
};

// A compiled, immutable set of rules: the built-in pack (unless turned off) and then each rule
// file in order. Lists and macros are shared across files in load order (the pack's first); a
// name is defined once. `{name: X, enabled: false}` in a later file turns off an earlier rule.
// Loading is all or nothing: a file with any problem loads nothing, and every problem is
// reported with file:line:col and a code. Thread-safe to share (shared_ptr<const RuleSet>) by any
// number of engines.
class RuleSet {
 public:
  // Compiles `files` (after the pack). On any problem: InvalidArgument whose message is every
  // diagnostic, one per line; the same are appended to `*diagnostics` when given.
  static Result<std::shared_ptr<const RuleSet>> compile(const std::vector<RuleSource>& files,
                                                        const RuleSetOptions& options = {},
                                                        Diagnostics* diagnostics = nullptr);
  // Reads each path (at most kMaxRuleFileBytes; diagnostics name it as given) and compiles them.
  static Result<std::shared_ptr<const RuleSet>> load(const std::vector<std::filesystem::path>& files,
                                                     const RuleSetOptions& options = {},
                                                     Diagnostics* diagnostics = nullptr);

  const std::vector<CompiledRule>& rules() const { return rules_; }
  // Rules (index into rules()) and their step, for events of kWardenClasses[class_index].
  struct StepRef {
    uint32_t rule = 0;
    uint32_t step = 0;
  };
  const std::vector<StepRef>& forClass(int class_index) const { return by_class_[static_cast<size_t>(class_index)]; }
  // True when a rule relates events by process tree (the engine then keeps a pid table).
  bool usesProcessTree() const { return uses_process_tree_; }

 private:
  RuleSet() = default;

  std::vector<CompiledRule> rules_;
  std::vector<std::vector<StepRef>> by_class_ = std::vector<std::vector<StepRef>>(kWardenClasses.size());
  bool uses_process_tree_ = false;
};

}  // namespace warden::detect
