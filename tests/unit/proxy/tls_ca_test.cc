#include "proxy/tls_ca.h"
#include "proxy/tls_client_hello.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <atomic>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/unique_fd.h"
#include "support/test_env.h"

namespace warden::proxy {
namespace {

using namespace std::string_literals;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using warden::testing::readFile;
using warden::testing::TempDir;
using warden::testing::writeFile;

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
struct SslFree {
  void operator()(SSL* s) const { SSL_free(s); }
};
using SslPtr = std::unique_ptr<SSL, SslFree>;

X509Ptr parsePem(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return X509Ptr(cert);
}

CertificateAuthorityOptions optionsWithRoots(const std::filesystem::path& roots) {
  CertificateAuthorityOptions options;
  options.system_roots = roots;
  return options;
}

std::shared_ptr<CertificateAuthority> makeCa(const TempDir& dir, const CertificateAuthorityOptions& options) {
  auto ca = CertificateAuthority::create(dir / "ca", options);
  EXPECT_TRUE(ca.ok()) << ca.error().toString();
  return ca.ok() ? *ca : nullptr;
}

// Hermetic by default: no system roots in the bundle.
std::shared_ptr<CertificateAuthority> makeCa(const TempDir& dir) {
  return makeCa(dir, optionsWithRoots(dir / "no-roots.pem"));
}

// The certificate's subjectAltName entries as (GEN_DNS|GEN_IPADD, value bytes).
std::vector<std::pair<int, std::string>> sanEntries(X509* cert) {
  std::vector<std::pair<int, std::string>> out;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    int type = 0;
    const auto* value = static_cast<const ASN1_STRING*>(GENERAL_NAME_get0_value(name, &type));
    out.emplace_back(type, std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                                       static_cast<size_t>(ASN1_STRING_length(value))));
  }
  GENERAL_NAMES_free(names);
  return out;
}

X509* leafOf(const std::shared_ptr<SSL_CTX>& ctx) { return SSL_CTX_get0_certificate(ctx.get()); }

// X509_verify_cert of `leaf` against `ca` alone, as a TLS server certificate, optionally for a host
// or IP.
int verifyLeaf(X509* ca, X509* leaf, const std::string& host = "", const std::string& ip = "") {
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, leaf, nullptr);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx);
  X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
  if (!host.empty()) X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
  if (!ip.empty()) X509_VERIFY_PARAM_set1_ip_asc(param, ip.c_str());
  const int ok = X509_verify_cert(ctx);
  const int result = ok == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  return result;
}

// Drives a TLS handshake between two SSL objects over a non-blocking socketpair, in this thread.
struct HandshakeOutcome {
  bool client_ok = false;
  bool server_ok = false;
  long client_verify = -1;
  std::string alpn;
};

HandshakeOutcome handshake(SSL_CTX* server_ctx, SSL_CTX* client_ctx, const std::string& client_host,
                           const unsigned char* client_alpn = nullptr, unsigned client_alpn_len = 0) {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
  UniqueFd server_fd(fds[0]);
  UniqueFd client_fd(fds[1]);
  SslPtr server(SSL_new(server_ctx));
  SslPtr client(SSL_new(client_ctx));
  SSL_set_fd(server.get(), server_fd.get());
  SSL_set_fd(client.get(), client_fd.get());
  SSL_set_accept_state(server.get());
  SSL_set_connect_state(client.get());
  const auto configured = configureClientSsl(client.get(), client_host);
  EXPECT_TRUE(configured.ok()) << configured.error().toString();
  if (client_alpn != nullptr) SSL_set_alpn_protos(client.get(), client_alpn, client_alpn_len);

  HandshakeOutcome outcome;
  bool client_failed = false;
  bool server_failed = false;
  for (int round = 0; round < 1000; ++round) {
    if (!outcome.client_ok && !client_failed) {
      const int r = SSL_do_handshake(client.get());
      if (r == 1) {
        outcome.client_ok = true;
      } else {
        const int err = SSL_get_error(client.get(), r);
        client_failed = err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE;
      }
    }
    if (!outcome.server_ok && !server_failed) {
      const int r = SSL_do_handshake(server.get());
      if (r == 1) {
        outcome.server_ok = true;
      } else {
        const int err = SSL_get_error(server.get(), r);
        server_failed = err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE;
      }
    }
    if ((outcome.client_ok || client_failed) && (outcome.server_ok || server_failed)) break;
    if (client_failed || server_failed) {
      // The other side is waiting for bytes that will not come; one more round lets it see the alert.
      if (round > 4) break;
    }
  }
  ERR_clear_error();
  outcome.client_verify = SSL_get_verify_result(client.get());
  const unsigned char* selected = nullptr;
  unsigned selected_len = 0;
  SSL_get0_alpn_selected(client.get(), &selected, &selected_len);
  if (selected != nullptr) outcome.alpn.assign(reinterpret_cast<const char*>(selected), selected_len);
  return outcome;
}

