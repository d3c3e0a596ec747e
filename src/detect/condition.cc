#include "detect/condition.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <optional>

namespace warden::detect {
namespace {

enum class Tok { kEnd, kName, kString, kNumber, kLParen, kRParen, kComma, kCmp, kError };

struct Token {
  Tok type = Tok::kEnd;
  std::string text;  // name, decoded string, number text, comparison operator, or error message
  size_t offset = 0;
};

bool isNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool isNameChar(char c) { return isNameStart(c) || (c >= '0' && c <= '9') || c == '.' || c == '-'; }
bool isDigit(char c) { return c >= '0' && c <= '9'; }

// Printable rendering of a byte for messages.
std::string showChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x21 && u < 0x7f) return fmt::format("'{}'", c);
  return fmt::format("byte 0x{:02x}", u);
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : s_(text) {}

  Token next() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
    Token t;
    t.offset = pos_;
    if (pos_ >= s_.size()) return t;
    const char c = s_[pos_];
    if (c == '(') return single(t, Tok::kLParen);
    if (c == ')') return single(t, Tok::kRParen);
    if (c == ',') return single(t, Tok::kComma);
    if (c == '=' || c == '!' || c == '<' || c == '>') return comparison(t);
    if (c == '"' || c == '\'') return quoted(t, c);
    if (isDigit(c) || (c == '-' && pos_ + 1 < s_.size() && isDigit(s_[pos_ + 1]))) return number(t);
    if (isNameStart(c)) {
      const size_t start = pos_;
      while (pos_ < s_.size() && isNameChar(s_[pos_])) ++pos_;
      t.type = Tok::kName;
      t.text = std::string(s_.substr(start, pos_ - start));
      return t;
    }
    t.type = Tok::kError;
    t.text = fmt::format("unexpected {}", showChar(c));
    return t;
  }

 private:
  Token single(Token t, Tok type) {
    t.type = type;
    t.text = std::string(1, s_[pos_++]);
    return t;
  }

  Token comparison(Token t) {
    const char c = s_[pos_];
    const bool eq_next = pos_ + 1 < s_.size() && s_[pos_ + 1] == '=';
    t.type = Tok::kCmp;
    if (c == '!' && !eq_next) {
      t.type = Tok::kError;
      t.text = "'!' must be followed by '=' (use `not` to negate)";
      ++pos_;
      return t;
    }
    t.text = std::string(s_.substr(pos_, eq_next ? 2 : 1));
    pos_ += eq_next ? 2 : 1;
    return t;
  }

  Token quoted(Token t, char quote) {
    ++pos_;
    std::string out;
    while (pos_ < s_.size()) {
      const char c = s_[pos_++];
      if (c == quote) {
        t.type = Tok::kString;
        t.text = std::move(out);
        return t;
      }
      if (c == '\\') {
        if (pos_ >= s_.size()) break;
        const char e = s_[pos_++];
        switch (e) {
          case 'n': out.push_back('\n'); break;
          case 't': out.push_back('\t'); break;
          case 'r': out.push_back('\r'); break;
          case '\\': out.push_back('\\'); break;
          case '"': out.push_back('"'); break;
          case '\'': out.push_back('\''); break;
          default:
            // Kept as written, so regexes read naturally: "\s" stays backslash-s.
            out.push_back('\\');
            out.push_back(e);
        }
        continue;
      }
      out.push_back(c);
    }
    t.type = Tok::kError;
    t.text = "unterminated string";
    return t;
  }

  Token number(Token t) {
    const size_t start = pos_;
    if (s_[pos_] == '-') ++pos_;
    while (pos_ < s_.size() && isDigit(s_[pos_])) ++pos_;
    if (pos_ + 1 < s_.size() && s_[pos_] == '.' && isDigit(s_[pos_ + 1])) {
      ++pos_;
      while (pos_ < s_.size() && isDigit(s_[pos_])) ++pos_;
    }
    if (pos_ < s_.size() && isNameChar(s_[pos_])) {
      while (pos_ < s_.size() && isNameChar(s_[pos_])) ++pos_;
      t.type = Tok::kError;
      t.text = fmt::format("'{}' is not a number (quote strings)", s_.substr(start, pos_ - start));
      return t;
    }
    t.type = Tok::kNumber;
    t.text = std::string(s_.substr(start, pos_ - start));
    return t;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

std::optional<Op> keywordOp(std::string_view w) {
  if (w == "in") return Op::kIn;
  if (w == "contains") return Op::kContains;
  if (w == "icontains") return Op::kIContains;
  if (w == "startswith") return Op::kStartsWith;
  if (w == "endswith") return Op::kEndsWith;
  if (w == "glob") return Op::kGlob;
  if (w == "regex") return Op::kRegex;
  return std::nullopt;
}

std::optional<Op> cmpOp(std::string_view w) {
  if (w == "=" || w == "==") return Op::kEq;
  if (w == "!=") return Op::kNe;
  if (w == "<") return Op::kLt;
  if (w == "<=") return Op::kLe;
  if (w == ">") return Op::kGt;
  if (w == ">=") return Op::kGe;
  return std::nullopt;
}

bool isReserved(std::string_view w) {
  return w == "and" || w == "or" || w == "not" || w == "exists" || w == "true" || w == "false" ||
         keywordOp(w).has_value();
}

std::string describe(const Token& t) {
  switch (t.type) {
    case Tok::kEnd: return "end of condition";
    case Tok::kString: return "a string";
    case Tok::kNumber: return fmt::format("'{}'", t.text);
    default: return fmt::format("'{}'", t.text);
  }
}

struct Failure {
  ParseError error;
};

class Parser {
 public:
  explicit Parser(std::string_view text) : lexer_(text) { advance(); }

  std::unique_ptr<Expr> parseAll() {
    auto e = parseOr(0);
    if (cur_.type != Tok::kEnd) fail(cur_.offset, fmt::format("expected `and`, `or` or the end, found {}", describe(cur_)));
    return e;
  }


 private:
  [[noreturn]] void fail(size_t offset, std::string message) { throw Failure{ParseError{offset, std::move(message)}}; }

  void advance() {
    cur_ = lexer_.next();
    if (cur_.type == Tok::kError) fail(cur_.offset, cur_.text);
  }

  bool isWord(std::string_view w) const { return cur_.type == Tok::kName && cur_.text == w; }

  std::unique_ptr<Expr> parseOr(int depth) {
    auto left = parseAnd(depth);
    if (!isWord("or")) return left;
    auto node = std::make_unique<Expr>();
    node->kind = Expr::Kind::kOr;
    node->offset = left->offset;
    node->args.push_back(std::move(left));
    while (isWord("or")) {
      advance();
      node->args.push_back(parseAnd(depth));
    }
    return node;
  }

  std::unique_ptr<Expr> parseAnd(int depth) {
    auto left = parseUnary(depth);
    if (!isWord("and")) return left;
    auto node = std::make_unique<Expr>();
    node->kind = Expr::Kind::kAnd;
    node->offset = left->offset;
    node->args.push_back(std::move(left));
    while (isWord("and")) {
      advance();
      node->args.push_back(parseUnary(depth));
    }
    return node;
  }

  std::unique_ptr<Expr> parseUnary(int depth) {
    if (depth > kMaxConditionDepth) fail(cur_.offset, fmt::format("nested deeper than {} levels", kMaxConditionDepth));
    const size_t offset = cur_.offset;
    if (isWord("not")) {
      advance();
      auto node = std::make_unique<Expr>();
      node->kind = Expr::Kind::kNot;
      node->offset = offset;
      node->args.push_back(parseUnary(depth + 1));
      return node;
    }
    if (cur_.type == Tok::kLParen) {
      advance();
      auto inner = parseOr(depth + 1);
      if (cur_.type != Tok::kRParen) fail(cur_.offset, fmt::format("expected ')', found {}", describe(cur_)));
      advance();
      return inner;
    }
    if (cur_.type != Tok::kName) fail(cur_.offset, fmt::format("expected a field, a macro or '(', found {}", describe(cur_)));
    if (isReserved(cur_.text)) fail(cur_.offset, fmt::format("expected a field, a macro or '(', found keyword '{}'", cur_.text));
    std::string name = cur_.text;
    advance();
    // A function call: NAME "(" paths ")".
    if (cur_.type == Tok::kLParen) return parseCall(std::move(name), offset);
    // A predicate on a field.
    if (isWord("exists")) {
      advance();
      auto node = std::make_unique<Expr>();
      node->kind = Expr::Kind::kExists;
      node->offset = offset;
      node->name = std::move(name);
      return node;
    }
    std::optional<Op> op;
    if (cur_.type == Tok::kCmp) op = cmpOp(cur_.text);
    if (cur_.type == Tok::kName) op = keywordOp(cur_.text);
    if (!op) {
      // A macro: a bare name followed by nothing an operator could be.
      auto node = std::make_unique<Expr>();
      node->kind = Expr::Kind::kMacro;
      node->offset = offset;
      node->name = std::move(name);
      if (cur_.type == Tok::kName && !isWord("and") && !isWord("or")) {
        fail(cur_.offset, fmt::format("expected an operator after '{}', found {}", node->name, describe(cur_)));
      }
      if (cur_.type == Tok::kString || cur_.type == Tok::kNumber) {
        fail(cur_.offset, fmt::format("expected an operator after '{}', found {}", node->name, describe(cur_)));
      }
      return node;
    }
    auto node = std::make_unique<Expr>();
    node->kind = Expr::Kind::kCompare;
    node->offset = offset;
    node->name = std::move(name);
    node->op = *op;
    node->op_offset = cur_.offset;
    advance();
    if (cur_.type == Tok::kLParen) {
      node->set = true;
      advance();
      if (cur_.type == Tok::kRParen) {
        advance();  // an empty set: matches nothing (the compiler reports it)
        return node;
      }
      for (;;) {
        node->operands.push_back(parseItem(/*allow_list=*/true));
        if (cur_.type == Tok::kComma) {
          advance();
          continue;
        }
        if (cur_.type != Tok::kRParen) fail(cur_.offset, fmt::format("expected ',' or ')', found {}", describe(cur_)));
        advance();
        break;
      }
      return node;
    }
    if (*op == Op::kIn) fail(cur_.offset, "`in` takes a parenthesised set: in (a, b) or in (list_name)");
    node->operands.push_back(parseItem(/*allow_list=*/false));
    return node;
  }

  std::unique_ptr<Expr> parseCall(std::string name, size_t offset) {
    advance();  // '('
    auto node = std::make_unique<Expr>();
    node->kind = Expr::Kind::kCall;
    node->offset = offset;
    node->name = std::move(name);
    if (cur_.type == Tok::kRParen) fail(cur_.offset, fmt::format("{}() needs at least one field", node->name));
    for (;;) {
      if (cur_.type != Tok::kName || isReserved(cur_.text)) fail(cur_.offset, fmt::format("expected a field, found {}", describe(cur_)));
      node->call_args.emplace_back(cur_.text, cur_.offset);
      advance();
      if (cur_.type == Tok::kComma) {
        advance();
        continue;
      }
      if (cur_.type != Tok::kRParen) fail(cur_.offset, fmt::format("expected ',' or ')', found {}", describe(cur_)));
      advance();
      return node;
    }
  }

  Operand parseItem(bool allow_list) {
    Operand o;
    o.offset = cur_.offset;
    switch (cur_.type) {
      case Tok::kString:
        o.literal.kind = Literal::Kind::kString;
        o.literal.text = cur_.text;
        break;
      case Tok::kNumber: {
        o.literal = numberLiteral(cur_.text);
        break;
      }
      case Tok::kName:
        if (cur_.text == "true" || cur_.text == "false") {
          o.literal.kind = Literal::Kind::kBool;
          o.literal.text = cur_.text;
          o.literal.b = cur_.text == "true";
          break;
        }
        if (!allow_list) {
          fail(cur_.offset, fmt::format("expected a value, found '{}' (quote strings: \"{}\")", cur_.text, cur_.text));
        }
        if (isReserved(cur_.text)) fail(cur_.offset, fmt::format("expected a value or a list name, found keyword '{}'", cur_.text));
        o.is_list = true;
        o.name = cur_.text;
        break;
      default: fail(cur_.offset, fmt::format("expected a value, found {}", describe(cur_)));
    }
    advance();
    return o;
  }

  Literal numberLiteral(const std::string& text) {
    Literal l;
    l.kind = Literal::Kind::kNumber;
    l.text = text;
    int64_t i = 0;
    const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), i);
    if (ec == std::errc() && p == text.data() + text.size()) {
      l.is_int = true;
      l.i = i;
      l.d = static_cast<double>(i);
      return l;
    }
    double d = 0;
    const auto [q, ec2] = std::from_chars(text.data(), text.data() + text.size(), d);
    if (ec2 != std::errc() || q != text.data() + text.size() || !std::isfinite(d)) {
      fail(cur_.offset, fmt::format("'{}' is out of range", text));
    }
    l.d = d;
    return l;
  }

  Lexer lexer_;
  Token cur_;
};

}  // namespace

