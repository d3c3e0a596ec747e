#include "ocsf/builders.h"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "ocsf/builder_support.h"
#include "ocsf/jsonl_formatter.h"

namespace warden::ocsf {

namespace {

using detail::applyDecision;
using detail::lower;
using detail::setActor;
using detail::withName;

// Caps on what a builder copies from agent-influenced text into a field Warden composes.
constexpr size_t kMaxMethodBytes = 32;
constexpr size_t kMaxSummaryBytes = 256;
constexpr size_t kMaxToolInputBytes = 8 * 1024;       // tool_inputs: full
constexpr size_t kMaxModelContentBytes = 64 * 1024;  // model_content: full

std::string cut(std::string_view s, size_t max) {
  return std::string(s.substr(0, utf8PrefixLength(s, max)));
}

std::string_view actionVerb(Action a) {
  switch (a) {
    case Action::kAllowed: return "allowed";
    case Action::kDenied: return "denied";
    case Action::kObserved: return "observed";
    default: return "decided";
  }
}

bool hasAddress(const Endpoint& e) {
  return !e.hostname.empty() || !e.ip.empty();
}

// "host:port" for messages (IPv6 in brackets).
std::string hostPort(const Endpoint& e) {
  std::string host = e.hostname.empty() ? e.ip : e.hostname;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  if (host.empty()) host = "-";
  if (e.port) host += ":" + std::to_string(*e.port);
  return host;
}

// NET events: the shared shape of a proxied connection.
Event netEvent(const SessionContext& ctx, int64_t time, int activity, const Connection& conn) {
  Event e = newEvent(ctx, Kind::kNet, ClassUid::kNetworkActivity, activity, time);
  if (conn.actor) setActor(e, *conn.actor);
  if (hasAddress(conn.src)) e.src_endpoint = conn.src;
  e.dst_endpoint = conn.dst;
  if (hasAddress(ctx.proxy)) e.proxy_endpoint = ctx.proxy;
  e.connection_info = ConnectionInfo{conn.protocol, Direction::kOutbound};
  e.observation_point = ObservationPoint::kDestination;  // seen at the proxy
  e.is_src_dst_assignment_known = true;
  return e;
}

nlohmann::json::const_iterator findKey(const nlohmann::json& j, const char* key) {
  return j.find(key);
}

Value toValue(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::boolean: return Value(j.get<bool>());
    case nlohmann::json::value_t::number_integer: return Value(j.get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: return Value(j.get<uint64_t>());
    case nlohmann::json::value_t::number_float: return Value(j.get<double>());
    case nlohmann::json::value_t::string: return Value(j.get<std::string>());
    case nlohmann::json::value_t::array: {
      Value::Array a;
      for (const auto& v : j) a.push_back(toValue(v));
      return Value(std::move(a));
    }
    case nlohmann::json::value_t::object: {
      Value::Object o;
      for (const auto& [k, v] : j.items()) o.emplace_back(k, toValue(v));
      return Value(std::move(o));
    }
    default: return Value();
  }
}

}  // namespace

// ----- Shared steps -----

Event newEvent(const SessionContext& ctx, Kind kind, ClassUid cls, int activity_id, int64_t time) {
  Event e;
  e.kind = kind;
  e.class_uid = cls;
  e.activity_id = activity_id;
  e.time = time;
  e.severity = Severity::kInformational;
  e.metadata.profiles = kProfileHost | kProfileContainer;
  e.metadata.uid = uuidV7(time);
  e.metadata.correlation_uid = ctx.session_id;
  e.metadata.product_version = ctx.product_version;
  Device device;
  device.hostname = ctx.hostname;
  if (!ctx.session_id.empty() || !ctx.session_name.empty()) {
    Container c;
    c.name = ctx.session_name.empty() ? ctx.session_id : ctx.session_name;
    c.uid = ctx.session_id;
    c.image_name = ctx.image_name;
    device.container = std::move(c);
  }
  e.device = std::move(device);
  return e;
}

void applyProfiles(Event& e) {
  e.metadata.profiles |= kProfileHost | kProfileContainer;
  if (e.kind == Kind::kNet || e.kind == Kind::kHttp) e.metadata.profiles |= kProfileNetworkProxy;
  // `attacks` is a security_control attribute too (a rule's finding may carry it without a disposition).
  if (e.action || e.disposition || e.firewall_rule || !e.attacks.empty()) {
    e.metadata.profiles |= kProfileSecurityControl;
  }
}

// ----- URL helpers -----

Url splitUrl(std::string_view s) {
  Url u;
  if (const auto hash = s.find('#'); hash != std::string_view::npos) s = s.substr(0, hash);
  if (const auto q = s.find('?'); q != std::string_view::npos) {
    u.query_string = "[redacted]";  // whatever it held: tokens and signatures live there
    s = s.substr(0, q);
  }
  const auto sep = s.find("://");
  const bool has_scheme = sep != std::string_view::npos && sep > 0 &&
                          std::all_of(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(sep), [](char c) {
                            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                   (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
                          });
  std::string_view authority;
  if (has_scheme) {
    u.scheme = lower(s.substr(0, sep));
    s = s.substr(sep + 3);
    const auto slash = s.find('/');
    authority = s.substr(0, slash);
    u.path = slash == std::string_view::npos ? std::string() : std::string(s.substr(slash));
  } else if (!s.empty() && s.front() != '/') {
    authority = s;  // authority-form (CONNECT host:port)
  } else {
    u.path = std::string(s);
  }
  if (!authority.empty()) {
    if (const auto at = authority.rfind('@'); at != std::string_view::npos)
      authority = authority.substr(at + 1);
    std::string_view host = authority;
    std::string_view port;
    if (authority.front() == '[') {
      const auto close = authority.find(']');
      host = authority.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1);
      if (close != std::string_view::npos && close + 1 < authority.size() && authority[close + 1] == ':') {
        port = authority.substr(close + 2);
      }
    } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
    }
    u.hostname = lower(host);
    int p = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (!port.empty() && ec == std::errc() && end == port.data() + port.size() && p > 0 && p <= 65535)
      u.port = p;
  }
  if (u.path.empty()) u.path = "/";  // RFC 3986 6.2.3: an empty http(s) path is "/"
  return u;
}

