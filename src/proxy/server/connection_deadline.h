#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>

namespace warden::proxy {

// What a connection was waiting for when its deadline passed; picks the answer (408, 504, close).
enum class WaitPhase {
  kIdle,           // between requests / before the first byte: close quietly
  kRequestHead,    // the client's request head did not complete in time: 408
  kRequestBody,    // the client stalled mid-body: close (the request was already forwarded)
  kResolve,        // DNS for the upstream: 504
  kConnect,        // TCP connect to the upstream: 504
  kTlsHandshake,   // TLS with the client or the upstream
  kResponse,       // the upstream's response did not come (or stalled): 504
  kExpectContinue, // no 100 Continue yet after an Expect head: send the body anyway
  kWrite,          // a peer did not read what we sent
  kTunnelIdle,     // a raw tunnel saw no bytes either way
};

std::string_view waitPhaseName(WaitPhase phase);

// One watchdog per connection, after Asio's timeout examples: a single steady_timer guards every
// wait of the connection. Callers move the deadline (expireAfter) before each wait, which is cheap
// (a store; the timer is re-armed only when the deadline moves earlier); when it passes, watch()
// marks it expired and calls `on_expire`, which cancels the connection's sockets so the pending
// wait completes with operation_aborted and the connection answers by phase().
//
// Single-threaded: every method runs on the connection's executor (one io_context thread).
// Lifetime: run as `co_await (session() || deadline.watch(...))` so the watcher ends with the
// connection and never outlives this object.
class Deadline {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Deadline(const boost::asio::any_io_executor& executor) : timer_(executor) {}

  // The deadline becomes now + `d` for a wait of kind `phase`. Clears a previous expiry.
  void expireAfter(Clock::duration d, WaitPhase phase);
  // Moves the deadline to now + `d`, keeping the phase: relays call it on every byte moved.
  void touch(Clock::duration d) {
    deadline_ = Clock::now() + d;
    if (deadline_ < armed_) timer_.cancel();
  }
  // No deadline (only while nothing waits, e.g. between a finished relay and the close).
  void disarm() { deadline_ = Clock::time_point::max(); }

  bool expired() const { return expired_; }
  WaitPhase phase() const { return phase_; }

  // Runs until cancelled (by the || with the session); never throws.
  boost::asio::awaitable<void> watch(std::function<void()> on_expire);

 private:
  boost::asio::steady_timer timer_;
  Clock::time_point deadline_ = Clock::time_point::max();
  Clock::time_point armed_ = Clock::time_point::max();
  WaitPhase phase_ = WaitPhase::kIdle;
  bool expired_ = false;
};

}  // namespace warden::proxy
