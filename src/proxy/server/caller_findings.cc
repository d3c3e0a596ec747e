#include "proxy/server/caller_findings.h"

#include <fmt/format.h>

#include <string>

namespace warden::proxy {
namespace {

// "<exe> (pid N): sign; sign" for every holder that shows a sign.
std::string describeSigns(const CallerInfo& caller) {
  std::string out;
  auto add = [&out](const CallerInfo& holder) {
    if (holder.injection.empty()) return;
    if (!out.empty()) out += "; ";
    out += fmt::format("{} (pid {}): ", holder.executable.empty() ? holder.name : holder.executable, holder.pid);
    for (size_t i = 0; i < holder.injection.size(); ++i) {
      if (i > 0) out += ", ";
      out += holder.injection[i];
    }
  };
  add(caller);
  for (const auto& other : caller.other_holders) add(other);
  return out;
}

}  // namespace

ocsf::Event injectionFinding(const ocsf::SessionContext& session, int64_t time, const CallerInfo& caller,
                             const std::optional<ocsf::Process>& actor, const ocsf::Decision& decision,
                             std::string_view target, ocsf::Value evidence) {
  const bool blocked = decision.action == ocsf::Action::kDenied;
  ocsf::FindingInput f;
  f.title = "Allowed binary runs with injected code";
  f.desc = fmt::format("{} connecting to {}; the connection was {}", describeSigns(caller), target,
                       blocked ? "denied (" + decision.reason + ")"
                               : std::string("allowed (the binaries entry says injected: alert)"));
  f.types = {"injected-code"};
  f.attacks = {ocsf::Attack{"T1574.006", "Dynamic Linker Hijacking", "TA0005", "Defense Evasion"}};
  f.evidences = ocsf::Value(ocsf::Value::Array{std::move(evidence)});
  f.remediation = blocked ? std::string()
                          : "Say `injected: deny` on the binaries entry to refuse such processes; find what set "
                            "the loader variable or loaded the code";
  f.disposition = blocked ? ocsf::Disposition::kBlocked : ocsf::Disposition::kAllowed;
  f.actor = actor;
  f.rule = ocsf::FirewallRule{decision.rule, decision.engine};
  return ocsf::finding(session, time, f);
}

}  // namespace warden::proxy
