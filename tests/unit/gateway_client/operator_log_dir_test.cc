// `warden logs --log-dir`: reading a session's log directory (rotated files, then the live one),
// filtering like the gateway, telling a JSONL event's class, and following the live file across
// appends, rotation and truncation until the stop descriptor fires.

#include "gateway/client/operator_log_dir.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "ocsf/enums.h"
#include "ocsf/jsonl_formatter.h"
#include "ocsf/samples.h"
#include "support/test_env.h"

namespace warden::gateway {
namespace {

using ::testing::ElementsAre;
using warden::testing::TempDir;
using warden::testing::waitFor;

void append(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::app | std::ios::binary);
  out << text;
}

std::vector<std::string> readAll(const std::filesystem::path& dir, LogDirFormat format,
                                 LogDirFilter filter = {}) {
  auto reader = LogDirReader::open(dir, format, std::move(filter));
  EXPECT_TRUE(reader.ok());
  std::vector<std::string> lines;
  if (!reader.ok()) return lines;
  const auto r = reader->readAll([&](std::string_view l) { lines.emplace_back(l); });
  EXPECT_TRUE(r.ok()) << r.error().toString();
  return lines;
}

constexpr const char* kRotated =
    "2026-11-22T10:00:00.000Z OCSF LOG:START [INFO] [key:8049]\n"
    "2026-11-22T10:00:01.000Z INFO supervisor: an operational line, not an event\n"
    "2026-11-22T10:00:02.000Z OCSF NET:CONNECT [HIGH] DENIED curl(3) -> evil.test:443\n";
constexpr const char* kLive =
    "2026-11-23T10:00:00.000Z OCSF HTTP:GET [INFO] ALLOWED curl(3) -> GET https://api.test/\n"
    "2026-11-23T10:00:01.000Z OCSF NET:CONNECT [LOW] ALLOWED curl(3) -> api.test:443\n";

TEST(LogDirReaderTest, ReadsRotatedFilesThenTheLiveOneAndOnlyEvents) {
  TempDir dir;
  append(dir / "warden.log.2026-11-22", kRotated);
  append(dir / "warden.log", kLive);
  append(dir / "warden-ocsf.log", "{\"class_uid\":4001}\n");  // another family: never read
  const auto lines = readAll(dir.path(), LogDirFormat::kShorthand);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_THAT(lines[0], ::testing::HasSubstr("LOG:START"));
  EXPECT_THAT(lines[1], ::testing::HasSubstr("NET:CONNECT [HIGH]"));
  EXPECT_THAT(lines[3], ::testing::HasSubstr("NET:CONNECT [LOW]"));
}

TEST(LogDirReaderTest, FiltersByClassLevelAndTime) {
  TempDir dir;
  append(dir / "warden.log.2026-11-22", kRotated);
  append(dir / "warden.log", kLive);
  LogDirFilter net;
  net.classes = {"NET"};
  EXPECT_EQ(readAll(dir.path(), LogDirFormat::kShorthand, net).size(), 2u);
  LogDirFilter high;
  high.min_severity = 4;
  EXPECT_THAT(
      readAll(dir.path(), LogDirFormat::kShorthand, high),
      ElementsAre("2026-11-22T10:00:02.000Z OCSF NET:CONNECT [HIGH] DENIED curl(3) -> evil.test:443"));
  LogDirFilter recent;
  recent.since_ms = 1795428000000;  // 2026-11-23T10:00:00.000Z
  EXPECT_EQ(readAll(dir.path(), LogDirFormat::kShorthand, recent).size(), 2u);
  recent.since_ms += 1;
  EXPECT_EQ(readAll(dir.path(), LogDirFormat::kShorthand, recent).size(), 1u);
}

TEST(LogDirReaderTest, AnUnterminatedLastLineIsNotHandedOver) {
  TempDir dir;
  append(dir / "warden.log", std::string(kLive) + "2026-11-23T10:00:02.000Z OCSF NET:CONN");
  EXPECT_EQ(readAll(dir.path(), LogDirFormat::kShorthand).size(), 2u);
}

TEST(LogDirReaderTest, AMissingDirectoryIsNotFound) {
  auto r = LogDirReader::open("/nonexistent/warden-logs", LogDirFormat::kShorthand, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kNotFound);
}

TEST(LogDirReaderTest, HasFilesOnlyWhenTheFamilyExists) {
  TempDir dir;
  append(dir / "warden.log", kLive);
  EXPECT_TRUE(LogDirReader::open(dir.path(), LogDirFormat::kShorthand, {})->hasFiles());
  EXPECT_FALSE(LogDirReader::open(dir.path(), LogDirFormat::kJson, {})->hasFiles());
}

TEST(JsonEventClassTest, TellsEverySampleEventsFamilyFromItsJson) {
  const auto samples = ocsf::sampleOfEveryEvent(ocsf::sampleContext());
  ASSERT_FALSE(samples.empty());
  for (const ocsf::Event& e : samples) {
    std::string line;
    ocsf::appendJsonl(line, e);
    while (!line.empty() && line.back() == '\n') line.pop_back();
    EXPECT_EQ(jsonEventClass(line), ocsf::kindPrefix(e.kind)) << line.substr(0, 200);
  }
  EXPECT_EQ(jsonEventClass("not json"), "");
  EXPECT_EQ(jsonEventClass("[1,2]"), "");
}

TEST(LogDirReaderTest, JsonLinesAreFilteredByTheirOwnFields) {
  TempDir dir;
  const auto samples = ocsf::sampleOfEveryEvent(ocsf::sampleContext());
  std::string text;
  size_t net = 0;
  for (const ocsf::Event& e : samples) {
    ocsf::appendJsonl(text, e);
    if (text.back() != '\n') text += '\n';
    net += e.kind == ocsf::Kind::kNet ? 1 : 0;
  }
  append(dir / "warden-ocsf.log", text + "not json\n");
  EXPECT_EQ(readAll(dir.path(), LogDirFormat::kJson).size(), samples.size());
  LogDirFilter f;
  f.classes = {"NET"};
  EXPECT_EQ(readAll(dir.path(), LogDirFormat::kJson, f).size(), net);
}

// Collects followed lines from the follow thread.
struct Collected {
  std::mutex mu;
  std::vector<std::string> lines;  // Guarded by mu.
  size_t size() {
    std::lock_guard lock(mu);
    return lines.size();
  }
  std::vector<std::string> copy() {
    std::lock_guard lock(mu);
    return lines;
  }
};

TEST(LogDirReaderTest, FollowSeesAppendsRotationAndTruncationUntilStopped) {
  TempDir dir;
  const auto live = dir / "warden.log";
  append(live, kLive);
  auto reader = LogDirReader::open(dir.path(), LogDirFormat::kShorthand, {});
  ASSERT_TRUE(reader.ok());
  Collected got;
  auto collect = [&](std::string_view l) {
    std::lock_guard lock(got.mu);
    got.lines.emplace_back(l);
  };
  ASSERT_TRUE(reader->readAll(collect).ok());
  ASSERT_EQ(got.size(), 2u);

  UniqueFd stop(::eventfd(0, EFD_CLOEXEC));
  auto follow = std::async(std::launch::async, [&] { return reader->follow(collect, stop.get()); });

  append(live, "2026-11-23T10:00:02.000Z OCSF DNS:QUERY [INFO] curl(3) ");  // half a line
  append(live, "api.test A\n");
  ASSERT_TRUE(waitFor([&] { return got.size() == 3; })) << got.size();
  EXPECT_EQ(got.copy()[2], "2026-11-23T10:00:02.000Z OCSF DNS:QUERY [INFO] curl(3) api.test A");

  // Rotation: the live file renamed (one more line reaches it first), a new one created.
  append(live, "2026-11-23T23:59:59.000Z OCSF LOG:CHECKPOINT [INFO] [seq:1-9]\n");
  std::filesystem::rename(live, dir / "warden.log.2026-11-23");
  append(live, "2026-11-24T00:00:00.000Z OCSF FILE:WRITE [INFO] sh(4) /tmp/a\n");
  ASSERT_TRUE(waitFor([&] { return got.size() == 5; })) << got.size();
  EXPECT_THAT(got.copy()[3], ::testing::HasSubstr("LOG:CHECKPOINT"));
  EXPECT_THAT(got.copy()[4], ::testing::HasSubstr("FILE:WRITE"));

  // Truncation: read again from the start.
  std::filesystem::resize_file(live, 0);
  append(live, "2026-11-24T00:00:01.000Z OCSF PROC:LAUNCH [INFO] sh(5)\n");
  ASSERT_TRUE(waitFor([&] { return got.size() == 6; })) << got.size();
  EXPECT_THAT(got.copy()[5], ::testing::HasSubstr("PROC:LAUNCH"));

  const uint64_t one = 1;
  ASSERT_EQ(::write(stop.get(), &one, sizeof one), static_cast<ssize_t>(sizeof one));
  ASSERT_EQ(follow.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  const auto r = follow.get();
  EXPECT_TRUE(r.ok()) << r.error().toString();
  EXPECT_EQ(got.size(), 6u);
}

TEST(LogDirReaderTest, FollowWaitsForALiveFileThatDoesNotExistYet) {
  TempDir dir;
  auto reader = LogDirReader::open(dir.path(), LogDirFormat::kShorthand, {});
  ASSERT_TRUE(reader.ok());
  Collected got;
  auto collect = [&](std::string_view l) {
    std::lock_guard lock(got.mu);
    got.lines.emplace_back(l);
  };
  ASSERT_TRUE(reader->readAll(collect).ok());
  UniqueFd stop(::eventfd(0, EFD_CLOEXEC));
  auto follow = std::async(std::launch::async, [&] { return reader->follow(collect, stop.get()); });
  append(dir / "warden.log", kLive);
  ASSERT_TRUE(waitFor([&] { return got.size() == 2; })) << got.size();
  const uint64_t one = 1;
  ASSERT_EQ(::write(stop.get(), &one, sizeof one), static_cast<ssize_t>(sizeof one));
  ASSERT_EQ(follow.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_TRUE(follow.get().ok());
}

}  // namespace
}  // namespace warden::gateway
