// TLS termination in CONNECT tunnels: curl trusts the session CA, the proxy verifies nginx's
// certificate, and requests inside the TLS tunnel are decided one by one.

#include <gtest/gtest.h>

#include "integration/proxy_harness.h"
#include "support/nginx.h"

namespace warden::testing {
namespace {

class ProxyTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!makeSelfSignedCertificate(certs_ / "nginx.pem", certs_ / "nginx.key")) GTEST_SKIP() << "openssl failed";
    NginxServer::Tls tls{certs_ / "nginx.pem", certs_ / "nginx.key"};
    std::string why;
    nginx_ = NginxServer::start(&why, &tls);
    if (!nginx_) GTEST_SKIP() << why;
  }

  std::string policy() const {
    return policyWith(fmt::format(
        "      - {{ host: 127.0.0.1, ports: [{}], protocol: rest, access: read-only, allowed_ips: [127.0.0.1/32] }}\n",
        nginx_->port()), "tls_ro");
  }

  std::string curl(const std::string& args) {
    const auto r = runCommand(fmt::format("curl -sS --max-time 10 --cacert {} -x {} {} 2>&1",
                                          proxy_.ca().certificatePath().string(), proxy_.url(), args));
    return r.output;
  }

  TempDir certs_;
  std::unique_ptr<NginxServer> nginx_;
  ProxyHarness proxy_;
};

TEST_F(ProxyTlsTest, TerminatesTlsAndDecidesEachRequest) {
  ASSERT_TRUE(proxy_.startWithTls(policy(), certs_ / "nginx.pem"));
  const std::string base = fmt::format("https://127.0.0.1:{}", nginx_->port());
  EXPECT_EQ(curl(fmt::format("{0}/hello.txt {0}/echo/q?k=secret", base)), "hello from nginx\necho GET /echo/q?k=secret\n");
  const std::string denied = curl(fmt::format("-i -X POST -d x {}/echo/p", base));
  EXPECT_NE(denied.find("HTTP/1.1 403"), std::string::npos) << denied;
  EXPECT_NE(denied.find("X-Warden-Policy: tls_ro"), std::string::npos) << denied;
  EXPECT_NE(proxy_.waitForLine({"HTTP:GET [INFO] ALLOWED", "https://127.0.0.1", "/hello.txt"}), "") << proxy_.shorthand();
  EXPECT_NE(proxy_.waitForLine({"HTTP:POST [MED] DENIED", "[policy:tls_ro engine:l7]"}), "") << proxy_.shorthand();
  EXPECT_EQ(proxy_.shorthand().find("secret"), std::string::npos);
  EXPECT_EQ(nginx_->accessLog().find("POST"), std::string::npos);
}

TEST_F(ProxyTlsTest, UntrustedUpstreamCertificateGets502) {
  ASSERT_TRUE(proxy_.startWithTls(policy(), ""));  // nginx's self-signed certificate is not trusted
  const std::string out = curl(fmt::format("-i https://127.0.0.1:{}/hello.txt", nginx_->port()));
  EXPECT_NE(out.find("HTTP/1.1 502"), std::string::npos) << out;
  EXPECT_NE(out.find("certificate verification failed"), std::string::npos) << out;
  EXPECT_NE(proxy_.waitForLine({"NET:FAIL", "certificate verification failed"}), "") << proxy_.shorthand();
}

TEST_F(ProxyTlsTest, ClientThatDoesNotTrustTheCaFailsClosed) {
  ASSERT_TRUE(proxy_.startWithTls(policy(), certs_ / "nginx.pem"));
  const auto r = runCommand(fmt::format("curl -sS --max-time 10 -x {} https://127.0.0.1:{}/hello.txt 2>&1",
                                        proxy_.url(), nginx_->port()));
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_NE(proxy_.waitForLine({"NET:FAIL", "TLS handshake with the client"}), "") << proxy_.shorthand();
}

}  // namespace
}  // namespace warden::testing
