#pragma once

// The nftables rulesets of one sandbox, as nft(8) text. Pure functions: no kernel, testable
// anywhere. docs/sandbox-network.md "Network" says what each rule is for.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace warden::sandbox {

// The table loaded into the sandbox's own network namespace ("table inet warden").
inline constexpr std::string_view kSandboxTableName = "warden";
// The host's table of lease `index`: "warden-<index>" (family inet).
std::string hostTableName(int index);

struct RulesetInput {
  std::string host_ip;  // the proxy's and resolver's address, "10.200.7.1"
  std::string host_if;  // the host side of the veth, "wdh7"
  int index = -1;       // the lease index (host table name)
  uint16_t proxy_port = 0;
  uint16_t dns_port = 53;
  std::string log_prefix;  // "warden:bypass:<session-id>: "
  int log_rate_per_second = 10;
};

// Checks what goes into the rule text: host_ip an IPv4 dotted quad, host_if a plain interface name,
// ports non-zero, the prefix 1..127 bytes of printable ASCII without '"' or '\', the rate 1..10000.
// InvalidArgument naming the field otherwise.
Result<void> validateRulesetInput(const RulesetInput& in);

// table inet warden: output policy drop — accept oif lo, ct established/related, tcp to
// host_ip:proxy_port, udp+tcp to host_ip:dns_port; the rest is logged (rate-limited, prefix,
// flags skuid) and rejected (tcp reset / icmpx admin-prohibited). Input: established/related and
// lo, drop the rest. Replaces an existing table of that name atomically. Call validate first.
std::string sandboxRuleset(const RulesetInput& in);

// table inet warden-<index>: forward drops anything from/to host_if; input from host_if accepts
// only established/related, tcp proxy_port and udp/tcp dns_port to host_ip, drops the rest.
// Replaces an existing table of that name atomically. Call validate first.
std::string hostRuleset(const RulesetInput& in);

}  // namespace warden::sandbox
