// Rotation, pruning and write failures of the audit pipeline's files.

#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "audit/log_file.h"
#include "audit/pipeline.h"
#include "audit_test_util.h"
#include "support/test_env.h"

namespace warden::audit {
namespace {

namespace fs = std::filesystem;
using testutil::ErrorSink;
using testutil::fileContains;
using testutil::fileLines;
using testutil::isLog;
using testutil::jsonLines;
using testutil::kNoon;
using testutil::testEvent;
using testutil::testOptions;
using warden::testing::TempDir;
using warden::testing::waitFor;

// 2026-11-23T23:59:59.000Z
constexpr int64_t kBeforeMidnight = 1795478399000;

std::vector<std::string> namesIn(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(PipelineRotationTest, RotatesBothFamiliesAtUtcMidnight) {
  TempDir dir;
  ManualClock clock(kBeforeMidnight);
  auto opt = testOptions(dir.path(), clock);
  opt.jsonl_enabled = true;
  auto p = Pipeline::start(opt);
  ASSERT_TRUE(p.ok()) << p.error().toString();
  (*p)->emit(testEvent(kBeforeMidnight, "late-on-the-23rd"));
  ASSERT_TRUE(waitFor([&] { return fileContains(dir / "warden-ocsf.log", "late-on-the-23rd"); }));

  clock.advanceMillis(1500);  // 2026-11-24T00:00:00.500Z
  ASSERT_TRUE(waitFor([&] { return fs::exists(dir / "warden-ocsf.log.2026-11-23"); }));
  (*p)->emit(testEvent(kBeforeMidnight + 1500, "early-on-the-24th"));
  ASSERT_TRUE((*p)->close().ok());

  EXPECT_TRUE(fileContains(dir / "warden.log.2026-11-23", "late-on-the-23rd"));
  EXPECT_TRUE(fileContains(dir / "warden-ocsf.log.2026-11-23", "late-on-the-23rd"));
  EXPECT_FALSE(fileContains(dir / "warden.log", "late-on-the-23rd"));
  EXPECT_TRUE(fileContains(dir / "warden.log", "early-on-the-24th"));

  // The new files start with LOG:ROTATE, which names what moved where; the chain runs on.
  const auto events = jsonLines(dir / "warden-ocsf.log");
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events[0]["class_uid"], 1008);
  EXPECT_EQ(events[0]["activity_id"], 5);
  EXPECT_EQ(events[0]["unmapped"]["rotation"]["reason"], "daily");
  EXPECT_EQ(events[0]["unmapped"]["rotation"]["files"][0]["rotated_to"], "warden.log.2026-11-23");
  EXPECT_EQ(events[0]["unmapped"]["rotation"]["files"][1]["rotated_to"], "warden-ocsf.log.2026-11-23");
  const auto old_events = jsonLines(dir / "warden-ocsf.log.2026-11-23");
  EXPECT_EQ(events[0]["metadata"]["sequence"].get<uint64_t>(),
            old_events.back()["metadata"]["sequence"].get<uint64_t>() + 1);
  EXPECT_NE(fileLines(dir / "warden.log").lines.front().find("LOG:ROTATE"), std::string::npos);
  EXPECT_EQ((*p)->stats().rotations, 1u);
}

TEST(PipelineRotationTest, RotatesBySizeKeepsThreeFilesAndNeverTouchesTheOtherFamily) {
  TempDir dir;
  ManualClock clock(kNoon);
  // The other family's rotated files, and names that only look alike.
  for (const char* name : {"warden-ocsf.log.2026-11-01", "warden-ocsf.log.2026-11-02", "warden-ocsf.log.2026-11-03",
                           "warden-ocsf.log.2026-11-04", "warden.log.bak", "warden.log.2026-11-23.x",
                           "warden.log.2026-1-23"}) {
    warden::testing::writeFile(dir / name, "keep me\n");
  }
  auto opt = testOptions(dir.path(), clock);
  opt.rotate_max_bytes = 150;  // smaller than one event line, larger than none
  auto p = Pipeline::start(opt);
  ASSERT_TRUE(p.ok()) << p.error().toString();
  for (int i = 0; i < 6; ++i) {
    (*p)->emit(testEvent(kNoon, "burst " + std::to_string(i) + " " + std::string(200, 'x')));
    ASSERT_TRUE(waitFor([&] { return (*p)->stats().rotations == static_cast<uint64_t>(i + 1); })) << i;
  }
  ASSERT_TRUE((*p)->close().ok());

  const auto names = namesIn(dir.path());
  const std::vector<std::string> expected = {
      "warden-ocsf.log.2026-11-01", "warden-ocsf.log.2026-11-02", "warden-ocsf.log.2026-11-03",
      "warden-ocsf.log.2026-11-04", "warden.log",                 "warden.log.2026-1-23",
      "warden.log.2026-11-23.3",    "warden.log.2026-11-23.4",    "warden.log.2026-11-23.5",
      "warden.log.2026-11-23.x",    "warden.log.bak"};
  EXPECT_EQ(names, expected);
  EXPECT_TRUE(fileContains(dir / "warden.log.2026-11-23.5", "burst 5"));
  EXPECT_EQ((*p)->stats().rotations, 6u);
  // Closing does not rotate after the final checkpoint: it stays the session's last line.
  const auto live = fileLines(dir / "warden.log").lines;
  ASSERT_FALSE(live.empty());
  EXPECT_NE(live.back().find("LOG:CHECKPOINT"), std::string::npos) << live.back();
  EXPECT_NE(live.back().find("final:true"), std::string::npos) << live.back();
}

TEST(PipelineRotationTest, PruningTheJsonlFamilyLeavesWardenLogFilesAlone) {
  TempDir dir;
  ManualClock clock(kNoon);
  for (const char* name : {"warden.log.2026-11-01", "warden.log.2026-11-02"}) {
    warden::testing::writeFile(dir / name, "keep me\n");
  }
  for (int i = 1; i <= 5; ++i) warden::testing::writeFile(dir / ("warden-ocsf.log.2026-10-0" + std::to_string(i)), "x\n");
  ASSERT_TRUE(LogFile::open(dir.path(), "warden-ocsf.log", 0).ok());
  auto f = LogFile::open(dir.path(), "warden-ocsf.log", 0);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->prune(3), 2u);
  EXPECT_TRUE(fs::exists(dir / "warden.log.2026-11-01"));
  EXPECT_TRUE(fs::exists(dir / "warden.log.2026-11-02"));
  EXPECT_FALSE(fs::exists(dir / "warden-ocsf.log.2026-10-01"));
  EXPECT_FALSE(fs::exists(dir / "warden-ocsf.log.2026-10-02"));
  EXPECT_TRUE(fs::exists(dir / "warden-ocsf.log.2026-10-05"));
}

TEST(LogFileTest, RotatedFilesSortByDateThenSuffix) {
  TempDir dir;
  for (const char* name : {"warden.log.2026-11-23.10", "warden.log.2026-11-23.2", "warden.log.2026-11-23",
                           "warden.log.2026-11-22.1", "warden.log.2026-11-24"}) {
    warden::testing::writeFile(dir / name, "x\n");
  }
  std::vector<std::string> order;
  for (const auto& path : LogFile::rotatedFiles(dir.path(), "warden.log")) order.push_back(path.filename().string());
  EXPECT_EQ(order, (std::vector<std::string>{"warden.log.2026-11-22.1", "warden.log.2026-11-23", "warden.log.2026-11-23.2",
                                             "warden.log.2026-11-23.10", "warden.log.2026-11-24"}));
}

TEST(LogFileTest, StartsAFreshLineAfterAPartialLineLeftByACrash) {
  TempDir dir;
  warden::testing::writeFile(dir / "warden.log", "complete\npartial");
  auto f = LogFile::open(dir.path(), "warden.log", 1 << 20);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->append("next\n"), LogFile::WriteOutcome::kOk);
  EXPECT_EQ(warden::testing::readFile(dir / "warden.log"), "complete\npartial\nnext\n");
}

