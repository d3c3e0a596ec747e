// The Gateway service end to end: an in-process GatewayServer on 127.0.0.1:0 over an SQLite store
// in a temp dir, called through a real gRPC channel.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "common/encoding.h"
#include "gateway/service/gateway_server.h"
#include "gateway/service/gateway_service.h"
#include "support/test_env.h"
#include "warden/v1/gateway.grpc.pb.h"

namespace warden::gateway {
namespace {

using warden::testing::TempDir;

v1::StoredEvent event(const std::string& session, uint64_t seq, const std::string& kind = "NET",
                      int class_uid = 4001, const std::string& extra = "") {
  v1::StoredEvent e;
  e.set_session_id(session);
  e.set_sequence(seq);
  const int64_t t = 1700000000000 + static_cast<int64_t>(seq);
  e.set_time_ms(t);
  e.set_json("{\"class_uid\":" + std::to_string(class_uid) + ",\"severity_id\":1,\"time\":" +
             std::to_string(t) + ",\"metadata\":{\"sequence\":" + std::to_string(seq) + "}" + extra + "}");
  e.set_shorthand(kind + ":OPEN [INFO] event " + std::to_string(seq));
  return e;
}

v1::PushEventsRequest batch(const std::string& session, uint64_t first, uint64_t last) {
  v1::PushEventsRequest r;
  r.set_session_id(session);
  for (uint64_t s = first; s <= last; ++s) *r.add_events() = event(session, s);
  return r;
}

class GatewayServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { startServer(); }

  void startServer(bool ocsf_flag = false) {
    GatewayServerOptions o;
    o.listen = "127.0.0.1:0";
    o.db = "sqlite://" + (dir_ / "gateway.db").string();
    o.log_dir = dir_ / "gateway-log";
    o.ocsf_logging_flag = ocsf_flag;
    o.operator_socket = (dir_ / "operator.sock").string();  // root (this test) is its operator there
    auto s = GatewayServer::start(o);
    ASSERT_TRUE(s.ok()) << s.error().toString();
    server_ = std::move(*s);
    ASSERT_GT(server_->port(), 0);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::Gateway::NewStub(channel_);
    op_stub_ = v1::Gateway::NewStub(
        grpc::CreateChannel("unix:" + (dir_ / "operator.sock").string(), grpc::InsecureChannelCredentials()));
  }

  void restartServer() {
    stub_.reset();
    op_stub_.reset();
    channel_.reset();
    server_->stop();
    server_.reset();
    startServer();
  }

  static void authorize(grpc::ClientContext* ctx, const std::string& token) {
    ctx->AddMetadata("authorization", "Bearer " + token);
  }

