#pragma once

// Template members of Connection shared by connection.cc and l7_relay.cc: bounded reads of a request
// head, bounded writes, error answers and the per-request policy re-check. Internal to src/proxy.

#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "proxy/server/connection_internal.h"
#include "proxy/server/responses.h"

namespace warden::proxy {

template <typename Stream>
boost::asio::awaitable<bool> Connection::writeAll(Stream& stream, std::string_view data, bool to_client) {
  namespace asio = boost::asio;
  deadline_.expireAfter(services_.timeouts.write, WaitPhase::kWrite);
  auto [ec, n] = co_await asio::async_write(stream, asio::buffer(data.data(), data.size()),
                                            asio::as_tuple(asio::use_awaitable));
  if (to_client) counters_.to_client += n;
  co_return !ec;
}

template <typename ClientStream>
boost::asio::awaitable<void> Connection::answer(ClientStream& client, int status, std::string_view error,
                                                std::string_view detail, std::string_view reason,
                                                std::string_view rule, bool policy_header) {
  const std::string response = errorResponse(status, ErrorBody{error, detail, reason, rule}, policy_header);
  co_await writeAll(client, response, true);
  // Let the client read the answer before the close: stop sending, then close.
  boost::system::error_code ignored;
  client.lowest_layer().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
}

// Reads one request head into *head. The wait for its first byte is bounded by client_idle; once a
// byte came, the whole head must arrive within request_head (slowloris), else 408.
template <typename ClientStream>
boost::asio::awaitable<HeadOutcome> Connection::readRequestHead(ClientStream& client, HttpRequestHead* head,
                                                                bool first) {
  namespace asio = boost::asio;
  parser_.reset();
  bool got_bytes = false;
  deadline_.expireAfter(services_.timeouts.client_idle, WaitPhase::kIdle);
  (void)first;
  for (;;) {
    if (cbuf_.empty()) {
      auto [ec, n] = co_await client.async_read_some(cbuf_.prepare(), asio::as_tuple(asio::use_awaitable));
      if (ec) {
        if (deadline_.expired() && got_bytes) {
          emitHttp("-", "-", 408, ocsf::Action::kDenied, "-", "l7",
                   fmt::format("request head not complete within {} ms", services_.timeouts.request_head.count()));
          co_await answer(client, 408, "request_timeout",
                          fmt::format("the request head did not arrive within {} ms",
                                      services_.timeouts.request_head.count()));
          co_return HeadOutcome::kAnswered;
        }
        if (got_bytes && !deadline_.expired()) {
          emitFail(0, fmt::format("client closed the connection mid-request ({})", ec.message()), true);
        }
        co_return HeadOutcome::kClosed;
      }
      cbuf_.commit(n);
      counters_.from_client += n;
      if (!got_bytes) {
        got_bytes = true;
        deadline_.expireAfter(services_.timeouts.request_head, WaitPhase::kRequestHead);
      }
    }
    got_bytes = true;
    const FeedResult r = parser_.feed(cbuf_.view());
    cbuf_.consume(r.consumed);
    if (r.state == ParseState::kDone) {
      *head = parser_.takeHead();
      co_return HeadOutcome::kOk;
    }
    if (r.state == ParseState::kRejected) {
      const HttpRejection& rej = parser_.rejection();
      emitHttp("-", "-", rej.status, ocsf::Action::kDenied, "-", "l7",
               fmt::format("{} {}: {}", rej.status, rej.code(), rej.detail));
      co_await answer(client, rej.status, "bad_request", rej.detail, rej.code());
      co_return HeadOutcome::kAnswered;
    }
  }
}

template <typename ClientStream>
boost::asio::awaitable<bool> Connection::recheckPolicy(ClientStream& client) {
  if (services_.policies->generation() == generation_) co_return true;
  auto current = services_.policies->current();
  const uint64_t generation = services_.policies->generation();
  policy::Decision d = policy::decideConnect(*current, connectRequestFor(target_host_, target_port_, caller_));
  if (!d.allowed()) {
    const std::string reason = "policy reloaded: " + d.reason;
    emitOpen(ocsf::Action::kDenied, d.rule.empty() ? "-" : d.rule, "policy", reason);
    co_await answer(client, 403, "policy_denied",
                    fmt::format("{}:{} is no longer allowed after a policy reload", target_host_, target_port_), reason,
                    d.rule.empty() ? decision_.rule : d.rule, true);
    co_return false;
  }
  policy_ = std::move(current);
  decision_ = std::move(d);
  generation_ = generation;
  registerTarget();
  co_return true;
}

}  // namespace warden::proxy
