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
#include "common/encoding.h"
#include "common/unique_fd.h"

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

constexpr unsigned char kAlpnHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
constexpr size_t kMaxRootsBytes = 16 * 1024 * 1024;
constexpr size_t kMaxDnsNameBytes = 253;
constexpr size_t kMaxLabelBytes = 63;
constexpr size_t kMaxTlsRecordBytes = 16384 + 256;  // plaintext limit, with room for legacy slack

// Drains OpenSSL's error queue for this thread into a message.
Error sslError(std::string_view what) {
  std::string detail;
  while (const unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    if (!detail.empty()) detail += "; ";
    detail += buf;
  }
  return internalError(fmt::format("{}: {}", what, detail.empty() ? "unknown OpenSSL error" : detail));
}

std::shared_ptr<SSL_CTX> shareContext(SSL_CTX* ctx) { return std::shared_ptr<SSL_CTX>(ctx, SSL_CTX_free); }

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

// Writes `content` to `path` with mode 0644 via a temporary file and rename(), so readers never see
// a partial file.
Result<void> writeFileAtomically(const std::filesystem::path& path, std::string_view content) {
  std::filesystem::path tmp = path;
  tmp += fmt::format(".tmp{}", ::getpid());
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!fd.valid()) return errnoError(fmt::format("create {}", tmp.string()));
  size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd.get(), content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::unlink(tmp.c_str());
      return errnoError(fmt::format("write {}", tmp.string()), err);
    }
    written += static_cast<size_t>(n);
  }
  if (::fchmod(fd.get(), 0644) != 0 || ::close(fd.release()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return errnoError(fmt::format("finish {}", tmp.string()), err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return errnoError(fmt::format("rename {} -> {}", tmp.string(), path.string()), err);
  }
  return okResult();
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

Result<std::shared_ptr<SSL_CTX>> buildClientContext(const std::vector<std::filesystem::path>& extra_ca_files) {
  auto ctx = shareContext(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return sslError("SSL_CTX_new(client)");
  if (SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION) != 1) return sslError("client minimum TLS 1.2");
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_set_default_verify_paths(ctx.get()) != 1) return sslError("loading the system trust store");
  for (const auto& file : extra_ca_files) {
    if (SSL_CTX_load_verify_file(ctx.get(), file.c_str()) != 1) {
      return sslError(fmt::format("loading trusted CA file {}", file.string())).withContext("upstream TLS");
    }
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (SSL_CTX_set_alpn_protos(ctx.get(), kAlpnHttp11, sizeof(kAlpnHttp11)) != 0) {
    return sslError("client ALPN");
  }
  return ctx;
}

bool isDnsChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// Lower-cases and validates a DNS name (one trailing dot dropped); nullopt if invalid.
std::optional<std::string> normalizeDnsName(std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  if (host.empty() || host.size() > kMaxDnsNameBytes) return std::nullopt;
  std::string out;
  out.reserve(host.size());
  size_t label = 0;
  for (const char raw : host) {
    const char c = (raw >= 'A' && raw <= 'Z') ? static_cast<char>(raw - 'A' + 'a') : raw;
    if (c == '.') {
      if (label == 0) return std::nullopt;
      label = 0;
    } else {
      if (!isDnsChar(c) || ++label > kMaxLabelBytes) return std::nullopt;
    }
    out.push_back(c);
  }
  if (label == 0) return std::nullopt;
  return out;
}

// An IP literal ("1.2.3.4", "::1", "[::1]") -> its bytes (4 or 16); nullopt otherwise.
std::optional<std::vector<uint8_t>> parseIpLiteral(std::string_view host) {
  bool bracketed = false;
  if (!host.empty() && host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return std::nullopt;
    host = host.substr(1, host.size() - 2);
    bracketed = true;
  }
  if (host.empty() || host.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  const std::string text(host);
  std::array<uint8_t, 16> bytes{};
  if (!bracketed && inet_pton(AF_INET, text.c_str(), bytes.data()) == 1) {
    return std::vector<uint8_t>(bytes.begin(), bytes.begin() + 4);
  }
  if (inet_pton(AF_INET6, text.c_str(), bytes.data()) == 1) return std::vector<uint8_t>(bytes.begin(), bytes.end());
  return std::nullopt;
}

std::string ipToString(const std::vector<uint8_t>& bytes) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(bytes.size() == 4 ? AF_INET : AF_INET6, bytes.data(), buf, sizeof(buf));
  return buf;
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
    const auto ip = parseIpLiteral(host);
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
                     (ip ? ASN1_OCTET_STRING_set(value, ip->data(), static_cast<int>(ip->size()))
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
  WARDEN_RETURN_IF_ERROR(writeFileAtomically(cert_path, *pem));
  WARDEN_RETURN_IF_ERROR(writeFileAtomically(bundle_path, bundle));

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
    auto built = buildClientContext(extra_ca_files_);
    if (built.ok()) client_ctx_ = std::move(*built);
  }
  return client_ctx_;
}

Result<void> CertificateAuthority::addTrustedCaFile(const std::filesystem::path& pem_file) {
  std::lock_guard lock(mu_);
  std::vector<std::filesystem::path> files = extra_ca_files_;
  files.push_back(pem_file);
  auto ctx = buildClientContext(files);
  if (!ctx.ok()) return ctx.error();
  extra_ca_files_ = std::move(files);
  client_ctx_ = std::move(*ctx);
  return okResult();
}

size_t CertificateAuthority::cachedHostCount() const {
  std::lock_guard lock(mu_);
  return lru_.size();
}

std::optional<std::string> normalizeCertificateHost(std::string_view host) {
  if (auto ip = parseIpLiteral(host)) return ipToString(*ip);
  if (!host.empty() && host.front() == '[') return std::nullopt;
  return normalizeDnsName(host);
}

Result<void> configureClientSsl(SSL* ssl, std::string_view host) {
  if (ssl == nullptr) return invalidArgument("upstream TLS: no SSL object");
  if (auto ip = parseIpLiteral(host)) {
    const std::string text = ipToString(*ip);
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), text.c_str()) != 1) {
      return sslError(fmt::format("upstream TLS: verify IP {}", text));
    }
    return okResult();  // no SNI for IP literals (RFC 6066 section 3)
  }
  auto name = normalizeDnsName(host);
  if (!name) return invalidArgument("upstream TLS: the host is not a DNS name or IP address");
  if (SSL_set_tlsext_host_name(ssl, name->c_str()) != 1) return sslError("upstream TLS: SNI");
  SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (SSL_set1_host(ssl, name->c_str()) != 1) return sslError("upstream TLS: verify host");
  return okResult();
}

