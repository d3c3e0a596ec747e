// Real `warden run --gateway` sessions against a real gateway (issue 5): the JSONL toggle reaching a
// running session, and the outage test — the gateway killed for 30 s in the middle of a busy session
// and restarted — on SQLite and on PostgreSQL. Everything runs on loopback and in the sandbox's own
// network namespace; nothing leaves this machine.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <algorithm>
#include <functional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "gateway/service/gateway_server.h"
#include "gateway/store/postgres/postgres_store.h"
#include "gateway/store/sqlite/sqlite_store.h"
#include "support/child_process.h"
#include "support/postgres_server.h"
#include "support/sandbox_fixtures.h"
#include "support/test_env.h"

namespace warden::testing {
namespace {

using ::testing::HasSubstr;
using std::chrono::milliseconds;
using std::chrono::seconds;

// The busy agent: a denied request through the proxy over and over (each one a few events).
constexpr const char* kBusyAgent = "while :; do curl -s -o /dev/null http://denied.example/ ; sleep 0.05; done";

size_t countOf(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// The highest sequence in a warden.log (its final checkpoint's own sequence is one more than its
// last_seq; the checkpoint line says "[seq:a-b ... final:true]").
uint64_t finalSequence(const std::string& log) {
  std::smatch m;
  if (!std::regex_search(log, m, std::regex("\\[seq:\\d+-(\\d+) head:[0-9a-f]+ key:[0-9a-f]+ final:true\\]"))) return 0;
  return std::stoull(m[1]) + 1;
}

class GatewaySession : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string why = sandboxUnavailableReason();
    if (!why.empty()) GTEST_SKIP() << why;
    log_dir_ = tmp_ / "log";
    policy_ = tmp_ / "policy.yaml";
    writeFile(policy_, "version: 1\nfilesystem:\n  read_only: [/usr, /lib, /lib64, /bin, /sbin, /etc]\n"
                       "  read_write: [" + ws_.path().string() + "]\n");
  }

  // `warden run --gateway URL ... -- sh -c SCRIPT` in the background.
  std::unique_ptr<ChildProcess> startSession(const std::string& gateway, const std::string& script) {
    std::string why;
    auto p = ChildProcess::start({.argv = {wardenBinary().string(), "run", "--gateway", gateway, "--gateway-poll",
                                           "200ms", "--log-dir", log_dir_.string(), "--policy", policy_.string(),
                                           "--spool-dir", (tmp_ / "spool").string(), "--", "sh", "-c", script},
                                  .working_directory = ws_.path()},
                                 &why);
    EXPECT_NE(p, nullptr) << why;
    return p;
  }
  std::string log() const { return readFile(log_dir_ / "warden.log"); }
  size_t logEvents() const { return countOf(log(), " OCSF "); }
  void outageTest(const std::string& db, const std::function<std::unique_ptr<gateway::EventStore>()>& open);

  TempDir tmp_;
  Workspace ws_;
  std::filesystem::path log_dir_;
  std::filesystem::path policy_;
};

TEST_F(GatewaySession, TogglingOcsfJsonOnTheGatewayStartsAndStopsTheJsonlFileOfARunningSession) {
  gateway::GatewayServerOptions o;
  o.listen = "127.0.0.1:0";
  o.db = "sqlite://" + (tmp_ / "gateway.db").string();
  o.log_dir = tmp_ / "gwlog";
  o.operator_socket = "none";
  auto server = gateway::GatewayServer::start(o);
  ASSERT_TRUE(server.ok()) << server.error().toString();
  const std::string url = "127.0.0.1:" + std::to_string((*server)->port());
  auto session = startSession(url, kBusyAgent);
  ASSERT_NE(session, nullptr);
  ASSERT_TRUE(waitFor([&] { return log().find("LIFECYCLE:READY [INFO] gateway") != std::string::npos; }, seconds(30)))
      << log() << session->output();
  EXPECT_THAT(log(), HasSubstr("registered, config applied"));
  const auto jsonl = log_dir_ / "warden-ocsf.log";
  EXPECT_FALSE(std::filesystem::exists(jsonl)) << "off by default";

  // On: the file appears and fills while the session runs.
  ASSERT_TRUE((*server)->settings().setText(gateway::SettingScope::global(), "ocsf_json_enabled", "true").ok());
  const auto asked = std::chrono::steady_clock::now();
  ASSERT_TRUE(waitFor([&] { return std::filesystem::exists(jsonl); }, seconds(10))) << log();
  const auto took = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - asked);
  std::printf("JSONL file created %lld ms after the setting changed (poll interval 200 ms)\n",
              static_cast<long long>(took.count()));
  ASSERT_TRUE(waitFor([&] { return countOf(readFile(jsonl), "\n") > 20; }, seconds(20)));
  EXPECT_THAT(readFile(jsonl), HasSubstr("OCSF JSONL output enabled"));

