#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "audit/export/export_url.h"
#include "common/result.h"
#include "common/unique_fd.h"

namespace warden::audit::exporting {

// The TLS client settings of a syslog+tls export: an SSL_CTX that verifies the server's chain
// against the URL's ca= file (or the system's default roots) and requires TLS 1.2 or later. The
// host name (or IP address) is checked per connection. Shared by the connections of one sink;
// immutable after make(), so usable from any thread.
class TlsClientContext {
 public:
  // InvalidArgument naming the file when the CA file cannot be loaded.
  static Result<std::shared_ptr<TlsClientContext>> make(const ExportUrl& url);
  ~TlsClientContext();
  TlsClientContext(const TlsClientContext&) = delete;
  TlsClientContext& operator=(const TlsClientContext&) = delete;
  SSL_CTX* get() const { return ctx_; }

 private:
  explicit TlsClientContext(SSL_CTX* ctx) : ctx_(ctx) {}
  SSL_CTX* ctx_;
};

// One TCP (optionally TLS) connection to an export's receiver: connect with a deadline, write whole
// buffers, read what an HTTP receiver answers, and tell how many of the written bytes the peer's TCP
// has not acknowledged yet (SIOCOUTQ) — what the syslog export's at-least-once cursor is built on.
//
// Owns the socket and the SSL object. One thread (the sink's delivery thread) does everything
// except interrupt(), which any thread may call to make a blocked write() or connect return.
class StreamConnection {
 public:
  // Resolves the host, connects (each address in turn) and, with `tls`, handshakes and verifies
  // the server, all within `timeout`. Unavailable with what failed ("connect 127.0.0.1:6514:
  // Connection refused", "TLS handshake: certificate verify failed").
  static Result<std::unique_ptr<StreamConnection>> connect(const ExportUrl& url, const TlsClientContext* tls,
                                                           std::chrono::milliseconds timeout);
  ~StreamConnection();
  StreamConnection(const StreamConnection&) = delete;
  StreamConnection& operator=(const StreamConnection&) = delete;

  // Writes all of `bytes` (blocking; a stall longer than the send timeout, 10 s, is an error).
  // An error means the connection is unusable.
  Result<void> write(std::string_view bytes);
  // Reads what is there (at most `max` bytes), waiting up to `timeout` for the first byte. 0 bytes:
  // the peer closed its side. DeadlineExceeded when nothing came in time; other errors mean the
  // connection is unusable.
  Result<size_t> read(char* buf, size_t max, std::chrono::milliseconds timeout);
  // Bytes handed to the kernel (after TLS framing) so far.
  uint64_t bytesSent() const;
  // Of those, how many the peer has not acknowledged yet (SIOCOUTQ); bytesSent() on error.
  uint64_t unacknowledged() const;
  // True when the peer closed its side or reset the connection (a receiver that stopped): checked
  // without blocking.
  bool peerGone() const;
  // Shuts the socket down so a blocked write returns at once. Thread-safe.
  void interrupt();

 private:
  StreamConnection() = default;
  UniqueFd fd_;
  SSL* ssl_ = nullptr;
  uint64_t plain_sent_ = 0;  // TCP only: bytes written
};

}  // namespace warden::audit::exporting
