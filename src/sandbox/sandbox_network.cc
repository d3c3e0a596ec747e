#include "sandbox/sandbox_network.h"

#include <fcntl.h>
#include <sys/file.h>

#include <filesystem>
#include <future>
#include <string>
#include <utility>

#include "sandbox/netlink.h"
#include "sandbox/netlink_netns.h"
#include "sandbox/nftables.h"
#include "sandbox/nftables_rules.h"
#include "sandbox/subnet.h"

namespace warden::sandbox {
namespace {

constexpr int kPrefixLen = 30;
constexpr const char* kSandboxIf = "eth0";

}  // namespace

namespace {

// Creates the shared host table when it is missing (under a lock, so two starting sessions do not
// both create it) and adds the session's ports to its sets.
Result<void> ensureHostTable(const RulesetInput& in) {
  const std::filesystem::path dir(kDefaultSubnetRunDir);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::filesystem::path lock_path = dir / "host-table.lock";
  UniqueFd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!lock.valid()) return errnoError("open " + lock_path.string());
  if (::flock(lock.get(), LOCK_EX) != 0) return errnoError("flock " + lock_path.string());
  auto tables = listNftTables("inet");
  if (!tables.ok()) return tables.error();
  bool present = false;
  for (const auto& t : *tables) present = present || t == kHostTableName;
  if (!present) {
    auto created = runNft(sharedHostRuleset());
    if (!created.ok()) return created.error();
  }
  auto added = runNft(hostPortElements(in));
  if (!added.ok()) return added.error();
  return okResult();
}

}  // namespace

std::string bypassLogPrefix(std::string_view session_id) {
  return "warden:bypass:" + std::string(session_id) + ": ";
}

SandboxNetwork::SandboxNetwork(SubnetLease lease, UniqueFd netns)
    : lease_(std::move(lease)), netns_(std::move(netns)) {}

SandboxNetwork::~SandboxNetwork() {
  (void)teardown();
}

const SubnetLease& SandboxNetwork::lease() const {
  return lease_;
}

Result<std::unique_ptr<SandboxNetwork>> SandboxNetwork::create(SubnetLease lease, pid_t sandbox_pid) {
  if (lease.index < 0 || !lease.lock.valid()) return invalidArgument("sandbox network: not a held lease");
  auto netns = openNetns(sandbox_pid);
  if (!netns.ok()) return netns.error().withContext("sandbox network");
  std::unique_ptr<SandboxNetwork> net(new SandboxNetwork(std::move(lease), std::move(netns).value()));
  auto configured = net->configure();
  if (!configured.ok()) {
    (void)net->teardown();  // remove what was made; the lease is released with `net`
    return configured.error().withContext("sandbox network " + std::to_string(net->lease_.index));
  }
  return net;
}

Result<void> SandboxNetwork::configure() {
  auto host = RtNetlink::open();
  if (!host.ok()) return host.error();
  WARDEN_RETURN_IF_ERROR(host->createVethPair(lease_.host_if, lease_.sandbox_if, netns_.get()));
  auto host_index = host->linkIndex(lease_.host_if);
  if (!host_index.ok()) return host_index.error();
  WARDEN_RETURN_IF_ERROR(disableIpv6(lease_.host_if));
  WARDEN_RETURN_IF_ERROR(host->addIpv4Address(*host_index, lease_.host_ip, kPrefixLen));
  WARDEN_RETURN_IF_ERROR(host->setLinkUp(*host_index));

  const SubnetLease& lease = lease_;
  return runInNetns(netns_.get(), [&lease]() -> Result<void> {
    auto ns = RtNetlink::open();
    if (!ns.ok()) return ns.error();
    auto peer = ns->linkIndex(lease.sandbox_if);
    if (!peer.ok()) return peer.error();
    WARDEN_RETURN_IF_ERROR(ns->renameLink(*peer, kSandboxIf));
    // Before it is up, so it never gets a link-local address; "default" for anything made later.
    WARDEN_RETURN_IF_ERROR(disableIpv6("default"));
    WARDEN_RETURN_IF_ERROR(disableIpv6(kSandboxIf));
    WARDEN_RETURN_IF_ERROR(ns->addIpv4Address(*peer, lease.sandbox_ip, kPrefixLen));
    auto lo = ns->linkIndex("lo");
    if (!lo.ok()) return lo.error();
    WARDEN_RETURN_IF_ERROR(ns->setLinkUp(*lo));
    WARDEN_RETURN_IF_ERROR(ns->setLinkUp(*peer));
    return ns->addIpv4DefaultRoute(lease.host_ip, *peer);
  });
}

Result<void> SandboxNetwork::installFirewall(const FirewallSpec& spec) {
  if (torn_down_) return failedPrecondition("sandbox network: installFirewall after teardown");
  RulesetInput in;
  in.host_ip = lease_.host_ip;
  in.host_if = lease_.host_if;
  in.index = lease_.index;
  in.proxy_port = spec.proxy_port;
  in.dns_port = spec.dns_port;
  in.log_prefix = spec.log_prefix;
  in.log_rate_per_second = spec.log_rate_per_second;
  WARDEN_RETURN_IF_ERROR(validateRulesetInput(in));
  // The first load creates (the namespace is new, the lease's leftovers were removed); a later one
  // replaces.
  const bool replace = firewall_loaded_;
  const std::string sandbox_rules = sandboxRuleset(in, replace);
  WARDEN_RETURN_IF_ERROR(runInNetns(netns_.get(), [&]() -> Result<void> {
    auto loaded = runNft(sandbox_rules);
    if (!loaded.ok()) return loaded.error().withContext("sandbox firewall");
    return okResult();
  }));
  ports_ = in;
  auto host = ensureHostTable(in);
  if (!host.ok()) return host.error().withContext("host firewall " + std::string(kHostTableName));
  firewall_loaded_ = true;
  return okResult();
}

Result<void> SandboxNetwork::removeHostPorts() {
  if (!firewall_loaded_) return okResult();
  auto removed = runNft(hostPortElementsRemoval(ports_));
  if (!removed.ok()) return removed.error();
  return okResult();
}

Result<void> SandboxNetwork::teardown(bool delete_veth) {
  if (torn_down_) return okResult();
  torn_down_ = true;
  Result<void> result;
  if (delete_veth) {
    auto nl = RtNetlink::open();
    if (!nl.ok()) {
      result = nl.error();
    } else {
      auto deleted = nl->deleteLink(lease_.host_if);
      if (!deleted.ok() && deleted.error().code() != Code::kNotFound && result.ok()) result = deleted.error();
    }
  }
  netns_.reset();
  return result;
}

}  // namespace warden::sandbox
