// libFuzzer target: the response-head parser (looping over interim 1xx heads like the relay does) and
// the chunked decoder on whatever follows, each fed whole and in pseudo-random splits that must agree.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/chunked.h"
#include "proxy/http_response.h"

namespace {

using warden::proxy::BodyFraming;
using warden::proxy::ChunkedDecoder;
using warden::proxy::FeedResult;
using warden::proxy::HttpResponseParser;
using warden::proxy::ParseState;

void check(bool condition) {
  if (!condition) __builtin_trap();
}

uint32_t nextLen(uint32_t* seed) {
  *seed = *seed * 1103515245u + 12345u;
  return 1 + (*seed >> 16) % 97;
}

struct ChunkedOutcome {
  ParseState state;
  size_t consumed;
  std::string payload;
};

ChunkedOutcome decode(std::string_view body, uint32_t seed, bool whole) {
  ChunkedDecoder decoder(502);
  ChunkedOutcome out{ParseState::kNeedMore, 0, {}};
  size_t pos = 0;
  auto sink = [&](std::string_view p) { out.payload.append(p); };
  while (pos < body.size() || (whole && pos == 0)) {
    const size_t len = whole ? body.size() : nextLen(&seed);
    const FeedResult r = decoder.feed(body.substr(pos, len), sink);
    out.state = r.state;
    if (r.state == ParseState::kRejected) break;
    out.consumed += r.consumed;
    if (r.state == ParseState::kDone) break;
    pos += len;
    if (whole) break;
  }
  check(out.payload.size() == decoder.payloadBytes());
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size < 1) return 0;
  static constexpr std::string_view kMethods[] = {"GET", "HEAD", "POST", "CONNECT"};
  const std::string_view method = kMethods[bytes[0] % 4];
  std::string_view data(reinterpret_cast<const char*>(bytes) + 1, size - 1);
  uint32_t seed = 2166136261u;
  for (const char c : data.substr(0, 64)) seed = (seed ^ static_cast<uint8_t>(c)) * 16777619u;

  // Response heads, interim ones looped over, fed whole and split.
  for (int round = 0; round < 8 && !data.empty(); ++round) {
    HttpResponseParser whole(method);
    const FeedResult w = whole.feed(data);
    HttpResponseParser split(method);
    size_t consumed = 0;
    size_t pos = 0;
    uint32_t s = seed + static_cast<uint32_t>(round);
    while (pos < data.size()) {
      const size_t len = nextLen(&s);
      const FeedResult r = split.feed(data.substr(pos, len));
      if (r.state == ParseState::kRejected) break;
      consumed += r.consumed;
      if (r.state == ParseState::kDone) break;
      pos += len;
    }
    check(whole.state() == split.state());
    if (w.state != ParseState::kDone) {
      if (w.state == ParseState::kRejected) check(whole.rejection().reason == split.rejection().reason);
      return 0;
    }
    check(consumed == w.consumed);
    const auto& h = whole.head();
    check(h.status >= 100 && h.status <= 599);
    check(h.headers == split.head().headers);
    if (h.body == BodyFraming::kUntilClose) check(!h.keep_alive);
    data.remove_prefix(w.consumed);
    if (h.isInterim()) continue;
    if (h.body == BodyFraming::kChunked) {
      const ChunkedOutcome a = decode(data, seed, /*whole=*/true);
      const ChunkedOutcome b = decode(data, seed, /*whole=*/false);
      check(a.state == b.state);
      if (a.state != ParseState::kRejected) check(a.payload == b.payload);
      if (a.state == ParseState::kDone) check(a.consumed == b.consumed && a.consumed <= data.size());
    }
    return 0;
  }
  // No head at all: run the decoder on the raw bytes.
  const ChunkedOutcome a = decode(data, seed, true);
  const ChunkedOutcome b = decode(data, seed, false);
  check(a.state == b.state);
  return 0;
}
