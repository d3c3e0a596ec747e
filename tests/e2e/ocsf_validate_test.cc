// `warden ocsf validate` as a user runs it: exit status and what it prints.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "support/test_env.h"

namespace warden {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
using warden::testing::runCommand;
using warden::testing::TempDir;
using warden::testing::wardenBinary;
using warden::testing::writeFile;

// A valid Application Lifecycle event (LIFECYCLE:START) with `sequence`.
std::string lifecycleLine(int sequence) {
  const json e = {{"class_uid", 6002},
                  {"category_uid", 6},
                  {"activity_id", 3},
                  {"type_uid", 600203},
                  {"time", 1700000000000 + sequence},
                  {"severity_id", 1},
                  {"message", "supervisor started"},
                  {"app", {{"name", "Warden"}, {"version", "0.1.0"}}},
                  {"metadata",
                   {{"version", "1.7.0"},
                    {"product", {{"name", "Warden"}, {"vendor_name", "Warden"}, {"version", "0.1.0"}}},
                    {"profiles", {"host", "container"}},
                    {"uid", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"},
                    {"correlation_uid", "sess-1"},
                    {"sequence", sequence},
                    {"log_name", "warden"}}},
                  {"device",
                   {{"hostname", "build-host"},
                    {"type_id", 0},
                    {"os", {{"name", "Linux"}, {"type_id", 200}}},
                    {"container", {{"name", "agent-7"}, {"uid", "sess-1"}}}}},
                  {"unmapped", {{"integrity", {{"prev", std::string(64, 'a')}}}}}};
  return e.dump();
}

// The warden binary of this build tree. WARDEN_BINARY when CTest sets it; otherwise the binary
// beside the tests directory this test runs from (build/tests/e2e_tests -> build/warden), so a
// build directory other than build/ tests its own binary.
std::filesystem::path binary() {
  if (std::getenv("WARDEN_BINARY") != nullptr) return wardenBinary();
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const auto sibling = self.parent_path().parent_path() / "warden";
    if (std::filesystem::exists(sibling, ec)) return sibling;
  }
  return wardenBinary();
}

std::string validate(const std::string& args) {
  return binary().string() + " ocsf validate " + args;
}

TEST(OcsfValidateCommandTest, AcceptsFileOfValidEvents) {
  TempDir dir;
  writeFile(dir / "ok.jsonl", lifecycleLine(1) + "\n" + lifecycleLine(2) + "\n" + lifecycleLine(3) + "\n");
  const auto r = runCommand(validate((dir / "ok.jsonl").string()));
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("3 events, 0 invalid"));
}

TEST(OcsfValidateCommandTest, NamesLineAndPathOfTheBadEvent) {
  TempDir dir;
  json bad = json::parse(lifecycleLine(2));
  bad["device"]["os"]["type_id"] = "linux";
  const auto file = dir / "mixed.jsonl";
  writeFile(file, lifecycleLine(1) + "\n" + bad.dump() + "\n" + lifecycleLine(3) + "\n");
  const auto r = runCommand(validate(file.string()));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr(file.string() + ":2: $.device.os.type_id: expected integer"));
  EXPECT_THAT(r.output, Not(HasSubstr(":1:")));
  EXPECT_THAT(r.output, Not(HasSubstr(":3:")));
  EXPECT_THAT(r.output, HasSubstr("3 events, 1 invalid"));
}

TEST(OcsfValidateCommandTest, ReadsStandardInputForDash) {
  TempDir dir;
  writeFile(dir / "in.jsonl", lifecycleLine(1) + "\n{\"class_uid\": 1007}\n");
  const auto r = runCommand("cat " + (dir / "in.jsonl").string() + " | " + validate("-"));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("-:2: $.activity_id: required attribute 'activity_id' is missing"));
  EXPECT_THAT(r.output, HasSubstr("2 events, 1 invalid"));
}

