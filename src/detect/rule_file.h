#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "detect/condition.h"
#include "detect/diagnostics.h"
#include "detect/source_map.h"
#include "ocsf/enums.h"
#include "ocsf/event.h"

namespace warden::detect {

// One rule file as written (detect.md "Rules"), checked for shape but not yet compiled: lists,
// macros and rules with the positions of everything a later check may point at.
// rule_set.h compiles one or more of these into a RuleSet.

// Larger files are rejected before parsing (a config file is bounded input).
inline constexpr size_t kMaxRuleFileBytes = 4 << 20;

// Which events a sequence's steps (or a threshold's count) must share.
enum class Same { kSession, kProcess, kProcessTree };
std::string_view sameName(Same same);

// What the supervisor does when the rule fires (besides recording the finding).
enum class ActionKind { kAlert, kKill, kPause };
std::string_view actionName(ActionKind action);

// A scalar with where it is written.
struct Located {
  std::string text;
  SourcePos pos;
  TextMap map;  // offsets of `text` -> file positions
};

struct RawList {
  std::string name;
  SourcePos pos;
  std::vector<Literal> items;  // plain YAML scalars that read as numbers/booleans are those
  std::vector<SourcePos> item_pos;
};

struct RawMacro {
  std::string name;
  SourcePos pos;
  Located condition;
};

struct RawRule {
  std::string name;
  SourcePos pos;                // of the rule's mapping
  bool disable_only = false;    // `{name: X, enabled: false}` for a rule an earlier file defines
  bool enabled = true;
  std::string desc;
  std::optional<Located> condition;
  std::vector<Located> sequence;  // 2..kMaxSequenceSteps steps
  SourcePos sequence_pos;
  std::optional<int64_t> within_ms;
  SourcePos within_pos;
  Same same = Same::kSession;
  bool has_same = false;
  SourcePos same_pos;
  std::optional<uint64_t> threshold;  // fire when this many matching events fall within `within`
  SourcePos threshold_pos;
  std::optional<Located> join_first;  // sequence: a value of this path in the first step's event ...
  std::optional<Located> join_last;   // ... equals a value of this one in the last step's event
  SourcePos join_pos;
  ocsf::Severity severity = ocsf::Severity::kMedium;
  ocsf::Confidence confidence = ocsf::Confidence::kMedium;
  std::vector<ocsf::Attack> attacks;
  std::optional<Located> title;
  ActionKind action = ActionKind::kAlert;
};

struct RuleFile {
  std::string name;  // as given; diagnostics use it
  std::vector<RawList> lists;
  std::vector<RawMacro> macros;
  std::vector<RawRule> rules;
};

inline constexpr size_t kMaxSequenceSteps = 8;
inline constexpr size_t kMaxRuleNameBytes = 128;

// Parses one rule file. Problems (YAML syntax, unknown keys, values of the wrong shape) are added
// to `diagnostics`; the file returned holds what could be read. yaml-cpp throws; nothing thrown
// leaves this function. Stateless and thread-safe.
RuleFile parseRuleFile(std::string_view text, std::string_view name, Diagnostics& diagnostics);

// MITRE ATT&CK: a technique ("T1059", "T1059.004") or tactic ("TA0002") id, with the name when it
// is one Warden's rules use. nullopt when `id` has neither shape.
struct AttackId {
  bool tactic = false;
  std::string uid;
  std::string name;
};
std::optional<AttackId> parseAttackId(std::string_view id);

}  // namespace warden::detect
