#include "proxy/tls_ca.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "common/file_io.h"
#include "common/ip_address.h"
#include "common/encoding.h"
#include "common/unique_fd.h"
#include "proxy/tls_client.h"
#include "proxy/tls_util.h"

namespace warden::proxy {
namespace {

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES_free>>;

constexpr size_t kMaxRootsBytes = 16 * 1024 * 1024;

Result<PkeyPtr> generateKey() {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return sslError("generating a P-256 key");
  return key;
}

// A random positive 127-bit serial (RFC 5280: positive, at most 20 octets, unpredictable).
Result<void> setRandomSerial(X509* cert) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) return sslError("RAND_bytes");
  bytes[0] &= 0x7f;
  bytes[0] |= 0x40;  // never zero, never short
  BnPtr bn(BN_bin2bn(bytes, sizeof(bytes), nullptr));
  if (!bn || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) == nullptr) {
    return sslError("setting the serial number");
  }
  return okResult();
}

Result<void> addExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return sslError(fmt::format("adding extension {}={}", OBJ_nid2sn(nid), value));
  }
  return okResult();
}

Result<void> addNameEntry(X509_NAME* name, const char* field, std::string_view value) {
  if (X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(value.data()),
                                 static_cast<int>(value.size()), -1, 0) != 1) {
    return sslError(fmt::format("adding {} to a certificate name", field));
  }
  return okResult();
}

Result<std::string> toPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return sslError("PEM-encoding a certificate");
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  if (length <= 0 || data == nullptr) return sslError("reading a PEM buffer");
  return std::string(data, static_cast<size_t>(length));
}

// The system roots, or "" if the file does not exist.
Result<std::string> readRoots(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return std::string();
    return errnoError(fmt::format("open system roots {}", path.string()));
  }
  auto roots = readAll(fd.get(), "system roots " + path.string(), kMaxRootsBytes, OverLimit::kFail);
  if (!roots.ok() && roots.error().code() == Code::kOutOfRange) {
    return outOfRange(fmt::format("system roots {} over 16 MiB", path.string()));
  }
  return roots;
}

constexpr unsigned char kAlpnHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

// Offers only http/1.1; a client that does not offer it continues without ALPN.
int selectAlpn(SSL* /*ssl*/, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void* /*arg*/) {
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, kAlpnHttp11, sizeof(kAlpnHttp11), in, inlen) ==
      OPENSSL_NPN_NEGOTIATED) {
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

// The host for an error message: at most 64 bytes, non-printable bytes as \xNN.
std::string printable(std::string_view text) {
  std::string out;
  for (const char c : text.substr(0, 64)) {
    const auto byte = static_cast<uint8_t>(c);
    if (byte >= 0x20 && byte < 0x7f && c != '\\') {
      out.push_back(c);
    } else {
      out += fmt::format("\\x{:02x}", byte);
    }
  }
  if (text.size() > 64) out += "...";
  return out;
}

}  // namespace

// ---- CertificateAuthority ----

struct CertificateAuthority::Impl {
  CertificateAuthorityOptions options;
  PkeyPtr key;   // never leaves memory
  X509Ptr cert;