// The first flight of a client with `host` as SNI (empty: none), captured through memory BIOs.
std::string captureClientHello(const std::string& sni, const std::vector<std::string>& alpn = {},
                               int max_version = 0) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (max_version != 0) SSL_CTX_set_max_proto_version(ctx, max_version);
  SSL* ssl = SSL_new(ctx);
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, in, out);
  SSL_set_connect_state(ssl);
  if (!sni.empty()) SSL_set_tlsext_host_name(ssl, sni.c_str());
  if (!alpn.empty()) {
    std::string wire;
    for (const auto& p : alpn) wire += static_cast<char>(p.size()) + p;
    SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(wire.data()), static_cast<unsigned>(wire.size()));
  }
  EXPECT_EQ(SSL_do_handshake(ssl), -1);
  char* data = nullptr;
  const long n = BIO_get_mem_data(out, &data);
  std::string hello(data, static_cast<size_t>(n));
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  return hello;
}

// Re-frames a single-record ClientHello into records of at most `fragment` handshake bytes.
std::string fragmentRecords(const std::string& hello, size_t fragment) {
  const std::string handshake = hello.substr(5);
  std::string out;
  for (size_t pos = 0; pos < handshake.size(); pos += fragment) {
    const std::string piece = handshake.substr(pos, fragment);
    out += hello.substr(0, 3);
    out.push_back(static_cast<char>(piece.size() >> 8));
    out.push_back(static_cast<char>(piece.size() & 0xff));
    out += piece;
  }
  return out;
}

mode_t modeOf(const std::filesystem::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

// ---- CA files ----

TEST(TlsCaTest, CreateWritesWorldReadableCertificateAndBundleAndNoKey) {
  TempDir dir;
  auto ca = makeCa(dir);
  ASSERT_NE(ca, nullptr);
  EXPECT_EQ(ca->certificatePath(), dir / "ca" / "ca.pem");
  EXPECT_EQ(ca->bundlePath(), dir / "ca" / "ca-bundle.pem");
  EXPECT_EQ(modeOf(ca->certificatePath()), 0644u);
  EXPECT_EQ(modeOf(ca->bundlePath()), 0644u);
  EXPECT_EQ(readFile(ca->certificatePath()), ca->certificatePem());
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir / "ca")) {
    names.insert(entry.path().filename().string());
    EXPECT_THAT(readFile(entry.path()), ::testing::Not(HasSubstr("PRIVATE KEY")));
  }
  EXPECT_EQ(names, (std::set<std::string>{"ca.pem", "ca-bundle.pem"}));
}

TEST(TlsCaTest, BundleHoldsSystemRootsFollowedBySessionCa) {
  TempDir dir;
  const std::string roots = "-----BEGIN CERTIFICATE-----\nROOTS\n-----END CERTIFICATE-----";  // no final newline
  writeFile(dir / "roots.pem", roots);
  auto ca = makeCa(dir, optionsWithRoots(dir / "roots.pem"));
  ASSERT_NE(ca, nullptr);
  EXPECT_EQ(readFile(ca->bundlePath()), roots + "\n" + ca->certificatePem());
}

