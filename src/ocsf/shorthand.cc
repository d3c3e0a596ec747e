#include "ocsf/shorthand.h"

#include <charconv>
#include <cstdio>
#include <string_view>

#include "common/clock.h"

namespace warden::ocsf {

namespace {

// Cuts (events.md "Shorthand"): a message or a finding title to 120 bytes, a reason and every
// other free-form bracket value to 256, any other agent-influenced field (names, paths, URLs,
// hosts) to 1024 — so one line stays bounded whatever the event holds. Cuts count the raw bytes,
// land on a UTF-8 boundary, and append "..." (ours, never escaped).
constexpr size_t kMaxMessageBytes = 120;
constexpr size_t kMaxReasonBytes = 256;
constexpr size_t kMaxFieldBytes = 1024;

// Decodes the well-formed UTF-8 sequence at s[i]: its length and code point, or 0 when the bytes
// there are not well-formed (stray continuation, overlong, surrogate, > U+10FFFF, truncated).
size_t decodeUtf8(std::string_view s, size_t i, uint32_t& cp) {
  const auto c = static_cast<uint8_t>(s[i]);
  if (c < 0x80) {
    cp = c;
    return 1;
  }
  size_t n;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const auto cc = static_cast<uint8_t>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000)) return 0;
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

// The longest prefix of `s` of at most `max` bytes that splits no well-formed UTF-8 sequence.
// An invalid byte counts as a unit of its own, so garbage input cannot make the cut walk back.
size_t cutLength(std::string_view s, size_t max) {
  if (s.size() <= max) return s.size();
  size_t pos = 0;
  while (pos < max) {
    uint32_t cp = 0;
    size_t n = decodeUtf8(s, pos, cp);
    if (n == 0) n = 1;
    if (pos + n > max) break;
    pos += n;
  }
  return pos;
}

// Code points above ASCII that are escaped too: C1 controls (U+0085 NEL is a line break to many
// tools), the Unicode line/paragraph separators, and the bidi embedding/override/isolate controls
// (which can make text display in a different order than it is stored).
bool isDangerousCodePoint(uint32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

void appendHex(std::string& out, uint32_t v) {
  char buf[16];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, 16);  // lower-case, no padding
  (void)ec;
  out.append(buf, end);
}

// Writes data the event carries (anything that might come from the agent, the network, the
// kernel or a file) so that it can neither end the line nor fake structure:
//  - every control character (< 0x20, 0x7F, C1, U+2028/9, bidi controls) as \u{hex};
//  - every byte that is not part of well-formed UTF-8 as \x{hex} (the byte is preserved, and the
//    line stays valid UTF-8);
//  - `\`, `[`, `]` as `\\`, `\[`, `\]` — inside bracket items as events.md requires, and outside
//    them too, so a path or a message cannot imitate a bracket either;
//  - inside a quoted finding title, `"` as `\"`.
void appendEscaped(std::string& out, std::string_view s, bool quoted = false) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<uint8_t>(s[i]);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7F) {
        out.append("\\u{");
        appendHex(out, c);
        out.push_back('}');
      } else if (c == '\\' || c == '[' || c == ']' || (quoted && c == '"')) {
        out.push_back('\\');
        out.push_back(static_cast<char>(c));
      } else {
        out.push_back(static_cast<char>(c));
      }
      ++i;
      continue;
    }
    uint32_t cp = 0;
    const size_t n = decodeUtf8(s, i, cp);
    if (n == 0) {
      out.append("\\x{");
      appendHex(out, c);
      out.push_back('}');
      ++i;
      continue;
    }
    if (isDangerousCodePoint(cp)) {
      out.append("\\u{");
      appendHex(out, cp);
      out.push_back('}');
    } else {
      out.append(s.substr(i, n));
    }
    i += n;
  }
}

// Escaped, cut to `max` bytes with "..." appended when cut.
void appendCut(std::string& out, std::string_view s, size_t max, bool quoted = false) {
  const size_t n = cutLength(s, max);
  appendEscaped(out, s.substr(0, n), quoted);
  if (n < s.size()) out.append("...");
}

