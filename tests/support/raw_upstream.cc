#include "support/raw_upstream.h"

#include "support/lenient_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

namespace warden::testing {

namespace {

// Content-Length of a response head, or -1.
long contentLength(const std::string& head) {
  std::string lower;
  lower.reserve(head.size());
  for (char c : head) lower.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c));
  const size_t at = lower.find("\r\ncontent-length:");
  if (at == std::string::npos) return -1;
  return std::strtol(lower.c_str() + at + 17, nullptr, 10);
}

}  // namespace

RawUpstream::RawUpstream(Script script) : script_(std::move(script)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::listen(listen_fd_, 64);
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { run(); });
}

RawUpstream::~RawUpstream() {
  stop_ = true;
  thread_.join();
  ::close(listen_fd_);
}

std::string RawUpstream::received() const {
  std::lock_guard lock(mu_);
  return received_;
}

std::vector<std::string> RawUpstream::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

void RawUpstream::run() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    connections_++;
    serve(fd);
    ::close(fd);
  }
}

void RawUpstream::serve(int fd) {
  if (script_.reset) {
    linger l{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    return;
  }
  if (script_.lenient_http) {
    LenientHttpReader reader;
    char buf[16384];
    while (!stop_) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n < 0 && errno == ECONNRESET) resets_++;
      if (n <= 0) return;
      const std::string_view got(buf, static_cast<size_t>(n));
      const auto complete = reader.feed(got);
      {
        std::lock_guard lock(mu_);
        received_.append(got);
        requests_.insert(requests_.end(), complete.begin(), complete.end());
      }
      for (size_t i = 0; i < complete.size(); ++i) sendAll(fd, script_.response);
    }
    return;
  }
  std::string conn_bytes;
  bool responded = false;
  bool after_sent = false;
  size_t head_end = 0;
  char buf[16384];
  while (!stop_) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == ECONNRESET) resets_++;
    if (n <= 0) return;
    {
      std::lock_guard lock(mu_);
      received_.append(buf, static_cast<size_t>(n));
    }
    const bool was_responded = responded;
    conn_bytes.append(buf, static_cast<size_t>(n));
    if (!responded && script_.respond && conn_bytes.find("\r\n\r\n") != std::string::npos) {
      head_end = conn_bytes.find("\r\n\r\n") + 4;
      sendAll(fd, script_.response);
      responded = true;
      if (script_.close_after_response && script_.after_body.empty()) return;
    }
    if (responded && !script_.after_body.empty() && !after_sent &&
        conn_bytes.size() - head_end >= script_.body_bytes) {
      sendAll(fd, script_.after_body);
      after_sent = true;
      if (script_.close_after_response) return;
    }
    if (was_responded && script_.echo_after_response) sendAll(fd, std::string_view(buf, static_cast<size_t>(n)));
  }
}

int connectLoopback(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool sendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::string readResponse(int fd, std::chrono::milliseconds timeout, bool stop_when_complete) {
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[16384];
  for (;;) {
    if (stop_when_complete) {
      // Skip informational 1xx heads (not 101): the real response follows them.
      size_t pos = 0;
      for (;;) {
        const size_t end = out.find("\r\n\r\n", pos);
        if (end == std::string::npos) break;
        const bool interim = out.size() > pos + 12 && out[pos + 9] == '1' && out.compare(pos + 9, 3, "101") != 0;
        if (interim) {
          pos = end + 4;
          continue;
        }
        const long length = contentLength(out.substr(pos, end + 2 - pos));
        if (length >= 0 && out.size() >= end + 4 + static_cast<size_t>(length)) return out;
        break;
      }
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return out;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return out;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

std::string readHead(int fd, std::chrono::milliseconds timeout) {
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.size() < 4 || out.compare(out.size() - 4, 4, "\r\n\r\n") != 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return "";
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return "";
    char c;
    if (::recv(fd, &c, 1, 0) != 1) return "";
    out.push_back(c);
  }
  return out;
}

bool waitForClose(int fd, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return true;
  }
}

int statusOf(const std::string& response) {
  if (response.size() < 12 || response.compare(0, 5, "HTTP/") != 0) return 0;
  return std::atoi(response.c_str() + 9);
}

std::string bodyOf(const std::string& response) {
  const size_t end = response.find("\r\n\r\n");
  return end == std::string::npos ? std::string() : response.substr(end + 4);
}

}  // namespace warden::testing
