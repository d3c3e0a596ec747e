// libFuzzer target: the request-head parser, fed whole and in pseudo-random splits (which must agree),
// then path canonicalization, forwarding serialization (whose output must parse again) and redaction.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ocsf/builders.h"
#include "proxy/http_request.h"
#include "proxy/path_canon.h"
#include "proxy/redact.h"

namespace {

using warden::proxy::FeedResult;
using warden::proxy::HttpRequestParser;
using warden::proxy::ParseState;

void check(bool condition) {
  if (!condition) __builtin_trap();
}

// Feeds `data` in chunks whose sizes come from a small PRNG seeded by the input.
HttpRequestParser feedSplit(std::string_view data, uint32_t seed, size_t* consumed) {
  HttpRequestParser parser;
  *consumed = 0;
  size_t pos = 0;
  while (pos < data.size()) {
    seed = seed * 1103515245u + 12345u;
    const size_t len = 1 + (seed >> 16) % 64;
    const FeedResult r = parser.feed(data.substr(pos, len));
    if (r.state == ParseState::kRejected) break;
    *consumed += r.consumed;
    if (r.state == ParseState::kDone) break;
    check(r.consumed == std::min(len, data.size() - pos));
    pos += len;
  }
  return parser;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);

  HttpRequestParser whole;
  const FeedResult w = whole.feed(data);
  uint32_t seed = 2166136261u;
  for (const char c : data.substr(0, 64)) seed = (seed ^ static_cast<uint8_t>(c)) * 16777619u;
  size_t split_consumed = 0;
  HttpRequestParser split = feedSplit(data, seed, &split_consumed);

  check(whole.state() == split.state());
  if (w.state == ParseState::kRejected) {
    check(whole.rejection().reason == split.rejection().reason);
    check(whole.rejection().status == split.rejection().status);
  }
  if (w.state == ParseState::kDone) {
    check(w.consumed == split_consumed);
    check(w.consumed <= data.size());
    const auto& h = whole.head();
    check(h.headers == split.head().headers);
    check(h.target == split.head().target && h.host == split.head().host && h.port == split.head().port);
    check(h.head_length <= warden::proxy::kMaxRequestHeadBytes);
    check(h.chunked == (h.body == warden::proxy::BodyFraming::kChunked));
    check(warden::ocsf::redactUrl(h.target).find('?') == std::string::npos ||
          warden::ocsf::redactUrl(h.target).ends_with("?[redacted]"));
    (void)warden::proxy::redactHeaders(h.headers);

    if (h.form == warden::proxy::RequestTargetForm::kOrigin ||
        h.form == warden::proxy::RequestTargetForm::kAbsolute) {
      auto canonical = warden::proxy::canonicalizePath(h.path);
      if (canonical.ok()) {
        auto again = warden::proxy::canonicalizePath(*canonical);
        check(again.ok() && *again == *canonical);  // idempotent
        const std::string out = warden::proxy::serializeRequestHead(h, *canonical);
        HttpRequestParser reparsed(4 * warden::proxy::kMaxRequestHeadBytes);
        const FeedResult r = reparsed.feed(out);
        check(r.state == ParseState::kDone && r.consumed == out.size());
        check(reparsed.head().path == *canonical);
        check(reparsed.head().body == h.body && reparsed.head().content_length == h.content_length);
        check(reparsed.head().upgrade == h.upgrade);
      }
    }
  }

  // The canonicalizer on raw bytes too: whatever it accepts is a fixed point.
  auto raw = warden::proxy::canonicalizePath(data.substr(0, 512));
  if (raw.ok()) {
    auto again = warden::proxy::canonicalizePath(*raw);
    check(again.ok() && *again == *raw);
  }
  return 0;
}
