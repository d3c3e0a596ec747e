// Deadline: one timer per connection; expiry calls on_expire once per deadline, moving the deadline
// later postpones it, and cancelling the watcher ends it quietly.

#include "proxy/server/connection_deadline.h"

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace warden::proxy {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;

// Waits `d` on a timer (the "operation" the deadline guards); true when it ran to the end.
asio::awaitable<bool> operation(asio::steady_timer& op, std::chrono::milliseconds d) {
  op.expires_after(d);
  auto [ec] = co_await op.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return !ec;
}

TEST(ConnectionDeadlineTest, ExpiryCancelsTheWaitAndReportsThePhase) {
  asio::io_context io;
  Deadline deadline(io.get_executor());
  asio::steady_timer op(io);
  int expiries = 0;
  bool completed = true;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    deadline.expireAfter(50ms, WaitPhase::kResponse);
    co_await (
        [&]() -> asio::awaitable<void> { completed = co_await operation(op, 5000ms); }() ||
        deadline.watch([&] {
          ++expiries;
          op.cancel();
        }));
  }, asio::detached);
  const auto started = std::chrono::steady_clock::now();
  io.run();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  EXPECT_FALSE(completed);
  EXPECT_EQ(expiries, 1);
  EXPECT_TRUE(deadline.expired());
  EXPECT_EQ(deadline.phase(), WaitPhase::kResponse);
  EXPECT_EQ(waitPhaseName(deadline.phase()), "response");
}

TEST(ConnectionDeadlineTest, TouchPostponesExpiryAndAnEarlierDeadlineRearmsTheTimer) {
  asio::io_context io;
  Deadline deadline(io.get_executor());
  asio::steady_timer op(io);
  int expiries = 0;
  bool completed = false;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    deadline.expireAfter(10s, WaitPhase::kTunnelIdle);  // far away: the watcher sleeps until then
    co_await (
        [&]() -> asio::awaitable<void> {
          // Work that keeps touching a 100 ms deadline for 300 ms: never expires meanwhile.
          asio::steady_timer step(co_await asio::this_coro::executor);
          deadline.expireAfter(100ms, WaitPhase::kTunnelIdle);  // earlier: the watcher re-arms
          for (int i = 0; i < 6; ++i) {
            step.expires_after(50ms);
            co_await step.async_wait(asio::as_tuple(asio::use_awaitable));
            deadline.touch(100ms);
          }
          completed = !deadline.expired();
          // Then idle: the deadline passes within ~100 ms, not 10 s.
          co_await operation(op, 5000ms);
        }() ||
        deadline.watch([&] {
          ++expiries;
          op.cancel();
        }));
  }, asio::detached);
  const auto started = std::chrono::steady_clock::now();
  io.run();
  EXPECT_TRUE(completed);
  EXPECT_EQ(expiries, 1);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
}

TEST(ConnectionDeadlineTest, WatcherEndsWithoutExpiringWhenTheSessionEndsFirst) {
  asio::io_context io;
  Deadline deadline(io.get_executor());
  asio::steady_timer op(io);
  int expiries = 0;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    deadline.expireAfter(5s, WaitPhase::kIdle);
    co_await (operation(op, 20ms) || deadline.watch([&] { ++expiries; }));
  }, asio::detached);
  const auto started = std::chrono::steady_clock::now();
  io.run();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  EXPECT_EQ(expiries, 0);
  EXPECT_FALSE(deadline.expired());
}

}  // namespace
}  // namespace warden::proxy
