#include "policy/engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <optional>

#include "policy/path_readings.h"

namespace warden::policy {
namespace {

constexpr std::string_view kReadOnlyMethods[] = {"GET", "HEAD", "OPTIONS"};
constexpr std::string_view kReadWriteMethods[] = {"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH"};

std::string hostPort(std::string_view host, uint16_t port) {
  if (host.find(':') != std::string_view::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

std::string joinPorts(const std::vector<uint16_t>& ports) {
  std::string out;
  for (const auto p : ports) {
    if (!out.empty()) out += ", ";
    out += std::to_string(p);
  }
  return out;
}

std::string joinBinaries(const NetworkRule& rule) {
  std::string out;
  for (const auto& b : rule.binaries) {
    if (!out.empty()) out += ", ";
    out += b.path.pattern();
  }
  return out;
}

// How one process fares against a rule's binaries.
struct ProcessMatch {
  const std::string* binary = nullptr;  // the executable or ancestor that an entry matched
  bool injection_refused = false;       // an entry matched but says `injected: deny`
};

// The first binaries entry of `rule` that lets the process use it: matching its executable, or one of
// its ancestors when the entry says `ancestors: true`; an entry with `injected: deny` does not let an
// injected process through.
ProcessMatch matchProcess(const NetworkRule& rule, const std::string& executable,
                          const std::vector<std::string>& ancestors, bool injected) {
  ProcessMatch m;
  for (const auto& b : rule.binaries) {
    if (executable.empty() || !b.path.matches(executable)) continue;
    if (injected && b.deny_injected) {
      m.injection_refused = true;
      continue;
    }
    m.binary = &executable;
    return m;
  }
  for (const auto& ancestor : ancestors) {
    if (ancestor.empty()) continue;
    for (const auto& b : rule.binaries) {
      if (!b.ancestors || !b.path.matches(ancestor)) continue;
      if (injected && b.deny_injected) {
        m.injection_refused = true;
        continue;
      }
      m.binary = &ancestor;
      return m;
    }
  }
  return m;
}

std::string processLabel(const std::string& executable, int64_t pid) {
  const std::string exe = executable.empty() ? std::string("<unknown>") : executable;
  return pid > 0 ? fmt::format("{} (pid {})", exe, pid) : exe;
}

// Whether every process holding the socket may use `rule`.
struct RuleMatch {
  const std::string* binary = nullptr;  // the caller's match; set when the rule allows
  bool injected = false;                // a matched process is injected (allowed or refused for it)
  bool caller_missed = false;           // the caller's executable matched no entry (the classic miss)
  std::string why_not;                  // when not allowed and not a classic miss
};

RuleMatch matchRule(const NetworkRule& rule, const ConnectRequest& request) {
  RuleMatch r;
  const ProcessMatch caller = matchProcess(rule, request.executable, request.ancestors, request.injected);
  if (caller.binary == nullptr) {
    if (caller.injection_refused) {
      r.injected = true;
      r.why_not = fmt::format("{} runs with injected code and rule {} says injected: deny",
                              processLabel(request.executable, request.pid), rule.name);
    } else {
      r.caller_missed = true;
    }
    return r;
  }
  r.injected = request.injected;
  for (const auto& other : request.other_holders) {
    const ProcessMatch m = matchProcess(rule, other.executable, other.ancestors, other.injected);
    if (m.binary == nullptr) {
      r.injected = r.injected || m.injection_refused;
      r.why_not = m.injection_refused
                      ? fmt::format("the socket is also held by {}, which runs with injected code, and rule {} "
                                    "says injected: deny",
                                    processLabel(other.executable, other.pid), rule.name)
                      : fmt::format("the socket is also held by {}, which rule {} does not allow (allowed: {})",
                                    processLabel(other.executable, other.pid), rule.name, joinBinaries(rule));
      return r;
    }
    r.injected = r.injected || other.injected;
  }
  r.binary = caller.binary;
  return r;
}

bool accessAllows(Access access, std::string_view method) {
  switch (access) {
    case Access::kReadOnly:
      return std::find(std::begin(kReadOnlyMethods), std::end(kReadOnlyMethods), method) !=
             std::end(kReadOnlyMethods);
    case Access::kReadWrite:
      return std::find(std::begin(kReadWriteMethods), std::end(kReadWriteMethods), method) !=
             std::end(kReadWriteMethods);
    case Access::kFull:
      return method != "CONNECT";
  }
  return false;
}

std::string_view accessMethods(Access access) {
  switch (access) {
    case Access::kReadOnly:
      return "GET, HEAD, OPTIONS";
    case Access::kReadWrite:
      return "GET, HEAD, OPTIONS, POST, PUT, PATCH";
    case Access::kFull:
      return "every method but CONNECT";
  }
  return "";
}

// True when an Upgrade header value names exactly the WebSocket protocol ("websocket", any case,
// optional surrounding spaces; RFC 6455 4.1). A list ("websocket, h2c") is not a WebSocket upgrade.
bool isWebsocketUpgrade(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  constexpr std::string_view kWebsocket = "websocket";
  if (value.size() != kWebsocket.size()) return false;
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i] >= 'A' && value[i] <= 'Z' ? static_cast<char>(value[i] + 32) : value[i];
    if (c != kWebsocket[i]) return false;
  }
  return true;
}

// Applies the endpoint's enforcement to a deny.
Decision denyOrObserve(const Endpoint& endpoint, std::string reason) {
  Decision d;
  d.rule = endpoint.rule;
  d.enforcement = endpoint.enforcement;
  d.endpoint = &endpoint;
  d.reason = std::move(reason);
  if (endpoint.enforcement == Enforcement::kAudit) {
    d.verdict = Verdict::kAllow;
    d.would_deny = true;
  }
  return d;
}

}  // namespace

std::string_view actionName(Action action) {
  switch (action) {
    case Action::kAllowed:
      return "ALLOWED";
    case Action::kDenied:
      return "DENIED";
    case Action::kObserved:
      return "OBSERVED";
  }
  return "DENIED";
}

Decision decideConnect(const Policy& policy, const ConnectRequest& request) {
  Decision d;
  const auto host = normalizeHost(request.host);
  if (!host) {
    d.reason = fmt::format("'{}' is not a valid host name or IP address", request.host.substr(0, 255));
    return d;
  }
  if (request.port == 0) {
    d.reason = fmt::format("port 0 is not a valid destination for {}", *host);
    return d;
  }

  // Endpoints matching host and port whose binaries did not let every holder through, in file order,
  // with why (empty: the caller's executable matched no entry).
  struct Miss {
    const NetworkRule* rule;
    const Endpoint* endpoint;
    std::string why_not;
    bool injected;
  };
  std::vector<Miss> binary_misses;
  // An endpoint matching the host on some other port (for the reason).
  const Endpoint* host_only = nullptr;
  for (const auto& rule : policy.network) {
    std::optional<RuleMatch> match;
    for (const auto& endpoint : rule.endpoints) {
      if (!endpoint.host.matchesNormalized(*host)) continue;
      if (!endpoint.allowsPort(request.port)) {
        if (host_only == nullptr) host_only = &endpoint;
        continue;
      }
      if (!match) match = matchRule(rule, request);
      if (match->binary != nullptr) {
        d.verdict = Verdict::kAllow;
        d.rule = rule.name;
        d.enforcement = endpoint.enforcement;
        d.endpoint = &endpoint;
        d.matched_binary = *match->binary;
        d.injected = match->injected;
        d.reason = fmt::format("allowed by rule {} ({} for {})", rule.name, hostPort(*host, request.port),
                               *match->binary);
        return d;
      }
      binary_misses.push_back(Miss{&rule, &endpoint, match->why_not, match->injected});
    }
  }

  const std::string target = hostPort(*host, request.port);
  if (binary_misses.empty()) {
    if (host_only != nullptr) {
      d.reason = fmt::format("no policy allows {} (rule {} allows {} on port{} {} only)", target,
                             host_only->rule, host_only->host.pattern(),
                             host_only->ports.size() > 1 ? "s" : "", joinPorts(host_only->ports));
    } else {
      d.reason = fmt::format("no policy allows {}", target);
    }
    return d;
  }

  // One clause per rule: the classic "binary X is not allowed by rule r (allowed: ...)" when the
  // caller's executable matched nothing, else what stopped it (another holder, injected code).
  const std::string caller = request.executable.empty() ? std::string("<unknown>") : request.executable;
  std::string reason;
  const NetworkRule* previous = nullptr;
  bool injected = false;
  bool named_caller = false;
  for (const auto& miss : binary_misses) {
    injected = injected || miss.injected;
    if (miss.rule == previous) continue;
    if (previous != nullptr) reason += " or ";
    if (miss.why_not.empty()) {
      if (!named_caller) reason += fmt::format("binary {} is not allowed by ", caller);
      named_caller = true;
      reason += fmt::format("rule {} (allowed: {})", miss.rule->name, joinBinaries(*miss.rule));
    } else {
      reason += miss.why_not;
    }
    previous = miss.rule;
  }
  for (const auto& miss : binary_misses) {
    if (miss.endpoint->enforcement == Enforcement::kAudit) {
      Decision observed = denyOrObserve(*miss.endpoint, std::move(reason));
      observed.injected = injected;
      return observed;
    }
  }
  Decision denied = denyOrObserve(*binary_misses.front().endpoint, std::move(reason));
  denied.injected = injected;
  return denied;
}

namespace {

// decideRequest for one reading of the path.
Decision decideReading(const Endpoint& endpoint, const HttpRequest& request) {
  Decision allow;
  allow.verdict = Verdict::kAllow;
  allow.rule = endpoint.rule;
  allow.enforcement = endpoint.enforcement;
  allow.endpoint = &endpoint;
  if (!request.upgrade.empty() && endpoint.protocol != Protocol::kNone) {
    const std::string upgrade = request.upgrade.substr(0, 64);
    if (endpoint.protocol != Protocol::kWebsocket) {
      return denyOrObserve(endpoint,
                           fmt::format("{} {} asks to upgrade to {}, but rule {} serves {} with protocol {}, which "
                                       "does not allow upgrades (protocol: websocket does)",
                                       request.method, request.path, upgrade, endpoint.rule,
                                       endpoint.host.pattern(), protocolName(endpoint.protocol)));
    }
    if (!isWebsocketUpgrade(request.upgrade)) {
      return denyOrObserve(endpoint,
                           fmt::format("{} {} asks to upgrade to {}, but rule {} (protocol websocket) allows only "
                                       "Upgrade: websocket",
                                       request.method, request.path, upgrade, endpoint.rule));
    }
  }
  if (!endpoint.hasL7Rules()) {
    allow.reason =
        fmt::format("allowed by rule {} (no request rules on {})", endpoint.rule, endpoint.host.pattern());
    return allow;
  }
  const std::string what = fmt::format("{} {}", request.method, request.path);
  for (const auto& deny : endpoint.deny_rules) {
    if (deny.matches(request.method, request.path, request.query)) {
      return denyOrObserve(
          endpoint, fmt::format("{} is denied by rule {} (deny: {})", what, endpoint.rule, deny.describe()));
    }
  }
  if (endpoint.access) {
    if (accessAllows(*endpoint.access, request.method)) {
      allow.reason =
          fmt::format("allowed by rule {} (access {})", endpoint.rule, accessName(*endpoint.access));
      return allow;
    }
    return denyOrObserve(
        endpoint, fmt::format("{} is not allowed by rule {} (access {} allows {})", what, endpoint.rule,
                              accessName(*endpoint.access), accessMethods(*endpoint.access)));
  }
  for (const auto& rule : endpoint.allow_rules) {
    if (rule.matches(request.method, request.path, request.query)) {
      allow.reason = fmt::format("allowed by rule {} ({})", endpoint.rule, rule.describe());
      return allow;
    }
  }
  std::string allowed;
  for (const auto& rule : endpoint.allow_rules) {
    if (!allowed.empty()) allowed += ", ";
    allowed += rule.describe();
  }
  if (allowed.empty()) allowed = "nothing";
  return denyOrObserve(
      endpoint, fmt::format("{} is not allowed by rule {} (allowed: {})", what, endpoint.rule, allowed));
}

}  // namespace

Decision decideRequest(const Endpoint& endpoint, const HttpRequest& request) {
  Decision decision = decideReading(endpoint, request);
  if (!decision.allowed() || decision.would_deny || !endpoint.hasL7Rules()) return decision;
  // Every other way an upstream may read the path must be allowed too; the first that is not decides.
  const std::vector<std::string> readings = pathReadings(request.path);
  for (size_t i = 1; i < readings.size(); ++i) {
    HttpRequest other = request;
    other.path = readings[i];
    Decision d = decideReading(endpoint, other);
    if (d.allowed() && !d.would_deny) continue;
    d.reason = fmt::format("{} {} (which an upstream may read as {}): {}", request.method, request.path, readings[i],
                           d.reason);
    return d;
  }
  return decision;
}

Decision decideRequest(const Policy& policy, const Decision& connect, const HttpRequest& request) {
  if (connect.endpoint == nullptr || connect.verdict != Verdict::kAllow) {
    Decision d;
    d.rule = connect.rule;
    d.reason = fmt::format("{} {} is on a connection the policy did not allow", request.method, request.path);
    return d;
  }
#ifndef NDEBUG
  const NetworkRule* rule = policy.findRule(connect.endpoint->rule);
  assert(rule != nullptr && connect.endpoint >= rule->endpoints.data() &&
         connect.endpoint < rule->endpoints.data() + rule->endpoints.size());
#else
  (void)policy;
#endif
  Decision d = decideRequest(*connect.endpoint, request);
  d.matched_binary = connect.matched_binary;
  // A connection observed under audit stays observed: the request was only let through by audit.
  if (connect.would_deny && !d.would_deny) {
    d.would_deny = true;
    d.reason = connect.reason;
  }
  return d;
}

bool couldEverAllowHost(const Policy& policy, std::string_view name) {
  const auto host = normalizeHost(name);
  if (!host) return false;
  for (const auto& rule : policy.network) {
    for (const auto& endpoint : rule.endpoints) {
      if (endpoint.host.matchesNormalized(*host)) return true;
    }
  }
  return false;
}

bool resolvableName(const Policy& policy, std::string_view name) {
  if (couldEverAllowHost(policy, name)) return true;
  const auto host = normalizeHost(name);
  if (!host) return false;
  for (const auto& source : policy.audit.package_sources) {
    if (source.matchesNormalized(*host)) return true;
  }
  for (const auto& credential : policy.credentials) {
    for (const auto& target : credential.inject) {
      if (target.host.matchesNormalized(*host)) return true;
    }
  }
  return false;
}

std::vector<std::string> packageSources(const Policy& policy) {
  std::vector<std::string> out;
  out.reserve(policy.audit.package_sources.size());
  for (const auto& h : policy.audit.package_sources) out.push_back(h.pattern());
  return out;
}

bool isPackageSource(const Policy& policy, std::string_view host) {
  const auto normalized = normalizeHost(host);
  if (!normalized) return false;
  return std::any_of(policy.audit.package_sources.begin(), policy.audit.package_sources.end(),
                     [&](const HostPattern& h) { return h.matchesNormalized(*normalized); });
}

}  // namespace warden::policy
