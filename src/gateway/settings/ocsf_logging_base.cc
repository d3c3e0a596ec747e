// baseOcsfEnabled() and the WARDEN_OCSF_LOGGING parser (declared in gateway_config.h).
#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "gateway/settings/gateway_config.h"

namespace warden::gateway {

Result<std::optional<bool>> parseOcsfLoggingEnv(const char* value) {
  if (value == nullptr) return std::optional<bool>();
  std::string v(value);
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  if (v == "1" || v == "true" || v == "yes") return std::optional<bool>(true);
  if (v == "0" || v == "false" || v == "no") return std::optional<bool>(false);
  std::string shown;
  for (const char ch : std::string_view(value).substr(0, 40)) {
    const auto c = static_cast<unsigned char>(ch);
    shown += (c < 0x20 || c == 0x7f) ? fmt::format("\\x{:02x}", c) : std::string(1, ch);
  }
  return invalidArgument(fmt::format("{}='{}' is not understood; use 1, 0, true, false, yes or no (any case), "
                                     "or unset it",
                                     kOcsfLoggingEnv, shown));
}

Result<bool> baseOcsfEnabled(std::optional<bool> config_file_value, bool flag, const char* env_value) {
  auto env = parseOcsfLoggingEnv(env_value);
  if (!env.ok()) return env.error();
  if (config_file_value) return *config_file_value;
  if (flag) return true;
  if (*env) return **env;
  return false;
}

}  // namespace warden::gateway
