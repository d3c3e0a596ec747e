// The operator's commands against a real `warden gateway` process (127.0.0.1:0 for sessions, its
// operator socket in the temp dir for the commands, SQLite in a temp
// dir): `warden sessions list`, `warden logs`, `warden settings`, `warden audit query` and
// `warden audit verify --session`, with a real session's events (written by `warden audit generate`
// through the real pipeline, registered with its LOG:START key and pushed with its token).

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "support/child_process.h"
#include "support/generated_session.h"
#include "support/sqlite_exec.h"
#include "support/test_env.h"
#include "warden/v1/gateway.grpc.pb.h"

namespace warden::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

std::string joinLines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

GeneratedSession generate(const std::filesystem::path& dir, int events) { return generateSession(dir, events); }

size_t countOf(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

class GatewayClientE2E : public ::testing::Test {
 protected:
  // More of `warden gateway`'s command line (a derived fixture's; called by SetUp()).
  virtual std::vector<std::string> extraArgs() { return {}; }
  void SetUp() override {
    ChildProcess::Options options;
    options.argv = {wardenBinary().string(),
                    "gateway",
                    "--listen",
                    "127.0.0.1:0",
                    "--db",
                    "sqlite://" + db(),
                    "--log-dir",
                    (dir_ / "trail").string(),
                    "--operator-socket",
                    (dir_ / "operator.sock").string()};
    for (auto& arg : extraArgs()) options.argv.push_back(std::move(arg));
    options.unset_env = {"WARDEN_OCSF_LOGGING", "WARDEN_GATEWAY"};
    gateway_ = ChildProcess::start(options);
    ASSERT_TRUE(gateway_);
    const std::string line = gateway_->waitForLine("listening on 127.0.0.1:");
    ASSERT_FALSE(line.empty()) << gateway_->output();
    const std::smatch m = [&] {
      std::smatch sm;
      std::regex_search(line, sm, std::regex("127\\.0\\.0\\.1:[0-9]+"));
      return sm;
    }();
    ASSERT_FALSE(m.empty()) << line;
    address_ = m.str();
    operator_url_ = "unix:" + (dir_ / "operator.sock").string();
    stub_ = v1::Gateway::NewStub(grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
  }

  std::string db() const { return (dir_ / "gateway.db").string(); }

  // `warden ARGS`; stdout and stderr apart.
  struct Run {
    int status = -1;
    std::string out, err;
  };
  Run warden(const std::string& args, const std::string& env = "") {
    const auto err_file = dir_ / "stderr.txt";
    // WARDEN_GATEWAY is cleared unless the test sets it: the runner's environment must not leak in.
    const std::string prefix = env.empty() ? std::string("WARDEN_GATEWAY= ") : env + " ";
    // runCommand() appends 2>&1 to the whole line; the group keeps stderr in its own file.
    const auto r =
        runCommand("{ " + prefix + wardenBinary().string() + " " + args + " 2>" + err_file.string() + "; }");
    return Run{r.status, r.output, readFile(err_file)};
  }
  // The operator's commands go to the operator socket (this test runs as root, its operator).
  std::string gw() const { return " --gateway " + operator_url_; }

  std::string registerSession(const std::string& id, const std::string& name, const std::string& key) {
    grpc::ClientContext ctx;
    v1::RegisterSessionRequest req;
    req.set_id(id);
    req.set_name(name);
    req.set_public_key(key);
    v1::RegisterSessionResponse resp;
    const grpc::Status st = stub_->RegisterSession(&ctx, req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.token();
  }

  // Pushes lines [from, to) of `g` as a session would (sequence and time from the JSON, shorthand
  // from the warden.log line); returns the acknowledged sequence.
  uint64_t push(const GeneratedSession& g, const std::string& token, size_t from, size_t to) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + token);
    auto stream = stub_->PushEvents(&ctx);
    uint64_t acked = 0;
    for (size_t i = from; i < to;) {
      v1::PushEventsRequest req;
      req.set_session_id(g.id);
      for (; i < to && req.events_size() < 1000; ++i) {
        const auto j = nlohmann::json::parse(g.json[i]);
        auto* e = req.add_events();
        e->set_session_id(g.id);
        e->set_sequence(j["metadata"]["sequence"].get<uint64_t>());
        e->set_time_ms(j["time"].get<int64_t>());
        e->set_json(g.json[i]);
        e->set_shorthand(g.log_lines[i].substr(g.log_lines[i].find(" OCSF ") + 6));
      }
      v1::PushEventsResponse resp;
      EXPECT_TRUE(stream->Write(req));
      EXPECT_TRUE(stream->Read(&resp));
      EXPECT_TRUE(resp.error().empty()) << resp.error();
      acked = resp.acknowledged_through();
    }
    stream->WritesDone();
    v1::PushEventsResponse ignored;
    while (stream->Read(&ignored)) {
    }
    EXPECT_TRUE(stream->Finish().ok());
    return acked;
  }

  // A generated session, registered with its LOG:START key and pushed whole.
  GeneratedSession storedSession(int events, const std::string& name = "generated") {
    GeneratedSession g = generate(dir_ / ("logs-" + name), events);
    const std::string token = registerSession(g.id, name, g.public_key);
    EXPECT_EQ(push(g, token, 0, g.json.size()), g.json.size());
    return g;
  }

  void sql(const std::string& statement) {
    const SqliteOutcome r = execSqlite(db(), statement);
    ASSERT_EQ(r.rc, SQLITE_OK) << r.message;
    ASSERT_EQ(r.changed, 1) << statement;
  }

  TempDir dir_;
  std::unique_ptr<ChildProcess> gateway_;
  std::string address_;       // TCP: where sessions register and push
  std::string operator_url_;  // unix:PATH: where the operator's commands go
  std::unique_ptr<v1::Gateway::Stub> stub_;
};

// ---- help and reaching the gateway ---------------------------------------------------------------

TEST_F(GatewayClientE2E, EveryCommandHasHelp) {
  for (const char* cmd :
       {"logs --help", "sessions list --help", "settings get --help", "settings set --help",
        "settings delete --help", "settings list --help", "audit query --help", "audit verify --help"}) {
    const auto r = warden(cmd);
    EXPECT_EQ(r.status, 0) << cmd << "\n" << r.err;
    EXPECT_THAT(r.out, HasSubstr("--json")) << cmd;
  }
}

TEST_F(GatewayClientE2E, AnUnreachableGatewayIsAClearFailureNotAHang) {
  // Stop the gateway: its port is then closed.
  ASSERT_EQ(gateway_->terminate(), 0) << gateway_->output();
  const auto start = std::chrono::steady_clock::now();
  for (const std::string cmd : {"sessions list", "logs some-session", "settings get ocsf_json_enabled",
                                "audit query --domain x.test", "audit verify --session s"}) {
    const auto r = warden(cmd + gw());
    EXPECT_EQ(r.status, 1) << cmd << "\n" << r.err;
    EXPECT_THAT(r.err, HasSubstr("gateway " + operator_url_ + " unreachable")) << cmd;
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

TEST_F(GatewayClientE2E, TheGatewayComesFromTheEnvironmentWhenNoFlagIsGiven) {
  registerSession("env-session", "from-env", "");
  const auto r = warden("sessions list", "WARDEN_GATEWAY=" + operator_url_);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("env-session"));
  const auto flag_wins = warden("sessions list --gateway 127.0.0.1:1", "WARDEN_GATEWAY=" + operator_url_);
  EXPECT_EQ(flag_wins.status, 1);
  EXPECT_THAT(flag_wins.err, HasSubstr("gateway 127.0.0.1:1 unreachable"));
}

TEST_F(GatewayClientE2E, AMalformedGatewayUrlIsAUsageError) {
  const auto r = warden("sessions list --gateway ftp://host:1");
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("scheme"));
}

// ---- sessions --------------------------------------------------------------------------------------

TEST_F(GatewayClientE2E, SessionsListShowsStateReasonExitAndSequence) {
  const GeneratedSession g = storedSession(200);
  const auto r = warden("sessions list" + gw());
  ASSERT_EQ(r.status, 0) << r.err;
  const auto lines = splitLines(r.out);
  ASSERT_GE(lines.size(), 2u);
  EXPECT_THAT(lines[0], StartsWith("ID "));
  EXPECT_THAT(lines[0], HasSubstr("STATE"));
  std::string row;
  for (const auto& l : lines) {
    if (l.starts_with(g.id)) row = l;
  }
  ASSERT_FALSE(row.empty()) << r.out;
  EXPECT_THAT(row, HasSubstr("generated"));
  EXPECT_THAT(row, HasSubstr(" " + std::to_string(g.json.size()) + " "));

  const auto json = warden("sessions list --json" + gw());
  ASSERT_EQ(json.status, 0) << json.err;
  const auto j = nlohmann::json::parse(json.out);
  bool found = false;
  for (const auto& s : j["sessions"]) {
    if (s["id"] == g.id) {
      found = true;
      EXPECT_EQ(s["highest_sequence"].get<uint64_t>(), g.json.size());
      EXPECT_EQ(s["name"], "generated");
    }
  }
  EXPECT_TRUE(found) << json.out;
}

// ---- logs --------------------------------------------------------------------------------------------

TEST_F(GatewayClientE2E, LogsPrintsExactlyTheSessionsWardenLogLinesAndJsonl) {
  const GeneratedSession g = storedSession(3000);
  const auto text = warden("logs " + g.id + gw());
  ASSERT_EQ(text.status, 0) << text.err;
  EXPECT_EQ(text.out, joinLines(g.log_lines));
  const auto json = warden("logs " + g.id + " --json" + gw());
  ASSERT_EQ(json.status, 0) << json.err;
  EXPECT_EQ(json.out, joinLines(g.json));
}

TEST_F(GatewayClientE2E, LogsFiltersByClassLevelAndSince) {
  const GeneratedSession g = storedSession(1000);
  std::vector<std::string> net_dns, severe;
  for (const auto& l : g.log_lines) {
    if (l.find(" OCSF NET:") != std::string::npos || l.find(" OCSF DNS:") != std::string::npos)
      net_dns.push_back(l);
    if (std::regex_search(l, std::regex(" OCSF [A-Z_]+:[^ ]+ \\[(HIGH|CRIT|FATAL)\\]"))) severe.push_back(l);
  }
  ASSERT_FALSE(net_dns.empty());
  const auto classes = warden("logs " + g.id + " --class net,DNS" + gw());
  ASSERT_EQ(classes.status, 0) << classes.err;
  EXPECT_EQ(classes.out, joinLines(net_dns));
  const auto level = warden("logs " + g.id + " --level HIGH" + gw());
  ASSERT_EQ(level.status, 0) << level.err;
  EXPECT_EQ(level.out, joinLines(severe));
  // --since as RFC 3339: the timestamp of the last line keeps at least that line.
  const std::string last_ts = g.log_lines.back().substr(0, g.log_lines.back().find(' '));
  const auto since = warden("logs " + g.id + " --since " + last_ts + gw());
  ASSERT_EQ(since.status, 0) << since.err;
  const auto since_lines = splitLines(since.out);
  ASSERT_FALSE(since_lines.empty());
  EXPECT_LT(since_lines.size(), g.log_lines.size());
  EXPECT_EQ(since_lines.back(), g.log_lines.back());
  for (const auto& l : since_lines) EXPECT_GE(l.substr(0, last_ts.size()), last_ts);
}

TEST_F(GatewayClientE2E, LogsRefusesBadFiltersAsUsageErrors) {
  for (const char* bad : {"--class NTE", "--level WARN", "--since yesterday"}) {
    const auto r = warden(std::string("logs s ") + bad + gw());
    EXPECT_EQ(r.status, 2) << bad << "\n" << r.err;
  }
  const auto both = warden("logs --gateway " + operator_url_ + " --log-dir " + dir_.path().string());
  EXPECT_EQ(both.status, 2) << both.err;
}

TEST_F(GatewayClientE2E, LogsOfAnUnknownSessionFails) {
  const auto r = warden("logs no-such-session" + gw());
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("no session 'no-such-session'"));
  EXPECT_TRUE(r.out.empty());
}