void appendInt(std::string& out, int64_t v) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  out.append(buf, end);
}

// A scalar Value as text ("" for null, arrays and objects).
std::string scalarText(const Value* v) {
  if (v == nullptr) return {};
  if (v->isString()) return v->asString();
  if (v->isInt()) return std::to_string(v->asInt());
  if (v->isUint()) return std::to_string(v->asUint());
  if (v->isBool()) return v->asBool() ? "true" : "false";
  if (v->isDouble()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v->asDouble());
    return buf;
  }
  return {};
}

// The ACTIVITY token: upper-case ASCII, spaces as `_` so the token stays one word, escaped.
void appendToken(std::string& out, std::string_view name) {
  std::string token(name.substr(0, cutLength(name, 64)));
  for (char& ch : token) {
    if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
    if (ch == ' ') ch = '_';
  }
  if (token.empty()) token = "UNKNOWN";
  appendEscaped(out, token);
}

// One bracket, `[k:v k:v]`; written only if it has items. Keys are ours; values are escaped.
class Bracket {
 public:
  // Appends `k:v`, v escaped and cut to `max` bytes. Empty values are skipped.
  Bracket& add(std::string_view key, std::string_view value, size_t max = kMaxReasonBytes) {
    if (value.empty()) return *this;
    sep(key);
    appendCut(items_, value, max);
    return *this;
  }
  Bracket& add(std::string_view key, int64_t value) {
    sep(key);
    appendInt(items_, value);
    return *this;
  }
  // Appends `k:<text we composed>` without escaping it again (already escaped by the caller).
  Bracket& addRaw(std::string_view key, std::string_view composed) {
    sep(key);
    items_.append(composed);
    return *this;
  }
  void writeTo(std::string& out) const {
    if (items_.empty()) return;
    out.append(" [");
    out.append(items_);
    out.push_back(']');
  }

 private:
  void sep(std::string_view key) {
    if (!items_.empty()) items_.push_back(' ');
    items_.append(key);
    items_.push_back(':');
  }
  std::string items_;
};

// `name(pid)`: the name, else the executable's path; `-` for an unknown name; the whole actor
// is `-` when no process is known.
void appendActor(std::string& out, const Process* p) {
  if (p == nullptr) {
    out.push_back('-');
    return;
  }
  std::string_view name = p->name;
  if (name.empty() && p->file) name = p->file->path.empty() ? std::string_view(p->file->name) : p->file->path;
  if (name.empty()) {
    out.push_back('-');
  } else {
    appendCut(out, name, kMaxFieldBytes);
  }
  if (p->pid) {
    out.push_back('(');
    appendInt(out, *p->pid);
    out.push_back(')');
  }
}

const Process* actorOf(const Event& e) {
  return e.actor ? &*e.actor : nullptr;
}

// `host:port`, the name when known else the IP, an IPv6 address in brackets; `-` when unknown.
void appendHostPort(std::string& out, std::string_view hostname, std::string_view ip,
                    std::optional<int> port) {
  const std::string_view host = hostname.empty() ? ip : hostname;
  if (host.empty()) {
    out.push_back('-');
  } else if (host.find(':') != std::string_view::npos) {
    out.push_back('[');
    appendCut(out, host, kMaxFieldBytes);
    out.push_back(']');
  } else {
    appendCut(out, host, kMaxFieldBytes);
  }
  if (port) {
    out.push_back(':');
    appendInt(out, *port);
  }
}

void appendEndpoint(std::string& out, const std::optional<Endpoint>& e) {
  if (!e) {
    out.push_back('-');
    return;
  }
  appendHostPort(out, e->hostname, e->ip, e->port);
}

std::string_view actionWord(Action a) {
  switch (a) {
    case Action::kAllowed: return "ALLOWED";
    case Action::kDenied: return "DENIED";
    case Action::kObserved: return "OBSERVED";
    case Action::kModified: return "MODIFIED";
    case Action::kUnknown: return "UNKNOWN";
    case Action::kOther: return "OTHER";
  }
  return "UNKNOWN";
}

