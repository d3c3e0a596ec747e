// The pipeline's outputs behind audit::Sink, coalescing through the pipeline and the log budget.

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "audit/chain.h"
#include "audit/human_sink.h"
#include "audit/pipeline.h"
#include "audit/spool_sink.h"
#include "audit/verify_files.h"
#include "audit_test_util.h"
#include "support/test_env.h"

namespace warden::audit {
namespace {

using testutil::fileLines;
using testutil::isLog;
using testutil::jsonLines;
using testutil::kNoon;
using testutil::testEvent;
using testutil::testOptions;
using warden::testing::TempDir;
using warden::testing::waitFor;

std::unique_ptr<Pipeline> startOrDie(PipelineOptions options) {
  auto p = Pipeline::start(std::move(options));
  if (!p.ok()) {
    ADD_FAILURE() << p.error().toString();
    return nullptr;
  }
  return std::move(p).value();
}

ocsf::Event deniedOpen(int64_t time, int64_t pid) {
  ocsf::Event e = testEvent(time, "denied evil.example:443");
  e.kind = ocsf::Kind::kNet;
  e.class_uid = ocsf::ClassUid::kNetworkActivity;
  e.activity_id = 1;
  e.activity_name.clear();
  e.action = ocsf::Action::kDenied;
  e.disposition = ocsf::Disposition::kBlocked;
  e.severity = ocsf::Severity::kMedium;
  e.status = ocsf::Status::kFailure;
  e.status_detail = "no policy allows evil.example:443";
  e.actor = ocsf::Process{.name = "curl", .pid = pid, .uid = 1000, .cmd_line = {}, .file = {}, .working_directory = {},
                          .parent_process = {}};
  e.src_endpoint = ocsf::Endpoint{.hostname = {}, .ip = "10.200.0.2", .port = 40000};
  e.dst_endpoint = ocsf::Endpoint{.hostname = "evil.example", .ip = {}, .port = 443};
  e.firewall_rule = ocsf::FirewallRule{.name = "-", .type = "policy"};
  return e;
}

// Collects every batch a sink is given.
struct Collected {
  std::mutex mu;
  std::vector<uint64_t> sequences;
  std::string log_bytes;
  std::string json_bytes;
  int final_batches = 0;
  std::shared_ptr<Sink> sink() {
    return std::make_shared<CallbackSink>("collect", [this](const SinkBatch& b) {
      std::lock_guard lk(mu);
      for (const auto& r : b.events) sequences.push_back(r.sequence);
      log_bytes.append(b.log_lines);
      json_bytes.append(b.json_lines);
      if (b.final) ++final_batches;
    });
  }
};

TEST(PipelineSinksTest, ASinkGetsEveryBatchInOrderTheFilesBytesAndOneFinalBatch) {
  TempDir dir;
  ManualClock clock(kNoon);
  auto opt = testOptions(dir.path(), clock);
  opt.jsonl_enabled = true;
  Collected got;
  opt.sinks.push_back(got.sink());
  auto p = startOrDie(opt);
  ASSERT_NE(p, nullptr);
  for (int i = 0; i < 3000; ++i) p->emit(testEvent(kNoon, "e" + std::to_string(i)));
  p->operational(Level::kInfo, "test", "a plain line");
  ASSERT_TRUE(p->close().ok());
  std::lock_guard lk(got.mu);
  ASSERT_EQ(got.sequences.size(), p->stats().last_sequence);
  for (size_t i = 0; i < got.sequences.size(); ++i) ASSERT_EQ(got.sequences[i], i + 1);
  EXPECT_EQ(got.log_bytes, warden::testing::readFile(dir / "warden.log"));
  EXPECT_EQ(got.json_bytes, warden::testing::readFile(dir / "warden-ocsf.log"));
  EXPECT_EQ(got.final_batches, 1);
}

TEST(PipelineSinksTest, IdenticalDenialsAreCoalescedTheCountsAddUpAndTheLogStillVerifies) {
  TempDir dir;
  ManualClock clock(kNoon);
  auto opt = testOptions(dir.path(), clock);
  opt.jsonl_enabled = true;
  opt.coalesce.window = std::chrono::milliseconds(1000);
  auto p = startOrDie(opt);
  ASSERT_NE(p, nullptr);
  // 3 windows of a flood from one process, and a second process once.
  int produced = 0;
  for (int w = 0; w < 3; ++w) {
    for (int i = 0; i < 400; ++i, ++produced) p->emit(deniedOpen(clock.nowMillis(), 64));
    clock.advanceMillis(1000);
    ASSERT_TRUE(waitFor([&] { return p->stats().summaries == static_cast<uint64_t>(w + 1); })) << "window " << w;
  }
  p->emit(deniedOpen(clock.nowMillis(), 65));
  ++produced;
  ASSERT_TRUE(p->close().ok());

  int64_t denials = 0;
  int written = 0, summaries = 0;
  for (const auto& e : jsonLines(dir / "warden-ocsf.log")) {
    if (e.value("class_uid", 0) != 4001) continue;
    if (e.contains("count")) {
      ++summaries;
      EXPECT_LE(e["start_time"].get<int64_t>(), e["end_time"].get<int64_t>());
      EXPECT_TRUE(e["unmapped"]["coalesced"].contains("first_uid"));
      denials += e["count"].get<int64_t>();
    } else {
      ++written;
      ++denials;
    }
  }
  EXPECT_EQ(written, 4);  // the first of each window, and pid 65
  EXPECT_EQ(summaries, 3);
  EXPECT_EQ(denials, produced);
  const auto s = p->stats();
  EXPECT_EQ(s.coalesced, static_cast<uint64_t>(produced - 4));
  EXPECT_EQ(s.emitted, s.written + s.shed + s.coalesced);
  const auto report = verifyPaths({dir.path().string()}, VerifyOptions{});
  EXPECT_TRUE(report.ok()) << report.events;
}

TEST(PipelineSinksTest, LogBudgetIsRecordedOnceCallsBackOnceAndRefusalsAreCounted) {
  TempDir dir;
  ManualClock clock(kNoon);
  auto opt = testOptions(dir.path(), clock);
  opt.jsonl_enabled = true;
  opt.coalesce.window = std::chrono::milliseconds(0);
  opt.budget.max_events = 100;
  opt.budget.grace_events = 10;
  std::atomic<int> calls{0};
  BudgetFacts seen;
  opt.budget.on_exhausted = [&](const BudgetFacts& f) {
    seen = f;
    ++calls;
  };
  auto p = startOrDie(opt);
  ASSERT_NE(p, nullptr);
  for (int i = 0; i < 300; ++i) p->emit(deniedOpen(kNoon, 64));
  ASSERT_TRUE(waitFor([&] { return calls.load() == 1; }));
  // Control events still pass beyond the ceiling.
  ocsf::Event stop = testEvent(kNoon, "session stopped");
  stop.kind = ocsf::Kind::kSession;
  p->emit(std::move(stop));
  ASSERT_TRUE(p->close().ok());
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(seen.max_events, 100u);
  EXPECT_GE(seen.events, 100u);
  EXPECT_EQ(seen.action, "stop");

  const auto s = p->stats();
  EXPECT_TRUE(s.budget_exhausted);
  EXPECT_EQ(s.written + s.refused_over_budget, 301u);
  EXPECT_GE(s.refused_over_budget, 300u - 100u - 10u - 1u);
  int budget_events = 0;
  uint64_t refused_reported = 0;
  bool stop_written = false;
  for (const auto& e : jsonLines(dir / "warden-ocsf.log")) {
    if (isLog(e, "Budget Exhausted")) {
      ++budget_events;
      EXPECT_EQ(e["severity_id"], 5);
      EXPECT_EQ(e["unmapped"]["budget"]["max_events"], 100);
    }
    if (isLog(e, "Loss")) refused_reported += e["unmapped"]["loss"].value("refused_over_budget", uint64_t{0});
    if (e.value("message", "") == "session stopped") stop_written = true;
  }
  EXPECT_EQ(budget_events, 1);
  EXPECT_EQ(refused_reported, s.refused_over_budget);
  EXPECT_TRUE(stop_written);
}

TEST(PipelineSinksTest, AStuckHumanReaderNeverHoldsUpTheWriterAndWhatItMissedIsRecorded) {
  TempDir dir;
  ManualClock clock(kNoon);
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  (void)::fcntl(fds[1], F_SETPIPE_SZ, 4096);
  auto opt = testOptions(dir.path(), clock);
  auto human = std::make_shared<HumanSink>(HumanSink::Options{.fd = fds[1], .max_buffered_bytes = 64 << 10,
                                                              .close_timeout = std::chrono::milliseconds(200)});
  opt.sinks.push_back(human);
  opt.backpressure_timeout = std::chrono::milliseconds(0);
  opt.queue_capacity = 64;
  auto p = startOrDie(opt);
  ASSERT_NE(p, nullptr);
  // Nobody reads the pipe. With the writer bound to the reader, this would shed.
  for (int i = 0; i < 5000; ++i) {
    p->emit(testEvent(kNoon, "e" + std::to_string(i)));
    if (i % 50 == 0) {
      ASSERT_TRUE(waitFor([&] { return p->stats().last_sequence >= static_cast<uint64_t>(i); }));
    }
  }
  ASSERT_TRUE(waitFor([&] { return human->skippedLines() > 0; }));
  clock.advanceMillis(2000);  // the next report is due
  ASSERT_TRUE(p->close().ok());
  ::close(fds[0]);
  ::close(fds[1]);
  EXPECT_EQ(p->stats().shed, 0u);
  EXPECT_EQ(p->stats().written, 5000u);
  const std::string log = warden::testing::readFile(dir / "warden.log");
  EXPECT_NE(log.find("LOG:SINK_OVERFLOW [HIGH] human output skipped"), std::string::npos);
  EXPECT_NE(log.find("lines not shown when the session closed"), std::string::npos);
}

TEST(PipelineSinksTest, AHumanReaderThatGoesAwayIsReportedAndTheSessionGoesOn) {
  TempDir dir;
  ManualClock clock(kNoon);
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  ::close(fds[0]);
  testutil::ErrorSink errors;
  auto opt = testOptions(dir.path(), clock, &errors);
  opt.stdout_human = true;
  opt.human_fd = fds[1];
  auto p = startOrDie(opt);
  ASSERT_NE(p, nullptr);
  p->emit(testEvent(kNoon, "one"));
  ASSERT_TRUE(waitFor([&] { return errors.joined().find("stopped: Broken pipe") != std::string::npos; }));
  p->emit(testEvent(kNoon, "two"));
  ASSERT_TRUE(p->close().ok());
  ::close(fds[1]);
  EXPECT_NE(warden::testing::readFile(dir / "warden.log").find("two"), std::string::npos);
}

TEST(PipelineSinksTest, TheHumanCopyIsExactlyWardenLog) {
  TempDir dir;
  ManualClock clock(kNoon);
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  std::string copy;
  std::thread reader([&] {
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0) copy.append(buf, static_cast<size_t>(n));
  });
  auto opt = testOptions(dir.path(), clock);
  opt.stdout_human = true;
  opt.human_fd = fds[1];
  auto p = startOrDie(opt);
  ASSERT_NE(p, nullptr);
  for (int i = 0; i < 2000; ++i) p->emit(testEvent(kNoon, "e" + std::to_string(i)));
  ASSERT_TRUE(p->close().ok());
  ::close(fds[1]);
  reader.join();
  ::close(fds[0]);
  EXPECT_EQ(copy, warden::testing::readFile(dir / "warden.log"));
}

TEST(PipelineSinksTest, SpoolSinkHoldsEverySequenceAndAFullSpoolIsRecordedNotSilent) {
  TempDir dir;
  ManualClock clock(kNoon);
  auto spool = Spool::open({.dir = dir / "spool", .segment_bytes = 64 << 10, .max_bytes = 256 << 10,
                            .fsync_each_batch = false});
  ASSERT_TRUE(spool.ok()) << spool.error().toString();
  std::atomic<int> notified{0};
  auto sink = std::make_shared<SpoolSink>("gateway spool", **spool, [&] { ++notified; });
  auto opt = testOptions(dir / "logs", clock);
  opt.jsonl_enabled = true;
  opt.sinks.push_back(sink);
  auto p = startOrDie(opt);
  ASSERT_NE(p, nullptr);
  for (int i = 0; i < 100; ++i) p->emit(testEvent(kNoon, "fits " + std::to_string(i)));
  ASSERT_TRUE(waitFor([&] { return (*spool)->lastSequence() >= 101; }));
  // Then far more than 256 KiB while nobody acknowledges.
  for (int i = 0; i < 2000; ++i) p->emit(testEvent(kNoon, std::string(400, 'x') + std::to_string(i)));
  ASSERT_TRUE(waitFor([&] { return sink->skipped() > 0 && p->stats().written == 2100; }));
  ASSERT_TRUE((*spool)->ack((*spool)->lastSequence()).ok());  // the gateway caught up: room again
  p->emit(testEvent(kNoon, "after"));
  ASSERT_TRUE(p->close().ok());
  EXPECT_GT(notified.load(), 0);
  const auto pending = (*spool)->pending(0, 100000, 1 << 30);
  ASSERT_TRUE(pending.ok());
  ASSERT_FALSE(pending->empty());
  EXPECT_EQ(pending->back().sequence, p->stats().last_sequence);  // the final checkpoint got in
  int overflow = 0;
  uint64_t skipped = 0;
  for (const auto& e : jsonLines(dir / "logs" / "warden-ocsf.log")) {
    if (!isLog(e, "Sink Overflow")) continue;
    ++overflow;
    skipped += e["unmapped"]["sink"]["skipped"].get<uint64_t>();
    EXPECT_EQ(e["unmapped"]["sink"]["name"], "gateway spool");
  }
  EXPECT_GE(overflow, 1);
  EXPECT_EQ(skipped, sink->skipped());
}

}  // namespace
}  // namespace warden::audit