  // Off: the disable record is the file's last line and nothing is written after it.
  ASSERT_TRUE((*server)->settings().setText(gateway::SettingScope::global(), "ocsf_json_enabled", "false").ok());
  ASSERT_TRUE(waitFor([&] { return readFile(jsonl).find("OCSF JSONL output disabled") != std::string::npos; },
                      seconds(10)));
  const std::string frozen = readFile(jsonl);
  const size_t events_then = logEvents();
  ASSERT_TRUE(waitFor([&] { return logEvents() > events_then + 20; }, seconds(20))) << "the session keeps recording";
  EXPECT_EQ(readFile(jsonl), frozen) << "writes stop on disable";
  EXPECT_NE(session->terminate(seconds(30)), -1) << "the session ends on SIGTERM";
  const std::string text = log();
  EXPECT_EQ(countOf(text, "CONFIG:UPDATED [INFO] OCSF JSONL output enabled [config_revision:"), 1u) << text;
  EXPECT_EQ(countOf(text, "CONFIG:UPDATED [INFO] OCSF JSONL output disabled [config_revision:"), 1u) << text;
}

TEST_F(GatewaySession, ANetworkPolicyServedByTheGatewayIsHotReloadedIntoARunningSession) {
  std::string why;
  auto upstream = UpstreamHost::create(&why);
  ASSERT_TRUE(upstream) << why;
  const std::string served_file = (tmp_ / "served.yaml").string();
  // Not byte for byte the session's own policy.yaml (an identical policy is no change).
  const std::string filesystem = "# served by the gateway\nversion: 1\nfilesystem:\n  read_only: [/usr, /lib, /lib64, /bin, /sbin, /etc]\n"
                                 "  read_write: [" + ws_.path().string() + "]\n";
  writeFile(served_file, filesystem);  // no network rule: every request is denied
  gateway::GatewayServerOptions o;
  o.listen = "127.0.0.1:0";
  o.db = "sqlite://" + (tmp_ / "gateway.db").string();
  o.log_dir = tmp_ / "gwlog";
  o.operator_socket = "none";
  o.policy_file = served_file;
  o.policy_check_interval = milliseconds(100);
  auto server = gateway::GatewayServer::start(o);
  ASSERT_TRUE(server.ok()) << server.error().toString();
  const std::string url = "127.0.0.1:" + std::to_string((*server)->port());
  const auto codes = ws_ / "codes";
  auto session = startSession(url, "while :; do curl -s -m 5 -o /dev/null -w '%{http_code}\\n' http://" +
                                       upstream->ip() + ":8080/status.json >> " + codes.string() + "; sleep 0.2; done");
  ASSERT_NE(session, nullptr);
  ASSERT_TRUE(waitFor([&] { return readFile(codes).find("403") != std::string::npos; }, seconds(30)))
      << log() << session->output();
  EXPECT_THAT(log(), HasSubstr("policy from the gateway (revision "));
  EXPECT_THAT(log(), HasSubstr("in force for the whole session"));
  EXPECT_EQ(upstream->requestLog().find("GET /status.json"), std::string::npos) << "denied before the change";

  // The operator allows the upstream on the gateway; the running session picks it up.
  writeFile(served_file, filesystem + "network:\n  local_api:\n    endpoints:\n      - { host: \"" + upstream->ip() +
                             "\", ports: [8080], protocol: rest, access: read-only, allowed_ips: [" + upstream->ip() +
                             "/32] }\n    binaries: [ { path: /usr/bin/curl } ]\n");
  ASSERT_TRUE(waitFor([&] { return readFile(codes).find("200") != std::string::npos; }, seconds(30))) << log();
  EXPECT_THAT(upstream->requestLog(), HasSubstr("\"GET /status.json HTTP/1.1\" 200"));
  EXPECT_NE(session->terminate(seconds(30)), -1);
  const std::string text = log();
  EXPECT_EQ(countOf(text, "network rules hot-reloaded"), 1u) << text;
  EXPECT_THAT(text, HasSubstr("HTTP:GET [INFO] ALLOWED curl("));
  // The gateway recorded what it served, in its own trail.
  const std::string gw_log = readFile((*server)->gatewayLogDir() / "warden.log");
  EXPECT_THAT(gw_log, HasSubstr("serving policy " + served_file + " (version 1)"));
  EXPECT_THAT(gw_log, HasSubstr("serving policy " + served_file + " (version 2)"));
}

