#include "detect/fleet_state.h"

#include <fmt/format.h>

namespace warden::detect {

Result<bool> InMemoryFleetState::recordSeen(std::string_view space, std::string_view value) {
  std::string key;
  key.reserve(space.size() + 1 + value.size());
  key.append(space);
  key.push_back('\n');
  key.append(value);
  std::lock_guard<std::mutex> lock(mu_);
  if (seen_.count(key) != 0) return false;
  if (seen_.size() >= max_entries_) {
    return resourceExhausted(fmt::format("the in-memory fleet state holds its limit of {} values", max_entries_));
  }
  seen_.insert(std::move(key));
  return true;
}

size_t InMemoryFleetState::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return seen_.size();
}

}  // namespace warden::detect
