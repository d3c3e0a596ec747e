#include "audit/verify_line.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/chain_log_writer.h"

namespace warden::audit::verify_line {
namespace {

// Both parsers must read a line the same way: the fast scanner only speeds up the common case.
void expectSameAsFullParser(const std::string& line) {
  ParsedLine fast, full;
  std::string error;
  fast.reset();
  const bool fast_ok = scanLineFast(line, fast);
  full.reset();
  const bool full_ok = parseLineFull(line, full, error);
  if (fast_ok) {
    ASSERT_TRUE(full_ok) << "fast scanner accepted what nlohmann rejects: " << line;
    EXPECT_EQ(fast.root_object, full.root_object) << line;
    EXPECT_EQ(fast.has_seq, full.has_seq) << line;
    EXPECT_EQ(fast.seq, full.seq) << line;
    EXPECT_EQ(fast.seq_mistyped, full.seq_mistyped) << line;
    EXPECT_EQ(fast.session, full.session) << line;
    EXPECT_EQ(fast.prev, full.prev) << line;
    EXPECT_EQ(fast.class_uid, full.class_uid) << line;
    EXPECT_EQ(fast.activity_id, full.activity_id) << line;
    EXPECT_EQ(fast.time, full.time) << line;
    EXPECT_EQ(fast.message, full.message) << line;
    EXPECT_EQ(fast.state, full.state) << line;
    EXPECT_EQ(fast.checkpoint.head, full.checkpoint.head) << line;
    EXPECT_EQ(fast.checkpoint.last_seq, full.checkpoint.last_seq) << line;
    EXPECT_EQ(fast.checkpoint.final, full.checkpoint.final) << line;
    EXPECT_EQ(fast.signing_key.public_key, full.signing_key.public_key) << line;
  }
}

TEST(VerifyLineTest, FastScannerReadsEveryRealEventLikeTheFullParser) {
  warden::testing::ChainLogWriter w("sess-line");
  w.events(300);
  w.setJsonl(false);
  w.setJsonl(true);
  w.loss(3);
  w.checkpoint(true);
  for (const auto& line : w.lines()) {
    ParsedLine p;
    p.reset();
    ASSERT_TRUE(scanLineFast(line, p)) << "canonical line left to the slow path: " << line;
    expectSameAsFullParser(line);
  }
}

TEST(VerifyLineTest, FastScannerAgreesWithFullParserOnEdgeCases) {
  const std::vector<std::string> cases = {
      R"({})",
      R"( {"metadata" : {"sequence" : 7 , "correlation_uid":"s"} } )",
      R"({"metadata":{"sequence":-0}})",
      R"({"metadata":{"sequence":1.0}})",
      R"({"metadata":{"sequence":1e3}})",
      R"({"metadata":{"sequence":1e999999}})",
      R"({"x":-1.5E-400})",
      R"({"metadata":{"sequence":"7"}})",
      R"({"metadata":{"sequence":[7]}})",
      R"({"metadata":{"sequence":true}})",
      R"({"metadata":{"sequence":18446744073709551615}})",
      R"({"metadata":{"sequence":18446744073709551616}})",
      R"({"metadata":{"sequence":01}})",
      R"({"time":-9223372036854775808})",
      R"({"time":-9223372036854775809})",
      R"({"message":"a\"b\\c\/d\u00e9\u20ac\n"})",
      R"({"message":"\ud83d\ude00"})",
      R"({"message":"\ud83d"})",
      R"({"mess\u0061ge":"escaped key"})",
      "{\"message\":\"caf\xc3\xa9\"}",
      "{\"message\":\"bad \xc3\x28\"}",
      "{\"message\":\"overlong \xc0\xaf\"}",
      "{\"message\":\"surrogate \xed\xa0\x80\"}",
      "{\"message\":\"ctl \x01\"}",
      "\xef\xbb\xbf{\"a\":1}",
      R"({"a":1,})",
      R"({"a":1}x)",
      R"({"a":[1,2,]})",
      R"({"a":tru})",
      R"([1,2])",
      R"("just a string")",
      R"({"a":{"b":{"c":{"d":[[[[[[]]]]]]}}}})",
      R"({"unmapped":{"checkpoint":{"final":true,"last_seq":5,"head":"ab"}}})",
      R"({"metadata":{"sequence":5},"metadata":{"sequence":6}})",
      "",
      "{",
      std::string(200, '[') + std::string(200, ']'),
  };
  for (const auto& c : cases) expectSameAsFullParser(c);
}

TEST(VerifyLineTest, FullParserNamesTheSyntaxError) {
  ParsedLine p;
  std::string error;
  p.reset();
  EXPECT_FALSE(parseLine("{\"a\": oops}", p, error));
  EXPECT_NE(error.find("not valid JSON at byte"), std::string::npos) << error;
}

}  // namespace
}  // namespace warden::audit::verify_line
