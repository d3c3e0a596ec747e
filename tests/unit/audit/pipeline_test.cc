#include "audit/pipeline.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "audit/chain.h"
#include "audit/signer.h"
#include "audit/spool_sink.h"
#include "audit_test_util.h"
#include "support/test_env.h"

namespace warden::audit {
namespace {

using testutil::fileContains;
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

TEST(PipelineTest, FirstEventIsLogStartCarryingThePublicKey) {
  TempDir dir;
  ManualClock clock(kNoon);
  auto opt = testOptions(dir.path(), clock);
  opt.jsonl_enabled = true;
  auto p = startOrDie(opt);
  ASSERT_NE(p, nullptr);
  ASSERT_TRUE(p->close().ok());

  const auto events = jsonLines(dir / "warden-ocsf.log");
  ASSERT_GE(events.size(), 2u);
  const auto& first = events.front();
  EXPECT_EQ(first["metadata"]["sequence"], 1);
  EXPECT_EQ(first["class_uid"], 1008);
  EXPECT_EQ(first["activity_id"], 6);
  EXPECT_EQ(first["unmapped"]["signing_key"]["algorithm"], "Ed25519");
  EXPECT_EQ(first["unmapped"]["signing_key"]["public_key"], p->publicKeyHex());
  EXPECT_EQ(first["unmapped"]["signing_key"]["key_id"], p->keyId());
  EXPECT_EQ(first["metadata"]["correlation_uid"], testutil::testSession().session_id);
  EXPECT_EQ(first["device"]["container"]["name"], "agent-7");
  const auto log = fileLines(dir / "warden.log");
  ASSERT_FALSE(log.lines.empty());
  EXPECT_NE(log.lines.front().find(" OCSF LOG:START [INFO]"), std::string::npos) << log.lines.front();
}

TEST(PipelineTest, SequenceIsGapFreeAcrossProducerThreads) {
  TempDir dir;
  ManualClock clock(kNoon);
  auto opt = testOptions(dir.path(), clock);
  opt.jsonl_enabled = true;
  opt.queue_capacity = 1024;
  opt.backpressure_timeout = std::chrono::seconds(10);  // no shedding in this test
  auto p = startOrDie(opt);
  ASSERT_NE(p, nullptr);

  constexpr int kThreads = 4;
  constexpr int kPerThread = 3000;
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) p->emit(testEvent(kNoon, "t" + std::to_string(t) + "-" + std::to_string(i)));
    });
  }
  for (auto& th : producers) th.join();
  ASSERT_TRUE(p->close().ok());

  const auto stats = p->stats();
  EXPECT_EQ(stats.emitted, uint64_t{kThreads * kPerThread});
  EXPECT_EQ(stats.written, stats.emitted);
  EXPECT_EQ(stats.shed, 0u);

  const auto events = jsonLines(dir / "warden-ocsf.log");
  ASSERT_EQ(events.size(), stats.last_sequence);
  std::vector<int> next_per_thread(kThreads, 0);
  for (size_t i = 0; i < events.size(); ++i) {
    ASSERT_EQ(events[i]["metadata"]["sequence"], i + 1) << "line " << i + 1;
    const std::string msg = events[i].value("message", "");
    if (msg.empty() || msg[0] != 't') continue;
    // Each producer's events stay in the order it emitted them.
    const int t = msg[1] - '0';
    EXPECT_EQ(msg, "t" + std::to_string(t) + "-" + std::to_string(next_per_thread[t]));
    ++next_per_thread[t];
  }
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(next_per_thread[t], kPerThread);
  // warden.log has one line per event, in the same order.
  const auto log = fileLines(dir / "warden.log");
  EXPECT_TRUE(log.complete);
  EXPECT_EQ(log.lines.size(), events.size());
}

