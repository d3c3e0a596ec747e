// One of every event the builders produce, rendered as canonical JSONL and checked against the
// official OCSF 1.7.0 schema with the project's validator.

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

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
};

std::unique_ptr<Schema> AllEventsValidTest::schema_;

TEST_F(AllEventsValidTest, EverySampleEventPassesTheOcsfSchema) {
  const Validator validator(*schema_);
  const auto events = writtenSamples();
  ASSERT_FALSE(events.empty());
  for (const Event& e : events) {
    const std::string line = toJsonl(e);
    const auto problems = validator.validateLine(line);
    std::string report;
    for (const auto& p : problems) report += "\n  " + p.path + ": " + p.message;
    EXPECT_TRUE(problems.empty()) << toShorthand(e) << report << "\n" << line;
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
