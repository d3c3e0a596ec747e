// One of every event the builders produce, rendered as canonical JSONL and checked against the
// official OCSF 1.7.0 schema with the project's validator, strictly: no error and no warning (what
// `warden ocsf validate --strict` asks, and so what the OCSF project's own validator accepts with
// 0 errors and 0 warnings).

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "common/encoding.h"
#include "ocsf/builders.h"
#include "ocsf/jsonl_formatter.h"
#include "ocsf/samples.h"
#include "ocsf/schema.h"
#include "ocsf/shorthand.h"
#include "ocsf/validator.h"
#include "support/test_env.h"

namespace warden::ocsf {
namespace {

class AllEventsValidTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto loaded = Schema::load(warden::testing::schemaPath());
    ASSERT_TRUE(loaded.ok()) << loaded.error().toString();
    schema_ = std::make_unique<Schema>(std::move(loaded).value());
  }
  static void TearDownTestSuite() { schema_.reset(); }

  // The samples as the audit writer would emit them: sequenced and chained.
  static std::vector<Event> writtenSamples() {
    auto events = sampleOfEveryEvent(sampleContext());
    for (size_t i = 0; i < events.size(); ++i) {
      events[i].metadata.sequence = i + 1;
      events[i].integrity_prev = std::string(64, "0123456789abcdef"[i % 16]);
    }
    return events;
  }

  static std::unique_ptr<Schema> schema_;

  static std::string report(const std::vector<Problem>& problems) {
    std::string out;
    for (const auto& p : problems) {
      out += "\n  " + std::string(severityName(p.severity)) + " " + std::string(p.code) + " " + p.path +
             ": " + p.message;
    }
    return out;
  }
};

std::unique_ptr<Schema> AllEventsValidTest::schema_;

TEST_F(AllEventsValidTest, EverySampleEventPassesStrictlyWithNoErrorAndNoWarning) {
  const Validator validator(*schema_);
  const auto events = writtenSamples();
  ASSERT_FALSE(events.empty());
  for (const Event& e : events) {
    const std::string line = toJsonl(e);
    const auto problems = validator.validateLine(line);
    EXPECT_TRUE(problems.empty()) << toShorthand(e) << report(problems) << "\n" << line;
  }
}

// The samples cycled the way `warden audit generate` cycles them (times, uids, pids and sequence
// numbers varying), read back as one JSONL stream.
TEST_F(AllEventsValidTest, AGeneratedStreamOfEveryKindHasNoErrorAndNoWarning) {
  const auto samples = writtenSamples();
  std::set<Kind> kinds;
  std::stringstream stream;
  std::uint64_t sequence = 0;
  for (int cycle = 0; cycle < 3; ++cycle) {
    for (Event e : samples) {
      e.time += cycle * 1000;
      e.metadata.uid = uuidV7(e.time);
      e.metadata.sequence = ++sequence;
      if (e.actor && e.actor->pid) e.actor->pid = *e.actor->pid + cycle;
      if (e.process && e.process->pid) e.process->pid = *e.process->pid + cycle;
      kinds.insert(e.kind);
      stream << toJsonl(e) << "\n";
    }
  }
  std::string problems;
  const auto summary =
      Validator(*schema_).validateStream(stream, [&](std::size_t line, const std::vector<Problem>& p) {
        problems += "\nline " + std::to_string(line) + report(p);
      });
  ASSERT_TRUE(summary.ok()) << summary.error().toString();
  EXPECT_EQ(summary->events, 3 * samples.size());
  EXPECT_EQ(summary->errors, 0u) << problems;
  EXPECT_EQ(summary->warnings, 0u) << problems;
  for (const Kind k : {Kind::kNet, Kind::kHttp, Kind::kDns, Kind::kSsh, Kind::kProc, Kind::kFile,
                       Kind::kFinding, Kind::kConfig, Kind::kLifecycle, Kind::kSession, Kind::kPkg,
                       Kind::kTool, Kind::kModel, Kind::kLimit, Kind::kEvent}) {
    EXPECT_TRUE(kinds.count(k)) << kindPrefix(k) << " is not in the stream";
  }
}

// OCSF 1.7.0's http_method is a closed enum: any other method is activity Other (99) named after
// the method, which is kept under unmapped.http_method and never as an invalid http_method.
TEST_F(AllEventsValidTest, AnHttpMethodOutsideOcsfsListStillMakesAValidEvent) {
  const Validator validator(*schema_);
  for (const char* method : {"PROPFIND", "MKCOL", "X-CUSTOM_1", "get", "QUERY"}) {
    HttpExchange x;
    x.method = method;
    x.url = "https://dav.example.com/files/a?token=secret";
    Event e = httpRequest(sampleContext(), 1700000000000, x, Decision{});
    e.metadata.sequence = 1;
    const std::string line = toJsonl(e);
    EXPECT_TRUE(validator.validateLine(line).empty()) << method << report(validator.validateLine(line));
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["activity_id"], 99) << method;
    EXPECT_EQ(j["activity_name"], method);
    EXPECT_EQ(j["type_name"], "HTTP Activity: Other");
    EXPECT_EQ(j["unmapped"]["http_method"], method);
    EXPECT_FALSE(j["http_request"].contains("http_method")) << line;
    std::string upper(method);  // the shorthand's ACTIVITY is upper case
    for (char& c : upper) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    EXPECT_EQ(toShorthand(e).rfind("HTTP:" + upper + " ", 0), 0u) << toShorthand(e);
    EXPECT_NE(
        toShorthand(e).find(std::string(" -> ") + method + " https://dav.example.com/files/a?[redacted]"),
        std::string::npos)
        << toShorthand(e);
  }
}