bool isDenied(const Event& e) {
  return e.action && *e.action == Action::kDenied;
}

// ` ALLOWED` / ` DENIED` / ` OBSERVED` when the event carries an action.
void appendAction(std::string& out, const Event& e) {
  if (!e.action) return;
  out.push_back(' ');
  out.append(actionWord(*e.action));
}

// ` [policy:<rule> engine:<engine>]`, `-` for an unnamed rule or engine.
void appendRule(std::string& out, const Event& e) {
  if (!e.firewall_rule) return;
  Bracket b;
  b.add("policy",
        e.firewall_rule->name.empty() ? std::string_view("-") : std::string_view(e.firewall_rule->name));
  b.add("engine",
        e.firewall_rule->type.empty() ? std::string_view("-") : std::string_view(e.firewall_rule->type));
  b.writeTo(out);
}

// ` [count:N window:HH:MM:SS-HH:MM:SS]` on a summary of repeated events (count with start and
// end times, audit/coalescer.h); LOG events show their own count.
void appendRepeats(std::string& out, const Event& e) {
  if (e.kind == Kind::kLog || !e.count || !e.start_time || !e.end_time) return;
  const std::string from = formatUtcMillis(*e.start_time);
  const std::string to = formatUtcMillis(*e.end_time);
  std::string window = from.substr(11, 8);
  window.push_back('-');
  window.append(to.substr(11, 8));
  Bracket().add("count", *e.count).add("window", window).writeTo(out);
}

// ` [reason:<status_detail>]`, on DENIED only.
void appendReason(std::string& out, const Event& e) {
  if (!isDenied(e) || e.status_detail.empty()) return;
  Bracket().add("reason", e.status_detail, kMaxReasonBytes).writeTo(out);
}

// ` <text>`, escaped and cut; surrounding spaces dropped so a piece never leaves a double or a
// trailing space; nothing at all for empty text.
void appendText(std::string& out, std::string_view text, size_t max) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (text.empty()) return;
  out.push_back(' ');
  appendCut(out, text, max);
}

bool isFailure(const Event& e) {
  return e.status && *e.status == Status::kFailure;
}

// --- one function per kind; each appends after `<PREFIX>:<ACTIVITY> <SEV>` ---

void netDetail(std::string& out, const Event& e) {
  appendAction(out, e);
  out.push_back(' ');
  if (e.activity_id == 7) {  // Listen: the listening endpoint
    appendEndpoint(out, e.proxy_endpoint ? e.proxy_endpoint : e.dst_endpoint);
  } else {
    appendActor(out, actorOf(e));
    out.append(" -> ");
    appendEndpoint(out, e.dst_endpoint);
    // Seen outside the proxy (a bypass): say which transport it tried.
    if (e.observation_point == ObservationPoint::kNeither && e.connection_info &&
        !e.connection_info->protocol_name.empty()) {
      out.push_back('/');
      appendCut(out, e.connection_info->protocol_name, 16);
    }
  }
  appendRule(out, e);
  if (e.traffic || e.duration) {
    Bracket b;
    if (e.traffic && e.traffic->bytes_in) b.add("bytes_in", *e.traffic->bytes_in);
    if (e.traffic && e.traffic->bytes_out) b.add("bytes_out", *e.traffic->bytes_out);
    if (e.duration) b.add("ms", *e.duration);
    b.writeTo(out);
  }
  if (isFailure(e) && !isDenied(e)) {  // relay errors: the code we answered and what went wrong
    Bracket b;
    if (const Value* code = e.unmapped.find("response_code");
        code != nullptr && (code->isInt() || code->isUint())) {
      b.add("code", code->asInt());
    }
    b.add("error", e.status_detail);
    b.writeTo(out);
  }
}

