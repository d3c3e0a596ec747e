// TLS inside CONNECT tunnels (sandbox.md: terminate TLS with the session CA when the endpoint needs
// L7 inspection, then relay HTTP/1.1 request by request). The client sees a leaf for the CONNECT host
// minted by the session CA; the upstream is verified against the system roots (plus the CA files the
// operator added) with SNI and host-name checks. Without a CA, TLS to an endpoint that needs
// inspection fails closed: inspection is what the policy asked for, and a raw relay would bypass it.

#include <fmt/format.h>
#include <openssl/err.h>

#include <boost/asio/ssl.hpp>

#include "proxy/server/connection_io.h"
#include "proxy/server/connection_internal.h"
#include "proxy/tls_ca.h"
#include "proxy/server/upstream.h"

namespace warden::proxy {

namespace asio = boost::asio;
using asio::ip::tcp;
using TlsStream = asio::ssl::stream<tcp::socket&>;

namespace {

// An asio context sharing `ctx` (asio takes the reference it is given).
asio::ssl::context wrapContext(const std::shared_ptr<SSL_CTX>& ctx) {
  SSL_CTX_up_ref(ctx.get());
  return asio::ssl::context(ctx.get());
}

std::string tlsErrorText(const boost::system::error_code& ec) {
  if (ec.category() == asio::error::get_ssl_category()) {
    char buf[256];
    ERR_error_string_n(static_cast<unsigned long>(ec.value()), buf, sizeof buf);
    return buf;
  }
  return ec.message();
}

}  // namespace

asio::awaitable<void> Connection::tlsTunnel() {
  if (!services_.tls) {
    const std::string reason = fmt::format(
        "TLS to {}:{} needs L7 inspection (rule {}), and TLS interception is not available in this proxy",
        target_host_, target_port_, decision_.rule);
    emitFail(0, reason);
    co_return;
  }
  auto server_ctx = services_.tls->serverContextFor(target_host_);
  if (!server_ctx.ok()) {
    emitFail(0, fmt::format("no certificate for {}: {}", target_host_, server_ctx.error().message()));
    co_return;
  }
  asio::ssl::context client_side = wrapContext(server_ctx.value());
  TlsStream client(client_, client_side);
  deadline_.expireAfter(services_.timeouts.tls_handshake, WaitPhase::kTlsHandshake);
  {
    auto [ec] = co_await client.async_handshake(asio::ssl::stream_base::server, asio::as_tuple(asio::use_awaitable));
    if (ec) {
      // Typically the client does not trust the session CA (SSL_CERT_FILE not set) or pins.
      emitFail(0, fmt::format("TLS handshake with the client for {} failed: {}", target_host_,
                              deadline_.expired() ? std::string("timed out") : tlsErrorText(ec)));
      co_return;
    }
  }
  tls_ = true;
  std::shared_ptr<SSL_CTX> upstream_ctx = services_.tls->clientContext();
  if (!upstream_ctx) {
    emitFail(502, "no TLS client context for the upstream (OpenSSL could not build one)");
    co_await answer(client, 502, "upstream_tls_failed", "the proxy cannot make TLS connections upstream");
    co_return;
  }
  asio::ssl::context upstream_side = wrapContext(std::move(upstream_ctx));
  TlsStream upstream(upstream_, upstream_side);
  if (auto configured = configureClientSsl(upstream.native_handle(), target_host_); !configured.ok()) {
    emitFail(502, configured.error().message());
    co_await answer(client, 502, "upstream_tls_failed", configured.error().message());
    co_return;
  }
  deadline_.expireAfter(services_.timeouts.tls_handshake, WaitPhase::kTlsHandshake);
  {
    auto [ec] = co_await upstream.async_handshake(asio::ssl::stream_base::client, asio::as_tuple(asio::use_awaitable));
    if (ec) {
      const bool timed_out = deadline_.expired();
      long verify = SSL_get_verify_result(upstream.native_handle());
      const std::string detail =
          timed_out ? fmt::format("TLS handshake with {}:{} timed out", target_host_, target_port_)
          : verify != X509_V_OK
              ? fmt::format("TLS to {}:{}: certificate verification failed: {}", target_host_, target_port_,
                            X509_verify_cert_error_string(verify))
              : fmt::format("TLS to {}:{}: {}", target_host_, target_port_, tlsErrorText(ec));
      emitFail(timed_out ? 504 : 502, detail);
      co_await answer(client, timed_out ? 504 : 502, timed_out ? "upstream_timeout" : "upstream_tls_failed", detail);
      co_return;
    }
  }
  co_await tunnelHttpLoop(client, upstream);
}

}  // namespace warden::proxy