// A small tmpfs mounted for the test; unmounted when it dies.
class SmallTmpfs {
 public:
  explicit SmallTmpfs(const fs::path& where, std::string_view size) : path_(where) {
    fs::create_directories(where);
    const std::string opts = "size=" + std::string(size) + ",mode=0700";
    mounted_ = ::mount("tmpfs", where.c_str(), "tmpfs", 0, opts.c_str()) == 0;
    if (!mounted_) error_ = std::strerror(errno);
  }
  ~SmallTmpfs() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  fs::path path_;
  bool mounted_ = false;
  std::string error_;
};

TEST(PipelineWriteFailureTest, FullDiskKeepsCompleteLinesAndReportsRecovery) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount a tmpfs";
  TempDir dir;
  SmallTmpfs tmpfs(dir / "mnt", "256k");
  if (!tmpfs.mounted()) GTEST_SKIP() << "cannot mount tmpfs: " << tmpfs.error();
  const fs::path logs = dir / "mnt";
  // Fill most of the disk so the logs hit the limit after a few dozen events.
  warden::testing::writeFile(logs / "filler", std::string(200 * 1024, 'f'));

  ManualClock clock(kNoon);
  ErrorSink errors;
  auto opt = testOptions(logs, clock, &errors);
  opt.jsonl_enabled = true;
  auto p = Pipeline::start(opt);
  ASSERT_TRUE(p.ok()) << p.error().toString();
  int n = 0;
  ASSERT_TRUE(waitFor([&] {
    (*p)->emit(testEvent(kNoon, "event " + std::to_string(n++) + " " + std::string(300, 'y')));
    return (*p)->stats().write_failures > 0;
  }));
  // A few more while the disk is full: held in memory.
  for (int i = 0; i < 20; ++i) (*p)->emit(testEvent(kNoon, "while-full " + std::to_string(i)));
  ASSERT_TRUE(waitFor([&] { return (*p)->stats().written == static_cast<uint64_t>(n + 20); }));

  // A clear error, and only complete lines in both files.
  EXPECT_NE(errors.joined().find("No space left on device"), std::string::npos) << errors.joined();
  for (const char* name : {"warden.log", "warden-ocsf.log"}) {
    const auto lines = fileLines(logs / name);
    EXPECT_TRUE(lines.complete) << name;
  }
  for (const auto& j : jsonLines(logs / "warden-ocsf.log")) ASSERT_FALSE(j.is_discarded());

  // Space returns: the held lines go out and a LOG event says what happened.
  fs::remove(logs / "filler");
  ASSERT_TRUE(waitFor([&] { return fileContains(logs / "warden-ocsf.log", "\"Write Recovered\""); }));
  ASSERT_TRUE((*p)->close().ok());

  const auto events = jsonLines(logs / "warden-ocsf.log");
  bool saw_recovered = false;
  uint64_t prev_seq = 0;
  for (const auto& j : events) {
    ASSERT_FALSE(j.is_discarded());
    const uint64_t seq = j["metadata"]["sequence"];
    EXPECT_EQ(seq, prev_seq + 1) << "nothing lost: the memory bound was not reached";
    prev_seq = seq;
    if (isLog(j, "Write Recovered") && j["unmapped"]["write_failure"]["file"] == "warden-ocsf.log") {
      saw_recovered = true;
      EXPECT_GT(j["unmapped"]["write_failure"]["lines_delayed"].get<uint64_t>(), 0u);
      EXPECT_EQ(j["unmapped"]["write_failure"]["lines_lost"], 0);
      EXPECT_EQ(j["unmapped"]["write_failure"]["error"], "No space left on device");
    }
  }
  EXPECT_TRUE(saw_recovered);
  EXPECT_TRUE(fileLines(logs / "warden.log").complete);
  EXPECT_TRUE(fileContains(logs / "warden.log", "ERROR audit:"));
  EXPECT_EQ((*p)->stats().lines_lost, 0u);
}

