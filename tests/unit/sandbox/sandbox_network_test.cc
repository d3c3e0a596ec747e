// SandboxNetwork, acquireSubnet and the kernel side of BypassMonitor, against the real kernel: a
// parked child in a network namespace this test creates (never the launcher), a real veth pair,
// real nftables rules and the real /dev/kmsg. Root only (skips otherwise). Traffic goes only
// between the host side of the veth (10.200.N.1) and the namespace; everything made is removed
// even when a test fails (destructors), including the child.

#include "sandbox/sandbox_network.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "capture/kmsg/bypass_monitor.h"
#include "ocsf/shorthand.h"
#include "sandbox/nftables_rules.h"
#include "sandbox/subnet.h"
#include "support/collecting_emitter.h"
#include "support/test_env.h"

namespace warden::sandbox {
namespace {

using warden::testing::runCommand;
using warden::testing::waitFor;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// A child parked in a fresh network namespace until this object dies (or the test process does:
// it reads a pipe whose write end only we hold, and has PR_SET_PDEATHSIG).
class ParkedNetns {
 public:
  ParkedNetns() {
    int ready[2], hold[2];
    if (::pipe2(ready, O_CLOEXEC) != 0) return;
    if (::pipe2(hold, O_CLOEXEC) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::close(ready[0]);
      ::close(hold[1]);
      char c = ::unshare(CLONE_NEWNET) == 0 ? 'r' : 'e';
      if (::write(ready[1], &c, 1) != 1) ::_exit(1);
      while (::read(hold[0], &c, 1) > 0) {
      }
      ::_exit(0);
    }
    ::close(ready[1]);
    ::close(hold[0]);
    hold_ = hold[1];
    char c = 0;
    const bool got = ::read(ready[0], &c, 1) == 1;
    ::close(ready[0]);
    ok_ = pid_ > 0 && got && c == 'r';
  }
  ~ParkedNetns() {
    if (hold_ >= 0) ::close(hold_);
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  bool ok() const { return ok_; }
  pid_t pid() const { return pid_; }
  // A shell command run inside the namespace.
  std::string inside(const std::string& command) const {
    return "nsenter --net=/proc/" + std::to_string(pid_) + "/ns/net " + command;
  }

 private:
  pid_t pid_ = -1;
  int hold_ = -1;
  bool ok_ = false;
};

// A socket bound to ip:0 on the host (TCP listening, or UDP).
class HostSocket {
 public:
  HostSocket(const std::string& ip, int type) {
    fd_ = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return;
    if (type == SOCK_STREAM && ::listen(fd_, 8) != 0) return;
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~HostSocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  uint16_t port() const { return port_; }
  // Waits up to 5 s for a connection (TCP) or a datagram (UDP); returns the datagram's bytes or "accepted".
  std::string receive() const {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 5000) != 1) return "";
    char buf[256];
    sockaddr_in from{};
    socklen_t len = sizeof from;
    int type = 0;
    socklen_t tlen = sizeof type;
    ::getsockopt(fd_, SOL_SOCKET, SO_TYPE, &type, &tlen);
    if (type == SOCK_STREAM) {
      const int c = ::accept4(fd_, reinterpret_cast<sockaddr*>(&from), &len, SOCK_CLOEXEC);
      if (c < 0) return "";
      ::close(c);
      return "accepted";
    }
    const ssize_t n = ::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

struct Attempt {
  int status = -1;
  std::string output;
  std::chrono::milliseconds elapsed{0};
};

class SandboxNetworkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (veth, setns, nftables)";
    if (runCommand("command -v nsenter && command -v ip && command -v nft").status != 0) {
      GTEST_SKIP() << "needs nsenter, ip and nft to look at the result";
    }
    ASSERT_TRUE(ns_.ok()) << "could not park a child in a new network namespace";
  }
  // These tests use random ports: take their pairs out of the shared host table again.
  void TearDown() override {
    if (net_) {
      EXPECT_TRUE(net_->removeHostPorts().ok());
    }
  }

  // create() on a fresh lease; the lease index and names are in net_->lease().
  void createNetwork() {
    std::vector<std::string> stale;
    auto lease = acquireSubnet(&stale);
    ASSERT_TRUE(lease.ok()) << lease.error().toString();
    auto net = SandboxNetwork::create(std::move(lease).value(), ns_.pid());
    ASSERT_TRUE(net.ok()) << net.error().toString();
    net_ = std::move(net).value();
  }

