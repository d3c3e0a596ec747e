#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace warden::detect {

// What is wrong, as a stable code (`warden rules check` prints it; docs/detection.md lists them).
enum class Code {
  kUnreadable,       // the file cannot be read
  kTooLarge,         // the file is over the size limit
  kYamlError,        // YAML syntax
  kUnknownKey,       // a key the rule file format does not have
  kMissingKey,       // a required key is absent
  kBadValue,         // a value of the wrong shape (severity, within, attack id, ...)
  kDuplicateName,    // two rules, lists or macros with one name
  kSyntaxError,      // a condition that does not parse
  kUnknownField,     // an OCSF path no class the rule can see has
  kTypeMismatch,     // an operator or value that does not fit the field's type
  kUnknownList,      // a list name that is not defined
  kUnknownMacro,     // a macro name that is not defined
  kUnknownFunction,  // f(...) for an f the language does not have
  kUnknownClass,     // class_uid of no OCSF class
  kBadRegex,         // RE2 rejects the pattern
  kBadGlob,          // the glob is rejected
  kMacroCycle,       // a macro that (indirectly) uses itself
  kUnreachableRule,  // the rule can never match
  kUnknownRule,      // `enabled: false` for a rule no earlier file defines
};

// "yaml-error", "unknown-field", ...
std::string_view codeName(Code code);

// A position in a rule file, 1-based as editors show it. 0: not known (the whole file).
struct SourcePos {
  int line = 0;
  int column = 0;
};

// One problem in a rule file, worded so its author can fix it without reading the loader.
struct Diagnostic {
  std::string file;
  SourcePos pos;
  Code code = Code::kBadValue;
  std::string message;

  // "file:line:col: code: message" ("file: code: message" when the position is not known).
  std::string toString() const;
};

// Every problem found in one load, in the order found. At most kMaxDiagnostics are kept (the
// rest are counted), so a pathological file cannot produce an unbounded report. Identical
// entries (same place, code and message — a macro checked once per rule that uses it) are kept
// once. A plain value; not thread-safe.
class Diagnostics {
 public:
  static constexpr size_t kMaxDiagnostics = 200;

  void add(Diagnostic diagnostic);
  void add(std::string_view file, SourcePos pos, Code code, std::string message);
  // Adds every entry of `other` and its dropped count.
  void append(const Diagnostics& other);
  // Orders by file (first-seen order), then line and column; equal positions keep their order.
  void sort();

  bool empty() const { return entries_.empty() && dropped_ == 0; }
  size_t count() const { return entries_.size() + dropped_; }
  size_t dropped() const { return dropped_; }
  const std::vector<Diagnostic>& entries() const { return entries_; }
  // One toString() per line, plus "... and N more problems" when some were dropped. No final newline.
  std::string toString() const;

 private:
  std::vector<Diagnostic> entries_;
  size_t dropped_ = 0;
};

}  // namespace warden::detect
