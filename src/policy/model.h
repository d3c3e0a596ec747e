#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/ip_address.h"
#include "policy/diagnostics.h"
#include "policy/glob.h"

namespace warden::policy {

// The policy model: what a validated policy file says, as plain immutable-after-load values.
// Only the loader builds these; the engine reads them. A Policy is shared between threads as
// std::shared_ptr<const Policy> (see PolicyStore) and never mutated after load. Pointers into it
// (Decision::endpoint) stay valid as long as that Policy object lives; moving a Policy keeps them
// valid (the vectors move their buffers), copying does not carry them over.

// What an endpoint speaks above TCP; decides whether requests are inspected at L7.
enum class Protocol { kNone, kRest, kWebsocket, kMcp, kLlm };
// enforce: denies are denies. audit: denies are allowed and recorded as OBSERVED.
enum class Enforcement { kEnforce, kAudit };
// HTTP method presets: read-only = GET HEAD OPTIONS; read-write = + POST PUT PATCH;
// full = every method except CONNECT (a tunnel inside a tunnel cannot be inspected).
enum class Access { kReadOnly, kReadWrite, kFull };

std::string_view protocolName(Protocol protocol);           // "rest", "websocket", "mcp", "llm", "none"
std::string_view enforcementName(Enforcement enforcement);  // "enforce", "audit"
std::string_view accessName(Access access);                 // "read-only", "read-write", "full"

// One L7 rule: a request matches when its method is in `methods` (or `methods` is {"*"}), its
// canonical path matches `path`, and, if `query` is set, its raw query string (without '?')
// matches `query`. `case_insensitive` (`case_insensitive: true` on the rule) compares the path
// without regard to ASCII case, for upstreams that read /ADMIN as /admin.
struct HttpRule {
  std::vector<std::string> methods;  // upper case, e.g. {"GET"}; {"*"} = any method
  Glob path;
  std::optional<Glob> query;
  bool case_insensitive = false;
  SourceLocation location;

  bool matches(std::string_view method, std::string_view path, std::string_view query) const;
  // "GET /repos/**", "GET|HEAD /x?page=*", "* /admin/**".
  std::string describe() const;
};

// One place a rule lets traffic go: host and ports, and what is allowed inside.
struct Endpoint {
  std::string rule;  // the owning NetworkRule's name
  HostPattern host;
  std::vector<uint16_t> ports;  // never empty
  Protocol protocol = Protocol::kNone;
  Enforcement enforcement = Enforcement::kEnforce;
  std::optional<Access> access;       // at most one of access / allow_rules is set
  std::vector<HttpRule> allow_rules;  // `rules: [{allow: ...}]`
  std::vector<HttpRule> deny_rules;   // win over access and allow_rules
  bool tls_skip = false;              // `tls: skip`: never terminate TLS; raw relay
  std::vector<Cidr> allowed_ips;      // private addresses this host may resolve to
  // `tools: {allow: [...], deny: [...]}` on a `protocol: mcp` endpoint: MCP tools/call by tool
  // name (text globs); deny wins; no `tools` = every tool allowed; `allow` absent = every tool
  // not denied.
  struct Tools {
    std::optional<std::vector<Glob>> allow;
    std::vector<Glob> deny;
  };
  std::optional<Tools> tools;
  SourceLocation location;