TEST(TlsCaTest, BundleHoldsTheRealSystemRootsWhenPresent) {
  const std::filesystem::path system_roots = "/etc/ssl/certs/ca-certificates.crt";
  if (!std::filesystem::exists(system_roots)) GTEST_SKIP() << "no " << system_roots;
  TempDir dir;
  auto ca = makeCa(dir, optionsWithRoots(system_roots));
  ASSERT_NE(ca, nullptr);
  const std::string bundle = readFile(ca->bundlePath());
  EXPECT_THAT(bundle, StartsWith(readFile(system_roots)));
  EXPECT_THAT(bundle, ::testing::EndsWith(ca->certificatePem()));
}

TEST(TlsCaTest, BundleIsTheSessionCaAloneWithoutSystemRoots) {
  TempDir dir;
  auto ca = makeCa(dir, optionsWithRoots(dir / "missing.pem"));
  ASSERT_NE(ca, nullptr);
  EXPECT_EQ(readFile(ca->bundlePath()), ca->certificatePem());
}

TEST(TlsCaTest, CaCertificateIsAPathLenZeroSigningCaBackdatedOneHour) {
  TempDir dir;
  auto ca = makeCa(dir);
  ASSERT_NE(ca, nullptr);
  X509Ptr cert = parsePem(ca->certificatePem());
  ASSERT_NE(cert, nullptr);
  EXPECT_TRUE(X509_get_extension_flags(cert.get()) & EXFLAG_CA);
  EXPECT_EQ(X509_get_pathlen(cert.get()), 0);
  EXPECT_EQ(X509_get_key_usage(cert.get()), static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  int crit = 0;
  auto* bc = static_cast<BASIC_CONSTRAINTS*>(X509_get_ext_d2i(cert.get(), NID_basic_constraints, &crit, nullptr));
  ASSERT_NE(bc, nullptr);
  EXPECT_EQ(crit, 1);
  BASIC_CONSTRAINTS_free(bc);
  char cn[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, cn, sizeof(cn));
  EXPECT_EQ(std::string(cn), "Warden session CA " + ca->shortId());
  EXPECT_EQ(EVP_PKEY_get_base_id(X509_get0_pubkey(cert.get())), EVP_PKEY_EC);
  // Valid an hour ago (back-dated), and for days to come.
  const time_t now = time(nullptr);
  time_t before = now - 3500;
  time_t later = now + 3 * 24 * 3600;
  EXPECT_EQ(X509_cmp_time(X509_get0_notBefore(cert.get()), &before), -1);
  EXPECT_EQ(X509_cmp_time(X509_get0_notAfter(cert.get()), &later), 1);
}

TEST(TlsCaTest, EachRunHasItsOwnCa) {
  TempDir dir1;
  TempDir dir2;
  auto a = makeCa(dir1);
  auto b = makeCa(dir2);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a->certificatePem(), b->certificatePem());
}

// ---- leaves ----

TEST(TlsCaTest, LeafForHostnameVerifiesAgainstCaWithDnsSan) {
  TempDir dir;
  auto ca = makeCa(dir);
  ASSERT_NE(ca, nullptr);
  auto ctx = ca->serverContextFor("API.Example.test.");
  ASSERT_TRUE(ctx.ok()) << ctx.error().toString();
  X509* leaf = leafOf(*ctx);
  ASSERT_NE(leaf, nullptr);
  X509Ptr root = parsePem(readFile(ca->certificatePath()));
  EXPECT_EQ(verifyLeaf(root.get(), leaf, "api.example.test"), X509_V_OK);
  EXPECT_EQ(verifyLeaf(root.get(), leaf, "other.example.test"), X509_V_ERR_HOSTNAME_MISMATCH);
  EXPECT_EQ(sanEntries(leaf), (std::vector<std::pair<int, std::string>>{{GEN_DNS, "api.example.test"}}));
  EXPECT_EQ(X509_check_ip_asc(leaf, "127.0.0.1", 0), 0);
  EXPECT_TRUE(X509_get_extended_key_usage(leaf) & XKU_SSL_SERVER);
  EXPECT_FALSE(X509_get_extension_flags(leaf) & EXFLAG_CA);
  EXPECT_LE(ASN1_TIME_compare(X509_get0_notAfter(leaf), X509_get0_notAfter(root.get())), 0);
  EXPECT_GE(ASN1_TIME_compare(X509_get0_notBefore(leaf), X509_get0_notBefore(root.get())), 0);
}

