#include "detect/rule_file.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <exception>
#include <set>
#include <string>

#include "common/encoding.h"

namespace warden::detect {
namespace {

// A YAML alias is walked every time it is used; past this many visited nodes the file is refused.
constexpr size_t kMaxNodes = 100'000;
constexpr size_t kMaxEcho = 80;

struct AttackName {
  std::string_view id;
  std::string_view name;
};

// The ATT&CK ids Warden's own rules use, and their neighbours; other well-formed ids are kept
// without a name.
constexpr AttackName kAttackNames[] = {
    {"TA0001", "Initial Access"},
    {"TA0002", "Execution"},
    {"TA0003", "Persistence"},
    {"TA0004", "Privilege Escalation"},
    {"TA0005", "Defense Evasion"},
    {"TA0006", "Credential Access"},
    {"TA0007", "Discovery"},
    {"TA0008", "Lateral Movement"},
    {"TA0009", "Collection"},
    {"TA0010", "Exfiltration"},
    {"TA0011", "Command and Control"},
    {"TA0040", "Impact"},
    {"TA0042", "Resource Development"},
    {"TA0043", "Reconnaissance"},
    {"T1027", "Obfuscated Files or Information"},
    {"T1041", "Exfiltration Over C2 Channel"},
    {"T1046", "Network Service Discovery"},
    {"T1059", "Command and Scripting Interpreter"},
    {"T1059.004", "Unix Shell"},
    {"T1059.006", "Python"},
    {"T1071", "Application Layer Protocol"},
    {"T1071.004", "DNS"},
    {"T1090", "Proxy"},
    {"T1098", "Account Manipulation"},
    {"T1098.004", "SSH Authorized Keys"},
    {"T1105", "Ingress Tool Transfer"},
    {"T1140", "Deobfuscate/Decode Files or Information"},
    {"T1195", "Supply Chain Compromise"},
    {"T1195.002", "Compromise Software Supply Chain"},
    {"T1204", "User Execution"},
    {"T1496", "Resource Hijacking"},
    {"T1499", "Endpoint Denial of Service"},
    {"T1548", "Abuse Elevation Control Mechanism"},
    {"T1548.001", "Setuid and Setgid"},
    {"T1552", "Unsecured Credentials"},
    {"T1552.001", "Credentials In Files"},
    {"T1567", "Exfiltration Over Web Service"},
    {"T1572", "Protocol Tunneling"},
};

std::string echo(std::string_view s) {
  std::string out;
  const size_t n = std::min(s.size(), kMaxEcho);
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += s[i];
    }
  }
  if (s.size() > kMaxEcho) out += "...";
  return out;
}

bool digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Names of lists, macros and rules: letters, digits, '_', '-', '.'; a letter or '_' first.
bool validName(std::string_view s, bool allow_dash_dot) {
  if (s.empty() || s.size() > kMaxRuleNameBytes) return false;
  const char f = s.front();
  if (!((f >= 'a' && f <= 'z') || (f >= 'A' && f <= 'Z') || f == '_')) return false;
  for (const char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    (allow_dash_dot && (c == '-' || c == '.'));
    if (!ok) return false;
  }
  return true;
}

std::string_view kindOf(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Scalar: return "a value";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    default: return "nothing";
  }
}

class Reader {
 public:
  Reader(std::string_view text, std::string_view name, Diagnostics& diags)
      : text_(text), name_(name), diags_(diags) {}

  void read(const YAML::Node& root, RuleFile& out) {
    if (root.IsNull()) return;  // an empty file defines nothing
    if (!root.IsMap()) {
      error(root, Code::kBadValue, fmt::format("a rule file is a mapping with lists, macros and rules; found {}", kindOf(root)));
      return;
    }
    std::set<std::string> seen;
    for (const auto& kv : root) {
      if (!count()) return;
      const std::string key = scalar(kv.first);
      if (!seen.insert(key).second) {
        error(kv.first, Code::kDuplicateName, fmt::format("'{}' appears twice", echo(key)));
        continue;
      }
      if (key == "lists") {
        readLists(kv.second, out);
      } else if (key == "macros") {
        readMacros(kv.second, out);
      } else if (key == "rules") {
        readRules(kv.second, out);
      } else {
        error(kv.first, Code::kUnknownKey,
              fmt::format("unknown key '{}' (a rule file has lists, macros and rules)", echo(key)));
      }
    }
  }

 private:
  SourcePos posOf(const YAML::Node& n) const {
    const YAML::Mark m = n.Mark();
    if (m.is_null()) return {};
    return SourcePos{m.line + 1, m.column + 1};
  }

