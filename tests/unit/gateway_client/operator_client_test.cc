// OperatorClient against a real in-process gateway (127.0.0.1:0, SQLite in a temp dir): every RPC
// the CLI uses, its error mapping, paging, following and cancellation.

#include "gateway/client/operator_client.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <future>

#include "common/unique_fd.h"
#include "operator_test_util.h"

namespace warden::gateway {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using warden::testing::waitFor;

// A TCP port on 127.0.0.1 that accepts connections (the kernel completes them) but never speaks:
// a gateway that hangs.
struct SilentListener {
  UniqueFd fd;
  int port = 0;
  SilentListener() {
    fd = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd.get(), 16), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
};

// A port nothing listens on (bound, then closed).
int closedPort() {
  SilentListener l;
  const int port = l.port;
  l.fd.reset();
  return port;
}

TEST(ResolveGatewayUrlTest, FlagWinsOverEnvironmentWhichWinsOverTheDefault) {
  EXPECT_EQ(resolveGatewayUrl("10.0.0.1:9000", "10.0.0.2:9000"), "10.0.0.1:9000");
  EXPECT_EQ(resolveGatewayUrl("", "10.0.0.2:9000"), "10.0.0.2:9000");
  EXPECT_EQ(resolveGatewayUrl("", ""), "unix:/run/warden/gateway.sock");
  EXPECT_EQ(resolveGatewayUrl("", nullptr), "unix:/run/warden/gateway.sock");
}

TEST(OperatorClientCreateTest, AMalformedUrlIsInvalidArgument) {
  auto c = OperatorClient::create("ftp://host:1");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code(), Code::kInvalidArgument);
  EXPECT_THAT(c.error().message(), HasSubstr("scheme"));
}

TEST(OperatorClientReachTest, AClosedPortIsUnavailableNamingTheGateway) {
  const std::string address = "127.0.0.1:" + std::to_string(closedPort());
  auto c = OperatorClient::create(address);
  ASSERT_TRUE(c.ok());
  auto sessions = c->listSessions();
  ASSERT_FALSE(sessions.ok());
  EXPECT_EQ(sessions.error().code(), Code::kUnavailable);
  EXPECT_THAT(sessions.error().message(), StartsWith("gateway " + address + " unreachable: "));
}

TEST(OperatorClientReachTest, AGatewayThatNeverAnswersEndsAtTheDeadline) {
  SilentListener silent;
  const std::string address = "127.0.0.1:" + std::to_string(silent.port);
  OperatorClient::Options options;
  options.deadline = std::chrono::milliseconds(300);
  auto c = OperatorClient::create(address, options);
  ASSERT_TRUE(c.ok());
  const auto start = std::chrono::steady_clock::now();
  auto sessions = c->listSessions();
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(sessions.ok());
  // gRPC ends the connection attempt at the call's deadline (UNAVAILABLE "timed out before receiving
  // SETTINGS") or the call itself (DEADLINE_EXCEEDED); either way the gateway is named unreachable.
  EXPECT_THAT(sessions.error().code(), ::testing::AnyOf(Code::kDeadlineExceeded, Code::kUnavailable));
  EXPECT_THAT(sessions.error().message(), StartsWith("gateway " + address + " unreachable: "));
  EXPECT_LT(took, std::chrono::seconds(3));
}

using OperatorClientTest = OperatorGatewayTest;

TEST_F(OperatorClientTest, ListsRegisteredSessionsWithTheirState) {
  registerSession("sess-a", "alpha", "ab12", "build-host-7");
  auto sessions = client_->listSessions();
  ASSERT_TRUE(sessions.ok()) << sessions.error().toString();
  const SessionInfo* a = nullptr;
  for (const auto& s : *sessions) {
    if (s.id == "sess-a") a = &s;
  }
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->name, "alpha");
  EXPECT_EQ(a->hostname, "build-host-7");
  EXPECT_EQ(a->state, "running");
  EXPECT_EQ(a->public_key, "ab12");
  EXPECT_GT(a->created_ms, 0);
  EXPECT_FALSE(a->exit_code.has_value());
}

TEST_F(OperatorClientTest, HighestSequenceFollowsPushedEvents) {
  const std::string token = registerSession("sess-a");
  EXPECT_EQ(push("sess-a", token, events("sess-a", 1, 7)), 7u);
  auto s = client_->getSession("sess-a");
  ASSERT_TRUE(s.ok()) << s.error().toString();
  EXPECT_EQ(s->highest_sequence, 7u);
}

TEST_F(OperatorClientTest, AnUnknownSessionIsNotFound) {
  auto s = client_->getSession("no-such-session");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), Code::kNotFound);
  auto r = client_->resolveSession("no-such-session");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kNotFound);
  EXPECT_THAT(r.error().message(), HasSubstr("no session 'no-such-session'"));
}

