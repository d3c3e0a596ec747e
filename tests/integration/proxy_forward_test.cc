// The egress proxy with real programs on loopback: curl through the forward proxy and CONNECT tunnels
// to a real nginx, policy and SSRF denials, keep-alive reuse.

#include <gtest/gtest.h>
#include <unistd.h>

#include "integration/proxy_harness.h"
#include "support/nginx.h"

namespace warden::testing {
namespace {

class ProxyForwardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    nginx_ = NginxServer::start(&why);
    if (!nginx_) GTEST_SKIP() << why;
  }

  std::string curl(const std::string& args) {
    const auto r = runCommand(fmt::format("curl -sS --max-time 10 -x {} {} 2>&1", proxy_.url(), args));
    last_status_ = r.status;
    return r.output;
  }

  std::unique_ptr<NginxServer> nginx_;
  ProxyHarness proxy_;
  int last_status_ = -1;
};

TEST_F(ProxyForwardTest, ForwardGetReachesNginxAndIsRecorded) {
  ASSERT_TRUE(proxy_.start(policyWith(fmt::format(
      "      - {{ host: 127.0.0.1, ports: [{}], allowed_ips: [127.0.0.1/32] }}\n", nginx_->port()))));
  const std::string out = curl(fmt::format("http://127.0.0.1:{}/hello.txt?token=s3cret", nginx_->port()));
  EXPECT_EQ(last_status_, 0) << out;
  EXPECT_EQ(out, "hello from nginx\n");
  EXPECT_NE(proxy_.waitForLine({"NET:OPEN [INFO] ALLOWED", "[policy:local engine:policy]"}), "") << proxy_.shorthand();
  const std::string http = proxy_.waitForLine({"HTTP:GET", "ALLOWED", "/hello.txt"});
  EXPECT_NE(http, "") << proxy_.shorthand();
  EXPECT_EQ(http.find("s3cret"), std::string::npos) << "query must be redacted: " << http;
  EXPECT_NE(proxy_.waitForLine({"NET:CLOSE", "bytes_in:"}), "");
  const auto close = proxy_.waitForEvent([](const nlohmann::json& e) {
    return e.value("class_uid", 0) == 4001 && e.value("activity_id", 0) == 2;
  });
  ASSERT_TRUE(close.is_object());
  EXPECT_GT(close["traffic"].value("bytes_in", 0), 16);
  EXPECT_GT(close["traffic"].value("bytes_out", 0), 0);
  EXPECT_EQ(proxy_.shorthand().find("s3cret"), std::string::npos);
}

TEST_F(ProxyForwardTest, DeniedHostGets403JsonWithReasonAndEvent) {
  ASSERT_TRUE(proxy_.start(policyWith(fmt::format(
      "      - {{ host: 127.0.0.1, ports: [{}], allowed_ips: [127.0.0.1/32] }}\n", nginx_->port()))));
  const std::string out = curl(fmt::format("-i http://127.0.0.2:{}/hello.txt", nginx_->port()));
  EXPECT_NE(out.find("HTTP/1.1 403"), std::string::npos) << out;
  const auto body = nlohmann::json::parse(bodyOf(out), nullptr, false);
  ASSERT_TRUE(body.is_object()) << out;
  EXPECT_EQ(body.value("error", ""), "policy_denied");
  EXPECT_FALSE(body.value("reason", "").empty());
  EXPECT_FALSE(body.value("detail", "").empty());
  EXPECT_NE(proxy_.waitForLine({"NET:OPEN [MED] DENIED", "127.0.0.2", "engine:policy", "[reason:"}), "")
      << proxy_.shorthand();
}

