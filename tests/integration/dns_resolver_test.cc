// The sandbox DNS resolver against real programs on loopback: dnsmasq as the upstream, dig as the
// client, the real audit pipeline and /proc caller identity.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "audit/pipeline.h"
#include "common/unique_fd.h"
#include "ocsf/schema.h"
#include "ocsf/validator.h"
#include "proxy/caller_identity.h"
#include "proxy/dns_message.h"
#include "proxy/server/dns_resolver.h"
#include "support/dnsmasq.h"
#include "support/test_env.h"

namespace warden::testing {
namespace {

const std::vector<std::string> kRecords = {"--address=/example.test/10.9.8.7", "--address=/nx.test/",
                                           "--host-record=dual.other.test,10.1.2.3,fd00::7"};

// A loopback UDP socket that never answers: an upstream that does not respond.
class BlackHole {
 public:
  BlackHole() {
    fd_ = UniqueFd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return;
    socklen_t len = sizeof(addr);
    ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  std::string address() const { return fmt::format("127.0.0.1:{}", port_); }
  uint16_t port() const { return port_; }

 private:
  UniqueFd fd_;
  uint16_t port_ = 0;
};

class DnsResolverTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto loaded = ocsf::Schema::load(schemaPath());
    if (loaded.ok()) schema_ = std::make_unique<ocsf::Schema>(std::move(loaded).value());
  }
  static void TearDownTestSuite() { schema_.reset(); }