// The outage test, against a `warden gateway` process on `db`; `open` opens the same store here.
void GatewaySession::outageTest(const std::string& db, const std::function<std::unique_ptr<gateway::EventStore>()>& open) {
  // Sessions reach the gateway over TCP; the operator (verify below) over its unix socket, as root.
  const std::string operator_socket = (tmp_ / "operator.sock").string();
  auto startGateway = [&](const std::string& listen) {
    std::string why;
    auto g = ChildProcess::start({.argv = {wardenBinary().string(), "gateway", "--listen", listen, "--db", db, "--log-dir",
                                               (tmp_ / "gwlog").string(), "--operator-socket", operator_socket}},
                                 &why);
    EXPECT_NE(g, nullptr) << why;
    return g;
  };
  auto gw = startGateway("127.0.0.1:0");
  ASSERT_NE(gw, nullptr);
  const std::string line = gw->waitForLine("listening on", seconds(30));
  std::smatch m;
  ASSERT_TRUE(std::regex_search(line, m, std::regex("listening on (127\\.0\\.0\\.1:\\d+)"))) << gw->output();
  const std::string url = m[1];
  auto session = startSession(url, kBusyAgent);
  ASSERT_NE(session, nullptr);

  auto store = open();
  ASSERT_NE(store, nullptr);
  std::string id;
  auto stored = [&]() -> uint64_t {
    if (id.empty()) {
      auto all = store->sessions();
      if (!all.ok()) return 0;
      for (const auto& s : *all) {
        if (s.name != "gateway") {  // the gateway's own audit trail is a session too
          id = s.id;
          break;
        }
      }
      if (id.empty()) return 0;
    }
    auto h = store->highestContiguous(id);
    return h.ok() ? *h : 0;
  };
  ASSERT_TRUE(waitFor([&] { return stored() >= 50; }, seconds(60))) << log();

  // Killed, not stopped: no goodbye, whatever was in flight is lost on the gateway's side.
  EXPECT_EQ(gw->signalAndWait(SIGKILL, seconds(10)), 128 + SIGKILL);
  const uint64_t before = stored();
  ASSERT_TRUE(waitFor([&] { return log().find("LOG:GATEWAY_UNREACHABLE") != std::string::npos; }, seconds(20))) << log();
  std::this_thread::sleep_for(seconds(30));  // the outage itself (the scenario, not a synchronisation)
  ASSERT_TRUE(waitFor([&] { return countOf(log(), " OCSF ") > before + 200; }, seconds(60)))
      << "the session kept recording through the outage";
  gw = startGateway(url);
  ASSERT_NE(gw, nullptr);
  ASSERT_THAT(gw->waitForLine("listening on", seconds(30)), HasSubstr(url)) << gw->output();
  ASSERT_TRUE(waitFor([&] { return log().find("LOG:GATEWAY_RECONNECTED") != std::string::npos; }, seconds(30))) << log();

  // The end of the session: everything, final checkpoint included, reaches the gateway.
  session->terminate(seconds(60));
  const std::string text = log();
  const uint64_t n = finalSequence(text);
  ASSERT_GT(n, before + 200) << text;
  ASSERT_TRUE(waitFor([&] { return stored() == n; }, seconds(30))) << "stored " << stored() << " of " << n;
  auto all = store->query({.session = id, .limit = gateway::kMaxQueryLimit});
  ASSERT_TRUE(all.ok()) << all.error().toString();
  ASSERT_EQ(all->size(), n) << "1..N, each exactly once";
  for (size_t i = 0; i < all->size(); ++i) ASSERT_EQ((*all)[i].sequence, i + 1);
  EXPECT_EQ(countOf(text, "LOG:GATEWAY_UNREACHABLE"), 1u) << "one outage, recorded once";
  EXPECT_EQ(countOf(text, "LOG:GATEWAY_RECONNECTED"), 1u);
  EXPECT_THAT(session->output(), ::testing::Not(HasSubstr("not acknowledged")));
  const auto verify = runCommand(wardenBinary().string() + " audit verify --gateway unix:" + operator_socket +
                                 " --session " + id + " 2>&1");
  EXPECT_EQ(verify.status, 0) << verify.output;
}

