#include "proxy/http_response.h"

#include <gtest/gtest.h>

#include <string>

namespace warden::proxy {
namespace {

HttpResponseParser parseWhole(std::string_view bytes, std::string_view method = "GET",
                              FeedResult* result = nullptr) {
  HttpResponseParser parser(method);
  const FeedResult r = parser.feed(bytes);
  if (result) *result = r;
  return parser;
}

RejectReason rejectionOf(std::string_view bytes) {
  HttpResponseParser parser = parseWhole(bytes);
  EXPECT_EQ(parser.state(), ParseState::kRejected) << bytes;
  if (parser.state() == ParseState::kRejected) {
    EXPECT_EQ(parser.rejection().status, 502);
    return parser.rejection().reason;
  }
  return RejectReason::kBareLf;
}

TEST(HttpResponseParserTest, ParsesContentLengthResponse) {
  FeedResult r;
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\n";
  HttpResponseParser parser = parseWhole(head + "hello", "GET", &r);
  ASSERT_EQ(r.state, ParseState::kDone);
  EXPECT_EQ(r.consumed, head.size());
  EXPECT_EQ(parser.head().status, 200);
  EXPECT_EQ(parser.head().reason, "OK");
  EXPECT_EQ(parser.head().body, BodyFraming::kContentLength);
  EXPECT_EQ(parser.head().content_length, 5u);
  EXPECT_TRUE(parser.head().keep_alive);
  EXPECT_EQ(parser.head().head_length, head.size());
}

TEST(HttpResponseParserTest, ParsesChunkedResponse) {
  HttpResponseParser parser = parseWhole("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  ASSERT_EQ(parser.state(), ParseState::kDone);
  EXPECT_EQ(parser.head().body, BodyFraming::kChunked);
}

TEST(HttpResponseParserTest, BodyWithoutLengthRunsUntilClose) {
  HttpResponseParser parser = parseWhole("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n");
  ASSERT_EQ(parser.state(), ParseState::kDone);
  EXPECT_EQ(parser.head().body, BodyFraming::kUntilClose);
  EXPECT_FALSE(parser.head().keep_alive);
}

TEST(HttpResponseParserTest, AcceptsEmptyReasonPhrase) {
  EXPECT_EQ(parseWhole("HTTP/1.1 204\r\n\r\n").head().status, 204);
  EXPECT_EQ(parseWhole("HTTP/1.1 204 \r\n\r\n").head().reason, "");
}

TEST(HttpResponseParserTest, InterimResponsesHaveNoBodyAndCallerLoops) {
  const std::string bytes =
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  HttpResponseParser parser("POST");
  std::string_view rest = bytes;
  std::vector<int> statuses;
  while (true) {
    const FeedResult r = parser.feed(rest);
    ASSERT_EQ(r.state, ParseState::kDone);
    statuses.push_back(parser.head().status);
    rest.remove_prefix(r.consumed);
    if (!parser.head().isInterim()) break;
    EXPECT_EQ(parser.head().body, BodyFraming::kNone);
    parser.reset();
  }
  EXPECT_EQ(statuses, (std::vector<int>{100, 103, 200}));
  EXPECT_EQ(rest, "ok");
}

TEST(HttpResponseParserTest, FlagsSwitchingProtocolsAndLeavesTrailingBytes) {
  FeedResult r;
  const std::string head =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
  HttpResponseParser parser = parseWhole(head + "\x81\x05hello", "GET", &r);
  ASSERT_EQ(r.state, ParseState::kDone);
  EXPECT_TRUE(parser.head().isSwitchingProtocols());
  EXPECT_FALSE(parser.head().isInterim());
  EXPECT_EQ(parser.head().body, BodyFraming::kNone);
  EXPECT_EQ(r.consumed, head.size());
}

TEST(HttpResponseParserTest, ResponseToHeadHasNoBodyDespiteContentLength) {
  HttpResponseParser parser = parseWhole("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", "HEAD");
  ASSERT_EQ(parser.state(), ParseState::kDone);
  EXPECT_EQ(parser.head().body, BodyFraming::kNone);
  EXPECT_EQ(parser.head().content_length, 1234u);
  EXPECT_TRUE(parser.head().keep_alive);
  HttpResponseParser chunked = parseWhole("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "HEAD");
  EXPECT_EQ(chunked.head().body, BodyFraming::kNone);
}

TEST(HttpResponseParserTest, NoContentAndNotModifiedHaveNoBody) {
  EXPECT_EQ(parseWhole("HTTP/1.1 204 No Content\r\n\r\n").head().body, BodyFraming::kNone);
  EXPECT_TRUE(parseWhole("HTTP/1.1 204 No Content\r\n\r\n").head().keep_alive);
  EXPECT_EQ(parseWhole("HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n").head().body,
            BodyFraming::kNone);
}

TEST(HttpResponseParserTest, ContentLengthZeroHasNoBody) {
  EXPECT_EQ(parseWhole("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").head().body, BodyFraming::kNone);
}

TEST(HttpResponseParserTest, KeepAliveFollowsVersionAndConnection) {
  EXPECT_FALSE(
      parseWhole("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").head().keep_alive);
  EXPECT_FALSE(parseWhole("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").head().keep_alive);
  EXPECT_TRUE(
      parseWhole("HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n").head().keep_alive);
}

TEST(HttpResponseParserTest, RejectsMalformedStatusLines) {
  EXPECT_EQ(rejectionOf("HTTP/1.1 20 OK\r\n\r\n"), RejectReason::kInvalidStatusCode);
  EXPECT_EQ(rejectionOf("HTTP/1.1 abc OK\r\n\r\n"), RejectReason::kInvalidStatusCode);
  EXPECT_EQ(rejectionOf("HTTP/1.1 099 Low\r\n\r\n"), RejectReason::kInvalidStatusCode);
  EXPECT_EQ(rejectionOf("HTTP/1.1 600 High\r\n\r\n"), RejectReason::kInvalidStatusCode);
  EXPECT_EQ(rejectionOf("HTTP/1.1 2000 OK\r\n\r\n"), RejectReason::kInvalidStatusLine);
  EXPECT_EQ(rejectionOf("HTTP/2.0 200 OK\r\n\r\n"), RejectReason::kUnsupportedVersion);
  EXPECT_EQ(rejectionOf("ICY 200 OK\r\n\r\n"), RejectReason::kInvalidStatusLine);
  EXPECT_EQ(rejectionOf("HTTP/1.1 200 O\x01K\r\n\r\n"), RejectReason::kInvalidStatusLine);
}

TEST(HttpResponseParserTest, RejectsHeaderStrictnessViolations) {
  EXPECT_EQ(rejectionOf("HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n"), RejectReason::kBareLf);
  EXPECT_EQ(rejectionOf("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n"), RejectReason::kObsFold);
  EXPECT_EQ(rejectionOf("HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n"),
            RejectReason::kWhitespaceBeforeColon);
  EXPECT_EQ(rejectionOf("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            RejectReason::kContentLengthWithTransferEncoding);
  EXPECT_EQ(rejectionOf("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
            RejectReason::kConflictingContentLength);
  EXPECT_EQ(rejectionOf("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
            RejectReason::kUnsupportedTransferEncoding);
  EXPECT_EQ(rejectionOf("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
            RejectReason::kTransferEncodingInHttp10);
}

TEST(HttpResponseParserTest, RejectsHeadOverLimit) {
  HttpResponseParser parser("GET", 1024);
  const FeedResult r = parser.feed("HTTP/1.1 200 OK\r\nX: " + std::string(2000, 'x') + "\r\n\r\n");
  ASSERT_EQ(r.state, ParseState::kRejected);
  EXPECT_EQ(parser.rejection().reason, RejectReason::kHeadTooLarge);
  EXPECT_EQ(parser.rejection().status, 502);
}

TEST(HttpResponseParserTest, ByteByByteFeedingMatchesWholeFeeding) {
  const std::string samples[] = {
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nA: b\r\n\r\nok",
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81",
      "HTTP/1.1 200 OK\r\nA: b\r\r\n\r\n",
      "HTTP/1.1 200 OK\r\nA: b\n\r\n",
  };
  for (const std::string& s : samples) {
    FeedResult whole;
    HttpResponseParser a = parseWhole(s, "GET", &whole);
    HttpResponseParser b("GET");
    size_t consumed = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      const FeedResult r = b.feed(std::string_view(s).substr(i, 1));
      if (r.state == ParseState::kRejected) break;
      consumed += r.consumed;
      if (r.state == ParseState::kDone) break;
    }
    ASSERT_EQ(a.state(), b.state()) << s;
    if (a.state() == ParseState::kDone) {
      EXPECT_EQ(whole.consumed, consumed);
      EXPECT_EQ(a.head().headers, b.head().headers);
      EXPECT_EQ(a.head().status, b.head().status);
    } else {
      EXPECT_EQ(a.rejection().reason, b.rejection().reason);
    }
  }
}

}  // namespace
}  // namespace warden::proxy
