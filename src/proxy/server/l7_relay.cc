#include "proxy/server/l7_relay.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <type_traits>

#include "proxy/chunked.h"
#include "proxy/server/connection_io.h"
#include "proxy/path_canon.h"
#include "proxy/redact.h"
#include "proxy/server/upstream.h"

namespace warden::proxy {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

bool isFramingField(std::string_view name) {
  return equalsIgnoreCase(name, "content-length") || equalsIgnoreCase(name, "transfer-encoding") ||
         equalsIgnoreCase(name, "host");
}

bool isHopByHop(std::string_view name, bool keep_upgrade) {
  static constexpr std::string_view kHop[] = {"connection", "keep-alive", "proxy-connection", "proxy-authenticate",
                                              "te",         "trailer"};
  for (std::string_view h : kHop) {
    if (equalsIgnoreCase(name, h)) return true;
  }
  return !keep_upgrade && equalsIgnoreCase(name, "upgrade");
}

// Whether the upstream's Connection header names `name` (so it is hop-by-hop too).
bool namedByConnection(const HeaderList& headers, std::string_view name) {
  return !isFramingField(name) && headerHasToken(headers, "connection", name);
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
  while (!out.empty() && out.back() == '.') out.pop_back();
  if (out.size() >= 2 && out.front() == '[' && out.back() == ']') out = out.substr(1, out.size() - 2);
  return out;
}

// How long the upstream may stay silent after an Expect: 100-continue head before the body is sent
// anyway (curl waits 1 s for the 100; an HTTP/1.0 or non-conforming upstream never sends one).
constexpr std::chrono::milliseconds kExpectContinueWait{1000};
// How much of a request body is read and its framing checked before the head goes upstream.
constexpr size_t kPrevalidateBytes = 64 * 1024;
// How long a client's unwanted body is drained after a final answer that came before it.
constexpr std::chrono::milliseconds kLingerAfterEarlyAnswer{2000};

// Resets a TCP connection (SO_LINGER 0 + close): the peer sees RST, never a clean end of a
// truncated request.
void abortUpstream(tcp::socket::lowest_layer_type& socket) {
  if (!socket.is_open()) return;
  boost::system::error_code ignored;
  socket.set_option(asio::socket_base::linger(true, 0), ignored);
  socket.close(ignored);
}

// The first word of a canonicalizePath() error ("encoded_slash: ...") is its reason code.
std::string reasonCode(const std::string& message) {
  const size_t end = message.find_first_of(": ");
  return message.substr(0, end);
}

}  // namespace

std::string serializeResponseHead(const HttpResponseHead& head, bool close) {
  std::string out;
  out.reserve(256 + head.headers.size() * 48);
  out += fmt::format("HTTP/1.1 {} {}\r\n", head.status, head.reason);
  const bool upgrade = head.isSwitchingProtocols();
  for (const HeaderField& f : head.headers) {
    if (isHopByHop(f.name, upgrade)) continue;
    // A 101's "Connection: Upgrade" names Upgrade, which must still reach the client (clients such as
    // node's llhttp treat a 101 without both fields as an ordinary response and fail the handshake).
    const bool kept_upgrade = upgrade && equalsIgnoreCase(f.name, "upgrade");
    if (!kept_upgrade && namedByConnection(head.headers, f.name)) continue;
    out += f.name;
    out += ": ";
    out += f.value;
    out += "\r\n";
  }
  if (upgrade) {
    out += "Connection: Upgrade\r\n";
  } else if (close) {
    out += "Connection: close\r\n";
  }
  out += "\r\n";
  return out;
}

