#include "gateway/service/store_fleet_state.h"

#include "common/encoding.h"

namespace warden::gateway {

Result<bool> StoreFleetState::recordSeen(std::string_view space, std::string_view value) {
  std::string material;
  material.reserve(space.size() + 1 + value.size());
  material.append(space).append("\n").append(value);
  std::string key = sha256Hex(material);
  std::lock_guard lock(mu_);
  if (known_.contains(key)) return false;
  auto first = store_.recordFleetSighting(key);
  if (!first.ok()) return first.error().withContext("fleet memory");
  if (known_.size() >= max_cached_) known_.clear();  // a cache: the store stays the memory
  known_.insert(std::move(key));
  return *first;
}

}  // namespace warden::gateway