  void error(const YAML::Node& n, Code code, std::string message) { diags_.add(name_, posOf(n), code, std::move(message)); }
  void error(SourcePos pos, Code code, std::string message) { diags_.add(name_, pos, code, std::move(message)); }

  // Counts visited nodes against kMaxNodes (an alias bomb); false once over.
  bool count() {
    if (++nodes_ <= kMaxNodes) return true;
    if (nodes_ == kMaxNodes + 1) {
      error(SourcePos{}, Code::kTooLarge, fmt::format("more than {} YAML nodes (aliases included)", kMaxNodes));
    }
    return false;
  }

  static std::string scalar(const YAML::Node& n) { return n.IsScalar() ? n.Scalar() : std::string(); }

  Located located(const YAML::Node& n) {
    Located l;
    l.text = n.Scalar();
    l.pos = posOf(n);
    const YAML::Mark m = n.Mark();
    if (!m.is_null() && m.pos >= 0) {
      l.map = TextMap::build(text_, static_cast<size_t>(m.pos), l.pos, l.text);
    } else {
      l.map = TextMap(l.pos);
    }
    return l;
  }

  // A scalar as a literal: plain scalars that read as numbers or booleans are those; quoted ones
  // are strings.
  static Literal literalOf(const YAML::Node& n) {
    Literal l;
    l.text = n.Scalar();
    l.kind = Literal::Kind::kString;
    if (n.Tag() == "!") return l;  // quoted
    if (l.text == "true" || l.text == "false") {
      l.kind = Literal::Kind::kBool;
      l.b = l.text == "true";
      return l;
    }
    const char* b = l.text.data();
    const char* e = b + l.text.size();
    int64_t i = 0;
    if (auto [p, ec] = std::from_chars(b, e, i); ec == std::errc() && p == e && !l.text.empty()) {
      l.kind = Literal::Kind::kNumber;
      l.is_int = true;
      l.i = i;
      l.d = static_cast<double>(i);
      return l;
    }
    double d = 0;
    if (auto [p, ec] = std::from_chars(b, e, d); ec == std::errc() && p == e && !l.text.empty() && std::isfinite(d)) {
      l.kind = Literal::Kind::kNumber;
      l.d = d;
    }
    return l;
  }

  void readLists(const YAML::Node& n, RuleFile& out) {
    if (n.IsNull()) return;
    if (!n.IsMap()) {
      error(n, Code::kBadValue, fmt::format("lists: expected a mapping of name: [items], found {}", kindOf(n)));
      return;
    }
    for (const auto& kv : n) {
      if (!count()) return;
      RawList list;
      list.name = scalar(kv.first);
      list.pos = posOf(kv.first);
      if (!validName(list.name, false)) {
        error(kv.first, Code::kBadValue,
              fmt::format("list name '{}': use letters, digits and '_' (a letter or '_' first)", echo(list.name)));
        continue;
      }
      if (!kv.second.IsSequence()) {
        error(kv.second, Code::kBadValue, fmt::format("list '{}': expected [items], found {}", list.name, kindOf(kv.second)));
        continue;
      }
      for (const auto& item : kv.second) {
        if (!count()) return;
        if (!item.IsScalar()) {
          error(item, Code::kBadValue, fmt::format("list '{}': items are values, found {}", list.name, kindOf(item)));
          continue;
        }
        list.items.push_back(literalOf(item));
        list.item_pos.push_back(posOf(item));
      }
      out.lists.push_back(std::move(list));
    }
  }

  void readMacros(const YAML::Node& n, RuleFile& out) {
    if (n.IsNull()) return;
    if (!n.IsMap()) {
      error(n, Code::kBadValue, fmt::format("macros: expected a mapping of name: condition, found {}", kindOf(n)));
      return;
    }
    for (const auto& kv : n) {
      if (!count()) return;
      RawMacro macro;
      macro.name = scalar(kv.first);
      macro.pos = posOf(kv.first);
      if (!validName(macro.name, false)) {
        error(kv.first, Code::kBadValue,
              fmt::format("macro name '{}': use letters, digits and '_' (a letter or '_' first)", echo(macro.name)));
        continue;
      }
      if (!kv.second.IsScalar()) {
        error(kv.second, Code::kBadValue, fmt::format("macro '{}': expected a condition, found {}", macro.name, kindOf(kv.second)));
        continue;
      }
      macro.condition = located(kv.second);
      out.macros.push_back(std::move(macro));
    }
  }