void appendUrl(std::string& out, const Url& url) {
  if (!url.scheme.empty()) {
    appendCut(out, url.scheme, 16);
    out.append("://");
  }
  std::optional<int> port = url.port;
  if (port && ((*port == 443 && (url.scheme == "https" || url.scheme == "wss")) ||
               (*port == 80 && (url.scheme == "http" || url.scheme == "ws")))) {
    port.reset();
  }
  appendHostPort(out, url.hostname, "", port);
  appendCut(out, url.path, kMaxFieldBytes);
  if (!url.query_string.empty()) out.append("?[redacted]");  // never the query itself
}

// The request's method: http_request.http_method for OCSF's methods, else (activity Other) the
// name the builder kept from the request (PROPFIND).
std::string_view httpMethodOf(const Event& e) {
  if (e.http_request && !e.http_request->http_method.empty()) return e.http_request->http_method;
  return e.activity_id == 99 ? std::string_view(e.activity_name) : std::string_view();
}

void httpDetail(std::string& out, const Event& e) {
  appendAction(out, e);
  out.push_back(' ');
  appendActor(out, actorOf(e));
  out.append(" -> ");
  if (e.http_request) {
    if (const std::string_view method = httpMethodOf(e); !method.empty()) {
      appendCut(out, method, 32);
      out.push_back(' ');
    }
    const Url& url = e.http_request->url;
    if (e.http_request->http_method == "CONNECT") {  // authority-form: the tunnel's host:port
      appendHostPort(out, url.hostname, "", url.port);
    } else {
      appendUrl(out, url);
    }
  } else {
    appendEndpoint(out, e.dst_endpoint);
  }
  appendRule(out, e);
  if (e.http_response) Bracket().add("code", e.http_response->code).writeTo(out);
}

// dig's mnemonics, the spelling operators grep for.
std::string_view rcodeWord(DnsRcode r) {
  switch (r) {
    case DnsRcode::kNoError: return "NOERROR";
    case DnsRcode::kFormError: return "FORMERR";
    case DnsRcode::kServError: return "SERVFAIL";
    case DnsRcode::kNxDomain: return "NXDOMAIN";
    case DnsRcode::kNotImp: return "NOTIMP";
    case DnsRcode::kRefused: return "REFUSED";
  }
  return "UNKNOWN";
}

void dnsDetail(std::string& out, const Event& e) {
  appendAction(out, e);
  out.push_back(' ');
  appendActor(out, actorOf(e));
  if (e.query) {
    appendText(out, e.query->hostname, kMaxFieldBytes);
    appendText(out, e.query->type, 16);
  }
  Bracket b;
  if (!e.answers.empty()) {
    std::string joined;
    for (const auto& a : e.answers) {
      if (!joined.empty()) joined.push_back(',');
      joined.append(a.rdata);
    }
    b.add("answers", joined);
  }
  if (e.rcode && *e.rcode != DnsRcode::kNoError) b.add("rcode", rcodeWord(*e.rcode));
  b.writeTo(out);
  appendRule(out, e);  // when policy answered (a name no rule could allow: NXDOMAIN)
}

void sshDetail(std::string& out, const Event& e) {
  appendAction(out, e);
  out.push_back(' ');
  if (e.src_endpoint || !e.dst_endpoint) appendEndpoint(out, e.src_endpoint);
  if (e.src_endpoint && e.dst_endpoint) out.append(" -> ");
  if (e.dst_endpoint) appendEndpoint(out, e.dst_endpoint);  // alone for Listen
  appendRule(out, e);
  if (e.auth_type) {
    std::string auth(authTypeCaption(*e.auth_type));
    for (char& ch : auth) {
      if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
      if (ch == ' ') ch = '_';
    }
    Bracket().add("auth", auth).writeTo(out);
  }
}

