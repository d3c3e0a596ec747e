#include "audit/spool.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "audit/spool_format.h"
#include "support/test_env.h"

namespace warden::audit {
namespace {

using ::testing::HasSubstr;
using warden::testing::TempDir;

SpooledEvent event(uint64_t seq) {
  return SpooledEvent{seq, fmt::format(R"({{"metadata":{{"sequence":{}}},"message":"event {}"}})", seq, seq),
                      fmt::format("2026-11-23T00:00:00Z [INFO] EVENT other #{}", seq)};
}

std::vector<SpooledEvent> events(uint64_t first, uint64_t last) {
  std::vector<SpooledEvent> out;
  for (uint64_t s = first; s <= last; ++s) out.push_back(event(s));
  return out;
}

std::vector<uint64_t> sequences(const std::vector<SpooledEvent>& evs) {
  std::vector<uint64_t> out;
  for (const auto& e : evs) out.push_back(e.sequence);
  return out;
}

std::vector<uint64_t> range(uint64_t first, uint64_t last) {
  std::vector<uint64_t> out;
  for (uint64_t s = first; s <= last; ++s) out.push_back(s);
  return out;
}

std::vector<std::filesystem::path> segmentFiles(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".seg") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

class SpoolTest : public ::testing::Test {
 protected:
  SpoolOptions options(uint64_t segment_bytes = 8 << 20) const {
    SpoolOptions o;
    o.dir = tmp_.path() / "spool";
    o.segment_bytes = segment_bytes;
    return o;
  }
  std::unique_ptr<Spool> open(SpoolOptions o, std::vector<std::string>* notes = nullptr) {
    auto s = Spool::open(std::move(o), notes);
    EXPECT_TRUE(s.ok()) << s.error().toString();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  std::vector<SpooledEvent> all(Spool& s, uint64_t after = 0) {
    auto p = s.pending(after, SIZE_MAX, SIZE_MAX);
    EXPECT_TRUE(p.ok()) << p.error().toString();
    return p.ok() ? *p : std::vector<SpooledEvent>{};
  }

  TempDir tmp_;
};

TEST_F(SpoolTest, RoundTripsEventsInOrder) {
  auto spool = open(options());
  ASSERT_TRUE(spool);
  auto batch = events(1, 50);
  batch[7].shorthand.clear();
  batch[8].json = std::string("bin\0ary\n", 8);
  ASSERT_TRUE(spool->append(batch).ok());
  EXPECT_EQ(all(*spool), batch);
  EXPECT_EQ(spool->lastSequence(), 50u);
  EXPECT_EQ(spool->ackedSequence(), 0u);
  EXPECT_GT(spool->bytesOnDisk(), 0u);
  struct stat st {};
  ASSERT_EQ(::stat((tmp_.path() / "spool").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_F(SpoolTest, PendingHonoursAfterAndLimits) {
  auto spool = open(options(4096));
  ASSERT_TRUE(spool);
  ASSERT_TRUE(spool->append(events(1, 300)).ok());
  auto p = spool->pending(120, 10, SIZE_MAX);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(sequences(*p), range(121, 130));
  const size_t one = event(121).json.size() + event(121).shorthand.size();
  p = spool->pending(120, 100, one * 3);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(sequences(*p), range(121, 123));
  p = spool->pending(120, 100, 1);  // always at least one record
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(sequences(*p), range(121, 121));
  p = spool->pending(300, 100, SIZE_MAX);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->empty());
}

TEST_F(SpoolTest, AckDeletesFullyAcknowledgedSegmentsOnly) {
  auto spool = open(options(4096));
  ASSERT_TRUE(spool);
  ASSERT_TRUE(spool->append(events(1, 200)).ok());
  const auto before = segmentFiles(tmp_.path() / "spool");
  ASSERT_GT(before.size(), 3u);
  const uint64_t bytes_before = spool->bytesOnDisk();

  ASSERT_TRUE(spool->ack(100).ok());
  EXPECT_EQ(spool->ackedSequence(), 100u);
  const auto after = segmentFiles(tmp_.path() / "spool");
  EXPECT_LT(after.size(), before.size());
  EXPECT_LT(spool->bytesOnDisk(), bytes_before);
  EXPECT_EQ(sequences(all(*spool)), range(101, 200));  // pending skips the acknowledged
  // The remaining segments still hold everything unacknowledged (first kept segment starts <= 101).
  const auto first_kept = std::stoull(after.front().stem().string());
  EXPECT_LE(first_kept, 101u);

  ASSERT_TRUE(spool->ack(200).ok());
  EXPECT_TRUE(segmentFiles(tmp_.path() / "spool").empty());
  EXPECT_EQ(spool->bytesOnDisk(), 0u);
  EXPECT_TRUE(all(*spool).empty());
  // Appending continues in a fresh segment.
  ASSERT_TRUE(spool->append(events(201, 205)).ok());
  EXPECT_EQ(sequences(all(*spool)), range(201, 205));
}

TEST_F(SpoolTest, AckBeyondLastSequenceIsOutOfRangeAndOldAckIsNoOp) {
  auto spool = open(options());
  ASSERT_TRUE(spool);
  ASSERT_TRUE(spool->append(events(1, 10)).ok());
  auto r = spool->ack(11);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kOutOfRange);
  ASSERT_TRUE(spool->ack(5).ok());
  ASSERT_TRUE(spool->ack(3).ok());
  EXPECT_EQ(spool->ackedSequence(), 5u);
}

TEST_F(SpoolTest, RestartContinuesWhereItWas) {
  {
    auto spool = open(options(4096));
    ASSERT_TRUE(spool);
    ASSERT_TRUE(spool->append(events(1, 100)).ok());
    ASSERT_TRUE(spool->ack(40).ok());
  }
  std::vector<std::string> notes;
  auto spool = open(options(4096), &notes);
  ASSERT_TRUE(spool);
  EXPECT_TRUE(notes.empty()) << notes.front();
  EXPECT_EQ(spool->ackedSequence(), 40u);
  EXPECT_EQ(spool->lastSequence(), 100u);
  EXPECT_EQ(sequences(all(*spool)), range(41, 100));  // replay starts after the ack
  auto dup = spool->append(events(100, 100));
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code(), Code::kInvalidArgument);
  ASSERT_TRUE(spool->append(events(101, 120)).ok());
  EXPECT_EQ(all(*spool, 99), events(100, 120));
}

TEST_F(SpoolTest, RestartAfterEverythingAcknowledgedKeepsLastSequence) {
  {
    auto spool = open(options());
    ASSERT_TRUE(spool);
    ASSERT_TRUE(spool->append(events(1, 10)).ok());
    ASSERT_TRUE(spool->ack(10).ok());
  }
  auto spool = open(options());
  ASSERT_TRUE(spool);
  EXPECT_EQ(spool->lastSequence(), 10u);
  EXPECT_FALSE(spool->append(events(10, 10)).ok());
  EXPECT_TRUE(spool->append(events(11, 11)).ok());
}

TEST_F(SpoolTest, SecondOpenOfSameDirectoryIsRefused) {
  auto first = open(options());
  ASSERT_TRUE(first);
  auto second = Spool::open(options());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code(), Code::kFailedPrecondition);
  EXPECT_THAT(second.error().message(), HasSubstr("in use"));
}

TEST_F(SpoolTest, TornTailIsCutBackWithANote) {
  {
    auto spool = open(options());
    ASSERT_TRUE(spool);
    ASSERT_TRUE(spool->append(events(1, 20)).ok());
  }
  const auto segs = segmentFiles(tmp_.path() / "spool");
  ASSERT_EQ(segs.size(), 1u);
  const auto size = std::filesystem::file_size(segs[0]);
  std::filesystem::resize_file(segs[0], size - 7);  // cut inside record 20

  std::vector<std::string> notes;
  auto spool = open(options(), &notes);
  ASSERT_TRUE(spool);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_THAT(notes[0], HasSubstr("torn tail"));
  EXPECT_THAT(notes[0], HasSubstr("after sequence 19"));
  EXPECT_EQ(sequences(all(*spool)), range(1, 19));
  EXPECT_EQ(spool->lastSequence(), 19u);
  EXPECT_LT(std::filesystem::file_size(segs[0]), size - 7);  // the cut bytes are gone from disk
  ASSERT_TRUE(spool->append(events(20, 21)).ok());            // and appending resumes cleanly
  spool.reset();
  notes.clear();
  spool = open(options(), &notes);
  ASSERT_TRUE(spool);
  EXPECT_TRUE(notes.empty());
  EXPECT_EQ(sequences(all(*spool)), range(1, 21));
}

TEST_F(SpoolTest, GarbageTailAfterLastRecordIsTornNotFatal) {
  {
    auto spool = open(options());
    ASSERT_TRUE(spool);
    ASSERT_TRUE(spool->append(events(1, 5)).ok());
  }
  const auto seg = segmentFiles(tmp_.path() / "spool").at(0);
  auto content = warden::testing::readFile(seg);
  warden::testing::writeFile(seg, content + std::string(4096, '\0'));  // zero-filled blocks after power loss
  std::vector<std::string> notes;
  auto spool = open(options(), &notes);
  ASSERT_TRUE(spool);
  EXPECT_EQ(notes.size(), 1u);
  EXPECT_EQ(sequences(all(*spool)), range(1, 5));
}

TEST_F(SpoolTest, CorruptMiddleRecordIsDataLossNamingSegmentAndOffset) {
  {
    auto spool = open(options());
    ASSERT_TRUE(spool);
    ASSERT_TRUE(spool->append(events(1, 10)).ok());
  }
  const auto seg = segmentFiles(tmp_.path() / "spool").at(0);
  auto content = warden::testing::readFile(seg);
  // Record 4 starts after the magic and three records.
  size_t offset = kSpoolSegmentMagic.size();
  for (uint64_t s = 1; s <= 3; ++s) offset += encodedSpoolRecordBytes(event(s));
  content[offset + kSpoolRecordHeaderBytes + 5] ^= 0x20;  // flip a bit in record 4's JSON
  warden::testing::writeFile(seg, content);

  auto spool = Spool::open(options());
  ASSERT_FALSE(spool.ok());
  EXPECT_EQ(spool.error().code(), Code::kDataLoss);
  EXPECT_THAT(spool.error().message(), HasSubstr(seg.string()));
  EXPECT_THAT(spool.error().message(), HasSubstr(fmt::format("offset {}", offset)));
  EXPECT_THAT(spool.error().message(), HasSubstr("checksum"));
}

TEST_F(SpoolTest, CutInASegmentBeforeTheLastIsDataLoss) {
  {
    auto spool = open(options(4096));
    ASSERT_TRUE(spool);
    ASSERT_TRUE(spool->append(events(1, 100)).ok());
  }
  const auto segs = segmentFiles(tmp_.path() / "spool");
  ASSERT_GE(segs.size(), 2u);
  std::filesystem::resize_file(segs[0], std::filesystem::file_size(segs[0]) - 3);
  auto spool = Spool::open(options(4096));
  ASSERT_FALSE(spool.ok());
  EXPECT_EQ(spool.error().code(), Code::kDataLoss);
  EXPECT_THAT(spool.error().message(), HasSubstr(segs[0].string()));
  EXPECT_THAT(spool.error().message(), HasSubstr("later segments exist"));
}

TEST_F(SpoolTest, DamagedAckFileReplaysEverythingWithANote) {
  {
    auto spool = open(options());
    ASSERT_TRUE(spool);
    ASSERT_TRUE(spool->append(events(1, 10)).ok());
    ASSERT_TRUE(spool->ack(6).ok());
  }
  auto content = warden::testing::readFile(tmp_.path() / "spool" / "ack");
  content[content.find('6')] = '9';  // the checksum no longer matches
  warden::testing::writeFile(tmp_.path() / "spool" / "ack", content);
  std::vector<std::string> notes;
  auto spool = open(options(), &notes);
  ASSERT_TRUE(spool);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_THAT(notes[0], HasSubstr("ack file"));
  EXPECT_EQ(spool->ackedSequence(), 0u);
  EXPECT_EQ(sequences(all(*spool)), range(1, 10));  // duplicates at the gateway are harmless; loss is not
}

TEST_F(SpoolTest, NonIncreasingSequenceIsRejectedAndNothingWritten) {
  auto spool = open(options());
  ASSERT_TRUE(spool);
  ASSERT_TRUE(spool->append(events(1, 3)).ok());
  const uint64_t bytes = spool->bytesOnDisk();
  for (const auto& bad : {std::vector<SpooledEvent>{event(3)}, std::vector<SpooledEvent>{event(2)},
                          std::vector<SpooledEvent>{event(4), event(6), event(5)},
                          std::vector<SpooledEvent>{event(4), event(4)}}) {
    auto r = spool->append(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
    EXPECT_THAT(r.error().message(), HasSubstr("not greater"));
  }
  EXPECT_EQ(spool->bytesOnDisk(), bytes);
  EXPECT_EQ(spool->lastSequence(), 3u);
  auto zero = Spool::open(SpoolOptions{});  // and a spool needs a directory
  EXPECT_FALSE(zero.ok());
}

TEST_F(SpoolTest, MaxBytesIsResourceExhaustedUntilAcknowledged) {
  auto o = options(4096);
  o.max_bytes = 16 * 1024;
  auto spool = open(o);
  ASSERT_TRUE(spool);
  uint64_t seq = 0;
  Result<void> r = okResult();
  while ((r = spool->append(events(seq + 1, seq + 10))).ok()) seq += 10;
  EXPECT_EQ(r.error().code(), Code::kResourceExhausted);
  EXPECT_THAT(r.error().message(), HasSubstr("max_bytes"));
  EXPECT_LE(spool->bytesOnDisk(), o.max_bytes);
  EXPECT_EQ(spool->lastSequence(), seq);          // the refused batch left nothing behind
  EXPECT_EQ(sequences(all(*spool)), range(1, seq));
  ASSERT_TRUE(spool->ack(seq / 2).ok());         // acknowledging frees segments
  EXPECT_TRUE(spool->append(events(seq + 1, seq + 10)).ok());
}

TEST_F(SpoolTest, OversizedRecordIsInvalidArgument) {
  auto spool = open(options());
  ASSERT_TRUE(spool);
  SpooledEvent big{1, std::string(kMaxSpoolPayloadBytes + 1, 'x'), ""};
  auto r = spool->append({big});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
}

TEST_F(SpoolTest, RecordLargerThanSegmentGetsItsOwnSegment) {
  auto spool = open(options(4096));
  ASSERT_TRUE(spool);
  SpooledEvent big{2, std::string(100000, 'j'), std::string(5000, 's')};
  ASSERT_TRUE(spool->append({event(1), big, event(3)}).ok());
  EXPECT_EQ(all(*spool), (std::vector<SpooledEvent>{event(1), big, event(3)}));
  spool.reset();
  spool = open(options(4096));
  ASSERT_TRUE(spool);
  EXPECT_EQ(all(*spool, 1), (std::vector<SpooledEvent>{big, event(3)}));
}

TEST_F(SpoolTest, AppendAndPendingOnDifferentThreads) {
  auto spool = open(options(16 * 1024));
  ASSERT_TRUE(spool);
  constexpr uint64_t kLast = 5000;
  std::atomic<bool> append_failed{false};
  std::thread writer([&] {
    for (uint64_t s = 1; s <= kLast; s += 50) {
      if (!spool->append(events(s, s + 49)).ok()) append_failed = true;
    }
  });
  // A sender: reads what is pending, "pushes" it, acknowledges it.
  uint64_t sent = 0;
  bool in_order = true;
  const bool done = warden::testing::waitFor(
      [&] {
        auto p = spool->pending(sent, 128, 1 << 20);
        if (!p.ok()) return true;
        for (const auto& e : *p) {
          in_order = in_order && e.sequence == sent + 1 && e == event(e.sequence);
          sent = e.sequence;
        }
        if (!p->empty() && !spool->ack(sent).ok()) in_order = false;
        return sent == kLast;
      },
      std::chrono::seconds(60));
  writer.join();
  EXPECT_TRUE(done);
  EXPECT_FALSE(append_failed);
  EXPECT_TRUE(in_order);
  EXPECT_EQ(spool->ackedSequence(), kLast);
  EXPECT_EQ(spool->bytesOnDisk(), 0u);
}

// The child appends in a loop and reports, after each append() returned Ok, its last sequence
// (and the last acknowledgement) through a pipe; the parent kills it at a random point and checks
// that every reported record is in the reopened spool, intact.
TEST_F(SpoolTest, SurvivesSigkillAtARandomPoint) {
  std::random_device rd;
  const unsigned seed = rd();
  SCOPED_TRACE(fmt::format("seed {}", seed));
  std::mt19937 rng(seed);
  for (int round = 0; round < 3; ++round) {
    const auto dir = tmp_.path() / fmt::format("crash{}", round);
    SpoolOptions o;
    o.dir = dir;
    o.segment_bytes = 8192;
    o.fsync_each_batch = (round == 0);
    const uint64_t kill_after = std::uniform_int_distribution<uint64_t>(1, 400)(rng);
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    ASSERT_EQ(::fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);  // before the fork: no ASSERT may leave a child
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      auto s = Spool::open(o);
      if (!s.ok()) ::_exit(2);
      uint64_t seq = 0, acked = 0;
      std::mt19937 crng(seed + round);
      for (;;) {
        const uint64_t n = std::uniform_int_distribution<uint64_t>(1, 20)(crng);
        if (!(*s)->append(events(seq + 1, seq + n)).ok()) ::_exit(3);
        seq += n;
        if (seq > 30 && crng() % 4 == 0) {
          if (!(*s)->ack(seq - 30).ok()) ::_exit(4);
          acked = seq - 30;
        }
        const uint64_t msg[2] = {seq, acked};
        if (::write(fds[1], msg, sizeof msg) != sizeof msg) ::_exit(5);
      }
    }
    ::close(fds[1]);
    uint64_t last_ok = 0, last_acked = 0, reports = 0;
    const bool reached = warden::testing::waitFor(
        [&] {
          uint64_t msg[2];
          while (reports < kill_after && ::read(fds[0], msg, sizeof msg) == sizeof msg) {
            last_ok = msg[0];
            last_acked = msg[1];
            ++reports;
          }
          return reports >= kill_after;
        },
        std::chrono::seconds(30));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    // Reports still in the pipe were also Ok before the kill.
    uint64_t msg[2];
    while (::read(fds[0], msg, sizeof msg) == sizeof msg) {
      last_ok = msg[0];
      last_acked = msg[1];
    }
    ::close(fds[0]);
    ASSERT_TRUE(reached) << "child status " << status;
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited early with " << WEXITSTATUS(status);

    std::vector<std::string> notes;
    auto s = Spool::open(o, &notes);
    ASSERT_TRUE(s.ok()) << s.error().toString();
    auto& spool = **s;
    EXPECT_GE(spool.ackedSequence(), last_acked);
    EXPECT_GE(spool.lastSequence(), last_ok);
    auto p = spool.pending(0, SIZE_MAX, SIZE_MAX);
    ASSERT_TRUE(p.ok()) << p.error().toString();
    ASSERT_FALSE(p->empty() && spool.ackedSequence() < last_ok);
    // Contiguous from just after the ack through at least last_ok, each record intact.
    uint64_t expect = spool.ackedSequence() + 1;
    for (const auto& e : *p) {
      ASSERT_EQ(e.sequence, expect);
      ASSERT_EQ(e, event(e.sequence));
      ++expect;
    }
    EXPECT_GE(expect - 1, last_ok) << "round " << round << ", notes: " << notes.size();
    // And appending continues after the recovered last sequence.
    EXPECT_TRUE(spool.append(events(spool.lastSequence() + 1, spool.lastSequence() + 1)).ok());
  }
}

TEST_F(SpoolTest, HundredThousandEventsRoundTrip) {
  auto o = options();
  o.fsync_each_batch = false;  // the volume, not the disk's sync latency
  auto spool = open(o);
  ASSERT_TRUE(spool);
  constexpr uint64_t kCount = 100000;
  const auto t0 = std::chrono::steady_clock::now();
  for (uint64_t s = 1; s <= kCount; s += 500) ASSERT_TRUE(spool->append(events(s, s + 499)).ok());
  const auto t1 = std::chrono::steady_clock::now();
  uint64_t sent = 0, checked = 0;
  for (;;) {
    auto p = spool->pending(sent, 1000, 4 << 20);
    ASSERT_TRUE(p.ok()) << p.error().toString();
    if (p->empty()) break;
    for (const auto& e : *p) {
      ASSERT_EQ(e.sequence, sent + 1);
      sent = e.sequence;
      if (e.sequence % 997 == 0) {
        ASSERT_EQ(e, event(e.sequence));
        ++checked;
      }
    }
    ASSERT_TRUE(spool->ack(sent).ok());
  }
  const auto t2 = std::chrono::steady_clock::now();
  EXPECT_EQ(sent, kCount);
  EXPECT_GT(checked, 0u);
  EXPECT_EQ(spool->bytesOnDisk(), 0u);
  const auto ms = [](auto d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
  std::printf("spool: appended %llu events in %lld ms, replayed+acked in %lld ms\n",
              static_cast<unsigned long long>(kCount), static_cast<long long>(ms(t1 - t0)),
              static_cast<long long>(ms(t2 - t1)));
}

// parseSpoolSegment on its own: the format's edges.
TEST(SpoolSegmentParseTest, EmptyAndPartialMagicAreTornNotCorrupt) {
  size_t valid = 99;
  auto r = parseSpoolSegment("", &valid);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(valid, 0u);
  r = parseSpoolSegment("WSPO", &valid);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(valid, 0u);
  r = parseSpoolSegment("NOTASPOOLFILE", &valid);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kDataLoss);
}

TEST(SpoolSegmentParseTest, DecreasingSequenceInsideSegmentIsDataLoss) {
  std::string bytes(kSpoolSegmentMagic);
  encodeSpoolRecord(event(5), bytes);
  const size_t second = bytes.size();
  encodeSpoolRecord(event(4), bytes);
  size_t valid = 0;
  auto r = parseSpoolSegment(bytes, &valid);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kDataLoss);
  EXPECT_THAT(r.error().message(), HasSubstr(fmt::format("offset {}", second)));
}

TEST(SpoolSegmentParseTest, Crc32cMatchesKnownVector) {
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);  // the standard CRC-32C check value
  EXPECT_EQ(crc32c(""), 0u);
  EXPECT_EQ(crc32c("56789", crc32c("1234")), 0xE3069283u);
}

}  // namespace
}  // namespace warden::audit
