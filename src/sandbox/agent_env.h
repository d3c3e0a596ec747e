#pragma once

// The agent's environment (sandbox.md "Isolation"): built from an allow-list of the invoking
// process's variables, `--env NAME[=VALUE]`, the policy's `process.env` and credential placeholders,
// plus the proxy and CA variables — never the supervisor's own environment wholesale, so a secret
// in the shell that started `warden run` (AWS_SECRET_ACCESS_KEY, GITHUB_TOKEN ...) does not reach the
// agent unless asked for.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace warden::sandbox {

struct AgentEnvInput {
  std::vector<std::string> inherited;  // "K=V" from the invoking process (environ)
  // `--env NAME` (the invoking process's value, if it has one) or `--env NAME=VALUE`, in order.
  std::vector<std::string> requested;
  // The policy's process.env, then credential placeholders (name, value), in order.
  std::vector<std::pair<std::string, std::string>> policy;
  std::string proxy_url;               // "http://10.200.7.1:3128"
  std::string ca_bundle;               // system roots + the session CA
  std::string ca_certificate;          // the session CA alone (NODE_EXTRA_CA_CERTS)
  std::string home;                    // the agent user's home
  std::string user;                    // the agent user's name
  std::string session_id;
};

// Names kept from the invoking process without being asked: PATH, LANG, LANGUAGE, LC_*, TERM,
// COLORTERM, TZ.
bool allowListedVariable(std::string_view name);

// Builds the complete environment, sorted by name, one entry per name, from (later wins):
// - the allow-listed inherited variables;
// - `requested` (an `--env NAME` without a value takes the inherited value; absent: not set);
// - `policy`;
// - what the sandbox sets itself, which nothing above can override: HTTP_PROXY/HTTPS_PROXY/
//   http_proxy/https_proxy/ALL_PROXY/all_proxy = proxy_url, NO_PROXY/no_proxy =
//   "localhost,127.0.0.1,::1", NODE_USE_ENV_PROXY=1, SSL_CERT_FILE, REQUESTS_CA_BUNDLE,
//   CURL_CA_BUNDLE, GIT_SSL_CAINFO = ca_bundle, NODE_EXTRA_CA_CERTS = ca_certificate, HOME, USER,
//   LOGNAME, WARDEN_SESSION_ID; PATH defaults to a standard one.
// Variables that load code from outside the sandbox's view or route around it (LD_PRELOAD,
// LD_LIBRARY_PATH, LD_AUDIT, BASH_ENV, ENV, PROMPT_COMMAND, and the proxy and CA names) are refused
// in `requested` and `policy` with InvalidArgument naming them; a malformed NAME too.
Result<std::vector<std::string>> buildAgentEnv(const AgentEnvInput& input);

}  // namespace warden::sandbox