  void readRules(const YAML::Node& n, RuleFile& out) {
    if (n.IsNull()) return;
    if (!n.IsSequence()) {
      error(n, Code::kBadValue, fmt::format("rules: expected a list of rules, found {}", kindOf(n)));
      return;
    }
    for (const auto& item : n) {
      if (!count()) return;
      if (!item.IsMap()) {
        error(item, Code::kBadValue, fmt::format("a rule is a mapping (name, condition, ...), found {}", kindOf(item)));
        continue;
      }
      RawRule rule;
      if (readRule(item, rule)) out.rules.push_back(std::move(rule));
    }
  }

  // Reads a duration such as "60s"; false (and a diagnostic) otherwise.
  std::optional<int64_t> duration(const YAML::Node& v, std::string_view what) {
    const auto ms = v.IsScalar() ? parseDurationMillis(v.Scalar()) : std::nullopt;
    if (!ms || *ms <= 0) {
      error(v, Code::kBadValue,
            fmt::format("{}: '{}' is not a duration (e.g. 500ms, 60s, 5m, 1h)", what, echo(scalar(v))));
      return std::nullopt;
    }
    return ms;
  }

  bool readRule(const YAML::Node& n, RawRule& rule) {
    rule.pos = posOf(n);
    std::set<std::string> keys;
    const YAML::Node* name_node = nullptr;
    for (const auto& kv : n) {
      const std::string key = scalar(kv.first);
      if (!keys.insert(key).second) error(kv.first, Code::kDuplicateName, fmt::format("'{}' appears twice in one rule", echo(key)));
    }
    const YAML::Node name = n["name"];
    if (!name || !name.IsScalar() || name.Scalar().empty()) {
      error(n, Code::kMissingKey, "a rule needs a name");
      return false;
    }
    name_node = &name;
    rule.name = name.Scalar();
    if (!validName(rule.name, true)) {
      error(*name_node, Code::kBadValue,
            fmt::format("rule name '{}': use letters, digits, '_', '-' and '.' (a letter or '_' first, at most {} bytes)",
                        echo(rule.name), kMaxRuleNameBytes));
      return false;
    }
    const std::string& rn = rule.name;
    bool ok = true;
    for (const auto& kv : n) {
      if (!count()) return false;
      const std::string key = scalar(kv.first);
      const YAML::Node& v = kv.second;
      auto needScalar = [&]() {
        if (v.IsScalar()) return true;
        error(v, Code::kBadValue, fmt::format("rule '{}': {} must be a value, found {}", rn, key, kindOf(v)));
        ok = false;
        return false;
      };
      if (key == "name") continue;
      if (key == "desc") {
        if (needScalar()) rule.desc = v.Scalar();
      } else if (key == "condition") {
        if (needScalar()) rule.condition = located(v);
      } else if (key == "sequence") {
        rule.sequence_pos = posOf(v);
        if (!v.IsSequence()) {
          error(v, Code::kBadValue, fmt::format("rule '{}': sequence is a list of conditions, found {}", rn, kindOf(v)));
          ok = false;
          continue;
        }
        for (const auto& step : v) {
          if (!step.IsScalar()) {
            error(step, Code::kBadValue, fmt::format("rule '{}': a sequence step is a condition, found {}", rn, kindOf(step)));
            ok = false;
            continue;
          }
          rule.sequence.push_back(located(step));
        }
      } else if (key == "within") {
        rule.within_pos = posOf(v);
        if (auto ms = duration(v, fmt::format("rule '{}': within", rn))) {
          rule.within_ms = *ms;
        } else {
          ok = false;
        }
      } else if (key == "same") {
        rule.has_same = true;
        rule.same_pos = posOf(v);
        const std::string s = scalar(v);
        if (s == "session") {
          rule.same = Same::kSession;
        } else if (s == "process") {
          rule.same = Same::kProcess;
        } else if (s == "process_tree") {
          rule.same = Same::kProcessTree;
        } else {
          error(v, Code::kBadValue, fmt::format("rule '{}': same: '{}' is not one of process_tree, process, session", rn, echo(s)));
          ok = false;
        }
      } else if (key == "threshold") {
        rule.threshold_pos = posOf(v);
        uint64_t t = 0;
        const std::string s = scalar(v);
        if (!digits(s) || std::from_chars(s.data(), s.data() + s.size(), t).ec != std::errc() || t < 2 || t > 1'000'000) {
          error(v, Code::kBadValue, fmt::format("rule '{}': threshold: '{}' is not a count from 2 to 1000000", rn, echo(s)));
          ok = false;
        } else {
          rule.threshold = t;
        }
      } else if (key == "join") {
        rule.join_pos = posOf(v);
        if (!v.IsSequence() || v.size() != 2 || !v[0].IsScalar() || !v[1].IsScalar()) {
          error(v, Code::kBadValue,
                fmt::format("rule '{}': join is [path in the first step, path in the last step]", rn));
          ok = false;
        } else {
          rule.join_first = located(v[0]);
          rule.join_last = located(v[1]);
        }
      } else if (key == "severity") {
        const std::string s = scalar(v);
        using ocsf::Severity;
        if (s == "informational") {
          rule.severity = Severity::kInformational;
        } else if (s == "low") {
          rule.severity = Severity::kLow;
        } else if (s == "medium") {
          rule.severity = Severity::kMedium;
        } else if (s == "high") {
          rule.severity = Severity::kHigh;
        } else if (s == "critical") {
          rule.severity = Severity::kCritical;
        } else {
          error(v, Code::kBadValue,
                fmt::format("rule '{}': severity '{}' is not one of informational, low, medium, high, critical", rn, echo(s)));
          ok = false;
        }
      } else if (key == "confidence") {
        const std::string s = scalar(v);
        using ocsf::Confidence;
        if (s == "low") {
          rule.confidence = Confidence::kLow;
        } else if (s == "medium") {
          rule.confidence = Confidence::kMedium;
        } else if (s == "high") {
          rule.confidence = Confidence::kHigh;
        } else {
          error(v, Code::kBadValue, fmt::format("rule '{}': confidence '{}' is not one of low, medium, high", rn, echo(s)));
          ok = false;
        }
      } else if (key == "attack") {
        if (!readAttack(v, rule)) ok = false;
      } else if (key == "title") {
        if (needScalar()) rule.title = located(v);
      } else if (key == "action") {
        const std::string s = scalar(v);
        if (s == "alert") {
          rule.action = ActionKind::kAlert;
        } else if (s == "kill") {
          rule.action = ActionKind::kKill;
        } else if (s == "pause") {
          rule.action = ActionKind::kPause;
        } else {
          error(v, Code::kBadValue, fmt::format("rule '{}': action '{}' is not one of alert, kill, pause", rn, echo(s)));
          ok = false;
        }
      } else if (key == "enabled") {
        const std::string s = scalar(v);
        if (s == "true" || s == "false") {
          rule.enabled = s == "true";
        } else {
          error(v, Code::kBadValue, fmt::format("rule '{}': enabled is true or false, found '{}'", rn, echo(s)));
          ok = false;
        }
      } else {
        error(kv.first, Code::kUnknownKey,
              fmt::format("rule '{}': unknown key '{}' (name, desc, condition, sequence, within, same, threshold, "
                          "join, severity, confidence, attack, title, action, enabled)",
                          rn, echo(key)));
        ok = false;
      }
    }
    // `{name: X, enabled: false}` turns off a rule an earlier file (or the built-in pack) defines.
    if (keys.size() == 2 && keys.count("enabled") && !rule.enabled) {
      rule.disable_only = true;
      return ok;
    }
    if (!ok) return false;
    const bool has_condition = rule.condition.has_value();
    const bool has_sequence = !rule.sequence.empty() || keys.count("sequence");
    if (has_condition == has_sequence) {
      error(n, has_condition ? Code::kBadValue : Code::kMissingKey,
            fmt::format("rule '{}': give exactly one of condition and sequence", rn));
      return false;
    }
    if (has_sequence && (rule.sequence.size() < 2 || rule.sequence.size() > kMaxSequenceSteps)) {
      error(rule.sequence_pos, Code::kBadValue,
            fmt::format("rule '{}': a sequence has 2 to {} steps, found {}", rn, kMaxSequenceSteps, rule.sequence.size()));
      return false;
    }
    if (has_sequence && !rule.within_ms) {
      error(n, Code::kMissingKey, fmt::format("rule '{}': a sequence needs within (e.g. within: 60s)", rn));
      return false;
    }
    if (rule.threshold && has_sequence) {
      error(rule.threshold_pos, Code::kBadValue, fmt::format("rule '{}': threshold applies to a condition, not a sequence", rn));
      return false;
    }
    if (rule.threshold && !rule.within_ms) {
      error(rule.threshold_pos, Code::kMissingKey, fmt::format("rule '{}': a threshold needs within (e.g. within: 10s)", rn));
      return false;
    }
    if (!has_sequence && !rule.threshold && rule.within_ms) {
      error(rule.within_pos, Code::kBadValue, fmt::format("rule '{}': within applies to a sequence or a threshold", rn));
      return false;
    }
    if (!has_sequence && !rule.threshold && rule.has_same) {
      error(rule.same_pos, Code::kBadValue, fmt::format("rule '{}': same applies to a sequence or a threshold", rn));
      return false;
    }
    if (rule.threshold && rule.same == Same::kProcessTree) {
      error(rule.same_pos, Code::kBadValue, fmt::format("rule '{}': a threshold counts per session or per process", rn));
      return false;
    }
    if (rule.join_first && !has_sequence) {
      error(rule.join_pos, Code::kBadValue, fmt::format("rule '{}': join applies to a sequence", rn));
      return false;
    }
    return true;
  }