TEST_F(ProxyForwardTest, ConnectTunnelToL4EndpointRelaysRaw) {
  ASSERT_TRUE(proxy_.start(policyWith(fmt::format(
      "      - {{ host: 127.0.0.1, ports: [{}], allowed_ips: [127.0.0.1/32] }}\n", nginx_->port()))));
  const std::string out = curl(fmt::format("-p http://127.0.0.1:{}/big.bin -o /dev/null -w '%{{size_download}}'",
                                           nginx_->port()));
  EXPECT_EQ(out, std::to_string(1 << 20));
  EXPECT_NE(proxy_.waitForLine({"NET:OPEN [INFO] ALLOWED", "engine:policy"}), "");
  const auto close = proxy_.waitForEvent([](const nlohmann::json& e) {
    return e.value("class_uid", 0) == 4001 && e.value("activity_id", 0) == 2;
  });
  ASSERT_TRUE(close.is_object());
  EXPECT_GT(close["traffic"].value("bytes_in", 0), 1 << 20);
  // A raw tunnel is not inspected: no HTTP events.
  EXPECT_EQ(proxy_.countLines({"HTTP:GET"}), 0u) << proxy_.shorthand();
}

TEST_F(ProxyForwardTest, KeepAliveRequestsReuseOneUpstreamConnection) {
  ASSERT_TRUE(proxy_.start(policyWith(fmt::format(
      "      - {{ host: 127.0.0.1, ports: [{}], allowed_ips: [127.0.0.1/32] }}\n", nginx_->port()))));
  const std::string base = fmt::format("http://127.0.0.1:{}", nginx_->port());
  const std::string out = curl(fmt::format("{0}/hello.txt {0}/echo/a {0}/hello.txt", base));
  EXPECT_EQ(out, "hello from nginx\necho GET /echo/a\nhello from nginx\n");
  ASSERT_NE(proxy_.waitForLine({"NET:CLOSE"}), "");
  EXPECT_EQ(proxy_.countLines({"HTTP:GET", "ALLOWED"}), 3u) << proxy_.shorthand();
  EXPECT_EQ(proxy_.countLines({"NET:OPEN", "ALLOWED"}), 1u) << proxy_.shorthand();
  EXPECT_EQ(proxy_.countLines({"NET:CLOSE"}), 1u) << proxy_.shorthand();
}

