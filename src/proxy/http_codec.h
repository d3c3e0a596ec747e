#pragma once

// Shared pieces of the strict HTTP/1.1 codec: parse outcomes, rejections with reason codes, header
// fields, the CRLF line reader that both head parsers sit on, and field-line validation.
// Everything here is pure: no sockets, no allocation beyond the message being parsed, no exceptions.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace warden::proxy {

// Where an incremental parser stands after a feed() call.
enum class ParseState {
  kNeedMore,  // every byte given was consumed; the message part is not complete yet
  kDone,      // complete; FeedResult::consumed says how many bytes of this call's input belonged to it
  kRejected,  // malformed or over a limit; see the parser's rejection()
};

// The answer to one feed() call. `consumed` counts bytes of *this call's* input: on kDone the bytes
// after it belong to whatever follows (a body, the next message, WebSocket frames).
struct FeedResult {
  ParseState state = ParseState::kNeedMore;
  size_t consumed = 0;
};

// Machine-friendly reason for a rejection; rejectReasonName() gives its snake_case code.
enum class RejectReason {
  kBareLf,
  kBareCr,
  kHeadTooLarge,
  kTooManyHeaders,
  kInvalidRequestLine,
  kInvalidMethod,
  kInvalidTarget,
  kTargetFormMismatch,
  kUnsupportedScheme,
  kUserinfoInUri,
  kInvalidHost,
  kInvalidVersion,
  kUnsupportedVersion,
  kObsFold,
  kWhitespaceBeforeColon,
  kInvalidHeaderName,
  kMalformedHeaderLine,
  kInvalidHeaderValue,
  kContentLengthWithTransferEncoding,
  kConflictingContentLength,
  kInvalidContentLength,
  kUnsupportedTransferEncoding,
  kTransferEncodingInHttp10,
  kMissingHost,
  kMultipleHost,
  kConnectWithBody,
  kInvalidStatusLine,
  kInvalidStatusCode,
  kInvalidChunkSize,
  kChunkSizeOverflow,
  kChunkLineTooLong,
  kInvalidChunkExtension,
  kMissingChunkCrlf,
  kTrailerTooLarge,
  kInvalidTrailer,
};

// "bare_lf", "head_too_large", ... Stable: used in events and in 4xx/5xx bodies.
std::string_view rejectReasonName(RejectReason reason);

// Why a message was refused and what to answer. `status` is what the proxy sends back: 400, 431,
// 501 or 505 for a client's request; 502 for an upstream's response. `detail` is for humans and never
// quotes header values (they may carry credentials).
struct HttpRejection {
  int status = 400;
  RejectReason reason = RejectReason::kInvalidRequestLine;
  std::string detail;

  std::string_view code() const { return rejectReasonName(reason); }
};

enum class HttpVersion { kHttp10, kHttp11 };
std::string_view httpVersionText(HttpVersion version);  // "HTTP/1.0" / "HTTP/1.1"

// How the body after a head is delimited.
enum class BodyFraming {
  kNone,           // no body at all (also Content-Length: 0)
  kContentLength,  // exactly content_length bytes
  kChunked,        // chunked transfer coding: use ChunkedDecoder to find the end
  kUntilClose,     // responses only: the body runs until the upstream closes
};

// One field line as received: the name in its original case, the value with surrounding OWS trimmed.
struct HeaderField {
  std::string name;
  std::string value;

  bool operator==(const HeaderField&) const = default;
};

using HeaderList = std::vector<HeaderField>;

// ASCII case-insensitive equality.
bool equalsIgnoreCase(std::string_view a, std::string_view b);
// RFC 9110 tchar.
bool isTokenChar(char c);
bool isToken(std::string_view s);
// The first field named `name` (case-insensitive), or nullptr.
const HeaderField* findHeader(const HeaderList& headers, std::string_view name);
// Whether any field named `name` holds `token` in its comma-separated list (case-insensitive).
bool headerHasToken(const HeaderList& headers, std::string_view name, std::string_view token);

// A Content-Length value: decimal digits, or a list of identical ones ("5, 5", RFC 9110 8.6);
// nullopt for anything else, including differing list members and values over 2^64-1.
std::optional<uint64_t> parseContentLength(std::string_view value);

// Validates one field line (without its CRLF) and splits it. Rejects obs-fold, whitespace before the
// colon, non-token names and control bytes (other than HT) in values. `status` is the status put in a
// rejection (400 for requests, 502 for responses).
std::optional<HttpRejection> parseFieldLine(std::string_view line, int status, HeaderField* out);

// Accumulates a message head from chunks and hands out its lines, each of which must end in CRLF.
// It never holds more than `max_bytes`; a head that does not end within them is rejected. Single-threaded;
// owns a copy of the head's bytes and nothing else. Bytes past the end of the head are never copied: feed()
// tells how much of each chunk it took.
class HeadReader {
 public:
  enum class Step { kLine, kNeedMore, kRejected };

  // `error_status` goes in rejections for malformed lines, `too_large_status` in the size rejection.
  HeadReader(size_t max_bytes, int error_status, int too_large_status);

  // Copies as much of `data` as fits under the limit; returns how many bytes were taken.
  size_t append(std::string_view data);
  // The next complete line (without CRLF) in `*line`, valid until the next append() or reset().
  // kNeedMore when no complete line is buffered (and the limit is not reached); kRejected on a bare
  // LF, a CR not followed by LF, or a full buffer without a complete line.
  Step nextLine(std::string_view* line, HttpRejection* rejection);
  // Bytes given to lines so far (the head's length once its empty line has been read).
  size_t lineBytes() const { return line_start_; }
  // Bytes held.
  size_t size() const { return buf_.size(); }
  // Bytes of the last append() that were not handed out as lines: they are given back when the head
  // ends, so the caller can tell where the head ended in its chunk.
  size_t unreadBytes() const { return buf_.size() - line_start_; }
  void reset();

 private:
  size_t max_bytes_;
  int error_status_;
  int too_large_status_;
  std::string buf_;
  size_t line_start_ = 0;  // start of the line being scanned
  size_t scan_ = 0;        // next byte to examine
};

// Sizes the codec enforces.
inline constexpr size_t kMaxRequestHeadBytes = 16 * 1024;   // sandbox.md: header block <= 16 KiB
inline constexpr size_t kMaxResponseHeadBytes = 64 * 1024;  // upstreams send large Set-Cookie/CSP
inline constexpr size_t kMaxHeaderCount = 128;

}  // namespace warden::proxy
