#include "proxy/inspect/digest.h"

#include <openssl/evp.h>

#include "common/encoding.h"

namespace warden::proxy::inspect {

struct ArtifactDigest::Contexts {
  EVP_MD_CTX* sha256 = nullptr;
  EVP_MD_CTX* sha512 = nullptr;
  EVP_MD_CTX* sha1 = nullptr;
  ~Contexts() {
    EVP_MD_CTX_free(sha256);
    EVP_MD_CTX_free(sha512);
    EVP_MD_CTX_free(sha1);
  }
};

namespace {
EVP_MD_CTX* start(const EVP_MD* md) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx != nullptr && EVP_DigestInit_ex(ctx, md, nullptr) != 1) {
    EVP_MD_CTX_free(ctx);
    return nullptr;
  }
  return ctx;
}

std::string end(EVP_MD_CTX* ctx) {
  if (ctx == nullptr) return "";
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(ctx, out, &n) != 1) return "";
  return std::string(reinterpret_cast<const char*>(out), n);
}
}  // namespace

ArtifactDigest::ArtifactDigest(bool sha512, bool sha1) : ctx_(std::make_unique<Contexts>()) {
  ctx_->sha256 = start(EVP_sha256());
  if (sha512) ctx_->sha512 = start(EVP_sha512());
  if (sha1) ctx_->sha1 = start(EVP_sha1());
}

ArtifactDigest::~ArtifactDigest() = default;

void ArtifactDigest::update(std::string_view bytes) {
  if (finished_ || bytes.empty()) return;
  for (EVP_MD_CTX* c : {ctx_->sha256, ctx_->sha512, ctx_->sha1}) {
    if (c != nullptr) EVP_DigestUpdate(c, bytes.data(), bytes.size());
  }
}

void ArtifactDigest::finish() {
  if (finished_) return;
  finished_ = true;
  if (const std::string raw = end(ctx_->sha256); !raw.empty()) sha256_ = hexEncode(raw);
  if (const std::string raw = end(ctx_->sha512); !raw.empty()) sha512_ = "sha512-" + base64Encode(raw);
  if (const std::string raw = end(ctx_->sha1); !raw.empty()) sha1_ = "sha1:" + hexEncode(raw);
}

}  // namespace warden::proxy::inspect
