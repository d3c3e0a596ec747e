#pragma once

// Strict, incremental HTTP/1.1 request-head parser (sandbox.md "L7") and the serializer that
// forwards a parsed head upstream.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/http_codec.h"

namespace warden::proxy {

enum class RequestTargetForm {
  kOrigin,     // "/path?query" (in a tunnel, or to an origin)
  kAbsolute,   // "http://host:port/path?query" (forward proxying)
  kAuthority,  // "host:port" (CONNECT only)
  kAsterisk,   // "*" (OPTIONS only)
};

// A parsed, validated request head. Plain data; strings are copies of the head's bytes.
struct HttpRequestHead {
  std::string method;  // as sent; methods are case-sensitive tokens
  RequestTargetForm form = RequestTargetForm::kOrigin;
  std::string target;  // the request-target exactly as sent
  std::string scheme;  // "http" or "https" (lower-cased) for absolute-form, else empty
  // Lower-cased; an IPv6 literal keeps its brackets ("[::1]"). From the URI for absolute- and
  // authority-form (Host is then ignored, RFC 9112 3.2.2), else from the Host header; empty only for
  // an HTTP/1.0 origin-form request without Host (the tunnel's CONNECT target applies).
  std::string host;
  // The explicit port, or the scheme's default (80/443) for absolute-form; nullopt when the request
  // does not say (origin-form with a Host without port).
  std::optional<uint16_t> port;
  std::string path;                  // as sent, not canonical; "/" for an absolute-form without path;
                                     // empty for authority- and asterisk-form
  std::optional<std::string> query;  // after '?', as sent; nullopt without '?', "" for a bare '?'
  HttpVersion version = HttpVersion::kHttp11;
  HeaderList headers;  // in order, names in their original case

  BodyFraming body = BodyFraming::kNone;  // kNone, kContentLength or kChunked (never kUntilClose)
  std::optional<uint64_t> content_length;
  bool chunked = false;          // Transfer-Encoding: chunked
  bool keep_alive = false;       // 1.1 unless "Connection: close"; 1.0 only with "Connection: keep-alive"
  bool upgrade = false;          // Upgrade present and Connection lists "upgrade" (ignored for 1.0)
  bool expect_continue = false;  // Expect: 100-continue
  size_t head_length = 0;        // bytes of the head, request line to the empty line's CRLF

  // "Host:" value to send upstream: host, plus ":port" when a port was given, except the scheme's
  // default port in absolute-form ("http://a.example:80/" -> "a.example").
  std::string authority() const;
};

// Parses one request head from bytes that arrive in chunks. Single-threaded; owns its copy of the
// head (at most max_head_bytes) and nothing else; no exceptions. After kDone or kRejected further
// feeds return the same state with consumed 0 until reset(). Feeding a head in any split gives the
// same result as feeding it whole.
//
//   HttpRequestParser parser;
//   FeedResult r = parser.feed(chunk);
//   if (r.state == ParseState::kDone) { use parser.head(); body starts at chunk.substr(r.consumed); }
//   if (r.state == ParseState::kRejected) { answer parser.rejection().status and close; }
//
// Leading empty lines before the request line are skipped (RFC 9112 2.2) and count towards the head.
// Rejections: 400 for malformed input, 431 for a head over the limit or too many fields, 501 for a
// Transfer-Encoding other than "chunked", 505 for an HTTP version other than 1.0 and 1.1.
class HttpRequestParser {
 public:
  explicit HttpRequestParser(size_t max_head_bytes = kMaxRequestHeadBytes);

  FeedResult feed(std::string_view data);
  ParseState state() const { return state_; }
  // Valid after kDone.
  const HttpRequestHead& head() const { return head_; }
  HttpRequestHead takeHead() { return std::move(head_); }
  // Valid after kRejected.
  const HttpRejection& rejection() const { return rejection_; }
  // Ready for the next request on the same connection.
  void reset();

 private:
  FeedResult reject(HttpRejection rejection);
  std::optional<HttpRejection> onRequestLine(std::string_view line);
  std::optional<HttpRejection> onHeadersDone();

  HeadReader reader_;
  ParseState state_ = ParseState::kNeedMore;
  bool seen_request_line_ = false;
  HttpRequestHead head_;
  HttpRejection rejection_;
};

// The head to send upstream, per sandbox.md "Forward proxy":
//   - request line: method, then `canonical_path` (the path policy saw) plus "?query" as received,
//     then the client's version (kept, so an HTTP/1.0 client is never sent a chunked response);
//     asterisk-form stays "*"; CONNECT heads are not forwarded (the result is the authority-form line).
//   - Host first, regenerated: from the URI for absolute-form, the validated Host for origin-form.
//   - hop-by-hop fields removed: Connection, Keep-Alive, Proxy-Connection, Proxy-Authorization,
//     Proxy-Authenticate, TE, Trailer, Upgrade (kept when head.upgrade), and every field the client's
//     Connection header names, except framing fields (Content-Length, Transfer-Encoding, Host) which a
//     Connection header can never remove (that would desynchronise the relay).
//   - Transfer-Encoding is written "Transfer-Encoding: chunked" (the only coding accepted): the relay
//     re-frames the body with chunk sizes of its own (ChunkedReframer). Content-Length is kept as
//     received (duplicates collapsed).
//   - Connection regenerated: "Connection: Upgrade" for an upgrade, "Connection: close" when the
//     client's request was not keep-alive, otherwise none (HTTP/1.1 is persistent by default;
//     "Connection: keep-alive" for a keep-alive HTTP/1.0 request).
std::string serializeRequestHead(const HttpRequestHead& head, std::string_view canonical_path);

}  // namespace warden::proxy
