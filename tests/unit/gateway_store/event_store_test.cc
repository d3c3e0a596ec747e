// One suite, run against SQLite (a temp file) and PostgreSQL (a real server this test starts).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <memory>
#include <string>
#include <vector>

#include "audit/log_events.h"
#include "common/encoding.h"
#include "gateway/store/postgres/postgres_store.h"
#include "gateway/store/sqlite/sqlite_store.h"
#include "gateway/store/store.h"
#include "ocsf/builders.h"
#include "ocsf/enums.h"
#include "ocsf/jsonl_formatter.h"
#include "ocsf/shorthand.h"
#include "support/postgres_exec.h"
#include "support/shared_postgres.h"
#include "support/sqlite_exec.h"
#include "support/test_env.h"

namespace warden::gateway {
namespace {

using ocsf::SessionContext;


SessionContext ctxFor(const std::string& id) {
  SessionContext c;
  c.hostname = "host-1";
  c.session_id = id;
  c.session_name = "agent-" + id;
  return c;
}

// A stored event from a real builder event: canonical JSON, shorthand, facts by extractFacts.
StoredEvent stored(ocsf::Event e, uint64_t seq) {
  e.metadata.sequence = seq;
  StoredEvent s;
  s.session_id = e.metadata.correlation_uid;
  s.sequence = seq;
  s.time_ms = e.time;
  s.class_uid = static_cast<int>(e.class_uid);
  s.severity_id = static_cast<int>(e.severity);
  s.kind = std::string(ocsf::kindPrefix(e.kind));
  s.json = ocsf::toJsonl(e);
  s.shorthand = ocsf::toShorthand(e);
  return extractFacts(std::move(s));
}

StoredEvent opEvent(const std::string& session, uint64_t seq, int64_t time) {
  ocsf::OperationalInput in;
  in.name = "Tick";
  in.message = "tick " + std::to_string(seq);
  return stored(ocsf::operationalEvent(ctxFor(session), time, in), seq);
}

StoredEvent netEvent(const std::string& session, uint64_t seq, int64_t time, const std::string& host) {
  ocsf::Connection conn;
  conn.src = {"", "10.200.0.2", 40000};
  conn.dst = {host, "203.0.113.7", 443};
  return stored(ocsf::netOpen(ctxFor(session), time, conn, ocsf::Decision{}), seq);
}

StoredEvent fileEvent(const std::string& session, uint64_t seq, int64_t time, const std::string& path) {
  ocsf::FileAccess a;
  a.activity = ocsf::FileActivity::kUpdate;
  a.actor.name = "sh";
  a.actor.pid = 42;
  a.file.path = path;
  return stored(ocsf::fileActivity(ctxFor(session), time, a), seq);
}

StoredEvent pkgEvent(const std::string& session, uint64_t seq, int64_t time, const std::string& name) {
  ocsf::PackageInstall p;
  p.manager = "pip";
  p.name = name;
  p.version = "2.31.0";
  return stored(ocsf::pkgInstall(ctxFor(session), time, p), seq);
}

StoredEvent stopEvent(const std::string& session, uint64_t seq, int64_t time, ocsf::StopReason reason) {
  ocsf::SessionInput in;
  in.activity = ocsf::SessionActivity::kStop;
  in.reason = reason;
  in.exit_code = 137;
  return stored(ocsf::session(ctxFor(session), time, in), seq);
}

StoredEvent checkpointEvent(const std::string& session, uint64_t seq, int64_t time) {
  ocsf::Event e = ocsf::newEvent(ctxFor(session), ocsf::Kind::kLog, ocsf::ClassUid::kEventLogActivity, 99, time);
  e.activity_name = "Checkpoint";
  e.message = "checkpoint";
  e.unmapped.set("checkpoint", ocsf::Value(ocsf::Value::Object{{"first_seq", ocsf::Value(uint64_t{1})},
                                                               {"last_seq", ocsf::Value(seq - 1)}}));
  return stored(std::move(e), seq);
}

enum class Backend { kSqlite, kPostgres };

class EventStoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kSqlite) {
      auto s = openSqliteStore(dir_ / "events.db", SqliteOptions{std::chrono::milliseconds(200)});
      ASSERT_TRUE(s.ok()) << s.error().toString();
      store_ = std::move(*s);
    } else {
      testing::SharedPostgres& pg = testing::sharedPostgres();
      if (!pg.server) GTEST_SKIP() << "PostgreSQL: " << pg.why;
      const std::string db = "warden_t" + std::to_string(++pg.next_db);
      std::string why;
      ASSERT_TRUE(pg.server->createDatabase(db, &why)) << why;
      url_ = pg.server->url(db);
      auto s = openPostgresStore(url_);
      ASSERT_TRUE(s.ok()) << s.error().toString();
      store_ = std::move(*s);
    }
    auto m = store_->migrate();
    ASSERT_TRUE(m.ok()) << m.error().toString();
  }

  AppendResult mustAppend(const std::vector<StoredEvent>& batch) {
    auto r = store_->append(batch);
    EXPECT_TRUE(r.ok()) << r.error().toString();
    return r.ok() ? *r : AppendResult{};
  }

  std::vector<StoredEvent> mustQuery(const EventQuery& q) {
    auto r = store_->query(q);
    EXPECT_TRUE(r.ok()) << r.error().toString();
    return r.ok() ? *r : std::vector<StoredEvent>{};
  }

  // Runs `sql` on a second, raw connection to the same database (to set up what the store API
  // cannot, like a database at an older schema version).
  void execRaw(const std::string& sql) {
    if (GetParam() == Backend::kSqlite) {
      const testing::SqliteOutcome r = testing::execSqlite(dir_ / "events.db", sql);
      ASSERT_EQ(r.rc, SQLITE_OK) << r.message;
    } else {
      const testing::PostgresOutcome r = testing::execPostgres(url_, sql);
      ASSERT_TRUE(r.ok) << r.message;
    }
  }

  PersistedSettings mustLoadSettings() {
    auto r = store_->loadSettings();
    EXPECT_TRUE(r.ok()) << r.error().toString();
    return r.ok() ? *r : PersistedSettings{};
  }

  SessionRecord mustSession(const std::string& id) {
    auto r = store_->session(id);
    EXPECT_TRUE(r.ok()) << r.error().toString();
    EXPECT_TRUE(r.ok() && r->has_value()) << "no session " << id;
    return r.ok() && r->has_value() ? **r : SessionRecord{};
  }

  std::vector<std::string> mustMatch(const EventQuery& q) {
    auto r = store_->sessionsMatching(q);
    EXPECT_TRUE(r.ok()) << r.error().toString();
    return r.ok() ? *r : std::vector<std::string>{};
  }

  testing::TempDir dir_;
  std::string url_;
  std::unique_ptr<EventStore> store_;
};