TEST_F(ProxyForwardTest, HttpsAbsoluteFormIsRejectedWith400) {
  ASSERT_TRUE(proxy_.start(policyWith(fmt::format(
      "      - {{ host: 127.0.0.1, ports: [{}], allowed_ips: [127.0.0.1/32] }}\n", nginx_->port()))));
  const std::string answer =
      exchangeVia(proxy_.port(), fmt::format("GET https://127.0.0.1:{}/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                                             nginx_->port()));
  EXPECT_EQ(statusOf(answer), 400) << answer;
  EXPECT_NE(answer.find("https_requires_connect"), std::string::npos) << answer;
}

TEST(ProxySsrfTest, LoopbackMetadataAndOtherSpellingsAreDenied) {
  ProxyHarness proxy;
  auto options = ProxyHarness::defaultOptions();
  options.targets.allow_loopback_upstream = false;
  // A policy that would allow all of them: the SSRF guard must still say no.
  ASSERT_TRUE(proxy.start(
      "version: 1\nnetwork:\n  everything:\n    endpoints:\n"
      "      - { host: localhost, ports: [80] }\n"
      "      - { host: 127.0.0.1, ports: [80], allowed_ips: [127.0.0.0/8] }\n"
      "      - { host: 169.254.169.254, ports: [80] }\n"
      "    binaries: [ { path: \"/**\" } ]\n",
      options));
  const std::vector<std::string> targets = {"127.0.0.1:80",      "127.1:80",      "0x7f000001:80", "2130706433:80",
                                            "017700000001:80",   "[::ffff:127.0.0.1]:80", "[::1]:80", "0.0.0.0:80",
                                            "169.254.169.254:80", "localhost:80"};
  for (const auto& target : targets) {
    std::string answer;
    const int fd = openTunnel(proxy.port(), target, &answer);
    EXPECT_EQ(fd, -1) << target;
    if (fd >= 0) ::close(fd);
    EXPECT_EQ(statusOf(answer), 403) << target << ": " << answer;
    const auto body = nlohmann::json::parse(bodyOf(answer), nullptr, false);
    EXPECT_TRUE(body.is_object() && body.value("error", "") == "policy_denied") << answer;
    // Forward form too.
    const std::string forward =
        exchangeVia(proxy.port(), fmt::format("GET http://{}/ HTTP/1.1\r\nHost: x\r\n\r\n", target));
    EXPECT_EQ(statusOf(forward), 403) << target << ": " << forward;
  }
  EXPECT_NE(proxy.waitForLine({"NET:OPEN [MED] DENIED", "169.254.169.254", "engine:ssrf"}), "") << proxy.shorthand();
  EXPECT_NE(proxy.waitForLine({"NET:OPEN [MED] DENIED", "localhost", "engine:ssrf", "loopback"}), "")
      << proxy.shorthand();
  EXPECT_EQ(proxy.countLines({"ALLOWED"}), 0u) << proxy.shorthand();
}

TEST(ProxyCliTest, ProxyCommandServesPrintsEnvAndStopsOnSigterm) {
  std::string why;
  auto nginx = NginxServer::start(&why);
  if (!nginx) GTEST_SKIP() << why;
  TempDir dir;
  writeFile(dir / "policy.yaml",
            policyWith(fmt::format("      - {{ host: 127.0.0.1, ports: [{}], allowed_ips: [127.0.0.1/32] }}\n",
                                   nginx->port())));
  const std::string log_dir = (dir / "logs").string();
  const std::string out_file = (dir / "out.txt").string();
  const std::string command = fmt::format(
      "{} proxy --policy {} --listen 127.0.0.1:0 --log-dir {} --ocsf-json --allow-loopback-upstream > {} 2>&1 & "
      "echo $!",
      wardenBinary().string(), (dir / "policy.yaml").string(), log_dir, out_file);
  const auto started = runCommand(command);
  const int pid = std::atoi(started.output.c_str());
  ASSERT_GT(pid, 0) << started.output;
  std::string address;
  ASSERT_TRUE(waitFor([&] {
    const std::string text = readFile(out_file);
    const size_t at = text.find("HTTP_PROXY=http://");
    if (at == std::string::npos) return false;
    address = text.substr(at + 18, text.find('\n', at) - at - 18);
    return true;
  })) << readFile(out_file);
  const auto r = runCommand(fmt::format("curl -sS --max-time 10 -x http://{} http://127.0.0.1:{}/hello.txt", address,
                                        nginx->port()));
  EXPECT_EQ(r.output, "hello from nginx\n");
  ::kill(pid, SIGTERM);
  EXPECT_TRUE(waitFor([&] { return ::kill(pid, 0) != 0; })) << "proxy did not stop";
  const std::string log = readFile(dir / "logs" / "warden.log");
  EXPECT_NE(log.find("CONFIG:LOADED"), std::string::npos) << log;
  EXPECT_NE(log.find("CONFIG:DEGRADED"), std::string::npos) << log;
  EXPECT_NE(log.find("NET:LISTEN"), std::string::npos) << log;
  EXPECT_NE(log.find("HTTP:GET [INFO] ALLOWED curl("), std::string::npos) << log;
  EXPECT_NE(log.find("LOG:CHECKPOINT"), std::string::npos) << log;
}

TEST(ProxyCliTest, UsageErrorsExit2) {
  EXPECT_EQ(runCommand(fmt::format("{} proxy --listen nope", wardenBinary().string())).status, 2);
  EXPECT_EQ(runCommand(fmt::format("{} proxy --policy /nonexistent --listen bad", wardenBinary().string())).status, 2);
  EXPECT_EQ(runCommand(fmt::format("{} proxy --policy /nonexistent --listen 127.0.0.1:0 --log-dir /tmp/x",
                                   wardenBinary().string()))
                .status,
            1);
}

}  // namespace
}  // namespace warden::testing