TEST_F(GatewayClientE2E, LogsWithoutASessionTakesTheOneRunningElseListsThem) {
  // The gateway's own audit trail is a running session too (with events); it is never the default.
  registerSession("run-1", "first", "");
  const auto one = warden("logs" + gw());
  EXPECT_EQ(one.status, 0) << one.err;
  EXPECT_TRUE(one.out.empty()) << "run-1 has no events, the gateway's own session has: " << one.out;

  registerSession("run-2", "second", "");
  const auto two = warden("logs" + gw());
  EXPECT_EQ(two.status, 2) << two.err;
  EXPECT_THAT(two.err, HasSubstr("2 sessions are running"));
  EXPECT_THAT(two.err, HasSubstr("run-1"));
  EXPECT_THAT(two.err, HasSubstr("run-2"));
  EXPECT_THAT(two.err, Not(HasSubstr(" gateway ")));
}

TEST_F(GatewayClientE2E, LogsFollowPrintsEventsPushedLaterAndEndsCleanlyOnSigint) {
  GeneratedSession g = generate(dir_ / "follow", 400);
  const std::string token = registerSession(g.id, "follow", g.public_key);
  const size_t half = g.json.size() / 2;
  ASSERT_EQ(push(g, token, 0, half), half);
  ChildProcess::Options options;
  options.argv = {wardenBinary().string(), "logs", g.id, "--follow", "--gateway", operator_url_};
  auto follower = ChildProcess::start(options);
  ASSERT_TRUE(follower);
  ASSERT_FALSE(follower->waitForLine(g.log_lines[half - 1]).empty()) << follower->output();
  ASSERT_EQ(push(g, token, half, g.json.size()), g.json.size());
  ASSERT_FALSE(follower->waitForLine(g.log_lines.back()).empty()) << follower->output();
  EXPECT_EQ(follower->signalAndWait(SIGINT, std::chrono::seconds(10)), 0) << follower->output();
  EXPECT_EQ(follower->output(), joinLines(g.log_lines));
}

