#include "proxy/server/relay.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "common/unique_fd.h"

namespace warden::proxy {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// The most one splice moves while a tunnel is quiet: a pipe holds 64 KiB by default.
constexpr size_t kSpliceChunk = 64 * 1024;
// A direction that fills a whole chunk is a bulk transfer: its pipe grows to this (within the
// system's fs.pipe-max-size) so that each splice moves more per system call and wake-up. Idle
// tunnels keep the default, so 1,000 of them still cost little kernel memory.
constexpr int kBulkPipeBytes = 1024 * 1024;

struct Pipe {
  UniqueFd read;
  UniqueFd write;
  size_t chunk = kSpliceChunk;
  bool grown = false;
};

// Grows the pipe once; keeps the default size if the kernel refuses (pipe-max-size, user limits).
void growForBulk(Pipe& pipe) {
  pipe.grown = true;
  const int size = ::fcntl(pipe.write.get(), F_SETPIPE_SZ, kBulkPipeBytes);
  if (size > 0) pipe.chunk = static_cast<size_t>(size);
}

bool makePipe(Pipe* pipe) {
  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return false;
  pipe->read.reset(fds[0]);
  pipe->write.reset(fds[1]);
  return true;
}

void stopBoth(detail::RelayState& state, tcp::socket& a, tcp::socket& b) {
  state.stop = true;
  boost::system::error_code ignored;
  a.cancel(ignored);
  b.cancel(ignored);
}

// One direction: from -> pipe -> to. The pipe is drained completely before the next fill, so an
// EAGAIN on the fill means `from` has nothing to read (not that the pipe is full).
asio::awaitable<void> spliceDirection(tcp::socket& from, tcp::socket& to, bool from_is_client, Pipe& pipe,
                                      uint64_t& counter, Deadline& deadline,
                                      std::chrono::steady_clock::duration idle, detail::RelayState& state) {
  auto fail = [&](boost::system::error_code ec, bool on_from) {
    if (deadline.expired()) {
      state.result.timed_out = true;
    } else if (on_from == from_is_client) {
      if (!state.result.client_error) state.result.client_error = ec;
    } else {
      if (!state.result.upstream_error) state.result.upstream_error = ec;
    }
    stopBoth(state, from, to);
  };
  for (;;) {
    if (state.stop) co_return;
    const ssize_t in = ::splice(from.native_handle(), nullptr, pipe.write.get(), nullptr, pipe.chunk,
                                SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (in == 0) {  // EOF: pass the half-close on
      boost::system::error_code ignored;
      to.shutdown(tcp::socket::shutdown_send, ignored);
      co_return;
    }
    if (in < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) {
        fail(boost::system::error_code(errno, boost::system::system_category()), true);
        co_return;
      }
      auto [ec] = co_await from.async_wait(tcp::socket::wait_read, asio::as_tuple(asio::use_awaitable));
      if (state.stop) co_return;
      if (ec) {
        fail(ec, true);
        co_return;
      }
      continue;
    }
    deadline.touch(idle);
    if (!pipe.grown && static_cast<size_t>(in) == pipe.chunk) growForBulk(pipe);
    size_t in_pipe = static_cast<size_t>(in);
    while (in_pipe > 0) {
      const ssize_t out = ::splice(pipe.read.get(), nullptr, to.native_handle(), nullptr, in_pipe,
                                   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (out > 0) {
        in_pipe -= static_cast<size_t>(out);
        counter += static_cast<uint64_t>(out);
        deadline.touch(idle);
        continue;
      }
      if (out < 0 && errno == EINTR) continue;
      if (out < 0 && errno == EAGAIN) {
        auto [ec] = co_await to.async_wait(tcp::socket::wait_write, asio::as_tuple(asio::use_awaitable));
        if (state.stop) co_return;
        if (ec) {
          fail(ec, false);
          co_return;
        }
        continue;
      }
      fail(boost::system::error_code(out < 0 ? errno : EPIPE, boost::system::system_category()), false);
      co_return;
    }
  }
}

}  // namespace

asio::awaitable<RelayResult> relayTcp(tcp::socket& client, tcp::socket& upstream, Deadline& deadline,
                                      std::chrono::steady_clock::duration idle, RelayCounters& counters) {
  using namespace asio::experimental::awaitable_operators;
  Pipe up;
  Pipe down;
  if (!makePipe(&up) || !makePipe(&down)) {
    co_return co_await relayStreams(client, upstream, deadline, idle, counters);
  }
  boost::system::error_code ignored;
  client.native_non_blocking(true, ignored);
  upstream.native_non_blocking(true, ignored);
  detail::RelayState state;
  deadline.expireAfter(idle, WaitPhase::kTunnelIdle);
  co_await (spliceDirection(client, upstream, true, up, counters.from_client, deadline, idle, state) &&
            spliceDirection(upstream, client, false, down, counters.to_client, deadline, idle, state));
  state.result.used_splice = true;
  co_return state.result;
}

}  // namespace warden::proxy
