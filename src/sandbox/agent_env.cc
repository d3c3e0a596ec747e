#include "sandbox/agent_env.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <string_view>

#include "common/encoding.h"

namespace warden::sandbox {
namespace {

constexpr std::string_view kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// Names the sandbox sets itself, or that would load code or route traffic around it.
bool reserved(std::string_view name) {
  static constexpr std::string_view kReserved[] = {
      "HTTP_PROXY",    "HTTPS_PROXY",     "ALL_PROXY",          "NO_PROXY",       "FTP_PROXY",
      "SSL_CERT_FILE", "SSL_CERT_DIR",    "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "GIT_SSL_CAINFO",
      "NODE_EXTRA_CA_CERTS", "NODE_USE_ENV_PROXY", "HOME",      "USER",           "LOGNAME",
      "LD_PRELOAD",    "LD_LIBRARY_PATH", "LD_AUDIT",           "BASH_ENV",       "ENV",
      "PROMPT_COMMAND", "WARDEN_SESSION_ID",
  };
  const std::string key = upper(name);
  return std::find(std::begin(kReserved), std::end(kReserved), key) != std::end(kReserved);
}


Result<void> checkSettable(std::string_view name, std::string_view where) {
  if (!isEnvironmentName(name)) return invalidArgument(fmt::format("{}: '{}' is not a variable name", where, name));
  if (reserved(name)) {
    return invalidArgument(fmt::format("{}: {} is set by the sandbox or would load code from outside it; it cannot be "
                                       "given to the agent",
                                       where, name));
  }
  return okResult();
}

}  // namespace

bool allowListedVariable(std::string_view name) {
  return name == "PATH" || name == "LANG" || name == "LANGUAGE" || name.starts_with("LC_") || name == "TERM" ||
         name == "COLORTERM" || name == "TZ";
}

Result<std::vector<std::string>> buildAgentEnv(const AgentEnvInput& input) {
  std::map<std::string, std::string> inherited;
  for (const std::string& entry : input.inherited) {
    const size_t eq = entry.find('=');
    if (eq == std::string::npos || eq == 0) continue;  // not a variable
    inherited.emplace(entry.substr(0, eq), entry.substr(eq + 1));  // the first definition wins, as getenv()
  }
  std::map<std::string, std::string> env;
  for (const auto& [name, value] : inherited) {
    if (allowListedVariable(name)) env[name] = value;
  }
  for (const std::string& request : input.requested) {
    const size_t eq = request.find('=');
    const std::string name = request.substr(0, eq);
    WARDEN_RETURN_IF_ERROR(checkSettable(name, "--env"));
    if (eq != std::string::npos) {
      env[name] = request.substr(eq + 1);
    } else if (const auto it = inherited.find(name); it != inherited.end()) {
      env[name] = it->second;
    }
  }
  for (const auto& [name, value] : input.policy) {
    WARDEN_RETURN_IF_ERROR(checkSettable(name, "process.env"));
    env[name] = value;
  }
  if (!env.contains("PATH")) env["PATH"] = std::string(kDefaultPath);
  for (const char* name : {"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"}) {
    env[name] = input.proxy_url;
  }
  env["NO_PROXY"] = env["no_proxy"] = "localhost,127.0.0.1,::1";
  env["NODE_USE_ENV_PROXY"] = "1";
  for (const char* name : {"SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "GIT_SSL_CAINFO"}) {
    env[name] = input.ca_bundle;
  }
  env["NODE_EXTRA_CA_CERTS"] = input.ca_certificate;
  env["HOME"] = input.home;
  env["USER"] = env["LOGNAME"] = input.user;
  env["WARDEN_SESSION_ID"] = input.session_id;
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [name, value] : env) out.push_back(name + "=" + value);
  return out;
}

}  // namespace warden::sandbox