  void SetUp() override {
    if (realExecutable("dig").empty()) GTEST_SKIP() << "dig is not installed (Debian: bind9-dnsutils)";
    std::string why;
    dnsmasq_ = Dnsmasq::start(kRecords, &why);
    if (!dnsmasq_) GTEST_SKIP() << why;
    audit::PipelineOptions po;
    po.log_dir = dir_ / "logs";
    po.session.hostname = "test-host";
    po.session.session_id = "dns-test-session";
    po.jsonl_enabled = true;
    po.checkpoint_interval = std::chrono::milliseconds(60'000);
    auto pipeline = audit::Pipeline::start(std::move(po));
    ASSERT_TRUE(pipeline.ok()) << pipeline.error().toString();
    pipeline_ = std::move(pipeline).value();
    session_.hostname = "test-host";
    session_.session_id = "dns-test-session";
  }

  void TearDown() override {
    resolver_.reset();  // stops and joins before the pipeline closes
    if (pipeline_) (void)pipeline_->close();
  }

  static proxy::DnsResolverOptions options(std::vector<std::string> upstreams) {
    proxy::DnsResolverOptions o;
    o.listen_address = "127.0.0.1";
    o.listen_port = 0;
    o.upstreams = std::move(upstreams);
    o.upstream_timeout = std::chrono::milliseconds(400);
    o.caller_lookup_timeout = std::chrono::milliseconds(3000);  // a busy host's /proc scan
    return o;
  }

  // Starts the resolver with real /proc caller identity (this host's network namespace).
  bool startResolver(proxy::DnsResolverOptions o) {
    proxy::CallerLookupOptions lo;
    lo.use_sock_diag = false;
    auto ids = proxy::CallerIdentityResolver::create(lo);
    if (!ids.ok()) {
      ADD_FAILURE() << ids.error().toString();
      return false;
    }
    auto lookup = proxy::makeDnsCallerLookup(std::shared_ptr<proxy::CallerIdentityResolver>(std::move(ids).value()));
    auto resolver = proxy::DnsResolver::create(std::move(o), *pipeline_, session_, std::move(lookup));
    if (!resolver.ok()) {
      ADD_FAILURE() << resolver.error().toString();
      return false;
    }
    resolver_ = std::move(resolver).value();
    resolver_->start();
    return true;
  }
  bool startResolver() { return startResolver(options({dnsmasq_->address()})); }

  CommandResult dig(const std::string& args) const {
    return runCommand(fmt::format("dig -p {} @127.0.0.1 +tries=1 +timeout=5 {}", resolver_->udpPort(), args));
  }

  std::string shorthand() const {
    std::error_code ec;
    const auto path = dir_ / "logs" / "warden.log";
    return std::filesystem::exists(path, ec) ? readFile(path) : "";
  }
  std::string waitForLine(const std::vector<std::string>& parts) const {
    std::string found;
    waitFor([&] {
      std::istringstream lines(shorthand());
      std::string line;
      while (std::getline(lines, line)) {
        bool all = true;
        for (const auto& p : parts) all = all && line.find(p) != std::string::npos;
        if (all) {
          found = line;
          return true;
        }
      }
      return false;
    });
    return found;
  }
  // The JSONL line of the first event matching `match`, waiting for it.
  std::string waitForJson(const std::function<bool(const nlohmann::json&)>& match) const {
    std::string found;
    waitFor([&] {
      std::error_code ec;
      const auto path = dir_ / "logs" / "warden-ocsf.log";
      if (!std::filesystem::exists(path, ec)) return false;
      std::istringstream lines(readFile(path));
      std::string line;
      while (std::getline(lines, line)) {
        auto j = nlohmann::json::parse(line, nullptr, false);
        if (!j.is_discarded() && match(j)) {
          found = line;
          return true;
        }
      }
      return false;
    });
    return found;
  }
  void expectValid(const std::string& line) const {
    ASSERT_FALSE(line.empty());
    if (!schema_) GTEST_SKIP() << "OCSF schema not found at " << schemaPath();
    const ocsf::Validator validator(*schema_);
    std::string report;
    for (const auto& p : validator.validateLine(line)) report += "\n  " + p.path + ": " + p.message;
    EXPECT_TRUE(report.empty()) << report << "\n" << line;
  }
  static std::function<bool(const nlohmann::json&)> dnsEventFor(const std::string& hostname) {
    return [hostname](const nlohmann::json& j) {
      return j.value("class_uid", 0) == 4003 && j.contains("query") && j["query"].value("hostname", "") == hostname;
    };
  }
  // The resolver still answers after whatever the test did.
  void expectStillResolves() {
    const auto r = dig("+short a.example.test A");
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(r.output, "10.9.8.7\n");
  }

  static std::unique_ptr<ocsf::Schema> schema_;
  TempDir dir_;
  std::unique_ptr<Dnsmasq> dnsmasq_;
  std::unique_ptr<audit::Pipeline> pipeline_;
  ocsf::SessionContext session_;
  std::unique_ptr<proxy::DnsResolver> resolver_;
};

std::unique_ptr<ocsf::Schema> DnsResolverTest::schema_;

TEST_F(DnsResolverTest, AQueryIsAnsweredAndRecordedWithDigAsTheActor) {
  ASSERT_TRUE(startResolver());
  const auto r = dig("+short a.example.test A");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "10.9.8.7\n");
  const std::string line = waitForLine({"DNS:QUERY [INFO]", "a.example.test A [answers:10.9.8.7]"});
  ASSERT_FALSE(line.empty()) << shorthand();
  EXPECT_NE(line.find(" OCSF DNS:QUERY [INFO] dig("), std::string::npos) << line;
  const std::string json = waitForJson(dnsEventFor("a.example.test"));
  expectValid(json);
  const auto j = nlohmann::json::parse(json);
  EXPECT_EQ(j["activity_id"], 1);
  EXPECT_EQ(j["rcode_id"], 0);
  EXPECT_EQ(j["answers"][0]["rdata"], "10.9.8.7");
  EXPECT_EQ(j["dst_endpoint"]["port"], resolver_->udpPort());
  EXPECT_EQ(j["src_endpoint"]["ip"], "127.0.0.1");
  EXPECT_EQ(j["actor"]["process"]["name"], "dig");
  EXPECT_GE(resolver_->queries(), 1u);
}

TEST_F(DnsResolverTest, AaaaQueryIsAnsweredAndRecorded) {
  ASSERT_TRUE(startResolver());
  const auto r = dig("+short dual.other.test AAAA");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "fd00::7\n");
  EXPECT_FALSE(waitForLine({"DNS:QUERY [INFO]", "dual.other.test AAAA [answers:fd00::7]"}).empty()) << shorthand();
  expectValid(waitForJson(dnsEventFor("dual.other.test")));
  expectStillResolves();
}