namespace {
// A split Url written back: scheme://host:port/path?[redacted].
std::string urlString(const Url& u) {
  std::string out;
  if (!u.scheme.empty()) out += u.scheme + "://";
  out += u.hostname.find(':') != std::string::npos ? "[" + u.hostname + "]" : u.hostname;
  if (u.port) out += ":" + std::to_string(*u.port);
  out += u.path;
  if (!u.query_string.empty()) out += "?[redacted]";
  return out;
}
}  // namespace

std::string redactUrl(std::string_view url) {
  return urlString(splitUrl(url));
}

// ----- Network Activity -----

Event netOpen(const SessionContext& ctx, int64_t time, const Connection& conn, const Decision& decision) {
  Event e = netEvent(ctx, time, 1, conn);
  applyDecision(e, decision);
  e.message = std::string(actionVerb(decision.action)) + " " + hostPort(conn.dst);
  applyProfiles(e);
  return e;
}

Event netClose(const SessionContext& ctx, int64_t time, const Connection& conn, int64_t bytes_in,
               int64_t bytes_out, int64_t duration_ms) {
  Event e = netEvent(ctx, time, 2, conn);
  e.traffic = Traffic{bytes_in, bytes_out};
  e.duration = duration_ms;
  e.status = Status::kSuccess;
  e.message = "closed " + hostPort(conn.dst);
  applyProfiles(e);
  return e;
}

Event netUpgrade(const SessionContext& ctx, int64_t time, const Connection& conn, const Decision& decision,
                 std::string_view upgrade) {
  Event e = netEvent(ctx, time, 99, conn);
  e.activity_name = "Upgrade";
  applyDecision(e, decision);
  e.message = "switched protocols to " + cut(upgrade, 32) + " with " + hostPort(conn.dst);
  applyProfiles(e);
  return e;
}

