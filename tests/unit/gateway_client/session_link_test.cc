// The session's link to a real gateway: an in-process GatewayServer on 127.0.0.1 over SQLite in a temp
// dir, a real spool, the real gRPC channel. The gateway is stopped and started again to make outages.

#include "gateway/client/session_link.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "gateway/client/link_file.h"
#include "gateway/client/spool_replay.h"
#include "gateway/service/gateway_server.h"
#include "support/test_env.h"

namespace warden::gateway {
namespace {

using std::chrono::milliseconds;
using warden::testing::TempDir;
using warden::testing::waitFor;

constexpr auto kDeadline = std::chrono::seconds(15);

audit::SpooledEvent event(uint64_t seq) {
  const int64_t t = 1700000000000 + static_cast<int64_t>(seq);
  return {.sequence = seq,
          .json = "{\"class_uid\":4001,\"severity_id\":1,\"time\":" + std::to_string(t) + ",\"metadata\":{\"sequence\":" +
                  std::to_string(seq) + "}}",
          .shorthand = "NET:OPEN [INFO] event " + std::to_string(seq)};
}

std::vector<audit::SpooledEvent> events(uint64_t first, uint64_t last) {
  std::vector<audit::SpooledEvent> out;
  for (uint64_t s = first; s <= last; ++s) out.push_back(event(s));
  return out;
}

// What the hooks saw, from the link's threads.
struct Recorder {
  std::mutex mu;
  std::vector<ConfigUpdate> configs;
  std::vector<PolicyUpdate> policies;
  int unreachable = 0;
  int reconnected = 0;

  SessionLinkHooks hooks() {
    SessionLinkHooks h;
    h.on_config = [this](const ConfigUpdate& u) {
      std::lock_guard lk(mu);
      configs.push_back(u);
    };
    h.on_policy = [this](const PolicyUpdate& u) {
      std::lock_guard lk(mu);
      policies.push_back(u);
    };
    h.on_unreachable = [this](const audit::GatewayLinkFacts&) {
      std::lock_guard lk(mu);
      ++unreachable;
    };
    h.on_reconnected = [this](const audit::GatewayLinkFacts&) {
      std::lock_guard lk(mu);
      ++reconnected;
    };
    return h;
  }
  template <typename F>
  auto read(F f) {
    std::lock_guard lk(mu);
    return f();
  }
};

class SessionLinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    startServer("127.0.0.1:0");
    port_ = server_->port();
    auto spool = audit::Spool::open({.dir = dir_ / "spool", .fsync_each_batch = false});
    ASSERT_TRUE(spool.ok()) << spool.error().toString();
    spool_ = std::move(*spool);
  }

  void startServer(const std::string& listen) {
    GatewayServerOptions o;
    o.listen = listen;
    o.db = "sqlite://" + (dir_ / "gateway.db").string();
    o.log_dir = trail_dir_.path();  // not in dir_: replays walk dir_
    o.operator_socket = "none";  // sessions use TCP and their tokens
    auto s = GatewayServer::start(o);
    ASSERT_TRUE(s.ok()) << s.error().toString();
    server_ = std::move(*s);
  }
  void stopServer() {
    server_->stop();
    server_.reset();
  }

  SessionLinkOptions options(const std::string& id = "session-1") {
    SessionLinkOptions o;
    o.link = {.gateway_url = "127.0.0.1:" + std::to_string(port_), .session_id = id, .session_name = "agent",
              .hostname = "host1", .public_key = std::string(64, 'a')};
    o.link_file = dir_ / "spool" / "link";
    o.poll_interval = milliseconds(50);
    o.backoff_initial = milliseconds(20);
    o.backoff_max = milliseconds(200);
    o.batch_events = 100;
    return o;
  }

  uint64_t stored(const std::string& id = "session-1") {
    if (!server_) return 0;
    auto h = server_->store().highestContiguous(id);
    return h.ok() ? *h : 0;
  }

  TempDir dir_;
  TempDir trail_dir_;  // the gateway's own audit trail
  std::unique_ptr<GatewayServer> server_;
  int port_ = 0;
  std::unique_ptr<audit::Spool> spool_;
};