template <typename ClientStream, typename UpstreamStream>
asio::awaitable<void> Connection::tunnelHttpLoop(ClientStream& client, UpstreamStream& upstream) {
  HttpRequestHead head;
  bool first = true;
  for (;;) {
    head = HttpRequestHead{};
    if (co_await readRequestHead(client, &head, first) != HeadOutcome::kOk) co_return;
    first = false;
    if (head.method == "CONNECT") {
      emitHttp(head.method, head.target, 400, ocsf::Action::kDenied, decision_.rule, "l7", "CONNECT inside a tunnel");
      co_await answer(client, 400, "bad_request", "CONNECT is not allowed inside a tunnel", "connect_in_tunnel");
      co_return;
    }
    if (!head.host.empty() &&
        (lower(head.host) != lower(target_host_) || (head.port && *head.port != target_port_))) {
      const std::string reason = fmt::format("host_mismatch: Host {}{} differs from the CONNECT target {}:{}", head.host,
                                             head.port ? fmt::format(":{}", *head.port) : "", target_host_,
                                             target_port_);
      emitHttp(head.method, head.target, 400, ocsf::Action::kDenied, decision_.rule, "l7", reason);
      co_await answer(client, 400, "bad_request", reason, "host_mismatch", decision_.rule);
      co_return;
    }
    if (!co_await recheckPolicy(client)) co_return;
    const ExchangeOutcome outcome = co_await exchange(client, upstream, head);
    if (outcome != ExchangeOutcome::kKeepAlive) co_return;
  }
}

