#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "policy/model.h"

namespace warden::policy {

// Holds the policy in force as an immutable snapshot and replaces it atomically on reload.
//
// Thread-safe: any number of threads may call current() while one (or more) calls swap().
// current() never blocks on a mutex (std::atomic<std::shared_ptr>); the returned snapshot stays
// valid for as long as the caller holds it, even after a swap, so a connection keeps the policy
// it was decided under (and Decision::endpoint pointers into it) alive. Validation of a new
// policy happens before swap(), outside this class: a policy that failed to load never gets here.
//
// Listeners (addListener) are told of every swap, on the swapping thread, after the new policy is
// in force; swaps and listener calls are serialised by one mutex (current() never takes it).
class PolicyStore {
 public:
  // Called with the policy just put in force and its generation. Must not call swap(),
  // addListener() or removeListener() (they take the same mutex); should be quick.
  using Listener = std::function<void(const std::shared_ptr<const Policy>& policy, uint64_t generation)>;

  // Starts with an empty policy: no network rules, so no egress.
  PolicyStore();
  // Starts with `initial`; a null pointer is replaced by the empty policy.
  explicit PolicyStore(std::shared_ptr<const Policy> initial);

  PolicyStore(const PolicyStore&) = delete;
  PolicyStore& operator=(const PolicyStore&) = delete;

  // The policy in force; never null.
  std::shared_ptr<const Policy> current() const;

  // Puts `next` in force for every later current() and returns the one it replaced. A null
  // `next` is ignored (returns the current one, generation unchanged).
  std::shared_ptr<const Policy> swap(std::shared_ptr<const Policy> next);

  // 1 for the initial policy, +1 on every swap.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  // Registers `listener` for every later swap; returns its id for removeListener(). Thread-safe.
  uint64_t addListener(Listener listener);
  // Unregisters; when it returns, the listener is not running and will not run again.
  void removeListener(uint64_t id);

 private:
  std::atomic<std::shared_ptr<const Policy>> current_;
  std::atomic<uint64_t> generation_{1};
  std::mutex listeners_mu_;                   // serialises swap() with listener changes
  std::map<uint64_t, Listener> listeners_;    // Guarded by listeners_mu_.
  uint64_t next_listener_ = 1;                // Guarded by listeners_mu_.
};

}  // namespace warden::policy