TEST_P(EventStoreTest, MigrateTwiceIsIdempotentAndKeepsData) {
  mustAppend({opEvent("s1", 1, 1000)});
  auto again = store_->migrate();
  ASSERT_TRUE(again.ok()) << again.error().toString();
  EXPECT_EQ(mustQuery({}).size(), 1u);
}

TEST_P(EventStoreTest, AppendThenQueryReturnsExactBytes) {
  std::vector<StoredEvent> batch = {opEvent("s1", 1, 1000), netEvent("s1", 2, 1001, "api.example.com"),
                                    fileEvent("s1", 3, 1002, "/work/a b\"c.txt")};
  batch[2].shorthand += " \xff\xfe raw";  // bytes that are not UTF-8 round-trip too
  const AppendResult r = mustAppend(batch);
  EXPECT_EQ(r.inserted, 3u);
  EXPECT_EQ(r.duplicates, 0u);
  EXPECT_EQ(r.highest_contiguous, 3u);
  const auto got = mustQuery({});
  ASSERT_EQ(got.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(got[i].json, batch[i].json);
    EXPECT_EQ(got[i].shorthand, batch[i].shorthand);
    EXPECT_EQ(got[i].sequence, batch[i].sequence);
    EXPECT_EQ(got[i].time_ms, batch[i].time_ms);
    EXPECT_EQ(got[i].class_uid, batch[i].class_uid);
    EXPECT_EQ(got[i].kind, batch[i].kind);
  }
  EXPECT_EQ(got[1].domain, "api.example.com");
  EXPECT_EQ(got[2].path, "/work/a b\"c.txt");
  size_t total = 0;
  for (const auto& e : batch) total += e.json.size();
  auto bytes = store_->storedBytes();
  ASSERT_TRUE(bytes.ok()) << bytes.error().toString();
  EXPECT_EQ(*bytes, total);
}

