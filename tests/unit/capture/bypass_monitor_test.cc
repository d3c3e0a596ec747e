// BypassMonitor against a fake kernel log (a FIFO) and fake sysctl files: which records become
// events, what the events look like, the nf_log_all_netns decision, and stopping.
// The real /dev/kmsg path is exercised by tests/unit/sandbox/sandbox_network_test.cc (root).

#include "capture/kmsg/bypass_monitor.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "capture/kmsg/bypass_events.h"
#include "ocsf/jsonl_formatter.h"
#include "ocsf/schema.h"
#include "ocsf/shorthand.h"
#include "ocsf/validator.h"
#include "support/collecting_emitter.h"
#include "support/test_env.h"

namespace warden::capture {
namespace {

using warden::testing::readFile;
using warden::testing::TempDir;
using warden::testing::waitFor;
using warden::testing::writeFile;

using warden::testing::CollectingEmitter;

ocsf::SessionContext context() {
  ocsf::SessionContext ctx;
  ctx.hostname = "host-1";
  ctx.session_id = "0190f0c8-7d2e-7000-8000-000000000001";
  ctx.session_name = "agent-7";
  return ctx;
}

std::string record(uint64_t seq, std::string_view tag, std::string_view dst, int dport,
                   std::string_view extra = " UID=64000 GID=64000") {
  return "4," + std::to_string(seq) + ",10756140524,-;warden:bypass:" + std::string(tag) +
         ": IN= OUT=eth0 SRC=10.200.7.2 DST=" + std::string(dst) +
         " LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=40000 DPT=" + std::to_string(dport) +
         " WINDOW=64240 RES=0x00 SYN URGP=0" + std::string(extra) + "\n";
}

// A fake kernel: a FIFO the monitor reads, a sysctl file, a logger list.
class BypassMonitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fifo_ = dir_ / "kmsg";
    ASSERT_EQ(::mkfifo(fifo_.c_str(), 0600), 0);
    writer_ = ::open(fifo_.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);  // RDWR: never at EOF
    ASSERT_GE(writer_, 0);
    writeFile(dir_ / "nf_log_all_netns", "0\n");
    writeFile(dir_ / "nf_log",
              " 0 NONE (nfnetlink_log)\n 2 NONE (nf_log_ipv4,nfnetlink_log)\n 10 NONE (nf_log_ipv6)\n");
  }
  void TearDown() override {
    if (writer_ >= 0) ::close(writer_);
  }

