#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace warden::testing {

// A scripted TCP server on 127.0.0.1:<ephemeral> for proxy tests: it records every byte it receives
// and answers per its Script. One thread; connections are served one after another. Every wait is
// bounded (poll with a timeout); the destructor stops and joins. Thread-safe accessors.
class RawUpstream {
 public:
  struct Script {
    // Sent once the request head (up to "\r\n\r\n") has arrived; empty with respond=false: silent.
    std::string response;
    bool respond = true;
    bool close_after_response = true;  // close the connection after the response (else keep reading)
    bool reset = false;                // answer nothing; close with RST at once after accepting
    bool echo_after_response = false;  // after the response, echo back whatever arrives
    // Sent once `body_bytes` bytes after the head have arrived (after `response`, which may then be
    // an interim "100 Continue"); close_after_response then applies to this one.
    std::string after_body;
    size_t body_bytes = 0;
    // Read requests as a lenient server would (LenientHttpReader: 32-bit chunk sizes) and answer each
    // complete one with `response`, keeping the connection open; requests() lists what it read.
    bool lenient_http = false;
  };

  explicit RawUpstream(Script script);
  ~RawUpstream();
  RawUpstream(const RawUpstream&) = delete;
  RawUpstream& operator=(const RawUpstream&) = delete;

  uint16_t port() const { return port_; }
  std::string received() const;
  // With Script::lenient_http: the request line of every request the lenient reader completed.
  std::vector<std::string> requests() const;
  int connections() const { return connections_.load(); }
  // Connections that ended with a reset (ECONNRESET) instead of a clean close.
  int resets() const { return resets_.load(); }

 private:
  void run();
  void serve(int fd);

  Script script_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> resets_{0};
  mutable std::mutex mu_;
  std::string received_;  // Guarded by mu_.
  std::vector<std::string> requests_;  // Guarded by mu_.
  std::thread thread_;
};

// ---- small blocking client helpers (every read bounded by a timeout) ----

// A TCP connection to 127.0.0.1:port; -1 on failure.
int connectLoopback(uint16_t port);
bool sendAll(int fd, std::string_view data);
// Reads until the peer closes, `timeout` passes, or (when stop_at_head_end) a whole response head
// plus its Content-Length body has arrived.
std::string readResponse(int fd, std::chrono::milliseconds timeout = std::chrono::seconds(10),
                         bool stop_when_complete = true);
// Reads exactly one response head (through its empty line), byte by byte, so nothing after it is
// consumed; "" on timeout or close.
std::string readHead(int fd, std::chrono::milliseconds timeout = std::chrono::seconds(10));
// True when the peer has closed (EOF or reset) within `timeout`.
bool waitForClose(int fd, std::chrono::milliseconds timeout = std::chrono::seconds(10));
// The status code of a response ("HTTP/1.1 403 ..." -> 403); 0 if none.
int statusOf(const std::string& response);
// The body after the head.
std::string bodyOf(const std::string& response);

}  // namespace warden::testing