TEST_P(EventStoreTest, DuplicatesAreCountedNotStoredTwice) {
  mustAppend({opEvent("s1", 1, 1000), opEvent("s1", 2, 1001)});
  const AppendResult r = mustAppend({opEvent("s1", 2, 1001), opEvent("s1", 3, 1002), opEvent("s1", 3, 1002)});
  EXPECT_EQ(r.inserted, 1u);
  EXPECT_EQ(r.duplicates, 2u);
  EXPECT_EQ(r.highest_contiguous, 3u);
  EXPECT_EQ(mustQuery({}).size(), 3u);
}

TEST_P(EventStoreTest, OutOfOrderSequencesAdvanceHighestContiguousOnlyWithoutGaps) {
  AppendResult r = mustAppend({opEvent("s1", 1, 1000), opEvent("s1", 3, 1002), opEvent("s1", 5, 1004)});
  EXPECT_EQ(r.highest_contiguous, 1u);
  r = mustAppend({opEvent("s1", 4, 1003)});
  EXPECT_EQ(r.highest_contiguous, 1u);
  r = mustAppend({opEvent("s1", 2, 1001)});
  EXPECT_EQ(r.highest_contiguous, 5u);
  auto h = store_->highestContiguous("s1");
  ASSERT_TRUE(h.ok()) << h.error().toString();
  EXPECT_EQ(*h, 5u);
  auto none = store_->highestContiguous("unknown");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, 0u);
}

TEST_P(EventStoreTest, HighestContiguousWalksPastManyStoredEvents) {
  std::vector<StoredEvent> tail;
  for (uint64_t s = 2; s <= 1200; ++s) tail.push_back(opEvent("s1", s, 1000 + static_cast<int64_t>(s)));
  EXPECT_EQ(mustAppend(tail).highest_contiguous, 0u);
  EXPECT_EQ(mustAppend({opEvent("s1", 1, 1000)}).highest_contiguous, 1200u);
}

TEST_P(EventStoreTest, MixedSessionBatchReportsEachSession) {
  const AppendResult r =
      mustAppend({opEvent("a", 1, 1000), opEvent("b", 2, 1000), opEvent("a", 2, 1001), opEvent("b", 1, 999)});
  EXPECT_EQ(r.inserted, 4u);
  ASSERT_EQ(r.contiguous.size(), 2u);
  EXPECT_EQ(r.contiguous[0], std::make_pair(std::string("a"), uint64_t{2}));
  EXPECT_EQ(r.contiguous[1], std::make_pair(std::string("b"), uint64_t{2}));
  EventQuery q;
  q.session = "b";
  const auto got = mustQuery(q);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].sequence, 1u);
  EXPECT_EQ(got[1].sequence, 2u);
}

TEST_P(EventStoreTest, InvalidEventRejectsWholeBatch) {
  StoredEvent bad = opEvent("s1", 2, 1001);
  bad.sequence = 0;
  auto r = store_->append({opEvent("s1", 1, 1000), bad});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  StoredEvent bad_id = opEvent("s1", 1, 1000);
  bad_id.session_id = "x'; DROP TABLE events; --";
  r = store_->append({bad_id});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  EXPECT_TRUE(mustQuery({}).empty());
}

