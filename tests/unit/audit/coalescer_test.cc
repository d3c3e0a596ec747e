#include "audit/coalescer.h"

#include <gtest/gtest.h>

#include <thread>

#include "audit_test_util.h"
#include "ocsf/builders.h"
#include "ocsf/shorthand.h"

namespace warden::audit {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using testutil::kNoon;

ocsf::Event deniedOpen(int64_t time, int64_t pid = 64, std::string host = "evil.example") {
  ocsf::Event e = testutil::testEvent(time, "denied");
  e.kind = ocsf::Kind::kNet;
  e.class_uid = ocsf::ClassUid::kNetworkActivity;
  e.activity_id = 1;
  e.activity_name.clear();
  e.action = ocsf::Action::kDenied;
  e.severity = ocsf::Severity::kMedium;
  e.status_detail = "no policy allows " + host + ":443";
  e.actor = ocsf::Process{.name = "curl", .pid = pid, .uid = 1000, .cmd_line = {}, .file = {}, .working_directory = {},
                          .parent_process = {}};
  e.src_endpoint = ocsf::Endpoint{.hostname = {}, .ip = "10.200.0.2", .port = static_cast<int>(40000 + time % 1000)};
  e.dst_endpoint = ocsf::Endpoint{.hostname = host, .ip = {}, .port = 443};
  e.firewall_rule = ocsf::FirewallRule{.name = "-", .type = "policy"};
  e.metadata.uid = "uid-" + std::to_string(time);
  return e;
}

TEST(CoalescerTest, FirstIsWrittenAtOnceTheRestBecomeOneSummaryWhoseCountsAddUp) {
  Coalescer c({.window = milliseconds(1000), .max_keys = 16});
  const auto t0 = Clock::time_point() + std::chrono::hours(1);
  EXPECT_EQ(c.admit(deniedOpen(kNoon), t0), Coalescer::Verdict::kWrite);
  for (int i = 1; i <= 500; ++i) {
    EXPECT_EQ(c.admit(deniedOpen(kNoon + i), t0 + milliseconds(i)), Coalescer::Verdict::kSuppressed) << i;
  }
  EXPECT_TRUE(c.due(t0 + milliseconds(999), false).empty());
  const auto summaries = c.due(t0 + milliseconds(1000), false);
  ASSERT_EQ(summaries.size(), 1u);
  const ocsf::Event& s = summaries[0];
  EXPECT_EQ(s.count, 500);
  EXPECT_EQ(s.start_time, kNoon + 1);
  EXPECT_EQ(s.end_time, kNoon + 500);
  EXPECT_EQ(s.time, kNoon + 500);
  EXPECT_NE(s.metadata.uid, "uid-1");  // a fresh uid: it is an event of its own
  EXPECT_EQ(s.unmapped.findPath({"coalesced", "first_uid"})->asString(), "uid-" + std::to_string(kNoon));
  EXPECT_EQ(s.unmapped.findPath({"coalesced", "window_ms"})->asInt(), 1000);
  EXPECT_EQ(c.suppressed(), 500u);
  EXPECT_EQ(c.summaries(), 1u);
  // The window is closed: the next identical event is written again and opens a new one.
  EXPECT_EQ(c.admit(deniedOpen(kNoon + 2000), t0 + milliseconds(1001)), Coalescer::Verdict::kWrite);
}

TEST(CoalescerTest, SummaryShorthandShowsCountAndWindowBeforeTheReason) {
  Coalescer c({.window = milliseconds(1000), .max_keys = 16});
  const auto t0 = Clock::time_point() + std::chrono::hours(1);
  (void)c.admit(deniedOpen(kNoon), t0);
  (void)c.admit(deniedOpen(kNoon + 1000), t0);
  (void)c.admit(deniedOpen(kNoon + 1999), t0);
  const auto s = c.due(t0, true);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(ocsf::toShorthand(s[0]),
            "NET:OPEN [MED] DENIED curl(64) -> evil.example:443 [policy:- engine:policy] "
            "[count:2 window:12:00:01-12:00:01] [reason:no policy allows evil.example:443]");
}

TEST(CoalescerTest, DifferentActorDestinationOrReasonAreNotCoalesced) {
  Coalescer c({.window = milliseconds(1000), .max_keys = 16});
  const auto t0 = Clock::time_point() + std::chrono::hours(1);
  EXPECT_EQ(c.admit(deniedOpen(kNoon, 64), t0), Coalescer::Verdict::kWrite);
  EXPECT_EQ(c.admit(deniedOpen(kNoon, 65), t0), Coalescer::Verdict::kWrite);  // another process
  EXPECT_EQ(c.admit(deniedOpen(kNoon, 64, "other.example"), t0), Coalescer::Verdict::kWrite);
  auto reason = deniedOpen(kNoon);
  reason.status_detail = "connection cap reached";
  EXPECT_EQ(c.admit(reason, t0), Coalescer::Verdict::kWrite);
  auto ssrf = deniedOpen(kNoon);
  ssrf.firewall_rule->type = "ssrf";
  EXPECT_EQ(c.admit(ssrf, t0), Coalescer::Verdict::kWrite);
  // Same everything but the source port (a new connection): identical.
  EXPECT_EQ(c.admit(deniedOpen(kNoon + 7, 64), t0), Coalescer::Verdict::kSuppressed);
  EXPECT_EQ(c.due(t0, true).size(), 1u);
}

TEST(CoalescerTest, AllowedEventsFindingsAndControlEventsAreNeverCoalesced) {
  Coalescer c({.window = milliseconds(1000), .max_keys = 16});
  const auto t0 = Clock::time_point() + std::chrono::hours(1);
  auto allowed = deniedOpen(kNoon);
  allowed.action = ocsf::Action::kAllowed;
  auto finding = deniedOpen(kNoon);
  finding.kind = ocsf::Kind::kFinding;
  auto plain = testutil::testEvent(kNoon, "x");
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(c.admit(allowed, t0), Coalescer::Verdict::kWrite);
    EXPECT_EQ(c.admit(finding, t0), Coalescer::Verdict::kWrite);
    EXPECT_EQ(c.admit(plain, t0), Coalescer::Verdict::kWrite);
  }
  EXPECT_FALSE(c.nextDue().has_value());
}