void procDetail(std::string& out, const Event& e) {
  const Process* p = e.process ? &*e.process : actorOf(e);
  appendAction(out, e);
  out.push_back(' ');
  appendActor(out, p);
  if (e.activity_id == 1 && p != nullptr) {  // Launch
    Bracket ids;
    if (p->uid) ids.add("uid", *p->uid);
    if (p->parent_process && p->parent_process->pid) ids.add("ppid", *p->parent_process->pid);
    ids.writeTo(out);
    Bracket().add("cmd", p->cmd_line).writeTo(out);
    if (e.status == Status::kFailure) Bracket().add("errno", e.status_detail, 32).writeTo(out);
  }
  Bracket b;
  if (e.exit_code) b.add("exit", *e.exit_code);
  if (!isDenied(e) && e.activity_id != 1) b.add("signal", e.status_detail, 32);
  b.writeTo(out);
}

void fileDetail(std::string& out, const Event& e) {
  appendAction(out, e);
  out.push_back(' ');
  appendActor(out, actorOf(e));
  auto pathOf = [](const File& f) {
    return f.path.empty() ? std::string_view(f.name) : std::string_view(f.path);
  };
  out.push_back(' ');
  if (e.file) {
    appendCut(out, pathOf(*e.file), kMaxFieldBytes);
  } else {
    out.push_back('-');
  }
  if (e.file_result) {
    out.append(" -> ");
    appendCut(out, pathOf(*e.file_result), kMaxFieldBytes);
  }
  if (const Value* s = e.unmapped.find("sensitive"); s != nullptr && s->isBool() && s->asBool())
    out.append(" [sensitive]");
  // A connection through a unix socket file (the capture's FILE:OPEN with operation connect).
  if (e.unmapped.stringAt("operation") == "connect") out.append(" [connect]");
}

void findingDetail(std::string& out, const Event& e) {
  out.append(" \"");
  if (e.finding_info)
    appendCut(out, e.finding_info->title.empty() ? e.finding_info->uid : e.finding_info->title,
              kMaxMessageBytes, /*quoted=*/true);
  out.push_back('"');
  Bracket b;
  if (e.finding_info && !e.finding_info->analytic_name.empty()) {
    // A detection rule's finding (detect.md): the rule, and what it did when not just alert.
    b.add("rule", e.finding_info->analytic_name);
    b.add("action", e.unmapped.stringAt("action"));
    b.writeTo(out);
    return;
  }
  if (e.finding_info && !e.finding_info->types.empty()) {
    std::string joined;
    for (const auto& t : e.finding_info->types) {
      if (!joined.empty()) joined.push_back(',');
      joined.append(t);
    }
    b.add("type", joined);
  }
  if (e.confidence) {
    std::string c(confidenceCaption(*e.confidence));
    for (char& ch : c) {
      if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
    }
    b.add("confidence", c);
  }
  b.writeTo(out);
}

void configDetail(std::string& out, const Event& e) {
  appendText(out, e.message, kMaxMessageBytes);
  Bracket b;
  b.add("version", scalarText(e.unmapped.find("policy_version")), 64);
  const std::string hash = scalarText(e.unmapped.find("policy_hash"));
  b.add("hash", std::string_view(hash).substr(0, 8));
  b.add("config_revision", scalarText(e.unmapped.find("config_revision")), 32);
  if (const Value* errors = e.unmapped.find("errors"); errors != nullptr && errors->isArray()) {
    if (!errors->asArray().empty()) b.add("errors", static_cast<int64_t>(errors->asArray().size()));
  }
  b.writeTo(out);
}

void lifecycleDetail(std::string& out, const Event& e) {
  const std::string_view component = e.unmapped.stringAt("component");
  if (!component.empty()) {
    out.push_back(' ');
    appendCut(out, component, 64);
    if (!e.message.empty()) out.push_back(':');
  }
  appendText(out, e.message, kMaxMessageBytes);
}