template <typename ClientStream, typename UpstreamStream>
asio::awaitable<ExchangeOutcome> Connection::exchange(ClientStream& client, UpstreamStream& upstream,
                                                      const HttpRequestHead& head) {
  constexpr bool kPlainTcp = std::is_same_v<ClientStream, tcp::socket> && std::is_same_v<UpstreamStream, tcp::socket>;
  const auto& t = services_.timeouts;

  // 1. The canonical path: what policy sees is what is forwarded.
  std::string canonical;
  if (head.form == RequestTargetForm::kAsterisk) {
    canonical = "*";
  } else {
    auto c = canonicalizePath(head.path);
    if (!c.ok()) {
      const std::string code = reasonCode(c.error().message());
      emitHttp(head.method, head.target, 400, ocsf::Action::kDenied, decision_.rule, "l7",
               c.error().message());
      co_await answer(client, 400, "bad_request", c.error().message(), code);
      co_return ExchangeOutcome::kClose;
    }
    canonical = std::move(c.value());
  }
  const std::string query = head.query.value_or("");
  // For events: the URL with the canonical path (the builders redact the query).
  std::string url = mode_ == Mode::kForward
                        ? fmt::format("http://{}:{}{}", head.host, target_port_, canonical)
                        : canonical;
  if (head.query) url += "?" + *head.query;

  // 2. The L7 decision (the endpoint's protocol decides whether an upgrade may be asked for).
  policy::HttpRequest decided{head.method, canonical, query, {}};
  if (head.upgrade) {
    const HeaderField* up = findHeader(head.headers, "upgrade");
    decided.upgrade = up != nullptr && !up->value.empty() ? up->value : std::string("unknown");
  }
  const policy::Decision d = policy::decideRequest(*policy_, decision_, decided);
  if (!d.allowed()) {
    // Never forwarded, and the body (if any) is never read: with Expect: 100-continue the client
    // has not sent it; otherwise the close discards it.
    emitHttp(head.method, url, 403, ocsf::Action::kDenied, d.rule.empty() ? decision_.rule : d.rule, "l7", d.reason);
    co_await answer(client, 403, "policy_denied",
                    fmt::format("{} {} is not allowed on {}:{}", head.method, canonical, target_host_, target_port_),
                    d.reason, d.rule.empty() ? decision_.rule : d.rule, true);
    co_return ExchangeOutcome::kClose;
  }
  const ocsf::Action action = d.would_deny ? ocsf::Action::kObserved : ocsf::Action::kAllowed;
  const std::string rule = d.rule.empty() ? decision_.rule : d.rule;
  const std::string observed_reason = d.would_deny ? d.reason : std::string();

  // 2b. What the proxy understands above HTTP (proxy/inspect via l7_inspect.cc): it may answer the
  // request itself, substitute credentials in the head, or read the whole body first (MCP).
  InspectedRequest inspected = co_await inspectRequest(client, head, canonical, url, rule);
  if (inspected.answered) co_return inspected.outcome;
  inspect::ExchangeInspection* const inspection = inspected.exchange.get();
  InspectionEndGuard inspection_end{inspection, &deadline_, {}};
  const HttpRequestHead& sent = inspected.head ? *inspected.head : head;
  const bool reused = upstream_requests_ > 0;
  ++upstream_requests_;

  auto upstreamFailed = [&](const boost::system::error_code& ec, bool timed_out, std::string what) -> asio::awaitable<void> {
    const int status = timed_out ? 504 : 502;
    const std::string detail = fmt::format("{} {}:{}: {}", what, target_host_, target_port_,
                                           timed_out ? std::string("timed out") : describeError(ec));
    emitHttp(head.method, url, status, action, rule, "l7", observed_reason);
    emitFail(status, detail, !timed_out && isResetError(ec));
    upstream_ready_ = false;
    co_await answer(client, status, timed_out ? "upstream_timeout" : "upstream_failed", detail);
  };
  // The client went away (or stalled) mid-body: recorded, and the upstream connection is reset so
  // that it can never take the truncated request for a whole one.
  auto clientAbortedBody = [&](const boost::system::error_code& ec) {
    emitHttp(head.method, url, std::nullopt, action, rule, "l7", observed_reason);
    emitFail(0, deadline_.expired() ? "the client stalled mid-request body"
                                    : fmt::format("client closed mid-request body ({})", ec.message()),
             !deadline_.expired());
    abortUpstream(upstream.lowest_layer());
  };

  // 3. The body's framing is checked before the head goes out: up to kPrevalidateBytes of the body (all
  // of a smaller one) is read from the client first, a chunked body decoded and re-framed with chunk
  // sizes of our own (ChunkedReframer: the upstream never parses a size, extension or trailer the
  // client wrote). A framing error is answered 400 and the upstream receives nothing; a client that
  // leaves before then leaves the upstream with nothing either. The rest of a larger body streams
  // (step 5); a disconnect then resets the upstream. With Expect: 100-continue the head goes alone and
  // the body waits for the upstream's 100 (step 4).
  // A body the inspection already read whole (MCP) goes out with the head, as it re-framed it.
  const bool has_body = head.body != BodyFraming::kNone && !inspected.body_in_hand;
  const bool expect_continue = has_body && head.expect_continue;
  ChunkedReframer reframer(400);
  uint64_t body_left = head.content_length.value_or(0);  // Content-Length bytes not yet taken
  bool body_done = !has_body;
  // Moves the body bytes cbuf_ holds (as far as the body goes) into `into`, re-framed when chunked,
  // showing them (as the client framed them) to the inspection when it reads request bodies.
  // kFraming when the chunked framing is broken; kRefused when the inspection refuses the body
  // (`refusal` says how to answer).
  enum class Take { kOk, kFraming, kRefused };
  std::optional<inspect::LocalAnswer> refusal;
  auto takeBody = [&](std::string& into) -> Take {
    size_t take = 0;
    const size_t before = into.size();
    if (head.body == BodyFraming::kContentLength) {
      take = static_cast<size_t>(std::min<uint64_t>(body_left, cbuf_.size()));
      into.append(cbuf_.view().substr(0, take));
      body_left -= take;
      body_done = body_left == 0;
    } else {
      const FeedResult r = reframer.feed(cbuf_.view(), &into);
      if (r.state == ParseState::kRejected) return Take::kFraming;
      take = r.consumed;
      body_done = r.state == ParseState::kDone;
    }
    if (inspection != nullptr && inspection->readsRequestBody()) {
      if (auto refused = inspection->onRequestBytes(head.body, cbuf_.view().substr(0, take))) {
        into.resize(before);
        refusal = std::move(refused);
        return Take::kRefused;
      }
    }
    cbuf_.consume(take);
    return Take::kOk;
  };
  auto refuseFraming = [&]() -> asio::awaitable<void> {
    const HttpRejection& rej = reframer.rejection();
    emitHttp(head.method, url, 400, ocsf::Action::kDenied, rule, "l7",
             fmt::format("chunked body: {}: {}", rej.code(), rej.detail));
    co_await answer(client, 400, "bad_request", rej.detail, rej.code());
  };
  std::string out = serializeRequestHead(sent, canonical) + inspected.body_raw;
  if (has_body && !expect_continue) {
    size_t checked = 0;  // body bytes as the client framed them
    for (;;) {
      const size_t before = cbuf_.size();
      const Take taken = takeBody(out);
      if (taken == Take::kFraming) {
        co_await refuseFraming();
        co_return ExchangeOutcome::kClose;
      }
      if (taken == Take::kRefused) co_return co_await answerLocally(client, *refusal, head, url, rule);
      checked += before - cbuf_.size();
      if (body_done || checked >= kPrevalidateBytes) break;
      deadline_.expireAfter(t.body_idle, WaitPhase::kRequestBody);
      auto [ec, n] = co_await client.async_read_some(cbuf_.prepare(), asio::as_tuple(asio::use_awaitable));
      if (ec) {
        clientAbortedBody(ec);
        co_return ExchangeOutcome::kClose;
      }
      cbuf_.commit(n);
      counters_.from_client += n;
    }
  }
  deadline_.expireAfter(t.write, WaitPhase::kWrite);
  {
    auto [ec, n] = co_await asio::async_write(upstream, asio::buffer(out), asio::as_tuple(asio::use_awaitable));
    (void)n;
    if (ec) {
      if (reused && mode_ == Mode::kForward && head.body == BodyFraming::kNone && !deadline_.expired()) {
        co_return ExchangeOutcome::kRetry;
      }
      co_await upstreamFailed(ec, deadline_.expired(), "sending the request to");
      co_return ExchangeOutcome::kClose;
    }
  }
  out.clear();

  // Response heads, forwarding informational 1xx heads as they come. In the Expect phase it stops
  // at a 100 Continue (forwarded; the body follows) or when the upstream stays silent for
  // kExpectContinueWait (the body follows anyway, as curl does after 1 s).
  enum class HeadRead { kFailed, kContinue, kFinal };
  HttpResponseParser rp(head.method);
  HttpResponseHead resp;
  bool any_response_byte = false;
  auto readResponseHead = [&](bool expect_phase) -> asio::awaitable<HeadRead> {
    for (;;) {
      if (ubuf_.empty()) {
        if (expect_phase) {
          deadline_.expireAfter(kExpectContinueWait, WaitPhase::kExpectContinue);
        } else {
          deadline_.expireAfter(t.response, WaitPhase::kResponse);
        }
        auto [ec, n] = co_await upstream.async_read_some(ubuf_.prepare(), asio::as_tuple(asio::use_awaitable));
        if (ec) {
          const bool timed_out = deadline_.expired();
          if (expect_phase && timed_out && !closing_) co_return HeadRead::kContinue;
          if (!timed_out && !any_response_byte && reused && mode_ == Mode::kForward &&
              head.body == BodyFraming::kNone) {
            co_return HeadRead::kContinue;  // the caller turns this into kRetry
          }
          co_await upstreamFailed(ec, timed_out, any_response_byte ? "incomplete response from" : "no response from");
          co_return HeadRead::kFailed;
        }
        ubuf_.commit(n);
        any_response_byte = true;
      }
      const FeedResult r = rp.feed(ubuf_.view());
      ubuf_.consume(r.consumed);
      if (r.state == ParseState::kNeedMore) continue;
      if (r.state == ParseState::kRejected) {
        const HttpRejection& rej = rp.rejection();
        const std::string detail = fmt::format("invalid response from {}:{}: {}: {}", target_host_, target_port_,
                                               rej.code(), rej.detail);
        emitHttp(head.method, url, 502, action, rule, "l7", observed_reason);
        emitFail(502, detail);
        upstream_ready_ = false;
        co_await answer(client, 502, "upstream_invalid_response", detail, rej.code());
        co_return HeadRead::kFailed;
      }
      resp = rp.takeHead();
      if (resp.isInterim()) {
        if (!co_await writeAll(client, serializeResponseHead(resp, false), true)) co_return HeadRead::kFailed;
        rp.reset();
        if (expect_phase && resp.status == 100) co_return HeadRead::kContinue;
        continue;
      }
      co_return HeadRead::kFinal;
    }
  };

  // 4. Expect: 100-continue: the upstream speaks first. A final answer instead of 100 means the
  // body is not wanted: it is relayed, the body is never read or forwarded, and both connections
  // close after it (RFC 9110 10.1.1).
  bool final_before_body = false;
  if (expect_continue) {
    const HeadRead r = co_await readResponseHead(true);
    if (r == HeadRead::kFailed) co_return ExchangeOutcome::kClose;
    final_before_body = r == HeadRead::kFinal;
  }

  // 5. The rest of the body, re-framed as in step 3.
  if (has_body && !final_before_body) {
    while (!body_done) {
      if (cbuf_.empty()) {
        deadline_.expireAfter(t.body_idle, WaitPhase::kRequestBody);
        auto [ec, n] = co_await client.async_read_some(cbuf_.prepare(), asio::as_tuple(asio::use_awaitable));
        if (ec) {
          clientAbortedBody(ec);
          co_return ExchangeOutcome::kClose;
        }
        cbuf_.commit(n);
        counters_.from_client += n;
      }
      const Take taken = takeBody(out);
      if (taken != Take::kOk) {
        abortUpstream(upstream.lowest_layer());
        upstream_ready_ = false;
        if (taken == Take::kRefused) co_return co_await answerLocally(client, *refusal, head, url, rule);
        co_await refuseFraming();
        co_return ExchangeOutcome::kClose;
      }
      if (out.empty()) continue;
      deadline_.expireAfter(t.write, WaitPhase::kWrite);
      auto [ec, n] = co_await asio::async_write(upstream, asio::buffer(out), asio::as_tuple(asio::use_awaitable));
      (void)n;
      out.clear();
      if (ec) {
        co_await upstreamFailed(ec, deadline_.expired(), "sending the request body to");
        co_return ExchangeOutcome::kClose;
      }
    }
  }

  // 6. The final response head (unless the upstream already answered in the Expect phase).
  if (!final_before_body) {
    const HeadRead r = co_await readResponseHead(false);
    if (r == HeadRead::kFailed) co_return ExchangeOutcome::kClose;
    if (r == HeadRead::kContinue) co_return ExchangeOutcome::kRetry;
  }

  // 7. 101 Switching Protocols: only when the client asked.
  if (resp.isSwitchingProtocols()) {
    if (!head.upgrade) {
      const std::string reason = "unsolicited 101 Switching Protocols: the request did not ask to upgrade";
      ocsf::HttpExchange ex;
      ex.actor = actor_;
      ex.src = src_;
      ex.method = head.method;
      ex.url = url;
      ex.host = target_host_;
      ex.port = target_port_;
      ex.scheme = tls_ ? "https" : "http";
      ex.response_code = 101;
      ocsf::Event domain = ocsf::httpRequest(*services_.session, now(), ex,
                                             ocsf::Decision{ocsf::Action::kDenied, rule, "l7", reason});
      domain.severity = ocsf::Severity::kHigh;
      ocsf::Value evidence = ocsf::evidenceOf(domain);
      services_.emitter->emit(std::move(domain));  // dual emit: the domain event, then the finding
      ocsf::FindingInput f;
      f.title = "Unsolicited 101 Switching Protocols";
      f.desc = fmt::format("{}:{} answered {} {} with 101 Switching Protocols although the client did not ask to "
                           "upgrade; the response was not forwarded and both connections were closed",
                           target_host_, target_port_, head.method, canonical);
      f.types = {"unsolicited-101"};
      f.evidences = ocsf::Value(ocsf::Value::Array{std::move(evidence)});
      f.actor = actor_;
      f.rule = ocsf::FirewallRule{rule, "l7"};
      services_.emitter->emit(ocsf::finding(*services_.session, now(), f));
      upstream_ready_ = false;
      co_return ExchangeOutcome::kClose;
    }
    std::string first = serializeResponseHead(resp, false);
    first.append(ubuf_.view());  // bytes after the 101 head in the same read are already frames
    ubuf_.consume(ubuf_.size());
    if (!co_await writeAll(client, first, true)) co_return ExchangeOutcome::kClose;
    if (!cbuf_.empty()) {
      const std::string early(cbuf_.view());
      cbuf_.consume(early.size());
      if (!co_await writeAll(upstream, early, false)) co_return ExchangeOutcome::kClose;
    }
    emitHttp(head.method, url, 101, action, rule, "l7", observed_reason);
    const HeaderField* up = findHeader(resp.headers, "upgrade");
    services_.emitter->emit(ocsf::netUpgrade(*services_.session, now(), eventConnection(),
                                             ocsf::Decision{action, rule, "l7", observed_reason},
                                             up != nullptr ? up->value : "unknown"));
    cbuf_.release();
    ubuf_.release();
    RelayResult rr;
    if constexpr (kPlainTcp) {
      rr = co_await relayTcp(client, upstream, deadline_, t.tunnel_idle, counters_);
    } else {
      rr = co_await relayStreams(client, upstream, deadline_, t.tunnel_idle, counters_);
    }
    if (rr.upstream_error && isResetError(rr.upstream_error)) {
      emitFail(0, fmt::format("upstream {}:{} reset the upgraded connection", target_host_, target_port_), true);
    }
    upstream_ready_ = false;
    co_return ExchangeOutcome::kUpgraded;
  }

  // 8. The final response: head, then body by its framing. After a final answer to an Expect
  // request whose body was not sent, the client's connection cannot be reused (the body may follow).
  const bool client_keep = head.keep_alive && resp.body != BodyFraming::kUntilClose &&
                           (mode_ == Mode::kForward || resp.keep_alive) && !final_before_body;
  if (inspection != nullptr) inspection->onResponseHead(resp);
  if (!co_await writeAll(client, serializeResponseHead(resp, !client_keep), true)) {
    emitHttp(head.method, url, resp.status, action, rule, "l7", observed_reason);
    emitFail(0, "client closed before the response", true);
    co_return ExchangeOutcome::kClose;
  }
  emitHttp(head.method, url, resp.status, action, rule, "l7", observed_reason);
  bool complete = resp.body == BodyFraming::kNone;
  uint64_t remaining = resp.content_length.value_or(0);
  ChunkedDecoder chunked(502);
  while (!complete) {
    if (resp.body == BodyFraming::kContentLength && remaining == 0) {
      complete = true;
      break;
    }
    if (ubuf_.empty()) {
      deadline_.expireAfter(t.response, WaitPhase::kResponse);
      auto [ec, n] = co_await upstream.async_read_some(ubuf_.prepare(), asio::as_tuple(asio::use_awaitable));
      if (ec) {
        if (resp.body == BodyFraming::kUntilClose &&
            (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated)) {
          complete = true;
          break;
        }
        const bool timed_out = deadline_.expired();
        emitFail(timed_out ? 504 : 502,
                 fmt::format("response body from {}:{} {}", target_host_, target_port_,
                             timed_out ? "stalled" : describeError(ec)),
                 !timed_out && isResetError(ec));
        upstream_ready_ = false;
        co_return ExchangeOutcome::kClose;
      }
      ubuf_.commit(n);
    }
    size_t take = ubuf_.size();
    if (resp.body == BodyFraming::kContentLength) {
      take = static_cast<size_t>(std::min<uint64_t>(remaining, take));
      remaining -= take;
      complete = remaining == 0;
    } else if (resp.body == BodyFraming::kChunked) {
      const FeedResult r = chunked.feed(ubuf_.view());
      if (r.state == ParseState::kRejected) {
        emitFail(502, fmt::format("invalid chunked response body from {}:{}: {}", target_host_, target_port_,
                                  chunked.rejection().code()));
        upstream_ready_ = false;
        co_return ExchangeOutcome::kClose;
      }
      take = r.consumed;
      complete = r.state == ParseState::kDone;
    }
    if (inspection != nullptr && !inspection->onResponseBytes(resp.body, ubuf_.view().substr(0, take), complete)) {
      // Cut off before these bytes reach the agent (a package that does not match its index, under
      // enforce): the agent's connection is reset, never ended cleanly.
      inspection_end.end.cut = true;
      abortUpstream(client.lowest_layer());
      upstream_ready_ = false;
      boost::system::error_code ignored;
      upstream.lowest_layer().close(ignored);
      co_return ExchangeOutcome::kClose;
    }
    deadline_.expireAfter(t.write, WaitPhase::kWrite);
    auto [ec, n] = co_await asio::async_write(client, asio::buffer(ubuf_.view().data(), take),
                                              asio::as_tuple(asio::use_awaitable));
    counters_.to_client += n;
    ubuf_.consume(take);
    if (ec) {
      emitFail(0, fmt::format("client closed mid-response ({})", ec.message()), true);
      upstream_ready_ = false;
      co_return ExchangeOutcome::kClose;
    }
  }
  inspection_end.end.response_complete = complete;
  // Bytes after a complete response are a protocol violation by the upstream: never reuse it. Nor an
  // upstream that answered an Expect request before its body (it may still wait for one).
  upstream_ready_ = resp.keep_alive && complete && ubuf_.empty() && !final_before_body;
  if (!upstream_ready_) {
    boost::system::error_code ignored;
    upstream.lowest_layer().close(ignored);
  }
  if (final_before_body) {
    // The client may be sending the body it was not asked for: stop sending, then read and discard
    // for a bounded time so our close does not reset the connection under the response (lingering
    // close, as nginx does).
    boost::system::error_code ignored;
    client.lowest_layer().shutdown(tcp::socket::shutdown_send, ignored);
    deadline_.expireAfter(kLingerAfterEarlyAnswer, WaitPhase::kIdle);
    for (;;) {
      cbuf_.consume(cbuf_.size());
      auto [ec, n] = co_await client.async_read_some(cbuf_.prepare(), asio::as_tuple(asio::use_awaitable));
      if (ec) break;
      counters_.from_client += n;
    }
    co_return ExchangeOutcome::kClose;
  }
  co_return client_keep ? ExchangeOutcome::kKeepAlive : ExchangeOutcome::kClose;
}

template asio::awaitable<void> Connection::tunnelHttpLoop<tcp::socket, tcp::socket>(tcp::socket&, tcp::socket&);
template asio::awaitable<ExchangeOutcome> Connection::exchange<tcp::socket, tcp::socket>(tcp::socket&, tcp::socket&,
                                                                                         const HttpRequestHead&);
using TlsStream = asio::ssl::stream<tcp::socket&>;
template asio::awaitable<void> Connection::tunnelHttpLoop<TlsStream, TlsStream>(TlsStream&, TlsStream&);
template asio::awaitable<ExchangeOutcome> Connection::exchange<TlsStream, TlsStream>(TlsStream&, TlsStream&,
                                                                                     const HttpRequestHead&);

}  // namespace warden::proxy
