// Failure paths of the egress proxy: refused and stalled upstreams, the connection cap, slowloris,
// and hot reload of the policy (good and bad files).

#include <gtest/gtest.h>
#include <unistd.h>

#include "integration/proxy_harness.h"
#include "proxy/server/policy_reloader.h"
#include "support/nginx.h"

namespace warden::testing {
namespace {

std::string l4Endpoint(uint16_t port) {
  return fmt::format("      - {{ host: 127.0.0.1, ports: [{}], allowed_ips: [127.0.0.1/32] }}\n", port);
}

TEST(ProxyUpstreamFailureTest, RefusedUpstreamAnswers502AndRecordsFail) {
  const uint16_t closed_port = freeLoopbackPort();  // nothing listens there
  ProxyHarness proxy;
  ASSERT_TRUE(proxy.start(policyWith(l4Endpoint(closed_port))));
  const std::string answer = exchangeVia(
      proxy.port(), fmt::format("GET http://127.0.0.1:{}/ HTTP/1.1\r\nHost: x\r\n\r\n", closed_port));
  EXPECT_EQ(statusOf(answer), 502) << answer;
  const auto body = nlohmann::json::parse(bodyOf(answer), nullptr, false);
  EXPECT_TRUE(body.is_object() && body.value("error", "") == "upstream_unreachable") << answer;
  std::string connect_answer;
  EXPECT_EQ(openTunnel(proxy.port(), fmt::format("127.0.0.1:{}", closed_port), &connect_answer), -1);
  EXPECT_EQ(statusOf(connect_answer), 502) << connect_answer;
  EXPECT_NE(proxy.waitForLine({"NET:", "connection refused"}), "") << proxy.shorthand();
}

TEST(ProxyUpstreamFailureTest, StalledUpstreamAnswers504) {
  RawUpstream upstream(RawUpstream::Script{.respond = false});
  ProxyHarness proxy;
  auto options = ProxyHarness::defaultOptions();
  options.timeouts.response = std::chrono::milliseconds(500);
  ASSERT_TRUE(proxy.start(policyWith(l4Endpoint(upstream.port())), options));
  const auto started = std::chrono::steady_clock::now();
  const std::string answer = exchangeVia(
      proxy.port(), fmt::format("GET http://127.0.0.1:{}/slow HTTP/1.1\r\nHost: x\r\n\r\n", upstream.port()));
  EXPECT_EQ(statusOf(answer), 504) << answer;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_NE(upstream.received().find("GET /slow HTTP/1.1"), std::string::npos);
  EXPECT_NE(proxy.waitForLine({"NET:FAIL", "timed out"}), "") << proxy.shorthand();
}

TEST(ProxyUpstreamFailureTest, ResetUpstreamAnswers502) {
  RawUpstream upstream(RawUpstream::Script{.reset = true});
  ProxyHarness proxy;
  ASSERT_TRUE(proxy.start(policyWith(l4Endpoint(upstream.port()))));
  const std::string answer = exchangeVia(
      proxy.port(), fmt::format("GET http://127.0.0.1:{}/ HTTP/1.1\r\nHost: x\r\n\r\n", upstream.port()));
  EXPECT_EQ(statusOf(answer), 502) << answer;
}

TEST(ProxyLimitsTest, ConnectionsBeyondTheCapGet503) {
  ProxyHarness proxy;
  auto options = ProxyHarness::defaultOptions();
  options.max_connections = 2;
  ASSERT_TRUE(proxy.start(policyWith(l4Endpoint(1)), options));
  const int a = connectLoopback(proxy.port());
  const int b = connectLoopback(proxy.port());
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  ASSERT_TRUE(waitFor([&] { return proxy.server().activeConnections() == 2; }));
  const int c = connectLoopback(proxy.port());
  ASSERT_GE(c, 0);
  const std::string answer = readResponse(c);
  EXPECT_EQ(statusOf(answer), 503) << answer;
  EXPECT_NE(answer.find("connection_limit"), std::string::npos) << answer;
  ::close(c);
  ::close(a);
  ::close(b);
  EXPECT_NE(proxy.waitForLine({"NET:OPEN [MED] DENIED", "engine:limit"}), "") << proxy.shorthand();
  // Capacity comes back once the held connections end.
  ASSERT_TRUE(waitFor([&] { return proxy.server().activeConnections() == 0; }));
  const int d = connectLoopback(proxy.port());
  sendAll(d, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(statusOf(readResponse(d)), 400);
  ::close(d);
}

TEST(ProxyLimitsTest, SlowHeaderGets408) {
  ProxyHarness proxy;
  auto options = ProxyHarness::defaultOptions();
  options.timeouts.request_head = std::chrono::milliseconds(400);
  ASSERT_TRUE(proxy.start(policyWith(l4Endpoint(1)), options));
  const int fd = connectLoopback(proxy.port());
  sendAll(fd, "GET http://127.0.0.1:1/ HTTP/1.1\r\nHost: x\r\nX-Slow: ");  // and never finish
  const std::string answer = readResponse(fd, std::chrono::seconds(5));
  EXPECT_EQ(statusOf(answer), 408) << answer;
  EXPECT_TRUE(waitForClose(fd, std::chrono::seconds(5)));
  ::close(fd);
  EXPECT_NE(proxy.waitForLine({"HTTP:", "DENIED", "not complete within"}), "") << proxy.shorthand();
}

TEST(ProxyLimitsTest, IdleClientIsClosedQuietly) {
  ProxyHarness proxy;
  auto options = ProxyHarness::defaultOptions();
  options.timeouts.client_idle = std::chrono::milliseconds(300);
  ASSERT_TRUE(proxy.start(policyWith(l4Endpoint(1)), options));
  const int fd = connectLoopback(proxy.port());
  EXPECT_TRUE(waitForClose(fd, std::chrono::seconds(5)));
  ::close(fd);
  EXPECT_NE(proxy.waitForLine({"NET:CLOSE"}), "");
}

TEST(ProxyReloadTest, GoodFileSwapsAndBadFileKeepsThePreviousPolicy) {
  std::string why;
  auto nginx = NginxServer::start(&why);
  if (!nginx) GTEST_SKIP() << why;
  ProxyHarness proxy;
  ASSERT_TRUE(proxy.start(policyWith(l4Endpoint(nginx->port()), "first")));
  auto reloader = proxy::PolicyReloader::create(
      {.policy_file = proxy.policyPath(), .debounce = std::chrono::milliseconds(50)}, proxy.store(),
      proxy.pipeline(), proxy.session());
  ASSERT_TRUE(reloader.ok()) << reloader.error().toString();
  (*reloader)->start();
  const std::string request =
      fmt::format("GET http://127.0.0.1:{}/hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", nginx->port());
  EXPECT_EQ(statusOf(exchangeVia(proxy.port(), request)), 200);

  // A keep-alive connection decided under the first policy.
  const int held = connectLoopback(proxy.port());
  const std::string keep =
      fmt::format("GET http://127.0.0.1:{}/hello.txt HTTP/1.1\r\nHost: x\r\n\r\n", nginx->port());
  sendAll(held, keep);
  EXPECT_EQ(statusOf(readResponse(held)), 200);

  // Bad file: CONFIG:FAILED with the error, the old policy stays.
  writeFile(proxy.policyPath(), "version: 1\nnetwork:\n  broken:\n    endpoints: 7\n");
  EXPECT_NE(proxy.waitForLine({"CONFIG:FAILED"}), "") << proxy.shorthand();
  EXPECT_EQ(statusOf(exchangeVia(proxy.port(), request)), 200);

  // Good file without the rule: CONFIG:UPDATED; new connections are refused and the held one is
  // closed at once (its rule disappeared), with a NET:CLOSE saying so.
  writeFile(proxy.policyPath(), policyWith(l4Endpoint(static_cast<uint16_t>(nginx->port() + 1)), "second"));
  EXPECT_NE(proxy.waitForLine({"CONFIG:UPDATED"}), "") << proxy.shorthand();
  EXPECT_EQ(statusOf(exchangeVia(proxy.port(), request)), 403);
  EXPECT_TRUE(waitForClose(held, std::chrono::seconds(5)));
  ::close(held);
  const auto closed = proxy.waitForEvent([](const nlohmann::json& e) {
    return e.value("class_uid", 0) == 4001 && e.value("activity_id", 0) == 2 &&
           e.value("status_detail", "").find("rule first removed or changed on policy reload") != std::string::npos;
  });
  EXPECT_TRUE(closed.is_object()) << proxy.shorthand();
  (*reloader)->stop();
  const auto failed = proxy.waitForEvent([](const nlohmann::json& e) {
    return e.value("class_uid", 0) == 5019 && e.contains("unmapped") && e["unmapped"].value("state", "") == "FAILED";
  });
  ASSERT_TRUE(failed.is_object());
  EXPECT_TRUE(failed["unmapped"].contains("errors")) << failed.dump();
}

}  // namespace
}  // namespace warden::testing
