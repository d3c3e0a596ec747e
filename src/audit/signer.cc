#include "audit/signer.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <fstream>
#include <sstream>

#include "common/encoding.h"

namespace warden::audit {

namespace {
EVP_PKEY* asKey(void* k) { return static_cast<EVP_PKEY*>(k); }
}  // namespace

Result<Signer> Signer::generate() {
  EVP_PKEY* key = nullptr;
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr);
  if (ctx == nullptr || EVP_PKEY_keygen_init(ctx) <= 0 || EVP_PKEY_keygen(ctx, &key) <= 0) {
    EVP_PKEY_CTX_free(ctx);
    return internalError("Ed25519 key generation failed (OpenSSL)");
  }
  EVP_PKEY_CTX_free(ctx);
  unsigned char pub[32];
  size_t len = sizeof pub;
  if (EVP_PKEY_get_raw_public_key(key, pub, &len) <= 0 || len != 32) {
    EVP_PKEY_free(key);
    return internalError("Ed25519 public key export failed (OpenSSL)");
  }
  Signer s;
  s.key_ = key;
  s.public_hex_ = hexEncode(std::string_view(reinterpret_cast<const char*>(pub), len));
  s.key_id_ = keyIdForPublicKey(s.public_hex_);
  return s;
}

Signer::~Signer() { EVP_PKEY_free(asKey(key_)); }

Signer::Signer(Signer&& o) noexcept
    : key_(std::exchange(o.key_, nullptr)), public_hex_(std::move(o.public_hex_)), key_id_(std::move(o.key_id_)) {}

Signer& Signer::operator=(Signer&& o) noexcept {
  if (this != &o) {
    EVP_PKEY_free(asKey(key_));
    key_ = std::exchange(o.key_, nullptr);
    public_hex_ = std::move(o.public_hex_);
    key_id_ = std::move(o.key_id_);
  }
  return *this;
}

Result<std::string> Signer::signHex(std::string_view message) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char sig[64];
  size_t len = sizeof sig;
  const bool ok = ctx != nullptr && EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, asKey(key_)) > 0 &&
                  EVP_DigestSign(ctx, sig, &len, reinterpret_cast<const unsigned char*>(message.data()),
                                 message.size()) > 0;
  EVP_MD_CTX_free(ctx);
  if (!ok) return internalError("Ed25519 signing failed (OpenSSL)");
  return hexEncode(std::string_view(reinterpret_cast<const char*>(sig), len));
}

bool verifyEd25519(std::string_view public_key_hex, std::string_view message, std::string_view signature_hex) {
  const auto pub = hexDecode(public_key_hex);
  const auto sig = hexDecode(signature_hex);
  if (!pub || pub->size() != 32 || !sig || sig->size() != 64) return false;
  EVP_PKEY* key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                              reinterpret_cast<const unsigned char*>(pub->data()), pub->size());
  if (key == nullptr) return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok = ctx != nullptr && EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, key) > 0 &&
                  EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig->data()), sig->size(),
                                   reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  return ok;
}

std::string keyIdForPublicKey(std::string_view public_key_hex) {
  const auto pub = hexDecode(public_key_hex);
  if (!pub || pub->size() != 32) return "";
  return sha256Hex(*pub).substr(0, 16);
}

Result<std::string> readPublicKeyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return notFound(path + ": cannot open public key file");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (text.find("-----BEGIN PUBLIC KEY-----") != std::string::npos) {
    BIO* bio = BIO_new_mem_buf(text.data(), static_cast<int>(text.size()));
    EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    if (key == nullptr) return invalidArgument(path + ": not a PEM public key");
    unsigned char pub[32];
    size_t len = sizeof pub;
    const bool ok = EVP_PKEY_id(key) == EVP_PKEY_ED25519 && EVP_PKEY_get_raw_public_key(key, pub, &len) > 0;
    EVP_PKEY_free(key);
    if (!ok || len != 32) return invalidArgument(path + ": not an Ed25519 public key");
    return hexEncode(std::string_view(reinterpret_cast<const char*>(pub), len));
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  const auto raw = hexDecode(text);
  if (!raw || raw->size() != 32) {
    return invalidArgument(path + ": expected 64 hex digits (raw Ed25519 public key) or a PEM public key");
  }
  return text;
}

}  // namespace warden::audit
