#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace warden::audit {

// A session's Ed25519 key pair (OpenSSL). The private key lives only in this object's memory
// and is freed (OpenSSL zeroes it) when the object dies. Move-only; sign() is thread-safe.
class Signer {
 public:
  static Result<Signer> generate();
  ~Signer();
  Signer(Signer&&) noexcept;
  Signer& operator=(Signer&&) noexcept;
  Signer(const Signer&) = delete;
  Signer& operator=(const Signer&) = delete;

  // Raw 32-byte public key, hex (64 digits).
  const std::string& publicKeyHex() const { return public_hex_; }
  // Short id of the key: the first 16 hex digits of SHA-256(raw public key).
  const std::string& keyId() const { return key_id_; }
  // Ed25519 signature of `message`, hex (128 digits).
  Result<std::string> signHex(std::string_view message) const;

 private:
  Signer() = default;
  void* key_ = nullptr;  // EVP_PKEY*
  std::string public_hex_;
  std::string key_id_;
};

// Verifies an Ed25519 signature (hex) over `message` with a raw public key (hex).
// Returns false for a bad signature and for malformed key or signature text.
bool verifyEd25519(std::string_view public_key_hex, std::string_view message, std::string_view signature_hex);
// keyId() for a raw public key given in hex; "" if malformed.
std::string keyIdForPublicKey(std::string_view public_key_hex);

// Writes a public key file (one line: the hex raw key) for `warden audit verify --key`; reading
// accepts that form or a PEM "PUBLIC KEY".
Result<std::string> readPublicKeyFile(const std::string& path);

}  // namespace warden::audit
