#pragma once

// The digests of one artifact body, computed while it streams: SHA-256 always, and SHA-512 or
// SHA-1 when that is what the index advertised (npm integrity, npm shasum). Used from one thread.
//
// `parallel`: the hashing runs on a worker thread of its own, so that a large download's SHA-256 runs
// on another core beside the relay instead of in series with it: update() copies the bytes into a
// queue (at most kMaxBacklog bytes; beyond it update() waits for the worker) and finish() waits for
// the worker to hash what is queued. If the thread cannot be started the digest hashes inline.

#include <memory>
#include <string>
#include <string_view>

namespace warden::proxy::inspect {

class ArtifactDigest {
 public:
  static constexpr size_t kMaxBacklog = 4 * 1024 * 1024;

  ArtifactDigest(bool sha512, bool sha1, bool parallel = false);
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
  struct Worker;
  void hash(std::string_view bytes);
  std::unique_ptr<Contexts> ctx_;
  std::unique_ptr<Worker> worker_;
  bool finished_ = false;
  std::string sha256_;
  std::string sha512_;
  std::string sha1_;
};

}  // namespace warden::proxy::inspect
