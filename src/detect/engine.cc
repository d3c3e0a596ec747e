#include "detect/engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <exception>

#include "common/encoding.h"
#include "detect/evidence.h"
#include "detect/matcher.h"

namespace warden::detect {
namespace {

constexpr size_t kMaxTitleValueBytes = 200;
constexpr size_t kMaxTitleBytes = 512;
constexpr size_t kMaxAncestors = 64;

ocsf::RiskLevel riskOf(ocsf::Severity s) {
  switch (s) {
    case ocsf::Severity::kLow: return ocsf::RiskLevel::kLow;
    case ocsf::Severity::kMedium: return ocsf::RiskLevel::kMedium;
    case ocsf::Severity::kHigh: return ocsf::RiskLevel::kHigh;
    case ocsf::Severity::kCritical:
    case ocsf::Severity::kFatal: return ocsf::RiskLevel::kCritical;
    default: return ocsf::RiskLevel::kInfo;
  }
}

std::string cutText(std::string s, size_t max) {
  if (s.size() <= max) return s;
  s.resize(utf8PrefixLength(s, max));
  s += "...";
  return s;
}

// The process an event is about: `process` for Process Activity, else `actor.process`.
bool processOf(simdjson::dom::element event, int64_t class_uid, simdjson::dom::element& out) {
  if (class_uid == 1007) return event["process"].get(out) == simdjson::SUCCESS && out.is_object();
  return event.at_pointer("/actor/process").get(out) == simdjson::SUCCESS && out.is_object();
}

int64_t pidOf(simdjson::dom::element process) { return intAt(process, "pid", -1); }

}  // namespace

Engine::Engine(std::shared_ptr<const RuleSet> rules, EngineOptions options)
    : rules_(std::move(rules)),
      options_(std::move(options)),
      fleet_(options_.fleet ? options_.fleet : std::make_shared<InMemoryFleetState>()),
      disabled_(rules_->rules().size(), false),
      partial_limit_reported_(rules_->rules().size(), false) {}

ocsf::SessionContext Engine::contextOf(simdjson::dom::element event) const {
  if (options_.context) return *options_.context;
  ocsf::SessionContext ctx;
  simdjson::dom::element device;
  if (event["device"].get(device) == simdjson::SUCCESS) {
    ctx.hostname = stringAt(device, "hostname");
    simdjson::dom::element container;
    if (device["container"].get(container) == simdjson::SUCCESS) {
      ctx.session_id = stringAt(container, "uid");
      ctx.session_name = stringAt(container, "name");
      simdjson::dom::element image;
      if (container["image"].get(image) == simdjson::SUCCESS) ctx.image_name = stringAt(image, "name");
    }
  }
  simdjson::dom::element metadata;
  if (event["metadata"].get(metadata) == simdjson::SUCCESS) {
    const std::string correlation = stringAt(metadata, "correlation_uid");
    if (!correlation.empty()) ctx.session_id = correlation;
  }
  if (ctx.hostname.empty()) ctx.hostname = "unknown";
  return ctx;
}

EvalStatus Engine::evaluate(std::string_view json, EngineOutput& out) {
  ++stats_.events;
  ++clock_;
  simdjson::dom::element doc;
  if (parser_.parse(json.data(), json.size(), /*realloc_if_needed=*/true).get(doc) != simdjson::SUCCESS ||
      !doc.is_object()) {
    ++stats_.unparsable;
    return EvalStatus::kUnparsable;
  }
  const int64_t class_uid = intAt(doc, "class_uid", -1);
  const int ci = classIndex(class_uid);
  simdjson::dom::element analytic;
  const bool own_finding = class_uid == 2004 && doc.at_pointer("/finding_info/analytic").get(analytic) == simdjson::SUCCESS;
  if (ci < 0 || own_finding) {
    ++stats_.ignored;
    return EvalStatus::kIgnored;
  }
  std::string session;
  simdjson::dom::element metadata;
  if (doc["metadata"].get(metadata) == simdjson::SUCCESS) session = stringAt(metadata, "correlation_uid");
  if (session.empty()) {
    simdjson::dom::element container;
    if (doc.at_pointer("/device/container").get(container) == simdjson::SUCCESS) session = stringAt(container, "uid");
  }
  if (rules_->usesProcessTree() && class_uid == 1007 && intAt(doc, "activity_id", -1) == 1) {
    learnProcess(sessionFor(session, out, intAt(doc, "time", 0)), doc);
  }
  const auto& refs = rules_->forClass(ci);
  if (refs.empty()) {
    ++stats_.ignored;
    return EvalStatus::kIgnored;
  }
  for (const auto& ref : refs) {
    if (disabled_[ref.rule]) continue;
    handleStep(ref.rule, ref.step, doc, session, out);
  }
  ++stats_.evaluated;
  return EvalStatus::kEvaluated;
}

Engine::SessionState& Engine::sessionFor(const std::string& session, EngineOutput& out, int64_t time) {
  auto it = sessions_.find(session);
  if (it == sessions_.end()) {
    if (sessions_.size() >= options_.limits.max_sessions) {
      auto oldest = std::min_element(sessions_.begin(), sessions_.end(), [](const auto& a, const auto& b) {
        return a.second.last_used < b.second.last_used;
      });
      sessions_.erase(oldest);
      ++stats_.sessions_evicted;
      if (!session_limit_reported_) {
        session_limit_reported_ = true;
        ocsf::SessionContext ctx = options_.context.value_or(ocsf::SessionContext{"unknown", session});
        ocsf::OperationalInput in;
        in.severity = ocsf::Severity::kMedium;
        in.name = "Detection Limit";
        in.message = fmt::format("detection state for more than {} sessions: the least recently active one's is dropped",
                                 options_.limits.max_sessions);
        out.events.push_back(ocsf::operationalEvent(ctx, time, in));
      }
    }
    it = sessions_.emplace(session, SessionState{}).first;
  }
  it->second.last_used = clock_;
  return it->second;
}

void Engine::learnProcess(SessionState& s, simdjson::dom::element event) {
  simdjson::dom::element process;
  if (event["process"].get(process) != simdjson::SUCCESS) return;
  // The whole parent chain the event carries: pid -> ppid at each level.
  for (size_t depth = 0; depth < kMaxAncestors; ++depth) {
    simdjson::dom::element parent;
    if (process["parent_process"].get(parent) != simdjson::SUCCESS || !parent.is_object()) return;
    const int64_t pid = pidOf(process);
    const int64_t ppid = pidOf(parent);
    if (pid < 0 || ppid < 0) return;
    if (s.parent_of.size() >= options_.limits.max_pids_per_session && s.parent_of.count(pid) == 0) {
      // A bounded table: start over (older processes lose their ancestry; counted in the stats).
      s.parent_of.clear();
    }
    s.parent_of[pid] = ppid;
    process = parent;
  }
}

void Engine::handleStep(uint32_t ri, uint32_t step, simdjson::dom::element doc, const std::string& session,
                        EngineOutput& out) {
  const CompiledRule& rule = rules_->rules()[ri];
  Result<bool> matched = false;
  try {
    matched = detect::evaluate(rule.steps[step], doc, *fleet_);
  } catch (const std::exception& e) {
    // Nothing in the matcher throws; a third-party surprise disables the rule, not the session.
    matched = internalError(fmt::format("rule evaluation threw: {}", e.what()));
  }
  if (!matched.ok()) {
    disable(ri, matched.error(), doc, out);
    return;
  }
  if (!matched.value()) return;
  const int64_t time = intAt(doc, "time", 0);
  const int64_t class_uid = intAt(doc, "class_uid", -1);

  if (rule.kind == CompiledRule::Kind::kCondition) {
    std::vector<Evidence> ev(1);
    ev[0].value = evidenceFrom(doc);
    ev[0].profiles = evidenceProfiles(doc);
    fire(rule, doc, std::move(ev), out);
    return;
  }

  SessionState& s = sessionFor(session, out, time);
  simdjson::dom::element process;
  const bool has_process = processOf(doc, class_uid, process);
  const int64_t pid = has_process ? pidOf(process) : -1;

  if (rule.kind == CompiledRule::Kind::kThreshold) {
    std::string key = std::to_string(ri);
    if (rule.same == Same::kProcess) key += ":" + std::to_string(pid);
    ThresholdState& t = s.thresholds[key];
    if (time < t.quiet_until) return;
    const int64_t count = intAt(doc, "count", 1);  // a coalesced event stands for `count` occurrences
    const uint64_t weight = count > 0 ? static_cast<uint64_t>(count) : 1;
    while (!t.window.empty() && t.window.front().first < time - rule.within_ms) {
      t.total -= t.window.front().second;
      t.window.pop_front();
      t.first.reset();
    }
    if (!t.first) {
      Evidence first;
      first.value = evidenceFrom(doc);
      first.profiles = evidenceProfiles(doc);
      t.first = std::move(first);
      // The window now starts here: older entries would otherwise be counted without evidence.
      t.window.clear();
      t.total = 0;
    }
    t.window.emplace_back(time, weight);
    t.total += weight;
    if (t.total < rule.threshold) return;
    std::vector<Evidence> ev;
    ev.push_back(std::move(*t.first));
    if (t.window.size() > 1) {
      Evidence last;
      last.value = evidenceFrom(doc);
      last.profiles = evidenceProfiles(doc);
      ev.push_back(std::move(last));
    }
    t.window.clear();
    t.total = 0;
    t.first.reset();
    t.quiet_until = time + rule.within_ms;
    fire(rule, doc, std::move(ev), out);
    return;
  }

  // A sequence. Ancestors of this event's process: from the event, then the session's pid table.
  std::vector<int64_t> ancestors;
  if (has_process) {
    simdjson::dom::element p = process;
    for (size_t d = 0; d < kMaxAncestors; ++d) {
      simdjson::dom::element parent;
      if (p["parent_process"].get(parent) != simdjson::SUCCESS || !parent.is_object()) break;
      const int64_t ppid = pidOf(parent);
      if (ppid < 0) break;
      ancestors.push_back(ppid);
      p = parent;
    }
    int64_t cursor = ancestors.empty() ? pid : ancestors.back();
    while (cursor >= 0 && ancestors.size() < kMaxAncestors) {
      const auto it = s.parent_of.find(cursor);
      if (it == s.parent_of.end() || it->second == cursor) break;
      if (std::find(ancestors.begin(), ancestors.end(), it->second) != ancestors.end() || it->second == pid) break;
      ancestors.push_back(it->second);
      cursor = it->second;
    }
  }
  auto& list = s.partials[ri];
  // Expire what the window has passed.
  while (!list.empty() && list.front().first_time < time - rule.within_ms) list.pop_front();

  if (step == 0) {
    Partial p;
    Evidence e;
    e.value = evidenceFrom(doc);
    e.profiles = evidenceProfiles(doc);
    p.steps.push_back(std::move(e));
    p.first_time = time;
    p.pid = pid;
    p.ancestors = std::move(ancestors);
    if (rule.join_first) {
      rule.join_first->any(doc, [&](simdjson::dom::element v) {
        if (p.join_values.size() < 64) p.join_values.push_back(scalarText(v));
        return false;
      });
      if (p.join_values.empty()) return;  // nothing to join on: this start can never complete
    }
    list.push_back(std::move(p));
    if (list.size() > options_.limits.max_partials_per_rule) {
      list.pop_front();
      ++stats_.partials_evicted;
      if (!partial_limit_reported_[ri]) {
        partial_limit_reported_[ri] = true;
        ocsf::OperationalInput in;
        in.severity = ocsf::Severity::kMedium;
        in.name = "Detection Limit";
        in.message = fmt::format("rule '{}': more than {} sequence starts pending in one session; the oldest are dropped",
                                 rule.name, options_.limits.max_partials_per_rule);
        in.unmapped.set("rule", rule.name);
        out.events.push_back(ocsf::operationalEvent(contextOf(doc), time, in));
      }
    }
    return;
  }

  auto related = [&](const Partial& p) {
    switch (rule.same) {
      case Same::kSession: return true;
      case Same::kProcess: return p.pid >= 0 && p.pid == pid;
      case Same::kProcessTree: {
        if (p.pid < 0 || pid < 0) return false;
        auto inChainB = [&](int64_t x) {
          return x == pid || std::find(ancestors.begin(), ancestors.end(), x) != ancestors.end();
        };
        if (inChainB(p.pid)) return true;                              // B is A or below it
        if (!p.ancestors.empty() && inChainB(p.ancestors.front())) return true;  // B is below A's parent
        return std::find(p.ancestors.begin(), p.ancestors.end(), pid) != p.ancestors.end();  // B is above A
      }
    }
    return false;
  };
  const bool last = step + 1 == rule.steps.size();
  std::vector<std::string> join_values;
  if (last && rule.join_last) {
    rule.join_last->any(doc, [&](simdjson::dom::element v) {
      if (join_values.size() < 64) join_values.push_back(scalarText(v));
      return false;
    });
  }
  auto joins = [&](const Partial& p) {
    if (!(last && rule.join_last)) return true;
    for (const auto& v : join_values) {
      if (std::find(p.join_values.begin(), p.join_values.end(), v) != p.join_values.end()) return true;
    }
    return false;
  };
  auto fits = [&](const Partial& p) {
    return p.steps.size() == step && time >= p.first_time && related(p) && joins(p);
  };
  // The most recent start that this event continues.
  auto hit = std::find_if(list.rbegin(), list.rend(), fits);
  if (hit == list.rend()) return;
  Evidence e;
  e.value = evidenceFrom(doc);
  e.profiles = evidenceProfiles(doc);
  if (!last) {
    hit->steps.push_back(std::move(e));
    return;
  }
  std::vector<Evidence> ev = std::move(hit->steps);
  hit->steps.clear();  // marks it for removal below
  ev.push_back(std::move(e));
  // Every other pending start this event would complete goes with it: one finding per burst.
  list.erase(std::remove_if(list.begin(), list.end(), [&](const Partial& p) { return p.steps.empty() || fits(p); }),
             list.end());
  fire(rule, doc, std::move(ev), out);
}

void Engine::fire(const CompiledRule& rule, simdjson::dom::element trigger, std::vector<Evidence> evidence,
                  EngineOutput& out) {
  std::string title;
  size_t path_index = 0;
  for (const auto& piece : rule.title) {
    if (!piece.is_path) {
      title += piece.text;
      continue;
    }
    std::string value = "-";
    rule.title_paths[path_index++].any(trigger, [&](simdjson::dom::element v) {
      value = scalarText(v);
      return true;
    });
    title += cutText(std::move(value), kMaxTitleValueBytes);
  }
  ocsf::FindingInput in;
  in.title = cutText(std::move(title), kMaxTitleBytes);
  in.desc = rule.desc;
  in.types = {rule.name};
  in.detection_rule = rule.name;
  in.disposition = std::nullopt;
  in.attacks = rule.attacks;
  in.evidences = ocsf::Value::array();
  uint8_t profiles = 0;
  for (auto& e : evidence) {
    in.evidences.push(std::move(e.value));
    profiles |= e.profiles;
  }
  in.is_alert = rule.severity >= ocsf::Severity::kMedium || rule.action != ActionKind::kAlert;
  in.confidence = rule.confidence;
  in.risk_level = riskOf(rule.severity);
  in.severity = rule.severity;
  const ocsf::SessionContext ctx = contextOf(trigger);
  ocsf::Event finding = ocsf::finding(ctx, intAt(trigger, "time", 0), in);
  finding.metadata.profiles |= profiles;
  if (rule.action != ActionKind::kAlert) finding.unmapped.set("action", std::string(actionName(rule.action)));

  RuleAction action;
  action.kind = rule.action;
  action.rule = rule.name;
  action.session_id = ctx.session_id;
  action.finding_uid = finding.finding_info->uid;
  simdjson::dom::element metadata;
  if (trigger["metadata"].get(metadata) == simdjson::SUCCESS) {
    action.trigger_uid = stringAt(metadata, "uid");
    const int64_t seq = intAt(metadata, "sequence", 0);
    action.trigger_sequence = seq > 0 ? static_cast<uint64_t>(seq) : 0;
  }
  out.events.push_back(std::move(finding));
  out.actions.push_back(std::move(action));
  ++stats_.findings;
}

void Engine::disable(uint32_t ri, const Error& error, simdjson::dom::element event, EngineOutput& out) {
  disabled_[ri] = true;
  ++stats_.rules_disabled;
  const CompiledRule& rule = rules_->rules()[ri];
  disabled_names_.push_back(rule.name);
  ocsf::ConfigChange change;
  change.state = std::string(ocsf::kConfigDegraded);
  change.message = cutText(fmt::format("detection rule '{}' disabled: {}", rule.name, error.message()), 256);
  change.errors = {fmt::format("rule '{}' ({}:{}:{}): {}", rule.name, rule.file, rule.pos.line, rule.pos.column,
                               error.toString())};
  out.events.push_back(ocsf::configChange(contextOf(event), intAt(event, "time", 0), change));
}

}  // namespace warden::detect