TEST_P(EventStoreTest, IncidentQueriesFindSessionsByFact) {
  mustAppend({opEvent("s1", 1, 1000), netEvent("s1", 2, 1100, "evil.example"), fileEvent("s1", 3, 1200, "/etc/shadow"),
              stopEvent("s1", 4, 1300, ocsf::StopReason::kPolicyViolation)});
  mustAppend({opEvent("s2", 1, 2000), pkgEvent("s2", 2, 2100, "requests"), netEvent("s2", 3, 2200, "pypi.org"),
              stopEvent("s2", 4, 2300, ocsf::StopReason::kExit)});
  mustAppend({opEvent("s3", 1, 3000), netEvent("s3", 2, 3100, "evil.example"),
              stopEvent("s3", 3, 3200, ocsf::StopReason::kTimeout)});
  EventQuery q;
  q.domain = "evil.example";
  EXPECT_EQ(mustMatch(q), (std::vector<std::string>{"s1", "s3"}));
  q = {};
  q.path = "/etc/shadow";
  EXPECT_EQ(mustMatch(q), (std::vector<std::string>{"s1"}));
  q = {};
  q.package = "requests";
  EXPECT_EQ(mustMatch(q), (std::vector<std::string>{"s2"}));
  q = {};
  q.stop_reason = "timeout";
  EXPECT_EQ(mustMatch(q), (std::vector<std::string>{"s3"}));
  q = {};
  q.stop_reason = "policy_violation";
  EXPECT_EQ(mustMatch(q), (std::vector<std::string>{"s1"}));
  q = {};
  q.domain = "nobody.example";
  EXPECT_TRUE(mustMatch(q).empty());
  // A fact with a time window (not the one-fact loose scan): only s3 reached evil.example after 2000.
  q = {};
  q.domain = "evil.example";
  q.since_ms = 2000;
  EXPECT_EQ(mustMatch(q), (std::vector<std::string>{"s3"}));
  q = {};
  q.domain = "evil.example";
  q.path = "/etc/shadow";  // two facts on different events of s1: no single event has both
  EXPECT_TRUE(mustMatch(q).empty());
  // What s2 did between T1 and T2 (until is exclusive).
  q = {};
  q.session = "s2";
  q.since_ms = 2100;
  q.until_ms = 2300;
  const auto window = mustQuery(q);
  ASSERT_EQ(window.size(), 2u);
  EXPECT_EQ(window[0].kind, "PKG");
  EXPECT_EQ(window[1].domain, "pypi.org");
  q = {};
  q.kinds = {"NET"};
  q.domain = "evil.example";
  EXPECT_EQ(mustQuery(q).size(), 2u);
  q = {};
  q.min_severity = 4;  // timeout stop is Critical; nothing else is High or above
  const auto severe = mustQuery(q);
  ASSERT_EQ(severe.size(), 1u);
  EXPECT_EQ(severe[0].session_id, "s3");
}

TEST_P(EventStoreTest, QueryPagesWithinASession) {
  std::vector<StoredEvent> batch;
  for (uint64_t s = 1; s <= 10; ++s) batch.push_back(opEvent("s1", s, 1000 + static_cast<int64_t>(s)));
  mustAppend(batch);
  EventQuery q;
  q.session = "s1";
  q.limit = 4;
  q.after_sequence = 4;
  const auto page = mustQuery(q);
  ASSERT_EQ(page.size(), 4u);
  EXPECT_EQ(page.front().sequence, 5u);
  EXPECT_EQ(page.back().sequence, 8u);
  q.limit = 0;
  auto bad = store_->query(q);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), Code::kInvalidArgument);
}

TEST_P(EventStoreTest, RetentionKeepsCheckpointsAndLogStartAndReportsRanges) {
  std::vector<StoredEvent> batch = {opEvent("s1", 1, 100)};
  for (uint64_t s = 2; s <= 5; ++s) batch.push_back(opEvent("s1", s, 100 + static_cast<int64_t>(s)));
  batch.push_back(checkpointEvent("s1", 6, 106));
  for (uint64_t s = 7; s <= 9; ++s) batch.push_back(opEvent("s1", s, 100 + static_cast<int64_t>(s)));
  batch.push_back(opEvent("s1", 10, 5000));  // newer than the cutoff
  mustAppend(batch);
  mustAppend({opEvent("s2", 1, 100), opEvent("s2", 2, 101)});
  auto before = store_->storedBytes();
  ASSERT_TRUE(before.ok());

  auto d = store_->deleteExpired(1000, 0);
  ASSERT_TRUE(d.ok()) << d.error().toString();
  ASSERT_EQ(d->size(), 2u);
  EXPECT_EQ((*d)[0].session_id, "s1");
  EXPECT_EQ((*d)[0].count, 7u);  // 2..5 and 7..9
  EXPECT_EQ((*d)[0].first_seq, 2u);
  EXPECT_EQ((*d)[0].last_seq, 9u);
  EXPECT_EQ((*d)[1].session_id, "s2");
  EXPECT_EQ((*d)[1].count, 1u);
  EXPECT_EQ((*d)[1].first_seq, 2u);

  EventQuery q;
  q.session = "s1";
  const auto left = mustQuery(q);
  ASSERT_EQ(left.size(), 3u);
  EXPECT_EQ(left[0].sequence, 1u);
  EXPECT_EQ(left[1].sequence, 6u);
  EXPECT_EQ(left[2].sequence, 10u);
  auto after = store_->storedBytes();
  ASSERT_TRUE(after.ok());
  EXPECT_LT(*after, *before);

  // A resent event that retention already deleted stays a duplicate.
  const AppendResult again = mustAppend({opEvent("s1", 3, 103)});
  EXPECT_EQ(again.inserted, 0u);
  EXPECT_EQ(again.duplicates, 1u);
}

