#include "ocsf/builder_support.h"

#include <algorithm>
#include <memory>

namespace warden::ocsf::detail {

namespace {

Disposition dispositionFor(Action a) {
  switch (a) {
    case Action::kAllowed: return Disposition::kAllowed;
    case Action::kDenied: return Disposition::kBlocked;
    case Action::kObserved: return Disposition::kDetected;  // audit mode: would-be deny, let through
    default: return Disposition::kOther;
  }
}

// Denied connections/requests and audit-mode would-be denials are policy violations: Medium.
Severity severityFor(Action a) {
  return (a == Action::kDenied || a == Action::kObserved) ? Severity::kMedium : Severity::kInformational;
}
}  // namespace

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// action_id, disposition_id, firewall_rule, status and status_detail from a decision.
void applyDecision(Event& e, const Decision& d) {
  e.action = d.action;
  e.disposition = dispositionFor(d.action);
  e.firewall_rule = FirewallRule{d.rule.empty() ? "-" : d.rule, d.engine};
  e.status = d.action == Action::kDenied ? Status::kFailure : Status::kSuccess;
  e.status_detail = d.reason;
  e.severity = std::max(e.severity, severityFor(d.action));
}

// A File with its name derived from the path when missing.
File withName(File f) {
  if (f.name.empty()) {
    const auto slash = f.path.rfind('/');
    f.name = slash == std::string::npos ? f.path : f.path.substr(slash + 1);
    if (f.name.empty()) f.name = f.path.empty() ? "-" : f.path;  // "/" itself
  }
  return f;
}

// A Process with every file name (its own and its ancestors') derived from the path when missing;
// the schema requires file.name. Ancestors that need no change stay shared.
Process withFileName(Process p) {
  if (p.file) p.file = withName(*p.file);
  if (p.parent_process) {
    bool needs = false;
    for (const Process* a = p.parent_process.get(); a != nullptr && !needs; a = a->parent_process.get()) {
      needs = a->file && a->file->name.empty();
    }
    if (needs) p.parent_process = std::make_shared<const Process>(withFileName(*p.parent_process));
  }
  return p;
}

void setActor(Event& e, const Process& actor) {
  e.actor = withFileName(actor);
  if (!actor.attribution.empty()) e.unmapped.set("actor_source", actor.attribution);
}

}  // namespace warden::ocsf::detail
