#pragma once

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "detect/fleet_state.h"
#include "detect/rule_set.h"
#include "ocsf/builders.h"
#include "ocsf/event.h"
#include "ocsf/value.h"

namespace warden::detect {

// What a rule asks the supervisor to do when it fires. The finding itself is already among the
// engine's output events; for kAlert nothing else needs doing. kKill: stop the session now with
// reason policy_violation and SESSION:STOP naming `rule` (ocsf::SessionInput::rule); kPause:
// freeze it (`warden session resume` continues).
struct RuleAction {
  ActionKind kind = ActionKind::kAlert;
  std::string rule;
  std::string session_id;        // the triggering event's session (metadata.correlation_uid)
  std::string finding_uid;       // finding_info.uid of the finding it goes with
  std::string trigger_uid;       // metadata.uid of the triggering event
  uint64_t trigger_sequence = 0;  // its metadata.sequence (0 when it had none)
};

// Everything one event produced, in order: findings (Detection Finding), and CONFIG:DEGRADED
// when a rule failed at run time and was disabled. The caller emits `events` through its
// audit::Emitter and carries out `actions`.
struct EngineOutput {
  std::vector<ocsf::Event> events;
  std::vector<RuleAction> actions;
  void clear() {
    events.clear();
    actions.clear();
  }
};

enum class EvalStatus {
  kEvaluated,  // tested against every rule that can match its class
  kIgnored,    // a finding a rule made (rules never see their own output), or a class no rule watches
  kUnparsable, // not a JSON object: counted, nothing evaluated
};

struct EngineStats {
  uint64_t events = 0;       // evaluate() calls
  uint64_t evaluated = 0;
  uint64_t ignored = 0;
  uint64_t unparsable = 0;
  uint64_t findings = 0;
  uint64_t rules_disabled = 0;      // rules that failed at run time
  uint64_t partials_evicted = 0;    // sequence starts dropped at the per-rule bound (the first per rule recorded)
  uint64_t sessions_evicted = 0;    // per-session state dropped at the session bound (the first recorded)
};

struct EngineLimits {
  size_t max_partials_per_rule = 4096;   // pending sequence starts per rule and session
  size_t max_sessions = 1024;            // sessions with state at once (the gateway's fleet stream)
  size_t max_pids_per_session = 65536;   // the pid -> parent table for `same: process_tree`
};

struct EngineOptions {
  // Memory across sessions for first_seen(). nullptr: the engine keeps its own in memory (then
  // "first seen" means first seen by this engine: one session live, one trail offline).
  std::shared_ptr<FleetState> fleet;
  // The context findings are built with. nullopt: taken from the triggering event itself
  // (device.hostname, device.container, metadata.correlation_uid), so a finding belongs to the
  // same session as its evidence — live, offline and at the gateway alike.
  std::optional<ocsf::SessionContext> context;
  EngineLimits limits;
};

// The detection engine: events in, findings and actions out (detect.md "Rules"). Pure: no
// clock, no I/O, no threads; time is the events' own `time`, so replaying a trail gives the same
// findings as the live session did.
//
// Input is the canonical OCSF JSON of one event, exactly as the audit writer rendered it (and as
// the JSONL trail and the gateway hold it): metadata.sequence and uid are there, the chain is
// not disturbed, and a rule's field paths are the JSON paths everybody else sees. Each event is
// parsed once (simdjson) and tested only against the rules indexed under its class_uid.
// A rule that fails at run time (its fleet state errs) is disabled and recorded once
// (CONFIG:DEGRADED); the others go on.
//
// Ownership: shares the immutable RuleSet. Threads: one thread at a time (the parser and the
// sequence, threshold and process-tree state are the engine's own); use one engine per stream.
class Engine {
 public:
  explicit Engine(std::shared_ptr<const RuleSet> rules, EngineOptions options = {});
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Evaluates one event; appends what it produced to `out` (not cleared).
  EvalStatus evaluate(std::string_view canonical_json, EngineOutput& out);

  const EngineStats& stats() const { return stats_; }
  const RuleSet& rules() const { return *rules_; }
  // Names of the rules disabled at run time, in the order it happened.
  const std::vector<std::string>& disabledRules() const { return disabled_names_; }

  // One triggering event, as kept for evidence.
  struct Evidence {
    std::string uid;
    uint64_t sequence = 0;
    int64_t time = 0;
    ocsf::Value value;     // the evidences[] object
    uint8_t profiles = 0;  // ocsf::Profile bits the finding must declare for it (evidenceProfiles)
  };

 private:
  struct Partial {
    std::vector<Evidence> steps;
    int64_t first_time = 0;
    int64_t pid = -1;                 // the first step's process
    std::vector<int64_t> ancestors;   // its parent chain (nearest first)
    std::vector<std::string> join_values;
  };
  struct ThresholdState {
    std::deque<std::pair<int64_t, uint64_t>> window;  // (time, weight)
    uint64_t total = 0;
    std::optional<Evidence> first;
    int64_t quiet_until = INT64_MIN;  // fired: no new finding for this key until then
  };
  struct SessionState {
    uint64_t last_used = 0;
    std::unordered_map<int64_t, int64_t> parent_of;                      // pid -> ppid
    std::unordered_map<uint32_t, std::deque<Partial>> partials;          // rule -> pending starts
    std::unordered_map<std::string, ThresholdState> thresholds;          // rule + key -> window
  };

  SessionState& sessionFor(const std::string& session, EngineOutput& out, int64_t time);
  void learnProcess(SessionState& s, simdjson::dom::element event);
  void handleStep(uint32_t rule_index, uint32_t step, simdjson::dom::element event, const std::string& session,
                  EngineOutput& out);
  void fire(const CompiledRule& rule, simdjson::dom::element trigger, std::vector<Evidence> evidence, EngineOutput& out);
  void disable(uint32_t rule_index, const Error& error, simdjson::dom::element event, EngineOutput& out);
  ocsf::SessionContext contextOf(simdjson::dom::element event) const;

  std::shared_ptr<const RuleSet> rules_;
  EngineOptions options_;
  std::shared_ptr<FleetState> fleet_;
  simdjson::dom::parser parser_;
  std::vector<bool> disabled_;
  std::vector<std::string> disabled_names_;
  std::vector<bool> partial_limit_reported_;
  bool session_limit_reported_ = false;
  std::unordered_map<std::string, SessionState> sessions_;
  uint64_t clock_ = 0;  // evaluate() count, for least-recently-used session eviction
  EngineStats stats_;
};

}  // namespace warden::detect
