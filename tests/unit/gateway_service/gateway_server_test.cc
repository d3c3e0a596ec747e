// GatewayServer over both stores (SQLite in a temp dir, a real PostgreSQL this binary starts): runtime
// settings that survive a restart, session stop state, the retention task and the gateway's own audit
// record, and the served policy. Everything goes through a real gRPC channel: the gateway's operator
// socket in the temp dir, on which this test (root) is the operator.

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "audit/log_events.h"
#include "audit/verify.h"
#include "common/clock.h"
#include "common/encoding.h"
#include "gateway/service/fleet_export.h"
#include "gateway/service/gateway_server.h"
#include "gateway/service/policy_source.h"
#include "gateway/service/retention_task.h"
#include "ocsf/builders.h"
#include "ocsf/jsonl_formatter.h"
#include "ocsf/shorthand.h"
#include "support/nginx.h"
#include "support/shared_postgres.h"
#include "support/test_env.h"
#include "warden/v1/gateway.grpc.pb.h"

namespace warden::gateway {
namespace {

using nlohmann::json;
using warden::testing::TempDir;
using warden::testing::waitFor;


int64_t nowMs() { return SystemClock::instance().nowMillis(); }
constexpr int64_t kDayMs = 86'400'000;

ocsf::SessionContext ctxFor(const std::string& id) {
  ocsf::SessionContext c;
  c.hostname = "runner-7";
  c.session_id = id;
  c.session_name = "agent-" + id;
  return c;
}

// A pushed event from a real builder event: canonical JSON and shorthand, as a supervisor sends them.
v1::StoredEvent pushed(ocsf::Event e, uint64_t seq) {
  e.metadata.sequence = seq;
  v1::StoredEvent out;
  out.set_session_id(e.metadata.correlation_uid);
  out.set_sequence(seq);
  out.set_time_ms(e.time);
  out.set_json(ocsf::toJsonl(e));
  out.set_shorthand(ocsf::toShorthand(e));
  return out;
}

v1::StoredEvent opEvent(const std::string& session, uint64_t seq, int64_t time) {
  ocsf::OperationalInput in;
  in.name = "Tick";
  in.message = "tick " + std::to_string(seq);
  return pushed(ocsf::operationalEvent(ctxFor(session), time, in), seq);
}

v1::StoredEvent logStart(const std::string& session, int64_t time) {
  return pushed(audit::logStartEvent(ctxFor(session), time, std::string(64, 'a'), "key-1"), 1);
}

v1::StoredEvent checkpoint(const std::string& session, uint64_t seq, int64_t time) {
  audit::CheckpointFacts f;
  f.first_seq = 1;
  f.last_seq = seq - 1;
  f.head_hex = std::string(64, '0');
  f.key_id = "key-1";
  return pushed(audit::checkpointEvent(ctxFor(session), time, f), seq);
}

v1::StoredEvent sessionStop(const std::string& session, uint64_t seq, int64_t time, ocsf::StopReason reason,
                            int exit_code) {
  ocsf::SessionInput in;
  in.activity = ocsf::SessionActivity::kStop;
  in.reason = reason;
  in.exit_code = exit_code;
  return pushed(ocsf::session(ctxFor(session), time, in), seq);
}

// The unmapped.retention objects of the LOG:DELETE events stored under `gateway_session`.
std::vector<json> retentionRecords(EventStore& store, const std::string& gateway_session) {
  EventQuery q;
  q.session = gateway_session;
  q.kinds = {"LOG"};
  q.limit = kMaxQueryLimit;
  auto events = store.query(q);
  std::vector<json> out;
  if (!events.ok()) return out;
  for (const auto& e : *events) {
    const json j = json::parse(e.json, nullptr, false);
    if (j.is_object() && j.contains("unmapped") && j["unmapped"].contains("retention")) {
      out.push_back(j["unmapped"]["retention"]);
    }
  }
  return out;
}

std::vector<uint64_t> storedSequences(EventStore& store, const std::string& session) {
  EventQuery q;
  q.session = session;
  q.limit = kMaxQueryLimit;
  auto events = store.query(q);
  std::vector<uint64_t> out;
  if (events.ok()) {
    for (const auto& e : *events) out.push_back(e.sequence);
  }
  return out;
}

constexpr const char* kPolicyV1 =
    "version: 1\nnetwork:\n  api:\n    endpoints: [{host: api.example.com, ports: [443]}]\n"
    "    binaries: [{path: /usr/bin/curl}]\n";
constexpr const char* kPolicyV2 =
    "version: 1\nnetwork:\n  api:\n    endpoints: [{host: api.example.com, ports: [443, 8443]}]\n"
    "    binaries: [{path: /usr/bin/curl}]\n";
// Line 4 has a misspelt key.
constexpr const char* kPolicyBad =
    "version: 1\nnetwork:\n  api:\n    endpoints: [{host: api.example.com, portz: [443]}]\n"
    "    binaries: [{path: /usr/bin/curl}]\n";

enum class Backend { kSqlite, kPostgres };

class GatewayServerTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kSqlite) {
      db_ = "sqlite://" + (dir_ / "gateway.db").string();
    } else {
      testing::SharedPostgres& pg = testing::sharedPostgres();
      if (!pg.server) GTEST_SKIP() << "PostgreSQL: " << pg.why;
      const std::string name = "warden_gs" + std::to_string(++pg.next_db);
      std::string why;
      ASSERT_TRUE(pg.server->createDatabase(name, &why)) << why;
      db_ = pg.server->url(name);
    }
  }

  GatewayServerOptions baseOptions() {
    GatewayServerOptions o;
    o.listen = "127.0.0.1:0";
    o.db = db_;
    o.log_dir = dir_ / "gateway-log";
    o.policy_check_interval = std::chrono::milliseconds(0);
    o.operator_socket = (dir_ / "operator.sock").string();
    return o;
  }

  void start(const GatewayServerOptions& o) {
    auto s = GatewayServer::start(o);
    ASSERT_TRUE(s.ok()) << s.error().toString();
    server_ = std::move(*s);
    // The operator socket, as root (its operator); sessions' calls carry their tokens on it too.
    channel_ = grpc::CreateChannel("unix:" + (dir_ / "operator.sock").string(), grpc::InsecureChannelCredentials());
    stub_ = v1::Gateway::NewStub(channel_);
  }
  void start() { start(baseOptions()); }

  void shutDown() {
    stub_.reset();
    channel_.reset();
    if (server_) server_->stop();
    server_.reset();
  }

  static void authorize(grpc::ClientContext* ctx, const std::string& token) {
    ctx->AddMetadata("authorization", "Bearer " + token);
  }

  std::string registerSession(const std::string& id, const std::string& token = "",
                              const std::string& hostname = "runner-7") {
    grpc::ClientContext ctx;
    if (!token.empty()) authorize(&ctx, token);
    v1::RegisterSessionRequest req;
    req.set_id(id);
    req.set_name("agent-" + id);
    req.set_public_key(std::string(64, 'a'));
    req.set_hostname(hostname);
    v1::RegisterSessionResponse resp;
    const grpc::Status st = stub_->RegisterSession(&ctx, req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.token();
  }

  // Pushes one batch on a fresh stream; returns the acknowledged sequence.
  uint64_t push(const std::string& token, const std::string& session, const std::vector<v1::StoredEvent>& events) {
    grpc::ClientContext ctx;
    authorize(&ctx, token);
    auto stream = stub_->PushEvents(&ctx);
    v1::PushEventsRequest req;
    req.set_session_id(session);
    for (const auto& e : events) *req.add_events() = e;
    v1::PushEventsResponse resp;
    EXPECT_TRUE(stream->Write(req));
    EXPECT_TRUE(stream->Read(&resp));
    EXPECT_EQ(resp.error(), "");
    stream->WritesDone();
    EXPECT_TRUE(stream->Finish().ok());
    return resp.acknowledged_through();
  }

  v1::GetSandboxPolicyResponse sandboxPolicy(const std::string& session, const std::string& token) {
    grpc::ClientContext ctx;
    authorize(&ctx, token);
    v1::GetSandboxPolicyRequest req;
    req.set_session_id(session);
    v1::GetSandboxPolicyResponse resp;
    const grpc::Status st = stub_->GetSandboxPolicy(&ctx, req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp;
  }

  grpc::Status setSetting(const std::string& value, bool global, const std::string& session = "") {
    grpc::ClientContext ctx;
    v1::SetSettingRequest req;
    req.set_key("ocsf_json_enabled");
    req.set_value(value);
    req.set_global(global);
    req.set_session(session);
    v1::Setting resp;
    return stub_->SetSetting(&ctx, req, &resp);
  }

  v1::Session getSession(const std::string& id) {
    grpc::ClientContext ctx;
    v1::GetSessionRequest req;
    req.set_id(id);
    v1::Session resp;
    const grpc::Status st = stub_->GetSession(&ctx, req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp;
  }

  std::string gatewayLog() { return testing::readFile(server_->gatewayLogDir() / "warden.log"); }

  TempDir dir_;
  std::string db_;
  std::unique_ptr<GatewayServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Gateway::Stub> stub_;
};

// ---- 1. Runtime settings survive a restart ------------------------------------------------------

TEST_P(GatewayServerTest, RuntimeSettingsSurviveARestartAndTheRevisionMovesOn) {
  start();
  const std::string token = registerSession("s1");
  EXPECT_EQ(sandboxPolicy("s1", token).sandbox_config().config_revision(), 1u);
  ASSERT_TRUE(setSetting("true", true).ok());
  ASSERT_TRUE(setSetting("false", false, "s1").ok());
  const uint64_t before = sandboxPolicy("s1", token).sandbox_config().config_revision();
  EXPECT_EQ(before, 3u);

  shutDown();
  start();
  auto served = sandboxPolicy("s1", token);  // the token survived too
  EXPECT_TRUE(served.sandbox_config().logging().ocsf_enabled()) << "the global value is still effective";
  const uint64_t after = served.sandbox_config().config_revision();
  EXPECT_GT(after, before);
  {
    grpc::ClientContext ctx;
    v1::GetSettingRequest req;
    req.set_key("ocsf_json_enabled");
    req.set_global(true);
    v1::Setting resp;
    ASSERT_TRUE(stub_->GetSetting(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.value(), "true");
    EXPECT_EQ(resp.scope(), "global");
  }
  {
    grpc::ClientContext ctx;
    v1::ListSettingsRequest req;
    v1::ListSettingsResponse resp;
    ASSERT_TRUE(stub_->ListSettings(&ctx, req, &resp).ok());
    ASSERT_EQ(resp.settings_size(), 2);
    EXPECT_EQ(resp.settings(1).session(), "s1");
    EXPECT_EQ(resp.settings(1).value(), "false");
  }

  // A second restart without any change still serves news; a delete survives a restart too.
  shutDown();
  start();
  EXPECT_GT(sandboxPolicy("s1", token).sandbox_config().config_revision(), after);
  {
    grpc::ClientContext ctx;
    v1::DeleteSettingRequest req;
    req.set_key("ocsf_json_enabled");
    req.set_global(true);
    v1::DeleteSettingResponse resp;
    ASSERT_TRUE(stub_->DeleteSetting(&ctx, req, &resp).ok());
    EXPECT_TRUE(resp.existed());
  }
  shutDown();
  start();
  EXPECT_FALSE(sandboxPolicy("s1", token).sandbox_config().logging().ocsf_enabled()) << "s1's own value: false";
  auto left = server_->store().loadSettings();
  ASSERT_TRUE(left.ok()) << left.error().toString();
  ASSERT_EQ(left->values.size(), 1u);
  EXPECT_EQ(left->values[0].session, "s1");
}

// ---- 2. Session end state -----------------------------------------------------------------------

TEST_P(GatewayServerTest, AStoredSessionStopShowsInGetSessionAndListSessions) {
  start();
  const std::string token = registerSession("s1", "", "runner-7");
  const int64_t t = nowMs();
  EXPECT_EQ(push(token, "s1", {logStart("s1", t), sessionStop("s1", 2, t + 5, ocsf::StopReason::kTimeout, 124)}), 2u);

  const v1::Session s = getSession("s1");
  EXPECT_EQ(s.state(), "stopped");
  EXPECT_EQ(s.stop_reason(), "timeout");
  ASSERT_TRUE(s.has_exit_code());
  EXPECT_EQ(s.exit_code(), 124);
  EXPECT_EQ(s.updated_ms(), t + 5);
  EXPECT_EQ(s.highest_sequence(), 2u);
  {
    grpc::ClientContext ctx;
    v1::ListSessionsRequest req;
    v1::ListSessionsResponse resp;
    ASSERT_TRUE(stub_->ListSessions(&ctx, req, &resp).ok());
    bool found = false;
    for (const auto& listed : resp.sessions()) {
      if (listed.id() != "s1") continue;
      found = true;
      EXPECT_EQ(listed.state(), "stopped");
      EXPECT_EQ(listed.exit_code(), 124);
    }
    EXPECT_TRUE(found);
  }
  auto rec = server_->store().session("s1");
  ASSERT_TRUE(rec.ok() && rec->has_value());
  EXPECT_EQ((*rec)->hostname, "runner-7");

  // Registering the id again is refused, even with the session's own token: the record, its key
  // and its token stay; the refusal is in the gateway's own trail.
  {
    grpc::ClientContext ctx;
    authorize(&ctx, token);
    v1::RegisterSessionRequest req;
    req.set_id("s1");
    req.set_hostname("runner-8");
    v1::RegisterSessionResponse resp;
    EXPECT_EQ(stub_->RegisterSession(&ctx, req, &resp).error_code(), grpc::StatusCode::ALREADY_EXISTS);
  }
  const v1::Session again = getSession("s1");
  EXPECT_EQ(again.state(), "stopped");
  EXPECT_EQ(again.stop_reason(), "timeout");
  rec = server_->store().session("s1");
  ASSERT_TRUE(rec.ok() && rec->has_value());
  EXPECT_EQ((*rec)->hostname, "runner-7");
  EXPECT_EQ((*rec)->token_hash, sha256Hex(token));
  ASSERT_TRUE(waitFor([&] {
    return gatewayLog().find("OCSF API:CREATE [HIGH] DENIED s1 -> RegisterSession [auth:session") != std::string::npos;
  })) << gatewayLog();
}

// ---- 3. Retention and the gateway's own record ---------------------------------------------------

TEST_P(GatewayServerTest, RetentionDeletesOldEventsKeepsProofsAndRecordsLogDelete) {
  GatewayServerOptions o = baseOptions();
  o.retention_max_age_ms = kDayMs;
  o.retention_interval_ms = 100;
  start(o);
  ASSERT_NE(server_->retention(), nullptr);
  const std::string gw = server_->gatewaySessionId();
  const std::string token = registerSession("s1");
  const int64_t old = nowMs() - 10 * kDayMs;
  std::vector<v1::StoredEvent> events = {logStart("s1", old)};
  for (uint64_t s = 2; s <= 4; ++s) events.push_back(opEvent("s1", s, old + static_cast<int64_t>(s)));
  events.push_back(checkpoint("s1", 5, old + 5));
  for (uint64_t s = 6; s <= 8; ++s) events.push_back(opEvent("s1", s, old + static_cast<int64_t>(s)));
  events.push_back(opEvent("s1", 9, nowMs()));  // younger than the cutoff
  ASSERT_EQ(push(token, "s1", events), 9u);

  ASSERT_TRUE(waitFor([&] { return !retentionRecords(server_->store(), gw).empty(); }))
      << "no LOG:DELETE under the gateway's session " << gw;
  const std::vector<json> records = retentionRecords(server_->store(), gw);
  ASSERT_EQ(records.size(), 1u) << "later passes find nothing more to delete";
  EXPECT_EQ(records[0]["session_id"], "s1");
  EXPECT_EQ(records[0]["count"], 6);
  EXPECT_EQ(records[0]["first_seq"], 2);
  EXPECT_EQ(records[0]["last_seq"], 8);
  EXPECT_GT(records[0]["cutoff_ms"].get<int64_t>(), old);
  EXPECT_FALSE(records[0].contains("max_bytes"));
  EXPECT_EQ(storedSequences(server_->store(), "s1"), (std::vector<uint64_t>{1, 5, 9}))
      << "LOG:START and the checkpoint stay";
  EXPECT_GE(server_->retention()->passes(), 1u);
  EXPECT_EQ(server_->retention()->failures(), 0u);
}

TEST_P(GatewayServerTest, TheSizeCapDeletesTheOldestFirstAtStart) {
  start();
  const std::string token = registerSession("s1");
  const int64_t t = nowMs() - 3600'000;  // older than anything the gateway writes itself
  std::vector<v1::StoredEvent> events = {logStart("s1", t)};
  for (uint64_t s = 2; s <= 20; ++s) events.push_back(opEvent("s1", s, t + static_cast<int64_t>(s)));
  ASSERT_EQ(push(token, "s1", events), 20u);
  auto bytes = server_->store().storedBytes();
  ASSERT_TRUE(bytes.ok());
  shutDown();

  // Restarted with a cap of about half of what is stored: the pass at start deletes.
  GatewayServerOptions o = baseOptions();
  o.retention_max_bytes = *bytes / 2;
  start(o);
  const std::string gw = server_->gatewaySessionId();
  json first;
  ASSERT_TRUE(waitFor([&] {
    for (const auto& r : retentionRecords(server_->store(), gw)) {
      if (r["session_id"] == "s1") {
        first = r;
        return true;
      }
    }
    return false;
  }));
  EXPECT_EQ(first["session_id"], "s1");
  EXPECT_EQ(first["first_seq"], 2) << "the oldest go first";
  EXPECT_EQ(first["max_bytes"], *bytes / 2);
  EXPECT_EQ(first["cutoff_ms"], 0) << "no age limit was set";
  const auto left = storedSequences(server_->store(), "s1");
  ASSERT_GE(left.size(), 2u);
  EXPECT_EQ(left.front(), 1u);
  EXPECT_EQ(left.back(), 20u);
  EXPECT_LT(left.size(), 20u);
}

TEST_P(GatewayServerTest, TheGatewaysOwnRecordIsStoredRegisteredAndVerifies) {
  start();
  const std::string gw = server_->gatewaySessionId();
  ASSERT_TRUE(waitFor([&] { return !storedSequences(server_->store(), gw).empty(); }));
  {
    grpc::ClientContext ctx;
    v1::GetVerificationMaterialRequest req;
    req.set_session_id(gw);
    v1::GetVerificationMaterialResponse resp;
    ASSERT_TRUE(stub_->GetVerificationMaterial(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.public_key().size(), 64u);
    EXPECT_EQ(resp.log_start().sequence(), 1u);
  }
  EXPECT_EQ(getSession(gw).name(), "gateway");
  EXPECT_EQ(getSession(gw).state(), "running");
  server_->stop();  // writes and stores the final checkpoint

  auto rec = server_->store().session(gw);
  ASSERT_TRUE(rec.ok() && rec->has_value());
  EXPECT_EQ((*rec)->state, "stopped");
  EventQuery q;
  q.session = gw;
  q.limit = kMaxQueryLimit;
  auto events = server_->store().query(q);
  ASSERT_TRUE(events.ok()) << events.error().toString();
  std::string jsonl;
  for (const auto& e : *events) jsonl += e.json + "\n";
  audit::VerifyOptions vo;
  vo.public_key_hex = (*rec)->public_key;
  const audit::VerifyReport report = audit::verifyText(jsonl, "stored", vo);
  EXPECT_TRUE(report.ok()) << (report.findings.empty() ? "" : report.findings[0].message);
  EXPECT_TRUE(report.final_checkpoint);
  EXPECT_EQ(report.session_id, gw);
  EXPECT_EQ(report.events, events->size());
}

// ---- 4. Policy serving across restarts -----------------------------------------------------------

TEST_P(GatewayServerTest, ThePolicyVersionSurvivesARestartAndMovesOnWhenTheFileChanged) {
  const auto file = dir_ / "policy.yaml";
  testing::writeFile(file, kPolicyV1);
  GatewayServerOptions o = baseOptions();
  o.policy_file = file;
  start(o);
  const std::string token = registerSession("s1");
  auto served = sandboxPolicy("s1", token);
  EXPECT_EQ(served.policy_version(), 1u);
  EXPECT_EQ(served.policy_yaml(), kPolicyV1);

  shutDown();
  start(o);
  served = sandboxPolicy("s1", token);
  EXPECT_EQ(served.policy_version(), 1u) << "the same bytes keep their version";

  shutDown();
  testing::writeFile(file, kPolicyV2);
  start(o);
  served = sandboxPolicy("s1", token);
  EXPECT_EQ(served.policy_version(), 2u);
  EXPECT_EQ(served.policy_hash(), sha256Hex(kPolicyV2));
}

// ---- 6. The fleet export resumes from its persisted cursor -----------------------------------------

// Each exported line's (session, sequence), from a real nginx's record of the POSTed NDJSON.
std::map<std::pair<std::string, uint64_t>, int> exportedCounts(const testing::NginxServer& nginx) {
  std::map<std::pair<std::string, uint64_t>, int> out;
  for (const auto& line : nginx.ingestLines()) {
    const json j = json::parse(line, nullptr, false);
    if (!j.is_object()) continue;
    out[{j["metadata"]["correlation_uid"].get<std::string>(), j["metadata"]["sequence"].get<uint64_t>()}]++;
  }
  return out;
}

TEST_P(GatewayServerTest, AnExportSendsEveryStoredEventOnceAndAfterARestartGoesOnFromItsCursor) {
  std::string why;
  auto nginx = testing::NginxServer::start(&why);
  if (!nginx) GTEST_SKIP() << why;
  GatewayServerOptions o = baseOptions();
  o.exports = {fmt::format("http://127.0.0.1:{}/ingest/fleet", nginx->port())};
  start(o);
  ASSERT_EQ(server_->exports().size(), 1u);
  const std::string first_gateway = server_->gatewaySessionId();
  const std::string ta = registerSession("sess-a");
  const std::string tb = registerSession("sess-b");
  const int64_t t = nowMs();
  std::vector<v1::StoredEvent> a, b;
  a.push_back(logStart("sess-a", t));
  b.push_back(logStart("sess-b", t));
  for (uint64_t seq = 2; seq <= 40; ++seq) {
    a.push_back(opEvent("sess-a", seq, t));
    b.push_back(opEvent("sess-b", seq, t));
  }
  ASSERT_EQ(push(ta, "sess-a", a), 40u);
  ASSERT_EQ(push(tb, "sess-b", b), 40u);
  auto delivered = [&](const std::string& session, uint64_t last) {
    const auto counts = exportedCounts(*nginx);
    for (uint64_t seq = 1; seq <= last; ++seq) {
      if (!counts.contains({session, seq})) return false;
    }
    return true;
  };
  ASSERT_TRUE(waitFor([&] { return delivered("sess-a", 40) && delivered("sess-b", 40); }));
  ASSERT_TRUE(waitFor([&] { return server_->exports()[0]->cursor("sess-a") == 40; }))
      << "the cursor is saved once the receiver took the events";
  shutDown();

  // A restart: the export goes on after its cursor; the events pushed now arrive, the ones it had
  // delivered are not sent again, and what the first gateway stored last (its own final checkpoint,
  // after its export stopped) is not skipped.
  start(o);
  const std::vector<v1::StoredEvent> more{opEvent("sess-a", 41, t), opEvent("sess-a", 42, t)};
  ASSERT_EQ(push(ta, "sess-a", more), 42u);
  ASSERT_TRUE(waitFor([&] { return delivered("sess-a", 42); }));
  const uint64_t first_gateway_events = storedSequences(server_->store(), first_gateway).size();
  ASSERT_GT(first_gateway_events, 1u);
  ASSERT_TRUE(waitFor([&] { return delivered(first_gateway, first_gateway_events); }))
      << "the first gateway's own trail, up to its final checkpoint";
  shutDown();
  for (const auto& [key, count] : exportedCounts(*nginx)) {
    EXPECT_EQ(count, 1) << key.first << " " << key.second << " was sent " << count << " times";
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, GatewayServerTest, ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const ::testing::TestParamInfo<Backend>& p) {
                           return p.param == Backend::kSqlite ? "Sqlite" : "Postgres";
                         });

// ---- SQLite only: a store that fails (another connection holds the write lock) ------------------

class GatewayServerSqliteTest : public GatewayServerTest {
 protected:
  // Holds the database's write lock from a second connection until release().
  void lockDatabase() {
    ASSERT_EQ(sqlite3_open((dir_ / "gateway.db").c_str(), &other_), SQLITE_OK);
    // The gateway's own trail may be storing an event at this moment (e.g. the registration).
    sqlite3_busy_timeout(other_, 5000);
    ASSERT_EQ(sqlite3_exec(other_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  }
  void release() {
    if (other_ == nullptr) return;
    sqlite3_exec(other_, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(other_);
    other_ = nullptr;
  }
  void TearDown() override { release(); }

  sqlite3* other_ = nullptr;
};

TEST_P(GatewayServerSqliteTest, ASettingTheStoreCannotSaveIsUnavailableAndNotApplied) {
  start();
  const std::string token = registerSession("s1");
  lockDatabase();
  const grpc::Status st = setSetting("true", true);  // waits out the 5 s busy timeout
  release();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(st.error_message().find("locked"), std::string::npos) << st.error_message();
  const auto served = sandboxPolicy("s1", token);
  EXPECT_FALSE(served.sandbox_config().logging().ocsf_enabled());
  EXPECT_EQ(served.sandbox_config().config_revision(), 1u);
  ASSERT_TRUE(setSetting("true", true).ok()) << "works again once the lock is gone";
  EXPECT_EQ(sandboxPolicy("s1", token).sandbox_config().config_revision(), 2u);
}

TEST_P(GatewayServerSqliteTest, ARetentionPassThatFailsIsLoggedAndTheNextOneWorks) {
  GatewayServerOptions o = baseOptions();
  o.retention_max_age_ms = kDayMs;
  o.retention_interval_ms = 200;
  start(o);
  ASSERT_TRUE(waitFor([&] { return server_->retention()->passes() >= 1; }));
  EXPECT_EQ(server_->retention()->failures(), 0u);
  lockDatabase();  // the next pass waits out the 5 s busy timeout, then fails
  ASSERT_TRUE(waitFor([&] { return server_->retention()->failures() >= 1; }, std::chrono::seconds(20)));
  release();
  ASSERT_TRUE(waitFor([&] {
    return gatewayLog().find("ERROR retention: retention failed, nothing deleted") != std::string::npos;
  })) << gatewayLog();

  // The gateway kept running; a later pass deletes and its LOG:DELETE reaches the store.
  const std::string token = registerSession("s1");
  const int64_t old = nowMs() - 10 * kDayMs;
  ASSERT_EQ(push(token, "s1", {logStart("s1", old), opEvent("s1", 2, old + 1)}), 2u);
  const std::string gw = server_->gatewaySessionId();
  ASSERT_TRUE(waitFor([&] { return !retentionRecords(server_->store(), gw).empty(); }, std::chrono::seconds(20)));
  EXPECT_EQ(retentionRecords(server_->store(), gw).front()["session_id"], "s1");
  EXPECT_EQ(storedSequences(server_->store(), "s1"), (std::vector<uint64_t>{1}));
}

// ---- SQLite only: policy serving (the store holds only its version) ----------------------------

TEST_P(GatewayServerSqliteTest, ServesThePolicyFileWithItsHashAndVersion) {
  const auto file = dir_ / "policy.yaml";
  testing::writeFile(file, kPolicyV1);
  GatewayServerOptions o = baseOptions();
  o.policy_file = file;
  start(o);
  const std::string token = registerSession("s1");
  const auto served = sandboxPolicy("s1", token);
  EXPECT_EQ(served.policy_yaml(), kPolicyV1);
  EXPECT_EQ(served.policy_hash(), sha256Hex(kPolicyV1));
  EXPECT_EQ(served.policy_version(), 1u);
  EXPECT_TRUE(served.has_sandbox_config());
}

TEST_P(GatewayServerSqliteTest, AChangedPolicyFileIsServedWithAHigherVersionAndRevision) {
  const auto file = dir_ / "policy.yaml";
  testing::writeFile(file, kPolicyV1);
  GatewayServerOptions o = baseOptions();
  o.policy_file = file;
  start(o);
  const std::string token = registerSession("s1");
  const auto before = sandboxPolicy("s1", token);
  testing::writeFile(file, kPolicyV2);
  v1::GetSandboxPolicyResponse after;
  ASSERT_TRUE(waitFor([&] {
    after = sandboxPolicy("s1", token);
    return after.policy_version() == 2;
  }));
  EXPECT_EQ(after.policy_yaml(), kPolicyV2);
  EXPECT_EQ(after.policy_hash(), sha256Hex(kPolicyV2));
  EXPECT_GT(after.sandbox_config().config_revision(), before.sandbox_config().config_revision());
  // Rewriting the same bytes is no change.
  testing::writeFile(file, kPolicyV2);
  const auto same = sandboxPolicy("s1", token);
  EXPECT_EQ(same.policy_version(), 2u);
  EXPECT_EQ(same.sandbox_config().config_revision(), after.sandbox_config().config_revision());
  ASSERT_TRUE(waitFor([&] { return gatewayLog().find("CONFIG:UPDATED") != std::string::npos; }));
}

TEST_P(GatewayServerSqliteTest, AnInvalidEditKeepsServingTheLastGoodPolicyAndIsLogged) {
  const auto file = dir_ / "policy.yaml";
  testing::writeFile(file, kPolicyV1);
  GatewayServerOptions o = baseOptions();
  o.policy_file = file;
  start(o);
  const std::string token = registerSession("s1");
  const auto before = sandboxPolicy("s1", token);
  testing::writeFile(file, kPolicyBad);
  const auto after = sandboxPolicy("s1", token);  // looks at the file (check interval 0)
  EXPECT_EQ(after.policy_yaml(), kPolicyV1);
  EXPECT_EQ(after.policy_version(), 1u);
  EXPECT_EQ(after.sandbox_config().config_revision(), before.sandbox_config().config_revision());
  ASSERT_TRUE(waitFor([&] {
    const std::string log = gatewayLog();
    return log.find("ERROR policy: policy file") != std::string::npos && log.find("portz") != std::string::npos;
  })) << gatewayLog();
  ASSERT_TRUE(waitFor([&] { return gatewayLog().find("CONFIG:FAILED") != std::string::npos; }));
  // Fixed again: served.
  testing::writeFile(file, kPolicyV2);
  ASSERT_TRUE(waitFor([&] { return sandboxPolicy("s1", token).policy_version() == 2; }));
}

TEST_P(GatewayServerSqliteTest, AnInvalidPolicyIsRefusedAtStartWithItsPosition) {
  const auto file = dir_ / "policy.yaml";
  testing::writeFile(file, kPolicyBad);
  GatewayServerOptions o = baseOptions();
  o.policy_file = file;
  auto s = GatewayServer::start(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), Code::kInvalidArgument);
  EXPECT_NE(s.error().message().find(file.string() + ":4:"), std::string::npos) << s.error().message();
  EXPECT_FALSE(std::filesystem::exists(dir_ / "gateway-log")) << "nothing started";
}

TEST_P(GatewayServerSqliteTest, WithoutAPolicyNothingIsServed) {
  start();
  const std::string token = registerSession("s1");
  const auto served = sandboxPolicy("s1", token);
  EXPECT_EQ(served.policy_yaml(), "");
  EXPECT_EQ(served.policy_hash(), "");
  EXPECT_EQ(served.policy_version(), 0u);
  EXPECT_EQ(server_->policy(), nullptr);
  EXPECT_EQ(server_->retention(), nullptr) << "no retention limit: nothing runs";
}

// ---- SQLite only: FollowLogs is woken by pushes and ended by stop() -------------------------------

TEST_P(GatewayServerSqliteTest, StopEndsAnOpenFollowStreamWithoutWaitingForTheDeadline) {
  start();
  const std::string token = registerSession("s1");
  ASSERT_EQ(push(token, "s1", {opEvent("s1", 1, nowMs())}), 1u);
  grpc::ClientContext ctx;
  authorize(&ctx, token);
  v1::GetLogsRequest req;
  req.set_session_id("s1");
  auto reader = stub_->FollowLogs(&ctx, req);
  v1::StoredEvent e;
  ASSERT_TRUE(reader->Read(&e));
  EXPECT_EQ(e.sequence(), 1u);
  ASSERT_EQ(push(token, "s1", {opEvent("s1", 2, nowMs())}), 2u);
  ASSERT_TRUE(reader->Read(&e));  // woken by the push
  EXPECT_EQ(e.sequence(), 2u);
  const auto t0 = std::chrono::steady_clock::now();
  server_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(4)) << "stop() waited for the 5 s deadline";
  while (reader->Read(&e)) {
  }
  (void)reader->Finish();
}

INSTANTIATE_TEST_SUITE_P(Sqlite, GatewayServerSqliteTest, ::testing::Values(Backend::kSqlite),
                         [](const ::testing::TestParamInfo<Backend>&) { return "Sqlite"; });

}  // namespace
}  // namespace warden::gateway