TEST_F(GatewayClientE2E, LogsFromALogDirectoryPrintsItsEventsAndFollowsIt) {
  const GeneratedSession g = generate(dir_ / "dir", 300);
  const auto r = warden("logs --log-dir " + (dir_ / "dir").string());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, joinLines(g.log_lines));
  const auto json = warden("logs --json --class LOG --log-dir " + (dir_ / "dir").string());
  ASSERT_EQ(json.status, 0) << json.err;
  size_t log_events = 0;
  for (const auto& l : g.log_lines) log_events += l.find(" OCSF LOG:") != std::string::npos ? 1 : 0;
  EXPECT_EQ(splitLines(json.out).size(), log_events);

  ChildProcess::Options options;
  options.argv = {wardenBinary().string(), "logs", "--follow", "--log-dir", (dir_ / "dir").string()};
  auto follower = ChildProcess::start(options);
  ASSERT_TRUE(follower);
  ASSERT_FALSE(follower->waitForLine(g.log_lines.back()).empty()) << follower->output();
  const std::string added = "2030-01-01T00:00:00.000Z OCSF FILE:WRITE [INFO] sh(9) /tmp/late";
  std::ofstream(dir_ / "dir" / "warden.log", std::ios::app) << added << "\n";
  ASSERT_FALSE(follower->waitForLine("/tmp/late").empty()) << follower->output();
  EXPECT_EQ(follower->signalAndWait(SIGINT, std::chrono::seconds(10)), 0) << follower->output();
}

