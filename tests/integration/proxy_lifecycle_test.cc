// The egress proxy's connection lifecycle against a recording upstream: clients that vanish
// mid-request (nothing partial is forwarded), connections closed because a reload removed their rule
// (raw tunnels and WebSocket relays included), and connections still open when the proxy stops.

#include <gtest/gtest.h>
#include <unistd.h>

#include "integration/proxy_harness.h"
#include "proxy/server/policy_reloader.h"

namespace warden::testing {
namespace {

std::string l4Endpoint(uint16_t port) {
  return fmt::format("      - {{ host: 127.0.0.1, ports: [{}], allowed_ips: [127.0.0.1/32] }}\n", port);
}

std::string websocketEndpoint(uint16_t port) {
  return fmt::format(
      "      - {{ host: 127.0.0.1, ports: [{}], protocol: websocket, access: full, allowed_ips: [127.0.0.1/32] }}\n",
      port);
}

RawUpstream::Script okScript() {
  return RawUpstream::Script{.response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"};
}

std::string forwardGet(uint16_t port) {
  return fmt::format("GET http://127.0.0.1:{}/after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", port);
}

// The NET:CLOSE JSON event whose status_detail contains `detail`.
nlohmann::json closeEventWith(const ProxyHarness& proxy, const std::string& detail) {
  return proxy.waitForEvent([&](const nlohmann::json& e) {
    return e.value("class_uid", 0) == 4001 && e.value("activity_id", 0) == 2 &&
           e.value("status_detail", "").find(detail) != std::string::npos;
  });
}

std::unique_ptr<proxy::PolicyReloader> startReloader(ProxyHarness& proxy) {
  auto reloader = proxy::PolicyReloader::create(
      {.policy_file = proxy.policyPath(), .debounce = std::chrono::milliseconds(50)}, proxy.store(),
      proxy.pipeline(), proxy.session());
  EXPECT_TRUE(reloader.ok()) << reloader.error().toString();
  if (!reloader.ok()) return nullptr;
  (*reloader)->start();
  return std::move(reloader).value();
}

TEST(ProxyClientAbortTest, HalfARequestHeadIsRecordedAndNothingIsForwarded) {
  RawUpstream upstream(okScript());
  ProxyHarness proxy;
  ASSERT_TRUE(proxy.start(policyWith(l4Endpoint(upstream.port()))));
  const int fd = connectLoopback(proxy.port());
  ASSERT_GE(fd, 0);
  sendAll(fd, fmt::format("GET http://127.0.0.1:{}/half HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Partial: ", upstream.port()));
  ::close(fd);
  EXPECT_NE(proxy.waitForLine({"NET:RESET", "client closed the connection mid-request"}), "") << proxy.shorthand();
  EXPECT_NE(proxy.waitForLine({"NET:CLOSE"}), "") << proxy.shorthand();
  EXPECT_EQ(upstream.connections(), 0);
  EXPECT_EQ(upstream.received(), "");
  // The proxy keeps serving others.
  EXPECT_EQ(statusOf(exchangeVia(proxy.port(), forwardGet(upstream.port()))), 200);
}

TEST(ProxyClientAbortTest, ClientLeavingHalfwayThroughASmallBodyForwardsNothingOfIt) {
  RawUpstream upstream(okScript());
  ProxyHarness proxy;
  ASSERT_TRUE(proxy.start(policyWith(l4Endpoint(upstream.port()))));
  const int fd = connectLoopback(proxy.port());
  ASSERT_GE(fd, 0);
  sendAll(fd, fmt::format("POST http://127.0.0.1:{}/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n",
                          upstream.port()) +
                  std::string(50, 'b'));
  ASSERT_TRUE(waitFor([&] { return upstream.connections() == 1; }));  // the upstream was connected...
  ::close(fd);
  const std::string http = proxy.waitForLine({"HTTP:POST", "/upload"});
  EXPECT_NE(http, "") << proxy.shorthand();
  EXPECT_EQ(http.find("[code:"), std::string::npos) << "no response was given: " << http;
  EXPECT_NE(proxy.waitForLine({"NET:RESET", "client closed mid-request body"}), "") << proxy.shorthand();
  EXPECT_EQ(upstream.received(), "") << "...but received nothing of the truncated request";
  EXPECT_EQ(statusOf(exchangeVia(proxy.port(), forwardGet(upstream.port()))), 200);
}

TEST(ProxyClientAbortTest, ClientLeavingMidwayThroughALargeBodyResetsTheUpstream) {
  RawUpstream upstream(RawUpstream::Script{.respond = false});
  ProxyHarness proxy;
  ASSERT_TRUE(proxy.start(policyWith(l4Endpoint(upstream.port()))));
  const int fd = connectLoopback(proxy.port());
  ASSERT_GE(fd, 0);
  const size_t length = 200'000;
  sendAll(fd, fmt::format("PUT http://127.0.0.1:{}/big HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
                          upstream.port(), length) +
                  std::string(100'000, 'b'));
  // The body streams (it is larger than the 64 KiB checked before the head goes out): wait until
  // some of it went through.
  ASSERT_TRUE(waitFor([&] { return upstream.received().find("bbbb") != std::string::npos; })) << proxy.shorthand();
  ::close(fd);
  EXPECT_NE(proxy.waitForLine({"NET:RESET", "client closed mid-request body"}), "") << proxy.shorthand();
  // The upstream sees a reset, never a clean end of a truncated request.
  EXPECT_TRUE(waitFor([&] { return upstream.resets() == 1; })) << "resets: " << upstream.resets();
  EXPECT_LT(upstream.received().size(), length);
}

TEST(ProxyReloadCloseTest, ReloadWithoutTheRuleClosesAnOpenRawTunnel) {
  RawUpstream upstream(RawUpstream::Script{.response = "PONG\r\n\r\n", .close_after_response = false,
                                           .echo_after_response = true});
  ProxyHarness proxy;
  ASSERT_TRUE(proxy.start(policyWith(l4Endpoint(upstream.port()), "tunnel_rule")));
  auto reloader = startReloader(proxy);
  ASSERT_NE(reloader, nullptr);
  const int fd = openTunnel(proxy.port(), fmt::format("127.0.0.1:{}", upstream.port()));
  ASSERT_GE(fd, 0);
  sendAll(fd, "PING\r\n\r\n");
  ASSERT_EQ(readHead(fd), "PONG\r\n\r\n");

  writeFile(proxy.policyPath(), policyWith(l4Endpoint(static_cast<uint16_t>(upstream.port() + 1)), "other"));
  EXPECT_NE(proxy.waitForLine({"CONFIG:UPDATED"}), "") << proxy.shorthand();
  EXPECT_TRUE(waitForClose(fd, std::chrono::seconds(5)));
  ::close(fd);
  const auto close = closeEventWith(proxy, "rule tunnel_rule removed or changed on policy reload");
  ASSERT_TRUE(close.is_object()) << proxy.shorthand();
  EXPECT_GT(close["traffic"].value("bytes_in", 0), 0) << close.dump();
  reloader->stop();
}

TEST(ProxyReloadCloseTest, ReloadWithoutTheRuleClosesAWebSocketRelay) {
  RawUpstream upstream(RawUpstream::Script{
      .response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
      .close_after_response = false,
      .echo_after_response = true});
  ProxyHarness proxy;
  ASSERT_TRUE(proxy.start(policyWith(websocketEndpoint(upstream.port()), "ws_rule")));
  auto reloader = startReloader(proxy);
  ASSERT_NE(reloader, nullptr);
  const std::string target = fmt::format("127.0.0.1:{}", upstream.port());
  const int fd = openTunnel(proxy.port(), target);
  ASSERT_GE(fd, 0);
  sendAll(fd, fmt::format("GET /chat HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                          target));
  ASSERT_EQ(statusOf(readHead(fd)), 101);
  sendAll(fd, "frame-1");
  std::string echoed;
  ASSERT_TRUE(waitFor([&] {
    echoed += readResponse(fd, std::chrono::milliseconds(100), false);
    return echoed.find("frame-1") != std::string::npos;
  }));
  ASSERT_NE(proxy.waitForLine({"NET:UPGRADE"}), "");

  writeFile(proxy.policyPath(), policyWith(l4Endpoint(static_cast<uint16_t>(upstream.port() + 1)), "other"));
  EXPECT_TRUE(waitForClose(fd, std::chrono::seconds(5)));
  ::close(fd);
  const auto close = closeEventWith(proxy, "rule ws_rule removed or changed on policy reload");
  ASSERT_TRUE(close.is_object()) << proxy.shorthand();
  reloader->stop();
}

TEST(ProxyStopTest, TunnelStillOpenAtStopGetsItsNetClose) {
  RawUpstream upstream(RawUpstream::Script{.response = "PONG\r\n\r\n", .close_after_response = false});
  ProxyHarness proxy;
  ASSERT_TRUE(proxy.start(policyWith(l4Endpoint(upstream.port()))));
  const int fd = openTunnel(proxy.port(), fmt::format("127.0.0.1:{}", upstream.port()));
  ASSERT_GE(fd, 0);
  sendAll(fd, "PING\r\n\r\n");
  ASSERT_EQ(readHead(fd), "PONG\r\n\r\n");
  EXPECT_EQ(proxy.countLines({"NET:CLOSE"}), 0u);
  proxy.server().stop();
  const auto close = closeEventWith(proxy, "the proxy is stopping");
  ASSERT_TRUE(close.is_object()) << proxy.shorthand();
  EXPECT_GT(close["traffic"].value("bytes_in", 0), 0) << close.dump();
  EXPECT_GT(close["traffic"].value("bytes_out", 0), 0) << close.dump();
  EXPECT_TRUE(close.contains("duration")) << close.dump();
  EXPECT_TRUE(waitForClose(fd, std::chrono::seconds(2)));
  ::close(fd);
}

}  // namespace
}  // namespace warden::testing
