#pragma once

// Internal to the proxy's TLS files: OpenSSL's error queue as an Error, and shared SSL_CTX handles.

#include <openssl/ssl.h>

#include <memory>
#include <string_view>

#include "common/error.h"

namespace warden::proxy {

// Drains OpenSSL's error queue for this thread into an Internal error "what: <reasons>".
Error sslError(std::string_view what);

// Takes ownership of `ctx` (SSL_CTX_free when the last copy goes).
inline std::shared_ptr<SSL_CTX> shareContext(SSL_CTX* ctx) { return std::shared_ptr<SSL_CTX>(ctx, SSL_CTX_free); }

}  // namespace warden::proxy