  // `bash -c '<redirect> /dev/<proto>/<ip>/<port>'` inside the namespace, bounded by timeout(1).
  Attempt reach(const std::string& proto, const std::string& ip, uint16_t port,
                const std::string& payload) const {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = runCommand(ns_.inside("timeout 10 bash -c 'echo " + payload + " > /dev/" + proto + "/" + ip +
                                   "/" + std::to_string(port) + "'"));
    Attempt a;
    a.status = r.status;
    a.output = r.output;
    a.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    return a;
  }

  FirewallSpec spec(uint16_t proxy_port, uint16_t dns_port) const {
    FirewallSpec s;
    s.proxy_port = proxy_port;
    s.dns_port = dns_port;
    s.log_prefix = bypassLogPrefix(tag_);
    return s;
  }

  ParkedNetns ns_;
  std::unique_ptr<SandboxNetwork> net_;
  const std::string tag_ = "test-" + std::to_string(::getpid());
};

TEST_F(SandboxNetworkTest, CreateGivesTheSandboxEth0TheRouteAndNoIpv6) {
  ASSERT_NO_FATAL_FAILURE(createNetwork());
  const SubnetLease& lease = net_->lease();
  const std::string n = std::to_string(lease.index);
  EXPECT_EQ(lease.host_ip, "10.200." + n + ".1");
  EXPECT_EQ(lease.sandbox_ip, "10.200." + n + ".2");

  const auto addr = runCommand(ns_.inside("ip -4 addr show dev eth0"));
  EXPECT_EQ(addr.status, 0) << addr.output;
  EXPECT_TRUE(contains(addr.output, "inet 10.200." + n + ".2/30")) << addr.output;
  EXPECT_TRUE(contains(addr.output, "UP")) << addr.output;
  const auto route = runCommand(ns_.inside("ip -4 route show default"));
  EXPECT_TRUE(contains(route.output, "default via 10.200." + n + ".1 dev eth0")) << route.output;
  const auto lo = runCommand(ns_.inside("ip link show dev lo"));
  EXPECT_TRUE(contains(lo.output, "UP")) << lo.output;
  const auto v6 = runCommand(ns_.inside("ip -6 addr show dev eth0"));
  EXPECT_EQ(v6.output, "") << "eth0 must have no IPv6 address";
  const auto old_name = runCommand(ns_.inside("ip link show dev " + lease.sandbox_if));
  EXPECT_NE(old_name.status, 0) << "the peer is renamed eth0";

  const auto host = runCommand("ip -4 addr show dev " + lease.host_if);
  EXPECT_TRUE(contains(host.output, "inet 10.200." + n + ".1/30")) << host.output;
}

TEST_F(SandboxNetworkTest, FirewallLetsThroughProxyAndDnsAndRejectsTheRestQuickly) {
  ASSERT_NO_FATAL_FAILURE(createNetwork());
  const std::string ip = net_->lease().host_ip;
  HostSocket proxy(ip, SOCK_STREAM), other(ip, SOCK_STREAM), dns(ip, SOCK_DGRAM), other_udp(ip, SOCK_DGRAM);
  ASSERT_NE(proxy.port(), 0);
  ASSERT_NE(dns.port(), 0);
  auto installed = net_->installFirewall(spec(proxy.port(), dns.port()));
  ASSERT_TRUE(installed.ok()) << installed.error().toString();

  const Attempt to_proxy = reach("tcp", ip, proxy.port(), "hi");
  EXPECT_EQ(to_proxy.status, 0) << to_proxy.output;
  EXPECT_EQ(proxy.receive(), "accepted");

  const Attempt to_dns = reach("udp", ip, dns.port(), "query");
  EXPECT_EQ(to_dns.status, 0) << to_dns.output;
  EXPECT_EQ(dns.receive(), "query\n");

  // A port that is listening on the host all the same, and ssh: refused at once, not timed out.
  for (uint16_t port : {other.port(), static_cast<uint16_t>(22)}) {
    const Attempt a = reach("tcp", ip, port, "x");
    EXPECT_NE(a.status, 0) << port;
    EXPECT_TRUE(contains(a.output, "Connection refused")) << port << ": " << a.output;
    EXPECT_LT(a.elapsed, std::chrono::seconds(3)) << port;
  }
  const Attempt udp = reach("udp", ip, other_udp.port(), "x");
  EXPECT_NE(udp.status, 0) << udp.output;
  EXPECT_LT(udp.elapsed, std::chrono::seconds(3));

  const auto host_table = runCommand("nft list table inet warden-host");
  EXPECT_EQ(host_table.status, 0) << host_table.output;
  EXPECT_TRUE(contains(host_table.output, std::to_string(proxy.port()))) << host_table.output;
  const auto sandbox_tables = runCommand(ns_.inside("nft list tables"));
  EXPECT_TRUE(contains(sandbox_tables.output, "table inet warden")) << sandbox_tables.output;

  // Loading again replaces the rules instead of failing or doubling them.
  ASSERT_TRUE(net_->installFirewall(spec(proxy.port(), dns.port())).ok());
  const auto ruleset = runCommand(ns_.inside("nft list table inet warden"));
  size_t logs = 0;
  for (size_t at = ruleset.output.find("log prefix"); at != std::string::npos;
       at = ruleset.output.find("log prefix", at + 1))
    ++logs;
  EXPECT_EQ(logs, 1u) << ruleset.output;
}

TEST_F(SandboxNetworkTest, InstallFirewallRefusesASpecThatCannotBeARule) {
  ASSERT_NO_FATAL_FAILURE(createNetwork());
  auto no_port = net_->installFirewall(spec(0, 53));
  ASSERT_FALSE(no_port.ok());
  EXPECT_EQ(no_port.error().code(), Code::kInvalidArgument);
  FirewallSpec quoted = spec(3128, 53);
  quoted.log_prefix = "warden:bypass:\"; flush ruleset; \": ";
  auto bad = net_->installFirewall(quoted);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), Code::kInvalidArgument);
}