  // A leaf for a normalized host, signed by the CA, and a server context presenting it.
  Result<std::shared_ptr<SSL_CTX>> mint(const std::string& host) const {
    const auto ip = IpAddress::parse(host);  // `host` is normalized: a bare, canonical literal or a name
    auto leaf_key = generateKey();
    if (!leaf_key.ok()) return leaf_key.error();
    X509Ptr leaf(X509_new());
    if (!leaf) return sslError("X509_new");
    if (X509_set_version(leaf.get(), X509_VERSION_3) != 1) return sslError("X509_set_version");
    WARDEN_RETURN_IF_ERROR(setRandomSerial(leaf.get()));
    if (X509_set1_notBefore(leaf.get(), X509_get0_notBefore(cert.get())) != 1 ||
        X509_set1_notAfter(leaf.get(), X509_get0_notAfter(cert.get())) != 1) {
      return sslError("setting leaf validity");
    }
    X509_NAME* subject = X509_get_subject_name(leaf.get());
    // CN is informational (clients match the SAN); its upper bound is 64 characters.
    WARDEN_RETURN_IF_ERROR(addNameEntry(subject, "CN", host.size() <= 64 ? host : "warden-intercepted-host"));
    if (X509_set_issuer_name(leaf.get(), X509_get_subject_name(cert.get())) != 1 ||
        X509_set_pubkey(leaf.get(), leaf_key->get()) != 1) {
      return sslError("setting leaf issuer and key");
    }
    WARDEN_RETURN_IF_ERROR(addExtension(leaf.get(), cert.get(), NID_basic_constraints, "critical,CA:FALSE"));
    WARDEN_RETURN_IF_ERROR(addExtension(leaf.get(), cert.get(), NID_key_usage, "critical,digitalSignature"));
    WARDEN_RETURN_IF_ERROR(addExtension(leaf.get(), cert.get(), NID_ext_key_usage, "serverAuth"));
    WARDEN_RETURN_IF_ERROR(addExtension(leaf.get(), cert.get(), NID_subject_key_identifier, "hash"));
    WARDEN_RETURN_IF_ERROR(addExtension(leaf.get(), cert.get(), NID_authority_key_identifier, "keyid:always"));

    // The SAN is built as a structure, not from a config string: the host never meets a parser.
    GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
    GENERAL_NAME* name = GENERAL_NAME_new();
    if (!names || name == nullptr) {
      GENERAL_NAME_free(name);
      return sslError("allocating the SAN");
    }
    ASN1_STRING* value = ip ? ASN1_OCTET_STRING_new() : ASN1_IA5STRING_new();
    const bool set = value != nullptr &&
                     (ip ? ASN1_OCTET_STRING_set(value, ip->bytes().data(), ip->isV6() ? 16 : 4)
                         : ASN1_STRING_set(value, host.data(), static_cast<int>(host.size()))) == 1;
    if (!set) {
      ASN1_STRING_free(value);
      GENERAL_NAME_free(name);
      return sslError("building the SAN");
    }
    GENERAL_NAME_set0_value(name, ip ? GEN_IPADD : GEN_DNS, value);
    if (sk_GENERAL_NAME_push(names.get(), name) <= 0) {
      GENERAL_NAME_free(name);
      return sslError("building the SAN");
    }
    if (X509_add1_ext_i2d(leaf.get(), NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
      return sslError("adding the SAN");
    }
    if (X509_sign(leaf.get(), key.get(), EVP_sha256()) <= 0) return sslError("signing the leaf");

    auto ctx = shareContext(SSL_CTX_new(TLS_server_method()));
    if (!ctx) return sslError("SSL_CTX_new(server)");
    if (SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION) != 1) return sslError("server minimum TLS 1.2");
    SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (SSL_CTX_use_certificate(ctx.get(), leaf.get()) != 1 || SSL_CTX_use_PrivateKey(ctx.get(), leaf_key->get()) != 1 ||
        SSL_CTX_check_private_key(ctx.get()) != 1) {
      return sslError("installing the leaf");
    }
    SSL_CTX_set_alpn_select_cb(ctx.get(), selectAlpn, nullptr);
    return ctx;
  }
};

