#include "proxy/tls_client.h"

#include <fmt/format.h>
#include <openssl/x509v3.h>

#include "common/ip_address.h"
#include "policy/glob.h"
#include "proxy/tls_util.h"

namespace warden::proxy {
namespace {

constexpr unsigned char kAlpnHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

}  // namespace

Result<std::shared_ptr<SSL_CTX>> makeUpstreamClientContext(const std::vector<std::filesystem::path>& extra_ca_files) {
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
  if (SSL_CTX_set_alpn_protos(ctx.get(), kAlpnHttp11, sizeof(kAlpnHttp11)) != 0) return sslError("client ALPN");
  return ctx;
}

std::optional<std::string> normalizeCertificateHost(std::string_view host) { return policy::normalizeHost(host); }

Result<void> configureClientSsl(SSL* ssl, std::string_view host) {
  if (ssl == nullptr) return invalidArgument("upstream TLS: no SSL object");
  const auto normalized = policy::normalizeHost(host);
  if (!normalized) return invalidArgument("upstream TLS: the host is not a DNS name or IP address");
  if (IpAddress::parse(*normalized)) {
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), normalized->c_str()) != 1) {
      return sslError(fmt::format("upstream TLS: verify IP {}", *normalized));
    }
    return okResult();  // no SNI for IP literals (RFC 6066 section 3)
  }
  if (SSL_set_tlsext_host_name(ssl, normalized->c_str()) != 1) return sslError("upstream TLS: SNI");
  SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (SSL_set1_host(ssl, normalized->c_str()) != 1) return sslError("upstream TLS: verify host");
  return okResult();
}

}  // namespace warden::proxy