TEST_F(OperatorClientTest, ResolvesASessionByIdNameOrIdPrefix) {
  registerSession("0123-aaaa", "builder");
  registerSession("4567-bbbb", "tester");
  auto by_id = client_->resolveSession("4567-bbbb");
  ASSERT_TRUE(by_id.ok()) << by_id.error().toString();
  EXPECT_EQ(by_id->id, "4567-bbbb");
  auto by_name = client_->resolveSession("builder");
  ASSERT_TRUE(by_name.ok()) << by_name.error().toString();
  EXPECT_EQ(by_name->id, "0123-aaaa");
  auto by_prefix = client_->resolveSession("4567");
  ASSERT_TRUE(by_prefix.ok()) << by_prefix.error().toString();
  EXPECT_EQ(by_prefix->id, "4567-bbbb");
}

TEST_F(OperatorClientTest, ANameOfSeveralSessionsIsAmbiguousAndListsThem) {
  registerSession("0123-aaaa", "same");
  registerSession("4567-bbbb", "same");
  auto r = client_->resolveSession("same");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  EXPECT_THAT(r.error().message(), HasSubstr("0123-aaaa"));
  EXPECT_THAT(r.error().message(), HasSubstr("4567-bbbb"));
}

TEST_F(OperatorClientTest, AWrongSettingTypeKeepsTheGatewaysMessageWithTheAllowedValues) {
  SettingTarget global;
  global.global = true;
  auto r = client_->setSetting("ocsf_json_enabled", "maybe", global);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  EXPECT_THAT(r.error().message(), HasSubstr("allowed: true, false"));
}

TEST_F(OperatorClientTest, AnUnknownSettingKeyListsTheKnownKeys) {
  auto r = client_->getSetting("no_such_key", SettingTarget{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  EXPECT_THAT(r.error().message(), HasSubstr("ocsf_json_enabled"));
}

TEST_F(OperatorClientTest, SetGetAndDeleteReportSourceAndRevision) {
  registerSession("sess-a");
  SettingTarget session;
  session.session = "sess-a";
  auto before = client_->sessionConfig("sess-a");
  ASSERT_TRUE(before.ok()) << before.error().toString();
  ASSERT_TRUE(before->present);
  EXPECT_FALSE(before->ocsf_enabled);

  auto set = client_->setSetting("ocsf_json_enabled", "true", session);
  ASSERT_TRUE(set.ok()) << set.error().toString();
  EXPECT_EQ(set->value, "true");
  EXPECT_EQ(set->scope, "session");
  EXPECT_EQ(set->type, "bool");
  EXPECT_THAT(set->allowed, ElementsAre("true", "false"));

  auto got = client_->getSetting("ocsf_json_enabled", session);
  ASSERT_TRUE(got.ok()) << got.error().toString();
  EXPECT_EQ(got->value, "true");
  EXPECT_EQ(got->scope, "session");
  auto after = client_->sessionConfig("sess-a");
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->ocsf_enabled);
  EXPECT_EQ(after->config_revision, before->config_revision + 1);
  EXPECT_EQ(set->config_revision, after->config_revision) << "a Setting carries the revision it is in force at";
  EXPECT_EQ(got->config_revision, after->config_revision);

  auto listed = client_->listSettings("sess-a");
  ASSERT_TRUE(listed.ok()) << listed.error().toString();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].session, "sess-a");

  auto deleted = client_->deleteSetting("ocsf_json_enabled", session);
  ASSERT_TRUE(deleted.ok()) << deleted.error().toString();
  EXPECT_TRUE(deleted->existed);
  EXPECT_EQ(deleted->config_revision, after->config_revision + 1);
  auto again = client_->deleteSetting("ocsf_json_enabled", session);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->existed);
  EXPECT_EQ(again->config_revision, deleted->config_revision);
}

TEST_F(OperatorClientTest, ForEachLogPagesThroughEveryEventInSequenceOrder) {
  const std::string token = registerSession("sess-a");
  ASSERT_EQ(push("sess-a", token, events("sess-a", 1, 2500)), 2500u);
  LogsRequest request;
  request.session_id = "sess-a";
  request.limit = 700;
  std::vector<uint64_t> seen;
  auto last = client_->forEachLog(request, [&](const LogEvent& e) { seen.push_back(e.sequence); });
  ASSERT_TRUE(last.ok()) << last.error().toString();
  EXPECT_EQ(*last, 2500u);
  ASSERT_EQ(seen.size(), 2500u);
  for (size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i], i + 1);
}

TEST_F(OperatorClientTest, GetLogsFiltersByClassSeverityAndTime) {
  const std::string token = registerSession("sess-a");
  std::vector<v1::StoredEvent> evs = {event("sess-a", 1, "NET", 1), event("sess-a", 2, "HTTP", 4),
                                      event("sess-a", 3, "NET", 5), event("sess-a", 4, "DNS", 1)};
  ASSERT_EQ(push("sess-a", token, evs), 4u);
  LogsRequest request;
  request.session_id = "sess-a";
  request.classes = {"NET"};
  auto net = client_->getLogs(request);
  ASSERT_TRUE(net.ok()) << net.error().toString();
  ASSERT_EQ(net->size(), 2u);
  EXPECT_EQ((*net)[0].sequence, 1u);
  EXPECT_EQ((*net)[1].sequence, 3u);
  EXPECT_THAT((*net)[1].shorthand, StartsWith("NET:OPEN [CRIT]"));

  request.classes.clear();
  request.min_severity = 4;
  auto severe = client_->getLogs(request);
  ASSERT_TRUE(severe.ok());
  ASSERT_EQ(severe->size(), 2u);
  EXPECT_EQ((*severe)[0].sequence, 2u);

  request.min_severity = 0;
  request.since_ms = evs[2].time_ms();
  auto late = client_->getLogs(request);
  ASSERT_TRUE(late.ok());
  ASSERT_EQ(late->size(), 2u);
  EXPECT_EQ((*late)[0].sequence, 3u);
}