TEST_P(EventStoreTest, SizeCapDeletesOldestFirstButKeepsProofs) {
  std::vector<StoredEvent> batch;
  for (uint64_t s = 1; s <= 20; ++s) batch.push_back(opEvent("s1", s, 1000 + static_cast<int64_t>(s)));
  mustAppend(batch);
  const uint64_t one = batch[5].json.size();
  auto d = store_->deleteExpired(0, batch[0].json.size() + 5 * one + one / 2);
  ASSERT_TRUE(d.ok()) << d.error().toString();
  ASSERT_EQ(d->size(), 1u);
  EXPECT_EQ((*d)[0].first_seq, 2u);
  auto bytes = store_->storedBytes();
  ASSERT_TRUE(bytes.ok());
  EXPECT_LE(*bytes, batch[0].json.size() + 5 * one + one / 2);
  const auto left = mustQuery({});
  ASSERT_FALSE(left.empty());
  EXPECT_EQ(left.front().sequence, 1u);
  EXPECT_EQ(left.back().sequence, 20u);
  EXPECT_EQ((*d)[0].last_seq, left[1].sequence - 1);
}

TEST_P(EventStoreTest, SessionsUpsertAndRead) {
  SessionRecord s;
  s.id = "s1";
  s.name = "agent-7";
  s.token_hash = "abc";
  s.public_key = "00ff";
  s.state = "running";
  s.created_ms = 10;
  s.updated_ms = 10;
  ASSERT_TRUE(store_->upsertSession(s).ok());
  s.hostname = "build-host-3";
  ASSERT_TRUE(store_->upsertSession(s).ok());
  EXPECT_EQ(mustSession("s1").hostname, "build-host-3");
  s.state = "stopped";
  s.stop_reason = "exit";
  s.exit_code = 0;
  s.updated_ms = 20;
  ASSERT_TRUE(store_->upsertSession(s).ok());
  auto got = store_->session("s1");
  ASSERT_TRUE(got.ok()) << got.error().toString();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->state, "stopped");
  EXPECT_EQ((*got)->exit_code, 0);
  EXPECT_EQ((*got)->updated_ms, 20);
  EXPECT_EQ((*got)->hostname, "build-host-3");
  EXPECT_EQ((*got)->created_ms, 10);
  auto missing = store_->session("nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  auto all = store_->sessions();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 1u);
}

SessionRecord runningSession(const std::string& id) {
  SessionRecord s;
  s.id = id;
  s.name = "agent-" + id;
  s.state = "running";
  s.created_ms = 10;
  s.updated_ms = 10;
  return s;
}

TEST_P(EventStoreTest, AStoredSessionStopMarksTheSessionStoppedWithReasonAndExitCode) {
  ASSERT_TRUE(store_->upsertSession(runningSession("s1")).ok());
  ASSERT_TRUE(store_->upsertSession(runningSession("s2")).ok());
  mustAppend({opEvent("s1", 1, 1000), stopEvent("s1", 2, 1500, ocsf::StopReason::kTimeout)});
  const SessionRecord s1 = mustSession("s1");
  EXPECT_EQ(s1.state, "stopped");
  EXPECT_EQ(s1.stop_reason, "timeout");
  EXPECT_EQ(s1.exit_code, 137);
  EXPECT_EQ(s1.updated_ms, 1500);
  EXPECT_EQ(s1.created_ms, 10);
  // Other sessions and other events leave records alone.
  EXPECT_EQ(mustSession("s2").state, "running");
  mustAppend({netEvent("s2", 1, 2000, "example.org")});
  EXPECT_EQ(mustSession("s2").state, "running");
  EXPECT_FALSE(mustSession("s2").exit_code.has_value());
}

