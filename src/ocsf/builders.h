#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ocsf/event.h"

namespace warden::ocsf {

// Builders: one function per event Warden emits (events.md class table). Each returns a
// fully-formed Event — class, activity, type, severity (events.md "Severity"), status, message —
// enriched from a SessionContext: `device` (host, Linux, the session as container), `metadata`
// (profiles, a fresh UUIDv7 uid, correlation_uid = session id, product version). The audit writer
// adds metadata.sequence and the integrity link; nothing else needs to be filled in afterwards.
// Severity is the class's default for the case; a caller that knows better (an unsolicited 101
// is High, events.md "Severity") raises event.severity on the returned value.
//
// Builders are pure functions of their arguments (plus the random part of the UUIDv7): stateless,
// thread-safe, never throw on any input (only std::bad_alloc). Inputs are plain structs with
// defaults; every field that can come from the agent is copied as data, never interpreted.
//
// Secrets: builders never add a credential. URL query strings are always replaced by
// "[redacted]" and user-info (`user:pass@`) is dropped from any URL a builder is given. argv and
// cmd_line are recorded as given: their sources redact secret-shaped words first (capture/recorder.cc,
// the proxy's actors; docs/formats.md, "OCSF mapping").

// What every event of one session shares. Immutable after set-up; borrowed by the builders.
struct SessionContext {
  std::string hostname;         // the host the supervisor runs on (device.hostname)
  std::string session_id;       // device.container.uid, metadata.correlation_uid, SESSION app.uid
  std::string session_name;     // device.container.name ("agent-7"); the id when empty
  std::string image_name;       // device.container.image.name, when there is one
  Endpoint proxy;               // the proxy's listening ip:port (proxy_endpoint on NET/HTTP)
  std::string product_version;  // metadata.product.version; WARDEN_VERSION when empty
};

// ----- Shared steps, also for builders that live elsewhere (src/audit/log_events.*) -----

// A new event of `kind`/`cls`/`activity_id` at `time`, enriched from `ctx`: device, metadata
// (host + container profiles, uid, correlation_uid, product_version), severity Informational.
Event newEvent(const SessionContext& ctx, Kind kind, ClassUid cls, int activity_id, int64_t time);
// Adds the profiles the event's content calls for: network_proxy on NET and HTTP, and
// security_control whenever action, disposition, firewall_rule or attacks is set. Idempotent.
void applyProfiles(Event& event);

// ----- URL helpers -----

// Splits an absolute URL ("https://user:pw@host:8443/p/a?q=1#f") or an origin-form request target
// ("/p/a?q=1") into a Url: user-info and fragment dropped, the query replaced by "[redacted]"
// whenever there was one (even an empty "?"). Never fails: what does not parse ends up in path.
Url splitUrl(std::string_view url);
// The same URL as a string safe to record: "https://host:8443/p/a?[redacted]".
std::string redactUrl(std::string_view url);

// ----- Network Activity (NET) -----

// What the proxy knows about one client connection.
struct Connection {
  std::optional<Process> actor;  // the calling process, when identified
  Endpoint src;                  // the agent's side (sandbox ip:port)
  Endpoint dst;                  // the target: hostname when known, ip when resolved, port
  std::string protocol = "tcp";  // connection_info.protocol_name
};

// A policy decision as recorded: action_id/disposition_id, firewall_rule and the reason.
struct Decision {
  Action action = Action::kAllowed;  // Allowed, Denied, or Observed (audit-mode would-be deny)
  std::string rule = "-";            // the policy rule's name, "-" when none matched
  std::string engine = "policy";     // "policy", "ssrf", "l7", "nftables"
  std::string reason;                // status_detail; shown as [reason:...] on DENIED
};

// Open 1: a CONNECT/forward connection decided. Allowed: Informational; Denied: Medium.
Event netOpen(const SessionContext& ctx, int64_t time, const Connection& conn, const Decision& decision);
// Close 2: traffic {bytes_in, bytes_out} (bytes from/to the agent's point of view: in = received
// by the agent) and duration in ms. Informational.
Event netClose(const SessionContext& ctx, int64_t time, const Connection& conn, int64_t bytes_in,
               int64_t bytes_out, int64_t duration_ms);
// Other 99 "Upgrade": the connection switched protocols (`upgrade`, e.g. "websocket") and left
// L7 inspection. Informational when allowed.
Event netUpgrade(const SessionContext& ctx, int64_t time, const Connection& conn, const Decision& decision,
                 std::string_view upgrade = "websocket");
// Refuse 5: a direct connection that bypassed the proxy (the nftables log line). Observation
// point Neither (3), firewall_rule {bypass-detect, nftables}, Denied, Blocked, Medium; `reason`
// in status_detail. Dual-emit a finding after it.
Event netRefuse(const SessionContext& ctx, int64_t time, const Connection& conn, std::string_view reason);
// Listen 7: the proxy is listening on `listen` (ctx.proxy when its ip is empty). Informational.
Event netListen(const SessionContext& ctx, int64_t time, const Endpoint& listen = {});

// A relay error: what the proxy answered the client (502 Bad Gateway, 504 Gateway Timeout) and why.
struct RelayError {
  int response_code = 502;  // unmapped.response_code
  std::string detail;       // status_detail, e.g. "connect to 203.0.113.7:443: connection refused"
};
// Fail 4: the upstream could not be reached (502/504). Low, status Failure.
Event netFail(const SessionContext& ctx, int64_t time, const Connection& conn, const RelayError& error);
// Reset 3: the upstream or the client reset the connection mid-relay. Low, status Failure.
Event netReset(const SessionContext& ctx, int64_t time, const Connection& conn, const RelayError& error);

// ----- HTTP Activity (HTTP) -----

struct HttpExchange {
  std::optional<Process> actor;
  Endpoint src;
  std::string method = "GET";        // activity by method; anything else is 99 with the method as name
  std::string url;                   // absolute ("https://host/path?q") or origin-form ("/path?q")
  std::string host;                  // used when `url` is origin-form (the CONNECT target / Host)
  std::optional<int> port;           // likewise
  std::string scheme = "https";      // likewise
  std::optional<int> response_code;  // http_response.code, when there is a response
  std::string user_agent;
};
// An HTTP request decided at L7. Allowed/Observed: Informational; Denied: Medium.
Event httpRequest(const SessionContext& ctx, int64_t time, const HttpExchange& exchange,
                  const Decision& decision);
// The activity id for a method (case-sensitive per RFC 9110): GET 3, POST 6, …, 99 otherwise.
int httpActivityId(std::string_view method);

// ----- DNS Activity (DNS) -----

struct DnsLookup {
  std::optional<Process> actor;
  Endpoint src;       // the asking socket in the sandbox
  Endpoint resolver;  // the answering resolver; ctx.proxy's ip port 53 when empty
  std::string hostname;
  std::string type = "A";
  std::vector<DnsAnswer> answers;
  std::optional<DnsRcode> rcode;
  std::optional<Decision> decision;  // when policy answered (e.g. NXDOMAIN for a name no rule allows)
};
// Query 1 (a query and, when known, what it was answered with); Response 2. Informational;
// Low when the rcode is an error (NXDOMAIN, SERVFAIL, …), with status Failure; Medium when a
// decision denied it.
Event dnsQuery(const SessionContext& ctx, int64_t time, const DnsLookup& lookup);
Event dnsResponse(const SessionContext& ctx, int64_t time, const DnsLookup& lookup);

// ----- SSH Activity (SSH) -----

enum class SshActivity : int { kOpen = 1, kClose = 2, kFail = 4, kRefuse = 5, kListen = 7, kOther = 99 };

struct SshSession {
  Endpoint src;  // the client
  Endpoint dst;  // the sandbox's SSH endpoint
  std::optional<AuthType> auth_type;
  std::optional<Process> actor;
  std::string other_name;  // activity_name for kOther ("Replay")
  std::string message;
};
// Open/Listen/Close: Informational; Fail: Low; Refuse or a Denied decision: Medium.
Event sshActivity(const SessionContext& ctx, int64_t time, SshActivity activity, const SshSession& ssh,
                  const std::optional<Decision>& decision = std::nullopt);

// ----- Process Activity (PROC) -----

// Launch 1: `process` (name, pid, uid, file, cwd, parent chain), argv as unmapped.argv, cmd_line
// from argv when the process has none. The actor is the parent when known, else the process.
Event procLaunch(const SessionContext& ctx, int64_t time, const Process& process,
                 const std::vector<std::string>& argv, LaunchType launch_type = LaunchType::kExec);

// What the kernel capture knows of one exec beyond the Process itself.
struct LaunchDetails {
  std::vector<std::string> argv;  // unmapped.argv, exactly as the kernel reported it (any bytes)
  LaunchType launch_type = LaunchType::kExec;
  bool argv_truncated = false;    // unmapped.argv_truncated: argv was longer than the capture keeps
  uint64_t argv_length = 0;       // unmapped.argv_length: the full argv size in bytes, when truncated
  bool argv_best_effort = false;  // unmapped.argv_source "procfs": read after the fact (fallback)
  std::optional<int> failure_errno;  // a failed exec: status Failure, Low, errno name in status_detail
  std::optional<int64_t> euid;       // unmapped.euid / unmapped.gid (OCSF's need the linux_users profile)
  std::optional<int64_t> gid;
  std::string exec_filename;  // unmapped.exec_filename: the path asked for, when it differs from file.path
  int attempts = 0;           // a failed exec: unmapped.attempts when a PATH search tried several
};
// Launch 1 from the kernel capture: as above, plus the details; a failed exec is a Launch with
// status Failure (2), the errno name ("ENOENT") in status_detail, severity Low.
Event procLaunch(const SessionContext& ctx, int64_t time, const Process& process, const LaunchDetails& details);
// "ENOENT" for ENOENT, ...; "E<n>" for numbers without a name.
std::string errnoName(int err);

// A PROC:TERMINATE for a process that died of a signal: `signal` set and exit_code 0 writes no
// exit_code (the process had none); any other exit_code is written as given.
struct ProcessExit {
  int exit_code = 0;
  std::optional<int> signal;     // the terminating signal, written "SIGKILL" in status_detail
  bool killed_by_limit = false;  // killed for a timeout or a resource limit: Critical
};
// Terminate 2: exit_code; the signal in status_detail. Informational unless killed_by_limit.
Event procTerminate(const SessionContext& ctx, int64_t time, const Process& process, const ProcessExit& exit);
// Other 99 "Signal": `signal` delivered to `process` by `sender` (when known). Informational.
Event procSignal(const SessionContext& ctx, int64_t time, const Process& process, int signal,
                 const std::optional<Process>& sender = std::nullopt);
// "SIGKILL" for 9, …; "SIG<n>" for numbers without a name.
std::string signalName(int signal);

// ----- File System Activity (FILE) -----

enum class FileActivity : int {
  kCreate = 1,
  kRead = 2,
  kUpdate = 3,
  kDelete = 4,
  kRename = 5,
  kSetAttributes = 6,
  kSetSecurity = 7,
  kMount = 12,
  kUnmount = 13,
  kOpen = 14,
};

struct FileAccess {
  FileActivity activity = FileActivity::kRead;
  Process actor;                     // with pid and uid
  File file;                         // name is derived from path when empty
  std::optional<File> target;        // file_result: the rename target, the mount point
  std::optional<Decision> decision;  // when a control (Landlock, fanotify) decided; Denied: Medium
  bool sensitive = false;            // unmapped.sensitive: a sensitive path (shorthand `[sensitive]`)
  std::string operation;             // unmapped.operation: "truncate", "chmod", "chown", "mkdir", ...
  Value details;                     // further unmapped facts (mode, owner, fstype); an object or null
};
Event fileActivity(const SessionContext& ctx, int64_t time, const FileAccess& access);

// ----- Detection Finding (FINDING) -----

struct FindingInput {
  std::string uid;    // finding_info.uid; a fresh UUIDv7 when empty
  std::string title;  // "Unsolicited 101 Switching Protocols"
  std::string desc;
  std::vector<std::string> types;  // "unsolicited-101"
  std::vector<Attack> attacks;     // MITRE ATT&CK, where one applies
  Value evidences;                 // array of evidence objects (see evidenceOf)
  std::string remediation;         // remediation.desc, when there is a fix
  bool is_alert = true;
  Confidence confidence = Confidence::kHigh;
  RiskLevel risk_level = RiskLevel::kHigh;
  Severity severity = Severity::kHigh;
  // The shorthand activity (FINDING:BLOCKED). nullopt: no disposition_id, and the shorthand says
  // FINDING:CREATED (the activity of a rule's finding, which decides nothing itself).
  std::optional<Disposition> disposition = Disposition::kBlocked;
  std::string detection_rule;  // the detection rule that made it: finding_info.analytic; [rule:...]
  std::optional<Process> actor;
  std::optional<FirewallRule> rule;
  std::string message;  // defaults to the title
};
// Create 1. High unless the input says otherwise.
Event finding(const SessionContext& ctx, int64_t time, const FindingInput& input);
// One evidence object from a domain event, for dual emit: the actor, endpoints, connection info,
// HTTP request/response, query, process, file and api it carries, as OCSF objects.
Value evidenceOf(const Event& domain_event);

// ----- Device Config State Change (CONFIG) -----

inline constexpr std::string_view kConfigLoaded = "LOADED";
inline constexpr std::string_view kConfigUpdated = "UPDATED";
inline constexpr std::string_view kConfigFailed = "FAILED";
inline constexpr std::string_view kConfigDegraded = "DEGRADED";

struct ConfigChange {
  std::string state{kConfigLoaded};         // unmapped.state; the shorthand activity
  std::string message;                      // "policy loaded", "OCSF JSONL output enabled"
  std::string policy_version;               // unmapped.policy_version
  std::string policy_hash;                  // unmapped.policy_hash (hex SHA-256 of the policy file)
  std::optional<uint64_t> config_revision;  // unmapped.config_revision
  std::vector<std::string> errors;          // unmapped.errors; the first is status_detail
  std::optional<Severity> severity;         // default: FAILED High, DEGRADED Medium, else Informational
};
// Log 1. FAILED: status Failure; otherwise Success.
Event configChange(const SessionContext& ctx, int64_t time, const ConfigChange& change);

// ----- Application Lifecycle (LIFECYCLE, SESSION, PKG) -----

enum class LifecycleActivity { kStart, kStop, kReady, kFailed };
struct LifecycleInput {
  LifecycleActivity activity = LifecycleActivity::kStart;
  std::string component = "supervisor";  // unmapped.component
  std::string message;
  std::string error;   // status_detail on kFailed
  bool fatal = false;  // kFailed and the supervisor cannot continue: Fatal instead of Critical
};
// The supervisor: Start 3, Stop 4, Other 99 "Ready"/"Failed"; app {name "Warden", version}.
Event lifecycle(const SessionContext& ctx, int64_t time, const LifecycleInput& input);

enum class SessionActivity { kCreate, kStart, kPause, kResume, kStop, kCleanup };
enum class StopReason { kExit, kTimeout, kOom, kSignal, kApi, kPolicyViolation };
// "exit", "timeout", "oom", "signal", "api", "policy_violation".
std::string_view stopReasonName(StopReason reason);

struct SessionInput {
  SessionActivity activity = SessionActivity::kStart;
  std::optional<StopReason> reason;  // kStop: status_detail
  std::optional<int> exit_code;      // kStop: unmapped.exit_code
  std::string rule;                  // kStop for kPolicyViolation: the detection rule, unmapped.rule
  std::string message;               // kCleanup: what happened to the filesystem state
};
// The sandbox session: Start 3, Stop 4, Other 99 "Create"/"Pause"/"Resume"/"Cleanup";
// app {name "warden-session", uid session id}. Stop severity: timeout/oom Critical,
// policy_violation Medium, signal Low, exit/api Informational.
Event session(const SessionContext& ctx, int64_t time, const SessionInput& input);

struct PackageInstall {
  std::optional<Process> actor;
  std::string manager;  // "pip", "npm", "apt", "cargo"
  std::string name;
  std::string version;            // what was installed
  std::string requested_version;  // what was asked for ("", ">=2", "latest")
  std::string source_url;         // recorded redacted (no query, no user-info)
  std::string sha256;             // of the downloaded artifact
  // What the proxy saw of the download (docs/packages.md). All optional: a builder caller that only
  // knows the fields above gets the event it always got.
  std::string advertised_sha256;  // the SHA-256 an index of this session advertised (hex)
  std::string advertised_hash;    // another advertised digest when there was no SHA-256 ("sha512-<b64>")
  std::string verdict;            // "verified", "mismatch", "unknown"; empty: not judged
  std::string verdict_detail;     // why: "no index of this session advertised it", ...
  std::optional<int64_t> bytes;   // body bytes seen
  bool complete = true;           // false: the body ended early (bytes seen, no verdict)
  std::string install_kind;       // "index", "direct_url", "vcs"; empty when not known
  std::optional<Decision> decision;  // when the proxy denied or cut the download
};
// Install 1: app {name, version, url_string}, unmapped.package {manager, requested_version, sha256,
// advertised_sha256, advertised_hash, verdict, verdict_detail, bytes, complete, install_kind}.
// Informational; High on a mismatch; Medium when denied otherwise. Status Failure when the body
// was cut short or the download denied.
Event pkgInstall(const SessionContext& ctx, int64_t time, const PackageInstall& pkg);

// ----- API Activity (TOOL, MODEL) -----

struct ToolCall {
  Process actor;
  Endpoint src;               // where the call came from; the sandbox when empty
  std::string tool;           // api.operation ("read_file"); the method for a failed non-call
  std::string service;        // api.service.name ("filesystem" MCP server)
  std::string input_summary;  // a summary, never raw secrets; cut to 256 bytes
  std::string result_status = "success";
  Status status = Status::kSuccess;
  // From the proxy (docs/mcp.md); all optional.
  std::optional<Endpoint> dst;       // the MCP server's host:port
  std::string method;                // unmapped.tool.method: "tools/call", or the failed method
  std::string input;                 // unmapped.tool.input: the arguments (tool_inputs: full), redacted
  std::string error;                 // the JSON-RPC error or tool error text (cut)
  std::optional<int64_t> duration_ms;
  std::optional<Decision> decision;  // a call the policy decided (DENIED: Medium)
};
// Other 99 "Call". Informational; Low on failure; Medium when denied.
Event toolCall(const SessionContext& ctx, int64_t time, const ToolCall& call);

// ----- API Activity (API): calls to Warden's own API (the gateway's RPCs) -----

enum class ApiActivity : int { kCreate = 1, kRead = 2, kUpdate = 3, kDelete = 4 };

// Who called: how they proved it and what that proof names. Never a secret (a token's id, never
// the token).
struct ApiCaller {
  std::string auth = "none";   // unmapped.auth: "unix" (SO_PEERCRED), "cert", "token", "session", "none"
  std::string name;            // actor.user.name: the Unix user, certificate subject, token id or session id
  std::optional<int64_t> uid;  // actor.user.uid and actor.process.user.uid (unix peers)
  std::optional<int64_t> pid;  // actor.process.pid (unix peers: the pid at connect time)
  // actor.user.programmatic_credentials [{type, uid}]: "operator token" + its id, "x509 certificate"
  // + "sha256:<fingerprint>".
  std::string credential_type;
  std::string credential_uid;
  Endpoint src;                // src_endpoint: the TCP peer, or the local host for unix peers
};

struct ApiCall {
  ApiActivity activity = ApiActivity::kRead;
  std::string operation;                   // api.operation: the RPC, e.g. "SetSetting"
  std::string service = "warden.v1.Gateway";  // api.service.name
  ApiCaller caller;
  std::vector<std::pair<std::string, std::string>> request;  // unmapped.request {k: v}, each value cut to 256 bytes
  Action action = Action::kAllowed;        // Allowed (status Success) or Denied (status Failure)
  std::string reason;                      // status_detail: why it was denied or failed
  std::optional<Severity> severity;        // default: Allowed Informational, Denied Medium
};
// Create 1 / Read 2 / Update 3 / Delete 4, with actor {process, user}, api, src_endpoint,
// action/disposition, unmapped.auth and unmapped.request. Shorthand: `API:UPDATE [INFO] ALLOWED
// root(4242) -> SetSetting [auth:unix key:ocsf_json_enabled value:true]`.
Event apiCall(const SessionContext& ctx, int64_t time, const ApiCall& call);
struct ModelToolCall {
  std::string id;
  std::string name;
};

struct ModelCall {
  std::optional<Process> actor;
  Endpoint src;                  // the sandbox's side; the sandbox when empty
  Endpoint dst;                  // the provider's host:port
  std::string operation;         // api.operation: "chat.completions", "responses", "messages"
  std::string provider;          // api.service.name: "openai", "anthropic", ...
  std::string model;             // unmapped.model.name
  std::optional<int64_t> input_tokens;
  std::optional<int64_t> output_tokens;
  std::string stop_reason;
  std::vector<ModelToolCall> tool_calls;  // what the model asked to run
  bool streamed = false;
  bool complete = true;           // false: the answer ended early (unmapped.model.incomplete)
  std::optional<int> http_status;  // http_response.code
  std::optional<int64_t> duration_ms;
  std::string error;              // the provider's error (type: message), redacted
  std::string content_level;      // unmapped.model.content: "summary" or "full" when content is kept
  std::string prompt;             // per audit.model_content, already cut and redacted
  std::string completion;         // likewise
};
// Other 99 "Call" (MODEL). Informational; Low when the call failed or ended early (status Failure).
Event modelCall(const SessionContext& ctx, int64_t time, const ModelCall& call);

// ----- Base Event (LIMIT, EVENT) -----

struct LimitHit {
  std::string type;  // "oom", "memory", "cpu", "pids", "timeout"
  uint64_t measured = 0;
  uint64_t limit = 0;
  std::string action;              // "kill", "throttle", "deny"
  std::optional<Process> process;  // actor.process, when known
};
// Other 99 "Resource Limit", unmapped.limit {type, measured, limit, action}. Critical when the
// action is "kill", otherwise Low.
Event resourceLimit(const SessionContext& ctx, int64_t time, const LimitHit& hit);

struct OperationalInput {
  Severity severity = Severity::kInformational;
  std::string name;  // activity_name; "Other" when empty
  std::string message;
  Value unmapped;  // a few facts
};
// Other 99: anything operational that fits no other class.
Event operationalEvent(const SessionContext& ctx, int64_t time, const OperationalInput& input);

}  // namespace warden::ocsf
