#include "gateway/settings/sandbox_config.h"

#include <variant>

namespace warden::gateway {

Result<SandboxConfig> SandboxConfigState::configFor(std::string_view session) const {
  auto both = settings_.effectiveWithRevision(session, kOcsfJsonEnabled);
  if (!both.ok()) return both.error();
  const auto* enabled = std::get_if<bool>(&both->first.value.v);
  if (enabled == nullptr) return internalError("ocsf_json_enabled does not hold a bool");
  return SandboxConfig{.config_revision = both->second, .ocsf_enabled = *enabled};
}

bool AppliedSandboxConfig::offer(const SandboxConfig& served) {
  if (!SandboxConfigState::isNewer(served, applied_.config_revision)) return false;
  applied_ = served;
  return true;
}

}  // namespace warden::gateway