TEST_P(EventStoreTest, AResentStopDoesNotStopASessionThatRegisteredAgain) {
  ASSERT_TRUE(store_->upsertSession(runningSession("s1")).ok());
  mustAppend({opEvent("s1", 1, 1000), stopEvent("s1", 2, 1500, ocsf::StopReason::kExit)});
  ASSERT_EQ(mustSession("s1").state, "stopped");
  ASSERT_TRUE(store_->upsertSession(runningSession("s1")).ok());  // a restarted supervisor
  const AppendResult again = mustAppend({stopEvent("s1", 2, 1500, ocsf::StopReason::kExit)});
  EXPECT_EQ(again.duplicates, 1u);
  EXPECT_EQ(mustSession("s1").state, "running");
}

TEST_P(EventStoreTest, AStopOfAnUnregisteredSessionIsStoredWithoutARecord) {
  mustAppend({stopEvent("ghost", 1, 1500, ocsf::StopReason::kSignal)});
  auto rec = store_->session("ghost");
  ASSERT_TRUE(rec.ok()) << rec.error().toString();
  EXPECT_FALSE(rec->has_value());
  EventQuery q;
  q.stop_reason = "signal";
  EXPECT_EQ(mustMatch(q), (std::vector<std::string>{"ghost"}));
}

TEST_P(EventStoreTest, AFreshStoreHasNoSettingsAndRevisionZero) {
  const PersistedSettings p = mustLoadSettings();
  EXPECT_TRUE(p.values.empty());
  EXPECT_EQ(p.revision, 0u);
  EXPECT_EQ(p.policy_version, 0u);
  EXPECT_EQ(p.policy_hash, "");
}

TEST_P(EventStoreTest, SettingsRoundTripOrderedAndADeleteRemovesTheValue) {
  ASSERT_TRUE(store_->saveSetting("", "ocsf_json_enabled", std::string("true"), 2).ok());
  ASSERT_TRUE(store_->saveSetting("sess-b", "ocsf_json_enabled", std::string("false"), 3).ok());
  ASSERT_TRUE(store_->saveSetting("sess-a", "ocsf_json_enabled", std::string("true"), 4).ok());
  ASSERT_TRUE(store_->saveSetting("sess-a", "ocsf_json_enabled", std::string("false"), 5).ok());  // replaces
  PersistedSettings p = mustLoadSettings();
  EXPECT_EQ(p.values, (std::vector<PersistedSetting>{{"", "ocsf_json_enabled", "true"},
                                                     {"sess-a", "ocsf_json_enabled", "false"},
                                                     {"sess-b", "ocsf_json_enabled", "false"}}));
  EXPECT_EQ(p.revision, 5u);
  ASSERT_TRUE(store_->saveSetting("sess-b", "ocsf_json_enabled", std::nullopt, 6).ok());
  p = mustLoadSettings();
  ASSERT_EQ(p.values.size(), 2u);
  EXPECT_EQ(p.values[1].session, "sess-a");
  EXPECT_EQ(p.revision, 6u);
}

TEST_P(EventStoreTest, TheStoredRevisionNeverGoesDown) {
  ASSERT_TRUE(store_->saveRevision(9).ok());
  EXPECT_EQ(mustLoadSettings().revision, 9u);
  ASSERT_TRUE(store_->saveRevision(4).ok());
  ASSERT_TRUE(store_->saveSetting("", "k", std::string("v"), 3).ok());
  const PersistedSettings p = mustLoadSettings();
  EXPECT_EQ(p.revision, 9u);
  ASSERT_EQ(p.values.size(), 1u);  // the value itself was stored
  ASSERT_TRUE(store_->saveRevision(10).ok());
  EXPECT_EQ(mustLoadSettings().revision, 10u);
}