Event netRefuse(const SessionContext& ctx, int64_t time, const Connection& conn, std::string_view reason) {
  Event e = netEvent(ctx, time, 5, conn);
  e.proxy_endpoint.reset();  // it did not go through the proxy
  e.observation_point = ObservationPoint::kNeither;
  applyDecision(e, Decision{Action::kDenied, "bypass-detect", "nftables", std::string(reason)});
  e.message = "bypass attempt to " + hostPort(conn.dst);
  applyProfiles(e);
  return e;
}

Event netListen(const SessionContext& ctx, int64_t time, const Endpoint& listen) {
  Event e = newEvent(ctx, Kind::kNet, ClassUid::kNetworkActivity, 7, time);
  const Endpoint& at = hasAddress(listen) ? listen : ctx.proxy;
  e.dst_endpoint = at;
  e.proxy_endpoint = at;
  e.connection_info = ConnectionInfo{"tcp", Direction::kInbound};
  e.status = Status::kSuccess;
  e.message = "proxy listening on " + hostPort(at);
  applyProfiles(e);
  return e;
}

namespace {
Event relayError(const SessionContext& ctx, int64_t time, int activity, const Connection& conn,
                 const RelayError& error) {
  Event e = netEvent(ctx, time, activity, conn);
  e.severity = Severity::kLow;
  e.status = Status::kFailure;
  e.status_detail = error.detail;
  e.unmapped.set("response_code", error.response_code);
  e.message = std::string(activity == 3 ? "reset " : "failed ") + hostPort(conn.dst) + " (" +
              std::to_string(error.response_code) + ")";
  applyProfiles(e);
  return e;
}
}  // namespace

Event netFail(const SessionContext& ctx, int64_t time, const Connection& conn, const RelayError& error) {
  return relayError(ctx, time, 4, conn, error);
}

Event netReset(const SessionContext& ctx, int64_t time, const Connection& conn, const RelayError& error) {
  return relayError(ctx, time, 3, conn, error);
}

// ----- HTTP Activity -----

int httpActivityId(std::string_view method) {
  static constexpr std::pair<std::string_view, int> kMethods[] = {
      {"CONNECT", 1}, {"DELETE", 2}, {"GET", 3},   {"HEAD", 4},  {"OPTIONS", 5},
      {"POST", 6},    {"PUT", 7},    {"TRACE", 8}, {"PATCH", 9},
  };
  for (const auto& [name, id] : kMethods) {
    if (name == method) return id;
  }
  return 99;
}

Event httpRequest(const SessionContext& ctx, int64_t time, const HttpExchange& x, const Decision& decision) {
  const std::string method = cut(x.method, kMaxMethodBytes);
  const int activity = httpActivityId(method);
  Event e = newEvent(ctx, Kind::kHttp, ClassUid::kHttpActivity, activity, time);
  // OCSF's http_method is a closed enum (CONNECT ... PATCH): any other method (PROPFIND, MKCOL, a
  // custom token) makes activity Other (99) named after the method, and the method itself is kept
  // under unmapped.http_method, never as an http_method the schema does not define.
  if (activity == 99 && !method.empty()) {
    e.activity_name = method;
    e.unmapped.set("http_method", method);
  }
  Url url = splitUrl(x.url);
  if (url.hostname.empty()) url.hostname = lower(x.host);
  if (!url.port) url.port = x.port;
  if (url.scheme.empty() && method != "CONNECT") url.scheme = lower(x.scheme);
  HttpRequest req;
  if (activity != 99) req.http_method = method;
  req.url = url;
  req.user_agent = x.user_agent;
  e.http_request = std::move(req);
  if (x.response_code) e.http_response = HttpResponse{*x.response_code};
  if (x.actor) setActor(e, *x.actor);
  if (hasAddress(x.src)) e.src_endpoint = x.src;
  Endpoint dst;
  dst.hostname = url.hostname;
  dst.port = url.port ? url.port : (url.scheme == "http" ? std::optional<int>(80) : std::optional<int>(443));
  e.dst_endpoint = std::move(dst);
  if (hasAddress(ctx.proxy)) e.proxy_endpoint = ctx.proxy;
  e.connection_info = ConnectionInfo{"tcp", Direction::kOutbound};
  applyDecision(e, decision);
  e.message = method + " " + urlString(url) + " " + std::string(actionVerb(decision.action));
  applyProfiles(e);
  return e;
}

// ----- DNS Activity -----