  BypassMonitor::Options options() const {
    BypassMonitor::Options o;
    o.session_tag = "sess-1";
    o.kmsg_path = fifo_.string();
    o.nf_log_all_netns_path = (dir_ / "nf_log_all_netns").string();
    o.nf_log_path = (dir_ / "nf_log").string();
    o.clock = &clock_;
    return o;
  }
  void kernelWrites(const std::string& text) const {
    ASSERT_EQ(::write(writer_, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  }

  TempDir dir_;
  std::filesystem::path fifo_;
  int writer_ = -1;
  ManualClock clock_{1'790'000'000'000};
  CollectingEmitter emitter_;
  ocsf::SessionContext ctx_ = context();
};

TEST_F(BypassMonitorTest, DualEmitsRefuseThenMediumFindingForOurRecord) {
  auto monitor = BypassMonitor::start(options(), emitter_, ctx_);
  ASSERT_TRUE(monitor.ok()) << monitor.error().toString();
  kernelWrites(record(10, "sess-1", "93.184.216.34", 443));
  ASSERT_TRUE(waitFor([&] { return (*monitor)->attempts() == 1; }));
  (*monitor)->stop();

  const auto events = emitter_.events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(ocsf::toShorthand(events[0]),
            "NET:REFUSE [MED] DENIED - -> 93.184.216.34:443/tcp [policy:bypass-detect engine:nftables] "
            "[reason:direct connection bypassed the proxy]");
  EXPECT_FALSE(events[0].actor.has_value());  // OCSF needs a pid for a process
  ASSERT_NE(events[0].unmapped.find("uid"), nullptr);
  EXPECT_EQ(events[0].unmapped.find("uid")->asInt(), 64000);
  EXPECT_EQ(events[0].observation_point, ocsf::ObservationPoint::kNeither);
  EXPECT_EQ(events[0].time, clock_.nowMillis());
  EXPECT_EQ(ocsf::toShorthand(events[1]),
            "FINDING:BLOCKED [MED] \"Proxy bypass attempt\" [type:proxy-bypass confidence:high]");
  EXPECT_EQ(events[1].remediation, kBypassRemediation);
  EXPECT_NE(events[1].remediation.find("NODE_USE_ENV_PROXY=1"), std::string::npos);
  EXPECT_NE(events[1].finding_info->desc.find("uid 64000"), std::string::npos)
      << events[1].finding_info->desc;
}

TEST_F(BypassMonitorTest, AnEnrichedActorReadsLikeTheEventsMdExample) {
  auto opts = options();
  opts.resolve_actor = [](const NftLogRecord& r) -> std::optional<ocsf::Process> {
    if (r.uid != 64000u) return std::nullopt;
    ocsf::Process node;
    node.name = "node";
    node.pid = 99;
    node.uid = 64000;
    return node;
  };
  auto monitor = BypassMonitor::start(std::move(opts), emitter_, ctx_);
  ASSERT_TRUE(monitor.ok()) << monitor.error().toString();
  kernelWrites(record(11, "sess-1", "93.184.216.34", 443));
  ASSERT_TRUE(waitFor([&] { return (*monitor)->attempts() == 1; }));
  (*monitor)->stop();
  const auto events = emitter_.events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(
      ocsf::toShorthand(events[0]),
      "NET:REFUSE [MED] DENIED node(99) -> 93.184.216.34:443/tcp [policy:bypass-detect engine:nftables] "
      "[reason:direct connection bypassed the proxy]");
}

TEST_F(BypassMonitorTest, BothEventsPassTheOcsfSchema) {
  auto schema = ocsf::Schema::load(warden::testing::schemaPath());
  ASSERT_TRUE(schema.ok()) << schema.error().toString();
  const ocsf::Validator validator(*schema);
  NftLogRecord r;
  r.prefix_tag = "sess-1";
  r.protocol = "udp";
  r.src_ip = "10.200.7.2";
  r.dst_ip = "2001:db8::1";
  r.src_port = 5000;
  r.dst_port = 53;
  r.uid = 64000;
  ocsf::Process node;
  node.name = "node";
  node.pid = 99;
  node.uid = 64000;
  const std::vector<std::pair<NftLogRecord, std::optional<ocsf::Process>>> cases = {
      {r, std::nullopt},
      {r, node},
      {NftLogRecord{"s", "icmp", "10.200.7.2", "10.200.7.1", 0, 0, std::nullopt, 1, 1}, std::nullopt}};
  for (const auto& [rec, actor] : cases) {
    ocsf::Event refuse = bypassRefuse(ctx_, clock_.nowMillis(), rec, actor);
    ocsf::Event finding = bypassFinding(ctx_, clock_.nowMillis(), rec, refuse);
    uint64_t seq = 1;
    for (ocsf::Event* e : {&refuse, &finding}) {
      e->metadata.sequence = seq++;
      e->integrity_prev = std::string(64, 'a');
      const auto problems = validator.validateLine(ocsf::toJsonl(*e));
      std::string report;
      for (const auto& p : problems) report += "\n  " + p.path + ": " + p.message;
      EXPECT_TRUE(problems.empty()) << ocsf::toShorthand(*e) << report;
    }
  }
}

TEST_F(BypassMonitorTest, IgnoresOtherSessionsAndOtherKernelRecords) {
  auto monitor = BypassMonitor::start(options(), emitter_, ctx_);
  ASSERT_TRUE(monitor.ok()) << monitor.error().toString();
  kernelWrites("6,20,1,-;eth0: renamed from wds7\n SUBSYSTEM=net\n DEVICE=n5\n");
  kernelWrites(record(21, "sess-2", "10.0.0.9", 80));
  kernelWrites(record(22, "sess-1", "10.200.7.1", 22));
  ASSERT_TRUE(waitFor([&] { return (*monitor)->attempts() == 1; }));
  (*monitor)->stop();
  const auto events = emitter_.events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].dst_endpoint->ip, "10.200.7.1");
  EXPECT_EQ(events[0].dst_endpoint->port, 22);
  EXPECT_TRUE(emitter_.lines().empty());
}

TEST_F(BypassMonitorTest, RecordsAlreadyInTheLogAreEmittedBeforeStopReturns) {
  auto monitor = BypassMonitor::start(options(), emitter_, ctx_);
  ASSERT_TRUE(monitor.ok()) << monitor.error().toString();
  kernelWrites(record(30, "sess-1", "192.0.2.1", 443) + record(31, "sess-1", "192.0.2.2", 443));
  (*monitor)->stop();
  EXPECT_EQ((*monitor)->attempts(), 2u);
  EXPECT_EQ(emitter_.events().size(), 4u);
}

