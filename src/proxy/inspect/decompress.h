#pragma once

// Streaming decompression of what index responses carry: Content-Encoding gzip/deflate (zlib), and
// apt's Packages.gz / Packages.xz (zlib, liblzma). Bounded: the total output is capped (a
// decompression bomb stops at the cap with an error, never fills memory).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace warden::proxy::inspect {

enum class Compression { kNone, kGzip, kDeflate, kXz };
// From a Content-Encoding value or an apt file suffix: "gzip"/"x-gzip"/"gz", "deflate", "xz";
// "identity" and "" are kNone; anything else nullopt (not readable).
std::optional<Compression> compressionFrom(std::string_view name);

// One stream. Single-threaded; owns the zlib/lzma state; no exceptions.
class Decompressor {
 public:
  using Sink = std::function<void(std::string_view)>;
  static Result<std::unique_ptr<Decompressor>> create(Compression kind, uint64_t max_output_bytes);
  virtual ~Decompressor() = default;
  // Decodes `input`, handing the output to `sink` in pieces. An error (corrupt data, output over the
  // cap) is final: later calls return it again without decoding.
  virtual Result<void> feed(std::string_view input, const Sink& sink) = 0;
  // True when the compressed stream reached its end marker.
  virtual bool finished() const = 0;
  uint64_t outputBytes() const { return output_bytes_; }

 protected:
  uint64_t output_bytes_ = 0;
};

}  // namespace warden::proxy::inspect
