// Connection::inspectRequest and Connection::answerLocally: the request half of what the proxy
// understands above HTTP (proxy/inspect). exchange() (l7_relay.cc) calls inspectRequest once per
// request after the L7 decision; it may answer the request itself (a denied MCP tool call, a
// credential bound for the wrong host, a package source the policy does not list), substitute
// credentials in the head, or read the whole body first (MCP, so that a tools/call is decided before
// the server sees a byte).

#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "proxy/chunked.h"
#include "proxy/server/connection_io.h"
#include "proxy/server/l7_inspect.h"
#include "proxy/server/responses.h"

namespace warden::proxy {

namespace asio = boost::asio;
using asio::ip::tcp;

template <typename ClientStream>
asio::awaitable<ExchangeOutcome> Connection::answerLocally(ClientStream& client, const inspect::LocalAnswer& a,
                                                           const HttpRequestHead& head, std::string_view url,
                                                           std::string_view rule) {
  ocsf::HttpExchange x;
  x.actor = actor_;
  x.src = src_;
  x.method = head.method;
  x.url = std::string(url);
  x.host = target_host_;
  if (target_port_ != 0) x.port = target_port_;
  x.scheme = tls_ ? "https" : "http";
  x.response_code = a.status;
  const std::string by = a.rule.empty() ? std::string(rule) : a.rule;
  ocsf::Event event = ocsf::httpRequest(*services_.session, now(), x,
                                        ocsf::Decision{ocsf::Action::kDenied, by.empty() ? "-" : by, "l7", a.reason});
  if (a.severity != ocsf::Severity::kUnknown) event.severity = a.severity;
  const ocsf::Event evidence = a.then ? event : ocsf::Event{};
  services_.emitter->emit(std::move(event));
  if (a.then) a.then(evidence);
  if (a.body.empty() && a.status != 202) {
    co_await answer(client, a.status, a.error, a.detail, a.reason, by, a.policy_header);
    co_return ExchangeOutcome::kClose;
  }
  const bool close = a.close || !head.keep_alive;
  std::string out = fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\n",
                                a.status, statusText(a.status), a.content_type, a.body.size());
  if (a.policy_header) {
    std::string clean;
    for (char c : by.empty() ? std::string("-") : by) clean.push_back((c >= 0x21 && c <= 0x7e) ? c : '_');
    out += "X-Warden-Policy: " + clean + "\r\n";
  }
  if (close) out += "Connection: close\r\n";
  out += "\r\n";
  out += a.body;
  if (!co_await writeAll(client, out, true)) co_return ExchangeOutcome::kClose;
  if (close) {
    boost::system::error_code ignored;
    client.lowest_layer().shutdown(tcp::socket::shutdown_send, ignored);
    co_return ExchangeOutcome::kClose;
  }
  co_return ExchangeOutcome::kKeepAlive;
}

