#include "proxy/server/connection.h"

#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <sys/socket.h>

#include <exception>

#include "proxy/inspect/inspection.h"
#include "common/secret_shape.h"
#include "proxy/server/connection_caller.h"
#include "proxy/server/caller_findings.h"
#include "proxy/server/connection_io.h"
#include "proxy/server/connection_internal.h"
#include "proxy/server/responses.h"
#include "proxy/server/upstream.h"

namespace warden::proxy {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

std::string baseName(std::string_view path) {
  const size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

ocsf::Process actorOf(const CallerInfo& caller) {
  ocsf::Process p;
  p.name = caller.executable.empty() ? caller.name : baseName(caller.executable);
  if (caller.pid > 0) p.pid = caller.pid;
  p.uid = caller.uid;
  p.cmd_line = redactSecrets(caller.cmd_line);  // argv carries API keys and tokens (curl -H ...)
  if (!caller.executable.empty()) {
    p.file = ocsf::File{.name = baseName(caller.executable), .path = caller.executable};
  }
  p.attribution = caller.attribution;
  return p;
}

// The first holder of the socket (the caller first) whose executable changed since its first use.
const CallerInfo* changedHolder(const CallerInfo& caller) {
  if (caller.binary_changed) return &caller;
  for (const auto& other : caller.other_holders) {
    if (other.binary_changed) return &other;
  }
  return nullptr;
}

ocsf::Value signsValue(const std::vector<std::string>& signs) {
  ocsf::Value::Array out;
  for (const auto& sign : signs) out.emplace_back(sign);
  return ocsf::Value(std::move(out));
}

// {pid, name, path, injection} of one holder, for unmapped.socket_holders.
ocsf::Value holderValue(const CallerInfo& holder) {
  ocsf::Value v = ocsf::Value::object();
  if (holder.pid > 0) v.set("pid", holder.pid);
  v.set("name", holder.executable.empty() ? holder.name : baseName(holder.executable));
  if (!holder.executable.empty()) v.set("path", holder.executable);
  if (!holder.injection.empty()) v.set("injection", signsValue(holder.injection));
  return v;
}

// Host for the decision: brackets off an IPv6 literal ("[::1]" -> "::1").
std::string bareHost(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') return std::string(host.substr(1, host.size() - 2));
  return std::string(host);
}

}  // namespace

Connection::Connection(ProxyServices& services, tcp::socket client)
    : services_(services),
      client_(std::move(client)),
      upstream_(client_.get_executor()),
      resolver_(client_.get_executor()),
      deadline_(client_.get_executor()),
      close_signal_(client_.get_executor(), asio::steady_timer::time_point::max()) {}

void Connection::cancelAll() {
  boost::system::error_code ignored;
  client_.cancel(ignored);
  if (upstream_.is_open()) upstream_.cancel(ignored);
  resolver_.cancel();
}

void Connection::closeNow(const std::string& reason) {
  if (closing_) return;
  closing_ = true;
  close_reason_ = reason;
  close_signal_.cancel();
  // Shut down rather than close: coroutines still hold the sockets (and TLS streams over them);
  // every pending wait ends now and every later read sees EOF, every write fails.
  boost::system::error_code ignored;
  client_.shutdown(tcp::socket::shutdown_both, ignored);
  if (upstream_.is_open()) upstream_.shutdown(tcp::socket::shutdown_both, ignored);
  cancelAll();
}

asio::awaitable<void> Connection::closeSignal() {
  while (!closing_) {
    auto [ec] = co_await close_signal_.async_wait(asio::as_tuple(asio::use_awaitable));
    if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none) co_return;
    (void)ec;
  }
}

void Connection::registerTarget() {
  if (!registration_.valid() || !decision_.allowed()) return;
  policy::ConnectRequest request = connectRequestFor(target_host_, target_port_, caller_);
  registration_.setTarget(RegisteredTarget{decision_.rule, target_host_, target_port_, std::move(request.executable),
                                           std::move(request.ancestors), std::move(request.other_holders),
                                           request.injected, request.pid});
}