TEST(TlsCaTest, LeafForIpLiteralCarriesIpSanAndNoDnsSan) {
  TempDir dir;
  auto ca = makeCa(dir);
  ASSERT_NE(ca, nullptr);
  X509Ptr root = parsePem(ca->certificatePem());
  auto v4 = ca->serverContextFor("127.0.0.1");
  ASSERT_TRUE(v4.ok()) << v4.error().toString();
  EXPECT_EQ(verifyLeaf(root.get(), leafOf(*v4), "", "127.0.0.1"), X509_V_OK);
  EXPECT_EQ(verifyLeaf(root.get(), leafOf(*v4), "", "127.0.0.2"), X509_V_ERR_IP_ADDRESS_MISMATCH);
  EXPECT_EQ(sanEntries(leafOf(*v4)), (std::vector<std::pair<int, std::string>>{{GEN_IPADD, "\x7f\x00\x00\x01"s}}));

  auto v6 = ca->serverContextFor("[::1]");
  ASSERT_TRUE(v6.ok()) << v6.error().toString();
  EXPECT_EQ(verifyLeaf(root.get(), leafOf(*v6), "", "::1"), X509_V_OK);
  ASSERT_EQ(sanEntries(leafOf(*v6)).size(), 1u);
  EXPECT_EQ(sanEntries(leafOf(*v6))[0].first, GEN_IPADD);
  EXPECT_EQ(sanEntries(leafOf(*v6))[0].second.size(), 16u);
  auto same = ca->serverContextFor("0:0:0:0:0:0:0:1");
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->get(), v6->get());  // one canonical form, one cache entry
}

TEST(TlsCaTest, LeafSerialsAreRandomAndDistinct) {
  TempDir dir;
  auto ca = makeCa(dir);
  ASSERT_NE(ca, nullptr);
  auto a = ca->serverContextFor("a.test");
  auto b = ca->serverContextFor("b.test");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(ASN1_INTEGER_cmp(X509_get0_serialNumber(leafOf(*a)), X509_get0_serialNumber(leafOf(*b))), 0);
}

TEST(TlsCaTest, RejectsHostsThatAreNeitherNamesNorAddresses) {
  TempDir dir;
  auto ca = makeCa(dir);
  ASSERT_NE(ca, nullptr);
  for (const std::string& host :
       {std::string(""), std::string("."), std::string("a..b"), std::string("a,DNS:evil.test"),
        std::string("*.example.test"), std::string("a b"), std::string("exa\0mple", 8), std::string("[1.2.3.4]"),
        std::string("[::1"), std::string("fe80::1%eth0"), std::string(254, 'a'), std::string(64, 'a') + ".test"}) {
    auto ctx = ca->serverContextFor(host);
    ASSERT_FALSE(ctx.ok()) << host;
    EXPECT_EQ(ctx.error().code(), Code::kInvalidArgument) << host;
  }
  EXPECT_EQ(ca->cachedHostCount(), 0u);
}

// ---- cache ----

TEST(TlsCaTest, CacheReturnsTheSameContextForAHostCaseInsensitively) {
  TempDir dir;
  auto ca = makeCa(dir);
  ASSERT_NE(ca, nullptr);
  auto first = ca->serverContextFor("example.test");
  auto again = ca->serverContextFor("EXAMPLE.test");
  auto other = ca->serverContextFor("other.test");
  ASSERT_TRUE(first.ok() && again.ok() && other.ok());
  EXPECT_EQ(first->get(), again->get());
  EXPECT_NE(first->get(), other->get());
  EXPECT_EQ(ca->cachedHostCount(), 2u);
}