CertificateAuthority::CertificateAuthority(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CertificateAuthority::~CertificateAuthority() = default;

Result<std::shared_ptr<CertificateAuthority>> CertificateAuthority::create(const std::filesystem::path& dir,
                                                                           const CertificateAuthorityOptions& options) {
  if (options.leaf_cache_capacity == 0) return invalidArgument("session CA: leaf_cache_capacity must be positive");
  if (options.validity.count() <= 0) return invalidArgument("session CA: validity must be positive");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return errnoError(fmt::format("session CA: create {}", dir.string()), ec.value());

  auto impl = std::make_unique<Impl>();
  impl->options = options;
  auto key = generateKey();
  if (!key.ok()) return key.error();
  impl->key = std::move(*key);

  unsigned char id_bytes[4];
  if (RAND_bytes(id_bytes, sizeof(id_bytes)) != 1) return sslError("RAND_bytes");
  const std::string short_id = hexEncode(std::string_view(reinterpret_cast<const char*>(id_bytes), sizeof(id_bytes)));

  X509Ptr cert(X509_new());
  if (!cert) return sslError("X509_new");
  X509* ca = cert.get();
  if (X509_set_version(ca, X509_VERSION_3) != 1) return sslError("X509_set_version");
  WARDEN_RETURN_IF_ERROR(setRandomSerial(ca));
  const long validity_seconds = static_cast<long>(options.validity.count()) * 3600;
  if (X509_gmtime_adj(X509_getm_notBefore(ca), -3600) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(ca), validity_seconds) == nullptr) {
    return sslError("setting CA validity");
  }
  X509_NAME* name = X509_get_subject_name(ca);
  WARDEN_RETURN_IF_ERROR(addNameEntry(name, "O", "Warden"));
  WARDEN_RETURN_IF_ERROR(addNameEntry(name, "CN", "Warden session CA " + short_id));
  if (X509_set_issuer_name(ca, name) != 1 || X509_set_pubkey(ca, impl->key.get()) != 1) {
    return sslError("setting CA issuer and key");
  }
  WARDEN_RETURN_IF_ERROR(addExtension(ca, ca, NID_basic_constraints, "critical,CA:TRUE,pathlen:0"));
  WARDEN_RETURN_IF_ERROR(addExtension(ca, ca, NID_key_usage, "critical,keyCertSign,cRLSign"));
  WARDEN_RETURN_IF_ERROR(addExtension(ca, ca, NID_subject_key_identifier, "hash"));
  WARDEN_RETURN_IF_ERROR(addExtension(ca, ca, NID_authority_key_identifier, "keyid:always"));
  if (X509_sign(ca, impl->key.get(), EVP_sha256()) <= 0) return sslError("self-signing the CA");
  impl->cert = std::move(cert);

  auto pem = toPem(impl->cert.get());
  if (!pem.ok()) return pem.error();
  auto roots = readRoots(options.system_roots);
  if (!roots.ok()) return roots.error().withContext("session CA bundle");
  std::string bundle = std::move(*roots);
  if (!bundle.empty() && bundle.back() != '\n') bundle.push_back('\n');
  bundle += *pem;

  const std::filesystem::path cert_path = dir / "ca.pem";
  const std::filesystem::path bundle_path = dir / "ca-bundle.pem";
  WARDEN_RETURN_IF_ERROR(writeFileAtomically(cert_path, *pem, 0644));
  WARDEN_RETURN_IF_ERROR(writeFileAtomically(bundle_path, bundle, 0644));

  std::shared_ptr<CertificateAuthority> authority(new CertificateAuthority(std::move(impl)));
  authority->cert_path_ = cert_path;
  authority->bundle_path_ = bundle_path;
  authority->cert_pem_ = std::move(*pem);
  authority->short_id_ = short_id;
  return authority;
}

Result<std::shared_ptr<SSL_CTX>> CertificateAuthority::serverContextFor(std::string_view host) {
  auto normalized = normalizeCertificateHost(host);
  if (!normalized) {
    return invalidArgument(fmt::format("session CA: '{}' is not a host name or IP address", printable(host)));
  }
  const std::string& key = *normalized;
  std::unique_lock lock(mu_);
  while (true) {
    if (auto it = by_host_.find(key); it != by_host_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      return it->second->ctx;
    }
    if (std::find(pending_.begin(), pending_.end(), key) == pending_.end()) break;
    minted_.wait(lock);  // another thread is minting this host: one mint, shared
  }
  pending_.push_back(key);
  lock.unlock();
  auto minted = impl_->mint(key);
  lock.lock();
  pending_.erase(std::find(pending_.begin(), pending_.end(), key));
  if (minted.ok()) {
    lru_.push_front(CacheEntry{.host = key, .ctx = *minted});
    by_host_[key] = lru_.begin();
    while (lru_.size() > impl_->options.leaf_cache_capacity) {
      by_host_.erase(lru_.back().host);
      lru_.pop_back();
    }
  }
  minted_.notify_all();
  if (!minted.ok()) return minted.error().withContext(fmt::format("session CA: leaf for {}", key));
  return minted;
}

std::shared_ptr<SSL_CTX> CertificateAuthority::clientContext() const {
  std::lock_guard lock(mu_);
  if (!client_ctx_) {
    // Built on first use: loading the system roots costs ~20 ms, which a session start (or a session
    // that never intercepts TLS) should not pay; the first intercepted connection does, once.
    auto built = makeUpstreamClientContext(extra_ca_files_);
    if (built.ok()) client_ctx_ = std::move(*built);
  }
  return client_ctx_;
}

Result<void> CertificateAuthority::addTrustedCaFile(const std::filesystem::path& pem_file) {
  std::lock_guard lock(mu_);
  std::vector<std::filesystem::path> files = extra_ca_files_;
  files.push_back(pem_file);
  auto ctx = makeUpstreamClientContext(files);
  if (!ctx.ok()) return ctx.error();
  extra_ca_files_ = std::move(files);
  client_ctx_ = std::move(*ctx);
  return okResult();
}

size_t CertificateAuthority::cachedHostCount() const {
  std::lock_guard lock(mu_);
  return lru_.size();
}

}  // namespace warden::proxy
