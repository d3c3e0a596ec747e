#include "proxy/server/connection_deadline.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace warden::proxy {

namespace asio = boost::asio;

std::string_view waitPhaseName(WaitPhase phase) {
  switch (phase) {
    case WaitPhase::kIdle: return "idle";
    case WaitPhase::kRequestHead: return "request_head";
    case WaitPhase::kRequestBody: return "request_body";
    case WaitPhase::kResolve: return "resolve";
    case WaitPhase::kConnect: return "connect";
    case WaitPhase::kTlsHandshake: return "tls_handshake";
    case WaitPhase::kResponse: return "response";
    case WaitPhase::kExpectContinue: return "expect_continue";
    case WaitPhase::kWrite: return "write";
    case WaitPhase::kTunnelIdle: return "tunnel_idle";
  }
  return "unknown";
}

void Deadline::expireAfter(Clock::duration d, WaitPhase phase) {
  deadline_ = Clock::now() + d;
  phase_ = phase;
  expired_ = false;
  // The watcher sleeps until armed_; wake it to re-arm when the new deadline is earlier.
  if (deadline_ < armed_) timer_.cancel();
}

asio::awaitable<void> Deadline::watch(std::function<void()> on_expire) {
  for (;;) {
    armed_ = deadline_;
    timer_.expires_at(armed_);
    auto [ec] = co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    (void)ec;
    armed_ = Clock::time_point::max();
    // Cancelled by the || with the session: the connection is over.
    if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none) co_return;
    if (deadline_ <= Clock::now()) {
      expired_ = true;
      deadline_ = Clock::time_point::max();
      on_expire();
    }
  }
}

}  // namespace warden::proxy
