#pragma once

// Chunked transfer coding (RFC 9112 7.1): find where a chunked body ends, optionally handing out the
// decoded payload (e.g. to hash a package download), and re-frame a client's chunked body with sizes
// of our own (ChunkedReframer) so an upstream never parses a size, extension or trailer the client wrote.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "proxy/http_codec.h"

namespace warden::proxy {

// Receives decoded payload bytes, in order; the view is valid only during the call.
using PayloadSink = std::function<void(std::string_view)>;

inline constexpr size_t kMaxChunkLineBytes = 4096;     // chunk-size line, extensions included
inline constexpr size_t kMaxTrailerBytes = 16 * 1024;  // the whole trailer section

// A byte-at-a-time state machine over one chunked body: chunk-size lines (hex digits, optional
// extensions after ';'), data, CRLF, the last chunk, trailer fields (validated like header fields,
// then dropped) and the final CRLF. Single-threaded; holds only a bounded trailer line; no exceptions.
// Feeding the body in any split gives the same result.
//
// feed() consumes a prefix of `data`: kNeedMore means all of it was body and more is to come; kDone
// means the body ended after `consumed` bytes (the rest is the next message); kRejected means the
// framing is broken and the connection must be closed. Rejections carry `reject_status` (400 when
// decoding a client's request body, 502 for an upstream's response).
class ChunkedDecoder {
 public:
  explicit ChunkedDecoder(int reject_status = 400);

  FeedResult feed(std::string_view data, const PayloadSink& on_payload = {});
  ParseState state() const { return state_; }
  const HttpRejection& rejection() const { return rejection_; }
  // Decoded payload bytes seen so far.
  uint64_t payloadBytes() const { return payload_bytes_; }
  void reset();

 private:
  enum class Step {
    kSize,          // hex digits of a chunk size
    kSizeWs,        // whitespace after the size: only ';' may follow
    kExtension,     // chunk extension up to CR
    kSizeLf,        // LF ending the size line
    kData,          // chunk data
    kDataCr,        // CR after the data
    kDataLf,        // LF after the data
    kTrailerStart,  // start of a trailer field line, or the final CRLF
    kTrailer,       // inside a trailer field line
    kTrailerLf,     // LF ending a trailer field line
    kFinalLf,       // LF of the final CRLF
  };

  FeedResult reject(RejectReason reason, std::string detail);

  int reject_status_;
  ParseState state_ = ParseState::kNeedMore;
  Step step_ = Step::kSize;
  uint64_t size_ = 0;       // the chunk size being read
  size_t size_digits_ = 0;  // hex digits read for it
  size_t line_bytes_ = 0;   // bytes of the current size line
  uint64_t remaining_ = 0;  // data bytes left in the current chunk
  size_t trailer_bytes_ = 0;
  std::string trailer_line_;
  uint64_t payload_bytes_ = 0;
  HttpRejection rejection_;
};

// Re-frames a chunked request body: decodes the client's framing strictly (ChunkedDecoder) and writes
// the payload as chunks of our own sizes, so what an upstream parses is framing Warden wrote — a size
// a lenient upstream would truncate (0x100000005), an extension, or a trailer never reaches it.
// Each feed() that decoded payload appends exactly one chunk "<hex size>\r\n<payload>\r\n" to *out;
// the end of the body appends the last chunk "0\r\n\r\n". Trailer fields are validated (a malformed
// one rejects the body) and dropped. Single-threaded; no exceptions; keeps one scratch buffer.
class ChunkedReframer {
 public:
  explicit ChunkedReframer(int reject_status = 400) : decoder_(reject_status) {}

  // As ChunkedDecoder::feed (consumes a prefix of `data`); on kRejected nothing is appended.
  FeedResult feed(std::string_view data, std::string* out);
  ParseState state() const { return decoder_.state(); }
  const HttpRejection& rejection() const { return decoder_.rejection(); }
  uint64_t payloadBytes() const { return decoder_.payloadBytes(); }

 private:
  ChunkedDecoder decoder_;
  std::string scratch_;
};

}  // namespace warden::proxy
