#include "proxy/chunked.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/encoding.h"

namespace warden::proxy {

namespace {

bool isExtensionByte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return c == '\t' || (u >= 0x20 && u != 0x7f);
}

}  // namespace

ChunkedDecoder::ChunkedDecoder(int reject_status) : reject_status_(reject_status) {}

void ChunkedDecoder::reset() {
  const int status = reject_status_;
  *this = ChunkedDecoder(status);
}

FeedResult ChunkedDecoder::reject(RejectReason reason, std::string detail) {
  state_ = ParseState::kRejected;
  rejection_ = HttpRejection{reject_status_, reason, std::move(detail)};
  return {state_, 0};
}

FeedResult ChunkedDecoder::feed(std::string_view data, const PayloadSink& on_payload) {
  if (state_ != ParseState::kNeedMore) return {state_, 0};
  size_t i = 0;
  while (i < data.size()) {
    const char c = data[i];
    switch (step_) {
      case Step::kSize:
      case Step::kSizeWs:
      case Step::kExtension: {
        if (++line_bytes_ > kMaxChunkLineBytes) {
          return reject(RejectReason::kChunkLineTooLong,
                        fmt::format("a chunk-size line is longer than {} bytes", kMaxChunkLineBytes));
        }
        if (c == '\r') {
          if (size_digits_ == 0)
            return reject(RejectReason::kInvalidChunkSize, "a chunk-size line has no size");
          if (step_ == Step::kSizeWs) {
            return reject(RejectReason::kInvalidChunkSize,
                          "whitespace after a chunk size without an extension");
          }
          step_ = Step::kSizeLf;
          break;
        }
        if (step_ == Step::kExtension) {
          if (!isExtensionByte(c)) {
            return reject(RejectReason::kInvalidChunkExtension, "a control byte in a chunk extension");
          }
          break;
        }
        if (c == ';') {
          if (size_digits_ == 0)
            return reject(RejectReason::kInvalidChunkSize, "a chunk extension without a size");
          step_ = Step::kExtension;
          break;
        }
        if (c == ' ' || c == '\t') {
          if (size_digits_ == 0)
            return reject(RejectReason::kInvalidChunkSize, "whitespace before a chunk size");
          step_ = Step::kSizeWs;
          break;
        }
        const int d = hexDigitValue(c);
        if (d < 0 || step_ == Step::kSizeWs) {
          return reject(RejectReason::kInvalidChunkSize, "a chunk size is not hexadecimal");
        }
        if (size_ > (UINT64_MAX >> 4)) {
          return reject(RejectReason::kChunkSizeOverflow, "a chunk size does not fit in 64 bits");
        }
        size_ = (size_ << 4) | static_cast<uint64_t>(d);
        ++size_digits_;
        break;
      }
      case Step::kSizeLf:
        if (c != '\n') return reject(RejectReason::kBareCr, "a chunk-size line's CR is not followed by LF");
        if (size_ == 0) {
          step_ = Step::kTrailerStart;
        } else {
          remaining_ = size_;
          step_ = Step::kData;
        }
        break;
      case Step::kData: {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, data.size() - i));
        if (on_payload) on_payload(data.substr(i, n));
        payload_bytes_ += n;
        remaining_ -= n;
        i += n;
        if (remaining_ == 0) step_ = Step::kDataCr;
        continue;
      }
      case Step::kDataCr:
        if (c != '\r') return reject(RejectReason::kMissingChunkCrlf, "chunk data is not followed by CRLF");
        step_ = Step::kDataLf;
        break;
      case Step::kDataLf:
        if (c != '\n') return reject(RejectReason::kMissingChunkCrlf, "chunk data is not followed by CRLF");
        step_ = Step::kSize;
        size_ = 0;
        size_digits_ = 0;
        line_bytes_ = 0;
        break;
      case Step::kTrailerStart:
      case Step::kTrailer:
        if (++trailer_bytes_ > kMaxTrailerBytes) {
          return reject(RejectReason::kTrailerTooLarge,
                        fmt::format("the trailer section is longer than {} bytes", kMaxTrailerBytes));
        }
        if (c == '\r') {
          step_ = step_ == Step::kTrailerStart ? Step::kFinalLf : Step::kTrailerLf;
          break;
        }
        if (c == '\n') return reject(RejectReason::kBareLf, "a trailer line ends with a bare LF");
        trailer_line_.push_back(c);
        step_ = Step::kTrailer;
        break;
      case Step::kTrailerLf: {
        ++trailer_bytes_;
        if (c != '\n') return reject(RejectReason::kBareCr, "a trailer line's CR is not followed by LF");
        HeaderField field;
        if (auto r = parseFieldLine(trailer_line_, reject_status_, &field)) {
          return reject(RejectReason::kInvalidTrailer, "a malformed trailer field: " + r->detail);
        }
        trailer_line_.clear();
        step_ = Step::kTrailerStart;
        break;
      }
      case Step::kFinalLf:
        if (c != '\n') return reject(RejectReason::kBareCr, "the final CR is not followed by LF");
        state_ = ParseState::kDone;
        return {state_, i + 1};
    }
    ++i;
  }
  return {state_, data.size()};
}

FeedResult ChunkedReframer::feed(std::string_view data, std::string* out) {
  scratch_.clear();
  const FeedResult r = decoder_.feed(data, [this](std::string_view payload) { scratch_.append(payload); });
  if (r.state == ParseState::kRejected) return r;
  if (!scratch_.empty()) {
    *out += fmt::format("{:x}\r\n", scratch_.size());
    *out += scratch_;
    *out += "\r\n";
  }
  if (r.state == ParseState::kDone) *out += "0\r\n\r\n";
  return r;
}

}  // namespace warden::proxy
