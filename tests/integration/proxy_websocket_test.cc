// WebSocket through the proxy with a real client and server: npm's `ws` on both ends (installed by
// tests/support/node/install.sh), the client going through a CONNECT tunnel (https-proxy-agent) to
// an echo server on loopback, ws:// (raw relay after the 101) and wss:// (TLS terminated by the proxy,
// buffered relay after the 101). The caller is the real node process, so the policy names node's
// executable. Skips when node/npm are missing or the install fails.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "integration/proxy_harness.h"
#include "support/child_process.h"
#include "support/nginx.h"
#include "support/node_tools.h"

namespace warden::testing {
namespace {

// The last line of `output` that parses as a JSON object (discarded json when none).
nlohmann::json lastJsonLine(const std::string& output) {
  nlohmann::json found = nlohmann::json::parse("", nullptr, false);
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line.front() != '{') continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded()) found = std::move(j);
  }
  return found;
}

class ProxyWebSocketTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    node_ = new std::string(realExecutable("node"));
    skip_ = new std::string();
    if (node_->empty()) {
      *skip_ = "node not found on PATH";
    } else if (!ensureNodePackages(skip_)) {
      // *skip_ says why
    }
  }
  static void TearDownTestSuite() {
    delete node_;
    delete skip_;
    node_ = skip_ = nullptr;
  }

  void SetUp() override {
    if (!skip_->empty()) GTEST_SKIP() << *skip_;
  }

  // Starts tests/support/node/ws_echo_server.js with `args`; its port once it listens (0 on failure).
  uint16_t startEchoServer(const std::vector<std::string>& args) {
    ChildProcess::Options o;
    o.argv = {*node_, (nodeSupportDir() / "ws_echo_server.js").string()};
    o.argv.insert(o.argv.end(), args.begin(), args.end());
    std::string why;
    server_ = ChildProcess::start(o, &why);
    if (!server_) {
      ADD_FAILURE() << "echo server: " << why;
      return 0;
    }
    const std::string line = server_->waitForLine("\"port\"");
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.contains("port")) {
      ADD_FAILURE() << "echo server did not report its port: " << server_->output();
      return 0;
    }
    return j["port"].get<uint16_t>();
  }

  bool makeServerCertificate() { return makeSelfSignedCertificate(certs_ / "ws.pem", certs_ / "ws.key"); }
  std::vector<std::string> tlsArgs() const {
    return {"--tls", (certs_ / "ws.pem").string(), (certs_ / "ws.key").string()};
  }

  // The endpoint line of a policy for the echo server; `extra` is YAML appended inside the mapping.
  std::string policyFor(uint16_t port, const std::string& endpoint) const {
    return fmt::format("version: 1\nnetwork:\n  node_ws:\n    endpoints:\n      - {{ host: 127.0.0.1, ports: [{}], "
                       "allowed_ips: [127.0.0.1/32], {} }}\n    binaries: [ {{ path: \"{}\" }} ]\n",
                       port, endpoint, *node_);
  }
  std::string websocketPolicy(uint16_t port) const { return policyFor(port, "protocol: websocket, access: full"); }

  // Runs ws_client.js against `url` through the proxy; its JSON result (discarded json when none).
  nlohmann::json runClient(const std::string& url, const std::string& extra_args = "") {
    const auto r = runCommand(fmt::format("timeout 30 '{}' '{}' '{}' --proxy '{}' {}", *node_,
                                          (nodeSupportDir() / "ws_client.js").string(), url, proxy_.url(), extra_args));
    client_output_ = r.output;
    return lastJsonLine(r.output);
  }

  // The OCSF event of `class_uid` and `activity_name` whose actor is node; null when none in 10 s.
  nlohmann::json nodeEvent(int class_uid, const std::string& activity) const {
    return proxy_.waitForEvent([&](const nlohmann::json& e) {
      return e.value("class_uid", 0) == class_uid && e.value("activity_name", "") == activity &&
             e.value(nlohmann::json::json_pointer("/actor/process/file/path"), std::string()) == *node_;
    });
  }

  static void expectAllExchanged(const nlohmann::json& result, const std::string& output) {
    ASSERT_FALSE(result.is_discarded()) << output;
    EXPECT_TRUE(result.value("ok", false)) << output;
    EXPECT_EQ(result.value("status", 0), 101) << output;
    ASSERT_TRUE(result.contains("exchanged")) << output;
    std::vector<std::string> types;
    for (const auto& m : result["exchanged"]) types.push_back(m.value("type", ""));
    EXPECT_EQ(types, (std::vector<std::string>{"text", "binary", "text", "binary"})) << output;
  }

  void expectUpgradeRecorded(const std::string& scheme, uint16_t port) {
    EXPECT_NE(proxy_.waitForLine({"HTTP:GET [INFO] ALLOWED", "node(", fmt::format("GET {}://127.0.0.1:{}/chat", scheme, port),
                                  "[policy:node_ws engine:l7] [code:101]"}),
              "")
        << proxy_.shorthand();
    EXPECT_NE(proxy_.waitForLine({"NET:UPGRADE [INFO] ALLOWED", "node(", fmt::format("127.0.0.1:{}", port),
                                  "[policy:node_ws engine:l7]"}),
              "")
        << proxy_.shorthand();
    const auto upgrade = nodeEvent(4001, "Upgrade");
    ASSERT_FALSE(upgrade.is_null()) << proxy_.shorthand();
    EXPECT_EQ(upgrade.value("action", ""), "Allowed");
    EXPECT_EQ(upgrade["dst_endpoint"].value("port", 0), port);
    const auto http = nodeEvent(4002, "Get");
    ASSERT_FALSE(http.is_null()) << proxy_.shorthand();
    EXPECT_EQ(http["http_response"].value("code", 0), 101);
    EXPECT_EQ(http["http_request"]["url"].value("scheme", ""), scheme);
  }

  static std::string* node_;
  static std::string* skip_;
  TempDir certs_;
  std::unique_ptr<ChildProcess> server_;
  ProxyHarness proxy_;
  std::string client_output_;
};

