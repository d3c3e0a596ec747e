#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "policy/model.h"

namespace warden::policy {

// The decision engine: pure functions of (policy, request). No I/O, no clocks, no globals, no
// allocation beyond the returned values; safe to call from any thread on a shared const Policy.
// Reasons are written for the agent that was refused: they say what was refused and what the
// policy would have accepted.

enum class Verdict { kAllow, kDeny };
// What an event records: ALLOWED, DENIED, or OBSERVED (allowed under `enforcement: audit` although
// the policy would have denied it).
enum class Action { kAllowed, kDenied, kObserved };

std::string_view actionName(Action action);  // "ALLOWED", "DENIED", "OBSERVED"

// One process holding the socket of a new connection (besides the caller itself).
struct CallerProcess {
  std::string executable;              // /proc/<pid>/exe; empty if unknown
  std::vector<std::string> ancestors;  // ancestors' executables, nearest first
  bool injected = false;               // runs with injected code (LD_PRELOAD, LD_AUDIT, fileless code...)
  int64_t pid = 0;                     // for reasons; 0 if unknown
};

// A new connection (CONNECT target or forward-proxy request) and who makes it: the caller (the
// socket's oldest holder) and every other process holding the socket. Each must be allowed.
struct ConnectRequest {
  std::string host;  // as the client gave it: a name (any case, trailing dot ok) or an IP literal
  uint16_t port = 0;
  std::string executable;              // /proc/<pid>/exe of the caller; empty if unknown
  std::vector<std::string> ancestors;  // ancestors' executables, nearest first
  std::vector<CallerProcess> other_holders;
  bool injected = false;  // the caller runs with injected code
  int64_t pid = 0;        // the caller's pid, for reasons; 0 if unknown
};

// One HTTP request inside an allowed connection, as the L7 relay parsed and canonicalised it.
struct HttpRequest {
  std::string method;  // as on the wire (methods are case-sensitive)
  std::string path;    // canonical path, starting with '/'
  std::string query;   // raw query string without '?'; empty when there is none
  // The Upgrade header's value when the request asks to switch protocols (Upgrade present and
  // Connection lists "upgrade"), e.g. "websocket"; empty for an ordinary request.
  std::string upgrade;
};

struct Decision {
  Verdict verdict = Verdict::kDeny;
  std::string rule;    // the network rule that decided; empty when no rule applied ("policy:-")
  std::string reason;  // why; for an allow, what allowed it; for an observed allow, the would-be deny
  Enforcement enforcement = Enforcement::kEnforce;
  bool would_deny = false;  // true only with verdict kAllow under enforcement audit
  // The endpoint that matched (protocol, tls_skip, allowed_ips, needsL7Inspection()); nullptr when
  // none did. Points into the Policy passed in: keep that Policy (its shared_ptr) alive as long as
  // this pointer is used, e.g. for the whole connection.
  const Endpoint* endpoint = nullptr;
  std::string matched_binary;  // the executable or ancestor path that matched a binaries entry
  // A process the rule's binaries matched runs with injected code: allowed (`injected: alert`, the
  // default) or the reason of this deny (`injected: deny`). Either way the proxy records a finding.
  bool injected = false;

  bool allowed() const { return verdict == Verdict::kAllow; }
  Action action() const {
    if (verdict == Verdict::kDeny) return Action::kDenied;
    return would_deny ? Action::kObserved : Action::kAllowed;
  }
};

// Decides a connection. Allowed when some rule has an endpoint matching host and port AND, for the
// caller and every other holder of the socket, a binaries entry matching its executable — or one of
// its ancestors, for an entry with `ancestors: true` — and not refusing it for injected code
// (`injected: deny`); rules are tried in file order and the first full match wins. When the host/port matches only endpoints whose binaries do not match, the first such
// endpoint under `enforcement: audit` yields an observed allow; otherwise it is a deny naming the
// rules and the binaries they allow.
Decision decideConnect(const Policy& policy, const ConnectRequest& request);

// Decides one HTTP request on a connection allowed through `endpoint`. The endpoint's protocol
// decides upgrades first: `protocol: websocket` lets a WebSocket upgrade (Upgrade: websocket) through
// to the request rules; `rest` and `mcp` deny every upgrade, and no protocol allows anything else
// (an upgrade would leave L7 inspection). An endpoint without a protocol (L4 only) allows every
// request, upgrades included. Then deny_rules win; then `access` or the allow rules must match.
// Under `enforcement: audit` a deny becomes an allow with would_deny set. On an endpoint with request
// rules, every reading of the path an upstream may make (pathReadings: ";params" and trailing dots
// cut from segments) must be allowed: the first reading that is not decides, its reason naming it.
Decision decideRequest(const Endpoint& endpoint, const HttpRequest& request);
// Same, taking the connection's decision; a connect decision without an endpoint denies.
// `policy` must be the snapshot that produced `connect`.
Decision decideRequest(const Policy& policy, const Decision& connect, const HttpRequest& request);

// False when no endpoint of any rule could ever match `name`, whatever the port or binary: the DNS
// resolver answers such names NXDOMAIN. An invalid name is never allowed.
bool couldEverAllowHost(const Policy& policy, std::string_view name);

// True when some rule could need `name` resolved: a network endpoint's host (couldEverAllowHost), an
// `audit.package_sources` host, or a credential's `inject` host. The sandbox resolver answers every
// other name NXDOMAIN without asking upstream (a name is a channel to whoever runs its domain).
bool resolvableName(const Policy& policy, std::string_view name);

// The `audit.package_sources` host patterns, as written (normalised).
std::vector<std::string> packageSources(const Policy& policy);
// True if `host` matches one of `audit.package_sources`.
bool isPackageSource(const Policy& policy, std::string_view host);

}  // namespace warden::policy
