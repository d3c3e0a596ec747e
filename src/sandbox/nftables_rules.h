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
// The host's table shared by every session ("table inet warden-host"): created by the first session
// that finds it missing and then left in place — it matches only the sandboxes' veths ("wdh*"), so it
// is inert when no session runs, and no session has to delete it (a table deletion makes the closing
// netlink socket wait for an RCU grace period, ~10 ms of every session's end).
inline constexpr std::string_view kHostTableName = "warden-host";
// Per-lease host tables of earlier versions ("warden-<index>"): still removed as leftovers.
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
// lo, drop the rest. With `replace`, replaces an existing table of that name atomically; without, only
// creates it (the first load into a clean namespace). Call validate first.
std::string sandboxRuleset(const RulesetInput& in, bool replace = false);

// table inet warden-host: forward drops anything from or to a "wdh*" interface; input from a "wdh*"
// interface accepts established/related, and new traffic only to an address of that same interface
// (`fib daddr . iif type local`: a sandbox cannot reach another session's proxy, nor any other host
// address) and only for an (interface . port) pair in the sets tcp_allowed / udp_allowed; drops the
// rest. Creates; never replaces.
std::string sharedHostRuleset();
// Adds / removes the session's pairs: (host_if . proxy_port), (host_if . dns_port) for TCP and
// (host_if . dns_port) for UDP. Element changes are cheap for the kernel (no table destruction).
std::string hostPortElements(const RulesetInput& in);
std::string hostPortElementsRemoval(const RulesetInput& in);

}  // namespace warden::sandbox