// ---- ClientHello ----

namespace {

// A bounds-checked big-endian reader over a byte string.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool empty() const { return pos_ == data_.size(); }
  size_t remaining() const { return data_.size() - pos_; }
  bool u8(uint32_t& out) { return number(1, out); }
  bool u16(uint32_t& out) { return number(2, out); }
  bool u24(uint32_t& out) { return number(3, out); }
  bool bytes(size_t n, std::string_view& out) {
    if (n > remaining()) return false;
    out = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool skip(size_t n) {
    std::string_view ignored;
    return bytes(n, ignored);
  }

 private:
  bool number(size_t n, uint32_t& out) {
    if (n > remaining()) return false;
    out = 0;
    for (size_t i = 0; i < n; ++i) out = (out << 8) | static_cast<uint8_t>(data_[pos_ + i]);
    pos_ += n;
    return true;
  }

  std::string_view data_;
  size_t pos_ = 0;
};

uint32_t be16(std::string_view s, size_t at) {
  return (uint32_t{static_cast<uint8_t>(s[at])} << 8) | static_cast<uint8_t>(s[at + 1]);
}

// Parses a whole ClientHello body (after the 4-byte handshake header).
bool parseClientHelloBody(std::string_view body, ClientHelloInfo& info) {
  Reader r(body);
  uint32_t version = 0;
  if (!r.u16(version) || (version >> 8) != 3) return false;
  if (!r.skip(32)) return false;  // random
  uint32_t length = 0;
  if (!r.u8(length) || length > 32 || !r.skip(length)) return false;  // legacy_session_id
  if (!r.u16(length) || length < 2 || length % 2 != 0 || !r.skip(length)) return false;  // cipher_suites
  if (!r.u8(length) || length < 1 || !r.skip(length)) return false;  // compression methods
  if (r.empty()) return true;  // no extensions (pre-TLS 1.2 style): valid, no SNI
  std::string_view extensions_block;
  if (!r.u16(length) || !r.bytes(length, extensions_block) || !r.empty()) return false;
  Reader ext(extensions_block);
  bool seen_sni = false;
  bool seen_alpn = false;
  while (!ext.empty()) {
    uint32_t type = 0;
    std::string_view data;
    if (!ext.u16(type) || !ext.u16(length) || !ext.bytes(length, data)) return false;
    if (type == 0) {  // server_name (RFC 6066)
      if (seen_sni) return false;
      seen_sni = true;
      Reader sni(data);
      std::string_view list;
      if (!sni.u16(length) || !sni.bytes(length, list) || !sni.empty() || list.empty()) return false;
      Reader names(list);
      while (!names.empty()) {
        uint32_t name_type = 0;
        std::string_view name;
        if (!names.u8(name_type) || !names.u16(length) || !names.bytes(length, name)) return false;
        if (name_type != 0) continue;  // not host_name
        if (info.sni) return false;    // at most one host_name
        // A trailing dot is not allowed in SNI; normalizeDnsName would drop it, so refuse it first.
        if (name.empty() || name.back() == '.') return false;
        auto normalized = normalizeDnsName(name);
        if (!normalized) return false;
        info.sni = std::move(*normalized);
      }
    } else if (type == 16) {  // application_layer_protocol_negotiation (RFC 7301)
      if (seen_alpn) return false;
      seen_alpn = true;
      Reader alpn(data);
      std::string_view list;
      if (!alpn.u16(length) || !alpn.bytes(length, list) || !alpn.empty() || list.empty()) return false;
      Reader protocols(list);
      while (!protocols.empty()) {
        std::string_view protocol;
        if (!protocols.u8(length) || length == 0 || !protocols.bytes(length, protocol)) return false;
        if (info.alpn.size() < 32) info.alpn.emplace_back(protocol);
      }
    }
  }
  return true;
}

}  // namespace