TEST_P(EventStoreTest, InvalidSettingWritesAreRefusedAndChangeNothing) {
  auto r = store_->saveSetting("", "", std::string("v"), 2);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  r = store_->saveSetting("", "k", std::string("v"), static_cast<uint64_t>(INT64_MAX) + 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  r = store_->saveSetting("", "k", std::string(kMaxSettingValueBytes + 1, 'x'), 2);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  const PersistedSettings p = mustLoadSettings();
  EXPECT_TRUE(p.values.empty());
  EXPECT_EQ(p.revision, 0u);
}

TEST_P(EventStoreTest, ExportCursorsArePerExportAndSessionAndNeverGoDown) {
  auto empty = store_->loadExportCursors("https://siem.example:443/ingest");
  ASSERT_TRUE(empty.ok()) << empty.error().toString();
  EXPECT_TRUE(empty->empty());
  ASSERT_TRUE(store_->saveExportCursors("https://siem.example:443/ingest", {{"sess-b", 7}, {"sess-a", 3}}).ok());
  ASSERT_TRUE(store_->saveExportCursors("syslog+tcp://siem.example:514", {{"sess-a", 9}}).ok());
  ASSERT_TRUE(store_->saveExportCursors("https://siem.example:443/ingest", {{"sess-a", 5}, {"sess-b", 2}}).ok());
  auto https = store_->loadExportCursors("https://siem.example:443/ingest");
  ASSERT_TRUE(https.ok());
  const std::vector<std::pair<std::string, uint64_t>> want{{"sess-a", 5}, {"sess-b", 7}};
  EXPECT_EQ(*https, want) << "ordered by session; sess-b's cursor did not go back to 2";
  auto syslog = store_->loadExportCursors("syslog+tcp://siem.example:514");
  ASSERT_TRUE(syslog.ok());
  ASSERT_EQ(syslog->size(), 1u);
  EXPECT_EQ((*syslog)[0].second, 9u);
  auto bad = store_->saveExportCursors("x", {{"bad id with spaces", 1}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), Code::kInvalidArgument);
  EXPECT_FALSE(store_->saveExportCursors("", {{"sess-a", 1}}).ok());
}

TEST_P(EventStoreTest, AFleetSightingIsNewExactlyOnce) {
  const std::string key = sha256Hex("rule-a\napi.example.com");
  auto first = store_->recordFleetSighting(key);
  ASSERT_TRUE(first.ok()) << first.error().toString();
  EXPECT_TRUE(*first);
  auto again = store_->recordFleetSighting(key);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  auto other = store_->recordFleetSighting(sha256Hex("rule-b\napi.example.com"));
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(*other);
  for (const std::string& bad : {std::string("api.example.com"), std::string(64, 'G'), key.substr(1)}) {
    auto refused = store_->recordFleetSighting(bad);
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_EQ(refused.error().code(), Code::kInvalidArgument);
  }
}

TEST_P(EventStoreTest, PolicyStateRoundTripsWithoutTouchingTheRevision) {
  ASSERT_TRUE(store_->saveRevision(7).ok());
  ASSERT_TRUE(store_->savePolicyState(3, "ab12").ok());
  PersistedSettings p = mustLoadSettings();
  EXPECT_EQ(p.policy_version, 3u);
  EXPECT_EQ(p.policy_hash, "ab12");
  EXPECT_EQ(p.revision, 7u);
  ASSERT_TRUE(store_->savePolicyState(4, "cd34").ok());
  p = mustLoadSettings();
  EXPECT_EQ(p.policy_version, 4u);
  EXPECT_EQ(p.policy_hash, "cd34");
}

TEST_P(EventStoreTest, ADatabaseOfANewerSchemaIsRefused) {
  execRaw("INSERT INTO warden_schema (version, applied_ms) VALUES (99, 0)");
  auto m = store_->migrate();
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code(), Code::kFailedPrecondition) << m.error().toString();
}

TEST_P(EventStoreTest, UnreachableDatabaseIsUnavailableAndNothingAcknowledged) {
  if (GetParam() == Backend::kSqlite) {
    // Another connection holds a write transaction past the busy timeout (200 ms).
    sqlite3* other = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "events.db").c_str(), &other), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
    auto r = store_->append({opEvent("s1", 1, 1000)});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), Code::kUnavailable) << r.error().toString();
    EXPECT_NE(r.error().message().find("locked"), std::string::npos) << r.error().message();
    sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(other);
  } else {
    testing::SharedPostgres& pg = testing::sharedPostgres();
    ASSERT_TRUE(pg.server->stop());
    auto r = store_->append({opEvent("s1", 1, 1000)});
    std::string why;
    const bool restarted = pg.server->restart(&why);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), Code::kUnavailable) << r.error().toString();
    EXPECT_NE(r.error().message().find("postgres"), std::string::npos) << r.error().message();
    ASSERT_TRUE(restarted) << why;
    // The restarted server has a new port: reopen against it.
    auto reopened = openPostgresStore(pg.server->url(url_.substr(url_.rfind('/') + 1)));
    ASSERT_TRUE(reopened.ok()) << reopened.error().toString();
    store_ = std::move(*reopened);
  }
  auto h = store_->highestContiguous("s1");
  ASSERT_TRUE(h.ok()) << h.error().toString();
  EXPECT_EQ(*h, 0u);
  EXPECT_TRUE(mustQuery({}).empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, EventStoreTest, ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const ::testing::TestParamInfo<Backend>& p) {
                           return p.param == Backend::kSqlite ? "Sqlite" : "Postgres";
                         });