namespace {
Event dnsEvent(const SessionContext& ctx, int64_t time, int activity, const DnsLookup& l) {
  Event e = newEvent(ctx, Kind::kDns, ClassUid::kDnsActivity, activity, time);
  if (l.actor) setActor(e, *l.actor);
  if (hasAddress(l.src)) e.src_endpoint = l.src;
  if (hasAddress(l.resolver)) {
    e.dst_endpoint = l.resolver;
  } else if (!ctx.proxy.ip.empty()) {
    Endpoint resolver;
    resolver.ip = ctx.proxy.ip;
    resolver.port = 53;
    e.dst_endpoint = std::move(resolver);
  }
  e.query = DnsQuery{l.hostname, l.type};
  e.answers = l.answers;
  e.rcode = l.rcode;
  e.status = Status::kSuccess;
  if (l.rcode && *l.rcode != DnsRcode::kNoError) {
    e.severity = Severity::kLow;
    e.status = Status::kFailure;
    e.status_detail = rcodeCaption(*l.rcode);
  }
  if (l.decision) {
    applyDecision(e, *l.decision);
    if (e.status_detail.empty() && l.rcode && *l.rcode != DnsRcode::kNoError)
      e.status_detail = rcodeCaption(*l.rcode);
  }
  e.message = (activity == 1 ? "query " : "response ") + l.type + " " + l.hostname;
  applyProfiles(e);
  return e;
}
}  // namespace

Event dnsQuery(const SessionContext& ctx, int64_t time, const DnsLookup& lookup) {
  return dnsEvent(ctx, time, 1, lookup);
}

Event dnsResponse(const SessionContext& ctx, int64_t time, const DnsLookup& lookup) {
  return dnsEvent(ctx, time, 2, lookup);
}

// ----- SSH Activity -----

Event sshActivity(const SessionContext& ctx, int64_t time, SshActivity activity, const SshSession& ssh,
                  const std::optional<Decision>& decision) {
  Event e = newEvent(ctx, Kind::kSsh, ClassUid::kSshActivity, static_cast<int>(activity), time);
  if (activity == SshActivity::kOther) e.activity_name = ssh.other_name;  // empty: no name beyond 99
  if (hasAddress(ssh.src)) e.src_endpoint = ssh.src;
  if (hasAddress(ssh.dst)) e.dst_endpoint = ssh.dst;
  if (ssh.actor) setActor(e, *ssh.actor);
  e.auth_type = ssh.auth_type;
  e.connection_info = ConnectionInfo{"tcp", Direction::kInbound};
  e.status = Status::kSuccess;
  switch (activity) {
    case SshActivity::kFail:
      e.severity = Severity::kLow;
      e.status = Status::kFailure;
      break;
    case SshActivity::kRefuse:
      e.severity = Severity::kMedium;
      e.status = Status::kFailure;
      break;
    default: break;
  }
  if (decision) {
    applyDecision(e, *decision);
    if (activity == SshActivity::kFail || activity == SshActivity::kRefuse) e.status = Status::kFailure;
  }
  e.message =
      ssh.message.empty() ? "ssh " + lower(e.activityName()) + " from " + hostPort(ssh.src) : ssh.message;
  applyProfiles(e);
  return e;
}

// ----- Detection Finding -----

Event finding(const SessionContext& ctx, int64_t time, const FindingInput& in) {
  Event e = newEvent(ctx, Kind::kFinding, ClassUid::kDetectionFinding, 1, time);
  FindingInfo info;
  info.uid = in.uid.empty() ? uuidV7(time) : in.uid;
  info.title = in.title;
  info.desc = in.desc;
  info.types = in.types;
  info.analytic_name = in.detection_rule;
  e.finding_info = std::move(info);
  e.attacks = in.attacks;
  e.evidences = in.evidences;
  e.remediation = in.remediation;
  e.is_alert = in.is_alert;
  e.confidence = in.confidence;
  e.risk_level = in.risk_level;
  e.severity = in.severity;
  e.disposition = in.disposition;
  if (in.actor) setActor(e, *in.actor);
  e.firewall_rule = in.rule;
  e.message = in.message.empty() ? in.title : in.message;
  applyProfiles(e);
  return e;
}