template <typename ClientStream>
asio::awaitable<InspectedRequest> Connection::inspectRequest(ClientStream& client, const HttpRequestHead& head,
                                                             std::string_view canonical, std::string& url,
                                                             std::string_view rule) {
  InspectedRequest r;
  if (!services_.inspection) co_return r;
  if (!inspection_) inspection_ = std::make_unique<inspect::ConnectionInspection>(*services_.inspection);
  inspect::Parties parties;
  parties.actor = actor_;
  parties.src = src_;
  parties.host = target_host_;
  for (char& c : parties.host) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  parties.port = target_port_;
  parties.tls = tls_;
  parties.rule = rule.empty() ? "-" : std::string(rule);
  if (decision_.endpoint != nullptr) parties.enforcement = decision_.endpoint->enforcement;
  inspection_->setParties(std::move(parties));
  const std::string absolute =
      mode_ == Mode::kForward ? url : inspection_->parties().origin() + std::string(canonical) + (head.query ? "?" + *head.query : "");
  r.exchange = inspection_->begin(*policy_, decision_.endpoint, head, canonical, absolute);
  inspect::ExchangeInspection& x = *r.exchange;
  url = x.scrub(url);
  r.head = head;
  if (auto a = x.onRequestHead(*r.head)) {
    r.answered = true;
    r.outcome = co_await answerLocally(client, *a, head, url, rule);
    co_return r;
  }
  const size_t limit = x.wholeBodyLimit();
  if (limit == 0 || head.body == BodyFraming::kNone) co_return r;

  // The whole body first (MCP). A client that asked to Expect: 100-continue is told to go on by us.
  if (head.expect_continue) {
    if (!co_await writeAll(client, std::string_view("HTTP/1.1 100 Continue\r\n\r\n"), true)) {
      r.answered = true;
      r.outcome = ExchangeOutcome::kClose;
      co_return r;
    }
    auto& fields = r.head->headers;
    fields.erase(std::remove_if(fields.begin(), fields.end(),
                                [](const HeaderField& f) { return equalsIgnoreCase(f.name, "expect"); }),
                 fields.end());
    r.head->expect_continue = false;
  }
  std::string payload;
  bool too_large = head.body == BodyFraming::kContentLength && head.content_length.value_or(0) > limit;
  uint64_t remaining = head.content_length.value_or(0);
  ChunkedDecoder chunked(400);
  bool done = head.body == BodyFraming::kContentLength && remaining == 0;
  while (!done && !too_large) {
    if (cbuf_.empty()) {
      deadline_.expireAfter(services_.timeouts.body_idle, WaitPhase::kRequestBody);
      auto [ec, n] = co_await client.async_read_some(cbuf_.prepare(), asio::as_tuple(asio::use_awaitable));
      if (ec) {
        emitHttp(head.method, url, std::nullopt, ocsf::Action::kAllowed, rule, "l7", "");
        emitFail(0, deadline_.expired() ? "the client stalled mid-request body"
                                        : fmt::format("client closed mid-request body ({})", ec.message()),
                 !deadline_.expired());
        r.answered = true;
        r.outcome = ExchangeOutcome::kClose;
        co_return r;
      }
      cbuf_.commit(n);
      counters_.from_client += n;
    }
    size_t take = 0;
    if (head.body == BodyFraming::kContentLength) {
      take = static_cast<size_t>(std::min<uint64_t>(remaining, cbuf_.size()));
      payload.append(cbuf_.view().substr(0, take));
      remaining -= take;
      done = remaining == 0;
    } else {
      const FeedResult fr = chunked.feed(cbuf_.view(), [&](std::string_view p) { payload.append(p); });
      if (fr.state == ParseState::kRejected) {
        emitHttp(head.method, url, 400, ocsf::Action::kDenied, rule, "l7",
                 fmt::format("chunked body: {}: {}", chunked.rejection().code(), chunked.rejection().detail));
        co_await answer(client, 400, "bad_request", chunked.rejection().detail, chunked.rejection().code());
        r.answered = true;
        r.outcome = ExchangeOutcome::kClose;
        co_return r;
      }
      take = fr.consumed;
      done = fr.state == ParseState::kDone;
    }
    cbuf_.consume(take);
    too_large = payload.size() > limit;
  }
  if (too_large) {
    // Not read whole, so not checked: refused (MCP messages this large are not what MCP sends).
    (void)x.onWholeBody(*r.head, "", true);
    inspect::LocalAnswer a;
    a.status = 413;
    a.error = "request_too_large";
    a.detail = fmt::format("MCP request bodies are read whole before they are forwarded, up to {} bytes", limit);
    a.reason = fmt::format("MCP request body over {} bytes", limit);
    r.answered = true;
    r.outcome = co_await answerLocally(client, a, head, url, rule);
    co_return r;
  }
  if (auto a = x.onWholeBody(*r.head, payload, false)) {
    r.answered = true;
    r.outcome = co_await answerLocally(client, *a, head, url, rule);
    co_return r;
  }
  // What goes upstream: the payload, re-framed by us when chunked (one chunk, no extensions, no
  // trailers: the upstream never parses a size the client wrote; docs/proxy.md "Chunked bodies").
  if (head.body == BodyFraming::kChunked) {
    if (!payload.empty()) r.body_raw = fmt::format("{:x}\r\n{}\r\n", payload.size(), payload);
    r.body_raw += "0\r\n\r\n";
  } else {
    r.body_raw = std::move(payload);
  }
  r.body_in_hand = true;
  co_return r;
}

template asio::awaitable<InspectedRequest> Connection::inspectRequest<tcp::socket>(tcp::socket&, const HttpRequestHead&,
                                                                                   std::string_view, std::string&,
                                                                                   std::string_view);
template asio::awaitable<ExchangeOutcome> Connection::answerLocally<tcp::socket>(tcp::socket&, const inspect::LocalAnswer&,
                                                                                 const HttpRequestHead&, std::string_view,
                                                                                 std::string_view);
using TlsStream = asio::ssl::stream<tcp::socket&>;
template asio::awaitable<InspectedRequest> Connection::inspectRequest<TlsStream>(TlsStream&, const HttpRequestHead&,
                                                                                 std::string_view, std::string&,
                                                                                 std::string_view);
template asio::awaitable<ExchangeOutcome> Connection::answerLocally<TlsStream>(TlsStream&, const inspect::LocalAnswer&,
                                                                               const HttpRequestHead&, std::string_view,
                                                                               std::string_view);

}  // namespace warden::proxy