TEST_F(GatewaySession, AGatewayKilledForThirtySecondsLosesNothingOnSqlite) {
  const auto db = tmp_ / "gateway.db";
  outageTest("sqlite://" + db.string(), [&]() -> std::unique_ptr<gateway::EventStore> {
    auto s = gateway::openSqliteStore(db);
    return s.ok() ? std::move(*s) : nullptr;
  });
}

TEST_F(GatewaySession, AGatewayKilledForThirtySecondsLosesNothingOnPostgres) {
  std::string why;
  auto pg = PostgresServer::start(&why);
  if (pg == nullptr) GTEST_SKIP() << why;
  ASSERT_TRUE(pg->createDatabase("outage", &why)) << why;
  const std::string url = pg->url("outage");
  outageTest(url, [&]() -> std::unique_ptr<gateway::EventStore> {
    auto s = gateway::openPostgresStore(url);
    return s.ok() ? std::move(*s) : nullptr;
  });
}

TEST_F(GatewaySession, EventsOfASupervisorKilledWhileTheGatewayWasDownAreSentByTheNextSession) {
  // No gateway at all: the port is free (a listener bound and closed again).
  gateway::GatewayServerOptions o;
  o.listen = "127.0.0.1:0";
  o.db = "sqlite://" + (tmp_ / "gateway.db").string();
  o.log_dir = tmp_ / "gwlog";
  o.operator_socket = "none";
  auto probe = gateway::GatewayServer::start(o);
  ASSERT_TRUE(probe.ok()) << probe.error().toString();
  const int port = (*probe)->port();
  (*probe)->stop();
  probe->reset();
  const std::string url = "127.0.0.1:" + std::to_string(port);

  auto session = startSession(url, "while :; do sleep 1; done");
  ASSERT_NE(session, nullptr);
  ASSERT_TRUE(waitFor([&] { return log().find("SESSION:START") != std::string::npos; }, seconds(30))) << log();
  EXPECT_THAT(log(), HasSubstr("LOG:GATEWAY_UNREACHABLE"));
  EXPECT_EQ(session->signalAndWait(SIGKILL, seconds(10)), 128 + SIGKILL);
  // Its spool holds what it recorded (LOG:START ... SESSION:START at least).
  const auto spools = tmp_ / "spool";
  size_t leftovers = 0;
  for (const auto& e : std::filesystem::directory_iterator(spools)) leftovers += e.is_directory();
  ASSERT_EQ(leftovers, 1u);
  const uint64_t recorded = countOf(log(), " OCSF ");

  o.listen = url;
  auto server = gateway::GatewayServer::start(o);
  ASSERT_TRUE(server.ok()) << server.error().toString();
  log_dir_ = tmp_ / "log2";
  auto next = startSession(url, "true");
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(next->signalAndWait(0, seconds(60)), 0) << next->output();
  auto sessions = (*server)->store().sessions();
  ASSERT_TRUE(sessions.ok());
  std::vector<std::string> ids;  // the sandbox sessions, not the gateway's own audit trail
  for (const auto& s : *sessions) {
    if (s.name != "gateway") ids.push_back(s.id);
  }
  ASSERT_EQ(ids.size(), 2u);
  // Ids are UUIDv7: the killed session's sorts first.
  std::sort(ids.begin(), ids.end());
  auto crashed_stored = (*server)->store().highestContiguous(ids.front());
  ASSERT_TRUE(crashed_stored.ok());
  EXPECT_GE(*crashed_stored, recorded) << "every event the killed supervisor recorded reached the gateway";
  EXPECT_THAT(readFile(log_dir_ / "warden.log"), HasSubstr("leftover events of earlier session"));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(spools), std::filesystem::directory_iterator()), 0)
      << "both spools are gone once acknowledged";
}

}  // namespace
}  // namespace warden::testing