Value evidenceOf(const Event& domain) {
  // Render once through the canonical formatter and keep the objects an evidence may hold, so the
  // evidence reads exactly like the event it points at.
  const auto j = nlohmann::json::parse(toJsonl(domain), nullptr, /*allow_exceptions=*/false);
  Value ev = Value::object();
  if (!j.is_object()) return ev;
  static constexpr const char* kKeys[] = {"actor", "api",          "connection_info", "dst_endpoint",
                                          "file",  "http_request", "http_response",   "process",
                                          "query", "src_endpoint"};
  for (const char* key : kKeys) {
    const auto it = findKey(j, key);
    if (it != j.end()) ev.set(key, toValue(*it));
  }
  return ev;
}

// ----- Device Config State Change -----

Event configChange(const SessionContext& ctx, int64_t time, const ConfigChange& c) {
  Event e = newEvent(ctx, Kind::kConfig, ClassUid::kDeviceConfigStateChange, 1, time);
  const std::string state = c.state.empty() ? std::string(kConfigUpdated) : c.state;
  e.unmapped.set("state", state);
  if (!c.policy_version.empty()) e.unmapped.set("policy_version", c.policy_version);
  if (!c.policy_hash.empty()) e.unmapped.set("policy_hash", c.policy_hash);
  if (c.config_revision) e.unmapped.set("config_revision", *c.config_revision);
  if (!c.errors.empty()) e.unmapped.set("errors", Value(Value::Array(c.errors.begin(), c.errors.end())));
  Severity sev = Severity::kInformational;
  if (state == kConfigFailed) sev = Severity::kHigh;  // fail-closed config
  if (state == kConfigDegraded) sev = Severity::kMedium;
  e.severity = c.severity.value_or(sev);
  const bool failed = state == kConfigFailed;
  e.status = failed ? Status::kFailure : Status::kSuccess;
  if (!c.errors.empty()) e.status_detail = c.errors.front();
  e.message = c.message.empty() ? "config " + lower(state) : c.message;
  applyProfiles(e);
  return e;
}

// ----- Application Lifecycle -----

Event lifecycle(const SessionContext& ctx, int64_t time, const LifecycleInput& in) {
  int activity = 99;
  std::string name;
  std::string verb;
  switch (in.activity) {
    case LifecycleActivity::kStart:
      activity = 3;
      verb = "started";
      break;
    case LifecycleActivity::kStop:
      activity = 4;
      verb = "stopped";
      break;
    case LifecycleActivity::kReady:
      name = "Ready";
      verb = "ready";
      break;
    case LifecycleActivity::kFailed:
      name = "Failed";
      verb = "failed";
      break;
  }
  Event e = newEvent(ctx, Kind::kLifecycle, ClassUid::kApplicationLifecycle, activity, time);
  e.activity_name = name;
  Product app;
  app.name = "Warden";
  app.vendor_name = "Warden";
#ifdef WARDEN_VERSION
  app.version = ctx.product_version.empty() ? std::string(WARDEN_VERSION) : ctx.product_version;
#else
  app.version = ctx.product_version;
#endif
  e.app = std::move(app);
  if (!in.component.empty()) e.unmapped.set("component", in.component);
  e.status = Status::kSuccess;
  if (in.activity == LifecycleActivity::kFailed) {
    e.status = Status::kFailure;
    e.status_detail = in.error;
    e.severity = in.fatal ? Severity::kFatal : Severity::kCritical;
  }
  e.message = in.message.empty() ? verb + (in.error.empty() ? "" : ": " + in.error) : in.message;
  applyProfiles(e);
  return e;
}

std::string_view stopReasonName(StopReason reason) {
  switch (reason) {
    case StopReason::kExit: return "exit";
    case StopReason::kTimeout: return "timeout";
    case StopReason::kOom: return "oom";
    case StopReason::kSignal: return "signal";
    case StopReason::kApi: return "api";
    case StopReason::kPolicyViolation: return "policy_violation";
  }
  return "exit";
}

