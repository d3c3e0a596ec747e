#include "proxy/tls_util.h"

#include <fmt/format.h>
#include <openssl/err.h>

#include <string>

namespace warden::proxy {

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

}  // namespace warden::proxy
