// `warden gateway` as an operator starts it: it listens, migrates its store, keeps its own audit trail
// (which `warden audit verify` accepts), stops cleanly on SIGTERM, and refuses a database URL,
// environment value, policy file or flag value it does not understand.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include "support/child_process.h"
#include "support/test_env.h"

namespace warden::testing {
namespace {

using ::testing::HasSubstr;

TEST(GatewayCommand, ListensOnTheAskedAddressAndStopsCleanlyOnSigterm) {
  TempDir dir;
  ChildProcess::Options options;
  options.argv = {wardenBinary().string(), "gateway", "--listen", "127.0.0.1:0", "--db",
                  "sqlite://" + (dir / "gateway.db").string(), "--log-dir", (dir / "log").string()};
  options.unset_env = {"WARDEN_OCSF_LOGGING"};
  auto gateway = ChildProcess::start(options);
  ASSERT_TRUE(gateway);
  const std::string line = gateway->waitForLine("listening on 127.0.0.1:");
  ASSERT_FALSE(line.empty()) << gateway->output();
  EXPECT_TRUE(std::filesystem::exists(dir / "gateway.db"));
  EXPECT_EQ(gateway->terminate(), 0) << gateway->output();
}

TEST(GatewayCommand, KeepsAnAuditTrailOfItsOwnThatVerifies) {
  TempDir dir;
  writeFile(dir / "policy.yaml",
            "version: 1\nnetwork:\n  api:\n    endpoints: [{host: api.example.com, ports: [443]}]\n"
            "    binaries: [{path: /usr/bin/curl}]\n");
  ChildProcess::Options options;
  options.argv = {wardenBinary().string(), "gateway", "--listen", "127.0.0.1:0", "--db", (dir / "gw.db").string(),
                  "--log-dir", (dir / "log").string(), "--policy", (dir / "policy.yaml").string(),
                  "--retention", "30d", "--retention-max-bytes", "1GiB", "--retention-interval", "1h"};
  options.unset_env = {"WARDEN_OCSF_LOGGING"};
  auto gateway = ChildProcess::start(options);
  ASSERT_TRUE(gateway);
  const std::string line = gateway->waitForLine("audit log ");
  ASSERT_FALSE(line.empty()) << gateway->output();
  const std::string log_dir = line.substr(line.find("audit log ") + 10);
  EXPECT_THAT(log_dir, HasSubstr((dir / "log").string() + "/"));
  EXPECT_EQ(gateway->terminate(), 0) << gateway->output();

  const std::string log = readFile(std::filesystem::path(log_dir) / "warden.log");
  EXPECT_THAT(log, HasSubstr("LOG:START"));
  EXPECT_THAT(log, HasSubstr("CONFIG:LOADED"));  // the served policy
  const auto verified = runCommand(wardenBinary().string() + " audit verify " + log_dir + " 2>&1");
  EXPECT_EQ(verified.status, 0) << verified.output;
}

TEST(GatewayCommand, AnInvalidPolicyIsRefusedWithItsFileAndLine) {
  TempDir dir;
  writeFile(dir / "policy.yaml", "version: 1\nnetwork:\n  api:\n    endpoints: [{host: a.example, portz: [443]}]\n");
  const auto r = runCommand(wardenBinary().string() + " gateway --listen 127.0.0.1:0 --db " +
                            (dir / "g.db").string() + " --log-dir " + (dir / "log").string() + " --policy " +
                            (dir / "policy.yaml").string() + " 2>&1");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr((dir / "policy.yaml").string() + ":4:"));
  EXPECT_FALSE(std::filesystem::exists(dir / "g.db")) << "refused before anything started";
}

TEST(GatewayCommand, MalformedRetentionValuesAreUsageErrors) {
  TempDir dir;
  const std::string base = wardenBinary().string() + " gateway --listen 127.0.0.1:0 --db " + (dir / "g.db").string() +
                           " --log-dir " + (dir / "log").string();
  auto r = runCommand(base + " --retention 3weeks 2>&1");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("--retention '3weeks'"));
  r = runCommand(base + " --retention-max-bytes lots 2>&1");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("--retention-max-bytes"));
  r = runCommand(base + " --retention-interval 0s 2>&1");
  EXPECT_EQ(r.status, 2) << r.output;
}

TEST(GatewayCommand, HelpNamesEveryOption) {
  const auto r = runCommand(wardenBinary().string() + " gateway --help 2>&1");
  EXPECT_EQ(r.status, 0) << r.output;
  for (const char* flag : {"--config", "--listen", "--db", "--ocsf-logging", "--log-dir", "--policy", "--retention",
                           "--retention-max-bytes", "--retention-interval"}) {
    EXPECT_THAT(r.output, HasSubstr(flag));
  }
}

TEST(GatewayCommand, AnUnknownDatabaseSchemeIsAClearError) {
  const auto r = runCommand(wardenBinary().string() + " gateway --listen 127.0.0.1:0 --db mysql://x 2>&1");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("mysql"));
}

TEST(GatewayCommand, AMalformedOcsfLoggingEnvironmentValueIsRefusedByName) {
  TempDir dir;
  const auto r = runCommand("WARDEN_OCSF_LOGGING=maybe " + wardenBinary().string() +
                            " gateway --listen 127.0.0.1:0 --db " + (dir / "g.db").string() + " 2>&1");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("WARDEN_OCSF_LOGGING"));
}

}  // namespace
}  // namespace warden::testing
