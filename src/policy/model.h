#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
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
enum class Protocol { kNone, kRest, kWebsocket, kMcp };
// enforce: denies are denies. audit: denies are allowed and recorded as OBSERVED.
enum class Enforcement { kEnforce, kAudit };
// HTTP method presets: read-only = GET HEAD OPTIONS; read-write = + POST PUT PATCH;
// full = every method except CONNECT (a tunnel inside a tunnel cannot be inspected).
enum class Access { kReadOnly, kReadWrite, kFull };

std::string_view protocolName(Protocol protocol);           // "rest", "websocket", "mcp", "none"
std::string_view enforcementName(Enforcement enforcement);  // "enforce", "audit"
std::string_view accessName(Access access);                 // "read-only", "read-write", "full"

// One L7 rule: a request matches when its method is in `methods` (or `methods` is {"*"}), its
// canonical path matches `path`, and, if `query` is set, its raw query string (without '?')
// matches `query`.
struct HttpRule {
  std::vector<std::string> methods;  // upper case, e.g. {"GET"}; {"*"} = any method
  Glob path;
  std::optional<Glob> query;
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
  SourceLocation location;

  bool allowsPort(uint16_t port) const;
  // True when the proxy must parse requests on this endpoint: it has a protocol and TLS is not
  // skipped. An L4-only endpoint (no protocol) or `tls: skip` is relayed raw.
  bool needsL7Inspection() const { return protocol != Protocol::kNone && !tls_skip; }
  // True when the endpoint restricts requests at all (access, rules or deny_rules).
  bool hasL7Rules() const { return access.has_value() || !allow_rules.empty() || !deny_rules.empty(); }
};

// A binary allowed to use a rule: the caller's executable, or any ancestor's, matches `path`.
struct BinaryRule {
  Glob path;
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
};

struct ResourceLimits {
  std::optional<uint64_t> memory_bytes;  // > 0
  std::optional<uint32_t> pids;          // > 0
  std::optional<double> cpu;             // CPUs, > 0
};

struct FilesystemAccess {
  std::vector<std::string> read_only;   // absolute paths
  std::vector<std::string> read_write;  // absolute paths
};

struct AuditSettings {
  std::vector<std::string> sensitive_paths;  // absolute, or "~" / "~/..." (the agent's home)
  std::vector<HostPattern> package_sources;
};

struct Policy {
  int version = 1;
  std::string hash;    // lower-case hex SHA-256 of the policy file's bytes
  std::string source;  // the file name it was loaded from
  ProcessSettings process;
  ResourceLimits resources;
  FilesystemAccess filesystem;
  AuditSettings audit;
  std::vector<NetworkRule> network;  // in file order; empty = no egress

  size_t endpointCount() const;
  // nullptr if there is no rule of that name (e.g. it disappeared in a reload).
  const NetworkRule* findRule(std::string_view name) const;
};

}  // namespace warden::policy
