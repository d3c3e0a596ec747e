#include "support/lenient_http.h"

#include <algorithm>
#include <cstdlib>

namespace warden::testing {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  return out;
}

}  // namespace

std::vector<std::string> LenientHttpReader::feed(std::string_view bytes) {
  buffer_.append(bytes);
  std::vector<std::string> done;
  for (;;) {
    switch (state_) {
      case State::kHead: {
        const size_t end = buffer_.find("\r\n\r\n");
        if (end == std::string::npos) return done;
        const std::string head = buffer_.substr(0, end + 2);
        buffer_.erase(0, end + 4);
        line_ = head.substr(0, head.find("\r\n"));
        const std::string l = lower(head);
        const size_t te = l.find("\r\ntransfer-encoding:");
        const size_t cl = l.find("\r\ncontent-length:");
        if (te != std::string::npos && l.find("chunked", te) < l.find("\r\n", te + 2)) {
          state_ = State::kChunkSize;
        } else if (cl != std::string::npos) {
          left_ = std::strtoull(l.c_str() + cl + 17, nullptr, 10);
          state_ = State::kLength;
        } else {
          done.push_back(line_);
        }
        break;
      }
      case State::kLength: {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(left_, buffer_.size()));
        buffer_.erase(0, take);
        left_ -= take;
        if (left_ > 0) return done;
        done.push_back(line_);
        state_ = State::kHead;
        break;
      }
      case State::kChunkSize: {
        const size_t end = buffer_.find("\r\n");
        if (end == std::string::npos) return done;
        uint32_t size = 0;  // the lenient part: 32 bits, overflow wraps
        for (char c : buffer_.substr(0, end)) {
          int d = -1;
          if (c >= '0' && c <= '9') d = c - '0';
          if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
          if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
          if (d < 0) break;  // an extension, or anything: ignored
          size = static_cast<uint32_t>(size * 16 + static_cast<uint32_t>(d));
        }
        buffer_.erase(0, end + 2);
        left_ = size;
        state_ = size == 0 ? State::kTrailer : State::kChunkData;
        break;
      }
      case State::kChunkData: {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(left_, buffer_.size()));
        buffer_.erase(0, take);
        left_ -= take;
        if (left_ > 0) return done;
        state_ = State::kChunkDataEnd;
        break;
      }
      case State::kChunkDataEnd: {
        if (buffer_.size() < 2) return done;
        buffer_.erase(0, 2);
        state_ = State::kChunkSize;
        break;
      }
      case State::kTrailer: {
        const size_t end = buffer_.find("\r\n");
        if (end == std::string::npos) return done;
        buffer_.erase(0, end + 2);
        if (end == 0) {
          done.push_back(line_);
          state_ = State::kHead;
        }
        break;
      }
    }
  }
}

}  // namespace warden::testing
