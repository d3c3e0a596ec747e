// The proxy's and the resolver's side of attribution by the kernel capture (proxy/capture_attribution.h):
// what a lookup asks the hook, how the answer is marked, and that the policy never sees it as a
// caller. The kernel side is tested with the real capture in tests/integration/capture_attribution_test.cc.

#include <gtest/gtest.h>

#include <boost/asio/ip/address.hpp>
#include <string>

#include "policy/engine.h"
#include "policy/loader.h"
#include "proxy/capture_attribution.h"
#include "proxy/server/connection_caller.h"
#include "proxy/server/dns_resolver.h"

namespace warden::proxy {
namespace {

namespace asio = boost::asio;

struct Asked {
  int calls = 0;
  SocketProtocol protocol = SocketProtocol::kTcp;
  std::string client;
  std::string server;
};

// A hook that records what it was asked and names curl(4242).
CaptureAttribution namingCurl(Asked& asked) {
  return [&asked](SocketProtocol protocol, const TcpEndpoint& client, const TcpEndpoint& server) {
    ++asked.calls;
    asked.protocol = protocol;
    asked.client = client.toString();
    asked.server = server.toString();
    ocsf::Process p;
    p.name = "curl";
    p.pid = 4242;
    p.uid = 64000;
    p.cmd_line = "curl --oauth2-bearer sk-live-0123456789abcdef0123456789abcdef https://example.com";
    p.file = ocsf::File{.name = "curl", .path = "/usr/bin/curl"};
    return std::optional<ocsf::Process>(p);
  };
}

asio::ip::tcp::endpoint tcpEndpoint(const char* ip, uint16_t port) {
  return {asio::ip::make_address(ip), port};
}

TEST(CaptureAttributionTest, WithoutAResolverTheProxyAsksTheCaptureAndMarksTheCaller) {
  Asked asked;
  const CallerLookup lookup = makeProcCallerLookup(nullptr, namingCurl(asked));
  const auto caller = lookup(tcpEndpoint("10.200.0.2", 40312), tcpEndpoint("10.200.0.1", 3128));
  ASSERT_TRUE(caller);
  EXPECT_EQ(asked.calls, 1);
  EXPECT_EQ(asked.protocol, SocketProtocol::kTcp);
  EXPECT_EQ(asked.client, "10.200.0.2:40312");
  EXPECT_EQ(asked.server, "10.200.0.1:3128");
  EXPECT_EQ(caller->pid, 4242);
  EXPECT_EQ(caller->name, "curl");
  EXPECT_EQ(caller->executable, "/usr/bin/curl");
  EXPECT_EQ(caller->attribution, "kernel capture");
  EXPECT_EQ(caller->cmd_line.find("sk-live-0123456789abcdef"), std::string::npos) << caller->cmd_line;
}

TEST(CaptureAttributionTest, ACallerNamedByTheCaptureIsNoCallerToThePolicy) {
  Asked asked;
  const auto caller = makeProcCallerLookup(nullptr, namingCurl(asked))(tcpEndpoint("10.200.0.2", 40312),
                                                                      tcpEndpoint("10.200.0.1", 3128));
  ASSERT_TRUE(caller);
  const policy::ConnectRequest request = connectRequestFor("example.com", 443, caller);
  EXPECT_EQ(request.executable, "");
  EXPECT_TRUE(request.ancestors.empty());
  EXPECT_EQ(request.pid, 0);
  // Even a rule that allows every executable does not allow a caller with none.
  auto policy = policy::loadPolicyText(
      "version: 1\nnetwork:\n  any:\n    endpoints: [ { host: example.com, ports: [443] } ]\n"
      "    binaries: [ { path: \"/**\" } ]\n",
      "policy.yaml");
  ASSERT_TRUE(policy.ok()) << policy.error().toString();
  EXPECT_FALSE(policy::decideConnect(*policy, request).allowed());
  // The same process identified through /proc would have been allowed.
  CallerInfo identified = *caller;
  identified.attribution.clear();
  EXPECT_TRUE(policy::decideConnect(*policy, connectRequestFor("example.com", 443, identified)).allowed());
}

TEST(CaptureAttributionTest, TheResolverAsksTheCaptureByTheQuerysProtocolAndMarksTheActor) {
  Asked asked;
  const DnsResolver::CallerLookup lookup = makeDnsCallerLookup(nullptr, namingCurl(asked));
  const auto udp = lookup({asio::ip::make_address("fd00::2"), 51515}, {asio::ip::make_address("fd00::1"), 53}, false);
  ASSERT_TRUE(udp);
  EXPECT_EQ(asked.protocol, SocketProtocol::kUdp);
  EXPECT_EQ(asked.client, "[fd00::2]:51515");
  EXPECT_EQ(udp->attribution, "kernel capture");
  EXPECT_EQ(udp->pid, 4242);
  EXPECT_EQ(udp->cmd_line.find("sk-live-0123456789abcdef"), std::string::npos) << udp->cmd_line;
  const auto tcp = lookup({asio::ip::make_address("10.200.0.2"), 40000}, {asio::ip::make_address("10.200.0.1"), 53}, true);
  ASSERT_TRUE(tcp);
  EXPECT_EQ(asked.protocol, SocketProtocol::kTcp);
  EXPECT_EQ(asked.calls, 2);
}

TEST(CaptureAttributionTest, ACaptureThatDoesNotKnowLeavesTheCallerUnknown) {
  const CaptureAttribution nobody = [](SocketProtocol, const TcpEndpoint&, const TcpEndpoint&) {
    return std::optional<ocsf::Process>();
  };
  EXPECT_FALSE(makeProcCallerLookup(nullptr, nobody)(tcpEndpoint("127.0.0.1", 1), tcpEndpoint("127.0.0.1", 2)));
  EXPECT_FALSE(makeDnsCallerLookup(nullptr, nobody)({asio::ip::make_address("127.0.0.1"), 1},
                                                    {asio::ip::make_address("127.0.0.1"), 53}, false));
  // And no hook at all (standalone `warden proxy` without caller identity): unknown, nothing asked.
  EXPECT_FALSE(makeProcCallerLookup(nullptr)(tcpEndpoint("127.0.0.1", 1), tcpEndpoint("127.0.0.1", 2)));
}

}  // namespace
}  // namespace warden::proxy