TEST_F(SessionLinkTest, PushesEverySpooledEventOnceAndEmptiesTheSpool) {
  Recorder rec;
  auto link = SessionLink::start(options(), *spool_, rec.hooks());
  ASSERT_TRUE(link.ok()) << link.error().toString();
  ASSERT_TRUE(spool_->append(events(1, 250)).ok());
  (*link)->notify();
  ASSERT_TRUE((*link)->drain(kDeadline));
  ASSERT_TRUE(spool_->append(events(251, 260)).ok());
  (*link)->notify();
  ASSERT_TRUE((*link)->drain(kDeadline));
  EXPECT_EQ(stored(), 260u);
  EXPECT_EQ(spool_->ackedSequence(), 260u);
  auto all = server_->store().query({.session = std::string("session-1"), .limit = 1000});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 260u);
  EXPECT_EQ(all->back().shorthand, "NET:OPEN [INFO] event 260");
  EXPECT_EQ(rec.read([&] { return rec.unreachable; }), 0);
  // The token was kept for a restart, and it is the one in use.
  auto record = readLinkFile(dir_ / "spool" / "link");
  ASSERT_TRUE(record.ok()) << record.error().toString();
  EXPECT_EQ(record->token, (*link)->token());
  EXPECT_EQ(record->token.size(), 64u);
}

TEST_F(SessionLinkTest, AppliesAConfigOnlyWhenItsRevisionIsHigher) {
  Recorder rec;
  auto link = SessionLink::start(options(), *spool_, rec.hooks());
  ASSERT_TRUE(link.ok());
  ASSERT_TRUE((*link)->waitFirstContact(kDeadline));
  ASSERT_EQ(rec.read([&] { return rec.configs.size(); }), 1u);
  const uint64_t first = rec.read([&] { return rec.configs[0].config_revision; });
  EXPECT_FALSE(rec.read([&] { return rec.configs[0].ocsf_enabled; }));
  // Several polls of the same revision apply nothing more.
  ASSERT_TRUE(waitFor([&] { return (*link)->stats().polls >= 4; }, kDeadline));
  EXPECT_EQ(rec.read([&] { return rec.configs.size(); }), 1u);
  // A change on the gateway arrives with a higher revision.
  ASSERT_TRUE(server_->settings().setText(SettingScope::forSession("session-1"), "ocsf_json_enabled", "true").ok());
  ASSERT_TRUE(waitFor([&] { return rec.read([&] { return rec.configs.size(); }) == 2u; }, kDeadline));
  EXPECT_TRUE(rec.read([&] { return rec.configs[1].ocsf_enabled; }));
  EXPECT_GT(rec.read([&] { return rec.configs[1].config_revision; }), first);
  // Another session's value is not news for this one... but still a revision: applied with the same value.
  ASSERT_TRUE(server_->settings().setText(SettingScope::global(), "ocsf_json_enabled", "false").ok());
  ASSERT_TRUE(waitFor([&] { return rec.read([&] { return rec.configs.size(); }) == 3u; }, kDeadline));
  EXPECT_FALSE(rec.read([&] { return rec.configs[2].ocsf_enabled; })) << "a global value wins";
}

TEST_F(SessionLinkTest, AnOutageIsReportedOnceAndNothingSpooledMeanwhileIsLost) {
  Recorder rec;
  auto link = SessionLink::start(options(), *spool_, rec.hooks());
  ASSERT_TRUE(link.ok());
  ASSERT_TRUE(spool_->append(events(1, 50)).ok());
  (*link)->notify();
  ASSERT_TRUE((*link)->drain(kDeadline));
  stopServer();
  // Events keep coming while the gateway is away; the link keeps failing (polls and pushes) ...
  for (uint64_t s = 51; s <= 550; s += 50) {
    ASSERT_TRUE(spool_->append(events(s, s + 49)).ok());
    (*link)->notify();
  }
  ASSERT_TRUE(waitFor([&] { return rec.read([&] { return rec.unreachable; }) == 1; }, kDeadline));
  ASSERT_TRUE(waitFor([&] { return !(*link)->stats().up; }, kDeadline));
  EXPECT_FALSE((*link)->drain(milliseconds(300)));
  EXPECT_EQ(rec.read([&] { return rec.unreachable; }), 1) << "one outage, one record";
  EXPECT_EQ(spool_->ackedSequence(), 50u);
  // ... and the same gateway (same port, same database) comes back.
  startServer("127.0.0.1:" + std::to_string(port_));
  ASSERT_TRUE((*link)->drain(kDeadline));
  EXPECT_EQ(stored(), 550u);
  EXPECT_EQ(rec.read([&] { return rec.reconnected; }), 1);
  EXPECT_EQ(rec.read([&] { return rec.unreachable; }), 1);
  auto all = server_->store().query({.session = std::string("session-1"), .limit = 10000});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 550u) << "each sequence stored once";
}