TEST_F(GatewayClientE2E, LogsFromAMissingLogDirectoryFails) {
  const auto r = warden("logs --log-dir " + (dir_ / "absent").string());
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("absent"));
}

// ---- settings ----------------------------------------------------------------------------------------

TEST_F(GatewayClientE2E, SettingsSetGetDeleteShowValueSourceAndRevision) {
  registerSession("set-1", "settings", "");
  const auto set = warden("settings set ocsf_json_enabled true --global" + gw());
  ASSERT_EQ(set.status, 0) << set.err;
  EXPECT_THAT(set.out, HasSubstr("ocsf_json_enabled = true (from global; config revision"));

  const auto get = warden("settings get --key ocsf_json_enabled --sandbox set-1 --json" + gw());
  ASSERT_EQ(get.status, 0) << get.err;
  const auto j = nlohmann::json::parse(get.out);
  EXPECT_EQ(j["value"], "true");
  EXPECT_EQ(j["source"], "global");
  EXPECT_EQ(j["session"], "set-1");
  ASSERT_TRUE(j["config_revision"].is_number_unsigned()) << get.out;
  const uint64_t revision = j["config_revision"].get<uint64_t>();

  const auto session_value =
      warden("settings set --key ocsf_json_enabled --value false --sandbox settings" + gw());
  ASSERT_EQ(session_value.status, 0) << session_value.err;
  // The global value still wins over the session's own.
  EXPECT_THAT(session_value.out, HasSubstr("= true for session set-1 (from global; config revision " +
                                           std::to_string(revision + 1) + ")"));

  const auto list = warden("settings list --sandbox set-1" + gw());
  ASSERT_EQ(list.status, 0) << list.err;
  EXPECT_THAT(list.out, HasSubstr("ocsf_json_enabled = true (global)"));
  EXPECT_THAT(list.out, HasSubstr("ocsf_json_enabled = false (session set-1)"));

  const auto del = warden("settings delete ocsf_json_enabled --global" + gw());
  ASSERT_EQ(del.status, 0) << del.err;
  EXPECT_THAT(del.out, HasSubstr("deleted ocsf_json_enabled (global)"));
  EXPECT_THAT(del.out, HasSubstr("config revision " + std::to_string(revision + 2)));
  const auto after = warden("settings get ocsf_json_enabled --sandbox set-1" + gw());
  EXPECT_THAT(after.out, HasSubstr("= false for session set-1 (from session;"));
}

