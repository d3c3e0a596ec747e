#include "proxy/inspect/decompress.h"

#include <fmt/format.h>
#include <lzma.h>
#include <zlib.h>

#include <algorithm>
#include <array>

namespace warden::proxy::inspect {

namespace {

constexpr size_t kOutChunk = 64 * 1024;

std::string lowerAscii(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
  return out;
}

class PassThrough final : public Decompressor {
 public:
  explicit PassThrough(uint64_t max) : max_(max) {}
  Result<void> feed(std::string_view input, const Sink& sink) override {
    if (output_bytes_ + input.size() > max_) return resourceExhausted(fmt::format("output over {} bytes", max_));
    output_bytes_ += input.size();
    sink(input);
    return okResult();
  }
  bool finished() const override { return true; }

 private:
  uint64_t max_;
};

class ZlibStream final : public Decompressor {
 public:
  ZlibStream(bool gzip, uint64_t max) : max_(max) {
    // gzip: 16 + MAX_WBITS; deflate: 32 + MAX_WBITS detects a zlib or gzip header (servers send
    // both for "deflate"); raw deflate is tried when that fails on the first bytes.
    ok_ = inflateInit2(&z_, gzip ? 16 + MAX_WBITS : 32 + MAX_WBITS) == Z_OK;
    raw_fallback_ = !gzip;
  }
  ~ZlibStream() override {
    if (ok_) inflateEnd(&z_);
  }
  Result<void> feed(std::string_view input, const Sink& sink) override {
    if (!ok_) return internalError("zlib could not be initialised");
    if (!error_.empty()) return dataLoss(error_);
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    z_.avail_in = static_cast<uInt>(input.size());
    std::array<char, kOutChunk> out;
    while (!done_) {
      z_.next_out = reinterpret_cast<Bytef*>(out.data());
      z_.avail_out = static_cast<uInt>(out.size());
      const int rc = inflate(&z_, Z_NO_FLUSH);
      const size_t produced = out.size() - z_.avail_out;
      if (rc == Z_DATA_ERROR && raw_fallback_ && output_bytes_ == 0 && z_.total_in < 4) {
        // "deflate" sent as raw deflate (no zlib header): start over as raw.
        raw_fallback_ = false;
        inflateEnd(&z_);
        z_ = z_stream{};
        ok_ = inflateInit2(&z_, -MAX_WBITS) == Z_OK;
        if (!ok_) return internalError("zlib could not be initialised");
        z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
        z_.avail_in = static_cast<uInt>(input.size());
        continue;
      }
      if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
        error_ = fmt::format("corrupt compressed data ({})", z_.msg != nullptr ? z_.msg : "zlib error");
        return dataLoss(error_);
      }
      raw_fallback_ = false;
      if (output_bytes_ + produced > max_) {
        error_ = fmt::format("decompressed size over {} bytes", max_);
        return resourceExhausted(error_);
      }
      output_bytes_ += produced;
      if (produced > 0) sink(std::string_view(out.data(), produced));
      if (rc == Z_STREAM_END) done_ = true;
      if (rc == Z_BUF_ERROR && produced == 0) break;
      if (z_.avail_in == 0 && z_.avail_out != 0) break;  // all input used, all output given
    }
    return okResult();
  }
  bool finished() const override { return done_; }

 private:
  z_stream z_{};
  bool ok_ = false;
  bool raw_fallback_ = false;
  bool done_ = false;
  uint64_t max_;
  std::string error_;
};

class XzStream final : public Decompressor {
 public:
  explicit XzStream(uint64_t max) : max_(max) {
    ok_ = lzma_stream_decoder(&s_, 256 * 1024 * 1024, 0) == LZMA_OK;
  }
  ~XzStream() override { lzma_end(&s_); }
  Result<void> feed(std::string_view input, const Sink& sink) override {
    if (!ok_) return internalError("liblzma could not be initialised");
    if (!error_.empty()) return dataLoss(error_);
    s_.next_in = reinterpret_cast<const uint8_t*>(input.data());
    s_.avail_in = input.size();
    std::array<char, kOutChunk> out;
    while (!done_) {
      s_.next_out = reinterpret_cast<uint8_t*>(out.data());
      s_.avail_out = out.size();
      const lzma_ret rc = lzma_code(&s_, LZMA_RUN);
      const size_t produced = out.size() - s_.avail_out;
      if (rc != LZMA_OK && rc != LZMA_STREAM_END && rc != LZMA_BUF_ERROR) {
        error_ = fmt::format("corrupt xz data (liblzma error {})", static_cast<int>(rc));
        return dataLoss(error_);
      }
      if (output_bytes_ + produced > max_) {
        error_ = fmt::format("decompressed size over {} bytes", max_);
        return resourceExhausted(error_);
      }
      output_bytes_ += produced;
      if (produced > 0) sink(std::string_view(out.data(), produced));
      if (rc == LZMA_STREAM_END) done_ = true;
      if (rc == LZMA_BUF_ERROR && produced == 0) break;
      if (s_.avail_in == 0 && s_.avail_out != 0) break;  // all input used, all output given
    }
    return okResult();
  }
  bool finished() const override { return done_; }

 private:
  lzma_stream s_ = LZMA_STREAM_INIT;
  bool ok_ = false;
  bool done_ = false;
  uint64_t max_;
  std::string error_;
};

}  // namespace

std::optional<Compression> compressionFrom(std::string_view name) {
  const std::string n = lowerAscii(name);
  if (n.empty() || n == "identity") return Compression::kNone;
  if (n == "gzip" || n == "x-gzip" || n == "gz") return Compression::kGzip;
  if (n == "deflate") return Compression::kDeflate;
  if (n == "xz") return Compression::kXz;
  return std::nullopt;
}

Result<std::unique_ptr<Decompressor>> Decompressor::create(Compression kind, uint64_t max_output_bytes) {
  switch (kind) {
    case Compression::kNone: return std::unique_ptr<Decompressor>(new PassThrough(max_output_bytes));
    case Compression::kGzip: return std::unique_ptr<Decompressor>(new ZlibStream(true, max_output_bytes));
    case Compression::kDeflate: return std::unique_ptr<Decompressor>(new ZlibStream(false, max_output_bytes));
    case Compression::kXz: return std::unique_ptr<Decompressor>(new XzStream(max_output_bytes));
  }
  return invalidArgument("unknown compression");
}

}  // namespace warden::proxy::inspect