  bool allowsPort(uint16_t port) const;
  // True when the proxy must parse requests on this endpoint: it has a protocol and TLS is not
  // skipped. An L4-only endpoint (no protocol) or `tls: skip` is relayed raw.
  bool needsL7Inspection() const { return protocol != Protocol::kNone && !tls_skip; }
  // True when the endpoint restricts requests at all (access, rules or deny_rules).
  bool hasL7Rules() const { return access.has_value() || !allow_rules.empty() || !deny_rules.empty(); }
};

// A binary allowed to use a rule: the executable of every process holding the socket matches
// `path`; with `ancestors: true`, a process whose ancestor (up to the session's first process)
// runs that executable matches too. `deny_injected` (`injected: deny`): a matching process
// running with LD_PRELOAD/LD_AUDIT or with memory written by another process is denied (default
// `injected: alert`: allowed and recorded as a finding).
struct BinaryRule {
  Glob path;
  bool ancestors = false;
  bool deny_injected = false;
  SourceLocation location;
};

// A named network rule (`network.<name>`); the name appears in events as [policy:<name>].
struct NetworkRule {
  std::string name;
  std::vector<Endpoint> endpoints;   // never empty
  std::vector<BinaryRule> binaries;  // never empty
  SourceLocation location;
};

struct ProcessSettings {
  std::optional<std::string> run_as_user;  // never "root" nor uid 0
  std::optional<int64_t> timeout_millis;   // > 0
  // `env:` added to the agent's allow-listed environment, in file order; names are
  // [A-Za-z_][A-Za-z0-9_]*, values have no NUL byte.
  std::vector<std::pair<std::string, std::string>> env;
};

struct ResourceLimits {
  std::optional<uint64_t> memory_bytes;  // > 0
  std::optional<uint32_t> pids;          // > 0
  std::optional<double> cpu;             // CPUs, > 0
  std::optional<uint64_t> tmp_bytes;     // size of the private /tmp (and the ceiling of /dev/shm), > 0
};

struct FilesystemAccess {
  bool declared = false;                // the policy has a `filesystem` section
  std::vector<std::string> read_only;   // absolute paths
  std::vector<std::string> read_write;  // absolute paths
};

// How much of an MCP tool call's arguments a TOOL event keeps; values that look like secrets are
// redacted whatever the level.
enum class ToolInputs { kNone, kKeys, kSummary, kFull };
// How much of a model call's prompt and completion a MODEL event keeps.
enum class ModelContent { kNone, kSummary, kFull };
std::string_view toolInputsName(ToolInputs level);      // "none", "keys", "summary", "full"
std::string_view modelContentName(ModelContent level);  // "none", "summary", "full"

struct AuditSettings {
  bool processes = true;     // PROC events for every exec/exit
  bool file_writes = true;   // FILE events for create/write/delete/rename/attribute changes
  // Added to the default list (sandbox.md "Capture"); absolute, "~", "~/..." (the agent's home) or a
  // path glob ("**/.env").
  std::vector<std::string> sensitive_paths;
  std::vector<Glob> exclude_paths;  // never recorded (path globs)
  std::vector<HostPattern> package_sources;
  ToolInputs tool_inputs = ToolInputs::kSummary;
  ModelContent model_content = ModelContent::kNone;
};

// A secret the agent may use but never holds (sandbox.md "Credentials"): the agent's `env`
// variable holds a placeholder; the proxy puts the real value, read from `value_from`, into
// requests to the `inject` endpoints only.
struct Credential {
  std::string name;  // the key under `credentials:`
  std::string env;   // the agent's variable
  enum class Source { kEnv, kFile };
  Source source = Source::kEnv;
  std::string source_ref;  // the supervisor's variable name, or an absolute file path
  struct Target {
    HostPattern host;
    std::vector<uint16_t> ports;  // never empty
  };
  std::vector<Target> inject;  // never empty
  SourceLocation location;
};

struct Policy {
  int version = 1;
  std::string hash;    // lower-case hex SHA-256 of the policy file's bytes
  std::string source;  // the file name it was loaded from
  ProcessSettings process;
  ResourceLimits resources;
  FilesystemAccess filesystem;
  AuditSettings audit;
  std::vector<Credential> credentials;  // in file order
  std::vector<NetworkRule> network;     // in file order; empty = no egress

  size_t endpointCount() const;
  // nullptr if there is no rule of that name (e.g. it disappeared in a reload).
  const NetworkRule* findRule(std::string_view name) const;
};

}  // namespace warden::policy
