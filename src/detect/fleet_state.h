#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

#include "common/result.h"

namespace warden::detect {

// Memory that outlives one session, for fleet conditions such as
// `first_seen(dst_endpoint.hostname)` (a domain no session contacted before) or
// `first_seen(app.name, app.version)` (a package version never installed before).
//
// The gateway implements it over its store (every session's events); a live session without a
// gateway, `warden rules test` and the tests use InMemoryFleetState. Implementations are
// thread-safe: one engine per session calls them, and several engines may share one.
class FleetState {
 public:
  virtual ~FleetState() = default;

  // Records `value` in the key space `space` (one per rule and field list, so two rules never
  // consume each other's sightings) and says whether this is the first time any session
  // recorded it. An Error (the store failed, the state is full) disables the rule that asked:
  // it is recorded once and evaluation goes on without it.
  virtual Result<bool> recordSeen(std::string_view space, std::string_view value) = 0;
};

// FleetState in memory: a hash set of (space, value), bounded. Full: ResourceExhausted, so a
// rule that would grow it without bound is disabled with a recorded error instead of eating
// the supervisor's memory. Thread-safe (one mutex).
class InMemoryFleetState final : public FleetState {
 public:
  explicit InMemoryFleetState(size_t max_entries = 1'000'000) : max_entries_(max_entries) {}

  Result<bool> recordSeen(std::string_view space, std::string_view value) override;
  size_t size() const;

 private:
  const size_t max_entries_;
  mutable std::mutex mu_;
  std::unordered_set<std::string> seen_;  // Guarded by mu_. "<space>\n<value>"
};

}  // namespace warden::detect
