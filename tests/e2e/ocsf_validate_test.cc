// `warden ocsf validate` as a user runs it: exit status and what it prints (errors first, then
// warnings, then the summary), --strict, --json, --missing-recommended, and a generated session
// of every event kind passing strictly.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/test_env.h"

namespace warden {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Lt;
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

// LIFECYCLE:START whose activity_name is not the caption of activity_id 3 ("Start"): valid, with
// one warning (attribute_enum_sibling_incorrect).
std::string warnedLine(int sequence) {
  json e = json::parse(lifecycleLine(sequence));
  e["activity_name"] = "Started";
  return e.dump();
}

// LIFECYCLE:START with a string where os.type_id wants an integer: one error.
std::string brokenLine(int sequence) {
  json e = json::parse(lifecycleLine(sequence));
  e["device"]["os"]["type_id"] = "linux";
  return e.dump();
}

TEST(OcsfValidateCommandTest, AcceptsFileOfValidEvents) {
  TempDir dir;
  writeFile(dir / "ok.jsonl", lifecycleLine(1) + "\n" + lifecycleLine(2) + "\n" + lifecycleLine(3) + "\n");
  const auto r = runCommand(validate((dir / "ok.jsonl").string() + " --strict"));
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "3 events, 0 errors, 0 warnings\n");
}

TEST(OcsfValidateCommandTest, NamesLineSeverityPathAndCodeOfTheBadEvent) {
  TempDir dir;
  const auto file = dir / "mixed.jsonl";
  writeFile(file, lifecycleLine(1) + "\n" + brokenLine(2) + "\n" + lifecycleLine(3) + "\n");
  const auto r = runCommand(validate(file.string()));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(
      r.output,
      HasSubstr(file.string() +
                ":2: error: $.device.os.type_id: expected integer_t, got string_t [attribute_wrong_type]"));
  EXPECT_THAT(r.output, Not(HasSubstr(":1:")));
  EXPECT_THAT(r.output, Not(HasSubstr(":3:")));
  EXPECT_THAT(r.output,
              HasSubstr("3 events, 2 errors, 0 warnings"));  // the type, and the enum it then misses
}

TEST(OcsfValidateCommandTest, WarningsAreShownButPassWithoutStrict) {
  TempDir dir;
  const auto file = dir / "warned.jsonl";
  writeFile(file, lifecycleLine(1) + "\n" + warnedLine(2) + "\n");
  const auto r = runCommand(validate(file.string()));
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr(file.string() + ":2: warning: $.activity_name: expected \"Start\""));
  EXPECT_THAT(r.output, HasSubstr("[attribute_enum_sibling_incorrect]"));
  EXPECT_THAT(r.output, HasSubstr("2 events, 0 errors, 1 warnings\n"));
}

TEST(OcsfValidateCommandTest, StrictFailsOnWarnings) {
  TempDir dir;
  const auto file = dir / "warned.jsonl";
  writeFile(file, lifecycleLine(1) + "\n" + warnedLine(2) + "\n");
  const auto r = runCommand(validate("--strict " + file.string()));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr(":2: warning: $.activity_name:"));
  EXPECT_THAT(r.output, HasSubstr("2 events, 0 errors, 1 warnings (--strict: warnings fail)"));
}

TEST(OcsfValidateCommandTest, PrintsAllErrorsBeforeAnyWarning) {
  TempDir dir;
  const auto file = dir / "both.jsonl";
  writeFile(file, warnedLine(1) + "\n" + brokenLine(2) + "\n" + warnedLine(3) + "\n" + brokenLine(4) + "\n");
  const auto r = runCommand(validate(file.string()));
  EXPECT_EQ(r.status, 1) << r.output;
  const auto last_error = r.output.rfind(": error: ");
  const auto first_warning = r.output.find(": warning: ");
  ASSERT_NE(last_error, std::string::npos) << r.output;
  ASSERT_NE(first_warning, std::string::npos) << r.output;
  EXPECT_THAT(last_error, Lt(first_warning)) << r.output;
  EXPECT_THAT(r.output.find(":2: error:"), Lt(r.output.find(":4: error:")));
  EXPECT_THAT(r.output.find(":1: warning:"), Lt(r.output.find(":3: warning:")));
  EXPECT_THAT(r.output, HasSubstr("4 events, 4 errors, 2 warnings"));
}

TEST(OcsfValidateCommandTest, JsonOutputCarriesSeverityAndCodeThenTheSummary) {
  TempDir dir;
  const auto file = dir / "both.jsonl";
  writeFile(file, warnedLine(1) + "\n[]\n");
  const auto r = runCommand(validate(file.string() + " --json"));
  EXPECT_EQ(r.status, 1) << r.output;
  std::vector<json> lines;
  for (std::size_t at = 0, nl; (nl = r.output.find('\n', at)) != std::string::npos; at = nl + 1) {
    lines.push_back(json::parse(r.output.substr(at, nl - at)));
  }
  ASSERT_EQ(lines.size(), 3u) << r.output;
  EXPECT_EQ(lines[0], (json{{"file", file.string()},
                            {"line", 2},
                            {"severity", "error"},
                            {"code", "event_not_object"},
                            {"path", "$"},
                            {"message", "event is not a JSON object (got array)"}}));
  EXPECT_EQ(lines[1]["line"], 1);
  EXPECT_EQ(lines[1]["severity"], "warning");
  EXPECT_EQ(lines[1]["code"], "attribute_enum_sibling_incorrect");
  EXPECT_EQ(lines[1]["path"], "$.activity_name");
  EXPECT_EQ(lines[2], (json{{"events", 2},
                            {"errors", 1},
                            {"warnings", 1},
                            {"events_with_errors", 1},
                            {"events_with_warnings", 1},
                            {"strict", false},
                            {"passed", false}}));
}

