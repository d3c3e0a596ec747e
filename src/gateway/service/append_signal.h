#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace warden::gateway {

// Wakes readers that follow the store (FollowLogs) when events were stored, instead of polling.
// A generation counter: notify() bumps it; a follower remembers the generation before it queries
// the store and, having read everything, waits until the generation moves on — so a push that lands
// between its query and its wait is never missed. close() wakes every waiter for good (shutdown).
// Thread-safe; never blocks for longer than a wait's deadline.
class AppendSignal {
 public:
  void notify();
  void close();
  uint64_t generation() const;
  bool closed() const;
  // Waits until generation() != seen, close(), or `deadline`; returns the generation then.
  uint64_t waitChange(uint64_t seen, std::chrono::steady_clock::time_point deadline) const;

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  uint64_t generation_ = 0;  // Guarded by mu_.
  bool closed_ = false;      // Guarded by mu_.
};

}  // namespace warden::gateway