std::string* ProxyWebSocketTest::node_ = nullptr;
std::string* ProxyWebSocketTest::skip_ = nullptr;

TEST_F(ProxyWebSocketTest, PlainWebSocketExchangesTextAndBinaryBothWays) {
  const uint16_t port = startEchoServer({});
  ASSERT_NE(port, 0);
  ASSERT_TRUE(proxy_.start(websocketPolicy(port)));
  expectAllExchanged(runClient(fmt::format("ws://127.0.0.1:{}/chat", port)), client_output_);
  expectUpgradeRecorded("http", port);
}

TEST_F(ProxyWebSocketTest, SecureWebSocketExchangesTextAndBinaryBothWays) {
  ASSERT_TRUE(makeServerCertificate());
  const uint16_t port = startEchoServer(tlsArgs());
  ASSERT_NE(port, 0);
  ASSERT_TRUE(proxy_.startWithTls(websocketPolicy(port), certs_ / "ws.pem"));
  expectAllExchanged(runClient(fmt::format("wss://127.0.0.1:{}/chat", port),
                               fmt::format("--ca '{}'", proxy_.ca().certificatePath().string())),
                     client_output_);
  expectUpgradeRecorded("https", port);
}

TEST_F(ProxyWebSocketTest, FirstMessageSentInThe101WriteIsDelivered) {
  const uint16_t port = startEchoServer({"--first-in-101", "sent with the 101"});
  ASSERT_NE(port, 0);
  ASSERT_TRUE(proxy_.start(websocketPolicy(port)));
  const auto result = runClient(fmt::format("ws://127.0.0.1:{}/chat", port), "--expect-first 'sent with the 101'");
  expectAllExchanged(result, client_output_);
  EXPECT_EQ(result.value("first", ""), "sent with the 101") << client_output_;
  expectUpgradeRecorded("http", port);
}

TEST_F(ProxyWebSocketTest, FirstMessageSentInThe101WriteIsDeliveredOverTls) {
  ASSERT_TRUE(makeServerCertificate());
  std::vector<std::string> args = tlsArgs();
  args.insert(args.end(), {"--first-in-101", "sent with the 101"});
  const uint16_t port = startEchoServer(args);
  ASSERT_NE(port, 0);
  ASSERT_TRUE(proxy_.startWithTls(websocketPolicy(port), certs_ / "ws.pem"));
  const auto result = runClient(fmt::format("wss://127.0.0.1:{}/chat", port),
                                fmt::format("--ca '{}' --expect-first 'sent with the 101'",
                                            proxy_.ca().certificatePath().string()));
  expectAllExchanged(result, client_output_);
  EXPECT_EQ(result.value("first", ""), "sent with the 101") << client_output_;
  expectUpgradeRecorded("https", port);
}

TEST_F(ProxyWebSocketTest, UpgradeToAPathThePolicyDoesNotAllowIsDeniedAndRecorded) {
  // The host is reachable for a REST API under /api only; the WebSocket endpoint /chat is not allowed.
  const uint16_t port = startEchoServer({});
  ASSERT_NE(port, 0);
  ASSERT_TRUE(proxy_.start(
      policyFor(port, "protocol: rest, rules: [ { allow: { method: GET, path: \"/api/**\" } } ]")));
  const auto result = runClient(fmt::format("ws://127.0.0.1:{}/chat", port));
  ASSERT_FALSE(result.is_discarded()) << client_output_;
  EXPECT_FALSE(result.value("ok", true)) << client_output_;
  EXPECT_EQ(result.value("status", 0), 403) << client_output_;
  EXPECT_EQ(result.value("policy", ""), "node_ws") << client_output_;
  EXPECT_NE(proxy_.waitForLine({"HTTP:GET", "DENIED", "node(", fmt::format("http://127.0.0.1:{}/chat", port),
                                "[policy:node_ws engine:l7]"}),
            "")
      << proxy_.shorthand();
  const auto http = nodeEvent(4002, "Get");
  ASSERT_FALSE(http.is_null()) << proxy_.shorthand();
  EXPECT_EQ(http.value("action", ""), "Denied");
  EXPECT_EQ(http["http_response"].value("code", 0), 403);
  EXPECT_EQ(proxy_.countLines({"NET:UPGRADE"}), 0u) << proxy_.shorthand();
}

}  // namespace
}  // namespace warden::testing
