#pragma once

// The fleet rules' memory across sessions (detect::FleetState), kept in the gateway's store so a
// gateway restart does not forget what the fleet has seen (docs/detection.md "Fleet rules at the
// gateway"): `first_seen(dst_endpoint.hostname)` stays false for a domain some session contacted
// before the restart.
//
// Each sighting is one row keyed by SHA-256("<space>\n<value>") (EventStore::recordFleetSighting:
// fixed-size keys whatever the value, and no event content in clear in that table). Values already
// known in this process are answered from a bounded in-memory set without asking the store; a new
// value costs one insert. A store error is an Error: the engine disables the rule that asked and
// records it once (detect/fleet_state.h).
// Thread-safe (one mutex); borrows the store, which must outlive it.

#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

#include "detect/fleet_state.h"
#include "gateway/store/store.h"

namespace warden::gateway {

class StoreFleetState final : public detect::FleetState {
 public:
  explicit StoreFleetState(EventStore& store, size_t max_cached = 1'000'000) : store_(store), max_cached_(max_cached) {}

  Result<bool> recordSeen(std::string_view space, std::string_view value) override;

 private:
  EventStore& store_;
  const size_t max_cached_;
  std::mutex mu_;
  std::unordered_set<std::string> known_;  // Guarded by mu_. Keys the store holds (a cache of them).
};

}  // namespace warden::gateway
