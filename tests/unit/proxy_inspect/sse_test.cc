#include "proxy/inspect/sse.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace warden::proxy::inspect {
namespace {

struct Seen {
  std::string type;
  std::string data;
  std::string id;
  bool oversized;
};

std::vector<Seen> parseInPieces(std::string_view stream, size_t piece, SseParser& parser) {
  std::vector<Seen> out;
  for (size_t i = 0; i < stream.size(); i += piece) {
    parser.feed(stream.substr(i, piece), [&](const SseEvent& e) {
      out.push_back({std::string(e.type), std::string(e.data), std::string(e.id), e.oversized});
    });
  }
  return out;
}

constexpr std::string_view kStream =
    "\xEF\xBB\xBF: a comment\r\n"
    "event: message_start\r\n"
    "data: {\"a\":1}\r\n"
    "\r\n"
    "id: 7\n"
    "data: line one\n"
    "data:line two\n"
    "\n"
    "data: cr only\r\r"
    "retry: 100\n"
    "event: ignored-without-data\n\n";

TEST(SseParserTest, GivesTheSameEventsWhateverTheSplitAndLineEnding) {
  for (size_t piece : {kStream.size(), size_t{1}, size_t{2}, size_t{3}, size_t{7}}) {
    SseParser parser;
    const auto events = parseInPieces(kStream, piece, parser);
    ASSERT_EQ(events.size(), 3u) << "piece " << piece;
    EXPECT_EQ(events[0].type, "message_start");
    EXPECT_EQ(events[0].data, "{\"a\":1}");
    EXPECT_EQ(events[1].type, "");
    EXPECT_EQ(events[1].data, "line one\nline two");
    EXPECT_EQ(events[1].id, "7");
    EXPECT_EQ(events[2].data, "cr only");
    EXPECT_TRUE(parser.finish()) << "piece " << piece;
  }
}

TEST(SseParserTest, AStreamCutInsideAnEventIsNotFinished) {
  SseParser parser;
  int events = 0;
  parser.feed("data: whole\n\ndata: {\"half\":", [&](const SseEvent&) { ++events; });
  EXPECT_EQ(events, 1);
  EXPECT_FALSE(parser.finish());
}

TEST(SseParserTest, AnOversizedEventKeepsTheLimitAndIsFlagged) {
  SseParser parser(16);
  std::vector<Seen> out;
  const std::string big = "data: " + std::string(100, 'x') + "\ndata: more\n\ndata: small\n\n";
  parser.feed(big, [&](const SseEvent& e) { out.push_back({"", std::string(e.data), "", e.oversized}); });
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(out[0].oversized);
  EXPECT_LE(out[0].data.size(), 16u);
  EXPECT_FALSE(out[1].oversized);
  EXPECT_EQ(out[1].data, "small");
  EXPECT_EQ(parser.oversizedEvents(), 1u);
}

}  // namespace
}  // namespace warden::proxy::inspect