TEST_F(DnsResolverTest, NxdomainIsRelayedAndRecordedLow) {
  ASSERT_TRUE(startResolver());
  const auto r = dig("missing.nx.test A");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("status: NXDOMAIN"), std::string::npos) << r.output;
  EXPECT_FALSE(waitForLine({"DNS:QUERY [LOW]", "missing.nx.test A", "[rcode:NXDOMAIN]"}).empty()) << shorthand();
  const std::string json = waitForJson(dnsEventFor("missing.nx.test"));
  expectValid(json);
  EXPECT_EQ(nlohmann::json::parse(json)["rcode_id"], 3);
  expectStillResolves();
}

TEST_F(DnsResolverTest, SilentUpstreamGivesServfailWithinTheTimeoutThenTheNextUpstreamAnswers) {
  BlackHole hole;
  ASSERT_NE(hole.port(), 0);
  // Only the silent upstream: SERVFAIL after one timeout.
  ASSERT_TRUE(startResolver(options({hole.address()})));
  const auto started = std::chrono::steady_clock::now();
  const auto r = dig("a.example.test A");
  const auto elapsed = std::chrono::steady_clock::now() - started;
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("status: SERVFAIL"), std::string::npos) << r.output;
  EXPECT_LT(elapsed, std::chrono::milliseconds(3000));  // 400 ms upstream timeout; dig waits 5 s
  EXPECT_FALSE(waitForLine({"DNS:QUERY [LOW]", "a.example.test A", "[rcode:SERVFAIL]"}).empty()) << shorthand();
  expectValid(waitForJson(dnsEventFor("a.example.test")));

  // Silent first, dnsmasq second: answered after the first try times out.
  resolver_.reset();
  ASSERT_TRUE(startResolver(options({hole.address(), dnsmasq_->address()})));
  expectStillResolves();
}

TEST_F(DnsResolverTest, TcpQueryIsForwardedAndRecorded) {
  ASSERT_TRUE(startResolver());
  ASSERT_EQ(resolver_->tcpPort(), resolver_->udpPort());
  const auto r = dig("+tcp +short dual.other.test A");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "10.1.2.3\n");
  const std::string line = waitForLine({"DNS:QUERY [INFO]", "dual.other.test A [answers:10.1.2.3]"});
  ASSERT_FALSE(line.empty()) << shorthand();
  EXPECT_NE(line.find("dig("), std::string::npos) << line;  // the TCP client identified too
  expectValid(waitForJson(dnsEventFor("dual.other.test")));
  expectStillResolves();
}