TEST(PipelineTest, SinkSeesEveryEventWithTheFilesBytesWhetherOrNotJsonlIsOn) {
  TempDir dir;
  ManualClock clock(kNoon);
  auto opt = testOptions(dir.path(), clock);
  std::mutex mu;
  std::vector<SpooledEvent> tapped;
  opt.sinks.push_back(std::make_shared<CallbackSink>("tap", [&](const SinkBatch& batch) {
    std::lock_guard lk(mu);
    for (const auto& e : batch.events) {
      tapped.push_back(SpooledEvent{.sequence = e.sequence, .json = std::string(e.json),
                                    .shorthand = std::string(e.shorthand)});
    }
  }));
  auto p = startOrDie(opt);
  ASSERT_NE(p, nullptr);
  for (int i = 0; i < 20; ++i) p->emit(testEvent(kNoon + i, "off " + std::to_string(i)));
  p->setJsonlEnabled(true, 2);
  for (int i = 0; i < 20; ++i) p->emit(testEvent(kNoon + i, "on " + std::to_string(i)));
  ASSERT_TRUE(p->close().ok());

  // Sequences 1..N with no gap, N being every event the files hold (final checkpoint included).
  const auto log = fileLines(dir / "warden.log");
  std::vector<std::string> log_events;
  for (const auto& l : log.lines) {
    if (const size_t at = l.find(" OCSF "); at != std::string::npos) log_events.push_back(l.substr(at + 6));
  }
  ASSERT_EQ(tapped.size(), log_events.size());
  Digest h = chainSeed(opt.session.session_id);
  for (size_t i = 0; i < tapped.size(); ++i) {
    EXPECT_EQ(tapped[i].sequence, i + 1);
    EXPECT_EQ(tapped[i].shorthand, log_events[i]);
    const auto j = nlohmann::json::parse(tapped[i].json);
    EXPECT_EQ(j["metadata"]["sequence"], i + 1);
    EXPECT_EQ(j["unmapped"]["integrity"]["prev"], digestHex(h)) << "event " << i + 1;
    h = chainNext(h, tapped[i].json);
  }
  // While JSONL was on, the file's lines are the tapped bytes exactly.
  const auto jsonl = fileLines(dir / "warden-ocsf.log");
  ASSERT_FALSE(jsonl.lines.empty());
  const auto first = nlohmann::json::parse(jsonl.lines.front());
  const uint64_t first_seq = first["metadata"]["sequence"];
  for (size_t i = 0; i < jsonl.lines.size(); ++i) EXPECT_EQ(jsonl.lines[i], tapped[first_seq - 1 + i].json);
}

TEST(PipelineTest, ChainRecomputedFromJsonlBytesMatchesEveryPrev) {
  TempDir dir;
  ManualClock clock(kNoon);
  auto opt = testOptions(dir.path(), clock);
  opt.jsonl_enabled = true;
  opt.checkpoint_every_events = 50;
  auto p = startOrDie(opt);
  ASSERT_NE(p, nullptr);
  for (int i = 0; i < 200; ++i) p->emit(testEvent(kNoon + i, "event " + std::to_string(i)));
  ASSERT_TRUE(p->close().ok());

  const auto lines = fileLines(dir / "warden-ocsf.log");
  ASSERT_TRUE(lines.complete);
  Digest h = chainSeed(opt.session.session_id);
  for (size_t i = 0; i < lines.lines.size(); ++i) {
    const auto j = nlohmann::json::parse(lines.lines[i]);
    ASSERT_EQ(j["unmapped"]["integrity"]["prev"], digestHex(h)) << "line " << i + 1;
    h = chainNext(h, lines.lines[i]);
  }
  EXPECT_GT(lines.lines.size(), 200u);
}

// Checks every checkpoint in a JSONL file: it follows last_seq, its head is h_last_seq recomputed
// from the line bytes, and its signature verifies with `public_key`.
void expectValidCheckpoints(const std::filesystem::path& jsonl, const std::string& session_id,
                            const std::string& public_key) {
  Digest h = chainSeed(session_id);
  std::map<uint64_t, std::string> heads;  // sequence -> hex h_seq
  for (const auto& line : fileLines(jsonl).lines) {
    const auto e = nlohmann::json::parse(line);
    const uint64_t seq = e["metadata"]["sequence"];
    if (isLog(e, "Checkpoint")) {
      const auto& cp = e["unmapped"]["checkpoint"];
      const uint64_t last = cp["last_seq"];
      EXPECT_EQ(last + 1, seq);
      EXPECT_EQ(cp["head"], heads[last]);
      const std::string msg = checkpointMessage(session_id, last, cp["head"].get<std::string>(), e["time"]);
      EXPECT_TRUE(verifyEd25519(public_key, msg, cp["signature"].get<std::string>())) << "checkpoint at " << seq;
    }
    h = chainNext(h, line);
    heads[seq] = digestHex(h);
  }
}