TEST_F(GatewayClientE2E, AWrongSettingTypePrintsTheAllowedValues) {
  const auto r = warden("settings set ocsf_json_enabled maybe --global" + gw());
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("allowed: true, false"));
}

TEST_F(GatewayClientE2E, AnUnknownSettingKeyListsTheKnownOnes) {
  const auto r = warden("settings get no_such_setting" + gw());
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("unknown setting 'no_such_setting'"));
  EXPECT_THAT(r.err, HasSubstr("ocsf_json_enabled"));
}

TEST_F(GatewayClientE2E, SettingsUsageErrorsAndUnknownSessions) {
  EXPECT_EQ(warden("settings set ocsf_json_enabled true" + gw()).status, 2);      // no scope
  EXPECT_EQ(warden("settings set ocsf_json_enabled --global" + gw()).status, 2);  // no value
  EXPECT_EQ(warden("settings get --global --sandbox x ocsf_json_enabled" + gw()).status, 2);
  EXPECT_EQ(warden("settings get a --key b" + gw()).status, 2);  // disagree
  const auto unknown = warden("settings set ocsf_json_enabled true --sandbox ghost" + gw());
  EXPECT_EQ(unknown.status, 1) << unknown.err;
  EXPECT_THAT(unknown.err, HasSubstr("no session 'ghost'"));
}

// ---- audit query -------------------------------------------------------------------------------------

TEST_F(GatewayClientE2E, AuditQueryAnswersEventsAndWhichSessions) {
  const GeneratedSession g = storedSession(600);
  std::vector<std::string> http;
  std::string domain;
  for (size_t i = 0; i < g.json.size(); ++i) {
    if (g.log_lines[i].find(" OCSF HTTP:") != std::string::npos) http.push_back(g.log_lines[i]);
    const auto j = nlohmann::json::parse(g.json[i]);
    if (domain.empty() && j["class_uid"] == 4001 && j.contains("dst_endpoint") &&
        j["dst_endpoint"].contains("hostname")) {
      domain = j["dst_endpoint"]["hostname"].get<std::string>();
    }
  }
  ASSERT_FALSE(http.empty());
  ASSERT_FALSE(domain.empty());

  const auto events = warden("audit query --session " + g.id + " --class HTTP --limit 100000" + gw());
  ASSERT_EQ(events.status, 0) << events.err;
  EXPECT_EQ(events.out, joinLines(http));

  const auto sessions = warden("audit query --domain " + domain + gw());
  ASSERT_EQ(sessions.status, 0) << sessions.err;
  EXPECT_EQ(sessions.out, g.id + "\n");
  const auto json = warden("audit query --domain " + domain + " --json" + gw());
  ASSERT_EQ(json.status, 0) << json.err;
  EXPECT_EQ(nlohmann::json::parse(json.out)["sessions"], nlohmann::json::array({g.id}));

  const auto none = warden("audit query --domain nowhere.invalid" + gw());
  EXPECT_EQ(none.status, 0);
  EXPECT_TRUE(none.out.empty());

  // Packages and MCP tools (the generated session holds the samples' PKG:INSTALL and TOOL:CALL events).
  const auto package = warden("audit query --package left-pad" + gw());
  ASSERT_EQ(package.status, 0) << package.err;
  EXPECT_EQ(package.out, g.id + "\n");
  const auto tool = warden("audit query --tool delete_repo" + gw());
  ASSERT_EQ(tool.status, 0) << tool.err;
  EXPECT_EQ(tool.out, g.id + "\n");
  const auto tool_events = warden("audit query --session " + g.id + " --tool read_file --limit 100000" + gw());
  ASSERT_EQ(tool_events.status, 0) << tool_events.err;
  ASSERT_FALSE(tool_events.out.empty());
  for (const auto& line : splitLines(tool_events.out)) EXPECT_THAT(line, HasSubstr(" OCSF TOOL:CALL [INFO] claude(")) << line;
  EXPECT_TRUE(warden("audit query --tool no_such_tool" + gw()).out.empty());
  EXPECT_EQ(warden("audit query --tool a --package b" + gw()).status, 2);

  const auto limited = warden("audit query --session " + g.id + " --limit 5" + gw());
  ASSERT_EQ(limited.status, 0) << limited.err;
  EXPECT_EQ(splitLines(limited.out).size(), 5u);
  EXPECT_THAT(limited.err, HasSubstr("showing the first 5 events"));
}