Event session(const SessionContext& ctx, int64_t time, const SessionInput& in) {
  int activity = 99;
  std::string name;
  switch (in.activity) {
    case SessionActivity::kCreate: name = "Create"; break;
    case SessionActivity::kStart: activity = 3; break;
    case SessionActivity::kPause: name = "Pause"; break;
    case SessionActivity::kResume: name = "Resume"; break;
    case SessionActivity::kStop: activity = 4; break;
    case SessionActivity::kCleanup: name = "Cleanup"; break;
  }
  Event e = newEvent(ctx, Kind::kSession, ClassUid::kApplicationLifecycle, activity, time);
  e.activity_name = name;
  Product app;
  app.name = "warden-session";
  app.uid = ctx.session_id;
  e.app = std::move(app);
  e.status = Status::kSuccess;
  e.message = in.message;
  if (in.activity == SessionActivity::kStop) {
    const StopReason reason = in.reason.value_or(StopReason::kExit);
    e.status_detail = stopReasonName(reason);
    if (in.exit_code) e.unmapped.set("exit_code", *in.exit_code);
    if (!in.rule.empty()) e.unmapped.set("rule", in.rule);
    switch (reason) {
      case StopReason::kTimeout:
      case StopReason::kOom: e.severity = Severity::kCritical; break;
      case StopReason::kPolicyViolation: e.severity = Severity::kMedium; break;
      case StopReason::kSignal: e.severity = Severity::kLow; break;
      case StopReason::kExit:
      case StopReason::kApi: break;
    }
    const bool clean =
        reason == StopReason::kApi || (reason == StopReason::kExit && in.exit_code.value_or(0) == 0);
    e.status = clean ? Status::kSuccess : Status::kFailure;
  }
  applyProfiles(e);
  return e;
}

Event pkgInstall(const SessionContext& ctx, int64_t time, const PackageInstall& pkg) {
  Event e = newEvent(ctx, Kind::kPkg, ClassUid::kApplicationLifecycle, 1, time);
  Product app;
  app.name = pkg.name;
  app.version = pkg.version;
  if (!pkg.source_url.empty()) app.url_string = redactUrl(pkg.source_url);
  e.app = std::move(app);
  if (pkg.actor) setActor(e, *pkg.actor);
  Value package = Value::object();
  if (!pkg.manager.empty()) package.set("manager", pkg.manager);
  if (!pkg.requested_version.empty()) package.set("requested_version", pkg.requested_version);
  if (!pkg.sha256.empty()) package.set("sha256", lower(pkg.sha256));
  if (!pkg.advertised_sha256.empty()) package.set("advertised_sha256", lower(pkg.advertised_sha256));
  if (!pkg.advertised_hash.empty()) package.set("advertised_hash", cut(pkg.advertised_hash, kMaxSummaryBytes));
  if (!pkg.verdict.empty()) package.set("verdict", pkg.verdict);
  if (!pkg.verdict_detail.empty()) package.set("verdict_detail", cut(pkg.verdict_detail, kMaxSummaryBytes));
  if (pkg.bytes) package.set("bytes", *pkg.bytes);
  if (!pkg.complete) package.set("complete", false);
  if (!pkg.install_kind.empty()) package.set("install_kind", pkg.install_kind);
  e.unmapped.set("package", std::move(package));
  e.status = pkg.complete ? Status::kSuccess : Status::kFailure;
  if (pkg.decision) applyDecision(e, *pkg.decision);
  if (!pkg.complete) e.status = Status::kFailure;
  if (pkg.verdict == "mismatch") e.severity = Severity::kHigh;
  if (!pkg.verdict_detail.empty() && e.status_detail.empty()) e.status_detail = cut(pkg.verdict_detail, kMaxSummaryBytes);
  e.message = pkg.manager + " install " + pkg.name + (pkg.version.empty() ? "" : " " + pkg.version);
  if (!pkg.verdict.empty() && pkg.verdict != "verified") e.message += " (" + pkg.verdict + ")";
  if (!pkg.complete) e.message += " (incomplete)";
  applyProfiles(e);
  return e;
}

// ----- API Activity -----

