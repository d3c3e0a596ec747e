#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ocsf/enums.h"
#include "ocsf/value.h"

namespace warden::ocsf {

// OCSF objects, as Warden fills them. Empty strings and unset optionals are absent from the
// JSON; the canonical writer (jsonl_formatter.h) decides the key order, not these structs.

struct File {
  std::string name;  // required by the schema (with type_id)
  std::string path;
  FileType type_id = FileType::kRegular;
  std::string sha256;  // written as hashes[{algorithm_id: 3 SHA-256, value}]
};

// One ancestor in `process.ancestry` (OCSF process_entity): what the kernel capture knew of it.
struct ProcessEntity {
  std::string name;
  std::optional<int64_t> pid;
  std::string path;  // the executable
};

// `process` and `actor.process`. The ancestor chain is `parent_process`, shared and immutable.
struct Process {
  std::string name;
  std::optional<int64_t> pid;
  std::optional<int64_t> uid;  // numeric uid, written as user {uid: "<n>"}… see jsonl_formatter.cc
  std::string cmd_line;
  std::optional<File> file;  // the executable
  std::string working_directory;
  std::shared_ptr<const Process> parent_process;
  std::optional<int64_t> namespace_pid;    // the pid inside the sandbox's pid namespace
  std::optional<int64_t> created_time;     // epoch ms the process (thread group) started
  std::optional<int64_t> terminated_time;  // epoch ms it ended
  // The executables above it up to the session's first process, nearest first (OCSF `ancestry`;
  // the older `lineage` of paths is deprecated since OCSF 1.4.0).
  std::vector<ProcessEntity> ancestry;
  // How an event's actor was named when not by the event's own source: "kernel capture" (the proxy's
  // or the DNS resolver's /proc lookup missed; docs/capture.md "Attribution"). Not an OCSF attribute:
  // the builders write it as unmapped.actor_source. Empty: named by the source itself.
  std::string attribution;
};

struct Container {
  std::string name;
  std::string uid;        // session id
  std::string image_name;  // with image uid = image_name; absent when unknown
};

struct Os {
  std::string name = "Linux";
  int type_id = 200;  // Linux
};

// The host (`device`).
struct Device {
  std::string hostname;
  int type_id = 0;  // Unknown unless known
  Os os;
  std::optional<Container> container;
};

struct Endpoint {
  std::string hostname;  // a name when known (written as `hostname`)
  std::string ip;
  std::optional<int> port;
};

struct ConnectionInfo {
  std::string protocol_name;  // "tcp", "udp"
  Direction direction_id = Direction::kOutbound;
};

struct FirewallRule {
  std::string name;  // the policy rule, "-" when none
  std::string type;  // the engine: "policy", "ssrf", "l7", "nftables"
};

struct Traffic {
  std::optional<int64_t> bytes_in;
  std::optional<int64_t> bytes_out;
};

struct Url {
  std::string scheme;
  std::string hostname;
  std::optional<int> port;
  std::string path;
  std::string query_string;  // always "[redacted]" when the request had one
};

struct HttpRequest {
  std::string http_method;
  Url url;
  std::string user_agent;
};

struct HttpResponse {
  int code = 0;
};

struct DnsQuery {
  std::string hostname;
  std::string type;  // "A", "AAAA", …
};

struct DnsAnswer {
  std::string rdata;
  std::string type;
};

struct Attack {
  std::string technique_uid;  // "T1090"
  std::string technique_name;
  std::string tactic_uid;  // "TA0011"
  std::string tactic_name;
};

struct FindingInfo {
  std::string uid;  // required
  std::string title;
  std::string desc;
  std::vector<std::string> types;  // e.g. "unsolicited-101"
  // The detection rule (src/detect) that made the finding: written as analytic {name, type_id 1
  // "Rule"}; the shorthand names it ([rule:...]). Empty for Warden's built-in dual-emit findings.
  std::string analytic_name;
};

struct Product {  // `app`
  std::string name;
  std::string version;
  std::string uid;
  std::string url_string;
  std::string vendor_name;
};

struct Api {
  std::string operation;  // required
  std::string service_name;
};

// `actor.user`: who called an API (the gateway's callers): a user name or certificate subject or
// token id, the numeric Unix uid as text, and the credential used, written as
// programmatic_credentials [{type, uid}] (user.credential_uid is deprecated since OCSF 1.6.0).
struct User {
  std::string name;
  std::string uid;
  std::string credential_type;  // "operator token", "x509 certificate"
  std::string credential_uid;   // the token's id, the certificate's "sha256:<fingerprint>"
};

struct Metadata {
  uint8_t profiles = kProfileHost | kProfileContainer;  // Profile bits
  std::string uid;              // UUIDv7, fresh per event
  std::string correlation_uid;  // the session id
  uint64_t sequence = 0;        // assigned by the audit writer
  std::string log_name = "warden";
  std::string product_version;  // defaults to WARDEN_VERSION when empty
};

// One OCSF 1.7.0 event of any class Warden emits. Built by the builders (builders.h), enriched
// from a session context, sequenced and chained by the audit writer, rendered by the formatters.
// A plain value: copyable, movable, no internal synchronisation.
struct Event {
  Kind kind = Kind::kEvent;
  ClassUid class_uid = ClassUid::kBase;
  int activity_id = 99;
  std::string activity_name;  // the specific name when activity_id is 99 ("Upgrade", "Checkpoint")
  int64_t time = 0;           // epoch ms
  Severity severity = Severity::kInformational;
  std::optional<Status> status;
  std::string status_detail;
  std::string message;
  Metadata metadata;

