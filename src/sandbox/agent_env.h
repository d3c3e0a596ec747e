#pragma once

// The agent's environment (sandbox.md "Isolation"): what the agent inherits from the invoking shell,
// minus anything that could point it around the sandbox, plus the proxy and CA variables.

#include <string>
#include <vector>

namespace warden::sandbox {

struct AgentEnvInput {
  std::vector<std::string> inherited;  // "K=V" from the invoking process (environ)
  std::string proxy_url;               // "http://10.200.7.1:3128"
  std::string ca_bundle;               // system roots + the session CA
  std::string ca_certificate;          // the session CA alone (NODE_EXTRA_CA_CERTS)
  std::string home;                    // the agent user's home
  std::string user;                    // the agent user's name
  std::string session_id;
};

// Builds the complete environment, sorted by name, one entry per name:
// - kept from `inherited`: everything except the proxy variables (any case), the CA-bundle variables,
//   HOME/USER/LOGNAME, and variables that change how the dynamic linker or a shell loads code from
//   outside the sandbox's view (LD_PRELOAD, LD_LIBRARY_PATH, LD_AUDIT, BASH_ENV, ENV, PROMPT_COMMAND);
// - set: HTTP_PROXY/HTTPS_PROXY/http_proxy/https_proxy (and ALL_PROXY/all_proxy) = proxy_url,
//   NO_PROXY/no_proxy = "localhost,127.0.0.1,::1", NODE_USE_ENV_PROXY=1, SSL_CERT_FILE,
//   REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE, GIT_SSL_CAINFO = ca_bundle, NODE_EXTRA_CA_CERTS =
//   ca_certificate, HOME, USER, LOGNAME, WARDEN_SESSION_ID; PATH defaults to a standard one when the
//   invoking process had none.
std::vector<std::string> buildAgentEnv(const AgentEnvInput& input);

}  // namespace warden::sandbox