namespace {
// src_endpoint is required on API Activity: the caller's address, else the sandbox by its name.
Endpoint sourceOrSandbox(const SessionContext& ctx, const Endpoint& src) {
  if (hasAddress(src)) return src;
  Endpoint sandbox;  // the call came from inside the sandbox, whose hostname is the session name
  sandbox.hostname = ctx.session_name.empty() ? ctx.session_id : ctx.session_name;
  return sandbox;
}

// actor is required on API Activity: the process when known, else an unnamed one.
void setActorOrUnknown(Event& e, const std::optional<Process>& p) {
  if (p) {
    setActor(e, *p);
    return;
  }
  Process unknown;
  unknown.name = "unknown";
  e.actor = std::move(unknown);
}
}  // namespace

Event toolCall(const SessionContext& ctx, int64_t time, const ToolCall& call) {
  Event e = newEvent(ctx, Kind::kTool, ClassUid::kApiActivity, 99, time);
  e.activity_name = "Call";
  e.api = Api{call.tool.empty() ? std::string("-") : cut(call.tool, kMaxSummaryBytes), call.service};
  setActorOrUnknown(e, call.actor);
  e.src_endpoint = sourceOrSandbox(ctx, call.src);
  if (call.dst && hasAddress(*call.dst)) e.dst_endpoint = *call.dst;
  e.status = call.status;
  if (call.status == Status::kFailure) e.severity = Severity::kLow;
  if (call.duration_ms) e.duration = *call.duration_ms;
  Value tool = Value::object();
  if (!call.method.empty()) tool.set("method", cut(call.method, kMaxSummaryBytes));
  if (!call.input_summary.empty()) tool.set("input_summary", cut(call.input_summary, kMaxSummaryBytes));
  if (!call.input.empty()) tool.set("input", cut(call.input, kMaxToolInputBytes));
  if (!call.result_status.empty()) tool.set("result_status", call.result_status);
  if (!call.error.empty()) tool.set("error", cut(call.error, kMaxSummaryBytes));
  e.unmapped.set("tool", std::move(tool));
  if (call.decision) {
    applyDecision(e, *call.decision);
    if (call.decision->action == Action::kDenied) e.status = Status::kFailure;
  }
  e.message = "tool call " + call.tool;
  if (call.decision && call.decision->action == Action::kDenied) {
    e.message += " denied";
  } else if (!call.result_status.empty()) {
    e.message += ": " + call.result_status;
  }
  applyProfiles(e);
  return e;
}

Event modelCall(const SessionContext& ctx, int64_t time, const ModelCall& call) {
  Event e = newEvent(ctx, Kind::kModel, ClassUid::kApiActivity, 99, time);
  e.activity_name = "Call";
  e.api = Api{call.operation.empty() ? std::string("-") : call.operation, call.provider};
  setActorOrUnknown(e, call.actor);
  e.src_endpoint = sourceOrSandbox(ctx, call.src);
  if (hasAddress(call.dst)) e.dst_endpoint = call.dst;
  if (call.http_status) e.http_response = HttpResponse{*call.http_status};
  if (call.duration_ms) e.duration = *call.duration_ms;
  const bool failed = !call.complete || !call.error.empty() || (call.http_status && *call.http_status >= 400);
  e.status = failed ? Status::kFailure : Status::kSuccess;
  if (failed) e.severity = Severity::kLow;
  Value model = Value::object();
  if (!call.model.empty()) model.set("name", cut(call.model, kMaxSummaryBytes));
  if (call.input_tokens) model.set("input_tokens", *call.input_tokens);
  if (call.output_tokens) model.set("output_tokens", *call.output_tokens);
  if (!call.stop_reason.empty()) model.set("stop_reason", cut(call.stop_reason, 64));
  if (!call.tool_calls.empty()) {
    Value::Array calls;
    for (const ModelToolCall& t : call.tool_calls) {
      Value one = Value::object();
      if (!t.id.empty()) one.set("id", cut(t.id, kMaxSummaryBytes));
      if (!t.name.empty()) one.set("name", cut(t.name, kMaxSummaryBytes));
      calls.push_back(std::move(one));
    }
    model.set("tool_calls", Value(std::move(calls)));
  }
  model.set("streamed", call.streamed);
  if (!call.complete) model.set("incomplete", true);
  if (!call.error.empty()) model.set("error", cut(call.error, kMaxSummaryBytes));
  if (!call.content_level.empty()) model.set("content", call.content_level);
  if (!call.prompt.empty()) model.set("prompt", cut(call.prompt, kMaxModelContentBytes));
  if (!call.completion.empty()) model.set("completion", cut(call.completion, kMaxModelContentBytes));
  e.unmapped.set("model", std::move(model));
  if (!call.complete) {
    e.status_detail = "the answer ended before it was complete";
  } else if (!call.error.empty()) {
    e.status_detail = cut(call.error, kMaxSummaryBytes);
  }
  e.message = "model call " + (call.model.empty() ? std::string("-") : cut(call.model, 64)) +
              (call.complete ? "" : " (incomplete)");
  applyProfiles(e);
  return e;
}