  bool readAttack(const YAML::Node& v, RawRule& rule) {
    if (!v.IsSequence()) {
      error(v, Code::kBadValue, fmt::format("rule '{}': attack is a list of MITRE ATT&CK ids, e.g. [T1059.004, TA0002]", rule.name));
      return false;
    }
    std::vector<AttackId> techniques;
    std::vector<AttackId> tactics;
    bool ok = true;
    for (const auto& item : v) {
      const std::string s = scalar(item);
      auto id = parseAttackId(s);
      if (!id) {
        error(item, Code::kBadValue,
              fmt::format("rule '{}': '{}' is not a MITRE ATT&CK technique (T1059, T1059.004) or tactic (TA0002) id",
                          rule.name, echo(s)));
        ok = false;
        continue;
      }
      (id->tactic ? tactics : techniques).push_back(*id);
    }
    // One entry per technique, with the rule's first tactic; tactics alone when there is no technique.
    for (const auto& t : techniques) {
      ocsf::Attack a;
      a.technique_uid = t.uid;
      a.technique_name = t.name;
      if (!tactics.empty()) {
        a.tactic_uid = tactics.front().uid;
        a.tactic_name = tactics.front().name;
      }
      rule.attacks.push_back(std::move(a));
    }
    if (techniques.empty()) {
      for (const auto& t : tactics) {
        ocsf::Attack a;
        a.tactic_uid = t.uid;
        a.tactic_name = t.name;
        rule.attacks.push_back(std::move(a));
      }
    }
    return ok;
  }

