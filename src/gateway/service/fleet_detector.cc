#include "gateway/service/fleet_detector.h"

#include "gateway/service/store_fleet_state.h"

#include <fmt/format.h>

#include <utility>
#include <vector>

namespace warden::gateway {

Result<std::unique_ptr<FleetDetector>> FleetDetector::start(EventStore& store, const AppendSignal& signal,
                                                            audit::Emitter& trail,
                                                            std::shared_ptr<const detect::RuleSet> rules,
                                                            FleetDetectorOptions options) {
  if (!rules) return invalidArgument("fleet rules: no rule set");
  std::unique_ptr<FleetDetector> d(new FleetDetector(store, signal, trail, std::move(rules), std::move(options)));
  // Sessions already stored are followed from their end: their history was there before us.
  auto sessions = store.sessions();
  if (!sessions.ok()) return sessions.error().withContext("fleet rules: reading the sessions");
  for (const auto& s : *sessions) {
    auto highest = store.highestContiguous(s.id);
    if (!highest.ok()) return highest.error().withContext("fleet rules: reading session " + s.id);
    d->cursors_[s.id] = *highest;
  }
  d->thread_ = std::thread([self = d.get()] { self->run(); });
  return d;
}

FleetDetector::FleetDetector(EventStore& store, const AppendSignal& signal, audit::Emitter& trail,
                             std::shared_ptr<const detect::RuleSet> rules, FleetDetectorOptions options)
    : store_(store),
      signal_(signal),
      trail_(trail),
      options_(std::move(options)),
      engine_(std::move(rules), detect::EngineOptions{std::make_shared<StoreFleetState>(store), std::nullopt, {}}) {}

FleetDetector::~FleetDetector() { close(); }

void FleetDetector::close() {
  closing_ = true;
  if (thread_.joinable()) thread_.join();
}

FleetDetectorStats FleetDetector::stats() const {
  std::lock_guard lock(stats_mu_);
  return stats_;
}

void FleetDetector::run() {
  uint64_t seen = signal_.generation();
  while (!closing_ && !signal_.closed()) {
    scan();
    // The next wake: a change of the store's generation, at most every min_interval (pacing between
    // scans, not synchronisation); the waits' short deadline keeps close() prompt.
    std::this_thread::sleep_for(options_.min_interval);
    while (!closing_ && !signal_.closed()) {
      const uint64_t now = signal_.waitChange(seen, std::chrono::steady_clock::now() + std::chrono::milliseconds(250));
      if (now != seen) {
        seen = now;
        break;
      }
    }
  }
}

bool FleetDetector::scan() {
  auto fail = [&](const Error& error) {
    {
      std::lock_guard lock(stats_mu_);
      stats_.store_errors++;
    }
    if (!store_failing_) {
      trail_.operational(audit::Level::kWarn, "fleet-rules",
                         fmt::format("reading the store failed; retried at the next change: {}", error.toString()));
    }
    store_failing_ = true;
    return false;
  };
  auto sessions = store_.sessions();
  if (!sessions.ok()) return fail(sessions.error());
  detect::EngineOutput out;
  for (const auto& s : *sessions) {
    if (closing_) return true;
    if (s.id == options_.own_session) continue;
    auto highest = store_.highestContiguous(s.id);
    if (!highest.ok()) return fail(highest.error());
    uint64_t& cursor = cursors_[s.id];  // a new session starts at 0
    while (cursor < *highest && !closing_) {
      EventQuery q;
      q.session = s.id;
      q.after_sequence = cursor;
      q.limit = options_.page;
      auto events = store_.query(q);
      if (!events.ok()) return fail(events.error());
      if (events->empty()) break;
      uint64_t evaluated = 0;
      uint64_t findings = 0;
      for (const auto& e : *events) {
        if (e.sequence > *highest) break;  // beyond a gap: wait until it is filled
        engine_.evaluate(e.json, out);
        for (auto& finding : out.events) trail_.emit(std::move(finding));
        findings += out.actions.size();
        out.clear();
        cursor = e.sequence;
        evaluated++;
      }
      std::lock_guard lock(stats_mu_);
      stats_.evaluated += evaluated;
      stats_.findings += findings;
      if (evaluated == 0) break;
    }
  }
  if (store_failing_) trail_.operational(audit::Level::kInfo, "fleet-rules", "reading the store works again");
  store_failing_ = false;
  return true;
}

}  // namespace warden::gateway