TEST(PipelineTest, WritesSignedCheckpointEveryThousandEvents) {
  TempDir dir;
  ManualClock clock(kNoon);
  auto opt = testOptions(dir.path(), clock);
  opt.jsonl_enabled = true;
  auto p = startOrDie(opt);
  ASSERT_NE(p, nullptr);
  for (int i = 0; i < 2500; ++i) p->emit(testEvent(kNoon, "e" + std::to_string(i)));
  ASSERT_TRUE(p->close().ok());

  const auto events = jsonLines(dir / "warden-ocsf.log");
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  std::vector<uint64_t> at;
  for (const auto& e : events) {
    if (!isLog(e, "Checkpoint")) continue;
    ranges.emplace_back(e["unmapped"]["checkpoint"]["first_seq"], e["unmapped"]["checkpoint"]["last_seq"]);
    at.push_back(e["metadata"]["sequence"]);
  }
  // LOG:START + 2500 events + 2 checkpoints = 2503 sequenced before the final one.
  ASSERT_EQ(at.size(), 3u);
  EXPECT_EQ(at[0], 1001u);
  EXPECT_EQ(ranges[0], std::make_pair(uint64_t{1}, uint64_t{1000}));
  EXPECT_EQ(at[1], 2001u);
  EXPECT_EQ(ranges[1], std::make_pair(uint64_t{1001}, uint64_t{2000}));
  EXPECT_EQ(at[2], 2504u);  // the final one
  EXPECT_EQ(ranges[2], std::make_pair(uint64_t{2001}, uint64_t{2503}));
  expectValidCheckpoints(dir / "warden-ocsf.log", opt.session.session_id, p->publicKeyHex());
  EXPECT_EQ(p->stats().checkpoints, 3u);
}

TEST(PipelineTest, WritesCheckpointWhenTheIntervalPassesWhileIdle) {
  TempDir dir;
  ManualClock clock(kNoon);
  auto opt = testOptions(dir.path(), clock);
  opt.jsonl_enabled = true;
  auto p = startOrDie(opt);
  ASSERT_NE(p, nullptr);
  for (int i = 0; i < 5; ++i) p->emit(testEvent(kNoon, "e" + std::to_string(i)));
  const auto path = dir / "warden-ocsf.log";
  ASSERT_TRUE(waitFor([&] { return jsonLines(path).size() == 6; }));
  EXPECT_EQ(p->stats().checkpoints, 0u);

  clock.advanceMillis(9999);
  // Nothing due yet: the writer re-reads the clock every idle_poll; give it a few rounds.
  EXPECT_FALSE(waitFor([&] { return p->stats().checkpoints > 0; }, std::chrono::milliseconds(50)));
  clock.advanceMillis(1);
  ASSERT_TRUE(waitFor([&] { return fileContains(path, "\"Checkpoint\""); }));
  const auto events = jsonLines(path);
  ASSERT_EQ(events.size(), 7u);
  const auto& cp = events.back();
  EXPECT_TRUE(isLog(cp, "Checkpoint"));
  EXPECT_EQ(cp["unmapped"]["checkpoint"]["first_seq"], 1);
  EXPECT_EQ(cp["unmapped"]["checkpoint"]["last_seq"], 6);
  EXPECT_FALSE(cp["unmapped"]["checkpoint"].contains("final"));

  // Idle with nothing new since: no checkpoint of a checkpoint.
  clock.advanceMillis(20000);
  EXPECT_FALSE(waitFor([&] { return p->stats().checkpoints > 1; }, std::chrono::milliseconds(50)));
  ASSERT_TRUE(p->close().ok());
}