using warden::testing::CollectingEmitter;

TEST_F(SandboxNetworkTest, ABypassAttemptBecomesRefuseAndFindingFromTheKernelLog) {
  ASSERT_NO_FATAL_FAILURE(createNetwork());
  const std::string ip = net_->lease().host_ip;
  HostSocket proxy(ip, SOCK_STREAM), dns(ip, SOCK_DGRAM);
  ASSERT_TRUE(net_->installFirewall(spec(proxy.port(), dns.port())).ok());

  CollectingEmitter emitter;
  ocsf::SessionContext ctx;
  ctx.session_id = tag_;
  ctx.hostname = "test";
  capture::BypassMonitor::Options options;
  options.session_tag = tag_;
  // Note: this turns on net.netfilter.nf_log_all_netns (the product does the same) and leaves it
  // on, as the product does: tests of other sessions running at the same time rely on it.
  auto monitor = capture::BypassMonitor::start(options, emitter, ctx);
  if (!monitor.ok() && monitor.error().code() == Code::kUnavailable) {
    GTEST_SKIP() << "the kernel cannot log for a network namespace here: " << monitor.error().message();
  }
  ASSERT_TRUE(monitor.ok()) << monitor.error().toString();

  const uint16_t bypass_port = static_cast<uint16_t>(proxy.port() == 9 ? 10 : 9);  // not the proxy
  const Attempt a = reach("tcp", ip, bypass_port, "x");
  EXPECT_TRUE(contains(a.output, "Connection refused")) << a.output;
  ASSERT_TRUE(waitFor([&] { return (*monitor)->attempts() >= 1; }, std::chrono::seconds(10)))
      << "no bypass record for tag " << tag_ << " reached the kernel log";
  (*monitor)->stop();

  const auto events = emitter.events();
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(ocsf::toShorthand(events[0]), "NET:REFUSE [MED] DENIED - -> " + ip + ":" +
                                              std::to_string(bypass_port) +
                                              "/tcp [policy:bypass-detect engine:nftables] "
                                              "[reason:direct connection bypassed the proxy]");
  ASSERT_NE(events[0].unmapped.find("uid"), nullptr);
  EXPECT_EQ(events[0].unmapped.find("uid")->asInt(), 0);  // nsenter ran it as root
  EXPECT_EQ(events[0].src_endpoint->ip, net_->lease().sandbox_ip);
  EXPECT_EQ(ocsf::toShorthand(events[1]),
            "FINDING:BLOCKED [MED] \"Proxy bypass attempt\" [type:proxy-bypass confidence:high]");
}