TEST(OcsfValidateCommandTest, JsonSummarySaysWhetherStrictPassed) {
  TempDir dir;
  writeFile(dir / "w.jsonl", warnedLine(1) + "\n");
  const auto lax = runCommand(validate((dir / "w.jsonl").string() + " --json"));
  EXPECT_EQ(lax.status, 0) << lax.output;
  EXPECT_THAT(lax.output, HasSubstr("\"passed\":true"));
  const auto strict = runCommand(validate((dir / "w.jsonl").string() + " --json --strict"));
  EXPECT_EQ(strict.status, 1) << strict.output;
  EXPECT_THAT(strict.output, HasSubstr("\"passed\":false"));
  EXPECT_THAT(strict.output, HasSubstr("\"strict\":true"));
}

TEST(OcsfValidateCommandTest, MissingRecommendedWarnsOnlyWhenAsked) {
  TempDir dir;
  writeFile(dir / "ok.jsonl", lifecycleLine(1) + "\n");
  EXPECT_THAT(runCommand(validate((dir / "ok.jsonl").string())).output, HasSubstr("0 warnings"));
  const auto r = runCommand(validate((dir / "ok.jsonl").string() + " --missing-recommended"));
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr(":1: warning: $.status_id: recommended attribute 'status_id' is missing "
                                  "[attribute_recommended_missing]"));
}

TEST(OcsfValidateCommandTest, AGeneratedSessionOfEveryEventKindPassesStrict) {
  TempDir dir;
  const auto logs = dir / "logs";
  const auto gen = runCommand(binary().string() + " audit generate --events 2500 --log-dir " + logs.string() +
                              " --ocsf-json 2>&1");
  ASSERT_EQ(gen.status, 0) << gen.output;
  const auto r = runCommand(validate("--strict " + (logs / "warden-ocsf.log").string()));
  EXPECT_EQ(r.status, 0) << r.output.substr(0, 4000);
  EXPECT_THAT(r.output, HasSubstr(" events, 0 errors, 0 warnings\n"));
  // The stream holds the HTTP method OCSF does not list, and Base and Other activities.
  const std::string events = warden::testing::readFile(logs / "warden-ocsf.log");
  EXPECT_THAT(events, HasSubstr("\"unmapped\":{\"http_method\":\"PROPFIND\""));
  EXPECT_THAT(events, HasSubstr("\"type_name\":\"HTTP Activity: Other\""));
  EXPECT_THAT(events, HasSubstr("\"class_uid\":0,"));
}

TEST(OcsfValidateCommandTest, ReadsStandardInputForDash) {
  TempDir dir;
  writeFile(dir / "in.jsonl", lifecycleLine(1) + "\n{\"class_uid\": 1007}\n");
  const auto r = runCommand("cat " + (dir / "in.jsonl").string() + " | " + validate("-"));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("-:2: error: $.activity_id: required attribute 'activity_id' is missing "
                                  "[attribute_required_missing]"));
  EXPECT_THAT(r.output, HasSubstr("2 events, "));
}

TEST(OcsfValidateCommandTest, ReportsBlankLineAmongEvents) {
  TempDir dir;
  const auto file = dir / "blank.jsonl";
  writeFile(file, lifecycleLine(1) + "\n\n" + lifecycleLine(2) + "\n");
  const auto r = runCommand(validate(file.string()));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr(file.string() + ":2: error: $: blank line: no event [line_blank]"));
  EXPECT_THAT(r.output, HasSubstr("3 events, 1 errors, 0 warnings"));
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
  EXPECT_THAT(r.output, HasSubstr("[json_invalid]"));
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
  const auto r = runCommand("cd " + dir.path().string() + " && env -i " + lone.string() +
                            " ocsf validate --strict ok.jsonl");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("1 events, 0 errors, 0 warnings"));
}

TEST(OcsfValidateCommandTest, ASchemaFileThatIsNotASchemaIsAClearError) {
  TempDir dir;
  writeFile(dir / "ok.jsonl", lifecycleLine(1) + "\n");
  writeFile(dir / "bad.json", "{\"version\": \"1.7.0\", \"classes\": 3");
  const auto r =
      runCommand(validate((dir / "ok.jsonl").string() + " --schema " + (dir / "bad.json").string()));
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

TEST(OcsfValidateCommandTest, HelpExitsZeroAndNamesStrict) {
  const auto r = runCommand(validate("--help"));
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("FILE"));
  EXPECT_THAT(r.output, HasSubstr("--strict"));
}

}  // namespace
}  // namespace warden
