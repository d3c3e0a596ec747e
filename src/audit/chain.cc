#include "audit/chain.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "common/encoding.h"

namespace warden::audit {

namespace {
constexpr std::string_view kDomain = "warden.chain.v1\n";
}

Digest chainSeed(std::string_view session_id) {
  std::string buf(kDomain);
  buf.append(session_id);
  Digest d;
  SHA256(reinterpret_cast<const unsigned char*>(buf.data()), buf.size(), d.data());
  return d;
}

Digest chainNext(const Digest& prev, std::string_view canonical_json) {
  // One contiguous buffer and the one-shot SHA256(): cheaper than an EVP context per event.
  thread_local std::string buf;
  buf.assign(kDomain);
  buf.append(reinterpret_cast<const char*>(prev.data()), prev.size());
  buf.append(canonical_json);
  Digest d;
  SHA256(reinterpret_cast<const unsigned char*>(buf.data()), buf.size(), d.data());
  return d;
}

struct ChainHasher::State {
  EVP_MD* md = nullptr;
  EVP_MD_CTX* ctx = nullptr;
};

ChainHasher::ChainHasher() : state_(new State) {
  state_->md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  state_->ctx = EVP_MD_CTX_new();
}

ChainHasher::~ChainHasher() {
  EVP_MD_CTX_free(state_->ctx);
  EVP_MD_free(state_->md);
  delete state_;
}

Digest ChainHasher::next(const Digest& prev, std::string_view canonical_json) {
  Digest d;
  unsigned int len = 0;
  if (state_->md == nullptr || state_->ctx == nullptr || EVP_DigestInit_ex2(state_->ctx, state_->md, nullptr) != 1 ||
      EVP_DigestUpdate(state_->ctx, kDomain.data(), kDomain.size()) != 1 ||
      EVP_DigestUpdate(state_->ctx, prev.data(), prev.size()) != 1 ||
      EVP_DigestUpdate(state_->ctx, canonical_json.data(), canonical_json.size()) != 1 ||
      EVP_DigestFinal_ex(state_->ctx, d.data(), &len) != 1 || len != d.size()) {
    return chainNext(prev, canonical_json);  // an allocation failure inside OpenSSL: the slow path
  }
  return d;
}

std::string digestHex(const Digest& d) {
  return hexEncode(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

bool parseDigestHex(std::string_view hex, Digest& out) {
  if (hex.size() != 64) return false;
  const auto raw = hexDecode(hex);
  if (!raw) return false;
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>((*raw)[i]);
  return true;
}

std::string checkpointMessage(std::string_view session_id, uint64_t last_seq, std::string_view head_hex,
                              int64_t time_ms) {
  std::string m = "warden.checkpoint.v1\n";
  m.append(session_id).append("\n").append(std::to_string(last_seq)).append("\n");
  m.append(head_hex).append("\n").append(std::to_string(time_ms));
  return m;
}

}  // namespace warden::audit
