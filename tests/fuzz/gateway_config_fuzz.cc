// The gateway's YAML config file and the text of `warden settings set` values: both typed by people
// and read by the gateway, so parsed strictly and never trusted.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "gateway/settings/gateway_config.h"
#include "gateway/settings/settings_registry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<warden::gateway::ConfigDiagnostic> diagnostics;
  (void)warden::gateway::parseGatewayConfig(text, "gateway.yaml", &diagnostics);
  (void)warden::gateway::SettingsRegistry::builtin().parse("ocsf_json_enabled", text);
  return 0;
}
