#pragma once

// Strict, incremental HTTP/1.1 response-head parser: status line, fields, and how the body is framed.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/http_codec.h"

namespace warden::proxy {

// A parsed, validated response head. Plain data.
struct HttpResponseHead {
  HttpVersion version = HttpVersion::kHttp11;
  int status = 0;      // 100-599
  std::string reason;  // reason-phrase as sent (may be empty)
  HeaderList headers;  // in order, names in their original case

  // kNone for 1xx, 204, 304, a response to HEAD, and Content-Length: 0; kChunked; kContentLength;
  // kUntilClose when neither Content-Length nor Transfer-Encoding is given.
  BodyFraming body = BodyFraming::kNone;
  std::optional<uint64_t> content_length;  // as declared, even where it frames nothing (HEAD, 304)
  bool chunked = false;                    // Transfer-Encoding: chunked (framing only if body == kChunked)
  bool keep_alive = false;                 // the upstream connection may be reused after the body
  size_t head_length = 0;

  // 100, 102, 103...: informational; the real response follows on the same connection, so the
  // caller forwards this head, resets the parser and parses again. 101 is not interim.
  bool isInterim() const { return status >= 100 && status < 200 && status != 101; }
  // 101: HTTP ends on this connection; accept only if the client asked (HttpRequestHead::upgrade).
  bool isSwitchingProtocols() const { return status == 101; }
};

// Parses one response head from bytes that arrive in chunks. Single-threaded; owns its copy of the
// head and nothing else; no exceptions; feeding in any split gives the same result. Every rejection
// carries status 502 (the upstream misbehaved). The request's method is needed for framing (a
// response to HEAD has no body); reset() keeps it, so a caller loops over interim 1xx heads:
//
//   HttpResponseParser parser(request.method);
//   ... FeedResult r = parser.feed(chunk);
//   if (r.state == ParseState::kDone && parser.head().isInterim()) { forward; parser.reset(); feed the
//       rest of the chunk (chunk.substr(r.consumed)) again; }
class HttpResponseParser {
 public:
  explicit HttpResponseParser(std::string_view request_method, size_t max_head_bytes = kMaxResponseHeadBytes);

  FeedResult feed(std::string_view data);
  ParseState state() const { return state_; }
  const HttpResponseHead& head() const { return head_; }
  HttpResponseHead takeHead() { return std::move(head_); }
  const HttpRejection& rejection() const { return rejection_; }
  void reset();

 private:
  FeedResult reject(HttpRejection rejection);
  std::optional<HttpRejection> onStatusLine(std::string_view line);
  std::optional<HttpRejection> onHeadersDone();

  bool head_request_;
  HeadReader reader_;
  ParseState state_ = ParseState::kNeedMore;
  bool seen_status_line_ = false;
  HttpResponseHead head_;
  HttpRejection rejection_;
};

}  // namespace warden::proxy