TEST(PipelineTest, CloseWritesFinalCheckpointWithValidSignature) {
  TempDir dir;
  ManualClock clock(kNoon);
  auto opt = testOptions(dir.path(), clock);
  opt.jsonl_enabled = true;
  auto p = startOrDie(opt);
  ASSERT_NE(p, nullptr);
  for (int i = 0; i < 10; ++i) p->emit(testEvent(kNoon, "e" + std::to_string(i)));
  ASSERT_TRUE(p->close().ok());
  ASSERT_TRUE(p->close().ok());  // idempotent

  const auto events = jsonLines(dir / "warden-ocsf.log");
  ASSERT_EQ(events.size(), 12u);
  const auto& last = events.back();
  ASSERT_TRUE(isLog(last, "Checkpoint"));
  EXPECT_EQ(last["unmapped"]["checkpoint"]["final"], true);
  EXPECT_EQ(last["unmapped"]["checkpoint"]["key_id"], p->keyId());
  expectValidCheckpoints(dir / "warden-ocsf.log", opt.session.session_id, p->publicKeyHex());
  const auto log = fileLines(dir / "warden.log");
  EXPECT_NE(log.lines.back().find("LOG:CHECKPOINT"), std::string::npos) << log.lines.back();

  // After close nothing is written and the call is counted, not silently dropped.
  p->emit(testEvent(kNoon, "late"));
  EXPECT_EQ(p->stats().rejected_after_close, 1u);
  EXPECT_EQ(jsonLines(dir / "warden-ocsf.log").size(), 12u);
}

TEST(PipelineTest, JsonlTurnsOnAndOffAtRuntimeWithConfigEventsAtTheEdges) {
  TempDir dir;
  ManualClock clock(kNoon);
  auto p = startOrDie(testOptions(dir.path(), clock));
  ASSERT_NE(p, nullptr);
  const auto jsonl = dir / "warden-ocsf.log";
  const auto log = dir / "warden.log";

  p->emit(testEvent(kNoon, "before-on"));
  ASSERT_TRUE(waitFor([&] { return fileContains(log, "before-on"); }));
  EXPECT_FALSE(std::filesystem::exists(jsonl));

  p->setJsonlEnabled(true, 4);
  ASSERT_TRUE(waitFor([&] { return fileContains(jsonl, "enabled"); }));
  p->emit(testEvent(kNoon, "while-on"));
  p->setJsonlEnabled(true, 5);  // no change: records nothing
  p->setJsonlEnabled(false, 6);
  ASSERT_TRUE(waitFor([&] { return fileContains(log, "OCSF JSONL output disabled"); }));
  const auto size_when_off = std::filesystem::file_size(jsonl);
  p->emit(testEvent(kNoon, "while-off"));
  ASSERT_TRUE(waitFor([&] { return fileContains(log, "while-off"); }));
  EXPECT_EQ(std::filesystem::file_size(jsonl), size_when_off);
  p->setJsonlEnabled(true, 7);
  p->emit(testEvent(kNoon, "on-again"));
  ASSERT_TRUE(p->close().ok());

  const auto events = jsonLines(jsonl);
  std::vector<std::string> messages;
  for (const auto& e : events) messages.push_back(e.value("message", ""));
  ASSERT_GE(messages.size(), 6u);
  EXPECT_EQ(messages[0], "OCSF JSONL output enabled");
  EXPECT_EQ(events[0]["class_uid"], 5019);
  EXPECT_EQ(events[0]["unmapped"]["state"], "UPDATED");
  EXPECT_EQ(events[0]["unmapped"]["config_revision"], 4);
  EXPECT_EQ(messages[1], "while-on");
  EXPECT_EQ(messages[2], "OCSF JSONL output disabled");
  EXPECT_EQ(events[2]["unmapped"]["config_revision"], 6);
  EXPECT_EQ(messages[3], "OCSF JSONL output enabled");  // first line after the gap
  EXPECT_EQ(events[3]["unmapped"]["config_revision"], 7);
  EXPECT_EQ(messages[4], "on-again");
  EXPECT_TRUE(isLog(events[5], "Checkpoint"));
  EXPECT_EQ(std::count(messages.begin(), messages.end(), "while-off"), 0);
  // The gap shows as a jump in sequence; everything else is consecutive.
  EXPECT_EQ(events[3]["metadata"]["sequence"].get<uint64_t>(), events[2]["metadata"]["sequence"].get<uint64_t>() + 2);

  // warden.log has every event, the window JSONL missed included.
  const std::string text = warden::testing::readFile(log);
  for (const char* m : {"before-on", "while-on", "while-off", "on-again"}) EXPECT_NE(text.find(m), std::string::npos) << m;
  EXPECT_NE(text.find("CONFIG:UPDATED [INFO] OCSF JSONL output enabled [config_revision:4]"), std::string::npos);
  EXPECT_EQ(fileLines(log).lines.size(), p->stats().last_sequence);
}