// Sends `bytes` from a fresh UDP socket and waits up to `timeout` for one reply.
std::vector<uint8_t> exchangeUdp(uint16_t port, const std::vector<uint8_t>& bytes, std::chrono::milliseconds timeout) {
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::sendto(fd.get(), bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0) {
    return {};
  }
  pollfd p{fd.get(), POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return {};
  std::vector<uint8_t> reply(65535);
  const ssize_t n = ::recv(fd.get(), reply.data(), reply.size(), 0);
  reply.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return reply;
}

TEST_F(DnsResolverTest, GarbageGetsFormerrAndAnEventAndTheResolverKeepsWorking) {
  ASSERT_TRUE(startResolver());
  // A header (id 0xbeef, a query) followed by a label that runs past the end.
  const std::vector<uint8_t> garbage = {0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 40, 'x', 'y', 'z', 0xff};
  const auto reply = exchangeUdp(resolver_->udpPort(), garbage, std::chrono::seconds(5));
  ASSERT_GE(reply.size(), proxy::kDnsHeaderBytes);
  auto parsed = proxy::parseDnsMessage(reply);
  ASSERT_TRUE(parsed.ok()) << parsed.error().toString();
  EXPECT_EQ(parsed->id, 0xbeef);
  EXPECT_TRUE(parsed->is_response);
  EXPECT_EQ(parsed->rcode, proxy::kDnsFormErr);
  const std::string line = waitForLine({"EVENT:DNS [LOW]", "malformed DNS query, answered FORMERR"});
  ASSERT_FALSE(line.empty()) << shorthand();
  expectValid(waitForJson([](const nlohmann::json& j) {
    return j.value("class_uid", -1) == 0 && j.value("message", "").find("malformed DNS query") != std::string::npos;
  }));

  // Too short for a header: nothing to answer, still recorded; then a real query works.
  EXPECT_TRUE(exchangeUdp(resolver_->udpPort(), {0x01, 0x02, 0x03}, std::chrono::milliseconds(300)).empty());
  EXPECT_FALSE(waitForLine({"EVENT:DNS [LOW]", "not answered", "shorter than the 12-byte header"}).empty());
  expectStillResolves();
  EXPECT_GE(resolver_->queries(), 3u);
}

TEST_F(DnsResolverTest, QueriesOverTheInFlightLimitAreRefusedAndRecorded) {
  BlackHole hole;
  ASSERT_NE(hole.port(), 0);
  auto o = options({hole.address()});
  o.max_in_flight = 1;
  o.upstream_timeout = std::chrono::milliseconds(1500);
  ASSERT_TRUE(startResolver(std::move(o)));
  // The first query waits on the silent upstream; the second is over the limit.
  const std::vector<uint8_t> first = {0x00, 0x01, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0, 0, 1, 0, 1};
  const std::vector<uint8_t> second = {0x00, 0x02, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'b', 0, 0, 1, 0, 1};
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(resolver_->udpPort());
  ASSERT_GT(::sendto(fd.get(), first.data(), first.size(), 0, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_TRUE(waitFor([&] { return resolver_->queries() >= 1; }));
  const auto reply = exchangeUdp(resolver_->udpPort(), second, std::chrono::seconds(1));
  auto parsed = proxy::parseDnsMessage(reply);
  ASSERT_TRUE(parsed.ok()) << parsed.error().toString();
  EXPECT_EQ(parsed->id, 2);
  EXPECT_EQ(parsed->rcode, proxy::kDnsRefused);
  EXPECT_EQ(resolver_->refused(), 1u);
  EXPECT_FALSE(waitForLine({"DNS:QUERY [LOW]", " b A", "[rcode:REFUSED]"}).empty()) << shorthand();
  EXPECT_FALSE(waitForLine({"DNS:QUERY [LOW]", " a A", "[rcode:SERVFAIL]"}).empty()) << shorthand();
}

TEST_F(DnsResolverTest, CreateRejectsBadAddressesAndUpstreams) {
  auto bad_listen = options({dnsmasq_->address()});
  bad_listen.listen_address = "localhost";
  auto r1 = proxy::DnsResolver::create(bad_listen, *pipeline_, session_);
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.error().code(), Code::kInvalidArgument);
  auto r2 = proxy::DnsResolver::create(options({"127.0.0.1:99999"}), *pipeline_, session_);
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.error().message().find("port"), std::string::npos) << r2.error().toString();
  auto no_conf = options({});
  no_conf.resolv_conf = (dir_ / "absent.conf").string();
  EXPECT_FALSE(proxy::DnsResolver::create(no_conf, *pipeline_, session_).ok());
  writeFile(dir_ / "resolv.conf", "# comment\nsearch x\nnameserver 127.0.0.1\nnameserver fe80::1%eth0\n");
  auto from_conf = options({});
  from_conf.resolv_conf = (dir_ / "resolv.conf").string();
  auto r3 = proxy::DnsResolver::create(from_conf, *pipeline_, session_);
  ASSERT_TRUE(r3.ok()) << r3.error().toString();
  ASSERT_EQ((*r3)->upstreams().size(), 2u);
  EXPECT_EQ((*r3)->upstreams()[0].port(), 53);
  EXPECT_EQ((*r3)->upstreams()[1].address().to_string(), "fe80::1");
}

}  // namespace
}  // namespace warden::testing
