#include "audit/emitter.h"

#include <gtest/gtest.h>

namespace warden::audit {
namespace {

constexpr int64_t kNoon = 1795435200000;  // 2026-11-23T12:00:00.000Z

std::string line(std::string_view component, std::string_view message, size_t max = 4096) {
  std::string out;
  appendOperationalLine(out, kNoon, Level::kInfo, component, message, max);
  return out;
}

TEST(OperationalLineTest, HasTimestampLevelComponentAndMessage) {
  EXPECT_EQ(line("proxy", "listening on 10.200.0.1:3128"),
            "2026-11-23T12:00:00.000Z INFO proxy: listening on 10.200.0.1:3128");
  std::string out;
  appendOperationalLine(out, kNoon, Level::kError, "audit", "boom");
  EXPECT_EQ(out, "2026-11-23T12:00:00.000Z ERROR audit: boom");
}

TEST(OperationalLineTest, EscapesControlCharactersSoOneLineStaysOneLine) {
  EXPECT_EQ(line("pro\nxy", std::string("a\nb\rc\0d\x7f" "e\xc2\x85" "f", 12)),
            "2026-11-23T12:00:00.000Z INFO pro\\u{a}xy: a\\u{a}b\\u{d}c\\u{0}d\\u{7f}e\\u{85}f");
}

TEST(OperationalLineTest, WritesInvalidUtf8BytesAsHexAndKeepsValidUtf8) {
  EXPECT_EQ(line("c", "ok \xc3\xa9 bad \xff \xed\xa0\x80 \xf0\x9f\x98\x80"),
            "2026-11-23T12:00:00.000Z INFO c: ok \xc3\xa9 bad \\x{ff} \\x{ed}\\x{a0}\\x{80} \xf0\x9f\x98\x80");
}

TEST(OperationalLineTest, EscapesBracketsSoAMessageCannotImitateAnItem) {
  EXPECT_EQ(line("c", "x [reason:fake]"), "2026-11-23T12:00:00.000Z INFO c: x \\[reason:fake\\]");
}

TEST(OperationalLineTest, CutsLongMessagesAtAUtf8Boundary) {
  EXPECT_EQ(line("c", "abc\xc3\xa9xyz", 4), "2026-11-23T12:00:00.000Z INFO c: abc...");
  EXPECT_EQ(line("c", "   "), "2026-11-23T12:00:00.000Z INFO c:");
}

}  // namespace
}  // namespace warden::audit
