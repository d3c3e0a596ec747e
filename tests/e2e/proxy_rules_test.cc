// `warden proxy --rules FILE` / `--rules-builtin`: detection rules evaluated beside the proxy's own
// writer (issue 15 item 4). Nothing leaves this machine: the requests are denied by the policy
// before any upstream connection.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "support/test_env.h"
#include "support/warden_proxy.h"

namespace warden::testing {
namespace {

using ::testing::HasSubstr;

constexpr const char* kPolicy = "version: 1\n";  // allows nothing
constexpr const char* kCa = "/etc/ssl/certs/ca-certificates.crt";

TEST(ProxyRulesTest, ARuleFileFiresOnTheProxysEventsAndAKillRuleIsRecordedNotActedOn) {
  TempDir dir;
  writeFile(dir / "rules.yaml",
            "rules:\n"
            "  - name: evil-host\n"
            "    desc: a request for a host the team has flagged\n"
            "    condition: class_uid = 4001 and dst_endpoint.hostname = \"evil.example\"\n"
            "    severity: high\n"
            "    action: kill\n");
  std::string why;
  auto proxy = WardenProxy::start(dir.path(), kPolicy, kCa, &why, {},
                                  {"--rules", (dir / "rules.yaml").string(), "--rules-builtin", "off"});
  ASSERT_TRUE(proxy) << why;
  const auto first = runCommand(proxy->env() + " curl -s -o /dev/null -w '%{http_code}' http://evil.example/ 2>&1");
  EXPECT_EQ(first.output, "403") << first.output;
  EXPECT_NE(proxy->waitForLine({"FINDING:", "[rule:evil-host"}), "") << proxy->shorthand();
  // The proxy has no session to stop: it goes on serving (and denying).
  const auto second = runCommand(proxy->env() + " curl -s -o /dev/null -w '%{http_code}' http://other.example/ 2>&1");
  EXPECT_EQ(second.output, "403") << second.output;
  EXPECT_EQ(proxy->stop(), 0);
  const auto verify = runCommand(wardenBinary().string() + " audit verify " + (proxy->logDir() / "warden-ocsf.log").string() + " 2>&1");
  EXPECT_EQ(verify.status, 0) << verify.output;
}

TEST(ProxyRulesTest, ARuleFileWithAProblemStartsNothingAndSaysWhere) {
  TempDir dir;
  writeFile(dir / "bad.yaml", "rules:\n  - name: broken\n    condition: process.nmae = \"x\"\n");
  writeFile(dir / "policy.yaml", kPolicy);
  const auto r = runCommand(wardenBinary().string() + " proxy --policy " + (dir / "policy.yaml").string() +
                            " --listen 127.0.0.1:0 --log-dir " + (dir / "logs").string() + " --rules " +
                            (dir / "bad.yaml").string() + " 2>&1");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr((dir / "bad.yaml").string() + ":3:"));
  EXPECT_THAT(r.output, HasSubstr("nothing was started"));
}

}  // namespace
}  // namespace warden::testing
