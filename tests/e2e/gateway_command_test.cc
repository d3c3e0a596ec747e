// `warden gateway` as an operator starts it: it listens, migrates its store, stops cleanly on SIGTERM,
// and refuses a database URL or environment value it does not understand.

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
                  "sqlite://" + (dir / "gateway.db").string()};
  options.unset_env = {"WARDEN_OCSF_LOGGING"};
  auto gateway = ChildProcess::start(options);
  ASSERT_TRUE(gateway);
  const std::string line = gateway->waitForLine("listening on 127.0.0.1:");
  ASSERT_FALSE(line.empty()) << gateway->output();
  EXPECT_TRUE(std::filesystem::exists(dir / "gateway.db"));
  EXPECT_EQ(gateway->terminate(), 0) << gateway->output();
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