// A sink that lets LOG:START's batch through and then holds the writer inside write() until
// drain(): what a stuck output would do if the pipeline did not bound it.
class GateSink final : public Sink {
 public:
  std::string_view name() const override { return "gate"; }
  void write(const SinkBatch&) override {
    std::unique_lock lk(mu_);
    if (writes_++ == 0) return;
    cv_.wait(lk, [&] { return open_; });
  }
  void drain() {
    std::lock_guard lk(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int writes_ = 0;     // Guarded by mu_.
  bool open_ = false;  // Guarded by mu_.
};

TEST(PipelineTest, FullQueueShedsCountsAndReportsLossWithSequenceWindow) {
  TempDir dir;
  ManualClock clock(kNoon);
  auto blocked = std::make_shared<GateSink>();
  auto opt = testOptions(dir.path(), clock);
  opt.jsonl_enabled = true;
  opt.sinks.push_back(blocked);
  opt.queue_capacity = 8;
  opt.backpressure_timeout = std::chrono::milliseconds(0);
  auto p = startOrDie(opt);
  ASSERT_NE(p, nullptr);

  // Emit until the writer is stuck on the pipe and the queue has been full for a while.
  int emitted = 0;
  ASSERT_TRUE(waitFor([&] {
    for (int i = 0; i < 50; ++i) p->emit(testEvent(kNoon, "e" + std::to_string(emitted++)));
    return p->stats().shed >= 100;
  }));
  p->operational(Level::kInfo, "test", "a line while full");
  blocked->drain();
  ASSERT_TRUE(p->close().ok());

  const auto stats = p->stats();
  EXPECT_EQ(stats.emitted, static_cast<uint64_t>(emitted));
  EXPECT_EQ(stats.emitted, stats.written + stats.shed);
  EXPECT_GE(stats.shed, 100u);

  const auto events = jsonLines(dir / "warden-ocsf.log");
  uint64_t reported = 0;
  uint64_t reported_lines = 0;
  uint64_t producer_events = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    ASSERT_EQ(events[i]["metadata"]["sequence"], i + 1);  // shed events never took a number
    if (isLog(events[i], "Loss")) {
      const auto& loss = events[i]["unmapped"]["loss"];
      reported += loss["count"].get<uint64_t>();
      reported_lines += loss.value("operational_lines", uint64_t{0});
      EXPECT_EQ(events[i]["severity_id"], 4);
      EXPECT_LE(loss["first_seq"].get<uint64_t>(), loss["last_seq"].get<uint64_t>());
      EXPECT_EQ(loss["last_seq"].get<uint64_t>() + 1, i + 1) << "the window ends just before the LOSS event";
    }
    if (events[i].value("class_uid", -1) == 0) ++producer_events;
  }
  EXPECT_EQ(reported, stats.shed);
  EXPECT_EQ(reported_lines, stats.operational_shed);
  EXPECT_EQ(producer_events, stats.written);
}

TEST(PipelineTest, EmitWaitsAtMostTheBackpressureTimeoutThenSheds) {
  TempDir dir;
  ManualClock clock(kNoon);
  auto blocked = std::make_shared<GateSink>();
  auto opt = testOptions(dir.path(), clock);
  opt.sinks.push_back(blocked);
  opt.queue_capacity = 4;
  opt.backpressure_timeout = std::chrono::milliseconds(20);
  auto p = startOrDie(opt);
  ASSERT_NE(p, nullptr);
  int n = 0;
  ASSERT_TRUE(waitFor([&] {
    p->emit(testEvent(kNoon, "e" + std::to_string(n++)));
    return p->stats().shed > 0;
  }, std::chrono::seconds(30)));
  const auto t0 = std::chrono::steady_clock::now();
  p->emit(testEvent(kNoon, "one more"));
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(waited, std::chrono::milliseconds(20));
  EXPECT_LT(waited, std::chrono::seconds(5));  // bounded, never forever
  blocked->drain();
  ASSERT_TRUE(p->close().ok());
  EXPECT_EQ(p->stats().emitted, p->stats().written + p->stats().shed);
}

TEST(PipelineTest, OperationalLinesInterleaveInOrderInWardenLogOnly) {
  TempDir dir;
  ManualClock clock(kNoon);
  auto opt = testOptions(dir.path(), clock);
  opt.jsonl_enabled = true;
  auto p = startOrDie(opt);
  ASSERT_NE(p, nullptr);
  p->emit(testEvent(kNoon, "first"));
  p->operational(Level::kWarn, "proxy", "upstream slow\nFAKE 2026 OCSF NET:OPEN");
  p->emit(testEvent(kNoon, "second"));
  p->operational(Level::kDebug, "sandbox", "done");
  ASSERT_TRUE(p->close().ok());

  const auto log = fileLines(dir / "warden.log");
  ASSERT_TRUE(log.complete);
  std::vector<std::string> tail;
  for (const auto& l : log.lines) {
    if (l.find("first") != std::string::npos || l.find("second") != std::string::npos ||
        l.find(" proxy: ") != std::string::npos || l.find(" sandbox: ") != std::string::npos) {
      tail.push_back(l);
    }
  }
  ASSERT_EQ(tail.size(), 4u);
  EXPECT_NE(tail[0].find("OCSF EVENT:TEST [INFO] first"), std::string::npos) << tail[0];
  EXPECT_EQ(tail[1], "2026-11-23T12:00:00.000Z WARN proxy: upstream slow\\u{a}FAKE 2026 OCSF NET:OPEN");
  EXPECT_NE(tail[2].find("second"), std::string::npos);
  EXPECT_EQ(tail[3], "2026-11-23T12:00:00.000Z DEBUG sandbox: done");
  EXPECT_FALSE(fileContains(dir / "warden-ocsf.log", "upstream slow"));
}

TEST(PipelineTest, HostileStringsBecomeExactlyOneLineInEachFile) {
  TempDir dir;
  ManualClock clock(kNoon);
  auto opt = testOptions(dir.path(), clock);
  opt.jsonl_enabled = true;
  auto p = startOrDie(opt);
  ASSERT_NE(p, nullptr);
  const std::string nasty = std::string("line1\nline2\r\0nul \x1b[31m \xff\xfe bad \xc3\x28 \xed\xa0\x80", 40);
  auto e1 = testEvent(kNoon, nasty);
  e1.unmapped.set("note", nasty);
  p->emit(std::move(e1));
  auto e2 = testEvent(kNoon, std::string(1 << 20, 'A') + "\n" + std::string(1000, '\xff'));
  e2.unmapped.set("blob", std::string(1 << 20, '\n'));
  p->emit(std::move(e2));
  p->emit(testEvent(kNoon, "after"));
  ASSERT_TRUE(p->close().ok());

  const auto stats = p->stats();
  const auto log = fileLines(dir / "warden.log");
  EXPECT_TRUE(log.complete);
  EXPECT_EQ(log.lines.size(), stats.last_sequence);
  const auto jl = fileLines(dir / "warden-ocsf.log");
  EXPECT_TRUE(jl.complete);
  ASSERT_EQ(jl.lines.size(), stats.last_sequence);
  for (size_t i = 0; i < jl.lines.size(); ++i) {
    const auto j = nlohmann::json::parse(jl.lines[i], nullptr, false);  // also rejects invalid UTF-8
    ASSERT_FALSE(j.is_discarded()) << "line " << i + 1;
    EXPECT_EQ(j["metadata"]["sequence"], i + 1);
  }
  EXPECT_EQ(nlohmann::json::parse(jl.lines[2])["unmapped"]["blob"].get<std::string>().size(), size_t{1} << 20);
  EXPECT_NE(log.lines[3].find("after"), std::string::npos);
}

TEST(PipelineTest, StartRejectsOptionsItCannotWorkWith) {
  TempDir dir;
  ManualClock clock(kNoon);
  auto opt = testOptions(dir.path(), clock);
  opt.session.session_id.clear();
  auto r = Pipeline::start(opt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);

  auto opt2 = testOptions(dir / "warden.log" / "sub", clock);  // a path under a file
  warden::testing::writeFile(dir / "warden.log", "x");
  auto r2 = Pipeline::start(opt2);
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.error().message().find("log directory"), std::string::npos) << r2.error().toString();
}