TEST(OcsfValidateCommandTest, ReportsBlankLineAmongEvents) {
  TempDir dir;
  const auto file = dir / "blank.jsonl";
  writeFile(file, lifecycleLine(1) + "\n\n" + lifecycleLine(2) + "\n");
  const auto r = runCommand(validate(file.string()));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr(file.string() + ":2: $: blank line"));
  EXPECT_THAT(r.output, HasSubstr("3 events, 1 invalid"));
}

TEST(OcsfValidateCommandTest, ReportsBinaryGarbageWithoutCrashing) {
  TempDir dir;
  const auto file = dir / "garbage.jsonl";
  std::string garbage;
  for (int i = 0; i < 4096; ++i) garbage += static_cast<char>((i * 131 + 7) % 256);
  writeFile(file, garbage);
  const auto r = runCommand(validate(file.string()));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("malformed JSON"));
  EXPECT_THAT(r.output, HasSubstr("invalid"));
}

TEST(OcsfValidateCommandTest, FailsOnEmptyFile) {
  TempDir dir;
  const auto file = dir / "empty.jsonl";
  writeFile(file, "");
  const auto r = runCommand(validate(file.string()));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr(file.string() + ": empty file — no events"));
}

TEST(OcsfValidateCommandTest, FailsOnMissingFile) {
  TempDir dir;
  const auto file = dir / "absent.jsonl";
  const auto r = runCommand(validate(file.string()));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr(file.string() + ": no such file"));
}

TEST(OcsfValidateCommandTest, FailsWhenExplicitSchemaIsMissing) {
  TempDir dir;
  writeFile(dir / "ok.jsonl", lifecycleLine(1) + "\n");
  const auto r =
      runCommand(validate((dir / "ok.jsonl").string() + " --schema " + (dir / "nope.json").string()));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("no such file"));
}

TEST(OcsfValidateCommandTest, ALoneCopyOfTheBinaryValidatesWithItsEmbeddedSchema) {
  TempDir dir;
  const auto lone = dir / "warden";
  std::filesystem::copy_file(binary(), lone);
  writeFile(dir / "ok.jsonl", lifecycleLine(1) + "\n");
  // Run from the scratch directory with an empty environment: nothing but the binary itself.
  const auto r = runCommand("cd " + dir.path().string() + " && env -i " + lone.string() + " ocsf validate ok.jsonl");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("1 events, 0 invalid"));
}

TEST(OcsfValidateCommandTest, ASchemaFileThatIsNotASchemaIsAClearError) {
  TempDir dir;
  writeFile(dir / "ok.jsonl", lifecycleLine(1) + "\n");
  writeFile(dir / "bad.json", "{\"version\": \"1.7.0\", \"classes\": 3");
  const auto r = runCommand(validate((dir / "ok.jsonl").string() + " --schema " + (dir / "bad.json").string()));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr((dir / "bad.json").string()));
  EXPECT_THAT(r.output, HasSubstr("not valid JSON"));
}

TEST(OcsfValidateCommandTest, UsageErrorsExitTwo) {
  EXPECT_EQ(runCommand(validate("")).status, 2);
  EXPECT_EQ(runCommand(binary().string() + " ocsf").status, 2);
  EXPECT_EQ(runCommand(validate("a.jsonl --no-such-flag")).status, 2);
  EXPECT_EQ(runCommand(binary().string() + " ocsf frobnicate").status, 2);
}

TEST(OcsfValidateCommandTest, HelpExitsZero) {
  const auto r = runCommand(validate("--help"));
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("FILE"));
}

TEST(OcsfValidateCommandTest, JsonOutputIsOneObjectPerProblemThenSummary) {
  TempDir dir;
  const auto file = dir / "bad.jsonl";
  writeFile(file, "[]\n");
  const auto r = runCommand(validate(file.string() + " --json"));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("\"line\":1"));
  EXPECT_THAT(r.output, HasSubstr("{\"events\":1,\"invalid\":1}"));
}

}  // namespace
}  // namespace warden