  std::optional<Device> device;
  std::optional<Process> actor;  // actor.process
  std::optional<User> actor_user;  // actor.user

  // Network, HTTP, DNS, SSH.
  std::optional<Endpoint> src_endpoint;
  std::optional<Endpoint> dst_endpoint;
  std::optional<Endpoint> proxy_endpoint;
  std::optional<ConnectionInfo> connection_info;
  std::optional<Action> action;
  std::optional<Disposition> disposition;
  std::optional<FirewallRule> firewall_rule;
  std::optional<ObservationPoint> observation_point;
  std::optional<bool> is_src_dst_assignment_known;
  std::optional<Traffic> traffic;
  std::optional<int64_t> duration;  // ms
  std::optional<HttpRequest> http_request;
  std::optional<HttpResponse> http_response;
  std::optional<DnsQuery> query;
  std::vector<DnsAnswer> answers;
  std::optional<DnsRcode> rcode;
  std::optional<AuthType> auth_type;

  // Process, File.
  std::optional<Process> process;
  std::optional<LaunchType> launch_type;
  std::optional<int> exit_code;
  std::optional<File> file;
  std::optional<File> file_result;

  // Detection Finding.
  std::optional<FindingInfo> finding_info;
  std::vector<Attack> attacks;
  Value evidences;  // array of evidence objects, schema-checked by the validator
  std::string remediation;  // remediation.desc
  std::optional<bool> is_alert;
  std::optional<Confidence> confidence;
  std::optional<RiskLevel> risk_level;

  // Application Lifecycle, API Activity, Event Log Activity.
  std::optional<Product> app;
  std::optional<Api> api;
  std::optional<LogType> log_type;
  std::string log_provider;
  std::optional<int64_t> count;
  // A summary of repeated identical events (audit/coalescer.h): the first and last occurrence it
  // counts, epoch ms (OCSF start_time/end_time).
  std::optional<int64_t> start_time;
  std::optional<int64_t> end_time;

  // Free-form facts OCSF has no attribute for (events.md names them). `integrity` is not set
  // here: the audit writer supplies integrity_prev, and the formatter writes it as
  // unmapped.integrity.prev.
  Value unmapped;
  std::string integrity_prev;  // hex SHA-256 of the previous event's canonical JSON

  int typeUid() const { return static_cast<int>(class_uid) * 100 + activity_id; }
  // The activity caption, or activity_name for 99.
  std::string_view activityName() const;
};

}  // namespace warden::ocsf
