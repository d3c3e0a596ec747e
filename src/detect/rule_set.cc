#include "detect/rule_set.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <unordered_map>
#include <unordered_set>
#include <variant>

#include "common/file_io.h"
#include "common/unique_fd.h"
#include "detect/builtin_rules.h"
#include "ocsf/embedded_schema.h"

namespace warden::detect {
namespace {

struct Parsed {
  std::unique_ptr<Expr> expr;
  bool failed = false;
};

// Parses a condition, reporting a syntax error at its position in the file.
Parsed parseAt(const Located& text, std::string_view file, Diagnostics& diags) {
  auto r = parseCondition(text.text);
  if (auto* err = std::get_if<ParseError>(&r)) {
    diags.add(file, text.map.at(err->offset), Code::kSyntaxError, err->message);
    return Parsed{nullptr, true};
  }
  return Parsed{std::move(std::get<std::unique_ptr<Expr>>(r)), false};
}

class RuleCompiler {
 public:
  RuleCompiler(const Library& library, const ocsf::Schema& schema, Diagnostics& diags)
      : library_(library), schema_(schema), diags_(diags) {}

  std::optional<CompiledRule> compile(const RawRule& raw, std::string_view file) {
    ConditionCompiler cc(library_, schema_, diags_, raw.name);
    CompiledRule rule;
    rule.name = raw.name;
    rule.desc = raw.desc;
    rule.file = std::string(file);
    rule.pos = raw.pos;
    rule.kind = raw.condition ? (raw.threshold ? CompiledRule::Kind::kThreshold : CompiledRule::Kind::kCondition)
                              : CompiledRule::Kind::kSequence;
    rule.within_ms = raw.within_ms.value_or(0);
    rule.same = raw.same;
    rule.threshold = raw.threshold.value_or(0);
    rule.severity = raw.severity;
    rule.confidence = raw.confidence;
    rule.attacks = raw.attacks;
    rule.action = raw.action;
    std::vector<const Located*> texts;
    if (raw.condition) {
      texts.push_back(&*raw.condition);
    } else {
      for (const auto& s : raw.sequence) texts.push_back(&s);
    }
    bool ok = true;
    for (size_t k = 0; k < texts.size(); ++k) {
      const Located& text = *texts[k];
      Parsed parsed = parseAt(text, file, diags_);
      if (parsed.failed) {
        ok = false;
        continue;
      }
      const Where where{file, &text.map};
      const ClassSet classes = cc.classesOf(*parsed.expr);
      auto node = cc.compile(*parsed.expr, where, classes);
      if (!node) {
        ok = false;
        continue;
      }
      if (classes == 0) {
        if (!cc.reportedUnreachable()) {
          diags_.add(file, text.pos, Code::kUnreachableRule,
                     fmt::format("rule '{}': {} can never match: its class_uid constraints exclude each other",
                                 raw.name, texts.size() > 1 ? fmt::format("sequence step {}", k + 1) : "the condition"));
        }
        ok = false;
        continue;
      }
      pruneClassChecks(*node, classes);  // the class index already guarantees them
      rule.steps.push_back(std::move(*node));
      rule.step_classes.push_back(classes);
    }
    if (!ok) return std::nullopt;
    const ClassSet last = rule.step_classes.back();
    // The title: from `title`, else the description, else the rule's name.
    if (raw.title) {
      auto t = parseTemplate(raw.title->text);
      if (auto* err = std::get_if<ParseError>(&t)) {
        diags_.add(file, raw.title->map.at(err->offset), Code::kSyntaxError, err->message);
        return std::nullopt;
      }
      rule.title = std::move(std::get<std::vector<TemplatePiece>>(t));
      const Where where{file, &raw.title->map};
      for (const auto& piece : rule.title) {
        if (!piece.is_path) continue;
        if (!cc.checkField(piece.text, last, where, where.at(piece.offset))) ok = false;
        rule.title_paths.emplace_back(piece.text);
      }
    } else {
      rule.title.push_back(TemplatePiece{false, raw.desc.empty() ? raw.name : raw.desc, 0});
    }
    if (raw.join_first && raw.join_last) {
      const Where first{file, &raw.join_first->map};
      const Where second{file, &raw.join_last->map};
      if (!cc.checkField(raw.join_first->text, rule.step_classes.front(), first, raw.join_first->pos)) ok = false;
      if (!cc.checkField(raw.join_last->text, last, second, raw.join_last->pos)) ok = false;
      rule.join_first = FieldPath(raw.join_first->text);
      rule.join_last = FieldPath(raw.join_last->text);
    }
    if (!ok) return std::nullopt;
    return rule;
  }