TEST_F(OperatorClientTest, FollowLogsStreamsEventsPushedWhileFollowingUntilTheCallbackStops) {
  const std::string token = registerSession("sess-a");
  ASSERT_EQ(push("sess-a", token, events("sess-a", 1, 3)), 3u);
  LogsRequest request;
  request.session_id = "sess-a";
  request.after_sequence = 3;
  std::vector<uint64_t> seen;  // written by the follow thread, read after it ended
  auto follow = std::async(std::launch::async, [&] {
    return client_->followLogs(request, [&](const LogEvent& e) {
      seen.push_back(e.sequence);
      return e.sequence < 6;
    });
  });
  ASSERT_EQ(push("sess-a", token, events("sess-a", 4, 8)), 8u);
  ASSERT_EQ(follow.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  const auto r = follow.get();
  ASSERT_TRUE(r.ok()) << r.error().toString();
  EXPECT_THAT(seen, ElementsAre(4, 5, 6));
}

TEST_F(OperatorClientTest, FollowCancelEndsAFollowFromAnotherThread) {
  registerSession("sess-a");
  LogsRequest request;
  request.session_id = "sess-a";
  FollowCancel cancel;
  std::atomic<bool> called{false};
  auto follow = std::async(std::launch::async, [&] {
    return client_->followLogs(
        request,
        [&](const LogEvent&) {
          called = true;
          return true;
        },
        &cancel);
  });
  EXPECT_EQ(follow.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout)
      << "a follow with nothing to stream must wait";
  cancel.cancel();
  ASSERT_EQ(follow.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  const auto r = follow.get();
  EXPECT_TRUE(r.ok()) << r.error().toString();
  EXPECT_FALSE(called);
}

TEST_F(OperatorClientTest, AFollowCancelledBeforeItStartsReturnsAtOnce) {
  FollowCancel cancel;
  cancel.cancel();
  LogsRequest request;
  request.session_id = "sess-a";
  const auto r = client_->followLogs(
      request, [](const LogEvent&) { return true; }, &cancel);
  EXPECT_TRUE(r.ok());
}

TEST_F(OperatorClientTest, FollowWithoutASessionIsTheGatewaysInvalidArgument) {
  const auto r = client_->followLogs(LogsRequest{}, [](const LogEvent&) { return true; });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
}

TEST_F(OperatorClientTest, QueryAnswersWhichSessionsReachedADomain) {
  const std::string ta = registerSession("sess-a");
  const std::string tb = registerSession("sess-b");
  ASSERT_EQ(
      push("sess-a", ta, {event("sess-a", 1, "NET", 1, ",\"dst_endpoint\":{\"hostname\":\"evil.test\"}")}),
      1u);
  ASSERT_EQ(
      push("sess-b", tb, {event("sess-b", 1, "NET", 1, ",\"dst_endpoint\":{\"hostname\":\"good.test\"}")}),
      1u);
  EventsQuery q;
  q.domain = "evil.test";
  auto which = client_->query(q);
  ASSERT_TRUE(which.ok()) << which.error().toString();
  EXPECT_THAT(which->sessions, ElementsAre("sess-a"));
  EXPECT_TRUE(which->events.empty());

  q.session_id = "sess-b";
  q.domain.clear();
  auto evs = client_->query(q);
  ASSERT_TRUE(evs.ok());
  ASSERT_EQ(evs->events.size(), 1u);
  EXPECT_EQ(evs->events[0].session_id, "sess-b");
}

TEST_F(OperatorClientTest, AQueryLimitOverTheMaximumIsInvalidArgument) {
  EventsQuery q;
  q.limit = 100001;
  auto r = client_->query(q);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
}

TEST_F(OperatorClientTest, VerificationMaterialCarriesTheRegisteredKeyAndLogStart) {
  const std::string token = registerSession("sess-a", "", "ab12");
  ASSERT_EQ(push("sess-a", token, events("sess-a", 1, 2)), 2u);
  auto m = client_->verificationMaterial("sess-a");
  ASSERT_TRUE(m.ok()) << m.error().toString();
  EXPECT_EQ(m->public_key, "ab12");
  ASSERT_TRUE(m->log_start.has_value());
  EXPECT_EQ(m->log_start->sequence, 1u);
  auto unknown = client_->verificationMaterial("nope");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code(), Code::kNotFound);
}

}  // namespace
}  // namespace warden::gateway
