#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace warden::detect {

// The condition language of detect.md, parsed (not yet resolved against lists, macros or the
// schema: see compiler.h). Offsets are byte offsets into the condition text, for diagnostics.
//
//   expr     := or
//   or       := and ("or" and)*
//   and      := unary ("and" unary)*
//   unary    := "not" unary | "(" expr ")" | NAME "(" args ")" | PATH "exists"
//             | PATH op value | PATH op "(" items ")" | NAME          (a macro)
//   op       := = == != < <= > >= in contains icontains startswith endswith glob regex
//   value    := STRING | NUMBER | true | false
//   items    := item ("," item)*      item := value | NAME (a list, expanded in place)
//
// `in` takes a parenthesised set; the string operators also accept one (any item matches).
// Strings are quoted ("..." or '...', backslash escapes \" \' \\ \n \t); bare words are paths,
// macro names or list names, never strings, so a misspelt list name is an error.

enum class Op { kEq, kNe, kLt, kLe, kGt, kGe, kIn, kContains, kIContains, kStartsWith, kEndsWith, kGlob, kRegex };

// "=", "!=", "in", "contains", ...
std::string_view opName(Op op);

struct Literal {
  enum class Kind { kString, kNumber, kBool };
  Kind kind = Kind::kString;
  std::string text;  // the string, or the number/bool as written
  bool is_int = false;
  int64_t i = 0;     // kNumber with is_int
  double d = 0;      // kNumber (always set)
  bool b = false;    // kBool
};

struct Operand {
  bool is_list = false;  // a list name (name), else a literal
  std::string name;
  Literal literal;
  size_t offset = 0;
};

struct Expr {
  enum class Kind { kAnd, kOr, kNot, kCompare, kExists, kMacro, kCall };
  Kind kind = Kind::kCompare;
  size_t offset = 0;                        // where the expression starts
  std::vector<std::unique_ptr<Expr>> args;  // kAnd/kOr (2+), kNot (1)
  std::string name;                         // kCompare/kExists: the path; kMacro/kCall: the name
  Op op = Op::kEq;                          // kCompare
  bool set = false;                         // kCompare: the right side was a parenthesised set
  size_t op_offset = 0;
  std::vector<Operand> operands;            // kCompare
  std::vector<std::pair<std::string, size_t>> call_args;  // kCall: paths and their offsets
};

struct ParseError {
  size_t offset = 0;
  std::string message;
};

// Longest condition text and deepest nesting accepted (a config file is bounded input).
inline constexpr size_t kMaxConditionBytes = 64 * 1024;
inline constexpr int kMaxConditionDepth = 64;

// Parses one condition. Never throws (only std::bad_alloc); every input gets an Expr or an error.
std::variant<std::unique_ptr<Expr>, ParseError> parseCondition(std::string_view text);

// A title template: literal text and %{path} references, in order.
struct TemplatePiece {
  bool is_path = false;
  std::string text;  // literal text, or the path
  size_t offset = 0;
};
// Splits "Downloaded script piped to %{process.name}". "%%" is a literal "%". An unclosed or empty
// %{...} is an error.
std::variant<std::vector<TemplatePiece>, ParseError> parseTemplate(std::string_view text);

}  // namespace warden::detect