std::string_view opName(Op op) {
  switch (op) {
    case Op::kEq: return "=";
    case Op::kNe: return "!=";
    case Op::kLt: return "<";
    case Op::kLe: return "<=";
    case Op::kGt: return ">";
    case Op::kGe: return ">=";
    case Op::kIn: return "in";
    case Op::kContains: return "contains";
    case Op::kIContains: return "icontains";
    case Op::kStartsWith: return "startswith";
    case Op::kEndsWith: return "endswith";
    case Op::kGlob: return "glob";
    case Op::kRegex: return "regex";
  }
  return "?";
}

std::variant<std::unique_ptr<Expr>, ParseError> parseCondition(std::string_view text) {
  if (text.size() > kMaxConditionBytes) {
    return ParseError{0, fmt::format("condition is {} bytes; the limit is {}", text.size(), kMaxConditionBytes)};
  }
  // The parser reports through an internal exception that never leaves this function.
  try {
    Parser parser(text);
    auto e = parser.parseAll();
    return e;
  } catch (const Failure& f) {
    return f.error;
  }
}

std::variant<std::vector<TemplatePiece>, ParseError> parseTemplate(std::string_view text) {
  std::vector<TemplatePiece> pieces;
  std::string literal;
  size_t literal_start = 0;
  auto flush = [&]() {
    if (!literal.empty()) pieces.push_back(TemplatePiece{false, std::move(literal), literal_start});
    literal.clear();
  };
  for (size_t i = 0; i < text.size();) {
    if (text[i] == '%' && i + 1 < text.size() && text[i + 1] == '%') {
      if (literal.empty()) literal_start = i;
      literal.push_back('%');
      i += 2;
      continue;
    }
    if (text[i] == '%' && i + 1 < text.size() && text[i + 1] == '{') {
      const size_t close = text.find('}', i + 2);
      if (close == std::string_view::npos) return ParseError{i, "unclosed %{ in title"};
      const std::string_view path = text.substr(i + 2, close - i - 2);
      bool ok = !path.empty() && isNameStart(path.front());
      for (const char c : path) ok = ok && isNameChar(c);
      if (!ok) return ParseError{i, fmt::format("%{{{}}} does not name a field", path)};
      flush();
      pieces.push_back(TemplatePiece{true, std::string(path), i + 2});
      i = close + 1;
      continue;
    }
    if (literal.empty()) literal_start = i;
    literal.push_back(text[i]);
    ++i;
  }
  flush();
  return pieces;
}

}  // namespace warden::detect