TEST(ExtractFactsTest, ReadsFactsFromBuilderJson) {
  EXPECT_EQ(netEvent("s", 2, 1, "Api.Example.com").domain, "Api.Example.com");
  ocsf::HttpExchange x;
  x.url = "https://files.example.org/a?token=secret";
  const StoredEvent http = stored(ocsf::httpRequest(ctxFor("s"), 1, x, ocsf::Decision{}), 2);
  EXPECT_EQ(http.domain, "files.example.org");
  ocsf::DnsLookup l;
  l.hostname = "q.example.net";
  EXPECT_EQ(stored(ocsf::dnsQuery(ctxFor("s"), 1, l), 2).domain, "q.example.net");
  EXPECT_EQ(pkgEvent("s", 2, 1, "left-pad").package, "left-pad");
  const StoredEvent stop = stopEvent("s", 2, 1, ocsf::StopReason::kOom);
  EXPECT_EQ(stop.stop_reason, "oom");
  EXPECT_TRUE(stop.session_stop);
  EXPECT_EQ(stop.exit_code, 137);
  EXPECT_FALSE(netEvent("s", 2, 1, "a.example").session_stop);
  EXPECT_FALSE(netEvent("s", 2, 1, "a.example").exit_code.has_value());
  EXPECT_EQ(fileEvent("s", 2, 1, "/tmp/x").path, "/tmp/x");
  EXPECT_TRUE(isRetainedForever(checkpointEvent("s", 7, 1)));
  EXPECT_FALSE(isRetainedForever(opEvent("s", 7, 1)));
  audit::RetentionFacts facts;
  facts.session_id = "other";
  facts.count = 10;
  facts.first_seq = 2;
  facts.last_seq = 11;
  EXPECT_TRUE(isRetainedForever(stored(audit::retentionEvent(ctxFor("s"), 1, facts), 9)))
      << "the record of a deletion outlives it";
}

TEST(ExtractFactsTest, AStopWithoutExitCodeHasNone) {
  ocsf::SessionInput in;
  in.activity = ocsf::SessionActivity::kStop;
  in.reason = ocsf::StopReason::kApi;
  const StoredEvent e = stored(ocsf::session(ctxFor("s"), 1, in), 3);
  EXPECT_TRUE(e.session_stop);
  EXPECT_EQ(e.stop_reason, "api");
  EXPECT_FALSE(e.exit_code.has_value());
}

TEST(ExtractFactsTest, StopReasonForRecordCutsAtNulAndOnAUtf8Boundary) {
  EXPECT_EQ(stopReasonForRecord(std::string("exit\0junk", 9)), "exit");
  const std::string long_reason = std::string(255, 'a') + "\xc3\xa9";  // 'é' straddles byte 256
  EXPECT_EQ(stopReasonForRecord(long_reason), std::string(255, 'a'));
}

TEST(ExtractFactsTest, ShorthandKindIsTheUpperCasePrefix) {
  EXPECT_EQ(shorthandKind("NET:OPEN [INFO] x"), "NET");
  EXPECT_EQ(shorthandKind("no colon"), "");
  EXPECT_EQ(shorthandKind("net:open"), "");
}

TEST(ExtractFactsTest, GarbageJsonLeavesEventUnchanged) {
  StoredEvent e;
  e.json = "{\"class_uid\":";
  e.kind = "NET";
  const StoredEvent out = extractFacts(e);
  EXPECT_EQ(out.class_uid, 0);
  EXPECT_TRUE(out.domain.empty());
}

}  // namespace
}  // namespace warden::gateway