TEST_F(GatewayClientE2E, AuditQueryRefusesBadInput) {
  EXPECT_EQ(warden("audit query --since 2026-13-01" + gw()).status, 2);
  EXPECT_EQ(warden("audit query --limit 0" + gw()).status, 2);
  EXPECT_EQ(warden("audit query --since 1h --until 2h" + gw()).status, 2);
  const auto unknown = warden("audit query --session ghost" + gw());
  EXPECT_EQ(unknown.status, 1);
  EXPECT_THAT(unknown.err, HasSubstr("no session 'ghost'"));
}

// ---- audit verify --session ---------------------------------------------------------------------------

TEST_F(GatewayClientE2E, AuditVerifyOfAStoredSessionPassesThenNamesTamperingBySequence) {
  const GeneratedSession g = storedSession(3000);
  const auto ok = warden("audit verify --session " + g.id + gw());
  ASSERT_EQ(ok.status, 0) << ok.out << ok.err;
  EXPECT_THAT(ok.out, StartsWith("ok: " + std::to_string(g.json.size()) + " events"));
  EXPECT_THAT(ok.out, HasSubstr("registered"));

  // Change one stored event's bytes: verification fails naming that sequence.
  // A session this short is stored uncompressed (dict 0: body is the JSON).
  sql("UPDATE event_rows SET body = CAST(replace(CAST(body AS TEXT), '\"severity_id\":', '\"severity_id\": ') AS "
      "BLOB) WHERE dict = 0 AND sid = (SELECT sid FROM streams WHERE session_id = '" + g.id + "') AND seq = 1234");
  const auto modified = warden("audit verify --session " + g.id + " --json" + gw());
  EXPECT_EQ(modified.status, 1) << modified.out << modified.err;
  const auto report = nlohmann::json::parse(modified.out);
  EXPECT_FALSE(report["ok"].get<bool>());
  bool named = false;
  for (const auto& p : report["problems"]) {
    named |= p["kind"] == "modified" && p["sequence"] == 1234;
  }
  EXPECT_TRUE(named) << modified.out;

  // Delete another row: reported missing.
  sql("DELETE FROM event_rows WHERE sid = (SELECT sid FROM streams WHERE session_id = '" + g.id + "') AND seq = 2222");
  const auto missing = warden("audit verify --session " + g.id + gw());
  EXPECT_EQ(missing.status, 1);
  EXPECT_THAT(missing.out, HasSubstr("missing: seq 2222 not in the log"));
  EXPECT_THAT(missing.out, HasSubstr("seq 1234"));
}

TEST_F(GatewayClientE2E, AuditVerifyUsageAndUnknownSession) {
  EXPECT_EQ(warden("audit verify").status, 2);
  EXPECT_EQ(warden("audit verify --gateway " + operator_url_).status, 2);
  EXPECT_EQ(warden("audit verify somefile --session x" + gw()).status, 2);
  const auto unknown = warden("audit verify --session ghost" + gw());
  EXPECT_EQ(unknown.status, 1);
  EXPECT_THAT(unknown.err, HasSubstr("no session 'ghost'"));
}

