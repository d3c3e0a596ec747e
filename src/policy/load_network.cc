// The `network` section of a policy: rules, their binaries and endpoints.

#include <fmt/format.h>

#include <algorithm>

#include "policy/policy_reader.h"

namespace warden::policy {
namespace {

constexpr size_t kMaxRuleName = 64;

bool validRuleName(const std::string& name) {
  return !name.empty() && name.size() <= kMaxRuleName && std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                  c == '-' || c == '.';
         });
}

}  // namespace

void PolicyReader::loadNetwork(const YAML::Node& n, SourceLocation at, std::vector<NetworkRule>& out) {
  if (n.IsNull()) return;  // `network:` with nothing under it: no egress
  forEachEntry(
      n, "network", {}, at,
      [&](const std::string& name, SourceLocation key_at, const YAML::Node& value) {
        if (!validRuleName(name)) {
          error(key_at, fmt::format("network: rule name '{}' must be 1-{} letters, digits, '_', '-' or '.' (it "
                                    "appears in events as [policy:<name>])",
                                    echoValue(name), kMaxRuleName));
        }
        NetworkRule rule;
        rule.name = name;
        rule.location = key_at;
        loadRule(name, value, key_at, rule);
        out.push_back(std::move(rule));
      },
      /*any_key=*/true);
}

void PolicyReader::loadRule(const std::string& name, const YAML::Node& n, SourceLocation at, NetworkRule& out) {
  const std::string path = yamlChildPath("network", name);
  bool have_endpoints = false;
  bool have_binaries = false;
  forEachEntry(n, path, {"endpoints", "binaries"}, at,
               [&](const std::string& key, SourceLocation key_at, const YAML::Node& value) {
                 const std::string list_path = yamlChildPath(path, key);
                 if (key == "endpoints") {
                   have_endpoints = true;
                   forEachItem(value, list_path, key_at, [&](size_t, const std::string& item_path, const YAML::Node& v) {
                     Endpoint endpoint;
                     endpoint.rule = name;
                     endpoint.location = locate(v, key_at);
                     loadEndpoint(v, item_path, key_at, endpoint);
                     out.endpoints.push_back(std::move(endpoint));
                   });
                   if (value.IsSequence() && value.size() == 0) {
                     error(value, fmt::format("{}: empty; a rule needs at least one endpoint", list_path), key_at);
                   }
                   return;
                 }
                 have_binaries = true;
                 forEachItem(value, list_path, key_at, [&](size_t, const std::string& item_path, const YAML::Node& v) {
                   loadBinary(v, item_path, key_at, out);
                 });
                 if (value.IsSequence() && value.size() == 0) {
                   error(value,
                         fmt::format("{}: empty; no process could use this rule (to allow any executable, write "
                                     "'- path: \"/**\"')",
                                     list_path),
                         key_at);
                 }
               });
  if (!n.IsMap()) return;
  if (!have_endpoints) error(at, fmt::format("{}: missing 'endpoints'", path));
  if (!have_binaries) {
    error(at, fmt::format("{}: missing 'binaries'; no process could use this rule (to allow any executable, "
                          "write 'binaries: [{{path: \"/**\"}}]')",
                          path));
  }
}