 private:
  const Library& library_;
  const ocsf::Schema& schema_;
  Diagnostics& diags_;
};

Result<std::shared_ptr<const RuleSet>> fail(Diagnostics& found, Diagnostics* out) {
  found.sort();
  if (out != nullptr) out->append(found);
  return invalidArgument(found.toString());
}

}  // namespace

Result<std::shared_ptr<const RuleSet>> RuleSet::compile(const std::vector<RuleSource>& files, const RuleSetOptions& options,
                                                        Diagnostics* diagnostics) {
  auto schema = ocsf::embeddedSchema();
  if (!schema.ok()) return schema.error().withContext("detection rules need the OCSF schema");
  Diagnostics found;
  std::vector<RuleFile> parsed;
  parsed.push_back(parseRuleFile(builtinRulesText(), kBuiltinRulesName, found));
  for (const auto& f : files) parsed.push_back(parseRuleFile(f.text, f.name, found));

  // Lists and macros, in load order; one definition per name.
  Library library;
  std::vector<std::pair<std::string, const RawMacro*>> macro_order;
  for (const auto& file : parsed) {
    for (const auto& list : file.lists) {
      Library::List def{list.items, file.name, list.pos};
      if (const auto* prior = library.findList(list.name)) {
        found.add(file.name, list.pos, Code::kDuplicateName,
                  fmt::format("list '{}' is already defined at {}:{}:{}", list.name, prior->file, prior->pos.line,
                              prior->pos.column));
        continue;
      }
      library.addList(list.name, std::move(def));
    }
    for (const auto& macro : file.macros) {
      if (const auto* prior = library.findMacro(macro.name)) {
        found.add(file.name, macro.pos, Code::kDuplicateName,
                  fmt::format("macro '{}' is already defined at {}:{}:{}", macro.name, prior->file, prior->pos.line,
                              prior->pos.column));
        continue;
      }
      Library::Macro def;
      def.expr = parseAt(macro.condition, file.name, found).expr;
      def.file = file.name;
      def.pos = macro.pos;
      def.text = macro.condition.text;
      def.map = std::make_unique<TextMap>(macro.condition.map);
      library.addMacro(macro.name, std::move(def));
      macro_order.emplace_back(macro.name, &macro);
    }
  }
  // Every macro checked once on its own (unknown lists, macros, fields, regexes), used or not.
  for (const auto& [name, raw] : macro_order) {
    const auto* def = library.findMacro(name);
    if (def == nullptr || def->expr == nullptr) continue;
    ConditionCompiler cc(library, *schema, found, "macro:" + name);
    const Where where{def->file, def->map.get()};
    (void)cc.compile(*def->expr, where, cc.classesOf(*def->expr));
  }

  // Rules, in load order; `{name, enabled: false}` removes an earlier one.
  std::vector<std::optional<CompiledRule>> rules;
  std::unordered_map<std::string, size_t> by_name;
  std::unordered_map<std::string, std::string> defined_at;
  std::unordered_set<std::string> builtin_off;
  RuleCompiler compiler(library, *schema, found);
  for (size_t fi = 0; fi < parsed.size(); ++fi) {
    const RuleFile& file = parsed[fi];
    const bool builtin = fi == 0;
    for (const RawRule& raw : file.rules) {
      if (builtin && !options.builtin_rules) {
        // The pack's rules are off: their names are free, and turning one off is a no-op.
        builtin_off.insert(raw.name);
        continue;
      }
      if (raw.disable_only) {
        const auto it = by_name.find(raw.name);
        if (it != by_name.end()) {
          rules[it->second].reset();
        } else if (defined_at.count(raw.name) == 0 && builtin_off.count(raw.name) == 0) {
          found.add(file.name, raw.pos, Code::kUnknownRule,
                    fmt::format("'{}' turns off a rule no earlier file (or the built-in pack) defines", raw.name));
        }
        continue;
      }
      if (const auto it = defined_at.find(raw.name); it != defined_at.end()) {
        found.add(file.name, raw.pos, Code::kDuplicateName,
                  fmt::format("rule '{}' is already defined at {} (turn it off with {{name: {}, enabled: false}})",
                              raw.name, it->second, raw.name));
        continue;
      }
      defined_at.emplace(raw.name, fmt::format("{}:{}:{}", file.name, raw.pos.line, raw.pos.column));
      auto compiled = compiler.compile(raw, file.name);
      if (!compiled || !raw.enabled) continue;
      by_name.emplace(raw.name, rules.size());
      rules.push_back(std::move(compiled));
    }
  }
  if (!found.empty()) return fail(found, diagnostics);

  std::shared_ptr<RuleSet> set(new RuleSet());
  for (auto& r : rules) {
    if (r) set->rules_.push_back(std::move(*r));
  }
  for (uint32_t i = 0; i < set->rules_.size(); ++i) {
    const CompiledRule& rule = set->rules_[i];
    if (rule.kind == CompiledRule::Kind::kSequence && rule.same == Same::kProcessTree) set->uses_process_tree_ = true;
    // Later steps first: an event is tried as the end of a sequence before it starts a new one.
    for (uint32_t k = static_cast<uint32_t>(rule.steps.size()); k-- > 0;) {
      for (size_t c = 0; c < kWardenClasses.size(); ++c) {
        if (rule.step_classes[k] & (1u << c)) set->by_class_[c].push_back(StepRef{i, k});
      }
    }
  }
  return std::shared_ptr<const RuleSet>(std::move(set));
}

Result<std::shared_ptr<const RuleSet>> RuleSet::load(const std::vector<std::filesystem::path>& files,
                                                     const RuleSetOptions& options, Diagnostics* diagnostics) {
  std::vector<RuleSource> sources;
  Diagnostics found;
  for (const auto& path : files) {
    const std::string name = path.string();
    UniqueFd fd(::open(name.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
      found.add(name, {}, Code::kUnreadable, errnoError(fmt::format("cannot open rule file '{}'", name)).message());
      continue;
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || S_ISDIR(st.st_mode)) {
      found.add(name, {}, Code::kUnreadable, fmt::format("'{}' is not a regular file", name));
      continue;
    }
    auto text = readAll(fd.get(), name, kMaxRuleFileBytes, OverLimit::kFail);
    if (!text.ok()) {
      const bool big = text.error().code() == warden::Code::kOutOfRange;
      found.add(name, {}, big ? Code::kTooLarge : Code::kUnreadable,
                big ? fmt::format("'{}' is larger than {} bytes", name, kMaxRuleFileBytes) : text.error().message());
      continue;
    }
    sources.push_back(RuleSource{name, std::move(text).value()});
  }
  if (!found.empty()) return fail(found, diagnostics);
  return compile(sources, options, diagnostics);
}

}  // namespace warden::detect
