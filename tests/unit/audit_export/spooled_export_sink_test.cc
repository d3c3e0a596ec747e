// The syslog TCP export against a receiver the test runs on loopback: what arrives, in what
// framing, across an outage, and what a full spool records.

#include "audit/export/spooled_export_sink.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "common/unique_fd.h"
#include "support/test_env.h"
#include "unit/audit/audit_test_util.h"
#include "unit/audit_export/export_session.h"

namespace warden::audit::exporting {
namespace {

using testutil::fileLines;
using testutil::kNoon;
using testutil::testEvent;
using warden::testing::TempDir;
using warden::testing::waitFor;

// A TCP receiver on 127.0.0.1: accepts connections (several at once) and keeps every byte of each.
class Receiver {
 public:
  explicit Receiver(uint16_t port = 0) {
    fd_ = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const int one = 1;
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_.get(), 8) != 0) {
      ADD_FAILURE() << "bind/listen 127.0.0.1:" << port;
      return;
    }
    socklen_t len = sizeof a;
    ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~Receiver() {
    stop_ = true;
    thread_.join();
  }
  uint16_t port() const { return port_; }
  // Every connection's bytes, one after the other (in the order the connections were accepted).
  std::string bytes() {
    std::lock_guard lock(mu_);
    std::string out;
    for (const auto& s : streams_) out += s;
    return out;
  }
  // Each connection's bytes.
  std::vector<std::string> streams() {
    std::lock_guard lock(mu_);
    return streams_;
  }
  int connections() const { return connections_; }

