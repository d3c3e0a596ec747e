#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace warden::testing {

// A deliberately lenient HTTP/1.1 request reader, the kind of upstream request smuggling works on:
// it reads requests one after another from a connection's bytes, takes Transfer-Encoding: chunked
// anywhere in the value, reads a chunk size into 32 bits (0x100000005 is 5), skips extensions and
// trailers without looking, and trusts whatever framing it is given. Test code only: the upstream
// that must never see a request the proxy did not decide on. Single-threaded.
class LenientHttpReader {
 public:
  // Feeds more of the connection; returns the request lines ("GET /admin HTTP/1.1") of every request
  // that became complete.
  std::vector<std::string> feed(std::string_view bytes);

 private:
  enum class State { kHead, kLength, kChunkSize, kChunkData, kChunkDataEnd, kTrailer };
  std::string buffer_;
  State state_ = State::kHead;
  std::string line_;      // the current request's request line
  uint64_t left_ = 0;     // body bytes left (Content-Length or the current chunk)
};

}  // namespace warden::testing
