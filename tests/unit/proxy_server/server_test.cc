// The proxy Server in process on 127.0.0.1:0: accept, deny, close, the connection cap, the
// deadline, closing connections on reload and on stop. Upstreams are RawUpstream on loopback.

#include "proxy/server/server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "server_test_util.h"

namespace warden::proxy {
namespace {

using ::testing::HasSubstr;
using testutil::loopbackPolicy;
using testutil::TestProxy;
using warden::testing::bodyOf;
using warden::testing::connectLoopback;
using warden::testing::RawUpstream;
using warden::testing::readHead;
using warden::testing::readResponse;
using warden::testing::sendAll;
using warden::testing::statusOf;
using warden::testing::waitFor;
using warden::testing::waitForClose;

// CONNECT through the proxy; the fd after 200 (or -1, with the answer in *answer).
int tunnel(uint16_t proxy_port, uint16_t upstream_port, std::string* answer = nullptr) {
  const int fd = connectLoopback(proxy_port);
  if (fd < 0) return -1;
  sendAll(fd, fmt::format("CONNECT 127.0.0.1:{0} HTTP/1.1\r\nHost: 127.0.0.1:{0}\r\n\r\n", upstream_port));
  std::string head = readHead(fd);
  if (statusOf(head) != 200) {
    head += readResponse(fd, std::chrono::seconds(5), false);
    if (answer) *answer = head;
    ::close(fd);
    return -1;
  }
  if (answer) *answer = head;
  return fd;
}

RawUpstream::Script echoing() {
  RawUpstream::Script s;
  s.response = "PONG\r\n\r\n";
  s.close_after_response = false;
  s.echo_after_response = true;
  return s;
}

TEST(ProxyServerTest, AllowedTunnelRelaysBothWaysAndRecordsOpenAndCloseWithBytes) {
  RawUpstream upstream(echoing());
  TestProxy proxy(loopbackPolicy(upstream.port()));
  const int fd = tunnel(proxy.port(), upstream.port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(sendAll(fd, "PING\r\n\r\n"));
  EXPECT_EQ(readHead(fd), "PONG\r\n\r\n");
  ::close(fd);

  const auto open = proxy.emitter.waitFor({"NET:OPEN", "ALLOWED", "policy:local"});
  ASSERT_TRUE(open.has_value()) << proxy.emitter.allShorthand();
  EXPECT_THAT(ocsf::toShorthand(*open), HasSubstr("curl("));
  const auto close = proxy.emitter.waitFor({"NET:CLOSE"});
  ASSERT_TRUE(close.has_value()) << proxy.emitter.allShorthand();
  ASSERT_TRUE(close->traffic.has_value());
  // The agent sent the CONNECT head and PING; it received the 200 head and PONG.
  EXPECT_GE(close->traffic->bytes_out.value_or(0), 8);
  EXPECT_GE(close->traffic->bytes_in.value_or(0), 8);
  EXPECT_TRUE(close->status_detail.empty()) << close->status_detail;  // a peer closed it, not the proxy
  EXPECT_EQ(testutil::schemaProblems(*open), "");
  EXPECT_EQ(testutil::schemaProblems(*close), "");
}

TEST(ProxyServerTest, DeniedConnectGets403JsonAndNetOpenDeniedAndNothingReachesTheUpstream) {
  RawUpstream upstream(echoing());
  TestProxy proxy(loopbackPolicy(static_cast<uint16_t>(upstream.port() + 1)));
  std::string answer;
  EXPECT_EQ(tunnel(proxy.port(), upstream.port(), &answer), -1);
  EXPECT_EQ(statusOf(answer), 403) << answer;
  EXPECT_THAT(bodyOf(answer), HasSubstr("\"error\":\"policy_denied\""));
  const auto denied = proxy.emitter.waitFor({"NET:OPEN", "DENIED", "engine:policy"});
  ASSERT_TRUE(denied.has_value()) << proxy.emitter.allShorthand();
  EXPECT_EQ(testutil::schemaProblems(*denied), "");
  EXPECT_EQ(upstream.connections(), 0);
  EXPECT_TRUE(proxy.emitter.waitFor({"NET:CLOSE"}).has_value());
}

TEST(ProxyServerTest, ConnectionOverTheCapGets503AndIsRecorded) {
  RawUpstream upstream(echoing());
  auto options = testutil::testOptions();
  options.max_connections = 1;
  TestProxy proxy(loopbackPolicy(upstream.port()), options);
  const int held = tunnel(proxy.port(), upstream.port());
  ASSERT_GE(held, 0);
  ASSERT_TRUE(waitFor([&] { return proxy.server->activeConnections() == 1; }));

  const int second = connectLoopback(proxy.port());
  ASSERT_GE(second, 0);
  const std::string answer = readResponse(second, std::chrono::seconds(5), false);
  ::close(second);
  EXPECT_EQ(statusOf(answer), 503) << answer;
  EXPECT_THAT(bodyOf(answer), HasSubstr("connection_limit"));
  const auto refused = proxy.emitter.waitFor({"NET:OPEN", "DENIED", "engine:limit"});
  ASSERT_TRUE(refused.has_value()) << proxy.emitter.allShorthand();
  EXPECT_EQ(testutil::schemaProblems(*refused), "");
  EXPECT_EQ(proxy.server->refusedConnections(), 1u);
  ::close(held);
  // Once the first one ends, the slot is free again.
  ASSERT_TRUE(waitFor([&] { return proxy.server->activeConnections() == 0; }));
  const int third = tunnel(proxy.port(), upstream.port());
  EXPECT_GE(third, 0);
  if (third >= 0) ::close(third);
}

TEST(ProxyServerTest, DeadlineAnswers408WhenTheRequestHeadDoesNotCompleteInTime) {
  RawUpstream upstream(echoing());
  auto options = testutil::testOptions();
  options.timeouts.request_head = std::chrono::milliseconds(300);
  TestProxy proxy(loopbackPolicy(upstream.port()), options);
  const int fd = connectLoopback(proxy.port());
  ASSERT_GE(fd, 0);
  const auto started = std::chrono::steady_clock::now();
  sendAll(fd, "GET http://127.0.0.1/ HTTP/1.1\r\nHost: 127");  // and nothing more (slowloris)
  const std::string answer = readResponse(fd, std::chrono::seconds(5), false);
  const auto waited = std::chrono::steady_clock::now() - started;
  ::close(fd);
  EXPECT_EQ(statusOf(answer), 408) << answer;
  EXPECT_GE(waited, std::chrono::milliseconds(250));
  EXPECT_LT(waited, std::chrono::seconds(4));
  const auto event = proxy.emitter.waitFor({"HTTP:-", "DENIED", "engine:l7"});
  ASSERT_TRUE(event.has_value()) << proxy.emitter.allShorthand();
  ASSERT_TRUE(event->http_response.has_value());
  EXPECT_EQ(event->http_response->code, 408);
  EXPECT_EQ(upstream.connections(), 0);
}

TEST(ProxyServerTest, ReloadThatRemovesTheRuleClosesAnOpenRawTunnelWithTheReason) {
  RawUpstream upstream(echoing());
  TestProxy proxy(loopbackPolicy(upstream.port(), "first"));
  const int fd = tunnel(proxy.port(), upstream.port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(sendAll(fd, "PING\r\n\r\n"));
  ASSERT_EQ(readHead(fd), "PONG\r\n\r\n");
  ASSERT_TRUE(waitFor([&] { return proxy.server->registeredConnections() == 1; }));

  proxy.store.swap(testutil::policyFrom(loopbackPolicy(static_cast<uint16_t>(upstream.port() + 1), "second")));
  EXPECT_TRUE(waitForClose(fd, std::chrono::seconds(5)));
  ::close(fd);
  const auto close = proxy.emitter.waitFor({"NET:CLOSE"});
  ASSERT_TRUE(close.has_value()) << proxy.emitter.allShorthand();
  EXPECT_THAT(close->status_detail, HasSubstr("rule first removed or changed on policy reload"));
  EXPECT_THAT(close->message, HasSubstr("policy reload"));
  EXPECT_EQ(testutil::schemaProblems(*close), "");
  // New connections follow the new policy.
  std::string answer;
  EXPECT_EQ(tunnel(proxy.port(), upstream.port(), &answer), -1);
  EXPECT_EQ(statusOf(answer), 403);
}

TEST(ProxyServerTest, ReloadThatStillAllowsTheConnectionKeepsItOpen) {
  RawUpstream upstream(echoing());
  TestProxy proxy(loopbackPolicy(upstream.port(), "first"));
  const int fd = tunnel(proxy.port(), upstream.port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(waitFor([&] { return proxy.server->registeredConnections() == 1; }));
  // Same grant under another rule name: still allowed.
  proxy.store.swap(testutil::policyFrom(loopbackPolicy(upstream.port(), "renamed")));
  ASSERT_TRUE(sendAll(fd, "PING\r\n\r\n"));
  EXPECT_EQ(readHead(fd), "PONG\r\n\r\n");
  EXPECT_FALSE(proxy.emitter.find({"NET:CLOSE"}).has_value()) << proxy.emitter.allShorthand();
  ::close(fd);
}

TEST(ProxyServerTest, StopClosesOpenConnectionsAndRecordsTheirCloseBeforeReturning) {
  RawUpstream upstream(echoing());
  TestProxy proxy(loopbackPolicy(upstream.port()));
  const int fd = tunnel(proxy.port(), upstream.port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(sendAll(fd, "PING\r\n\r\n"));
  ASSERT_EQ(readHead(fd), "PONG\r\n\r\n");
  // A second client that has not sent anything yet (idle before its first request).
  const int idle = connectLoopback(proxy.port());
  ASSERT_GE(idle, 0);
  ASSERT_TRUE(waitFor([&] { return proxy.server->registeredConnections() == 2; }));

  const auto started = std::chrono::steady_clock::now();
  proxy.server->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  // No waiting: stop() returned, so both NET:CLOSE events are already recorded.
  size_t closes = 0;
  for (const auto& e : proxy.emitter.events()) {
    if (ocsf::toShorthand(e).find("NET:CLOSE") == std::string::npos) continue;
    ++closes;
    EXPECT_EQ(e.status_detail, "the proxy is stopping");
    EXPECT_EQ(testutil::schemaProblems(e), "");
  }
  EXPECT_EQ(closes, 2u) << proxy.emitter.allShorthand();
  const auto tunnel_close = proxy.emitter.find({"NET:CLOSE", "127.0.0.1:" + std::to_string(upstream.port())});
  ASSERT_TRUE(tunnel_close.has_value()) << proxy.emitter.allShorthand();
  EXPECT_GE(tunnel_close->traffic->bytes_in.value_or(0), 8);
  EXPECT_TRUE(waitForClose(fd, std::chrono::seconds(2)));
  EXPECT_TRUE(waitForClose(idle, std::chrono::seconds(2)));
  ::close(fd);
  ::close(idle);
}

}  // namespace
}  // namespace warden::proxy