 private:
  void run() {
    std::vector<std::pair<UniqueFd, size_t>> conns;  // (socket, index in streams_)
    while (!stop_) {
      std::vector<pollfd> p{{fd_.get(), POLLIN, 0}};
      for (const auto& c : conns) p.push_back({c.first.get(), POLLIN, 0});
      if (::poll(p.data(), p.size(), 20) <= 0) continue;
      for (size_t i = conns.size(); i-- > 0;) {
        if (!(p[i + 1].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        char buf[65536];
        const ssize_t n = ::read(conns[i].first.get(), buf, sizeof buf);
        if (n <= 0) {
          conns.erase(conns.begin() + static_cast<std::ptrdiff_t>(i));
          continue;
        }
        std::lock_guard lock(mu_);
        streams_[conns[i].second].append(buf, static_cast<size_t>(n));
      }
      if (p[0].revents & POLLIN) {
        UniqueFd conn(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!conn.valid()) continue;
        ++connections_;
        std::lock_guard lock(mu_);
        streams_.emplace_back();
        conns.emplace_back(std::move(conn), streams_.size() - 1);
      }
    }
  }
  UniqueFd fd_;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::mutex mu_;
  std::vector<std::string> streams_;  // Guarded by mu_.
  std::thread thread_;
};

// Splits octet-counted frames; fails the test on a malformed frame.
std::vector<std::string> frames(std::string_view bytes) {
  std::vector<std::string> out;
  while (!bytes.empty()) {
    const size_t sp = bytes.find(' ');
    size_t len = 0;
    if (sp == std::string_view::npos || std::from_chars(bytes.data(), bytes.data() + sp, len).ec != std::errc() ||
        bytes.size() < sp + 1 + len) {
      break;  // a frame still arriving
    }
    out.emplace_back(bytes.substr(sp + 1, len));
    bytes.remove_prefix(sp + 1 + len);
  }
  return out;
}

// The MSG of each frame (after the structured data).
std::vector<std::string> messages(const std::string& bytes) {
  std::vector<std::string> out;
  for (const auto& f : frames(bytes)) {
    const size_t sd = f.find("] ");
    out.push_back(sd == std::string::npos ? f : f.substr(sd + 2));
  }
  return out;
}

SpooledExportOptions optionsFor(uint16_t port, const std::filesystem::path& spool) {
  SpooledExportOptions o;
  o.url = ExportUrl::parse("syslog+tcp://127.0.0.1:" + std::to_string(port)).value();
  o.spool_dir = spool;
  o.settle = std::chrono::milliseconds(50);
  o.backoff_min = std::chrono::milliseconds(20);
  o.backoff_max = std::chrono::milliseconds(100);
  return o;
}

size_t countLines(const std::filesystem::path& path, std::string_view needle) {
  size_t n = 0;
  for (const auto& line : fileLines(path).lines) n += line.find(needle) != std::string::npos;
  return n;
}

TEST(SpooledExportSinkTest, EveryEventArrivesOctetCountedWithMsgExactlyTheJsonlLine) {
  TempDir dir;
  Receiver receiver;
  ExportSession s(dir / "log", optionsFor(receiver.port(), dir / "spool"));
  ASSERT_TRUE(s.pipeline);
  for (int i = 0; i < 2500; ++i) s.pipeline->emit(testEvent(kNoon, "event " + std::to_string(i)));
  ASSERT_TRUE(s.pipeline->close().ok());

  const auto jsonl = s.jsonl();
  ASSERT_GT(jsonl.size(), 2500u);  // LOG:START, the events, checkpoints
  ASSERT_TRUE(waitFor([&] { return messages(receiver.bytes()).size() >= jsonl.size(); }));
  EXPECT_EQ(messages(receiver.bytes()), jsonl);
  const auto first = frames(receiver.bytes()).front();
  EXPECT_TRUE(first.starts_with("<110>1 2026-11-23T12:00:00.000Z host1 warden ")) << first;
  EXPECT_NE(first.find("[warden@32473 session=\"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b\" seq=\"1\"]"), std::string::npos);
  EXPECT_EQ(s.sink->stats().delivered_sequence, jsonl.size());
  EXPECT_FALSE(std::filesystem::exists(dir / "spool")) << "a spool whose events were all delivered is removed";
}

TEST(SpooledExportSinkTest, AReceiverDownAtTheStartIsRecordedOnceEachWayAndGetsEverythingWhenItComes) {
  TempDir dir;
  uint16_t port = 0;
  { port = Receiver().port(); }  // a free port, closed again
  ExportSession s(dir / "log", optionsFor(port, dir / "spool"));
  ASSERT_TRUE(s.pipeline);
  for (int i = 0; i < 300; ++i) s.pipeline->emit(testEvent(kNoon, "before " + std::to_string(i)));
  ASSERT_TRUE(waitFor([&] { return s.sink->stats().outages == 1; }));
  // Several failed attempts (backoff) later, still one outage.
  ASSERT_TRUE(waitFor([&] { return countLines(dir / "log" / "warden-ocsf.log", "Sink Unreachable") == 1; }));
  {
    Receiver receiver(port);
    ASSERT_TRUE(waitFor([&] { return s.sink->stats().connections == 1; }));
    for (int i = 0; i < 300; ++i) s.pipeline->emit(testEvent(kNoon, "after " + std::to_string(i)));
    ASSERT_TRUE(s.pipeline->close().ok());
    const auto jsonl = s.jsonl();
    ASSERT_TRUE(waitFor([&] { return messages(receiver.bytes()).size() >= jsonl.size(); }));
    EXPECT_EQ(messages(receiver.bytes()), jsonl);
  }
  const std::string log = dir / "log" / "warden-ocsf.log";
  EXPECT_EQ(countLines(log, "\"activity_name\":\"Sink Unreachable\""), 1u);
  EXPECT_EQ(countLines(log, "\"activity_name\":\"Sink Reconnected\""), 1u);
  EXPECT_EQ(s.sink->stats().outages, 1u);
}

TEST(SpooledExportSinkTest, AReceiverThatDropsTheConnectionGetsTheUnacknowledgedEventsAgain) {
  TempDir dir;
  uint16_t port = 0;
  auto first = std::make_unique<Receiver>();
  port = first->port();
  SpooledExportOptions o = optionsFor(port, dir / "spool");
  o.settle = std::chrono::seconds(30);  // nothing counts as delivered while the first receiver lives
  ExportSession s(dir / "log", o);
  ASSERT_TRUE(s.pipeline);
  for (int i = 0; i < 100; ++i) s.pipeline->emit(testEvent(kNoon, "one " + std::to_string(i)));
  ASSERT_TRUE(waitFor([&] { return messages(first->bytes()).size() >= 100; }));
  first.reset();  // the receiver goes away with what it had
  Receiver second(port);
  ASSERT_TRUE(waitFor([&] { return s.sink->stats().connections == 2; }));
  ASSERT_TRUE(s.pipeline->close().ok());
  const auto jsonl = s.jsonl();
  ASSERT_TRUE(waitFor([&] { return messages(second.bytes()).size() >= jsonl.size(); }));
  // Everything again from LOG:START: the first receiver's copy was never settled.
  EXPECT_EQ(messages(second.bytes()), jsonl);
}

TEST(SpooledExportSinkTest, AFullSpoolSkipsForThisSinkOnlyAndRecordsTheOverflow) {
  TempDir dir;
  uint16_t port = 0;
  { port = Receiver().port(); }
  SpooledExportOptions o = optionsFor(port, dir / "spool");
  o.spool_max_bytes = 8192;
  o.drain = std::chrono::milliseconds(100);
  ExportSession s(dir / "log", o);
  ASSERT_TRUE(s.pipeline);
  for (int i = 0; i < 200; ++i) s.pipeline->emit(testEvent(kNoon, "fills the spool " + std::to_string(i)));
  ASSERT_TRUE(s.pipeline->close().ok());
  const std::string log = dir / "log" / "warden-ocsf.log";
  EXPECT_GE(countLines(log, "\"activity_name\":\"Sink Overflow\""), 1u);
  EXPECT_GT(s.sink->stats().skipped, 0u);
  EXPECT_GT(fileLines(log).lines.size(), 200u) << "the session's own file keeps everything";
  EXPECT_TRUE(std::filesystem::exists(dir / "spool")) << "undelivered events stay on disk";
}

TEST(SpooledExportSinkTest, AnEarlierSessionsSpoolIsMovedAsideNotAppendedToAndDeliveredWhenTheReceiverIsBack) {
  TempDir dir;
  uint16_t port = 0;
  { port = Receiver().port(); }
  SpooledExportOptions o = optionsFor(port, dir / "spool");
  o.drain = std::chrono::milliseconds(50);
  std::vector<std::vector<std::string>> written;
  auto session = [&](int n) {
    ExportSession s(dir / ("log" + std::to_string(n)), o);
    ASSERT_TRUE(s.pipeline);
    for (int i = 0; i < 20; ++i) s.pipeline->emit(testEvent(kNoon, "session " + std::to_string(n) + " event " + std::to_string(i)));
    ASSERT_TRUE(s.pipeline->close().ok());
    EXPECT_EQ(s.sink->stats().skipped, 0u) << "session " << n << " spooled every batch";
    written.push_back(s.jsonl());
  };
  auto aside = [&] {
    size_t n = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
      n += entry.path().filename().string().starts_with("spool.left-");
    }
    return n;
  };
  // Two sessions while the receiver is down: the first one's spool is moved aside by the second,
  // which tries to deliver it too (in vain) and leaves its own.
  session(0);
  session(1);
  EXPECT_EQ(aside(), 1u);
  // (22 or 23 events: LOG:START, 20, the final checkpoint, and the outage when it was recorded in time)
  EXPECT_TRUE(testutil::fileContains(dir / "log1" / "warden.log", "events an earlier session left in"))
      << warden::testing::readFile(dir / "log1" / "warden.log");
  EXPECT_TRUE(testutil::fileContains(dir / "log1" / "warden.log", "delivering the "));
  EXPECT_TRUE(testutil::fileContains(dir / "log1" / "warden.log", "an earlier session left are still in"));
  // The receiver is back for a third session: it gets the third session's events and both earlier
  // sessions' leftovers, each in order; nothing is left behind.
  Receiver receiver(port);
  o.drain = std::chrono::seconds(10);
  session(2);
  std::vector<std::string> got;
  for (const auto& stream : receiver.streams()) {
    for (auto& m : messages(stream)) got.push_back(std::move(m));
  }
  for (int n = 0; n < 3; ++n) {
    std::vector<std::string> of_session;
    for (const auto& m : got) {
      if (std::find(written[n].begin(), written[n].end(), m) != written[n].end()) of_session.push_back(m);
    }
    EXPECT_EQ(of_session.size(), written[n].size()) << "session " << n << "\n" << warden::testing::readFile(dir / "log2" / "warden.log");
  }
  EXPECT_EQ(aside(), 0u);
  EXPECT_FALSE(std::filesystem::exists(dir / "spool"));
}

}  // namespace
}  // namespace warden::audit::exporting
