// PushEvents when the store fails: the stream ends with UNAVAILABLE and nothing is acknowledged that
// is not stored. The service runs over a real SQLite store wrapped so that append() can be made to
// fail like a locked or unreachable database.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>

#include "gateway/service/gateway_service.h"
#include "gateway/settings/settings_registry.h"
#include "gateway/store/sqlite/sqlite_store.h"
#include "support/test_env.h"
#include "warden/v1/gateway.grpc.pb.h"

namespace warden::gateway {
namespace {

class FailingStore final : public EventStore {
 public:
  explicit FailingStore(std::unique_ptr<EventStore> inner) : inner_(std::move(inner)) {}
  std::atomic<bool> fail_append{false};

  Result<void> migrate() override { return inner_->migrate(); }
  Result<void> upsertSession(const SessionRecord& s) override { return inner_->upsertSession(s); }
  Result<bool> createSession(const SessionRecord& s) override { return inner_->createSession(s); }
  Result<std::optional<SessionRecord>> session(std::string_view id) override { return inner_->session(id); }
  Result<std::vector<SessionRecord>> sessions() override { return inner_->sessions(); }
  Result<AppendResult> append(const std::vector<StoredEvent>& batch) override {
    if (fail_append) return unavailable("database is locked (busy timeout 5000 ms)");
    return inner_->append(batch);
  }
  Result<uint64_t> highestContiguous(std::string_view id) override { return inner_->highestContiguous(id); }
  Result<std::vector<StoredEvent>> query(const EventQuery& q) override { return inner_->query(q); }
  Result<std::vector<std::string>> sessionsMatching(const EventQuery& q) override {
    return inner_->sessionsMatching(q);
  }
  Result<std::vector<Deleted>> deleteExpired(int64_t cutoff_ms, uint64_t max_bytes) override {
    return inner_->deleteExpired(cutoff_ms, max_bytes);
  }
  Result<uint64_t> storedBytes() override { return inner_->storedBytes(); }
  Result<void> saveSetting(std::string_view session, std::string_view key, const std::optional<std::string>& value,
                           uint64_t revision) override {
    return inner_->saveSetting(session, key, value, revision);
  }
  Result<void> saveRevision(uint64_t revision) override { return inner_->saveRevision(revision); }
  Result<void> savePolicyState(uint64_t version, std::string_view hash) override {
    return inner_->savePolicyState(version, hash);
  }
  Result<PersistedSettings> loadSettings() override { return inner_->loadSettings(); }
  Result<void> saveExportCursors(std::string_view name,
                                 const std::vector<std::pair<std::string, uint64_t>>& cursors) override {
    return inner_->saveExportCursors(name, cursors);
  }
  Result<std::vector<std::pair<std::string, uint64_t>>> loadExportCursors(std::string_view name) override {
    return inner_->loadExportCursors(name);
  }
  Result<bool> recordFleetSighting(std::string_view key) override { return inner_->recordFleetSighting(key); }

 private:
  std::unique_ptr<EventStore> inner_;
};

v1::PushEventsRequest batch(uint64_t first, uint64_t last) {
  v1::PushEventsRequest r;
  r.set_session_id("s1");
  for (uint64_t s = first; s <= last; ++s) {
    auto* e = r.add_events();
    e->set_sequence(s);
    e->set_json("{\"class_uid\":4001,\"metadata\":{\"sequence\":" + std::to_string(s) + "}}");
    e->set_shorthand("NET:OPEN [INFO] x");
  }
  return r;
}

TEST(PushStoreFailure, AStoreErrorEndsTheStreamWithUnavailableAndAcknowledgesNothing) {
  warden::testing::TempDir dir;
  auto inner = openSqliteStore(dir / "gw.db");
  ASSERT_TRUE(inner.ok()) << inner.error().toString();
  ASSERT_TRUE((*inner)->migrate().ok());
  FailingStore store(std::move(*inner));
  RuntimeSettings settings(SettingsRegistry::builtin(), {});
  GatewayService service(store, settings);
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(service.service());
  auto server = builder.BuildAndStart();
  ASSERT_TRUE(server);
  ASSERT_GT(port, 0);
  auto stub = v1::Gateway::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));

  std::string token;
  {
    grpc::ClientContext ctx;
    v1::RegisterSessionRequest req;
    req.set_id("s1");
    v1::RegisterSessionResponse resp;
    ASSERT_TRUE(stub->RegisterSession(&ctx, req, &resp).ok());
    token = resp.token();
  }
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + token);
  auto stream = stub->PushEvents(&ctx);
  v1::PushEventsResponse resp;
  ASSERT_TRUE(stream->Write(batch(1, 2)));
  ASSERT_TRUE(stream->Read(&resp));
  EXPECT_EQ(resp.acknowledged_through(), 2u);

  store.fail_append = true;
  stream->Write(batch(3, 4));
  bool got_ack = false;
  while (stream->Read(&resp)) got_ack = true;
  EXPECT_FALSE(got_ack) << "acknowledged " << resp.acknowledged_through() << " without storing it";
  const grpc::Status st = stream->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(st.error_message().find("database is locked"), std::string::npos) << st.error_message();
  auto highest = store.highestContiguous("s1");
  ASSERT_TRUE(highest.ok());
  EXPECT_EQ(*highest, 2u);
  server->Shutdown();
}

}  // namespace
}  // namespace warden::gateway
