#include "audit/export/stream_connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "common/ip_address.h"

namespace warden::audit::exporting {
namespace {

constexpr int kSendTimeoutSeconds = 10;

std::string sslErrors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? std::string("unknown TLS error") : out;
}

int msLeft(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

// A non-blocking connect to one address, finished within the deadline; the socket is blocking
// again on success.
Result<UniqueFd> connectOne(const addrinfo& ai, std::chrono::steady_clock::time_point deadline) {
  UniqueFd fd(::socket(ai.ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_TCP));
  if (!fd.valid()) return errnoError("socket");
  if (::connect(fd.get(), ai.ai_addr, ai.ai_addrlen) != 0) {
    if (errno != EINPROGRESS) return errnoError("connect");
    pollfd p{fd.get(), POLLOUT, 0};
    const int n = ::poll(&p, 1, msLeft(deadline));
    if (n == 0) return deadlineExceeded("connect: timed out");
    if (n < 0) return errnoError("poll");
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return errnoError("connect", err);
  }
  const int flags = ::fcntl(fd.get(), F_GETFL);
  ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
  const int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  timeval tv{kSendTimeoutSeconds, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

}  // namespace

Result<std::shared_ptr<TlsClientContext>> TlsClientContext::make(const ExportUrl& url) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) return internalError("SSL_CTX_new: " + sslErrors());
  std::shared_ptr<TlsClientContext> out(new TlsClientContext(ctx));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (url.ca_file) {
    if (SSL_CTX_load_verify_locations(ctx, url.ca_file->c_str(), nullptr) != 1) {
      return invalidArgument(fmt::format("export URL '{}': cannot load the CA file {}: {}", url.name, *url.ca_file,
                                         sslErrors()));
    }
  } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
    return internalError("the system's CA roots: " + sslErrors());
  }
  return out;
}

TlsClientContext::~TlsClientContext() { SSL_CTX_free(ctx_); }

Result<std::unique_ptr<StreamConnection>> StreamConnection::connect(const ExportUrl& url,
                                                                    const TlsClientContext* tls,
                                                                    std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_family = AF_UNSPEC;
  addrinfo* list = nullptr;
  const std::string port = std::to_string(url.port);
  if (const int rc = ::getaddrinfo(url.host.c_str(), port.c_str(), &hints, &list); rc != 0) {
    return unavailable(fmt::format("resolve {}: {}", url.host, gai_strerror(rc)));
  }
  std::unique_ptr<StreamConnection> conn(new StreamConnection());
  std::string last_error = "no address";
  for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    auto fd = connectOne(*ai, deadline);
    if (fd.ok()) {
      conn->fd_ = std::move(fd).value();
      break;
    }
    last_error = fd.error().message();
  }
  ::freeaddrinfo(list);
  if (!conn->fd_.valid()) return unavailable(fmt::format("connect {}:{}: {}", url.host, url.port, last_error));
  if (tls == nullptr) return conn;

  conn->ssl_ = SSL_new(tls->get());
  if (conn->ssl_ == nullptr) return internalError("SSL_new: " + sslErrors());
  SSL_set_fd(conn->ssl_, conn->fd_.get());
  if (IpAddress::parse(url.host)) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(conn->ssl_), url.host.c_str());
  } else {
    SSL_set_tlsext_host_name(conn->ssl_, url.host.c_str());
    SSL_set1_host(conn->ssl_, url.host.c_str());
  }
  // The handshake runs on the blocking socket; its receive timeout bounds each read.
  const int left_s = std::max(1, msLeft(deadline) / 1000);
  timeval tv{left_s, 0};
  ::setsockopt(conn->fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ERR_clear_error();
  if (SSL_connect(conn->ssl_) != 1) {
    const long verify = SSL_get_verify_result(conn->ssl_);
    std::string why = verify != X509_V_OK ? X509_verify_cert_error_string(verify) : sslErrors();
    return unavailable(fmt::format("TLS handshake with {}:{}: {}", url.host, url.port, why));
  }
  return conn;
}

StreamConnection::~StreamConnection() {
  if (ssl_ != nullptr) SSL_free(ssl_);
}

Result<void> StreamConnection::write(std::string_view bytes) {
  while (!bytes.empty()) {
    if (ssl_ != nullptr) {
      ERR_clear_error();
      size_t written = 0;
      if (SSL_write_ex(ssl_, bytes.data(), bytes.size(), &written) != 1) {
        const int saved = errno;
        const int err = SSL_get_error(ssl_, 0);
        if (err == SSL_ERROR_SYSCALL && saved != 0) return errnoError("TLS write", saved);
        return unavailable("TLS write: " + sslErrors());
      }
      bytes.remove_prefix(written);
      continue;
    }
    const ssize_t n = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return unavailable("write: the receiver stalled for 10 s");
      return errnoError("write");
    }
    plain_sent_ += static_cast<uint64_t>(n);
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return okResult();
}

Result<size_t> StreamConnection::read(char* buf, size_t max, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (ssl_ == nullptr || SSL_pending(ssl_) == 0) {
      pollfd p{fd_.get(), POLLIN, 0};
      const int n = ::poll(&p, 1, msLeft(deadline));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return errnoError("poll");
      if (n == 0) return deadlineExceeded("read: the receiver did not answer in time");
    }
    if (ssl_ != nullptr) {
      ERR_clear_error();
      size_t got = 0;
      if (SSL_read_ex(ssl_, buf, max, &got) == 1) return got;
      const int saved = errno;
      const int err = SSL_get_error(ssl_, 0);
      if (err == SSL_ERROR_ZERO_RETURN) return size_t{0};
      if (err == SSL_ERROR_WANT_READ) continue;  // a record without application data (a ticket)
      if (err == SSL_ERROR_SYSCALL && saved == 0) return size_t{0};  // EOF without close_notify
      if (err == SSL_ERROR_SYSCALL) return errnoError("TLS read", saved);
      return unavailable("TLS read: " + sslErrors());
    }
    const ssize_t n = ::recv(fd_.get(), buf, max, MSG_DONTWAIT);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
    return errnoError("read");
  }
}

uint64_t StreamConnection::bytesSent() const {
  if (ssl_ != nullptr) return BIO_number_written(SSL_get_wbio(ssl_));
  return plain_sent_;
}

uint64_t StreamConnection::unacknowledged() const {
  int outq = 0;
  if (::ioctl(fd_.get(), SIOCOUTQ, &outq) != 0 || outq < 0) return bytesSent();
  return static_cast<uint64_t>(outq);
}

bool StreamConnection::peerGone() const {
  pollfd p{fd_.get(), POLLIN | POLLRDHUP, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  if (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) return true;
  // A syslog receiver never sends anything; readable means EOF (or TLS alerts before a close).
  char c;
  const ssize_t n = ::recv(fd_.get(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

void StreamConnection::interrupt() {
  if (fd_.valid()) ::shutdown(fd_.get(), SHUT_RDWR);
}

}  // namespace warden::audit::exporting
