#pragma once

// The network of one `warden run` sandbox (sandbox.md "Isolation", docs/sandbox-network.md
// "Network"): a veth pair on the lease's /30, the sandbox's firewall and the host's.

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "common/result.h"
#include "common/unique_fd.h"
#include "sandbox/nftables_rules.h"
#include "sandbox/subnet.h"

namespace warden::sandbox {

struct FirewallSpec {
  uint16_t proxy_port = 0;
  uint16_t dns_port = 53;
  std::string log_prefix;  // "warden:bypass:<session-id>: " (nftables limits a prefix to 127 bytes)
  int log_rate_per_second = 10;
};

// "warden:bypass:<session_id>: ", the prefix BypassMonitor (capture/kmsg) looks for.
std::string bypassLogPrefix(std::string_view session_id);

// The network of one sandbox. create() makes the veth pair, moves the peer into the network namespace
// of `sandbox_pid` (a parked child: src/sandbox/launcher.h), renames it eth0, sets addresses, brings
// up lo and eth0, adds the default route via host_ip. All through rtnetlink (netlink.h); the sandbox
// side is configured from a short-lived thread that setns()es into the sandbox netns (setns affects
// only the calling thread). IPv6 is disabled on both ends of the veth (nothing to route; no
// link-local chatter for the firewall to report). installFirewall() (after the proxy has bound
// host_ip:port) loads, with libnftables from that same kind of thread, the sandbox ruleset, and
// on the host the table inet warden-<index> (nftables_rules.h has both). teardown() (idempotent,
// also in the destructor) deletes the host table and the veth; the sandbox side disappears with its
// namespace.
//
// Ownership: owns the lease (released when this object dies, after teardown) and an fd of the
// sandbox's network namespace (which keeps it alive until teardown). Needs root (CAP_NET_ADMIN,
// CAP_SYS_ADMIN for setns). Not thread-safe: one thread drives it, and that thread must be in the
// host's network namespace.
class SandboxNetwork {
 public:
  // On failure everything made so far is removed again (the lease is released).
  static Result<std::unique_ptr<SandboxNetwork>> create(SubnetLease lease, pid_t sandbox_pid);
  // Loads the sandbox's ruleset (atomically; a second call replaces it) and makes sure the shared host
  // table exists and lets the spec's ports in (sharedHostRuleset). InvalidArgument for a spec
  // that cannot go into a rule (port 0, a prefix with quotes or over 127 bytes); FailedPrecondition
  // after teardown().
  Result<void> installFirewall(const FirewallSpec& spec);
  // Deletes the veth (unless `delete_veth` is false: when the sandbox's processes are gone its
  // namespace dies and the kernel removes the pair itself, without this thread waiting for the RCU
  // grace period a deletion costs) and drops the namespace fd. The shared host table stays.
  // Idempotent: a second call, or things already gone, is success. This session's (interface . port)
  // pairs stay in the shared host table: they match nothing once the veth is gone, and whoever leases
  // the index next adds the same pairs (removing them costs an RCU grace period; removeHostPorts()
  // does it when that is wanted, e.g. a test that used other ports).
  Result<void> teardown(bool delete_veth = true);
  Result<void> removeHostPorts();
  const SubnetLease& lease() const;
  ~SandboxNetwork();

  SandboxNetwork(const SandboxNetwork&) = delete;
  SandboxNetwork& operator=(const SandboxNetwork&) = delete;

 private:
  SandboxNetwork(SubnetLease lease, UniqueFd netns);
  Result<void> configure();

  SubnetLease lease_;
  UniqueFd netns_;           // /proc/<sandbox_pid>/ns/net; reset by teardown()
  bool firewall_loaded_ = false;  // a later installFirewall() replaces the tables
  RulesetInput ports_;            // what installFirewall() added to the shared host table
  bool torn_down_ = false;
};

}  // namespace warden::sandbox
