#pragma once

// TLS from the proxy to an upstream: the client context (verifying peers against the system trust
// store and any extra CA files, TLS 1.2+, ALPN http/1.1) and the per-connection set-up (SNI and peer
// name verification). Stateless and thread-safe.

#include <openssl/ssl.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace warden::proxy {

// A new upstream client context. Loading the system roots costs ~20 ms: build it once and share it.
Result<std::shared_ptr<SSL_CTX>> makeUpstreamClientContext(const std::vector<std::filesystem::path>& extra_ca_files);

// Prepares an SSL from an upstream client context for `host`: SNI (DNS names only — never for IP
// literals, per RFC 6066) and peer name verification (SSL_set1_host, or the IP SAN for a literal).
// InvalidArgument for a host that is neither.
Result<void> configureClientSsl(SSL* ssl, std::string_view host);

// The normalized form a host takes in certificates and the CA's cache: lower-case DNS name without a
// trailing dot, or an IP literal in canonical text form without brackets (policy::normalizeHost).
// nullopt if invalid.
std::optional<std::string> normalizeCertificateHost(std::string_view host);

}  // namespace warden::proxy
