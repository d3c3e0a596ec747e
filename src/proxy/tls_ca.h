#pragma once

// TLS interception for the egress proxy (sandbox.md "Egress proxy"): the per-run CA that mints leaf
// certificates for the hosts the agent CONNECTs to, and owns the upstream client context
// (tls_client.h). The ClientHello sniffer is tls_client_hello.h.
//
// Contexts are handed out as std::shared_ptr<SSL_CTX> (freed with SSL_CTX_free). SSL_new() takes its
// own reference, so a context evicted from the cache stays alive for the connections using it. To use
// one with Boost.Asio: `SSL_CTX_up_ref(p.get()); boost::asio::ssl::context ctx(p.get());` (the asio
// context takes ownership of the reference it is given).

#include <openssl/ssl.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <filesystem>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "proxy/tls_client.h"

namespace warden::proxy {

struct CertificateAuthorityOptions {
  // Prepended to the CA in ca-bundle.pem; a missing file gives a bundle of the session CA alone.
  std::filesystem::path system_roots = "/etc/ssl/certs/ca-certificates.crt";
  // Leaf contexts kept (least recently used evicted first).
  size_t leaf_cache_capacity = 1024;
  // CA validity from creation; notBefore is back-dated one hour for clock skew. Leaves share it.
  std::chrono::hours validity = std::chrono::hours(24 * 7);
};

// A session's interception CA: an ECDSA P-256 key that lives only in this object's memory, and its
// self-signed certificate, published as <dir>/ca.pem and <dir>/ca-bundle.pem (system roots + CA) for
// the sandbox's CA bundle variables. Mints, per host, a P-256 leaf and a server SSL_CTX (TLS 1.2+,
// ALPN "http/1.1" only), cached in a bounded LRU; concurrent first requests for one host wait for a
// single mint. Also owns the upstream client context.
// Thread-safe: every method may be called from any thread. Created once per proxy run and shared.
class CertificateAuthority {
 public:
  // Generates the key and certificate and writes the two PEM files (0644, replaced atomically).
  // `dir` is created if missing. The CA key is never written anywhere.
  static Result<std::shared_ptr<CertificateAuthority>> create(const std::filesystem::path& dir,
                                                              const CertificateAuthorityOptions& options = {});
  ~CertificateAuthority();
  CertificateAuthority(const CertificateAuthority&) = delete;
  CertificateAuthority& operator=(const CertificateAuthority&) = delete;

  // A server context presenting a leaf for `host`: a DNS name (case-insensitive, one trailing dot
  // ignored) gets SAN DNS:<host>; an IPv4 or IPv6 literal ("[::1]" or "::1") gets SAN IP:<address>.
  // InvalidArgument for anything else (empty, bad characters, over 253 bytes, wildcards): the host
  // reaches a certificate, so nothing is passed through that could be read as syntax.
  Result<std::shared_ptr<SSL_CTX>> serverContextFor(std::string_view host);

  // The upstream client context: verifies peers against the system default paths plus every file
  // given to addTrustedCaFile(); TLS 1.2+; ALPN "http/1.1". Per connection, call configureClientSsl().
  // Built on the first call (loading the system roots takes ~20 ms, paid once, by the first
  // intercepted connection); nullptr only if OpenSSL cannot build a context at all.
  std::shared_ptr<SSL_CTX> clientContext() const;
  // Trusts the certificates in a PEM file for upstream connections from now on (a new client context
  // is built and swapped in; connections already made keep theirs).
  Result<void> addTrustedCaFile(const std::filesystem::path& pem_file);

  const std::filesystem::path& certificatePath() const { return cert_path_; }  // <dir>/ca.pem
  const std::filesystem::path& bundlePath() const { return bundle_path_; }     // <dir>/ca-bundle.pem
  const std::string& certificatePem() const { return cert_pem_; }
  const std::string& shortId() const { return short_id_; }  // in the CN: "Warden session CA <id>"
  // Leaf contexts currently cached (for tests and metrics).
  size_t cachedHostCount() const;

 private:
  struct Impl;
  explicit CertificateAuthority(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
  std::filesystem::path cert_path_;
  std::filesystem::path bundle_path_;
  std::string cert_pem_;
  std::string short_id_;

  mutable std::mutex mu_;
  std::condition_variable minted_;  // Signalled when a mint finishes (see pending_).
  struct CacheEntry {
    std::string host;
    std::shared_ptr<SSL_CTX> ctx;
  };
  std::list<CacheEntry> lru_;  // Guarded by mu_. Most recently used first.
  std::unordered_map<std::string, std::list<CacheEntry>::iterator> by_host_;  // Guarded by mu_.
  std::vector<std::string> pending_;  // Guarded by mu_. Hosts being minted right now.
  mutable std::shared_ptr<SSL_CTX> client_ctx_;  // Guarded by mu_. Built lazily; swapped, never mutated once published.
  std::vector<std::filesystem::path> extra_ca_files_;  // Guarded by mu_.
};

}  // namespace warden::proxy
