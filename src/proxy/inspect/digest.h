#pragma once

// The digests of one artifact body, computed while it streams: SHA-256 always, and SHA-512 or
// SHA-1 when that is what the index advertised (npm integrity, npm shasum). Single-threaded.

#include <memory>
#include <string>
#include <string_view>

namespace warden::proxy::inspect {

class ArtifactDigest {
 public:
  ArtifactDigest(bool sha512, bool sha1);
  ~ArtifactDigest();
  ArtifactDigest(const ArtifactDigest&) = delete;
  ArtifactDigest& operator=(const ArtifactDigest&) = delete;

  void update(std::string_view bytes);
  // Ends the stream (idempotent).
  void finish();
  const std::string& sha256Hex() const { return sha256_; }
  // "sha512-<base64>" (SRI form), "" when not computed.
  const std::string& sha512Sri() const { return sha512_; }
  // "sha1:<hex>", "" when not computed.
  const std::string& sha1Tagged() const { return sha1_; }

 private:
  struct Contexts;
  std::unique_ptr<Contexts> ctx_;
  bool finished_ = false;
  std::string sha256_;
  std::string sha512_;
  std::string sha1_;
};

}  // namespace warden::proxy::inspect