// ----- API Activity (API) -----

Event apiCall(const SessionContext& ctx, int64_t time, const ApiCall& call) {
  Event e = newEvent(ctx, Kind::kApi, ClassUid::kApiActivity, static_cast<int>(call.activity), time);
  e.api = Api{cut(call.operation, 128), cut(call.service, 128)};
  const ApiCaller& who = call.caller;
  if (who.pid || who.uid) {
    Process p;
    p.pid = who.pid;
    p.uid = who.uid;
    e.actor = std::move(p);
  }
  User user;
  user.name = who.name.empty() ? std::string("anonymous") : cut(who.name, kMaxSummaryBytes);
  if (who.uid) user.uid = std::to_string(*who.uid);
  user.credential_type = cut(who.credential_type, 64);
  user.credential_uid = cut(who.credential_uid, kMaxSummaryBytes);
  e.actor_user = std::move(user);
  if (hasAddress(who.src)) {
    e.src_endpoint = who.src;
  } else {
    Endpoint local;  // a local caller (unix socket): this host
    local.hostname = ctx.hostname.empty() ? std::string("localhost") : ctx.hostname;
    e.src_endpoint = std::move(local);
  }
  e.action = call.action;
  e.disposition = call.action == Action::kDenied ? Disposition::kBlocked : Disposition::kAllowed;
  const bool denied = call.action == Action::kDenied;
  e.status = denied ? Status::kFailure : Status::kSuccess;
  e.status_detail = cut(call.reason, kMaxSummaryBytes);
  e.severity = call.severity.value_or(denied ? Severity::kMedium : Severity::kInformational);
  e.unmapped.set("auth", who.auth.empty() ? std::string("none") : who.auth);
  if (!call.request.empty()) {
    Value request = Value::object();
    for (const auto& [key, value] : call.request) request.set(key, cut(value, kMaxSummaryBytes));
    e.unmapped.set("request", std::move(request));
  }
  e.message = std::string(call.operation.substr(0, utf8PrefixLength(call.operation, 64))) + " " +
              (denied ? "denied" : "allowed") + " for " + e.actor_user->name;
  applyProfiles(e);
  return e;
}

// ----- Base Event -----

Event resourceLimit(const SessionContext& ctx, int64_t time, const LimitHit& hit) {
  Event e = newEvent(ctx, Kind::kLimit, ClassUid::kBase, 99, time);
  e.activity_name = "Resource Limit";
  Value limit = Value::object();
  limit.set("type", hit.type);
  limit.set("measured", hit.measured);
  limit.set("limit", hit.limit);
  if (!hit.action.empty()) limit.set("action", hit.action);
  e.unmapped.set("limit", std::move(limit));
  if (hit.process) setActor(e, *hit.process);
  e.severity = hit.action == "kill" ? Severity::kCritical : Severity::kLow;
  e.message = hit.type + " limit reached" + (hit.action.empty() ? "" : ", " + hit.action);
  applyProfiles(e);
  return e;
}

Event operationalEvent(const SessionContext& ctx, int64_t time, const OperationalInput& in) {
  Event e = newEvent(ctx, Kind::kEvent, ClassUid::kBase, 99, time);
  e.activity_name = in.name;
  e.severity = in.severity;
  e.message = in.message;
  e.unmapped = in.unmapped;
  e.unmapped.erase("integrity");  // reserved for the chain
  applyProfiles(e);
  return e;
}

}  // namespace warden::ocsf