void PolicyReader::loadBinary(const YAML::Node& v, const std::string& item_path, SourceLocation key_at,
                              NetworkRule& out) {
  const SourceLocation item_at = locate(v, key_at);
  if (v.IsScalar()) {
    error(v, fmt::format("{}: expected a mapping like '- path: {}'", item_path, echoValue(v.Scalar())), key_at);
    return;
  }
  std::optional<Glob> glob;
  BinaryRule binary;
  forEachEntry(v, item_path, {"path", "ancestors", "injected"}, item_at,
               [&](const std::string& key, SourceLocation field_at, const YAML::Node& fv) {
                 const std::string field = yamlChildPath(item_path, key);
                 if (key == "ancestors") {
                   if (const auto on = boolean(fv, field, field_at)) binary.ancestors = *on;
                   return;
                 }
                 if (key == "injected") {
                   if (const auto mode = oneOf(fv, field, field_at, {"alert", "deny"})) binary.deny_injected = *mode == "deny";
                   return;
                 }
                 const auto text = scalar(fv, field, field_at, "a path");
                 if (!text) return;
                 if (text->empty() || text->front() != '/') {
                   error(fv,
                         fmt::format("{}: '{}' must be an absolute path (e.g. /usr/bin/curl); Warden matches the "
                                     "executable file, never argv[0]",
                                     field, echoValue(*text)),
                         field_at);
                   return;
                 }
                 auto g = Glob::create(*text, Glob::Kind::kPath);
                 if (!g.ok()) {
                   error(fv, fmt::format("{}: {}", field, g.error().message()), field_at);
                   return;
                 }
                 glob = std::move(g).value();
               });
  if (v.IsMap() && !glob && !v["path"]) error(v, fmt::format("{}: missing 'path'", item_path), item_at);
  if (!glob) return;
  binary.path = std::move(*glob);
  binary.location = item_at;
  out.binaries.push_back(std::move(binary));
}