void sessionDetail(std::string& out, const Event& e) {
  std::string_view name;
  if (e.device && e.device->container) {
    name = e.device->container->name.empty() ? std::string_view(e.device->container->uid)
                                             : std::string_view(e.device->container->name);
  }
  if (name.empty() && e.app) name = e.app->uid;
  out.push_back(' ');
  if (name.empty()) {
    out.push_back('-');
  } else {
    appendCut(out, name, kMaxFieldBytes);
  }
  appendText(out, e.message, kMaxMessageBytes);
  // Not a denial reason: for SESSION, status_detail is why the session ended.
  Bracket b;
  b.add("reason", e.status_detail, kMaxReasonBytes);
  if (const Value* code = e.unmapped.find("exit_code");
      code != nullptr && (code->isInt() || code->isUint())) {
    b.add("exit", code->asInt());
  }
  b.add("rule", e.unmapped.stringAt("rule"));  // the detection rule that stopped it
  b.writeTo(out);
}

void pkgDetail(std::string& out, const Event& e) {
  appendAction(out, e);
  appendText(out, scalarText(e.unmapped.findPath({"package", "manager"})), 64);
  if (e.app) {
    appendText(out, e.app->name, kMaxFieldBytes);
    appendText(out, e.app->version, 128);
  }
  appendRule(out, e);
  Bracket b;
  if (e.app) b.add("source", e.app->url_string, kMaxReasonBytes);
  const std::string sha = scalarText(e.unmapped.findPath({"package", "sha256"}));
  if (!sha.empty()) b.add("sha256", sha.size() > 4 ? sha.substr(0, 4) + "..." : sha);
  b.add("verdict", scalarText(e.unmapped.findPath({"package", "verdict"})), 64);
  const Value* complete = e.unmapped.findPath({"package", "complete"});
  if (complete != nullptr && complete->isBool() && !complete->asBool()) {
    b.add("bytes", scalarText(e.unmapped.findPath({"package", "bytes"})), 32);
    b.add("status", "incomplete");
  }
  b.writeTo(out);
}

// `[server:host status:<result> ms:<latency>]`, or for a decided call
// `[server:host policy:<rule> engine:<engine>]` (the reason follows on DENIED).
void toolDetail(std::string& out, const Event& e) {
  appendAction(out, e);
  out.push_back(' ');
  appendActor(out, actorOf(e));
  out.append(" -> ");
  if (e.api && !e.api->operation.empty()) {
    appendCut(out, e.api->operation, kMaxFieldBytes);
  } else {
    out.push_back('-');
  }
  Bracket b;
  if (e.dst_endpoint) {
    std::string server;
    appendHostPort(server, e.dst_endpoint->hostname, e.dst_endpoint->ip, std::nullopt);
    b.addRaw("server", server);
  }
  if (e.firewall_rule) {
    b.add("policy", e.firewall_rule->name.empty() ? std::string_view("-") : std::string_view(e.firewall_rule->name));
    b.add("engine", e.firewall_rule->type.empty() ? std::string_view("-") : std::string_view(e.firewall_rule->type));
  }
  if (!isDenied(e)) {
    std::string status = scalarText(e.unmapped.findPath({"tool", "result_status"}));
    if (status.empty() && e.status) {
      status = statusCaption(*e.status);
      for (char& ch : status) {
        if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
      }
    }
    b.add("status", status, 64);
    if (e.duration) b.add("ms", *e.duration);
  }
  b.writeTo(out);
}

// `actor -> host model [in:N out:N ms:N stop:R tools:a,b]`, plus `status:incomplete|error` when
// the call did not end well.
void modelDetail(std::string& out, const Event& e) {
  out.push_back(' ');
  appendActor(out, actorOf(e));
  out.append(" -> ");
  if (e.dst_endpoint) {
    appendHostPort(out, e.dst_endpoint->hostname, e.dst_endpoint->ip, std::nullopt);
  } else {
    out.push_back('-');
  }
  const std::string model = scalarText(e.unmapped.findPath({"model", "name"}));
  appendText(out, model.empty() ? std::string("-") : model, 256);
  Bracket b;
  b.add("in", scalarText(e.unmapped.findPath({"model", "input_tokens"})), 32);
  b.add("out", scalarText(e.unmapped.findPath({"model", "output_tokens"})), 32);
  if (e.duration) b.add("ms", *e.duration);
  b.add("stop", scalarText(e.unmapped.findPath({"model", "stop_reason"})), 64);
  if (const Value* calls = e.unmapped.findPath({"model", "tool_calls"}); calls != nullptr && calls->isArray()) {
    std::string names;
    for (const Value& c : calls->asArray()) {
      const std::string name = scalarText(c.find("name"));
      if (name.empty()) continue;
      if (!names.empty()) names.push_back(',');
      names += name;
    }
    b.add("tools", names, kMaxReasonBytes);
  }
  const Value* incomplete = e.unmapped.findPath({"model", "incomplete"});
  if (incomplete != nullptr && incomplete->isBool() && incomplete->asBool()) {
    b.add("status", "incomplete");
  } else if (isFailure(e)) {
    b.add("status", "error");
  }
  b.writeTo(out);
}