asio::awaitable<void> Connection::run() {
  using namespace asio::experimental::awaitable_operators;
  started_ = std::chrono::steady_clock::now();
  started_ms_ = now();
  boost::system::error_code ec;
  const tcp::endpoint peer = client_.remote_endpoint(ec);
  const tcp::endpoint local = client_.local_endpoint(ec);
  src_.ip = peer.address().to_string();
  src_.port = peer.port();
  client_.set_option(tcp::no_delay(true), ec);
  if (services_.registry != nullptr) {
    registration_ = services_.registry->add(client_.get_executor(),
                                            [this](const std::string& reason) { closeNow(reason); });
  }
  if (services_.caller_lookup && !closing_) {
    // Off the io thread (it blocks on /proc); bounded like the wait for the request head, and cut
    // short when the connection is closed from outside (proxy stopping).
    auto looked_up = co_await (lookupCallerOffThread(services_.caller_lookup, services_.lookup_pool, peer, local,
                                                     services_.timeouts.request_head) ||
                               closeSignal());
    if (looked_up.index() == 0) caller_ = std::move(std::get<0>(looked_up));
    if (caller_) actor_ = actorOf(*caller_);
  }
  if (!closing_) co_await (session() || deadline_.watch([this] { cancelAll(); }));
  if (inspection_) inspection_->finish();
  emitClose();
  registration_ = ConnectionRegistry::Handle();
}

asio::awaitable<void> Connection::session() {
  HttpRequestHead head;
  if (co_await readRequestHead(client_, &head, true) != HeadOutcome::kOk) co_return;
  if (head.method == "CONNECT") {
    co_await handleConnect(std::move(head));
  } else {
    co_await forwardLoop(std::move(head));
  }
}

// ---- decisions ----

asio::awaitable<bool> Connection::decideTarget(std::string host, uint16_t port) {
  target_host_ = bareHost(host);
  target_port_ = port;
  target_ip_.clear();
  addresses_.clear();
  // 1. Address literals in an always-blocked range are refused whatever the policy says.
  const ParsedHost parsed = parseHost(target_host_);
  if (parsed.kind == HostKind::kInvalid) {
    const std::string reason = fmt::format("invalid host: {}", parsed.reason);
    emitOpen(ocsf::Action::kDenied, "-", "ssrf", reason);
    co_await answer(client_, 400, "bad_request", fmt::format("{} is not a valid host", host), reason);
    co_return false;
  }
  if (parsed.kind == HostKind::kIpAddress) {
    if (auto blocked = alwaysBlockedReason(*parsed.address, services_.targets)) {
      target_ip_ = parsed.address->toString();
      emitOpen(ocsf::Action::kDenied, "-", "ssrf", *blocked);
      co_await answer(client_, 403, "policy_denied",
                      fmt::format("connections to {}:{} are blocked (SSRF guard)", host, port), *blocked);
      co_return false;
    }
  }
  // 2. The policy: host, port and the calling binary.
  policy_ = services_.policies->current();
  generation_ = services_.policies->generation();
  decision_ = policy::decideConnect(*policy_, connectRequestFor(target_host_, port, caller_));
  if (const CallerInfo* changed = caller_ ? changedHolder(*caller_) : nullptr; decision_.allowed() && changed) {
    decision_.verdict = policy::Verdict::kDeny;
    decision_.would_deny = false;
    decision_.reason = changed->binary_change_detail.empty()
                           ? fmt::format("{} changed since its first use in this session", changed->executable)
                           : changed->binary_change_detail;
  }
  if (!decision_.allowed()) {
    const std::string rule = decision_.rule.empty() ? "-" : decision_.rule;
    emitOpen(ocsf::Action::kDenied, rule, "policy", decision_.reason, decision_.injected);
    co_await answer(client_, 403, "policy_denied", fmt::format("no policy allows {}:{} for this process", host, port),
                    decision_.reason, decision_.rule);
    co_return false;
  }
  // 3. SSRF: resolve once, check every address, keep only the checked ones.
  deadline_.expireAfter(services_.timeouts.resolve, WaitPhase::kResolve);
  TargetCheck check =
      co_await resolveAndCheck(resolver_, target_host_, port, decision_.endpoint, services_.targets);
  if (!check.allowed) {
    if (check.resolve_failed) {
      const bool timed_out = deadline_.expired();
      const int status = timed_out ? 504 : 502;
      const std::string detail =
          timed_out ? fmt::format("resolving {} timed out", target_host_) : check.reason;
      emitOpen(decision_.would_deny ? ocsf::Action::kObserved : ocsf::Action::kAllowed, decision_.rule, "policy",
               decision_.reason, decision_.injected);
      emitFail(status, detail);
      co_await answer(client_, status, timed_out ? "upstream_timeout" : "upstream_unresolvable", detail);
      co_return false;
    }
    target_ip_ = check.blocked_address;
    const std::string reason = fmt::format("{}: {}", check.blocked_address, check.reason);
    emitOpen(ocsf::Action::kDenied, decision_.rule, "ssrf", reason, decision_.injected);
    co_await answer(client_, 403, "policy_denied",
                    fmt::format("{} resolves to a blocked address (SSRF guard)", host), reason, decision_.rule);
    co_return false;
  }
  addresses_ = std::move(check.addresses);
  emitOpen(decision_.would_deny ? ocsf::Action::kObserved : ocsf::Action::kAllowed, decision_.rule, "policy",
           decision_.reason, decision_.injected);
  registerTarget();
  co_return true;
}

