// The syslog UDP export on loopback: one datagram per event, and what the sender can see lost is
// counted and recorded.

#include "audit/export/udp_export_sink.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include "audit/pipeline.h"
#include "common/unique_fd.h"
#include "support/test_env.h"
#include "unit/audit/audit_test_util.h"

namespace warden::audit::exporting {
namespace {

using testutil::fileLines;
using testutil::kNoon;
using testutil::testEvent;
using testutil::testOptions;
using warden::testing::TempDir;

UniqueFd boundUdp(uint16_t* port) {
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int big = 8 << 20;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  return fd;
}

std::vector<std::string> drain(int fd) {
  std::vector<std::string> out;
  std::string buf(70000, '\0');
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) break;
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n < 0) break;
    out.emplace_back(buf.data(), static_cast<size_t>(n));
  }
  return out;
}

std::shared_ptr<UdpExportSink> sinkFor(uint16_t port) {
  auto sink = UdpExportSink::make(ExportUrl::parse("syslog+udp://127.0.0.1:" + std::to_string(port)).value());
  EXPECT_TRUE(sink.ok()) << sink.error().toString();
  return sink.ok() ? sink.value() : nullptr;
}

TEST(UdpExportSinkTest, EachEventIsOneDatagramWhoseMsgIsTheJsonlLine) {
  TempDir dir;
  uint16_t port = 0;
  UniqueFd receiver = boundUdp(&port);
  auto sink = sinkFor(port);
  ASSERT_TRUE(sink);
  ManualClock clock(kNoon);
  PipelineOptions options = testOptions(dir / "log", clock);
  options.jsonl_enabled = true;
  options.sinks.push_back(sink);
  auto pipeline = Pipeline::start(std::move(options));
  ASSERT_TRUE(pipeline.ok()) << pipeline.error().toString();
  for (int i = 0; i < 50; ++i) (*pipeline)->emit(testEvent(kNoon, "event " + std::to_string(i)));
  ASSERT_TRUE((*pipeline)->close().ok());
  const auto jsonl = fileLines(dir / "log" / "warden-ocsf.log").lines;
  const auto datagrams = drain(receiver.get());
  ASSERT_EQ(datagrams.size(), jsonl.size());
  for (size_t i = 0; i < jsonl.size(); ++i) {
    EXPECT_TRUE(datagrams[i].starts_with("<110>1 ")) << datagrams[i].substr(0, 60);
    EXPECT_NE(datagrams[i].find(" seq=\"" + std::to_string(i + 1) + "\"] "), std::string::npos);
    EXPECT_TRUE(datagrams[i].ends_with("] " + jsonl[i])) << i;
  }
  EXPECT_EQ(sink->sent(), jsonl.size());
  EXPECT_EQ(sink->lost(), 0u);
}

TEST(UdpExportSinkTest, WhatTheSenderCanSeeLostIsCountedAndRecorded) {
  TempDir dir;
  uint16_t port = 0;
  { boundUdp(&port); }  // nothing listens there any more: the kernel reports ECONNREFUSED
  auto sink = sinkFor(port);
  ASSERT_TRUE(sink);
  ManualClock clock(kNoon);
  PipelineOptions options = testOptions(dir / "log", clock);
  options.jsonl_enabled = true;
  options.sinks.push_back(sink);
  auto pipeline = Pipeline::start(std::move(options));
  ASSERT_TRUE(pipeline.ok()) << pipeline.error().toString();
  (*pipeline)->emit(testEvent(kNoon, std::string(70000, 'x')));  // over the largest datagram
  for (int i = 0; i < 20; ++i) (*pipeline)->emit(testEvent(kNoon, "event " + std::to_string(i)));
  ASSERT_TRUE((*pipeline)->close().ok());
  EXPECT_GE(sink->lost(), 2u) << "the oversized event and at least one refused send";
  const auto log = testutil::fileLines(dir / "log" / "warden-ocsf.log").lines;
  size_t overflow = 0;
  for (const auto& l : log) overflow += l.find("\"activity_name\":\"Sink Overflow\"") != std::string::npos;
  EXPECT_GE(overflow, 1u);
  EXPECT_TRUE(testutil::fileContains(dir / "log" / "warden.log", "over the largest UDP datagram") ||
              testutil::fileContains(dir / "log" / "warden.log", "Connection refused"));
}

}  // namespace
}  // namespace warden::audit::exporting