TEST(CoalescerTest, AtCloseEveryOpenWindowWithACountIsSummarisedAndEmptyOnesVanish) {
  Coalescer c({.window = milliseconds(60000), .max_keys = 16});
  const auto t0 = Clock::time_point() + std::chrono::hours(1);
  (void)c.admit(deniedOpen(kNoon, 1), t0);
  (void)c.admit(deniedOpen(kNoon, 1), t0);
  (void)c.admit(deniedOpen(kNoon, 2), t0);  // a window with nothing suppressed
  EXPECT_EQ(c.nextDue(), t0 + milliseconds(60000));
  const auto s = c.due(t0, true);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].actor->pid, 1);
  EXPECT_FALSE(c.nextDue().has_value());
}

TEST(CoalescerTest, WhenTheKeyTableIsFullNewKeysAreWrittenNotDropped) {
  Coalescer c({.window = milliseconds(1000), .max_keys = 2});
  const auto t0 = Clock::time_point() + std::chrono::hours(1);
  EXPECT_EQ(c.admit(deniedOpen(kNoon, 1), t0), Coalescer::Verdict::kWrite);
  EXPECT_EQ(c.admit(deniedOpen(kNoon, 2), t0), Coalescer::Verdict::kWrite);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(c.admit(deniedOpen(kNoon, 3), t0), Coalescer::Verdict::kWrite);
}

TEST(CoalescerTest, ConcurrentProducersCountEveryEventExactlyOnce) {
  Coalescer c({.window = milliseconds(3600000), .max_keys = 64});
  const auto t0 = Clock::time_point() + std::chrono::hours(1);
  std::atomic<int> written{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        if (c.admit(deniedOpen(kNoon + i, i % 8), t0) == Coalescer::Verdict::kWrite) ++written;
      }
    });
  }
  for (auto& t : threads) t.join();
  int64_t summarised = 0;
  for (const auto& s : c.due(t0, true)) summarised += *s.count;
  EXPECT_EQ(written.load(), 8);  // one per key
  EXPECT_EQ(written.load() + summarised, 4 * 2000);
}

}  // namespace
}  // namespace warden::audit

namespace warden::audit {
namespace {

ocsf::Event closeOf(int64_t time, int64_t bytes_in, int64_t duration) {
  ocsf::Event e = testutil::testEvent(time, "closed evil.example:443");
  e.kind = ocsf::Kind::kNet;
  e.class_uid = ocsf::ClassUid::kNetworkActivity;
  e.activity_id = 2;
  e.activity_name.clear();
  e.actor = ocsf::Process{.name = "curl", .pid = 64, .uid = 1000, .cmd_line = {}, .file = {}, .working_directory = {},
                          .parent_process = {}};
  e.dst_endpoint = ocsf::Endpoint{.hostname = "evil.example", .ip = {}, .port = 443};
  e.traffic = ocsf::Traffic{.bytes_in = bytes_in, .bytes_out = 61};
  e.duration = duration;
  return e;
}

TEST(CoalescerTest, ClosesWithTheSameBytesAreSummarisedWithTheTotalDurationOthersAreNot) {
  Coalescer c({.window = std::chrono::milliseconds(1000), .max_keys = 16});
  const auto t0 = std::chrono::steady_clock::time_point() + std::chrono::hours(1);
  EXPECT_EQ(c.admit(closeOf(testutil::kNoon, 256, 40), t0), Coalescer::Verdict::kWrite);
  EXPECT_EQ(c.admit(closeOf(testutil::kNoon + 100, 256, 30), t0), Coalescer::Verdict::kSuppressed);
  EXPECT_EQ(c.admit(closeOf(testutil::kNoon + 300, 256, 50), t0), Coalescer::Verdict::kSuppressed);
  EXPECT_EQ(c.admit(closeOf(testutil::kNoon + 400, 9000, 50), t0), Coalescer::Verdict::kWrite);  // other data
  const auto s = c.due(t0, true);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].count, 2);
  EXPECT_EQ(s[0].duration, 200);  // end_time - start_time
  EXPECT_EQ(s[0].unmapped.findPath({"coalesced", "duration_total_ms"})->asInt(), 80);
  EXPECT_EQ(s[0].traffic->bytes_in, 256);
}

}  // namespace
}  // namespace warden::audit