TEST(TlsCaTest, ConcurrentFirstRequestsForAHostShareOneMint) {
  TempDir dir;
  auto ca = makeCa(dir);
  ASSERT_NE(ca, nullptr);
  constexpr int kThreads = 8;
  std::vector<SSL_CTX*> seen(kThreads, nullptr);
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      ready.fetch_add(1);
      while (ready.load() < kThreads) std::this_thread::yield();
      auto ctx = ca->serverContextFor("busy.example.test");
      if (ctx.ok()) seen[i] = ctx->get();
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) {
    ASSERT_NE(seen[i], nullptr);
    EXPECT_EQ(seen[i], seen[0]);
  }
  EXPECT_EQ(ca->cachedHostCount(), 1u);
}

TEST(TlsCaTest, EvictsTheLeastRecentlyUsedHostBeyondCapacity) {
  TempDir dir;
  CertificateAuthorityOptions options = optionsWithRoots(dir / "no-roots.pem");
  options.leaf_cache_capacity = 2;
  auto ca = makeCa(dir, options);
  ASSERT_NE(ca, nullptr);
  auto a = ca->serverContextFor("a.test");
  auto b = ca->serverContextFor("b.test");
  ASSERT_TRUE(ca->serverContextFor("a.test").ok());  // a is now the most recent
  auto c = ca->serverContextFor("c.test");             // evicts b
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(ca->cachedHostCount(), 2u);
  EXPECT_EQ(ca->serverContextFor("a.test")->get(), a->get());
  auto b_again = ca->serverContextFor("b.test");
  ASSERT_TRUE(b_again.ok());
  EXPECT_NE(b_again->get(), b->get());
  // The evicted context is still usable by whoever holds it.
  EXPECT_NE(leafOf(*b), nullptr);
}

// ---- handshakes ----