TEST_F(AllEventsValidTest, TypeNameIsTheSchemasCaptionOfTypeUid) {
  for (const Event& e : writtenSamples()) {
    const auto j = nlohmann::json::parse(toJsonl(e));
    const ClassSpec* cls = schema_->findClass(j["class_uid"].get<int>());
    ASSERT_NE(cls, nullptr);
    const EnumEntry* caption =
        cls->body.find("type_uid")->enumeration->findInt(j["type_uid"].get<std::int64_t>());
    ASSERT_NE(caption, nullptr) << j["type_uid"];
    if (j["type_uid"] == 99) {
      // Base Event: Other: the official validator warns on the caption of any 99, so it is left out.
      EXPECT_FALSE(j.contains("type_name")) << toShorthand(e);
    } else {
      EXPECT_EQ(j["type_name"], caption->caption) << toShorthand(e);
    }
    if (j["activity_id"] == 99) {
      EXPECT_NE(j.value("activity_name", ""), "Other") << toShorthand(e);
    }
  }
}

TEST_F(AllEventsValidTest, SamplesCoverEveryBuilderAndActivityVariant) {
  std::set<std::tuple<Kind, int, std::string>> seen;
  for (const Event& e : writtenSamples()) seen.emplace(e.kind, e.typeUid(), std::string(e.activityName()));
  const std::vector<std::tuple<Kind, int, std::string>> expected = {
      {Kind::kNet, 400101, "Open"},         {Kind::kNet, 400102, "Close"},
      {Kind::kNet, 400103, "Reset"},        {Kind::kNet, 400104, "Fail"},
      {Kind::kNet, 400105, "Refuse"},       {Kind::kNet, 400107, "Listen"},
      {Kind::kNet, 400199, "Upgrade"},      {Kind::kHttp, 400201, "Connect"},
      {Kind::kHttp, 400202, "Delete"},      {Kind::kHttp, 400203, "Get"},
      {Kind::kHttp, 400204, "Head"},        {Kind::kHttp, 400205, "Options"},
      {Kind::kHttp, 400206, "Post"},        {Kind::kHttp, 400207, "Put"},
      {Kind::kHttp, 400208, "Trace"},       {Kind::kHttp, 400209, "Patch"},
      {Kind::kHttp, 400299, "PROPFIND"},    {Kind::kDns, 400301, "Query"},
      {Kind::kDns, 400302, "Response"},     {Kind::kSsh, 400701, "Open"},
      {Kind::kSsh, 400702, "Close"},        {Kind::kSsh, 400704, "Fail"},
      {Kind::kSsh, 400705, "Refuse"},       {Kind::kSsh, 400707, "Listen"},
      {Kind::kSsh, 400799, "Replay"},       {Kind::kProc, 100701, "Launch"},
      {Kind::kProc, 100702, "Terminate"},   {Kind::kProc, 100799, "Signal"},
      {Kind::kFile, 100101, "Create"},      {Kind::kFile, 100102, "Read"},
      {Kind::kFile, 100103, "Update"},      {Kind::kFile, 100104, "Delete"},
      {Kind::kFile, 100105, "Rename"},      {Kind::kFile, 100112, "Mount"},
      {Kind::kFile, 100113, "Unmount"},     {Kind::kFile, 100114, "Open"},
      {Kind::kFinding, 200401, "Create"},   {Kind::kConfig, 501901, "Log"},
      {Kind::kLifecycle, 600203, "Start"},  {Kind::kLifecycle, 600204, "Stop"},
      {Kind::kLifecycle, 600299, "Ready"},  {Kind::kLifecycle, 600299, "Failed"},
      {Kind::kSession, 600203, "Start"},    {Kind::kSession, 600204, "Stop"},
      {Kind::kSession, 600299, "Create"},   {Kind::kSession, 600299, "Pause"},
      {Kind::kSession, 600299, "Resume"},   {Kind::kSession, 600299, "Cleanup"},
      {Kind::kPkg, 600201, "Install"},      {Kind::kTool, 600399, "Call"},
      {Kind::kApi, 600301, "Create"},       {Kind::kApi, 600302, "Read"},
      {Kind::kApi, 600303, "Update"},       {Kind::kApi, 600304, "Delete"},
      {Kind::kModel, 600399, "Call"},
      {Kind::kLimit, 99, "Resource Limit"}, {Kind::kEvent, 99, "Spool"},
  };
  for (const auto& want : expected) {
    EXPECT_TRUE(seen.count(want)) << kindPrefix(std::get<0>(want)) << " " << std::get<1>(want) << " "
                                  << std::get<2>(want) << " missing from sampleOfEveryEvent";
  }
  std::set<std::string> states;
  for (const Event& e : writtenSamples()) {
    if (e.kind == Kind::kConfig) states.insert(std::string(e.unmapped.stringAt("state")));
  }
  EXPECT_EQ(states, (std::set<std::string>{"DEGRADED", "FAILED", "LOADED", "UPDATED"}));
}

TEST_F(AllEventsValidTest, EverySampleRendersAsOneShorthandLineWithItsPrefix) {
  for (const Event& e : writtenSamples()) {
    const std::string line = toShorthand(e);
    SCOPED_TRACE(line);
    EXPECT_EQ(line.rfind(std::string(kindPrefix(e.kind)) + ":", 0), 0u);
    EXPECT_EQ(line.find('\n'), std::string::npos);
    EXPECT_NE(line.back(), ' ');
  }
}

}  // namespace
}  // namespace warden::ocsf