TEST(PipelineWriteFailureTest, LinesBeyondTheMemoryBoundAreCountedAndCloseReportsDataLoss) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount a tmpfs";
  TempDir dir;
  SmallTmpfs tmpfs(dir / "mnt", "64k");
  if (!tmpfs.mounted()) GTEST_SKIP() << "cannot mount tmpfs: " << tmpfs.error();
  const fs::path logs = dir / "mnt";
  warden::testing::writeFile(logs / "filler", std::string(60 * 1024, 'f'));

  ManualClock clock(kNoon);
  ErrorSink errors;
  auto opt = testOptions(logs, clock, &errors);
  opt.max_pending_bytes = 4096;
  auto p = Pipeline::start(opt);
  ASSERT_TRUE(p.ok()) << p.error().toString();
  for (int i = 0; i < 200; ++i) (*p)->emit(testEvent(kNoon, "event " + std::to_string(i) + " " + std::string(200, 'z')));
  ASSERT_TRUE(waitFor([&] { return (*p)->stats().lines_lost > 0; }));
  auto closed = (*p)->close();
  ASSERT_FALSE(closed.ok());
  EXPECT_EQ(closed.error().code(), Code::kDataLoss);
  EXPECT_NE(closed.error().message().find("warden.log"), std::string::npos) << closed.error().toString();
  EXPECT_TRUE(fileLines(logs / "warden.log").complete);
}

}  // namespace
}  // namespace warden::audit