// ` ALLOWED root(4242) -> SetSetting [auth:unix from:10.0.0.5:5123 key:... value:...]`: the caller
// (actor.user.name, the pid when known), the operation, how the caller authenticated, a TCP peer,
// then the request's items in order.
void apiDetail(std::string& out, const Event& e) {
  appendAction(out, e);
  out.push_back(' ');
  if (e.actor_user && !e.actor_user->name.empty()) {
    appendCut(out, e.actor_user->name, kMaxFieldBytes);
  } else {
    out.push_back('-');
  }
  if (e.actor && e.actor->pid) {
    out.push_back('(');
    appendInt(out, *e.actor->pid);
    out.push_back(')');
  }
  out.append(" -> ");
  if (e.api && !e.api->operation.empty()) {
    appendCut(out, e.api->operation, kMaxFieldBytes);
  } else {
    out.push_back('-');
  }
  Bracket b;
  b.add("auth", scalarText(e.unmapped.find("auth")), 16);
  if (e.src_endpoint && !e.src_endpoint->ip.empty()) {
    std::string from;
    appendHostPort(from, {}, e.src_endpoint->ip, e.src_endpoint->port);
    b.addRaw("from", from);
  }
  if (const Value* request = e.unmapped.find("request"); request != nullptr && request->isObject()) {
    for (const auto& [key, value] : request->asObject()) b.add(key, scalarText(&value), 128);
  }
  b.writeTo(out);
}

void limitDetail(std::string& out, const Event& e) {
  out.push_back(' ');
  appendActor(out, actorOf(e));
  Bracket b;
  b.add("limit", scalarText(e.unmapped.findPath({"limit", "limit"})), 64);
  b.add("measured", scalarText(e.unmapped.findPath({"limit", "measured"})), 64);
  b.add("action", scalarText(e.unmapped.findPath({"limit", "action"})), 64);
  b.writeTo(out);
}

std::string seqRange(const Value* first, const Value* last) {
  std::string r = scalarText(first);
  const std::string l = scalarText(last);
  if (!l.empty()) r.append("-").append(l);
  return r;
}

void logDetail(std::string& out, const Event& e) {
  if (const Value* cp = e.unmapped.find("checkpoint"); cp != nullptr && cp->isObject()) {
    Bracket b;
    b.add("seq", seqRange(cp->find("first_seq"), cp->find("last_seq")), 64);
    b.add("head", cp->stringAt("head").substr(0, 8));
    b.add("key", cp->stringAt("key_id").substr(0, 4));
    if (const Value* fin = cp->find("final"); fin != nullptr && fin->isBool() && fin->asBool())
      b.add("final", "true");
    b.writeTo(out);
    return;
  }
  if (const Value* loss = e.unmapped.find("loss"); loss != nullptr && loss->isObject()) {
    Bracket b;
    if (const std::string_view kind = loss->stringAt("kind"); !kind.empty()) {  // kernel capture loss
      b.add("kind", kind, 32);
      b.add("count", scalarText(loss->find("count")), 32);
      b.add("window", loss->stringAt("window"), 64);
      b.writeTo(out);
      return;
    }
    std::string count = scalarText(loss->find("count"));
    if (count.empty() && e.count) count = std::to_string(*e.count);
    b.add("count", count, 32);
    b.add("seq", seqRange(loss->find("first_seq"), loss->find("last_seq")), 64);
    b.add("refused", scalarText(loss->find("refused_over_budget")), 32);  // past the log budget
    b.writeTo(out);
    return;
  }
  if (const Value* key = e.unmapped.find("signing_key"); key != nullptr && key->isObject()) {
    Bracket().add("key", key->stringAt("key_id").substr(0, 4)).writeTo(out);
    return;
  }
  appendText(out, e.message, kMaxMessageBytes);
}

