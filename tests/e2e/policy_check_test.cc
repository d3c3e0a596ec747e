// `warden policy check` as a user runs it: the built binary, real files, exit statuses.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "support/test_env.h"

namespace warden {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// The binary under test: WARDEN_BINARY when set; otherwise the `warden` beside this test's build
// directory (<build>/tests/e2e_tests -> <build>/warden), so a build dir tests its own binary.
std::filesystem::path binary() {
  if (std::getenv("WARDEN_BINARY") != nullptr) return testing::wardenBinary();
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  const auto sibling = self.parent_path().parent_path() / "warden";
  if (!ec && std::filesystem::exists(sibling, ec)) return sibling;
  return testing::wardenBinary();
}

testing::CommandResult wardenPolicy(const std::string& args) {
  return testing::runCommand(binary().string() + " policy " + args);
}

TEST(PolicyCheckCommandTest, PrintsOkAndASummaryForTheSamplePolicy) {
  const auto sample = testing::sourceDir() / "tests/golden/policy/sample.yaml";
  const auto r = wardenPolicy("check " + sample.string());
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, StartsWith("ok\n"));
  EXPECT_THAT(r.output, HasSubstr("version 1, 3 rules, 4 endpoints, sha256 "));
}

TEST(PolicyCheckCommandTest, PrintsEveryProblemWithFileLineAndColumnAndExitsOne) {
  testing::TempDir dir;
  const auto file = dir / "bad.yaml";
  testing::writeFile(
      file,
      "version: 1\nprocess:\n  run_as_user: root\n  colour: blue\nnetwork:\n  r:\n"
      "    endpoints: [{host: 'a.*.com', ports: [70000]}]\n    binaries: [{path: /usr/bin/curl}]\n");
  const auto r = wardenPolicy("check " + file.string());
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output,
              HasSubstr(file.string() + ":3:16: process.run_as_user: the agent never runs as root"));
  EXPECT_THAT(r.output, HasSubstr(file.string() + ":4:3: unknown key 'colour' in process"));
  EXPECT_THAT(r.output, HasSubstr(file.string() + ":7:24: network.r.endpoints[0].host: "));
  EXPECT_THAT(r.output, HasSubstr(file.string() + ":7:43: network.r.endpoints[0].ports[0]: port '70000'"));
  EXPECT_THAT(r.output, HasSubstr(file.string() + ": 4 problems"));
}

TEST(PolicyCheckCommandTest, ReportsYamlSyntaxErrorsWithTheirPosition) {
  testing::TempDir dir;
  const auto file = dir / "syntax.yaml";
  testing::writeFile(file, "version: 1\nnetwork: {a: [1\n");
  const auto r = wardenPolicy("check " + file.string());
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr(file.string() + ":3:1: YAML syntax error"));
}

TEST(PolicyCheckCommandTest, JsonOutputListsProblemsWithPositions) {
  testing::TempDir dir;
  const auto file = dir / "bad.yaml";
  testing::writeFile(file, "version: 2\n");
  const auto r = wardenPolicy("check --json " + file.string());
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("\"ok\":false"));
  EXPECT_THAT(r.output, HasSubstr("\"line\":1"));
  EXPECT_THAT(r.output, HasSubstr("\"column\":10"));
  const auto ok =
      wardenPolicy("check --json " + (testing::sourceDir() / "tests/golden/policy/sample.yaml").string());
  EXPECT_EQ(ok.status, 0) << ok.output;
  EXPECT_THAT(ok.output, HasSubstr("\"ok\":true"));
  EXPECT_THAT(ok.output, HasSubstr("\"rules\":3"));
}

TEST(PolicyCheckCommandTest, MissingFileIsAClearFailure) {
  testing::TempDir dir;
  const auto r = wardenPolicy("check " + (dir / "absent.yaml").string());
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("absent.yaml"));
  EXPECT_THAT(r.output, HasSubstr("No such file or directory"));
}

TEST(PolicyCheckCommandTest, UsageErrorsExitTwo) {
  EXPECT_EQ(wardenPolicy("check").status, 2);
  EXPECT_EQ(wardenPolicy("").status, 2);
  EXPECT_EQ(wardenPolicy("frobnicate x").status, 2);
  EXPECT_EQ(wardenPolicy("check a.yaml --bogus").status, 2);
  const auto help = wardenPolicy("check --help");
  EXPECT_EQ(help.status, 0);
  EXPECT_THAT(help.output, HasSubstr("FILE"));
}

}  // namespace
}  // namespace warden