  std::string registerSession(const std::string& id, const std::string& token = "",
                              uint64_t* resume = nullptr) {
    grpc::ClientContext ctx;
    if (!token.empty()) authorize(&ctx, token);
    v1::RegisterSessionRequest req;
    req.set_id(id);
    req.set_name("name-" + id);
    req.set_public_key("ab12");
    v1::RegisterSessionResponse resp;
    const grpc::Status st = stub_->RegisterSession(&ctx, req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    if (resume) *resume = resp.resume_after_sequence();
    return resp.token();
  }

  // One push stream; each call sends one batch and reads its reply.
  struct Pusher {
    grpc::ClientContext ctx;
    std::unique_ptr<grpc::ClientReaderWriter<v1::PushEventsRequest, v1::PushEventsResponse>> stream;
    v1::PushEventsResponse push(const v1::PushEventsRequest& req) {
      v1::PushEventsResponse resp;
      EXPECT_TRUE(stream->Write(req));
      EXPECT_TRUE(stream->Read(&resp));
      return resp;
    }
    grpc::Status finish() {
      stream->WritesDone();
      v1::PushEventsResponse ignored;
      while (stream->Read(&ignored)) {
      }
      return stream->Finish();
    }
  };
  std::unique_ptr<Pusher> pusher(const std::string& token) {
    auto p = std::make_unique<Pusher>();
    if (!token.empty()) authorize(&p->ctx, token);
    p->stream = stub_->PushEvents(&p->ctx);
    return p;
  }

  std::vector<v1::StoredEvent> logs(const std::string& session, std::vector<std::string> classes = {}) {
    grpc::ClientContext ctx;
    v1::GetLogsRequest req;
    req.set_session_id(session);
    for (auto& c : classes) req.add_classes(c);
    v1::GetLogsResponse resp;
    const grpc::Status st = op_stub_->GetLogs(&ctx, req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return {resp.events().begin(), resp.events().end()};
  }

  v1::SandboxConfig config(const std::string& session, const std::string& token) {
    grpc::ClientContext ctx;
    authorize(&ctx, token);
    v1::GetSandboxPolicyRequest req;
    req.set_session_id(session);
    v1::GetSandboxPolicyResponse resp;
    const grpc::Status st = stub_->GetSandboxPolicy(&ctx, req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    EXPECT_TRUE(resp.has_sandbox_config());
    EXPECT_TRUE(resp.policy_yaml().empty());
    return resp.sandbox_config();
  }

  grpc::Status setSetting(const std::string& key, const std::string& value, bool global,
                          const std::string& session = "") {
    grpc::ClientContext ctx;
    v1::SetSettingRequest req;
    req.set_key(key);
    req.set_value(value);
    req.set_global(global);
    req.set_session(session);
    v1::Setting resp;
    return op_stub_->SetSetting(&ctx, req, &resp);
  }

  TempDir dir_;
  std::unique_ptr<GatewayServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Gateway::Stub> stub_;     // TCP: sessions and strangers
  std::unique_ptr<v1::Gateway::Stub> op_stub_;  // the operator socket, as root
};

TEST_F(GatewayServiceTest, RegisterIssuesATokenAndStoresOnlyItsHash) {
  uint64_t resume = 99;
  const std::string token = registerSession("s1", "", &resume);
  EXPECT_EQ(token.size(), 64u);
  EXPECT_EQ(resume, 0u);
  auto rec = server_->store().session("s1");
  ASSERT_TRUE(rec.ok());
  ASSERT_TRUE(rec->has_value());
  EXPECT_EQ((*rec)->token_hash, sha256Hex(token));
  EXPECT_EQ((*rec)->state, "running");
  EXPECT_EQ((*rec)->public_key, "ab12");
}

TEST_F(GatewayServiceTest, RegisterRefusesAnInvalidSessionId) {
  grpc::ClientContext ctx;
  v1::RegisterSessionRequest req;
  req.set_id("bad id/with spaces");
  v1::RegisterSessionResponse resp;
  EXPECT_EQ(stub_->RegisterSession(&ctx, req, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(GatewayServiceTest, ReRegisteringAnExistingIdIsRefusedWhoeverAsksAndTheTokenStays) {
  const std::string a = registerSession("a");
  const std::string b = registerSession("b");
  for (const std::string& token : {std::string(), a, b}) {
    grpc::ClientContext ctx;
    if (!token.empty()) authorize(&ctx, token);
    v1::RegisterSessionRequest req;
    req.set_id("b");
    req.set_public_key("ff00");
    v1::RegisterSessionResponse resp;
    const grpc::Status st = stub_->RegisterSession(&ctx, req, &resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::ALREADY_EXISTS) << st.error_message();
    EXPECT_TRUE(resp.token().empty());
  }
  {  // Not even the operator.
    grpc::ClientContext ctx;
    v1::RegisterSessionRequest req;
    req.set_id("b");
    v1::RegisterSessionResponse resp;
    EXPECT_EQ(op_stub_->RegisterSession(&ctx, req, &resp).error_code(), grpc::StatusCode::ALREADY_EXISTS);
  }
  auto rec = server_->store().session("b");
  ASSERT_TRUE(rec.ok() && rec->has_value());
  EXPECT_EQ((*rec)->token_hash, sha256Hex(b));
  EXPECT_EQ((*rec)->public_key, "ab12");
  auto p = pusher(b);  // b's own token still works
  EXPECT_EQ(p->push(batch("b", 1, 1)).acknowledged_through(), 1u);
  EXPECT_TRUE(p->finish().ok());
}

TEST_F(GatewayServiceTest, PushAcknowledgesTheHighestContiguousSequence) {
  const std::string token = registerSession("s1");
  auto p = pusher(token);
  auto r = p->push(batch("s1", 1, 3));
  EXPECT_EQ(r.error(), "");
  EXPECT_EQ(r.acknowledged_through(), 3u);
  EXPECT_EQ(r.duplicates(), 0u);

  r = p->push(batch("s1", 3, 5));  // 3 again
  EXPECT_EQ(r.acknowledged_through(), 5u);
  EXPECT_EQ(r.duplicates(), 1u);

  r = p->push(batch("s1", 8, 9));  // out of order: a gap 6..7
  EXPECT_EQ(r.error(), "");
  EXPECT_EQ(r.acknowledged_through(), 5u);

  r = p->push(batch("s1", 6, 7));  // the gap filled
  EXPECT_EQ(r.acknowledged_through(), 9u);

  v1::PushEventsRequest empty;
  empty.set_session_id("s1");
  r = p->push(empty);  // an empty batch asks where we are
  EXPECT_EQ(r.acknowledged_through(), 9u);
  EXPECT_TRUE(p->finish().ok());

  const auto stored = logs("s1");
  ASSERT_EQ(stored.size(), 9u);
  for (size_t i = 0; i < stored.size(); ++i) EXPECT_EQ(stored[i].sequence(), i + 1);
  EXPECT_EQ(stored[0].json(), event("s1", 1).json());
  EXPECT_EQ(stored[0].shorthand(), event("s1", 1).shorthand());
}

TEST_F(GatewayServiceTest, PushWithoutAValidTokenIsUnauthenticated) {
  registerSession("s1");
  auto none = pusher("");
  none->stream->Write(batch("s1", 1, 1));
  EXPECT_EQ(none->finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  auto wrong = pusher(std::string(64, 'f'));
  wrong->stream->Write(batch("s1", 1, 1));
  EXPECT_EQ(wrong->finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(logs("s1").empty());
}

TEST_F(GatewayServiceTest, PushUnderAnotherSessionsIdIsRefusedAndNothingStored) {
  const std::string a = registerSession("a");
  registerSession("b");
  auto p = pusher(a);
  auto r = p->push(batch("b", 1, 2));
  EXPECT_NE(r.error().find("belongs to session 'a'"), std::string::npos) << r.error();
  // An event inside a's batch that names b is refused too.
  v1::PushEventsRequest mixed = batch("a", 1, 1);
  *mixed.add_events() = event("b", 2);
  r = p->push(mixed);
  EXPECT_NE(r.error().find("names session 'b'"), std::string::npos) << r.error();
  EXPECT_EQ(r.acknowledged_through(), 0u);
  EXPECT_TRUE(p->finish().ok());
  EXPECT_TRUE(logs("a").empty());
  EXPECT_TRUE(logs("b").empty());
}

TEST_F(GatewayServiceTest, MalformedBatchIsRefusedAsAWholeAndNothingStored) {
  const std::string token = registerSession("s1");
  auto p = pusher(token);
  v1::PushEventsRequest bad = batch("s1", 1, 2);
  bad.mutable_events(1)->set_shorthand("no prefix here");
  auto r = p->push(bad);
  EXPECT_NE(r.error().find("event 2"), std::string::npos) << r.error();

  v1::PushEventsRequest unordered = batch("s1", 1, 1);
  *unordered.add_events() = event("s1", 1);
  r = p->push(unordered);
  EXPECT_NE(r.error().find("increase strictly"), std::string::npos) << r.error();

  v1::PushEventsRequest zero = batch("s1", 1, 1);
  zero.mutable_events(0)->set_sequence(0);
  r = p->push(zero);
  EXPECT_FALSE(r.error().empty());

  v1::PushEventsRequest empty_json = batch("s1", 1, 1);
  empty_json.mutable_events(0)->set_json("");
  r = p->push(empty_json);
  EXPECT_FALSE(r.error().empty());

  // The stream stays usable after a refused batch.
  r = p->push(batch("s1", 1, 1));
  EXPECT_EQ(r.error(), "");
  EXPECT_EQ(r.acknowledged_through(), 1u);
  EXPECT_TRUE(p->finish().ok());
  EXPECT_EQ(logs("s1").size(), 1u);
}

TEST_F(GatewayServiceTest, OversizedBatchIsRefused) {
  const std::string token = registerSession("s1");
  auto p = pusher(token);
  auto r = p->push(batch("s1", 1, kMaxPushBatchEvents + 1));
  EXPECT_NE(r.error().find("over the maximum"), std::string::npos) << r.error();
  EXPECT_TRUE(p->finish().ok());
  EXPECT_TRUE(logs("s1").empty());
}

TEST_F(GatewayServiceTest, SettingOfTheWrongTypeIsRefusedWithTheAllowedValues) {
  const grpc::Status st = setSetting("ocsf_json_enabled", "yes please", true);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("allowed: true, false"), std::string::npos) << st.error_message();
  const grpc::Status unknown = setSetting("no_such_key", "1", true);
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(unknown.error_message().find("ocsf_json_enabled"), std::string::npos);
  EXPECT_EQ(server_->settings().revision(), 1u);
}

TEST_F(GatewayServiceTest, SettingsChangesBumpTheRevisionServedToSessions) {
  const std::string token = registerSession("s1");
  auto c = config("s1", token);
  EXPECT_EQ(c.config_revision(), 1u);
  EXPECT_FALSE(c.logging().ocsf_enabled());

  ASSERT_TRUE(setSetting("ocsf_json_enabled", "true", true).ok());
  c = config("s1", token);
  EXPECT_EQ(c.config_revision(), 2u);
  EXPECT_TRUE(c.logging().ocsf_enabled());

  ASSERT_TRUE(setSetting("ocsf_json_enabled", "false", false, "s1").ok());
  c = config("s1", token);
  EXPECT_EQ(c.config_revision(), 3u);
  EXPECT_TRUE(c.logging().ocsf_enabled()) << "a global value wins over a session value";

  grpc::ClientContext ctx;
  v1::DeleteSettingRequest del;
  del.set_key("ocsf_json_enabled");
  del.set_global(true);
  v1::DeleteSettingResponse dresp;
  ASSERT_TRUE(op_stub_->DeleteSetting(&ctx, del, &dresp).ok());
  EXPECT_TRUE(dresp.existed());
  EXPECT_EQ(dresp.config_revision(), 4u);
  c = config("s1", token);
  EXPECT_EQ(c.config_revision(), 4u);
  EXPECT_FALSE(c.logging().ocsf_enabled());

  grpc::ClientContext lctx;
  v1::ListSettingsRequest lreq;
  v1::ListSettingsResponse lresp;
  ASSERT_TRUE(op_stub_->ListSettings(&lctx, lreq, &lresp).ok());
  ASSERT_EQ(lresp.settings_size(), 1);
  EXPECT_EQ(lresp.settings(0).scope(), "session");
  EXPECT_EQ(lresp.settings(0).session(), "s1");
  EXPECT_EQ(lresp.settings(0).value(), "false");
  EXPECT_EQ(lresp.settings(0).type(), "bool");

  grpc::ClientContext gctx;
  v1::GetSettingRequest greq;
  greq.set_key("ocsf_json_enabled");
  greq.set_session("s1");
  v1::Setting gresp;
  ASSERT_TRUE(op_stub_->GetSetting(&gctx, greq, &gresp).ok());
  EXPECT_EQ(gresp.value(), "false");
  EXPECT_EQ(gresp.scope(), std::string(settingSourceName(SettingSource::kSession)));
}

TEST_F(GatewayServiceTest, TheOcsfFlagIsTheBaseValue) {
  stub_.reset();
  op_stub_.reset();
  channel_.reset();
  server_.reset();
  startServer(/*ocsf_flag=*/true);
  const std::string token = registerSession("s1");
  EXPECT_TRUE(config("s1", token).logging().ocsf_enabled());
}

TEST_F(GatewayServiceTest, ASessionReadsOnlyItself) {
  const std::string a = registerSession("a");
  registerSession("b");
  {
    grpc::ClientContext ctx;
    authorize(&ctx, a);
    v1::GetSandboxPolicyRequest req;
    req.set_session_id("b");
    v1::GetSandboxPolicyResponse resp;
    EXPECT_EQ(stub_->GetSandboxPolicy(&ctx, req, &resp).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    grpc::ClientContext ctx;
    authorize(&ctx, a);
    v1::GetLogsRequest req;
    req.set_session_id("b");
    v1::GetLogsResponse resp;
    EXPECT_EQ(stub_->GetLogs(&ctx, req, &resp).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    grpc::ClientContext ctx;
    authorize(&ctx, a);
    v1::SetSettingRequest req;
    req.set_key("ocsf_json_enabled");
    req.set_value("true");
    req.set_global(true);
    v1::Setting resp;
    EXPECT_EQ(stub_->SetSetting(&ctx, req, &resp).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    grpc::ClientContext ctx;
    authorize(&ctx, a);
    v1::ListSessionsRequest req;
    v1::ListSessionsResponse resp;
    EXPECT_EQ(stub_->ListSessions(&ctx, req, &resp).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
}

TEST_F(GatewayServiceTest, LoopbackWithoutCredentialsIsNoOperator) {
  {
    grpc::ClientContext ctx;
    v1::ListSessionsRequest req;
    v1::ListSessionsResponse resp;
    const grpc::Status st = stub_->ListSessions(&ctx, req, &resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAUTHENTICATED) << st.error_message();
    EXPECT_NE(st.error_message().find("operator socket"), std::string::npos) << st.error_message();
  }
  EXPECT_EQ(setSetting("ocsf_json_enabled", "true", true).error_code(), grpc::StatusCode::OK);  // the operator can
  grpc::ClientContext ctx;
  v1::SetSettingRequest req;
  req.set_key("ocsf_json_enabled");
  req.set_value("false");
  req.set_global(true);
  v1::Setting resp;
  EXPECT_EQ(stub_->SetSetting(&ctx, req, &resp).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  auto stored = server_->settings().get(SettingScope::global(), "ocsf_json_enabled");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ(SettingsRegistry::render(*SettingsRegistry::builtin().find("ocsf_json_enabled"), **stored), "true");
}

TEST_F(GatewayServiceTest, LogsAndQueriesRoundTrip) {
  const std::string a = registerSession("a");
  const std::string b = registerSession("b");
  {
    auto p = pusher(a);
    v1::PushEventsRequest r;
    r.set_session_id("a");
    *r.add_events() = event("a", 1, "NET");
    *r.add_events() = event("a", 2, "HTTP", 4002);
    *r.add_events() = event("a", 3, "FILE", 1001, ",\"file\":{\"path\":\"/etc/passwd\"}");
    EXPECT_EQ(p->push(r).acknowledged_through(), 3u);
    EXPECT_TRUE(p->finish().ok());
  }
  {
    auto p = pusher(b);
    EXPECT_EQ(p->push(batch("b", 1, 2)).acknowledged_through(), 2u);
    EXPECT_TRUE(p->finish().ok());
  }
  const auto http = logs("a", {"HTTP"});
  ASSERT_EQ(http.size(), 1u);
  EXPECT_EQ(http[0].sequence(), 2u);
  size_t of_ab = 0;  // the operator reads every session (the gateway's own one too)
  for (const auto& e : logs("")) of_ab += (e.session_id() == "a" || e.session_id() == "b") ? 1 : 0;
  EXPECT_EQ(of_ab, 5u);

  {  // A session's token with no session filter reads only itself.
    grpc::ClientContext ctx;
    authorize(&ctx, b);
    v1::GetLogsRequest req;
    v1::GetLogsResponse resp;
    ASSERT_TRUE(stub_->GetLogs(&ctx, req, &resp).ok());
    ASSERT_EQ(resp.events_size(), 2);
    EXPECT_EQ(resp.events(0).session_id(), "b");
  }
  {  // Which sessions touched /etc/passwd?
    grpc::ClientContext ctx;
    v1::QueryRequest req;
    req.set_path("/etc/passwd");
    v1::QueryResponse resp;
    ASSERT_TRUE(op_stub_->Query(&ctx, req, &resp).ok());
    ASSERT_EQ(resp.sessions_size(), 1);
    EXPECT_EQ(resp.sessions(0), "a");
  }
  {  // What session a did in a time window.
    grpc::ClientContext ctx;
    v1::QueryRequest req;
    req.set_session_id("a");
    req.set_since_ms(1700000000002);
    req.set_until_ms(1700000000004);
    v1::QueryResponse resp;
    ASSERT_TRUE(op_stub_->Query(&ctx, req, &resp).ok());
    ASSERT_EQ(resp.events_size(), 2);
    EXPECT_EQ(resp.events(0).sequence(), 2u);
    EXPECT_EQ(resp.events(1).sequence(), 3u);
  }
  {  // A limit over the maximum is refused.
    grpc::ClientContext ctx;
    v1::GetLogsRequest req;
    req.set_limit(static_cast<uint32_t>(kMaxQueryLimit + 1));
    v1::GetLogsResponse resp;
    EXPECT_EQ(op_stub_->GetLogs(&ctx, req, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    grpc::ClientContext ctx;
    v1::ListSessionsRequest req;
    v1::ListSessionsResponse resp;
    ASSERT_TRUE(op_stub_->ListSessions(&ctx, req, &resp).ok());
    ASSERT_EQ(resp.sessions_size(), 3);  // a, b and the gateway's own session, by id
    std::vector<v1::Session> ab;
    for (const auto& listed : resp.sessions()) {
      if (listed.id() == server_->gatewaySessionId()) {
        EXPECT_EQ(listed.name(), "gateway");
      } else {
        ab.push_back(listed);
      }
    }
    ASSERT_EQ(ab.size(), 2u);
    EXPECT_EQ(ab[0].id(), "a");
    EXPECT_EQ(ab[0].highest_sequence(), 3u);
    EXPECT_EQ(ab[1].highest_sequence(), 2u);
  }
}

TEST_F(GatewayServiceTest, FollowLogsStreamsStoredAndNewEvents) {
  const std::string token = registerSession("s1");
  auto p = pusher(token);
  EXPECT_EQ(p->push(batch("s1", 1, 2)).acknowledged_through(), 2u);
  grpc::ClientContext ctx;
  authorize(&ctx, token);
  v1::GetLogsRequest req;
  req.set_session_id("s1");
  auto reader = stub_->FollowLogs(&ctx, req);
  v1::StoredEvent e;
  ASSERT_TRUE(reader->Read(&e));
  EXPECT_EQ(e.sequence(), 1u);
  ASSERT_TRUE(reader->Read(&e));
  EXPECT_EQ(e.sequence(), 2u);
  EXPECT_EQ(p->push(batch("s1", 3, 3)).acknowledged_through(), 3u);
  ASSERT_TRUE(reader->Read(&e));  // the push wakes the follower
  EXPECT_EQ(e.sequence(), 3u);
  ctx.TryCancel();
  while (reader->Read(&e)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(p->finish().ok());
}

TEST_F(GatewayServiceTest, FollowLogsNeedsASession) {
  grpc::ClientContext ctx;
  v1::GetLogsRequest req;
  auto reader = op_stub_->FollowLogs(&ctx, req);
  v1::StoredEvent e;
  EXPECT_FALSE(reader->Read(&e));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(GatewayServiceTest, VerificationMaterialHasLogStartAndCheckpoints) {
  const std::string token = registerSession("s1");
  auto p = pusher(token);
  v1::PushEventsRequest r;
  r.set_session_id("s1");
  *r.add_events() = event("s1", 1, "LOG", 1008);
  *r.add_events() = event("s1", 2, "NET");
  v1::StoredEvent cp = event("s1", 3, "LOG", 1008);
  cp.set_shorthand("LOG:CHECKPOINT [INFO] through 2");
  *r.add_events() = cp;
  *r.add_events() = event("s1", 4, "LOG", 1008);  // an ordinary LOG event
  EXPECT_EQ(p->push(r).acknowledged_through(), 4u);
  EXPECT_TRUE(p->finish().ok());

  grpc::ClientContext ctx;
  authorize(&ctx, token);
  v1::GetVerificationMaterialRequest req;
  req.set_session_id("s1");
  v1::GetVerificationMaterialResponse resp;
  ASSERT_TRUE(stub_->GetVerificationMaterial(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.public_key(), "ab12");
  EXPECT_EQ(resp.log_start().sequence(), 1u);
  ASSERT_EQ(resp.checkpoints_size(), 1);
  EXPECT_EQ(resp.checkpoints(0).sequence(), 3u);
}

TEST_F(GatewayServiceTest, ARestartOnTheSameDatabaseKeepsEverything) {
  const std::string token = registerSession("s1");
  {
    auto p = pusher(token);
    EXPECT_EQ(p->push(batch("s1", 1, 5)).acknowledged_through(), 5u);
    EXPECT_TRUE(p->finish().ok());
  }
  restartServer();
  {  // The old token still works after the restart.
    auto p = pusher(token);
    EXPECT_EQ(p->push(batch("s1", 5, 6)).acknowledged_through(), 6u);
    EXPECT_TRUE(p->finish().ok());
  }
  EXPECT_EQ(logs("s1").size(), 6u);
}

}  // namespace
}  // namespace warden::gateway
