// L7 inside CONNECT tunnels and on the forward proxy: per-request decisions, strict parsing (nothing
// bad is forwarded), the 101 rule, informational responses.

#include <gtest/gtest.h>
#include <unistd.h>

#include "integration/proxy_harness.h"
#include "support/nginx.h"

namespace warden::testing {
namespace {

std::string restEndpoint(uint16_t port, const std::string& access = "read-only") {
  return fmt::format(
      "      - {{ host: 127.0.0.1, ports: [{}], protocol: rest, access: {}, allowed_ips: [127.0.0.1/32] }}\n", port,
      access);
}

TEST(ProxyL7Test, TunnelRequestsAreDecidedOneByOne) {
  std::string why;
  auto nginx = NginxServer::start(&why);
  if (!nginx) GTEST_SKIP() << why;
  ProxyHarness proxy;
  ASSERT_TRUE(proxy.start(policyWith(restEndpoint(nginx->port()), "nginx_ro")));
  const std::string target = fmt::format("127.0.0.1:{}", nginx->port());
  const int fd = openTunnel(proxy.port(), target);
  ASSERT_GE(fd, 0);
  // Two GETs on one tunnel (keep-alive), then a POST: denied with X-Warden-Policy, then closed.
  sendAll(fd, fmt::format("GET /hello.txt HTTP/1.1\r\nHost: {}\r\n\r\n", target));
  std::string r1 = readResponse(fd);
  EXPECT_EQ(statusOf(r1), 200) << r1;
  EXPECT_EQ(bodyOf(r1), "hello from nginx\n");
  sendAll(fd, fmt::format("GET /a/../echo/x?secret=1 HTTP/1.1\r\nHost: {}\r\n\r\n", target));
  std::string r2 = readResponse(fd);
  EXPECT_EQ(statusOf(r2), 200) << r2;
  EXPECT_EQ(bodyOf(r2), "echo GET /echo/x?secret=1\n") << "the canonical path is what is forwarded";
  sendAll(fd, fmt::format("POST /echo/y HTTP/1.1\r\nHost: {}\r\nContent-Length: 2\r\n\r\nhi", target));
  std::string r3 = readResponse(fd);
  EXPECT_EQ(statusOf(r3), 403) << r3;
  EXPECT_NE(r3.find("X-Warden-Policy: nginx_ro"), std::string::npos) << r3;
  const auto body = nlohmann::json::parse(bodyOf(r3), nullptr, false);
  ASSERT_TRUE(body.is_object()) << r3;
  EXPECT_EQ(body.value("error", ""), "policy_denied");
  EXPECT_EQ(body.value("rule", ""), "nginx_ro");
  EXPECT_TRUE(waitForClose(fd));
  ::close(fd);
  EXPECT_NE(proxy.waitForLine({"HTTP:POST [MED] DENIED", "[policy:nginx_ro engine:l7]", "[reason:"}), "")
      << proxy.shorthand();
  EXPECT_EQ(proxy.countLines({"HTTP:GET [INFO] ALLOWED"}), 2u) << proxy.shorthand();
  EXPECT_EQ(proxy.shorthand().find("secret=1"), std::string::npos);
  EXPECT_EQ(nginx->accessLog().find("POST"), std::string::npos) << "a denied request must not be forwarded";
}

TEST(ProxyL7Test, AuditEnforcementForwardsAndRecordsObserved) {
  std::string why;
  auto nginx = NginxServer::start(&why);
  if (!nginx) GTEST_SKIP() << why;
  ProxyHarness proxy;
  ASSERT_TRUE(proxy.start(policyWith(fmt::format(
      "      - {{ host: 127.0.0.1, ports: [{}], protocol: rest, access: read-only, enforcement: audit, "
      "allowed_ips: [127.0.0.1/32] }}\n",
      nginx->port()))));
  const auto r = runCommand(fmt::format("curl -sS --max-time 10 -x {} -X DELETE http://127.0.0.1:{}/echo/z",
                                        proxy.url(), nginx->port()));
  EXPECT_EQ(r.output, "echo DELETE /echo/z\n");
  EXPECT_NE(proxy.waitForLine({"HTTP:DELETE", "OBSERVED"}), "") << proxy.shorthand();
}

// Every bad request of sandbox.md is answered and never reaches the upstream.
TEST(ProxyL7Test, StrictParsingRejectsAndForwardsNothing) {
  RawUpstream upstream(RawUpstream::Script{.response = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"});
  ProxyHarness proxy;
  ASSERT_TRUE(proxy.start(policyWith(restEndpoint(upstream.port(), "full"))));
  const std::string target = fmt::format("127.0.0.1:{}", upstream.port());
  const std::string host = "Host: " + target + "\r\n";
  struct Case {
    std::string name;
    std::string request;
    int status;
  };
  const std::vector<Case> cases = {
      {"bare LF", "GET / HTTP/1.1\n" + host + "\r\n", 400},
      {"obs-fold", "GET / HTTP/1.1\r\n" + host + "X-A: a\r\n b\r\n\r\n", 400},
      {"space before colon", "GET / HTTP/1.1\r\n" + host + "X-A : a\r\n\r\n", 400},
      {"CL and TE", "POST / HTTP/1.1\r\n" + host + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
      {"differing CL", "POST / HTTP/1.1\r\n" + host + "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400},
      {"TE gzip", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: gzip, chunked\r\n\r\n", 501},
      {"Host differs", "GET / HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n", 400},
      {"Host other name", "GET / HTTP/1.1\r\nHost: evil.example\r\n\r\n", 400},
      {"dot-dot above root", "GET /../etc/passwd HTTP/1.1\r\n" + host + "\r\n", 400},
      {"encoded slash", "GET /a%2Fb HTTP/1.1\r\n" + host + "\r\n", 400},
      {"control byte", "GET /a%00b HTTP/1.1\r\n" + host + "\r\n", 400},
      {"16 KiB head", "GET / HTTP/1.1\r\n" + host + "X-Big: " + std::string(16 * 1024, 'a') + "\r\n\r\n", 431},
  };
  for (const auto& c : cases) {
    const int fd = openTunnel(proxy.port(), target);
    ASSERT_GE(fd, 0) << c.name;
    sendAll(fd, c.request);
    const std::string answer = readResponse(fd);
    EXPECT_EQ(statusOf(answer), c.status) << c.name << ": " << answer;
    EXPECT_TRUE(waitForClose(fd)) << c.name;
    ::close(fd);
  }
  // Forward-proxy form of a few.
  for (const std::string& bad : {std::string("GET http://") + target + "/a%2Fb HTTP/1.1\r\nHost: x\r\n\r\n",
                                 std::string("GET http://") + target + "/ HTTP/1.1\nHost: x\n\n"}) {
    const std::string answer = exchangeVia(proxy.port(), bad);
    EXPECT_EQ(statusOf(answer), 400) << answer;
  }
  EXPECT_EQ(upstream.received(), "") << "nothing of a rejected request may reach the upstream";
  EXPECT_NE(proxy.waitForLine({"HTTP:", "DENIED", "engine:l7", "host_mismatch"}), "") << proxy.shorthand();
}

TEST(ProxyL7Test, SolicitedUpgradeForwards101AndTheFramesAfterIt) {
  // The 101 head and a first frame in one write.
  const std::string frame = "\x81\x05hello";
  RawUpstream upstream(RawUpstream::Script{
      .response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n" + frame,
      .close_after_response = false,
      .echo_after_response = true});
  ProxyHarness proxy;
  ASSERT_TRUE(proxy.start(policyWith(fmt::format(
      "      - {{ host: 127.0.0.1, ports: [{}], protocol: websocket, access: full, allowed_ips: [127.0.0.1/32] }}\n",
      upstream.port()))));
  const std::string target = fmt::format("127.0.0.1:{}", upstream.port());
  const int fd = openTunnel(proxy.port(), target);
  ASSERT_GE(fd, 0);
  sendAll(fd, fmt::format("GET /chat HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                          target));
  std::string got;
  ASSERT_TRUE(waitFor([&] {
    got += readResponse(fd, std::chrono::milliseconds(200), false);
    return got.find(frame) != std::string::npos;
  })) << got;
  EXPECT_EQ(statusOf(got), 101);
  // Now raw: bytes go both ways (the upstream echoes).
  sendAll(fd, "ping-bytes");
  std::string echoed;
  EXPECT_TRUE(waitFor([&] {
    echoed += readResponse(fd, std::chrono::milliseconds(200), false);
    return echoed.find("ping-bytes") != std::string::npos;
  })) << echoed;
  ::close(fd);
  EXPECT_NE(proxy.waitForLine({"NET:UPGRADE [INFO] ALLOWED"}), "") << proxy.shorthand();
}

TEST(ProxyL7Test, Unsolicited101IsNotForwardedAndRaisesAFinding) {
  RawUpstream upstream(RawUpstream::Script{
      .response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x01x",
      .close_after_response = false});
  ProxyHarness proxy;
  ASSERT_TRUE(proxy.start(policyWith(restEndpoint(upstream.port(), "full"))));
  const std::string target = fmt::format("127.0.0.1:{}", upstream.port());
  const int fd = openTunnel(proxy.port(), target);
  ASSERT_GE(fd, 0);
  sendAll(fd, fmt::format("GET /plain HTTP/1.1\r\nHost: {}\r\n\r\n", target));
  std::string got;
  EXPECT_TRUE(waitFor([&] {
    const int before = static_cast<int>(got.size());
    got += readResponse(fd, std::chrono::milliseconds(100), false);
    (void)before;
    char c;
    return ::recv(fd, &c, 1, MSG_DONTWAIT) == 0;
  }));
  EXPECT_EQ(got.find("101"), std::string::npos) << got;
  ::close(fd);
  const std::string http = proxy.waitForLine({"HTTP:GET [HIGH] DENIED"});
  const std::string finding = proxy.waitForLine({"FINDING:", "Unsolicited 101 Switching Protocols", "unsolicited-101"});
  EXPECT_NE(http, "") << proxy.shorthand();
  EXPECT_NE(finding, "") << proxy.shorthand();
  // Dual emit: the domain event, then the finding, back to back.
  const std::string log = proxy.shorthand();
  EXPECT_LT(log.find(http), log.find(finding));
}

TEST(ProxyL7Test, InformationalResponsesAreForwardedBeforeTheFinalOne) {
  RawUpstream upstream(RawUpstream::Script{
      .response = "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
                  "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone"});
  ProxyHarness proxy;
  ASSERT_TRUE(proxy.start(policyWith(restEndpoint(upstream.port(), "full"))));
  const std::string target = fmt::format("127.0.0.1:{}", upstream.port());
  const int fd = openTunnel(proxy.port(), target);
  ASSERT_GE(fd, 0);
  sendAll(fd, fmt::format("GET /x HTTP/1.1\r\nHost: {}\r\n\r\n", target));
  const std::string got = readResponse(fd);
  ::close(fd);
  EXPECT_EQ(got.rfind("HTTP/1.1 103 Early Hints\r\n", 0), 0u) << got;
  EXPECT_NE(got.find("HTTP/1.1 200 OK\r\n"), std::string::npos) << got;
  EXPECT_EQ(bodyOf(got.substr(got.find("HTTP/1.1 200"))), "done");
}

TEST(ProxyL7Test, UpgradeOnARestEndpointIsDeniedAndNeverForwarded) {
  RawUpstream upstream(RawUpstream::Script{
      .response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
      .close_after_response = false});
  ProxyHarness proxy;
  ASSERT_TRUE(proxy.start(policyWith(restEndpoint(upstream.port(), "full"), "rest_api")));
  const std::string target = fmt::format("127.0.0.1:{}", upstream.port());
  const int fd = openTunnel(proxy.port(), target);
  ASSERT_GE(fd, 0);
  sendAll(fd, fmt::format("GET /chat HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                          target));
  const std::string got = readResponse(fd);
  ::close(fd);
  EXPECT_EQ(statusOf(got), 403) << got;
  EXPECT_NE(got.find("X-Warden-Policy: rest_api"), std::string::npos) << got;
  EXPECT_NE(bodyOf(got).find("\"error\":\"policy_denied\""), std::string::npos) << got;
  EXPECT_NE(bodyOf(got).find("does not allow upgrades"), std::string::npos) << got;
  const std::string line = proxy.waitForLine({"HTTP:GET", "DENIED", "policy:rest_api", "engine:l7", "[code:403]"});
  EXPECT_NE(line, "") << proxy.shorthand();
  EXPECT_NE(line.find("does not allow upgrades"), std::string::npos) << line;
  EXPECT_EQ(proxy.countLines({"NET:UPGRADE"}), 0u);
  EXPECT_EQ(upstream.received(), "") << "the upgrade request must never reach the upstream";
}

// ---- Expect: 100-continue ----

std::string expectHead(const std::string& target, size_t length, const std::string& method = "POST") {
  return fmt::format("{} /upload HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n", method,
                     target, length);
}

TEST(ProxyExpectContinueTest, UpstreamsContinueIsRelayedBeforeTheBodyIsRead) {
  const std::string body(5000, 'Z');
  RawUpstream upstream(RawUpstream::Script{.response = "HTTP/1.1 100 Continue\r\n\r\n",
                                           .after_body = "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
                                           .body_bytes = body.size()});
  ProxyHarness proxy;
  ASSERT_TRUE(proxy.start(policyWith(restEndpoint(upstream.port(), "full"))));
  const std::string target = fmt::format("127.0.0.1:{}", upstream.port());
  const int fd = openTunnel(proxy.port(), target);
  ASSERT_GE(fd, 0);
  sendAll(fd, expectHead(target, body.size()));
  // The client waits for 100 before sending its body (the proxy must not wait for the body first).
  const std::string interim = readHead(fd, std::chrono::seconds(5));
  EXPECT_EQ(statusOf(interim), 100) << interim;
  const std::string head_upstream = upstream.received();
  EXPECT_NE(head_upstream.find("Expect: 100-continue"), std::string::npos) << head_upstream;
  EXPECT_EQ(head_upstream.find('Z'), std::string::npos) << "no body before the 100";
  sendAll(fd, body);
  const std::string final_response = readResponse(fd);
  ::close(fd);
  EXPECT_EQ(statusOf(final_response), 201) << final_response;
  EXPECT_EQ(bodyOf(final_response), "ok");
  EXPECT_TRUE(waitFor([&] { return upstream.received().size() == head_upstream.size() + body.size(); }));
  EXPECT_NE(proxy.waitForLine({"HTTP:POST", "ALLOWED", "[code:201]"}), "") << proxy.shorthand();
}

TEST(ProxyExpectContinueTest, FinalAnswerInsteadOf100IsRelayedAndTheBodyIsNeverForwarded) {
  RawUpstream upstream(RawUpstream::Script{.response = "HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\n\r\n",
                                           .close_after_response = false});
  ProxyHarness proxy;
  ASSERT_TRUE(proxy.start(policyWith(restEndpoint(upstream.port(), "full"))));
  const std::string target = fmt::format("127.0.0.1:{}", upstream.port());
  const int fd = openTunnel(proxy.port(), target);
  ASSERT_GE(fd, 0);
  sendAll(fd, expectHead(target, 4000));
  const std::string got = readResponse(fd, std::chrono::seconds(5));
  EXPECT_EQ(statusOf(got), 413) << got;
  EXPECT_NE(got.find("Connection: close"), std::string::npos) << got;
  // A client that sends its body anyway: discarded, and the connection closes.
  sendAll(fd, std::string(4000, 'Z'));
  EXPECT_TRUE(waitForClose(fd, std::chrono::seconds(5)));
  ::close(fd);
  EXPECT_NE(proxy.waitForLine({"HTTP:POST", "[code:413]"}), "") << proxy.shorthand();
  EXPECT_NE(proxy.waitForLine({"NET:CLOSE"}), "");
  EXPECT_NE(upstream.received().find("Expect: 100-continue"), std::string::npos);
  EXPECT_EQ(upstream.received().find('Z'), std::string::npos) << "the body must not be forwarded";
}

TEST(ProxyExpectContinueTest, DeniedExpectRequestIsAnswered403WithoutReadingTheBody) {
  RawUpstream upstream(RawUpstream::Script{.response = "HTTP/1.1 100 Continue\r\n\r\n"});
  ProxyHarness proxy;
  ASSERT_TRUE(proxy.start(policyWith(restEndpoint(upstream.port(), "read-only"))));
  const std::string target = fmt::format("127.0.0.1:{}", upstream.port());
  const int fd = openTunnel(proxy.port(), target);
  ASSERT_GE(fd, 0);
  sendAll(fd, expectHead(target, 4000));
  const std::string got = readResponse(fd, std::chrono::seconds(5));
  EXPECT_EQ(statusOf(got), 403) << got;
  EXPECT_TRUE(waitForClose(fd, std::chrono::seconds(5)));
  ::close(fd);
  EXPECT_NE(proxy.waitForLine({"HTTP:POST", "DENIED", "[code:403]"}), "") << proxy.shorthand();
  EXPECT_EQ(upstream.received(), "");
}

TEST(ProxyExpectContinueTest, CurlWaitingFor100UploadsABigFileThroughTheForwardProxy) {
  std::string why;
  auto nginx = NginxServer::start(&why);
  if (!nginx) GTEST_SKIP() << why;
  ProxyHarness proxy;
  ASSERT_TRUE(proxy.start(policyWith(fmt::format(
      "      - {{ host: 127.0.0.1, ports: [{}], protocol: rest, access: full, allowed_ips: [127.0.0.1/32] }}\n",
      nginx->port()))));
  const auto file = proxy.dir() / "big.bin";
  writeFile(file, std::string(900 * 1024, 'z'));  // under nginx's 1 MiB client_max_body_size
  // curl waits up to 10 s for the 100: a proxy that reads the body before relaying the 100 (or the
  // upstream's final answer) would stall it past the proxy's 2 s body timeout.
  const auto started = std::chrono::steady_clock::now();
  const auto r = runCommand(fmt::format(
      "curl -sSv --max-time 15 --expect100-timeout 10 -H 'Expect: 100-continue' -x {} --data-binary @{} "
      "http://127.0.0.1:{}/echo 2>&1",
      proxy.url(), file.string(), nginx->port()));
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(r.status, 0) << r.output << proxy.shorthand();
  EXPECT_NE(r.output.find("echo POST /echo"), std::string::npos) << r.output;
  EXPECT_LT(took, std::chrono::seconds(5)) << r.output << proxy.shorthand();
  EXPECT_NE(proxy.waitForLine({"HTTP:POST", "ALLOWED", "[code:200]"}), "") << proxy.shorthand();
}

TEST(ProxyExpectContinueTest, CurlGetsTheUpstreamsEarlyRefusalWithoutSendingItsBody) {
  std::string why;
  auto nginx = NginxServer::start(&why);
  if (!nginx) GTEST_SKIP() << why;
  ProxyHarness proxy;
  ASSERT_TRUE(proxy.start(policyWith(fmt::format(
      "      - {{ host: 127.0.0.1, ports: [{}], protocol: rest, access: full, allowed_ips: [127.0.0.1/32] }}\n",
      nginx->port()))));
  const auto file = proxy.dir() / "too-big.bin";
  writeFile(file, std::string(3 * 1024 * 1024, 'z'));  // over nginx's 1 MiB limit: 413 at once
  const auto started = std::chrono::steady_clock::now();
  const auto r = runCommand(fmt::format(
      "curl -sSv --max-time 15 --expect100-timeout 10 -H 'Expect: 100-continue' -x {} --data-binary @{} "
      "-o /dev/null -w '%{{http_code}}' http://127.0.0.1:{}/echo 2>&1",
      proxy.url(), file.string(), nginx->port()));
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_NE(r.output.find("413"), std::string::npos) << r.output;
  EXPECT_LT(took, std::chrono::seconds(5)) << r.output << proxy.shorthand();
  EXPECT_NE(proxy.waitForLine({"HTTP:POST", "[code:413]"}), "") << proxy.shorthand();
}

}  // namespace
}  // namespace warden::testing