TEST_F(SandboxNetworkTest, TeardownRemovesTheVethKeepsTheSharedHostTableAndIsIdempotent) {
  ASSERT_NO_FATAL_FAILURE(createNetwork());
  const SubnetLease& lease = net_->lease();
  HostSocket proxy(lease.host_ip, SOCK_STREAM);
  ASSERT_TRUE(net_->installFirewall(spec(proxy.port(), 53)).ok());
  ASSERT_EQ(runCommand("ip link show dev " + lease.host_if).status, 0);

  auto down = net_->teardown();
  ASSERT_TRUE(down.ok()) << down.error().toString();
  EXPECT_NE(runCommand("ip link show dev " + lease.host_if).status, 0) << "the host veth is still there";
  // The shared host table stays: it only matches sandbox veths, and deleting it would cost every
  // session's end an RCU grace period.
  EXPECT_TRUE(contains(runCommand("nft list tables").output, "table inet warden-host\n"));
  EXPECT_EQ(runCommand(ns_.inside("ip link show dev eth0")).status, 1) << "the peer went with the pair";
  EXPECT_TRUE(net_->teardown().ok());
  auto after = net_->installFirewall(spec(proxy.port(), 53));
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().code(), Code::kFailedPrecondition);
}

TEST_F(SandboxNetworkTest, CreateForAProcessThatIsGoneFailsAndLeavesNothing) {
  auto lease = acquireSubnet(nullptr);
  ASSERT_TRUE(lease.ok()) << lease.error().toString();
  const std::string host_if = lease->host_if;
  auto net = SandboxNetwork::create(std::move(lease).value(), 0x3fffffff);
  ASSERT_FALSE(net.ok());
  EXPECT_EQ(net.error().code(), Code::kNotFound) << net.error().toString();
  EXPECT_NE(runCommand("ip link show dev " + host_if).status, 0);
}

TEST_F(SandboxNetworkTest, TwoLeasesAtOnceGetDifferentIndexes) {
  auto a = acquireSubnet(nullptr);
  auto b = acquireSubnet(nullptr);
  ASSERT_TRUE(a.ok()) << a.error().toString();
  ASSERT_TRUE(b.ok()) << b.error().toString();
  EXPECT_NE(a->index, b->index);
  EXPECT_NE(a->host_if, b->host_if);
  EXPECT_TRUE(a->lock.valid());
  EXPECT_TRUE(b->lock.valid());
}

TEST_F(SandboxNetworkTest, AStaleVethAndTableOfACrashedRunAreRemovedAndReported) {
  // Lease a high index (acquireSubnet hands out low ones first, so concurrent sessions stay clear of
  // it), give it up the way a crash does (the lock goes, the veth and the table stay), lease it again.
  int index = -1;
  for (int k = kSubnetCount - 1; k >= 0 && index < 0; --k) {
    auto probe = acquireSubnetIndex(k, nullptr);
    if (probe.ok()) index = k;  // released again at the end of this scope
  }
  ASSERT_GE(index, 0) << "no free subnet";
  const SubnetLease names = describeSubnet(index);
  const std::string peer = "wdtest" + std::to_string(index);
  const std::string table = hostTableName(index);
  struct RemoveLeftovers {  // only if the test fails before acquireSubnetIndex removed them
    std::string peer;
    ~RemoveLeftovers() { runCommand("ip link del " + peer + " 2>/dev/null"); }
  } remove_leftovers{peer};
  ASSERT_EQ(runCommand("ip link add " + names.host_if + " type veth peer name " + peer).status, 0);
  ASSERT_EQ(runCommand("nft add table inet " + table).status, 0);

  std::vector<std::string> stale;
  auto again = acquireSubnetIndex(index, &stale);
  ASSERT_TRUE(again.ok()) << again.error().toString();
  EXPECT_EQ(stale, (std::vector<std::string>{"veth " + names.host_if, "nftables table inet " + table}));
  EXPECT_NE(runCommand("ip link show dev " + names.host_if).status, 0) << "the stale veth is still there";
  EXPECT_NE(runCommand("ip link show dev " + peer).status, 0) << "its peer is still there";
  EXPECT_FALSE(contains(runCommand("nft list tables").output, "table inet " + table + "\n"));
}

TEST_F(SandboxNetworkTest, ALeasedIndexIsNotHandedOutTwice) {
  auto held = acquireSubnet(nullptr);
  ASSERT_TRUE(held.ok()) << held.error().toString();
  auto same = acquireSubnetIndex(held->index, nullptr);
  ASSERT_FALSE(same.ok());
  EXPECT_EQ(same.error().code(), Code::kUnavailable);
  EXPECT_FALSE(acquireSubnetIndex(kSubnetCount, nullptr).ok());
}

}  // namespace
}  // namespace warden::sandbox
