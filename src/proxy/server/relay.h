#pragma once

// Raw bidirectional relays: CONNECT tunnels to L4-only or `tls: skip` endpoints, and connections
// after a solicited 101 Switching Protocols (sandbox.md "Egress proxy").

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdint>
#include <memory>

#include "proxy/server/connection_deadline.h"

namespace warden::proxy {

// Bytes moved, from the agent's point of view.
struct RelayCounters {
  uint64_t from_client = 0;  // the agent sent (bytes_out)
  uint64_t to_client = 0;    // the agent received (bytes_in)
};

// How a relay ended. EOF on both sides is a clean end (both errors empty).
struct RelayResult {
  boost::system::error_code client_error;    // reading from / writing to the client failed
  boost::system::error_code upstream_error;  // reading from / writing to the upstream failed
  bool timed_out = false;                    // no byte either way for the idle timeout
  bool used_splice = false;
};

inline constexpr size_t kRelayBufferBytes = 16 * 1024;

// Relays between two TCP sockets until both directions have ended (EOF is passed on as a
// half-close), either side fails (then both are cancelled), or nothing moves for `idle`.
// Uses splice(2) through a pipe per direction (no user-space copy, no user-space buffer while
// idle); falls back to relayStreams when pipes cannot be created. Both sockets must stay open for
// the duration; the caller's Deadline on_expire must cancel both. Never throws.
boost::asio::awaitable<RelayResult> relayTcp(boost::asio::ip::tcp::socket& client,
                                             boost::asio::ip::tcp::socket& upstream, Deadline& deadline,
                                             std::chrono::steady_clock::duration idle, RelayCounters& counters);

namespace detail {

struct RelayState {
  bool stop = false;
  RelayResult result;
};

// One direction of a buffered relay. `from_is_client` says which error slot a failure goes in.
template <typename From, typename To>
boost::asio::awaitable<void> copyDirection(From& from, To& to, bool from_is_client, uint64_t& counter,
                                           Deadline& deadline, std::chrono::steady_clock::duration idle,
                                           RelayState& state) {
  namespace asio = boost::asio;
  auto buffer = std::make_unique<char[]>(kRelayBufferBytes);
  for (;;) {
    auto [rec, n] = co_await from.async_read_some(asio::buffer(buffer.get(), kRelayBufferBytes),
                                                  asio::as_tuple(asio::use_awaitable));
    if (state.stop) co_return;
    if (rec) {
      if (rec == asio::error::eof || rec == asio::ssl::error::stream_truncated) {
        boost::system::error_code ignored;
        to.lowest_layer().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
        co_return;
      }
      if (deadline.expired()) {
        state.result.timed_out = true;
      } else {
        (from_is_client ? state.result.client_error : state.result.upstream_error) = rec;
      }
      state.stop = true;
      boost::system::error_code ignored;
      from.lowest_layer().cancel(ignored);
      to.lowest_layer().cancel(ignored);
      co_return;
    }
    deadline.touch(idle);
    auto [wec, written] = co_await asio::async_write(to, asio::buffer(buffer.get(), n),
                                                     asio::as_tuple(asio::use_awaitable));
    counter += written;
    if (state.stop) co_return;
    if (wec) {
      if (deadline.expired()) {
        state.result.timed_out = true;
      } else {
        (from_is_client ? state.result.upstream_error : state.result.client_error) = wec;
      }
      state.stop = true;
      boost::system::error_code ignored;
      from.lowest_layer().cancel(ignored);
      to.lowest_layer().cancel(ignored);
      co_return;
    }
    deadline.touch(idle);
  }
}

}  // namespace detail

// Buffered relay between any two Asio streams (TCP or TLS), same ending rules as relayTcp.
// Holds one 16 KiB buffer per direction.
template <typename Client, typename Upstream>
boost::asio::awaitable<RelayResult> relayStreams(Client& client, Upstream& upstream, Deadline& deadline,
                                                 std::chrono::steady_clock::duration idle,
                                                 RelayCounters& counters) {
  using namespace boost::asio::experimental::awaitable_operators;
  detail::RelayState state;
  deadline.expireAfter(idle, WaitPhase::kTunnelIdle);
  co_await (detail::copyDirection(client, upstream, true, counters.from_client, deadline, idle, state) &&
            detail::copyDirection(upstream, client, false, counters.to_client, deadline, idle, state));
  co_return state.result;
}

}  // namespace warden::proxy