// Fleet rules (issue 15 item 5): `warden gateway --rules FILE` evaluates every pushed event, with
// first_seen() remembered across sessions; findings go into the gateway's own trail.
class GatewayFleetRulesE2E : public GatewayClientE2E {
 protected:
  std::vector<std::string> extraArgs() override {
    writeFile(dir_ / "fleet.yaml",
              "rules:\n"
              "  - name: new-domain-in-the-fleet\n"
              "    desc: a destination no session of the fleet contacted before\n"
              "    condition: class_uid = 4001 and first_seen(dst_endpoint.hostname)\n"
              "    severity: low\n"
              "    title: \"First contact of the fleet with %{dst_endpoint.hostname}\"\n"
              "  - name: session-record-sealed\n"
              "    desc: a session's final checkpoint reached the gateway (marks it fully evaluated)\n"
              "    condition: class_uid = 1008 and unmapped.checkpoint.final = true\n"
              "    severity: informational\n"
              "    title: \"sealed %{metadata.correlation_uid}\"\n");
    return {"--rules", (dir_ / "fleet.yaml").string()};
  }
  // The gateway's own warden.log (its trail's directory is printed at start).
  std::string trail() const {
    std::string text;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_ / "trail")) {
      if (entry.path().filename() == "warden.log") text += readFile(entry.path());
    }
    return text;
  }
};

TEST_F(GatewayFleetRulesE2E, ADomainIsNewOnceForTheWholeFleetNotOncePerSession) {
  const GeneratedSession first = storedSession(200, "first");
  ASSERT_TRUE(waitFor([&] { return trail().find("sealed " + first.id) != std::string::npos; },
                      std::chrono::seconds(30)))
      << trail();
  const std::string after_first = trail();
  const size_t new_domains = countOf(after_first, "[rule:new-domain-in-the-fleet");
  EXPECT_GT(new_domains, 0u) << after_first;
  EXPECT_THAT(after_first, HasSubstr("First contact of the fleet with api.example.com"));

  // The same destinations from another session: nothing is new any more.
  const GeneratedSession second = storedSession(200, "second");
  ASSERT_TRUE(waitFor([&] { return trail().find("sealed " + second.id) != std::string::npos; },
                      std::chrono::seconds(30)))
      << trail();
  EXPECT_EQ(countOf(trail(), "[rule:new-domain-in-the-fleet"), new_domains) << trail();
}

TEST_F(GatewayFleetRulesE2E, WhatTheFleetHasSeenSurvivesAGatewayRestart) {
  const GeneratedSession first = storedSession(200, "first");
  ASSERT_TRUE(waitFor([&] { return trail().find("sealed " + first.id) != std::string::npos; },
                      std::chrono::seconds(30)))
      << trail();
  const size_t new_domains = countOf(trail(), "[rule:new-domain-in-the-fleet");
  ASSERT_GT(new_domains, 0u) << trail();

  // A new gateway process on the same store: its first_seen() memory is the store's.
  ASSERT_EQ(gateway_->terminate(), 0) << gateway_->output();
  SetUp();
  const GeneratedSession second = storedSession(200, "second");
  ASSERT_TRUE(waitFor([&] { return trail().find("sealed " + second.id) != std::string::npos; },
                      std::chrono::seconds(30)))
      << trail();
  EXPECT_EQ(countOf(trail(), "[rule:new-domain-in-the-fleet"), new_domains)
      << "the destinations the first session contacted are not new after the restart";
}

TEST(GatewayFleetRulesStart, ARuleFileWithAProblemStartsNothingAndSaysWhere) {
  TempDir dir;
  writeFile(dir / "bad.yaml", "rules:\n  - name: broken\n    condition: process.nmae = \"x\"\n");
  const auto r = runCommand(wardenBinary().string() + " gateway --listen 127.0.0.1:0 --db sqlite://" +
                            (dir / "gw.db").string() + " --log-dir " + (dir / "trail").string() +
                            " --operator-socket none --rules " + (dir / "bad.yaml").string() + " 2>&1");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr((dir / "bad.yaml").string() + ":3:"));
  EXPECT_THAT(r.output, HasSubstr("nothing was started"));
  EXPECT_FALSE(std::filesystem::exists(dir / "gw.db"));
}

}  // namespace
}  // namespace warden::testing