TEST_F(SessionLinkTest, AGatewayDownFromTheStartIsReportedAndTheSessionCatchesUpLater) {
  stopServer();
  Recorder rec;
  auto link = SessionLink::start(options(), *spool_, rec.hooks());
  ASSERT_TRUE(link.ok());
  EXPECT_FALSE((*link)->waitFirstContact(kDeadline)) << "no answer: the session starts on its local config";
  EXPECT_EQ(rec.read([&] { return rec.unreachable; }), 1);
  ASSERT_TRUE(spool_->append(events(1, 30)).ok());
  startServer("127.0.0.1:" + std::to_string(port_));
  ASSERT_TRUE((*link)->drain(kDeadline));
  EXPECT_EQ(stored(), 30u);
  ASSERT_TRUE(waitFor([&] { return rec.read([&] { return rec.configs.size(); }) == 1u; }, kDeadline));
}

TEST_F(SessionLinkTest, ALeftoverSpoolIsSentAsItsSessionByALaterReplay) {
  // A supervisor pushed some events, then died with more in its spool.
  {
    Recorder rec;
    auto link = SessionLink::start(options("crashed-1"), *spool_, rec.hooks());
    ASSERT_TRUE(link.ok());
    ASSERT_TRUE(spool_->append(events(1, 40)).ok());
    (*link)->notify();
    ASSERT_TRUE((*link)->drain(kDeadline));
    stopServer();
    ASSERT_TRUE(spool_->append(events(41, 120)).ok());
    (*link)->stop();
    spool_.reset();
  }
  startServer("127.0.0.1:" + std::to_string(port_));
  ASSERT_EQ(stored("crashed-1"), 40u);
  const auto outcomes = replayLeftoverSpools(dir_.path(), "own-session", kDeadline);
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].session_id, "spool");  // the directory's name
  EXPECT_TRUE(outcomes[0].complete) << outcomes[0].problem;
  EXPECT_EQ(outcomes[0].sent, 80u);
  EXPECT_EQ(stored("crashed-1"), 120u);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "spool")) << "a fully acknowledged leftover is removed";
}

TEST_F(SessionLinkTest, ASpoolInUseIsNotReplayedByAnotherSupervisor) {
  Recorder rec;
  stopServer();
  auto link = SessionLink::start(options(), *spool_, rec.hooks());
  ASSERT_TRUE(link.ok());
  ASSERT_TRUE(writeLinkFile(dir_ / "spool" / "link", options().link).ok());
  const auto outcomes = replayLeftoverSpools(dir_.path(), "own-session", milliseconds(500));
  EXPECT_TRUE(outcomes.empty()) << outcomes[0].problem;
  EXPECT_TRUE(std::filesystem::exists(dir_ / "spool"));
}

TEST(SessionLinkStartTest, RefusesABadGatewayUrl) {
  TempDir dir;
  auto spool = audit::Spool::open({.dir = dir / "spool"});
  ASSERT_TRUE(spool.ok());
  SessionLinkOptions o;
  o.link = {.gateway_url = "ftp://gateway:21", .session_id = "s"};
  auto link = SessionLink::start(o, **spool, {});
  ASSERT_FALSE(link.ok());
  EXPECT_EQ(link.error().code(), Code::kInvalidArgument);
  EXPECT_NE(link.error().message().find("scheme must be http or https"), std::string::npos) << link.error().message();
}

}  // namespace
}  // namespace warden::gateway