void PolicyReader::loadEndpoint(const YAML::Node& n, const std::string& path, SourceLocation at, Endpoint& out) {
  const SourceLocation here = locate(n, at);
  bool have_host = false;
  bool have_ports = false;
  std::optional<SourceLocation> protocol_at, access_at, rules_at, deny_at, tls_at, tools_at;
  forEachEntry(
      n, path,
      {"host", "ports", "protocol", "enforcement", "access", "rules", "deny_rules", "tls", "allowed_ips", "tools"},
      here, [&](const std::string& key, SourceLocation key_at, const YAML::Node& value) {
        const std::string field = yamlChildPath(path, key);
        if (key == "host") {
          have_host = true;
          if (auto host = loadHost(value, field, key_at)) out.host = std::move(*host);
        } else if (key == "ports") {
          have_ports = true;
          out.ports = loadPorts(value, field, key_at);
        } else if (key == "protocol") {
          protocol_at = key_at;
          const auto text = scalar(value, field, key_at);
          if (!text) return;
          if (*text == "rest") {
            out.protocol = Protocol::kRest;
          } else if (*text == "websocket") {
            out.protocol = Protocol::kWebsocket;
          } else if (*text == "mcp") {
            out.protocol = Protocol::kMcp;
          } else if (*text == "llm") {
            out.protocol = Protocol::kLlm;
          } else {
            error(value,
                  fmt::format("{}: unknown protocol '{}' (expected rest, websocket, mcp or llm; leave it out for L4 "
                              "only)",
                              field, echoValue(*text)),
                  key_at);
          }
        } else if (key == "enforcement") {
          const auto text = scalar(value, field, key_at);
          if (!text) return;
          if (*text == "enforce") {
            out.enforcement = Enforcement::kEnforce;
          } else if (*text == "audit") {
            out.enforcement = Enforcement::kAudit;
          } else {
            error(value, fmt::format("{}: unknown enforcement '{}' (expected enforce or audit)", field, echoValue(*text)),
                  key_at);
          }
        } else if (key == "access") {
          access_at = key_at;
          const auto text = scalar(value, field, key_at);
          if (!text) return;
          if (*text == "read-only") {
            out.access = Access::kReadOnly;
          } else if (*text == "read-write") {
            out.access = Access::kReadWrite;
          } else if (*text == "full") {
            out.access = Access::kFull;
          } else {
            error(value,
                  fmt::format("{}: unknown access '{}' (expected read-only, read-write or full)", field,
                              echoValue(*text)),
                  key_at);
          }
        } else if (key == "rules") {
          rules_at = key_at;
          forEachItem(value, field, key_at, [&](size_t, const std::string& item_path, const YAML::Node& v) {
            const SourceLocation item_at = locate(v, key_at);
            forEachEntry(v, item_path, {"allow"}, item_at,
                         [&](const std::string&, SourceLocation allow_at, const YAML::Node& allow) {
                           if (auto rule = loadHttpRule(allow, yamlChildPath(item_path, "allow"), allow_at)) {
                             out.allow_rules.push_back(std::move(*rule));
                           }
                         });
            if (v.IsMap() && v.size() == 0) error(v, fmt::format("{}: missing 'allow'", item_path), item_at);
          });
          if (value.IsSequence() && value.size() == 0) {
            error(value, fmt::format("{}: empty; with no allow rules every request is denied", field), key_at);
          }
        } else if (key == "deny_rules") {
          deny_at = key_at;
          forEachItem(value, field, key_at, [&](size_t, const std::string& item_path, const YAML::Node& v) {
            if (auto rule = loadHttpRule(v, item_path, locate(v, key_at))) out.deny_rules.push_back(std::move(*rule));
          });
        } else if (key == "tls") {
          tls_at = key_at;
          const auto text = scalar(value, field, key_at);
          if (!text) return;
          if (*text == "skip") {
            out.tls_skip = true;
          } else {
            error(value,
                  fmt::format("{}: unknown tls mode '{}' (the only mode is 'skip'; leave it out to let Warden "
                              "inspect TLS where the endpoint needs it)",
                              field, echoValue(*text)),
                  key_at);
          }
        } else if (key == "allowed_ips") {
          forEachItem(value, field, key_at, [&](size_t, const std::string& item_path, const YAML::Node& v) {
            const auto text = scalar(v, item_path, key_at, "an address block");
            if (!text) return;
            auto cidr = Cidr::parse(*text);
            if (!cidr.ok()) {
              error(v, fmt::format("{}: {}", item_path, cidr.error().message()), key_at);
              return;
            }
            out.allowed_ips.push_back(std::move(cidr).value());
          });
        } else if (key == "tools") {
          tools_at = key_at;
          loadTools(value, field, key_at, out);
        }
      });
  if (!n.IsMap()) return;
  if (!have_host) error(here, fmt::format("{}: missing 'host'", path));
  if (!have_ports) error(here, fmt::format("{}: missing 'ports' (e.g. ports: [443])", path));
  if (access_at && rules_at) error(*rules_at, fmt::format("{}: use either 'access' or 'rules', not both", path));
  if (tools_at && out.protocol != Protocol::kMcp) {
    error(*tools_at, fmt::format("{}: 'tools' applies to MCP tool calls; it needs 'protocol: mcp'", path));
  }
  const bool l7 = access_at || rules_at || deny_at;
  if (l7 && !protocol_at) {
    error(access_at  ? *access_at
          : rules_at ? *rules_at
                     : *deny_at,
          fmt::format("{}: request rules need a protocol (rest, websocket, mcp or llm); without one the endpoint is "
                      "relayed at L4 and requests are never seen",
                      path));
  }
  // An MCP endpoint is decided by its tools; at the HTTP level it allows every method unless its
  // access or rules say otherwise (MCP speaks POST, GET and DELETE on one path).
  if (out.protocol == Protocol::kMcp && !access_at && !rules_at) {
    out.access = Access::kFull;
  } else if (protocol_at && !access_at && !rules_at) {
    error(*protocol_at, fmt::format("{}: protocol '{}' needs 'access' (read-only, read-write, full) or 'rules' to say "
                                    "which requests are allowed",
                                    path, protocolName(out.protocol)));
  }
  if (tls_at && out.tls_skip && (l7 || out.protocol != Protocol::kNone)) {
    error(*tls_at, fmt::format("{}: 'tls: skip' relays raw bytes, so the request rules could never be checked; "
                               "remove one or the other",
                               path));
  }
}

void PolicyReader::loadTools(const YAML::Node& n, const std::string& path, SourceLocation at, Endpoint& out) {
  Endpoint::Tools tools;
  forEachEntry(n, path, {"allow", "deny"}, at, [&](const std::string& key, SourceLocation key_at, const YAML::Node& v) {
    auto globs = loadGlobs(v, yamlChildPath(path, key), key_at, Glob::Kind::kText);
    if (key == "allow") {
      tools.allow = std::move(globs);
    } else {
      tools.deny = std::move(globs);
    }
  });
  out.tools = std::move(tools);
}

}  // namespace warden::policy