TEST(PipelineTest, CreatesPrivateDirectoryAndFiles) {
  TempDir dir;
  ManualClock clock(kNoon);
  auto opt = testOptions(dir / "sessions" / "s1", clock);
  opt.jsonl_enabled = true;
  auto p = startOrDie(opt);
  ASSERT_NE(p, nullptr);
  ASSERT_TRUE(p->close().ok());
  namespace fs = std::filesystem;
  EXPECT_EQ(fs::status(dir / "sessions" / "s1").permissions() & fs::perms::all, fs::perms::owner_all);
  EXPECT_EQ(fs::status(dir / "sessions" / "s1" / "warden.log").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(fs::status(dir / "sessions" / "s1" / "warden-ocsf.log").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
}

// A rough throughput and emit() latency figure for two producers writing both files with chain
// and checkpoints. Printed, not asserted (BENCHMARKS.md numbers come from bench/).
TEST(PipelineTest, TwoProducersThroughputIsReported) {
  TempDir dir;
  auto opt = testOptions(dir.path(), SystemClock::instance());
  opt.jsonl_enabled = true;
  opt.idle_poll = std::chrono::milliseconds(100);
  auto p = startOrDie(opt);
  ASSERT_NE(p, nullptr);
  constexpr int kPerThread = 100000;
  std::vector<std::vector<int64_t>> lat(2);
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> producers;
  for (int t = 0; t < 2; ++t) {
    producers.emplace_back([&, t] {
      lat[t].reserve(kPerThread);
      ocsf::Event proto = testEvent(kNoon, "GET https://api.example.com/v1/items");
      proto.actor = ocsf::Process{.name = "python3", .pid = 42, .uid = 1000, .cmd_line = {}, .file = {},
                                  .working_directory = {}, .parent_process = {}};
      // As a builder would have made it on the producer thread.
      proto.metadata.uid = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
      proto.metadata.correlation_uid = opt.session.session_id;
      proto.device = ocsf::Device{.hostname = "host1", .type_id = 0, .os = {},
                                  .container = ocsf::Container{.name = "agent-7", .uid = opt.session.session_id,
                                                               .image_name = {}}};
      for (int i = 0; i < kPerThread; ++i) {
        ocsf::Event e = proto;
        const auto a = std::chrono::steady_clock::now();
        p->emit(std::move(e));
        lat[t].push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - a).count());
      }
    });
  }
  for (auto& th : producers) th.join();
  ASSERT_TRUE(p->close().ok());
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::vector<int64_t> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  const auto s = p->stats();
  EXPECT_EQ(s.emitted, s.written + s.shed);
  std::printf("[ throughput ] %d events, %.0f events/s to close(), emit p50 %lld ns p99 %lld ns, shed %llu\n",
              2 * kPerThread, 2 * kPerThread / secs, static_cast<long long>(all[all.size() / 2]),
              static_cast<long long>(all[all.size() * 99 / 100]), static_cast<unsigned long long>(s.shed));
}

}  // namespace
}  // namespace warden::audit