TEST(TlsCaTest, HandshakeSucceedsWithHostnameVerificationAndHttp11Alpn) {
  TempDir dir;
  auto ca = makeCa(dir);
  ASSERT_NE(ca, nullptr);
  ASSERT_TRUE(ca->addTrustedCaFile(ca->certificatePath()).ok());
  auto server = ca->serverContextFor("example.test");
  ASSERT_TRUE(server.ok());
  static const unsigned char kAlpn[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  const auto outcome = handshake(server->get(), ca->clientContext().get(), "example.test", kAlpn, sizeof(kAlpn));
  EXPECT_TRUE(outcome.client_ok);
  EXPECT_TRUE(outcome.server_ok);
  EXPECT_EQ(outcome.client_verify, X509_V_OK);
  EXPECT_EQ(outcome.alpn, "http/1.1");
}

TEST(TlsCaTest, HandshakeFailsWhenTheClientExpectsAnotherHost) {
  TempDir dir;
  auto ca = makeCa(dir);
  ASSERT_NE(ca, nullptr);
  ASSERT_TRUE(ca->addTrustedCaFile(ca->certificatePath()).ok());
  auto server = ca->serverContextFor("example.test");
  ASSERT_TRUE(server.ok());
  const auto outcome = handshake(server->get(), ca->clientContext().get(), "other.test");
  EXPECT_FALSE(outcome.client_ok);
  EXPECT_EQ(outcome.client_verify, X509_V_ERR_HOSTNAME_MISMATCH);
}

TEST(TlsCaTest, HandshakeToAnIpLiteralVerifiesTheIpSan) {
  TempDir dir;
  auto ca = makeCa(dir);
  ASSERT_NE(ca, nullptr);
  ASSERT_TRUE(ca->addTrustedCaFile(ca->certificatePath()).ok());
  auto server = ca->serverContextFor("127.0.0.1");
  ASSERT_TRUE(server.ok());
  EXPECT_TRUE(handshake(server->get(), ca->clientContext().get(), "127.0.0.1").client_ok);
  const auto wrong = handshake(server->get(), ca->clientContext().get(), "127.0.0.9");
  EXPECT_FALSE(wrong.client_ok);
  EXPECT_EQ(wrong.client_verify, X509_V_ERR_IP_ADDRESS_MISMATCH);
}

TEST(TlsCaTest, ClientContextDoesNotTrustTheSessionCaUnlessAsked) {
  TempDir dir;
  auto ca = makeCa(dir);
  ASSERT_NE(ca, nullptr);
  auto server = ca->serverContextFor("example.test");
  ASSERT_TRUE(server.ok());
  const auto before = ca->clientContext();
  const auto outcome = handshake(server->get(), before.get(), "example.test");
  EXPECT_FALSE(outcome.client_ok);
  EXPECT_EQ(outcome.client_verify, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  ASSERT_TRUE(ca->addTrustedCaFile(ca->certificatePath()).ok());
  EXPECT_NE(ca->clientContext().get(), before.get());  // swapped, not mutated
}

TEST(TlsCaTest, ServerAcceptsAClientOfferingOnlyH2WithoutAlpn) {
  TempDir dir;
  auto ca = makeCa(dir);
  ASSERT_NE(ca, nullptr);
  ASSERT_TRUE(ca->addTrustedCaFile(ca->certificatePath()).ok());
  auto server = ca->serverContextFor("example.test");
  ASSERT_TRUE(server.ok());
  static const unsigned char kH2[] = {2, 'h', '2'};
  const auto outcome = handshake(server->get(), ca->clientContext().get(), "example.test", kH2, sizeof(kH2));
  EXPECT_TRUE(outcome.client_ok);
  EXPECT_EQ(outcome.alpn, "");
}

TEST(TlsCaTest, ServerRefusesTls11) {
  TempDir dir;
  auto ca = makeCa(dir);
  ASSERT_NE(ca, nullptr);
  auto server = ca->serverContextFor("example.test");
  ASSERT_TRUE(server.ok());
  SSL_CTX* old_client = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_security_level(old_client, 0);
  SSL_CTX_set_min_proto_version(old_client, TLS1_VERSION);
  SSL_CTX_set_max_proto_version(old_client, TLS1_1_VERSION);
  SSL_CTX_set_verify(old_client, SSL_VERIFY_NONE, nullptr);
  const auto outcome = handshake(server->get(), old_client, "example.test");
  EXPECT_FALSE(outcome.server_ok);
  EXPECT_FALSE(outcome.client_ok);
  SSL_CTX_free(old_client);
}

TEST(TlsCaTest, AddTrustedCaFileRejectsAFileWithoutCertificates) {
  TempDir dir;
  auto ca = makeCa(dir);
  ASSERT_NE(ca, nullptr);
  const auto before = ca->clientContext();
  EXPECT_FALSE(ca->addTrustedCaFile(dir / "missing.pem").ok());
  writeFile(dir / "junk.pem", "not a certificate\n");
  EXPECT_FALSE(ca->addTrustedCaFile(dir / "junk.pem").ok());
  EXPECT_EQ(ca->clientContext().get(), before.get());
}

TEST(TlsCaTest, ConfigureClientSslRejectsHostsThatAreNeitherNamesNorAddresses) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SslPtr ssl(SSL_new(ctx));
  EXPECT_EQ(configureClientSsl(ssl.get(), "a b").error().code(), Code::kInvalidArgument);
  EXPECT_EQ(configureClientSsl(ssl.get(), "").error().code(), Code::kInvalidArgument);
  EXPECT_TRUE(configureClientSsl(ssl.get(), "[::1]").ok());
  EXPECT_EQ(SSL_get_servername(ssl.get(), TLSEXT_NAMETYPE_host_name), nullptr);  // no SNI for IPs
  SSL_CTX_free(ctx);
}

// ---- ClientHello sniffing ----

TEST(SniTest, DetectsARealClientHelloAndExtractsItsSni) {
  const std::string hello = captureClientHello("Sni.Example.test", {"h2", "http/1.1"});
  ASSERT_GT(hello.size(), 5u);
  EXPECT_TRUE(looksLikeTlsClientHello(hello));
  EXPECT_EQ(parseSni(hello), "sni.example.test");
  const ClientHelloInfo info = inspectClientHello(hello);
  EXPECT_EQ(info.status, ClientHelloStatus::kComplete);
  EXPECT_EQ(info.alpn, (std::vector<std::string>{"h2", "http/1.1"}));
  EXPECT_EQ(info.record_bytes, hello.size());
}

TEST(SniTest, ClientHelloWithoutSniHasNone) {
  const std::string hello = captureClientHello("");
  EXPECT_TRUE(looksLikeTlsClientHello(hello));
  EXPECT_EQ(inspectClientHello(hello).status, ClientHelloStatus::kComplete);
  EXPECT_EQ(parseSni(hello), std::nullopt);
}

TEST(SniTest, Tls12OnlyClientHelloIsParsed) {
  const std::string hello = captureClientHello("old.example.test", {}, TLS1_2_VERSION);
  EXPECT_EQ(parseSni(hello), "old.example.test");
}

TEST(SniTest, ParsesAClientHelloFragmentedAcrossRecords) {
  const std::string hello = captureClientHello("frag.example.test");
  for (const size_t fragment : {1u, 3u, 100u}) {
    const std::string fragmented = fragmentRecords(hello, fragment);
    EXPECT_EQ(parseSni(fragmented), "frag.example.test") << fragment;
    EXPECT_EQ(inspectClientHello(fragmented).record_bytes, fragmented.size());
  }
}

TEST(SniTest, EveryTruncationIsIncompleteAndYieldsNoSni) {
  const std::string hello = captureClientHello("trunc.example.test");
  for (size_t n = 0; n < hello.size(); ++n) {
    const std::string_view prefix(hello.data(), n);
    EXPECT_EQ(inspectClientHello(prefix).status, ClientHelloStatus::kIncomplete) << n;
    EXPECT_EQ(parseSni(prefix), std::nullopt) << n;
  }
  EXPECT_FALSE(looksLikeTlsClientHello(hello.substr(0, kTlsSniffBytes - 1)));
  EXPECT_TRUE(looksLikeTlsClientHello(hello.substr(0, kTlsSniffBytes)));
}

TEST(SniTest, RejectsPlainHttpAndGarbage) {
  for (const std::string& input : {std::string("GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
                                  std::string("CONNECT a:443 HTTP/1.1\r\n\r\n"), std::string("\x16\x03\x01\x00\x05\x02", 6),
                                  std::string("\x17\x03\x03\x00\x10\x01", 6), std::string("\x16\x02\x00\x00\x10\x01", 6),
                                  std::string(64, '\0'), std::string(64, '\xff')}) {
    EXPECT_FALSE(looksLikeTlsClientHello(input));
    EXPECT_EQ(inspectClientHello(input).status, ClientHelloStatus::kInvalid);
    EXPECT_EQ(parseSni(input), std::nullopt);
  }
}

TEST(SniTest, RejectsLengthsThatOverrunTheirContainer) {
  const std::string hello = captureClientHello("len.example.test");
  // Corrupt each length-like byte in turn: nothing crashes, and a corrupted hello never yields an SNI
  // other than the real one.
  for (size_t i = 0; i < hello.size(); ++i) {
    std::string mutated = hello;
    mutated[i] = static_cast<char>(mutated[i] ^ 0xff);
    const auto sni = parseSni(mutated);
    if (sni) {
      EXPECT_EQ(*sni, "len.example.test") << i;
    }
  }
  std::string overlong = hello;
  overlong[3] = '\x7f';  // record length far beyond the data: incomplete, not read past the end
  EXPECT_NE(inspectClientHello(overlong).status, ClientHelloStatus::kComplete);
}

TEST(SniTest, RejectsAnSniWithBytesThatCannotBeAHostName) {
  const std::string hello = captureClientHello("abc.example.test");
  std::string mutated = hello;
  const size_t at = mutated.find("abc.example.test");
  ASSERT_NE(at, std::string::npos);
  mutated[at + 1] = '\n';
  EXPECT_EQ(inspectClientHello(mutated).status, ClientHelloStatus::kInvalid);
  EXPECT_EQ(parseSni(mutated), std::nullopt);
}

}  // namespace
}  // namespace warden::proxy
