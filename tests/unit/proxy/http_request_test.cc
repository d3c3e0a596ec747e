#include "proxy/http_request.h"

#include <gtest/gtest.h>

#include <string>

namespace warden::proxy {
namespace {

// Feeds `bytes` whole; returns the parser for inspection.
HttpRequestParser parseWhole(std::string_view bytes, FeedResult* result = nullptr) {
  HttpRequestParser parser;
  const FeedResult r = parser.feed(bytes);
  if (result) *result = r;
  return parser;
}

RejectReason rejectionOf(std::string_view bytes) {
  HttpRequestParser parser = parseWhole(bytes);
  EXPECT_EQ(parser.state(), ParseState::kRejected) << bytes;
  return parser.state() == ParseState::kRejected ? parser.rejection().reason : RejectReason::kBareLf;
}

int statusOf(std::string_view bytes) {
  HttpRequestParser parser = parseWhole(bytes);
  return parser.state() == ParseState::kRejected ? parser.rejection().status : 0;
}

// A valid request head with `extra` header lines ("Name: value\r\n" each) after Host.
std::string request(std::string_view extra = "", std::string_view line = "GET /a/b?x=1 HTTP/1.1") {
  return std::string(line) + "\r\nHost: api.example.com\r\n" + std::string(extra) + "\r\n";
}

TEST(HttpRequestParserTest, ParsesOriginFormRequest) {
  FeedResult r;
  const std::string head = request("Accept: */*\r\nX-Case: MiXed\r\n");
  HttpRequestParser parser = parseWhole(head, &r);
  ASSERT_EQ(r.state, ParseState::kDone);
  EXPECT_EQ(r.consumed, head.size());
  const HttpRequestHead& h = parser.head();
  EXPECT_EQ(h.method, "GET");
  EXPECT_EQ(h.form, RequestTargetForm::kOrigin);
  EXPECT_EQ(h.target, "/a/b?x=1");
  EXPECT_EQ(h.path, "/a/b");
  EXPECT_EQ(h.query, "x=1");
  EXPECT_EQ(h.host, "api.example.com");
  EXPECT_FALSE(h.port.has_value());
  EXPECT_EQ(h.version, HttpVersion::kHttp11);
  ASSERT_EQ(h.headers.size(), 3u);
  EXPECT_EQ(h.headers[2], (HeaderField{"X-Case", "MiXed"}));
  EXPECT_EQ(h.body, BodyFraming::kNone);
  EXPECT_TRUE(h.keep_alive);
  EXPECT_FALSE(h.upgrade);
  EXPECT_EQ(h.head_length, head.size());
}

TEST(HttpRequestParserTest, ParsesAbsoluteFormAndSplitsUri) {
  HttpRequestParser parser =
      parseWhole("GET http://Example.COM:8080/p/q?a=b HTTP/1.1\r\nHost: ignored.example\r\n\r\n");
  ASSERT_EQ(parser.state(), ParseState::kDone);
  const auto& h = parser.head();
  EXPECT_EQ(h.form, RequestTargetForm::kAbsolute);
  EXPECT_EQ(h.scheme, "http");
  EXPECT_EQ(h.host, "example.com");
  EXPECT_EQ(h.port, 8080);
  EXPECT_EQ(h.path, "/p/q");
  EXPECT_EQ(h.query, "a=b");
  EXPECT_EQ(h.authority(), "example.com:8080");
}

TEST(HttpRequestParserTest, AbsoluteFormWithoutPathGetsRootAndDefaultPort) {
  HttpRequestParser parser = parseWhole("GET http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n");
  ASSERT_EQ(parser.state(), ParseState::kDone);
  EXPECT_EQ(parser.head().path, "/");
  EXPECT_EQ(parser.head().port, 80);
  EXPECT_FALSE(parser.head().query.has_value());
}

TEST(HttpRequestParserTest, ParsesAbsoluteFormWithIpv6Host) {
  HttpRequestParser parser = parseWhole("GET http://[::1]:81/x HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(parser.state(), ParseState::kDone);
  EXPECT_EQ(parser.head().host, "[::1]");
  EXPECT_EQ(parser.head().port, 81);
}

TEST(HttpRequestParserTest, ParsesConnectAuthorityForm) {
  HttpRequestParser parser =
      parseWhole("CONNECT api.github.com:443 HTTP/1.1\r\nHost: api.github.com:443\r\n\r\n");
  ASSERT_EQ(parser.state(), ParseState::kDone);
  EXPECT_EQ(parser.head().form, RequestTargetForm::kAuthority);
  EXPECT_EQ(parser.head().host, "api.github.com");
  EXPECT_EQ(parser.head().port, 443);
  EXPECT_TRUE(parser.head().path.empty());
}

TEST(HttpRequestParserTest, ParsesAsteriskFormForOptions) {
  HttpRequestParser parser = parseWhole("OPTIONS * HTTP/1.1\r\nHost: a.example\r\n\r\n");
  ASSERT_EQ(parser.state(), ParseState::kDone);
  EXPECT_EQ(parser.head().form, RequestTargetForm::kAsterisk);
}

TEST(HttpRequestParserTest, RejectsTargetFormThatDoesNotMatchMethod) {
  EXPECT_EQ(rejectionOf("GET * HTTP/1.1\r\nHost: a\r\n\r\n"), RejectReason::kTargetFormMismatch);
  EXPECT_EQ(rejectionOf("CONNECT /x HTTP/1.1\r\nHost: a\r\n\r\n"), RejectReason::kTargetFormMismatch);
  EXPECT_EQ(rejectionOf("CONNECT example.com HTTP/1.1\r\nHost: a\r\n\r\n"),
            RejectReason::kTargetFormMismatch);
  EXPECT_EQ(rejectionOf("GET example.com:443 HTTP/1.1\r\nHost: a\r\n\r\n"), RejectReason::kInvalidTarget);
}

TEST(HttpRequestParserTest, RejectsUnsupportedSchemeAndUserinfo) {
  EXPECT_EQ(rejectionOf("GET ftp://a.example/ HTTP/1.1\r\nHost: a\r\n\r\n"),
            RejectReason::kUnsupportedScheme);
  EXPECT_EQ(rejectionOf("GET http://u:p@a.example/ HTTP/1.1\r\nHost: a\r\n\r\n"),
            RejectReason::kUserinfoInUri);
}

TEST(HttpRequestParserTest, RejectsInvalidHostsInUriAndHostHeader) {
  EXPECT_EQ(rejectionOf("GET http://a_b%41.example/ HTTP/1.1\r\nHost: a\r\n\r\n"),
            RejectReason::kInvalidHost);
  EXPECT_EQ(rejectionOf("GET http://1.2.3.4.5/ HTTP/1.1\r\nHost: a\r\n\r\n"), RejectReason::kInvalidHost);
  EXPECT_EQ(rejectionOf("GET http://[fe80::1%25eth0]/ HTTP/1.1\r\nHost: a\r\n\r\n"),
            RejectReason::kInvalidHost);
  EXPECT_EQ(rejectionOf("GET http://a.example:0/ HTTP/1.1\r\nHost: a\r\n\r\n"), RejectReason::kInvalidHost);
  EXPECT_EQ(rejectionOf("GET http://a.example:/ HTTP/1.1\r\nHost: a\r\n\r\n"), RejectReason::kInvalidHost);
  EXPECT_EQ(rejectionOf("GET / HTTP/1.1\r\nHost: a.example:99999\r\n\r\n"), RejectReason::kInvalidHost);
  EXPECT_EQ(rejectionOf("GET / HTTP/1.1\r\nHost: \r\n\r\n"), RejectReason::kInvalidHost);
}

TEST(HttpRequestParserTest, RejectsTargetWithFragmentControlOrNonAscii) {
  EXPECT_EQ(rejectionOf("GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n"), RejectReason::kInvalidTarget);
  EXPECT_EQ(rejectionOf("GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n"), RejectReason::kInvalidTarget);
  EXPECT_EQ(rejectionOf("GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n"), RejectReason::kInvalidTarget);
  EXPECT_EQ(rejectionOf("GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n"), RejectReason::kInvalidTarget);
}

TEST(HttpRequestParserTest, RejectsMalformedRequestLines) {
  EXPECT_EQ(rejectionOf("GET\r\n\r\n"), RejectReason::kInvalidRequestLine);
  EXPECT_EQ(rejectionOf("GET /\r\n\r\n"), RejectReason::kInvalidRequestLine);
  EXPECT_EQ(rejectionOf("GET  / HTTP/1.1\r\nHost: a\r\n\r\n"), RejectReason::kInvalidRequestLine);
  EXPECT_EQ(rejectionOf("G(T / HTTP/1.1\r\nHost: a\r\n\r\n"), RejectReason::kInvalidMethod);
  EXPECT_EQ(rejectionOf("GET / HTTP/1.1 \r\nHost: a\r\n\r\n"), RejectReason::kInvalidVersion);
  EXPECT_EQ(rejectionOf("GET / http/1.1\r\nHost: a\r\n\r\n"), RejectReason::kInvalidVersion);
}

TEST(HttpRequestParserTest, RejectsHttpVersionsOtherThan10And11With505) {
  EXPECT_EQ(rejectionOf("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), RejectReason::kUnsupportedVersion);
  EXPECT_EQ(statusOf("GET / HTTP/0.9\r\nHost: a\r\n\r\n"), 505);
}

TEST(HttpRequestParserTest, RejectsBareLf) {
  EXPECT_EQ(rejectionOf("GET / HTTP/1.1\nHost: a\r\n\r\n"), RejectReason::kBareLf);
  EXPECT_EQ(rejectionOf("GET / HTTP/1.1\r\nHost: a\n\r\n"), RejectReason::kBareLf);
  EXPECT_EQ(rejectionOf("GET / HTTP/1.1\r\nHost: a\r\n\n"), RejectReason::kBareLf);
  EXPECT_EQ(statusOf("GET / HTTP/1.1\r\nHost: a\r\n\n"), 400);
}

TEST(HttpRequestParserTest, RejectsBareCr) {
  EXPECT_EQ(rejectionOf("GET / HTTP/1.1\r\nHost: a\rX: y\r\n\r\n"), RejectReason::kBareCr);
}

TEST(HttpRequestParserTest, RejectsObsFold) {
  EXPECT_EQ(rejectionOf(request("X-A: one\r\n two\r\n")), RejectReason::kObsFold);
  EXPECT_EQ(rejectionOf(request("X-A: one\r\n\ttwo\r\n")), RejectReason::kObsFold);
}

TEST(HttpRequestParserTest, RejectsWhitespaceBetweenFieldNameAndColon) {
  EXPECT_EQ(rejectionOf(request("Content-Length : 5\r\n")), RejectReason::kWhitespaceBeforeColon);
  EXPECT_EQ(rejectionOf(request("Transfer-Encoding\t: chunked\r\n")), RejectReason::kWhitespaceBeforeColon);
}

TEST(HttpRequestParserTest, RejectsInvalidTokenCharsInFieldNames) {
  EXPECT_EQ(rejectionOf(request("X(A): 1\r\n")), RejectReason::kInvalidHeaderName);
  EXPECT_EQ(rejectionOf(request("X A: 1\r\n")), RejectReason::kInvalidHeaderName);
  EXPECT_EQ(rejectionOf(request("X\xff: 1\r\n")), RejectReason::kInvalidHeaderName);
  EXPECT_EQ(rejectionOf(request(": 1\r\n")), RejectReason::kMalformedHeaderLine);
  EXPECT_EQ(rejectionOf(request("NoColon\r\n")), RejectReason::kMalformedHeaderLine);
}

TEST(HttpRequestParserTest, RejectsControlBytesInValuesButAllowsTabAndObsText) {
  EXPECT_EQ(rejectionOf(request(std::string("X-A: a\0b\r\n", 10))), RejectReason::kInvalidHeaderValue);
  EXPECT_EQ(rejectionOf(request("X-A: a\x7f"
                                "b\r\n")),
            RejectReason::kInvalidHeaderValue);
  EXPECT_EQ(rejectionOf(request("X-A: a\x1b[0m\r\n")), RejectReason::kInvalidHeaderValue);
  HttpRequestParser ok = parseWhole(request("X-A: \ta\tb \xe2\x9c\x93 \t\r\n"));
  ASSERT_EQ(ok.state(), ParseState::kDone);
  EXPECT_EQ(findHeader(ok.head().headers, "x-a")->value, "a\tb \xe2\x9c\x93");
}

TEST(HttpRequestParserTest, RejectsContentLengthWithTransferEncoding) {
  EXPECT_EQ(rejectionOf(request("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n")),
            RejectReason::kContentLengthWithTransferEncoding);
  EXPECT_EQ(rejectionOf(request("Transfer-Encoding: chunked\r\nContent-Length: 0\r\n")),
            RejectReason::kContentLengthWithTransferEncoding);
}

TEST(HttpRequestParserTest, RejectsDifferingDuplicateContentLength) {
  EXPECT_EQ(rejectionOf(request("Content-Length: 5\r\nContent-Length: 6\r\n")),
            RejectReason::kConflictingContentLength);
  EXPECT_EQ(rejectionOf(request("Content-Length: 5, 6\r\n")), RejectReason::kInvalidContentLength);
}

TEST(HttpRequestParserTest, TreatsIdenticalDuplicateContentLengthAsOne) {
  HttpRequestParser parser =
      parseWhole(request("Content-Length: 5\r\nContent-Length: 5\r\n", "POST / HTTP/1.1"));
  ASSERT_EQ(parser.state(), ParseState::kDone);
  EXPECT_EQ(parser.head().content_length, 5u);
  EXPECT_EQ(parser.head().body, BodyFraming::kContentLength);
  HttpRequestParser list = parseWhole(request("Content-Length: 7 , 7\r\n", "POST / HTTP/1.1"));
  ASSERT_EQ(list.state(), ParseState::kDone);
  EXPECT_EQ(list.head().content_length, 7u);
}

TEST(HttpRequestParserTest, RejectsNonNumericOrOverflowingContentLength) {
  EXPECT_EQ(rejectionOf(request("Content-Length: abc\r\n")), RejectReason::kInvalidContentLength);
  EXPECT_EQ(rejectionOf(request("Content-Length: -1\r\n")), RejectReason::kInvalidContentLength);
  EXPECT_EQ(rejectionOf(request("Content-Length: +5\r\n")), RejectReason::kInvalidContentLength);
  EXPECT_EQ(rejectionOf(request("Content-Length: 0x10\r\n")), RejectReason::kInvalidContentLength);
  EXPECT_EQ(rejectionOf(request("Content-Length: \r\n")), RejectReason::kInvalidContentLength);
  EXPECT_EQ(rejectionOf(request("Content-Length: 18446744073709551616\r\n")),
            RejectReason::kInvalidContentLength);
  HttpRequestParser max = parseWhole(request("Content-Length: 18446744073709551615\r\n"));
  ASSERT_EQ(max.state(), ParseState::kDone);
  EXPECT_EQ(max.head().content_length, UINT64_MAX);
}

TEST(HttpRequestParserTest, RejectsTransferEncodingOtherThanChunkedWith501) {
  EXPECT_EQ(rejectionOf(request("Transfer-Encoding: gzip, chunked\r\n")),
            RejectReason::kUnsupportedTransferEncoding);
  EXPECT_EQ(rejectionOf(request("Transfer-Encoding: chunked, chunked\r\n")),
            RejectReason::kUnsupportedTransferEncoding);
  EXPECT_EQ(rejectionOf(request("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n")),
            RejectReason::kUnsupportedTransferEncoding);
  EXPECT_EQ(rejectionOf(request("Transfer-Encoding: identity\r\n")),
            RejectReason::kUnsupportedTransferEncoding);
  EXPECT_EQ(rejectionOf(request("Transfer-Encoding: xchunked\r\n")),
            RejectReason::kUnsupportedTransferEncoding);
  EXPECT_EQ(statusOf(request("Transfer-Encoding: gzip\r\n")), 501);
}

TEST(HttpRequestParserTest, AcceptsChunkedCaseInsensitively) {
  HttpRequestParser parser = parseWhole(request("Transfer-Encoding: ChUnKeD\r\n", "POST /u HTTP/1.1"));
  ASSERT_EQ(parser.state(), ParseState::kDone);
  EXPECT_TRUE(parser.head().chunked);
  EXPECT_EQ(parser.head().body, BodyFraming::kChunked);
}

TEST(HttpRequestParserTest, RejectsTransferEncodingInHttp10) {
  EXPECT_EQ(rejectionOf("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
            RejectReason::kTransferEncodingInHttp10);
}

TEST(HttpRequestParserTest, RejectsMissingHostOnHttp11) {
  EXPECT_EQ(rejectionOf("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n"), RejectReason::kMissingHost);
  EXPECT_EQ(rejectionOf("GET http://a.example/ HTTP/1.1\r\n\r\n"), RejectReason::kMissingHost);
}

TEST(HttpRequestParserTest, AcceptsHttp10WithoutHost) {
  HttpRequestParser parser = parseWhole("GET /x HTTP/1.0\r\n\r\n");
  ASSERT_EQ(parser.state(), ParseState::kDone);
  EXPECT_TRUE(parser.head().host.empty());
  EXPECT_FALSE(parser.head().keep_alive);
}

TEST(HttpRequestParserTest, RejectsMultipleHostHeaders) {
  EXPECT_EQ(rejectionOf(request("Host: api.example.com\r\n")), RejectReason::kMultipleHost);
  EXPECT_EQ(rejectionOf(request("host: other.example\r\n")), RejectReason::kMultipleHost);
}

TEST(HttpRequestParserTest, RejectsConnectWithBody) {
  EXPECT_EQ(rejectionOf("CONNECT a.example:443 HTTP/1.1\r\nHost: a.example\r\nContent-Length: 3\r\n\r\n"),
            RejectReason::kConnectWithBody);
}

TEST(HttpRequestParserTest, RejectsHeadOver16KiBWith431) {
  const std::string big = request("X-Big: " + std::string(16 * 1024, 'a') + "\r\n");
  HttpRequestParser parser = parseWhole(big);
  ASSERT_EQ(parser.state(), ParseState::kRejected);
  EXPECT_EQ(parser.rejection().status, 431);
  EXPECT_EQ(parser.rejection().reason, RejectReason::kHeadTooLarge);
  EXPECT_EQ(parser.rejection().code(), "head_too_large");
}

TEST(HttpRequestParserTest, AcceptsHeadOfExactly16KiB) {
  std::string head = request("X-Fill: ");
  const std::string prefix = "GET /a/b?x=1 HTTP/1.1\r\nHost: api.example.com\r\nX-Fill: ";
  const size_t fill = kMaxRequestHeadBytes - prefix.size() - 4;  // "\r\n\r\n"
  head = prefix + std::string(fill, 'f') + "\r\n\r\n";
  ASSERT_EQ(head.size(), kMaxRequestHeadBytes);
  FeedResult r;
  HttpRequestParser parser = parseWhole(head + "BODY", &r);
  ASSERT_EQ(r.state, ParseState::kDone);
  EXPECT_EQ(r.consumed, kMaxRequestHeadBytes);
  HttpRequestParser over = parseWhole(prefix + std::string(fill + 1, 'f') + "\r\n\r\n");
  EXPECT_EQ(over.rejection().status, 431);
}

TEST(HttpRequestParserTest, RejectsEndlessHeadWithoutTerminatorWith431) {
  HttpRequestParser parser;
  FeedResult r{};
  const std::string line = "X-Pad: " + std::string(100, 'p') + "\r\n";
  r = parser.feed("GET / HTTP/1.1\r\n");
  for (int i = 0; i < 1000 && r.state == ParseState::kNeedMore; ++i) r = parser.feed(line);
  ASSERT_EQ(r.state, ParseState::kRejected);
  EXPECT_EQ(parser.rejection().status, 431);
}

TEST(HttpRequestParserTest, RejectsTooManyHeaderFieldsWith431) {
  std::string extra;
  for (size_t i = 0; i < kMaxHeaderCount; ++i) extra += "X-" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(rejectionOf(request(extra)), RejectReason::kTooManyHeaders);
  EXPECT_EQ(statusOf(request(extra)), 431);
}

TEST(HttpRequestParserTest, ReportsBytesConsumedSoBodyFollows) {
  const std::string head = request("Content-Length: 4\r\n", "POST /p HTTP/1.1");
  HttpRequestParser parser;
  FeedResult r = parser.feed(head.substr(0, 10));
  EXPECT_EQ(r.state, ParseState::kNeedMore);
  EXPECT_EQ(r.consumed, 10u);
  const std::string rest = head.substr(10) + "BODYGET / HTTP/1.1\r\n";
  r = parser.feed(rest);
  ASSERT_EQ(r.state, ParseState::kDone);
  EXPECT_EQ(r.consumed, head.size() - 10);
  EXPECT_EQ(rest.substr(r.consumed, 4), "BODY");
  EXPECT_EQ(parser.head().head_length, head.size());
  // Further feeds change nothing until reset().
  EXPECT_EQ(parser.feed("more").consumed, 0u);
}

TEST(HttpRequestParserTest, ResetParsesNextRequestOnKeepAliveConnection) {
  const std::string two = request() + request("", "DELETE /z HTTP/1.1");
  HttpRequestParser parser;
  FeedResult r = parser.feed(two);
  ASSERT_EQ(r.state, ParseState::kDone);
  EXPECT_EQ(parser.head().method, "GET");
  parser.reset();
  r = parser.feed(std::string_view(two).substr(r.consumed));
  ASSERT_EQ(r.state, ParseState::kDone);
  EXPECT_EQ(parser.head().method, "DELETE");
}

TEST(HttpRequestParserTest, SkipsLeadingEmptyLines) {
  FeedResult r;
  const std::string head = "\r\n\r\n" + request();
  HttpRequestParser parser = parseWhole(head, &r);
  ASSERT_EQ(r.state, ParseState::kDone);
  EXPECT_EQ(r.consumed, head.size());
  EXPECT_EQ(parser.head().head_length, head.size());
}

// Every split of every sample gives the same state, head and rejection as feeding it whole.
TEST(HttpRequestParserTest, ByteByByteFeedingMatchesWholeFeeding) {
  const std::string samples[] = {
      request("Accept: */*\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n") + "tail",
      "\r\n" + request("Content-Length: 3\r\n", "POST /a HTTP/1.1") + "abc",
      "GET http://a.example:81/x?y HTTP/1.1\r\nHost: z\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n",
      request("X: a\r\n b\r\n"),
      request("Content-Length: 1\r\nContent-Length: 2\r\n"),
      "GET / HTTP/1.1\r\nHost: a\r\n\r",
      "GET / HTTP/1.1\r\nHost: a\r\n",
  };
  for (const std::string& s : samples) {
    FeedResult whole;
    HttpRequestParser a = parseWhole(s, &whole);
    HttpRequestParser b;
    FeedResult last{};
    size_t consumed_total = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      last = b.feed(std::string_view(s).substr(i, 1));
      if (last.state == ParseState::kRejected) break;
      consumed_total += last.consumed;
      if (last.state == ParseState::kDone) break;
    }
    ASSERT_EQ(a.state(), b.state()) << s;
    if (a.state() == ParseState::kDone) {
      EXPECT_EQ(whole.consumed, consumed_total) << s;
      EXPECT_EQ(a.head().headers, b.head().headers);
      EXPECT_EQ(a.head().target, b.head().target);
      EXPECT_EQ(a.head().head_length, b.head().head_length);
      EXPECT_EQ(a.head().upgrade, b.head().upgrade);
    } else if (a.state() == ParseState::kRejected) {
      EXPECT_EQ(a.rejection().reason, b.rejection().reason) << s;
      EXPECT_EQ(a.rejection().status, b.rejection().status) << s;
    }
  }
}

TEST(HttpRequestParserTest, DetectsKeepAlivePerVersionAndConnection) {
  EXPECT_TRUE(parseWhole(request()).head().keep_alive);
  EXPECT_FALSE(parseWhole(request("Connection: close\r\n")).head().keep_alive);
  EXPECT_FALSE(parseWhole(request("Connection: Keep-Alive, CLOSE\r\n")).head().keep_alive);
  EXPECT_FALSE(parseWhole("GET / HTTP/1.0\r\nHost: a\r\n\r\n").head().keep_alive);
  EXPECT_TRUE(parseWhole("GET / HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n").head().keep_alive);
}

TEST(HttpRequestParserTest, DetectsUpgradeOnlyWithUpgradeHeaderAndConnectionToken) {
  EXPECT_TRUE(
      parseWhole(request("Connection: keep-alive, UPGRADE\r\nUpgrade: websocket\r\n")).head().upgrade);
  EXPECT_FALSE(parseWhole(request("Upgrade: websocket\r\n")).head().upgrade);
  EXPECT_FALSE(parseWhole(request("Connection: upgrade\r\n")).head().upgrade);
  EXPECT_FALSE(parseWhole(request("Connection: upgrades\r\nUpgrade: websocket\r\n")).head().upgrade);
  EXPECT_FALSE(parseWhole("GET / HTTP/1.0\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n")
                   .head()
                   .upgrade);
}

TEST(HttpRequestParserTest, DetectsExpectContinue) {
  EXPECT_TRUE(parseWhole(request("Expect: 100-Continue\r\n")).head().expect_continue);
  EXPECT_FALSE(parseWhole(request()).head().expect_continue);
}

TEST(HttpRequestSerializeTest, RegeneratesHostAndRemovesHopByHopHeaders) {
  HttpRequestParser parser = parseWhole(
      "GET http://Api.Example.com:8080/a/./b?q=1 HTTP/1.1\r\n"
      "Host: evil.example\r\n"
      "Proxy-Connection: keep-alive\r\n"
      "Proxy-Authorization: Basic Zm9v\r\n"
      "Connection: keep-alive, X-Private\r\n"
      "Keep-Alive: timeout=5\r\n"
      "TE: trailers\r\n"
      "Trailer: X-Sum\r\n"
      "Upgrade: h2c\r\n"
      "X-Private: secret\r\n"
      "Accept: */*\r\n"
      "\r\n");
  ASSERT_EQ(parser.state(), ParseState::kDone);
  EXPECT_EQ(serializeRequestHead(parser.head(), "/a/b"),
            "GET /a/b?q=1 HTTP/1.1\r\n"
            "Host: api.example.com:8080\r\n"
            "Accept: */*\r\n"
            "\r\n");
}

TEST(HttpRequestSerializeTest, KeepsChunkedFramingAndCollapsesDuplicateContentLength) {
  HttpRequestParser chunked = parseWhole(request("Transfer-Encoding: chunked\r\n", "POST /up HTTP/1.1"));
  ASSERT_EQ(chunked.state(), ParseState::kDone);
  EXPECT_EQ(serializeRequestHead(chunked.head(), "/up"),
            "POST /up HTTP/1.1\r\nHost: api.example.com\r\nTransfer-Encoding: chunked\r\n\r\n");
  HttpRequestParser cl = parseWhole(request("Content-Length: 2\r\ncontent-length: 2\r\n", "PUT /p HTTP/1.1"));
  ASSERT_EQ(cl.state(), ParseState::kDone);
  EXPECT_EQ(serializeRequestHead(cl.head(), "/p"),
            "PUT /p HTTP/1.1\r\nHost: api.example.com\r\nContent-Length: 2\r\n\r\n");
}

TEST(HttpRequestSerializeTest, ConnectionHeaderCannotStripFramingHeaders) {
  HttpRequestParser parser =
      parseWhole(request("Connection: Content-Length, Host\r\nContent-Length: 3\r\n", "POST /p HTTP/1.1"));
  ASSERT_EQ(parser.state(), ParseState::kDone);
  const std::string out = serializeRequestHead(parser.head(), "/p");
  EXPECT_NE(out.find("Content-Length: 3\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Host: api.example.com\r\n"), std::string::npos) << out;
}

TEST(HttpRequestSerializeTest, KeepsUpgradeWhenClientAskedForIt) {
  HttpRequestParser parser = parseWhole(
      request("Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n", "GET /ws HTTP/1.1"));
  ASSERT_EQ(parser.state(), ParseState::kDone);
  EXPECT_EQ(serializeRequestHead(parser.head(), "/ws"),
            "GET /ws HTTP/1.1\r\nHost: api.example.com\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n"
            "Connection: Upgrade\r\n\r\n");
}

TEST(HttpRequestSerializeTest, ForwardsCanonicalPathAndSaysCloseWhenClientDid) {
  HttpRequestParser parser = parseWhole(request("Connection: close\r\n", "GET /a//b/../c?x HTTP/1.1"));
  ASSERT_EQ(parser.state(), ParseState::kDone);
  EXPECT_EQ(serializeRequestHead(parser.head(), "/a/c"),
            "GET /a/c?x HTTP/1.1\r\nHost: api.example.com\r\nConnection: close\r\n\r\n");
}

TEST(HttpRequestSerializeTest, KeepsExplicitPortOfOriginFormHostButDropsDefaultOfAbsoluteForm) {
  HttpRequestParser origin = parseWhole("GET / HTTP/1.1\r\nHost: A.example:80\r\n\r\n");
  ASSERT_EQ(origin.state(), ParseState::kDone);
  EXPECT_EQ(serializeRequestHead(origin.head(), "/"), "GET / HTTP/1.1\r\nHost: a.example:80\r\n\r\n");
  HttpRequestParser absolute = parseWhole("GET http://a.example:80/ HTTP/1.1\r\nHost: a.example\r\n\r\n");
  ASSERT_EQ(absolute.state(), ParseState::kDone);
  EXPECT_EQ(serializeRequestHead(absolute.head(), "/"), "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n");
}

TEST(HttpRequestSerializeTest, KeepsClientVersionForHttp10) {
  HttpRequestParser parser =
      parseWhole("GET /x HTTP/1.0\r\nHost: a.example\r\nConnection: keep-alive\r\n\r\n");
  ASSERT_EQ(parser.state(), ParseState::kDone);
  EXPECT_EQ(serializeRequestHead(parser.head(), "/x"),
            "GET /x HTTP/1.0\r\nHost: a.example\r\nConnection: keep-alive\r\n\r\n");
}

}  // namespace
}  // namespace warden::proxy