bool looksLikeTlsClientHello(std::string_view first_bytes) {
  if (first_bytes.size() < kTlsSniffBytes) return false;
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(first_bytes[i]); };
  const uint32_t record_length = be16(first_bytes, 3);
  return byte(0) == 22 && byte(1) == 3 && byte(2) <= 4 && record_length >= 1 &&
         record_length <= kMaxTlsRecordBytes && byte(5) == 1;
}

ClientHelloInfo inspectClientHello(std::string_view bytes) {
  ClientHelloInfo info;
  std::string handshake;  // the handshake message, reassembled from its records
  size_t pos = 0;
  while (true) {
    if (bytes.size() - pos < 5) {
      // A partial record header: plausible only if what is there is a handshake record of 3.x.
      const std::string_view rest = bytes.substr(pos);
      const bool plausible = (rest.empty() || static_cast<uint8_t>(rest[0]) == 22) &&
                             (rest.size() < 2 || rest[1] == 3) &&
                             (rest.size() < 3 || static_cast<uint8_t>(rest[2]) <= 4);
      info.status = plausible ? ClientHelloStatus::kIncomplete : ClientHelloStatus::kInvalid;
      return info;
    }
    if (static_cast<uint8_t>(bytes[pos]) != 22 || bytes[pos + 1] != 3 || static_cast<uint8_t>(bytes[pos + 2]) > 4) {
      return info;  // kInvalid
    }
    const size_t record_length = be16(bytes, pos + 3);
    if (record_length == 0 || record_length > kMaxTlsRecordBytes) return info;
    const size_t available = std::min(record_length, bytes.size() - pos - 5);
    handshake.append(bytes.substr(pos + 5, available));
    const bool record_complete = available == record_length;
    pos += 5 + available;

    if (!handshake.empty() && static_cast<uint8_t>(handshake[0]) != 1) return info;  // not a ClientHello
    if (handshake.size() >= 4) {
      const size_t message_length = (size_t{static_cast<uint8_t>(handshake[1])} << 16) |
                                    (size_t{static_cast<uint8_t>(handshake[2])} << 8) |
                                    static_cast<uint8_t>(handshake[3]);
      if (message_length > kMaxClientHelloBytes) return info;
      if (handshake.size() >= 4 + message_length) {
        // Only the ClientHello may be in the first flight: trailing handshake bytes are malformed.
        if (handshake.size() != 4 + message_length) return info;
        if (!parseClientHelloBody(std::string_view(handshake).substr(4, message_length), info)) {
          info.sni.reset();
          info.alpn.clear();
          return info;
        }
        info.status = ClientHelloStatus::kComplete;
        info.record_bytes = pos;
        return info;
      }
    }
    if (handshake.size() > kMaxClientHelloBytes + 4) return info;
    if (!record_complete) {
      info.status = ClientHelloStatus::kIncomplete;
      return info;
    }
  }
}

std::optional<std::string> parseSni(std::string_view client_hello) {
  ClientHelloInfo info = inspectClientHello(client_hello);
  if (info.status != ClientHelloStatus::kComplete) return std::nullopt;
  return std::move(info.sni);
}

}  // namespace warden::proxy