asio::awaitable<bool> Connection::connectUpstream() {
  upstream_ready_ = false;
  deadline_.expireAfter(services_.timeouts.connect, WaitPhase::kConnect);
  const boost::system::error_code ec = co_await connectToAny(upstream_, addresses_);
  if (!ec) {
    boost::system::error_code ignored;
    target_ip_ = upstream_.remote_endpoint(ignored).address().to_string();
    upstream_ready_ = true;
    upstream_requests_ = 0;
    co_return true;
  }
  const bool timed_out = deadline_.expired();
  const int status = timed_out ? 504 : 502;
  const std::string detail = fmt::format("connect to {}:{}: {}", target_host_, target_port_,
                                         timed_out ? std::string("timed out") : describeError(ec));
  emitFail(status, detail, !timed_out && isResetError(ec));
  boost::system::error_code ignored;
  upstream_.close(ignored);
  co_await answer(client_, status, timed_out ? "upstream_timeout" : "upstream_unreachable", detail);
  co_return false;
}

// ---- CONNECT ----

asio::awaitable<void> Connection::handleConnect(HttpRequestHead head) {
  mode_ = Mode::kTunnel;
  if (!head.port) {
    emitHttp("CONNECT", head.target, 400, ocsf::Action::kDenied, "-", "l7", "CONNECT target without a port");
    co_await answer(client_, 400, "bad_request", "CONNECT needs host:port", "connect_without_port");
    co_return;
  }
  if (!co_await decideTarget(head.host, *head.port)) co_return;
  if (!co_await connectUpstream()) co_return;
  if (!co_await writeAll(client_, connectEstablishedResponse(), true)) co_return;

  const policy::Endpoint* endpoint = decision_.endpoint;
  // Package sources and credential inject targets are inspected whatever their protocol (proxy/inspect).
  const bool inspect = endpoint != nullptr &&
                       (endpoint->needsL7Inspection() ||
                        (!endpoint->tls_skip && services_.inspection &&
                         services_.inspection->wantsInspection(*policy_, target_host_, target_port_)));
  if (!inspect) {
    // L4-only or `tls: skip`: relay raw at once (server-first protocols must not wait for a peek).
    if (!cbuf_.empty()) {
      const std::string early(cbuf_.view());
      cbuf_.consume(early.size());
      if (!co_await writeAll(upstream_, early, false)) co_return;
    }
    cbuf_.release();
    const RelayResult r =
        co_await relayTcp(client_, upstream_, deadline_, services_.timeouts.tunnel_idle, counters_);
    if (r.upstream_error && isResetError(r.upstream_error)) {
      emitFail(0, fmt::format("upstream {}:{} reset the tunnel", target_host_, target_port_), true);
    }
    co_return;
  }
  // Peek (without consuming, so a TLS handshake can read the ClientHello itself): TLS or plain HTTP.
  if (cbuf_.empty()) {
    deadline_.expireAfter(services_.timeouts.client_idle, WaitPhase::kIdle);
    auto [ec] = co_await client_.async_wait(tcp::socket::wait_read, asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    char first = 0;
    const ssize_t n = ::recv(client_.native_handle(), &first, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n <= 0) co_return;
    if (static_cast<unsigned char>(first) == 0x16) {  // TLS handshake record
      co_await tlsTunnel();
      co_return;
    }
  } else if (static_cast<unsigned char>(cbuf_.view()[0]) == 0x16) {
    // TLS bytes arrived with the CONNECT head, before our 200: they are consumed already.
    const std::string reason = "TLS data sent before 200 Connection Established; cannot inspect";
    emitFail(0, reason);
    co_return;
  }
  co_await tunnelHttpLoop(client_, upstream_);
}

// ---- forward proxy ----

asio::awaitable<void> Connection::forwardLoop(HttpRequestHead head) {
  mode_ = Mode::kForward;
  for (;;) {
    if (head.method == "CONNECT") {
      boost::system::error_code ignored;
      upstream_.close(ignored);
      upstream_ready_ = false;
      co_await handleConnect(std::move(head));
      co_return;
    }
    if (head.form != RequestTargetForm::kAbsolute) {
      emitHttp(head.method, head.target, 400, ocsf::Action::kDenied, "-", "l7",
               "not a proxy request: origin-form target sent to the proxy");
      co_await answer(client_, 400, "bad_request",
                      "send an absolute URI (GET http://host/path) or use CONNECT host:port", "not_a_proxy_request");
      co_return;
    }
    if (head.scheme != "http") {
      emitHttp(head.method, head.target, 400, ocsf::Action::kDenied, "-", "l7",
               "https must use CONNECT, not an absolute-form https:// request");
      co_await answer(client_, 400, "bad_request",
                      "https:// URLs must be tunnelled with CONNECT host:443 (set HTTPS_PROXY)", "https_requires_connect");
      co_return;
    }
    const uint16_t port = head.port.value_or(80);
    const std::string host = bareHost(head.host);
    if (!upstream_ready_ || host != target_host_ || port != target_port_) {
      if (upstream_.is_open()) {
        boost::system::error_code ignored;
        upstream_.close(ignored);
      }
      upstream_ready_ = false;
      if (!co_await decideTarget(head.host, port)) co_return;
      if (!co_await connectUpstream()) co_return;
    } else if (!co_await recheckPolicy(client_)) {
      co_return;
    }
    ExchangeOutcome outcome = co_await exchange(client_, upstream_, head);
    if (outcome == ExchangeOutcome::kRetry) {
      // The reused upstream had closed; one fresh connection, same checked addresses.
      boost::system::error_code ignored;
      upstream_.close(ignored);
      if (!co_await connectUpstream()) co_return;
      outcome = co_await exchange(client_, upstream_, head);
    }
    if (outcome != ExchangeOutcome::kKeepAlive) co_return;
    head = HttpRequestHead{};
    if (co_await readRequestHead(client_, &head, false) != HeadOutcome::kOk) co_return;
  }
}

// ---- events ----

ocsf::Connection Connection::eventConnection() const {
  ocsf::Connection c;
  c.actor = actor_;
  c.src = src_;
  if (!target_host_.empty()) {
    if (!parseIpLiteral(target_host_)) c.dst.hostname = target_host_;
    c.dst.ip = target_ip_.empty() && parseIpLiteral(target_host_) ? target_host_ : target_ip_;
    c.dst.port = target_port_;
  }
  return c;
}

void Connection::emitOpen(ocsf::Action action, std::string_view rule, std::string_view engine,
                          std::string_view reason, bool injection_finding) {
  ocsf::Decision d{action, std::string(rule.empty() ? "-" : rule), std::string(engine), std::string(reason)};
  ocsf::Event e = ocsf::netOpen(*services_.session, now(), eventConnection(), d);
  if (caller_) {
    // Who holds the socket besides the actor, and any sign of injected code in them.
    if (!caller_->injection.empty()) e.unmapped.set("injection", signsValue(caller_->injection));
    if (caller_->anonymous_exec_mappings > 0) {
      e.unmapped.set("anonymous_exec_mappings", static_cast<uint64_t>(caller_->anonymous_exec_mappings));
    }
    if (!caller_->other_holders.empty()) {
      ocsf::Value::Array holders;
      for (const auto& other : caller_->other_holders) holders.push_back(holderValue(other));
      e.unmapped.set("socket_holders", ocsf::Value(std::move(holders)));
    }
  }
  if (!injection_finding || !caller_) {
    services_.emitter->emit(std::move(e));
    return;
  }
  ocsf::Value evidence = ocsf::evidenceOf(e);
  services_.emitter->emit(std::move(e));  // dual emit: the domain event, then the finding
  services_.emitter->emit(injectionFinding(*services_.session, now(), *caller_, actor_, d,
                                           fmt::format("{}:{}", target_host_, target_port_), std::move(evidence)));
}

void Connection::emitFail(int code, std::string detail, bool reset) {
  // A connection closed from outside fails in whatever it was doing; its NET:CLOSE says why.
  if (closing_) return;
  ocsf::RelayError error{code, std::move(detail)};
  if (reset) {
    services_.emitter->emit(ocsf::netReset(*services_.session, now(), eventConnection(), error));
  } else {
    services_.emitter->emit(ocsf::netFail(*services_.session, now(), eventConnection(), error));
  }
}

void Connection::emitHttp(std::string_view method, std::string_view target, std::optional<int> code,
                          ocsf::Action action, std::string_view rule, std::string_view engine,
                          std::string_view reason, ocsf::Severity severity) {
  ocsf::HttpExchange x;
  x.actor = actor_;
  x.src = src_;
  x.method = std::string(method);
  x.url = services_.inspection ? services_.inspection->scrub(target) : std::string(target);
  x.host = target_host_;
  if (target_port_ != 0) x.port = target_port_;
  x.scheme = tls_ ? "https" : "http";
  x.response_code = code;
  ocsf::Decision d{action, std::string(rule.empty() ? "-" : rule), std::string(engine), std::string(reason)};
  ocsf::Event e = ocsf::httpRequest(*services_.session, now(), x, d);
  if (severity != ocsf::Severity::kUnknown) e.severity = severity;
  services_.emitter->emit(std::move(e));
}

void Connection::emitClose() {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started_).count();
  ocsf::Event e = ocsf::netClose(*services_.session, now(), eventConnection(),
                                 static_cast<int64_t>(counters_.to_client),
                                 static_cast<int64_t>(counters_.from_client), ms);
  if (closing_) {
    // Closed by the proxy, not by a peer: why (a reload removed its rule, the proxy stopped).
    e.status_detail = close_reason_;
    e.message += " (" + close_reason_ + ")";
  }
  services_.emitter->emit(std::move(e));
}

// ---- callers ----

policy::ConnectRequest connectRequestFor(std::string host, uint16_t port, const std::optional<CallerInfo>& caller) {
  policy::ConnectRequest request{.host = std::move(host), .port = port};
  if (!caller || !caller->attribution.empty()) return request;  // unknown, or named for the record only
  request.executable = caller->executable;
  request.ancestors = caller->ancestors;
  request.injected = !caller->injection.empty();
  request.pid = caller->pid;
  for (const auto& other : caller->other_holders) {
    request.other_holders.push_back(policy::CallerProcess{.executable = other.executable,
                                                          .ancestors = other.ancestors,
                                                          .injected = !other.injection.empty(),
                                                          .pid = other.pid});
  }
  return request;
}

// ---- entry point ----

asio::awaitable<void> serveConnection(ProxyServices& services, tcp::socket client) {
  Connection connection(services, std::move(client));
  try {
    co_await connection.run();
  } catch (const std::exception& e) {
    // Nothing on the data path throws by design; a stray exception from a third-party call ends this
    // connection only, never the proxy.
    services.emitter->operational(audit::Level::kError, "proxy", fmt::format("connection ended by exception: {}", e.what()));
  }
}

}  // namespace warden::proxy