  std::string_view text_;
  std::string name_;
  Diagnostics& diags_;
  size_t nodes_ = 0;
};

}  // namespace

std::string_view sameName(Same same) {
  switch (same) {
    case Same::kSession: return "session";
    case Same::kProcess: return "process";
    case Same::kProcessTree: return "process_tree";
  }
  return "session";
}

std::string_view actionName(ActionKind action) {
  switch (action) {
    case ActionKind::kAlert: return "alert";
    case ActionKind::kKill: return "kill";
    case ActionKind::kPause: return "pause";
  }
  return "alert";
}

std::optional<AttackId> parseAttackId(std::string_view id) {
  AttackId out;
  if (id.size() == 6 && id.substr(0, 2) == "TA" && digits(id.substr(2))) {
    out.tactic = true;
  } else if (id.size() == 5 && id[0] == 'T' && digits(id.substr(1))) {
    out.tactic = false;
  } else if (id.size() == 9 && id[0] == 'T' && digits(id.substr(1, 4)) && id[5] == '.' && digits(id.substr(6))) {
    out.tactic = false;
  } else {
    return std::nullopt;
  }
  out.uid = std::string(id);
  for (const auto& n : kAttackNames) {
    if (n.id == id) out.name = std::string(n.name);
  }
  return out;
}

RuleFile parseRuleFile(std::string_view text, std::string_view name, Diagnostics& diagnostics) {
  RuleFile file;
  file.name = std::string(name);
  if (text.size() > kMaxRuleFileBytes) {
    diagnostics.add(name, {}, Code::kTooLarge,
                    fmt::format("the file is {} bytes; a rule file may be at most {} bytes", text.size(), kMaxRuleFileBytes));
    return file;
  }
  try {
    const std::string buffer(text);
    const YAML::Node root = YAML::Load(buffer);
    Reader(text, name, diagnostics).read(root, file);
  } catch (const YAML::Exception& e) {
    const SourcePos at = e.mark.is_null() ? SourcePos{} : SourcePos{e.mark.line + 1, e.mark.column + 1};
    diagnostics.add(name, at, Code::kYamlError, fmt::format("YAML syntax error: {}", e.msg));
  } catch (const std::exception& e) {
    diagnostics.add(name, {}, Code::kYamlError, fmt::format("could not read the rule file: {}", e.what()));
  }
  return file;
}

}  // namespace warden::detect
