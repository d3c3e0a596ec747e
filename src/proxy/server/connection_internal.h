#pragma once

// The per-connection state machine behind serveConnection(). Internal to src/proxy: connection.cc
// (accept -> first head -> CONNECT / forward, decisions, events) and l7_relay.cc (request-by-request
// HTTP relay) implement it.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ocsf/builders.h"
#include "policy/engine.h"
#include <boost/asio/steady_timer.hpp>

#include "proxy/server/connection.h"
#include "proxy/server/connection_deadline.h"
#include "proxy/server/connection_registry.h"
#include "proxy/http_request.h"
#include "proxy/http_response.h"
#include "proxy/server/relay.h"
#include "proxy/server/l7_inspect.h"

namespace warden::proxy {

// A read buffer: bytes [begin, end) are received and not yet consumed. Allocated on first use, freed
// by release() (idle tunnels hold no user-space buffer). Single-threaded.
class ByteBuffer {
 public:
  static constexpr size_t kCapacity = 16 * 1024;

  std::string_view view() const { return {data_.get() + begin_, end_ - begin_}; }
  bool empty() const { return begin_ == end_; }
  size_t size() const { return end_ - begin_; }
  void consume(size_t n) {
    begin_ += n;
    if (begin_ >= end_) begin_ = end_ = 0;
  }
  // Free space at the end (compacting first); never empty.
  boost::asio::mutable_buffer prepare() {
    if (!data_) data_ = std::make_unique<char[]>(kCapacity);
    if (end_ == kCapacity && begin_ > 0) {
      std::memmove(data_.get(), data_.get() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    return {data_.get() + end_, kCapacity - end_};
  }
  void commit(size_t n) { end_ += n; }
  void release() {
    if (empty()) data_.reset();
  }

 private:
  std::unique_ptr<char[]> data_;
  size_t begin_ = 0;
  size_t end_ = 0;
};

enum class HeadOutcome { kOk, kClosed, kAnswered };
// kRetry: a reused keep-alive upstream closed before answering a request without a body; the
// caller may reconnect and send it again (nothing reached the client).
enum class ExchangeOutcome { kKeepAlive, kClose, kUpgraded, kRetry };

// One client connection. Single-threaded (the socket's io_context thread); owns both sockets, the
// resolver, the buffers and the deadline. Lives in serveConnection's coroutine frame.
class Connection {
 public:
  Connection(ProxyServices& services, boost::asio::ip::tcp::socket client);

  boost::asio::awaitable<void> run();

  // ---- used by l7_relay.cc ----
  enum class Mode { kForward, kTunnel };

  template <typename ClientStream, typename UpstreamStream>
  boost::asio::awaitable<ExchangeOutcome> exchange(ClientStream& client, UpstreamStream& upstream,
                                                   const HttpRequestHead& head);
  template <typename ClientStream, typename UpstreamStream>
  boost::asio::awaitable<void> tunnelHttpLoop(ClientStream& client, UpstreamStream& upstream);
  template <typename ClientStream>
  boost::asio::awaitable<HeadOutcome> readRequestHead(ClientStream& client, HttpRequestHead* head, bool first);
  template <typename Stream>
  boost::asio::awaitable<bool> writeAll(Stream& stream, std::string_view data, bool to_client);
  // ---- defined in l7_inspect.cc: what the proxy understands above HTTP (proxy/inspect) ----
  // Once per request after the L7 decision; `url` (for events) comes back with credentials scrubbed.
  template <typename ClientStream>
  boost::asio::awaitable<InspectedRequest> inspectRequest(ClientStream& client, const HttpRequestHead& head,
                                                          std::string_view canonical, std::string& url,
                                                          std::string_view rule);
  // Records the request as DENIED (then the answer's finding, if any) and answers it.
  template <typename ClientStream>
  boost::asio::awaitable<ExchangeOutcome> answerLocally(ClientStream& client, const inspect::LocalAnswer& answer,
                                                        const HttpRequestHead& head, std::string_view url,
                                                        std::string_view rule);

 private:
  boost::asio::awaitable<void> session();
  boost::asio::awaitable<void> handleConnect(HttpRequestHead head);
  boost::asio::awaitable<void> forwardLoop(HttpRequestHead head);
  // After CONNECT + 200 when the client starts TLS towards an endpoint that needs L7 inspection:
  // terminate TLS (services_.tls) and relay HTTP request by request; fails closed without it.
  boost::asio::awaitable<void> tlsTunnel();
  // Decides host:port for a new upstream (policy, then SSRF with resolution); answers and records a
  // denial itself. On success decision_, policy_, addresses_ and NET:OPEN are done.
  boost::asio::awaitable<bool> decideTarget(std::string host, uint16_t port);
  // Connects upstream_ to addresses_; answers 502/504 and records NET:FAIL on failure.
  boost::asio::awaitable<bool> connectUpstream();
  // Re-decides the connection after a policy reload; false (and a 403 answered) when it is no
  // longer allowed. Cheap when the generation did not change.
  template <typename ClientStream>
  boost::asio::awaitable<bool> recheckPolicy(ClientStream& client);
  void cancelAll();
  // Ends the connection from outside (a reload removed its rule, the proxy stops): shuts both sockets
  // down and cancels every wait; NET:CLOSE records `reason`. Runs on the connection's executor.
  void closeNow(const std::string& reason);
  // Records that the connection is allowed as decision_ for target_host_:target_port_.
  void registerTarget();
  // Completes when closeNow() runs (used alongside the caller lookup).
  boost::asio::awaitable<void> closeSignal();

  template <typename ClientStream>
  boost::asio::awaitable<void> answer(ClientStream& client, int status, std::string_view error,
                                      std::string_view detail, std::string_view reason = {},
                                      std::string_view rule = {}, bool policy_header = false);

 public:
  // ---- events ----
  ocsf::Connection eventConnection() const;
  int64_t now() const { return services_.clock->nowMillis(); }
  // NET:OPEN, naming every holder of the socket; with `injection_finding`, dual-emitted with the
  // High finding that a holder the rule's binaries matched runs with injected code.
  void emitOpen(ocsf::Action action, std::string_view rule, std::string_view engine, std::string_view reason,
                bool injection_finding = false);
  void emitFail(int code, std::string detail, bool reset = false);
  void emitHttp(std::string_view method, std::string_view target, std::optional<int> code, ocsf::Action action,
                std::string_view rule, std::string_view engine, std::string_view reason,
                ocsf::Severity severity = ocsf::Severity::kUnknown);
  void emitClose();

  ProxyServices& services_;
  boost::asio::ip::tcp::socket client_;
  boost::asio::ip::tcp::socket upstream_;
  boost::asio::ip::tcp::resolver resolver_;
  Deadline deadline_;
  ByteBuffer cbuf_;  // client -> proxy
  ByteBuffer ubuf_;  // upstream -> proxy
  HttpRequestParser parser_;

  Mode mode_ = Mode::kForward;
  bool tls_ = false;  // the tunnel's HTTP runs inside TLS we terminate (events say https)
  std::optional<CallerInfo> caller_;
  std::optional<ocsf::Process> actor_;
  ocsf::Endpoint src_;
  std::string target_host_;  // as the client wrote it (CONNECT target or the forward request's host)
  uint16_t target_port_ = 0;
  std::string target_ip_;    // the address connected to
  std::shared_ptr<const policy::Policy> policy_;
  uint64_t generation_ = 0;
  policy::Decision decision_;
  std::vector<boost::asio::ip::tcp::endpoint> addresses_;
  bool upstream_ready_ = false;  // upstream_ connected to target_host_:target_port_ and reusable
  uint64_t upstream_requests_ = 0;  // requests sent on the current upstream connection
  RelayCounters counters_;
  ConnectionRegistry::Handle registration_;
  boost::asio::steady_timer close_signal_;  // never expires; cancelled by closeNow()
  bool closing_ = false;                    // closeNow() ran
  std::string close_reason_;                // why, for NET:CLOSE
  int64_t started_ms_ = 0;
  std::chrono::steady_clock::time_point started_;
  std::unique_ptr<inspect::ConnectionInspection> inspection_;  // made at the first inspected request
};

}  // namespace warden::proxy
