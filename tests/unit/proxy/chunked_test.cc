#include "proxy/chunked.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <string>

namespace warden::proxy {
namespace {

struct Decoded {
  FeedResult result;
  std::string payload;
  RejectReason reason = RejectReason::kBareLf;
};

Decoded decodeWhole(std::string_view body) {
  ChunkedDecoder decoder;
  Decoded d;
  d.result = decoder.feed(body, [&](std::string_view p) { d.payload.append(p); });
  if (d.result.state == ParseState::kRejected) d.reason = decoder.rejection().reason;
  return d;
}

Decoded decodeByteByByte(std::string_view body) {
  ChunkedDecoder decoder;
  Decoded d;
  for (size_t i = 0; i < body.size(); ++i) {
    const FeedResult r = decoder.feed(body.substr(i, 1), [&](std::string_view p) { d.payload.append(p); });
    d.result.state = r.state;
    if (r.state == ParseState::kRejected) {
      d.reason = decoder.rejection().reason;
      break;
    }
    d.result.consumed += r.consumed;
    if (r.state == ParseState::kDone) break;
  }
  return d;
}

RejectReason rejectionOf(std::string_view body) {
  const Decoded d = decodeWhole(body);
  EXPECT_EQ(d.result.state, ParseState::kRejected) << body;
  return d.reason;
}

TEST(ChunkedDecoderTest, DecodesChunksAndFindsTheEnd) {
  const std::string body = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  const Decoded d = decodeWhole(body + "NEXT");
  ASSERT_EQ(d.result.state, ParseState::kDone);
  EXPECT_EQ(d.result.consumed, body.size());
  EXPECT_EQ(d.payload, "hello world");
}

TEST(ChunkedDecoderTest, AcceptsHexCaseExtensionsAndTrailers) {
  const std::string body = "A;name=\"v\"\r\n0123456789\r\n1f ; ext\r\n" + std::string(31, 'x') +
                           "\r\n0\r\nX-Checksum: abc\r\nX-Other: d\r\n\r\n";
  const Decoded d = decodeWhole(body);
  ASSERT_EQ(d.result.state, ParseState::kDone);
  EXPECT_EQ(d.result.consumed, body.size());
  EXPECT_EQ(d.payload.size(), 41u);
}

TEST(ChunkedDecoderTest, NeedsMoreUntilFinalCrlf) {
  ChunkedDecoder decoder;
  EXPECT_EQ(decoder.feed("3\r\nabc\r\n0\r\n").state, ParseState::kNeedMore);
  EXPECT_EQ(decoder.feed("\r").state, ParseState::kNeedMore);
  const FeedResult r = decoder.feed("\nrest");
  EXPECT_EQ(r.state, ParseState::kDone);
  EXPECT_EQ(r.consumed, 1u);
  EXPECT_EQ(decoder.payloadBytes(), 3u);
}

TEST(ChunkedDecoderTest, ByteByByteFeedingMatchesWholeFeeding) {
  const std::string samples[] = {
      "5\r\nhello\r\n0\r\n\r\nX", "2;a=b\r\nhi\r\n0\r\nT: v\r\n\r\n",
      "5\r\nhelloX\r\n",          "g\r\n",
      "0\r\nBad Trailer\r\n\r\n", "3\r\nabc\r\n0\r\n\n",
  };
  for (const std::string& s : samples) {
    const Decoded whole = decodeWhole(s);
    const Decoded bytes = decodeByteByByte(s);
    ASSERT_EQ(whole.result.state, bytes.result.state) << s;
    EXPECT_EQ(whole.payload, bytes.payload) << s;
    if (whole.result.state == ParseState::kDone) {
      EXPECT_EQ(whole.result.consumed, bytes.result.consumed) << s;
    }
    if (whole.result.state == ParseState::kRejected) {
      EXPECT_EQ(whole.reason, bytes.reason) << s;
    }
  }
}

TEST(ChunkedDecoderTest, RejectsMalformedChunkSizes) {
  EXPECT_EQ(rejectionOf("\r\n"), RejectReason::kInvalidChunkSize);
  EXPECT_EQ(rejectionOf("g\r\n"), RejectReason::kInvalidChunkSize);
  EXPECT_EQ(rejectionOf("-1\r\n"), RejectReason::kInvalidChunkSize);
  EXPECT_EQ(rejectionOf("0x5\r\n"), RejectReason::kInvalidChunkSize);
  EXPECT_EQ(rejectionOf(" 5\r\n"), RejectReason::kInvalidChunkSize);
  EXPECT_EQ(rejectionOf("5 \r\n"), RejectReason::kInvalidChunkSize);
  EXPECT_EQ(rejectionOf("5 6\r\n"), RejectReason::kInvalidChunkSize);
  EXPECT_EQ(rejectionOf(";ext\r\n"), RejectReason::kInvalidChunkSize);
  EXPECT_EQ(rejectionOf("5\n"), RejectReason::kInvalidChunkSize);
  EXPECT_EQ(rejectionOf("5\rX"), RejectReason::kBareCr);
}

TEST(ChunkedDecoderTest, RejectsChunkSizeOverflow) {
  EXPECT_EQ(rejectionOf("10000000000000000\r\n"), RejectReason::kChunkSizeOverflow);
  ChunkedDecoder decoder;
  EXPECT_EQ(decoder.feed("ffffffffffffffff\r\nabc").state, ParseState::kNeedMore);
}

TEST(ChunkedDecoderTest, AcceptsLeadingZerosUpToLineLimit) {
  const Decoded d = decodeWhole(std::string(100, '0') + "1\r\na\r\n0\r\n\r\n");
  EXPECT_EQ(d.result.state, ParseState::kDone);
  EXPECT_EQ(d.payload, "a");
}

TEST(ChunkedDecoderTest, RejectsOverlongChunkSizeLine) {
  EXPECT_EQ(rejectionOf("1;" + std::string(kMaxChunkLineBytes, 'e') + "\r\n"),
            RejectReason::kChunkLineTooLong);
  EXPECT_EQ(rejectionOf(std::string(kMaxChunkLineBytes + 1, '0')), RejectReason::kChunkLineTooLong);
}

TEST(ChunkedDecoderTest, RejectsControlBytesInExtensions) {
  EXPECT_EQ(rejectionOf(std::string("1;a\0b\r\n", 7)), RejectReason::kInvalidChunkExtension);
  EXPECT_EQ(rejectionOf("1;a\nb\r\n"), RejectReason::kInvalidChunkExtension);
}

TEST(ChunkedDecoderTest, RejectsDataNotFollowedByCrlf) {
  EXPECT_EQ(rejectionOf("3\r\nabcd\r\n"), RejectReason::kMissingChunkCrlf);
  EXPECT_EQ(rejectionOf("3\r\nabc\n0\r\n\r\n"), RejectReason::kMissingChunkCrlf);
  EXPECT_EQ(rejectionOf("3\r\nabc\rx"), RejectReason::kMissingChunkCrlf);
}

TEST(ChunkedDecoderTest, RejectsMalformedTrailers) {
  EXPECT_EQ(rejectionOf("0\r\nNo colon\r\n\r\n"), RejectReason::kInvalidTrailer);
  EXPECT_EQ(rejectionOf("0\r\nX : v\r\n\r\n"), RejectReason::kInvalidTrailer);
  EXPECT_EQ(rejectionOf("0\r\nX: v\r\n folded\r\n\r\n"), RejectReason::kInvalidTrailer);
  EXPECT_EQ(rejectionOf("0\r\nX: v\n\r\n"), RejectReason::kBareLf);
  EXPECT_EQ(rejectionOf("0\r\n\rX"), RejectReason::kBareCr);
  EXPECT_EQ(rejectionOf("0\r\nX: " + std::string(kMaxTrailerBytes, 'v') + "\r\n\r\n"),
            RejectReason::kTrailerTooLarge);
}

TEST(ChunkedDecoderTest, RejectionCarriesConfiguredStatus) {
  ChunkedDecoder decoder(502);
  EXPECT_EQ(decoder.feed("zz").state, ParseState::kRejected);
  EXPECT_EQ(decoder.rejection().status, 502);
  EXPECT_EQ(decoder.feed("0\r\n\r\n").consumed, 0u);
  decoder.reset();
  EXPECT_EQ(decoder.feed("0\r\n\r\n").state, ParseState::kDone);
}

// ---- ChunkedReframer ----

std::string reframeWhole(std::string_view body, ParseState* state = nullptr) {
  ChunkedReframer reframer;
  std::string out;
  const FeedResult r = reframer.feed(body, &out);
  if (state) *state = r.state;
  return out;
}

TEST(ChunkedReframerTest, WritesThePayloadWithItsOwnChunkSizes) {
  ParseState state{};
  EXPECT_EQ(reframeWhole("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", &state), "b\r\nhello world\r\n0\r\n\r\n");
  EXPECT_EQ(state, ParseState::kDone);
}

TEST(ChunkedReframerTest, DropsExtensionsLeadingZerosAndTrailers) {
  ParseState state{};
  EXPECT_EQ(reframeWhole("0005;a=b\r\nhello\r\n0;last\r\nX-Checksum: 1\r\n\r\n", &state), "5\r\nhello\r\n0\r\n\r\n");
  EXPECT_EQ(state, ParseState::kDone);
}

TEST(ChunkedReframerTest, AHugeDeclaredSizeIsNeverPassedOn) {
  // The smuggling attempt of issue 12: a lenient upstream reads 0x100000005 as 5 and the rest as a
  // request of its own. Re-framed, the upstream reads the client's bytes as one chunk of data.
  const std::string smuggled = "GET /admin/secret HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string body = "100000005\r\nAAAAA\r\n0\r\n\r\n" + smuggled;
  ParseState state{};
  const std::string out = reframeWhole(body, &state);
  EXPECT_EQ(state, ParseState::kNeedMore);  // 4 GiB of chunk data are still to come
  const std::string payload = body.substr(11);
  EXPECT_EQ(out, fmt::format("{:x}\r\n{}\r\n", payload.size(), payload));
  EXPECT_EQ(out.find("100000005"), std::string::npos);
}

TEST(ChunkedReframerTest, SplitsGiveOneWellFormedChunkPerFeed) {
  const std::string body = "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\nNEXT";
  ChunkedReframer reframer;
  std::string out;
  size_t at = 0;
  ParseState state = ParseState::kNeedMore;
  while (state == ParseState::kNeedMore && at < body.size()) {
    const FeedResult r = reframer.feed(std::string_view(body).substr(at, 2), &out);
    at += r.consumed;
    state = r.state;
  }
  EXPECT_EQ(state, ParseState::kDone);
  EXPECT_EQ(body.substr(at), "NEXT");
  // Decoding our output gives the payload back and the same end.
  ChunkedDecoder check;
  std::string payload;
  const FeedResult r = check.feed(out, [&](std::string_view p) { payload.append(p); });
  EXPECT_EQ(r.state, ParseState::kDone);
  EXPECT_EQ(r.consumed, out.size());
  EXPECT_EQ(payload, "abcdefg");
  EXPECT_EQ(reframer.payloadBytes(), 7u);
}

TEST(ChunkedReframerTest, ABrokenBodyAppendsNothing) {
  ChunkedReframer reframer;
  std::string out;
  EXPECT_EQ(reframer.feed("zz\r\nhello\r\n", &out).state, ParseState::kRejected);
  EXPECT_EQ(reframer.rejection().reason, RejectReason::kInvalidChunkSize);
  EXPECT_TRUE(out.empty());
  ChunkedReframer trailer;
  EXPECT_EQ(trailer.feed("1\r\na\r\n0\r\nbad trailer\r\n\r\n", &out).state, ParseState::kRejected);
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace warden::proxy
