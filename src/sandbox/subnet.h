#pragma once

// Per-session /30 subnets on the host for `warden run` (sandbox.md "Isolation": the veth pair
// 10.200.<n>.1/30 - .2). A lease is an exclusive claim on one index, held by an flock, so two
// supervisors (or two sessions of one) never share an index and a crashed supervisor's index
// becomes free again; what that crashed run left in the kernel is removed when the index is next
// leased.

#include <filesystem>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"

namespace warden::sandbox {

// How many /30s there are: 10.200.0.0/30 .. 10.200.255.0/30.
inline constexpr int kSubnetCount = 256;
// Where the lease locks live unless a caller says otherwise.
inline constexpr const char* kDefaultSubnetRunDir = "/run/warden/net";

// One session's /30: 10.200.<index>.0/30, host side .1 ("wdh<index>"), sandbox side .2 ("eth0" in the
// sandbox; created as "wds<index>"). Held by an flock on <run_dir>/<index>.lock for the lease's life, so
// leases are exclusive across processes and a crashed supervisor's lease becomes free.
// Move-only (it owns the lock); the index is free again when the lease (its `lock`) is destroyed.
struct SubnetLease {
  int index = -1;
  std::string host_ip, sandbox_ip;  // "10.200.7.1", "10.200.7.2"
  std::string host_if, sandbox_if;  // "wdh7", "wds7"
  UniqueFd lock;
};

// The names and addresses of index `index` (0..255), without any lock: for tests and clean-up.
SubnetLease describeSubnet(int index);

// Takes the first free index 0..255. Before using it, removes what a crashed run left with that index
// (a host-side veth of that name, the host nftables table "warden-<index>") and returns what it removed
// in `stale` (one line each, for an event). `stale` may be null.
// Errors: PermissionDenied/Internal when run_dir cannot be created or a lock file opened;
// ResourceExhausted when all 256 are leased; the clean-up's error (with the index) when a stale
// leftover cannot be removed — the index is then not handed out.
// Needs CAP_NET_ADMIN for the clean-up (root); thread-safe.
Result<SubnetLease> acquireSubnet(std::vector<std::string>* stale,
                                  const std::filesystem::path& run_dir = kDefaultSubnetRunDir);

// Takes exactly `index` (0..255) if it is free, with the same clean-up; Unavailable when it is
// leased. For tests that need to know the index in advance (acquireSubnet hands out the lowest).
Result<SubnetLease> acquireSubnetIndex(int index, std::vector<std::string>* stale,
                                       const std::filesystem::path& run_dir = kDefaultSubnetRunDir);

// Removes what crashed runs left for every subnet that no live session holds: host tables
// "warden-<n>" (and the host veth "wdh<n>", should one have outlived its namespace) whose lock is
// free. A crashed supervisor's sandbox namespace dies with its agent, taking the veth pair along,
// but its host table stays until this sweep. One line per thing removed.
Result<void> sweepStaleSubnets(std::vector<std::string>* stale,
                               const std::filesystem::path& run_dir = kDefaultSubnetRunDir);

}  // namespace warden::sandbox
