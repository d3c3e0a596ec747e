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
  auto previous = current_.exchange(std::move(next), std::memory_order_acq_rel);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return previous;
}

}  // namespace warden::policy
