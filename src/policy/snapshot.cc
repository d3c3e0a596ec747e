#include "policy/snapshot.h"

namespace warden::policy {

PolicyStore::PolicyStore() : PolicyStore(nullptr) {}

PolicyStore::PolicyStore(std::shared_ptr<const Policy> initial)
    : current_(initial ? std::move(initial) : std::make_shared<const Policy>()) {}

std::shared_ptr<const Policy> PolicyStore::current() const {
  return current_.load(std::memory_order_acquire);
}

std::shared_ptr<const Policy> PolicyStore::swap(std::shared_ptr<const Policy> next) {
  if (!next) return current();
  std::lock_guard lock(listeners_mu_);
  const std::shared_ptr<const Policy> installed = next;
  auto previous = current_.exchange(std::move(next), std::memory_order_acq_rel);
  const uint64_t generation = generation_.fetch_add(1, std::memory_order_acq_rel) + 1;
  for (const auto& [id, listener] : listeners_) listener(installed, generation);
  return previous;
}

uint64_t PolicyStore::addListener(Listener listener) {
  std::lock_guard lock(listeners_mu_);
  const uint64_t id = next_listener_++;
  listeners_.emplace(id, std::move(listener));
  return id;
}

void PolicyStore::removeListener(uint64_t id) {
  std::lock_guard lock(listeners_mu_);
  listeners_.erase(id);
}

}  // namespace warden::policy