void eventDetail(std::string& out, const Event& e) {
  appendText(out, e.message, kMaxMessageBytes);
  // Scalar top-level unmapped facts, in key order.
  if (e.unmapped.isObject()) {
    Bracket b;
    for (const auto& [k, v] : e.unmapped.asObject()) {
      const std::string text = scalarText(&v);
      if (text.empty()) continue;
      std::string key;
      appendCut(key, k, 64);
      b.add(key, text);
    }
    b.writeTo(out);
  }
}

// The ACTIVITY of `<PREFIX>:<ACTIVITY>`.
std::string_view activityOf(const Event& e, std::string& scratch) {
  switch (e.kind) {
    case Kind::kHttp:
      if (const std::string_view method = httpMethodOf(e); !method.empty()) return method;
      break;
    case Kind::kFinding:
      if (e.disposition) return dispositionCaption(*e.disposition);
      return "Created";  // a finding that decided nothing (a detection rule's): FINDING:CREATED
    case Kind::kConfig: {
      const std::string_view state = e.unmapped.stringAt("state");
      if (!state.empty()) return state;
      break;
    }
    case Kind::kLimit:
      scratch = scalarText(e.unmapped.findPath({"limit", "type"}));
      if (!scratch.empty()) return scratch;
      break;
    default: break;
  }
  return e.activityName();
}

}  // namespace

void appendShorthandText(std::string& out, std::string_view text) { appendEscaped(out, text); }

void appendShorthand(std::string& out, const Event& e) {
  const size_t start = out.size();
  out.append(kindPrefix(e.kind));
  out.push_back(':');
  std::string scratch;
  appendToken(out, activityOf(e, scratch));
  out.push_back(' ');
  out.append(severityTag(e.severity));
  switch (e.kind) {
    case Kind::kNet: netDetail(out, e); break;
    case Kind::kHttp: httpDetail(out, e); break;
    case Kind::kDns: dnsDetail(out, e); break;
    case Kind::kSsh: sshDetail(out, e); break;
    case Kind::kProc: procDetail(out, e); break;
    case Kind::kFile: fileDetail(out, e); break;
    case Kind::kFinding: findingDetail(out, e); break;
    case Kind::kConfig: configDetail(out, e); break;
    case Kind::kLifecycle: lifecycleDetail(out, e); break;
    case Kind::kSession: sessionDetail(out, e); break;
    case Kind::kPkg: pkgDetail(out, e); break;
    case Kind::kTool: toolDetail(out, e); break;
    case Kind::kApi: apiDetail(out, e); break;
    case Kind::kModel: modelDetail(out, e); break;
    case Kind::kLimit: limitDetail(out, e); break;
    case Kind::kLog: logDetail(out, e); break;
    case Kind::kEvent: eventDetail(out, e); break;
  }
  appendRepeats(out, e);
  if (e.kind != Kind::kSession) appendReason(out, e);
  // No trailing spaces, whatever a field ended with.
  while (out.size() > start && out.back() == ' ') out.pop_back();
}

std::string toShorthand(const Event& event) {
  std::string out;
  out.reserve(160);
  appendShorthand(out, event);
  return out;
}

void appendLogLine(std::string& out, const Event& event) {
  appendUtcMillis(out, event.time);
  out.append(" OCSF ");
  appendShorthand(out, event);
}

}  // namespace warden::ocsf
