#pragma once

// A real gateway for the operator client's tests: an in-process GatewayServer on 127.0.0.1:0 over
// SQLite in a temp dir, its operator socket in the temp dir (the client connects there, as root or
// as a member of the test's own group), plus what a session would do to it (register, push) through
// a raw stub over TCP, and direct SQLite edits for tampering.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "gateway/client/operator_client.h"
#include "gateway/service/gateway_server.h"
#include "support/sqlite_exec.h"
#include "support/test_env.h"
#include "warden/v1/gateway.grpc.pb.h"

namespace warden::gateway {

class OperatorGatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GatewayServerOptions o;
    o.listen = "127.0.0.1:0";
    o.db = "sqlite://" + dbPath();
    o.log_dir = dir_ / "trail";  // the gateway's own audit trail stays in the temp dir
    o.operator_socket = operatorSocket();
    if (::geteuid() != 0) o.operator_group = std::to_string(::getegid());
    configure(o);
    auto s = GatewayServer::start(o);
    ASSERT_TRUE(s.ok()) << s.error().toString();
    server_ = std::move(*s);
    address_ = "127.0.0.1:" + std::to_string(server_->port());
    stub_ = v1::Gateway::NewStub(grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
    auto c = OperatorClient::create("unix:" + operatorSocket());
    ASSERT_TRUE(c.ok()) << c.error().toString();
    client_ = std::make_unique<OperatorClient>(std::move(*c));
  }

  // A fixture's own server options (retention, say), before the server starts.
  virtual void configure(GatewayServerOptions&) {}

  std::string dbPath() const { return (dir_ / "gateway.db").string(); }
  std::string operatorSocket() const { return (dir_ / "operator.sock").string(); }

  // Registers a session as a supervisor would; returns its token.
  std::string registerSession(const std::string& id, const std::string& name = "",
                              const std::string& public_key = "", const std::string& hostname = "") {
    grpc::ClientContext ctx;
    v1::RegisterSessionRequest req;
    req.set_id(id);
    req.set_name(name);
    req.set_public_key(public_key);
    req.set_hostname(hostname);
    v1::RegisterSessionResponse resp;
    const grpc::Status st = stub_->RegisterSession(&ctx, req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.token();
  }

  // Pushes `events` in batches of at most 1000 with the session's token; returns the last
  // acknowledged sequence.
  uint64_t push(const std::string& session, const std::string& token,
                const std::vector<v1::StoredEvent>& events) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + token);
    auto stream = stub_->PushEvents(&ctx);
    uint64_t acked = 0;
    for (size_t i = 0; i < events.size(); i += 1000) {
      v1::PushEventsRequest req;
      req.set_session_id(session);
      for (size_t j = i; j < std::min(events.size(), i + 1000); ++j) *req.add_events() = events[j];
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
    const grpc::Status st = stream->Finish();
    EXPECT_TRUE(st.ok()) << st.error_message();
    return acked;
  }

  // A simple event: `kind`:OPEN with severity `severity`, `extra` JSON members appended.
  static v1::StoredEvent event(const std::string& session, uint64_t seq, const std::string& kind = "NET",
                               int severity = 1, const std::string& extra = "") {
    v1::StoredEvent e;
    e.set_session_id(session);
    e.set_sequence(seq);
    const int64_t t = 1763900000000 + static_cast<int64_t>(seq) * 1000;
    e.set_time_ms(t);
    e.set_json("{\"class_uid\":4001,\"severity_id\":" + std::to_string(severity) + ",\"time\":" +
               std::to_string(t) + ",\"metadata\":{\"sequence\":" + std::to_string(seq) + "}" + extra + "}");
    static const char* kTags[] = {"[INFO]", "[INFO]", "[LOW]", "[MED]", "[HIGH]", "[CRIT]", "[FATAL]"};
    e.set_shorthand(kind + ":OPEN " + kTags[severity] + " event " + std::to_string(seq));
    return e;
  }

  static std::vector<v1::StoredEvent> events(const std::string& session, uint64_t first, uint64_t last) {
    std::vector<v1::StoredEvent> out;
    for (uint64_t s = first; s <= last; ++s) out.push_back(event(session, s));
    return out;
  }

  // Runs one SQL statement against the gateway's database from a second connection.
  void sql(const std::string& statement) {
    const warden::testing::SqliteOutcome r = warden::testing::execSqlite(dbPath(), statement);
    ASSERT_EQ(r.rc, SQLITE_OK) << r.message;
    ASSERT_GT(r.changed, 0) << "no row changed by: " << statement;
  }

  warden::testing::TempDir dir_;
  std::unique_ptr<GatewayServer> server_;
  std::string address_;
  std::unique_ptr<v1::Gateway::Stub> stub_;
  std::unique_ptr<OperatorClient> client_;
};

}  // namespace warden::gateway
