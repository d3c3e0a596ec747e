// The condition language's parser: precedence, values, sets, macros and calls, and where a
// syntax error is.

#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "detect/condition.h"

namespace warden::detect {
namespace {

const Expr& parsed(const std::variant<std::unique_ptr<Expr>, ParseError>& r) {
  if (auto* e = std::get_if<ParseError>(&r)) ADD_FAILURE() << "offset " << e->offset << ": " << e->message;
  return *std::get<std::unique_ptr<Expr>>(r);
}

ParseError failed(std::string_view text) {
  auto r = parseCondition(text);
  if (std::holds_alternative<std::unique_ptr<Expr>>(r)) {
    ADD_FAILURE() << "parsed: " << text;
    return {};
  }
  return std::get<ParseError>(r);
}

TEST(ConditionParserTest, AndBindsTighterThanOrAndNotTighterThanAnd) {
  const auto r = parseCondition("a = 1 or not b = 2 and c exists");
  const Expr& e = parsed(r);
  ASSERT_EQ(e.kind, Expr::Kind::kOr);
  ASSERT_EQ(e.args.size(), 2u);
  EXPECT_EQ(e.args[0]->kind, Expr::Kind::kCompare);
  const Expr& right = *e.args[1];
  ASSERT_EQ(right.kind, Expr::Kind::kAnd);
  EXPECT_EQ(right.args[0]->kind, Expr::Kind::kNot);
  EXPECT_EQ(right.args[1]->kind, Expr::Kind::kExists);
  EXPECT_EQ(right.args[1]->name, "c");
}

TEST(ConditionParserTest, ParenthesesGroup) {
  const auto r = parseCondition("(a = 1 or b = 2) and c = 3");
  const Expr& e = parsed(r);
  ASSERT_EQ(e.kind, Expr::Kind::kAnd);
  EXPECT_EQ(e.args[0]->kind, Expr::Kind::kOr);
}

TEST(ConditionParserTest, ReadsEveryOperatorAndValueKind) {
  const auto r = parseCondition(
      "p.a = 'x' and p.b == 2 and p.c != -3 and p.d < 1.5 and p.e <= 1 and p.f > 1 and p.g >= 1 and p.h in (l, \"s\", 4, "
      "true) and p.i contains \"c\" and p.j icontains \"C\" and p.k startswith \"/\" and p.l endswith \".x\" and p.m "
      "glob \"/a/*\" and p.n regex \"\\s+\\|\" and p.o = false");
  const Expr& e = parsed(r);
  ASSERT_EQ(e.args.size(), 15u);
  EXPECT_EQ(e.args[0]->operands[0].literal.text, "x");
  EXPECT_EQ(e.args[1]->operands[0].literal.i, 2);
  EXPECT_EQ(e.args[2]->op, Op::kNe);
  EXPECT_EQ(e.args[2]->operands[0].literal.i, -3);
  EXPECT_FALSE(e.args[3]->operands[0].literal.is_int);
  EXPECT_DOUBLE_EQ(e.args[3]->operands[0].literal.d, 1.5);
  const Expr& in = *e.args[7];
  EXPECT_EQ(in.op, Op::kIn);
  ASSERT_EQ(in.operands.size(), 4u);
  EXPECT_TRUE(in.operands[0].is_list);
  EXPECT_EQ(in.operands[0].name, "l");
  EXPECT_EQ(in.operands[1].literal.text, "s");
  EXPECT_EQ(in.operands[3].literal.kind, Literal::Kind::kBool);
  EXPECT_EQ(e.args[13]->op, Op::kRegex);
  // Unknown escapes stay as written, so regexes read naturally.
  EXPECT_EQ(e.args[13]->operands[0].literal.text, "\\s+\\|");
  EXPECT_EQ(e.args[14]->operands[0].literal.kind, Literal::Kind::kBool);
}

TEST(ConditionParserTest, ABareNameIsAMacroAndNameParenIsACall) {
  const auto r = parseCondition("spawned_exec and first_seen(app.name, app.version)");
  const Expr& e = parsed(r);
  EXPECT_EQ(e.args[0]->kind, Expr::Kind::kMacro);
  EXPECT_EQ(e.args[0]->name, "spawned_exec");
  ASSERT_EQ(e.args[1]->kind, Expr::Kind::kCall);
  ASSERT_EQ(e.args[1]->call_args.size(), 2u);
  EXPECT_EQ(e.args[1]->call_args[1].first, "app.version");
}

TEST(ConditionParserTest, StringOperatorsTakeASetOfAlternatives) {
  const auto r = parseCondition("file.path glob (credential_paths, \"/x/*\")");
  const Expr& e = parsed(r);
  EXPECT_TRUE(e.set);
  EXPECT_EQ(e.operands.size(), 2u);
}

TEST(ConditionParserTest, BareWordAsAValueIsRejectedSoAMisspeltListCannotPassAsAString) {
  const auto e = failed("process.name = bash");
  EXPECT_EQ(e.offset, 15u);
  EXPECT_NE(e.message.find("quote strings"), std::string::npos) << e.message;
}

TEST(ConditionParserTest, ReportsWhereEachSyntaxErrorIs) {
  EXPECT_EQ(failed("a = 1 and").offset, 9u);
  EXPECT_EQ(failed("(a = 1").offset, 6u);
  EXPECT_EQ(failed("a = 'open").offset, 4u);
  EXPECT_EQ(failed("a in 1").offset, 5u);
  EXPECT_EQ(failed("a ! 1").offset, 2u);
  EXPECT_EQ(failed("a = 1 b = 2").offset, 6u);
  EXPECT_EQ(failed("a = 12abc").offset, 4u);
  EXPECT_EQ(failed("and = 1").offset, 0u);
  EXPECT_EQ(failed("first_seen()").offset, 11u);
  EXPECT_EQ(failed("a = 1 @").offset, 6u);
}

TEST(ConditionParserTest, DeepNestingIsRefusedNotAStackOverflow) {
  std::string deep(10000, '(');
  deep += "a = 1";
  deep += std::string(10000, ')');
  const auto e = failed(deep);
  EXPECT_NE(e.message.find("nested deeper"), std::string::npos);
  std::string nots;
  for (int i = 0; i < 10000; ++i) nots += "not ";
  EXPECT_NE(failed(nots + "a = 1").message.find("nested deeper"), std::string::npos);
}

TEST(ConditionParserTest, OversizedConditionIsRefused) {
  const std::string big = "a = \"" + std::string(kMaxConditionBytes, 'x') + "\"";
  EXPECT_NE(failed(big).message.find("limit"), std::string::npos);
}

TEST(TitleTemplateTest, SplitsLiteralsAndFieldReferences) {
  const auto r = parseTemplate("Piped to %{process.name} (%%{x}) by %{actor.process.pid}");
  const auto& pieces = std::get<std::vector<TemplatePiece>>(r);
  ASSERT_EQ(pieces.size(), 4u);
  EXPECT_EQ(pieces[0].text, "Piped to ");
  EXPECT_TRUE(pieces[1].is_path);
  EXPECT_EQ(pieces[1].text, "process.name");
  EXPECT_EQ(pieces[2].text, " (%{x}) by ");
  EXPECT_EQ(pieces[3].text, "actor.process.pid");
}

TEST(TitleTemplateTest, RejectsUnclosedAndEmptyReferences) {
  EXPECT_TRUE(std::holds_alternative<ParseError>(parseTemplate("a %{process.name")));
  EXPECT_TRUE(std::holds_alternative<ParseError>(parseTemplate("a %{} b")));
  EXPECT_TRUE(std::holds_alternative<ParseError>(parseTemplate("a %{x y} b")));
}

}  // namespace
}  // namespace warden::detect
