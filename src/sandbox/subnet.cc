#include "sandbox/subnet.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <cerrno>
#include <optional>
#include <system_error>

#include "sandbox/netlink.h"
#include "sandbox/nftables.h"
#include "sandbox/nftables_rules.h"

namespace warden::sandbox {
namespace {

// Removes what a crashed run left with this index: the host veth (which takes its peer), a peer
// that never left the host namespace, the host table. One line per thing removed.
Result<void> removeLeftovers(const SubnetLease& lease, std::vector<std::string>* stale) {
  auto nl = RtNetlink::open();
  if (!nl.ok()) return nl.error();
  for (const std::string& name : {lease.host_if, lease.sandbox_if}) {
    auto deleted = nl->deleteLink(name);
    if (deleted.ok()) {
      if (stale != nullptr) stale->push_back("veth " + name);
    } else if (deleted.error().code() != Code::kNotFound) {
      return deleted.error().withContext("stale veth of subnet " + std::to_string(lease.index));
    }
  }
  const std::string table = hostTableName(lease.index);
  auto removed = deleteNftTableIfPresent("inet", table);
  if (!removed.ok()) return removed.error().withContext("stale nftables table " + table);
  if (*removed && stale != nullptr) stale->push_back("nftables table inet " + table);
  return okResult();
}

}  // namespace

SubnetLease describeSubnet(int index) {
  SubnetLease lease;
  lease.index = index;
  const std::string net = "10.200." + std::to_string(index) + ".";
  lease.host_ip = net + "1";
  lease.sandbox_ip = net + "2";
  lease.host_if = "wdh" + std::to_string(index);
  lease.sandbox_if = "wds" + std::to_string(index);
  return lease;
}

namespace {

// The lease of `index` when its lock is free (nullopt when it is held), leftovers removed.
Result<std::optional<SubnetLease>> tryLease(int index, std::vector<std::string>* stale,
                                            const std::filesystem::path& run_dir) {
  const std::filesystem::path lock_path = run_dir / (std::to_string(index) + ".lock");
  UniqueFd fd(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) return errnoError("open " + lock_path.string());
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return std::optional<SubnetLease>();  // leased by a live session
    return errnoError("flock " + lock_path.string());
  }
  SubnetLease lease = describeSubnet(index);
  WARDEN_RETURN_IF_ERROR(removeLeftovers(lease, stale));
  lease.lock = std::move(fd);
  return std::optional<SubnetLease>(std::move(lease));
}

Result<void> makeRunDir(const std::filesystem::path& run_dir) {
  std::error_code ec;
  std::filesystem::create_directories(run_dir, ec);
  if (ec) return errnoError("create " + run_dir.string(), ec.value());
  return okResult();
}

}  // namespace

Result<SubnetLease> acquireSubnet(std::vector<std::string>* stale, const std::filesystem::path& run_dir) {
  WARDEN_RETURN_IF_ERROR(makeRunDir(run_dir));
  for (int index = 0; index < kSubnetCount; ++index) {
    auto lease = tryLease(index, stale, run_dir);
    if (!lease.ok()) return lease.error();
    if (lease->has_value()) return std::move(**lease);
  }
  return resourceExhausted("all " + std::to_string(kSubnetCount) +
                           " sandbox subnets (10.200.0.0/16) are leased");
}

Result<void> sweepStaleSubnets(std::vector<std::string>* stale, const std::filesystem::path& run_dir) {
  WARDEN_RETURN_IF_ERROR(makeRunDir(run_dir));
  auto tables = listNftTables("inet");
  if (!tables.ok()) return tables.error().withContext("listing nftables tables");
  for (const std::string& table : *tables) {
    for (int index = 0; index < kSubnetCount; ++index) {
      if (table != hostTableName(index)) continue;
      // tryLease takes the lock (so no live session owns it), removes the leftovers, and the lease
      // is dropped again at once.
      auto lease = tryLease(index, stale, run_dir);
      if (!lease.ok()) return lease.error();
      break;
    }
  }
  return okResult();
}

Result<SubnetLease> acquireSubnetIndex(int index, std::vector<std::string>* stale,
                                       const std::filesystem::path& run_dir) {
  if (index < 0 || index >= kSubnetCount)
    return invalidArgument("subnet index " + std::to_string(index) + " is not 0..255");
  WARDEN_RETURN_IF_ERROR(makeRunDir(run_dir));
  auto lease = tryLease(index, stale, run_dir);
  if (!lease.ok()) return lease.error();
  if (!lease->has_value()) return unavailable("subnet " + std::to_string(index) + " is leased");
  return std::move(**lease);
}

}  // namespace warden::sandbox