TEST_F(BypassMonitorTest, ALineSplitAcrossReadsIsReassembled) {
  auto monitor = BypassMonitor::start(options(), emitter_, ctx_);
  ASSERT_TRUE(monitor.ok()) << monitor.error().toString();
  const std::string line = record(40, "sess-1", "192.0.2.1", 8080);
  kernelWrites(line.substr(0, 30));
  kernelWrites(line.substr(30));
  ASSERT_TRUE(waitFor([&] { return (*monitor)->attempts() == 1; }));
  (*monitor)->stop();
  EXPECT_EQ(emitter_.events().at(0).dst_endpoint->port, 8080);
}

TEST_F(BypassMonitorTest, AMalformedRecordOfOursIsAWarningNotAnEvent) {
  auto monitor = BypassMonitor::start(options(), emitter_, ctx_);
  ASSERT_TRUE(monitor.ok()) << monitor.error().toString();
  kernelWrites("4,50,1,-;warden:bypass:sess-1: SRC=10.200.7.2 DST=not-an-ip PROTO=TCP SPT=1 DPT=2\n");
  kernelWrites(record(51, "sess-1", "192.0.2.1", 443));
  ASSERT_TRUE(waitFor([&] { return (*monitor)->attempts() == 1; }));
  (*monitor)->stop();
  EXPECT_EQ(emitter_.events().size(), 2u);
  const auto lines = emitter_.lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("WARN kmsg: unreadable log record: DST is not an IP address"), std::string::npos)
      << lines[0];
}

TEST_F(BypassMonitorTest, TurnsOnNetnsLoggingWhenOffAndSaysSo) {
  auto monitor = BypassMonitor::start(options(), emitter_, ctx_);
  ASSERT_TRUE(monitor.ok()) << monitor.error().toString();
  EXPECT_EQ((*monitor)->kernelChange(), "net.netfilter.nf_log_all_netns 0 -> 1");
  EXPECT_EQ(readFile(dir_ / "nf_log_all_netns"), "1\n");
  (*monitor)->stop();
  EXPECT_EQ(readFile(dir_ / "nf_log_all_netns"), "1\n");  // never set back: other sessions rely on it
}

TEST_F(BypassMonitorTest, LeavesNetnsLoggingAloneWhenAlreadyOn) {
  writeFile(dir_ / "nf_log_all_netns", "1\n");
  auto monitor = BypassMonitor::start(options(), emitter_, ctx_);
  ASSERT_TRUE(monitor.ok()) << monitor.error().toString();
  EXPECT_EQ((*monitor)->kernelChange(), "");
}

TEST_F(BypassMonitorTest, MissingIpv4LoggerIsUnavailable) {
  writeFile(dir_ / "nf_log", " 2 NONE (nfnetlink_log)\n");
  auto monitor = BypassMonitor::start(options(), emitter_, ctx_);
  ASSERT_FALSE(monitor.ok());
  EXPECT_EQ(monitor.error().code(), Code::kUnavailable);
  EXPECT_NE(monitor.error().message().find("rejected but not recorded"), std::string::npos);
  EXPECT_EQ(readFile(dir_ / "nf_log_all_netns"), "0\n");  // nothing changed when it cannot work
}

TEST_F(BypassMonitorTest, AnUnreadableLogIsUnavailable) {
  auto opts = options();
  opts.kmsg_path = (dir_ / "missing").string();
  auto monitor = BypassMonitor::start(std::move(opts), emitter_, ctx_);
  ASSERT_FALSE(monitor.ok());
  EXPECT_EQ(monitor.error().code(), Code::kUnavailable);
}

TEST_F(BypassMonitorTest, RefusesABadSessionTag) {
  for (std::string tag : {std::string(), std::string("a b"), std::string(128, 'x'), std::string("a: b")}) {
    auto opts = options();
    opts.session_tag = tag;
    auto monitor = BypassMonitor::create(std::move(opts), emitter_, ctx_);
    ASSERT_FALSE(monitor.ok()) << tag;
    EXPECT_EQ(monitor.error().code(), Code::kInvalidArgument);
  }
}

TEST_F(BypassMonitorTest, StopIsPromptIdempotentAndStartOnlyOnce) {
  auto monitor = BypassMonitor::create(options(), emitter_, ctx_);
  ASSERT_TRUE(monitor.ok());
  (*monitor)->stop();  // before start: nothing to do
  ASSERT_TRUE((*monitor)->start().ok());
  auto again = (*monitor)->start();
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), Code::kFailedPrecondition);
  const auto t0 = std::chrono::steady_clock::now();
  (*monitor)->stop();
  (*monitor)->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
  EXPECT_EQ((*monitor)->name(), "kmsg");
}

}  // namespace
}  // namespace warden::capture
