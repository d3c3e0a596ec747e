// Schema 3 of the event store on both backends: a database written at schema 2 (and 1) by the
// stores before it — tests/data/gateway_store/schema2.*.sql, dumps of what those stores wrote — opens,
// is migrated and answers every question as before; events stored afterwards are compressed with a
// dictionary the store trains on its own events, and come back byte for byte, also in a store
// opened later; a damaged compressed body is reported, not returned.

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gateway/store/event_codec.h"
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

enum class Backend { kSqlite, kPostgres };

// What the schema-2 fixture holds (see how it was written: three sessions, retention run once).
constexpr int64_t kT = 1763900000000;

StoredEvent built(ocsf::Event e, uint64_t seq) {
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

ocsf::SessionContext ctxFor(const std::string& id) {
  ocsf::SessionContext c;
  c.hostname = "host-1";
  c.session_id = id;
  c.session_name = "agent-" + id;
  return c;
}

// A realistic mix (NET, FILE, PKG, operational) with varying hosts, paths and packages.
StoredEvent variedEvent(const std::string& session, uint64_t seq) {
  const int64_t t = kT + static_cast<int64_t>(seq) * 10;
  switch (seq % 4) {
    case 0: {
      ocsf::Connection c;
      c.actor = ocsf::Process{.name = "python3", .pid = 4000 + static_cast<int64_t>(seq % 50)};
      c.src = {"", "10.200.0.2", static_cast<int>(40000 + seq % 20000)};
      c.dst = {"host" + std::to_string(seq % 97) + ".example.org", "203.0.113." + std::to_string(seq % 250), 443};
      return built(ocsf::netOpen(ctxFor(session), t, c, ocsf::Decision{}), seq);
    }
    case 1: {
      ocsf::FileAccess a;
      a.activity = ocsf::FileActivity::kUpdate;
      a.actor.name = "sh";
      a.actor.pid = 42;
      a.file.path = "/workspace/src/module" + std::to_string(seq % 300) + "/file" + std::to_string(seq) + ".py";
      return built(ocsf::fileActivity(ctxFor(session), t, a), seq);
    }
    case 2: {
      ocsf::PackageInstall p;
      p.manager = "pip";
      p.name = "pkg" + std::to_string(seq % 200);
      p.version = "1." + std::to_string(seq % 30) + ".0";
      p.source_url = "https://pypi.example/simple/pkg" + std::to_string(seq % 200);
      return built(ocsf::pkgInstall(ctxFor(session), t, p), seq);
    }
    default: {
      ocsf::OperationalInput in;
      in.name = "Tick";
      in.message = "tick " + std::to_string(seq);
      return built(ocsf::operationalEvent(ctxFor(session), t, in), seq);
    }
  }
}

class StoreMigrationTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kPostgres) {
      testing::SharedPostgres& pg = testing::sharedPostgres();
      if (!pg.server) GTEST_SKIP() << "PostgreSQL: " << pg.why;
      const std::string db = "warden_m" + std::to_string(++pg.next_db);
      std::string why;
      ASSERT_TRUE(pg.server->createDatabase(db, &why)) << why;
      url_ = pg.server->url(db);
    }
  }

  std::string fixture() const {
    return testing::readFile(testing::sourceDir() / "tests/data/gateway_store" /
                             (GetParam() == Backend::kSqlite ? "schema2.sqlite.sql" : "schema2.postgres.sql"));
  }

  void execRaw(const std::string& sql) {
    if (GetParam() == Backend::kSqlite) {
      const testing::SqliteOutcome r = testing::execSqlite(dir_ / "events.db", sql);
      ASSERT_EQ(r.rc, 0) << r.message;
    } else {
      const testing::PostgresOutcome r = testing::execPostgres(url_, sql);
      ASSERT_TRUE(r.ok) << r.message;
    }
  }

  // Rows of event_rows matching `where`, counted on a connection of the test's own.
  int64_t countRows(const std::string& where) {
    const std::string sql = "SELECT COUNT(*) FROM event_rows WHERE " + where;
    if (GetParam() == Backend::kSqlite) {
      sqlite3* db = nullptr;
      sqlite3_stmt* st = nullptr;
      int64_t n = -1;
      if (sqlite3_open((dir_ / "events.db").c_str(), &db) == SQLITE_OK &&
          sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        n = sqlite3_column_int64(st, 0);
      }
      sqlite3_finalize(st);
      sqlite3_close(db);
      return n;
    }
    const testing::PostgresOutcome r = testing::execPostgres(url_, sql);
    EXPECT_TRUE(r.ok && r.rows.size() == 1) << r.message;
    return r.ok && r.rows.size() == 1 ? std::stoll(r.rows[0][0]) : -1;
  }

  std::unique_ptr<EventStore> open() {
    auto s = GetParam() == Backend::kSqlite ? openSqliteStore(dir_ / "events.db") : openPostgresStore(url_);
    EXPECT_TRUE(s.ok()) << s.error().toString();
    if (!s.ok()) return nullptr;
    auto m = (*s)->migrate();
    EXPECT_TRUE(m.ok()) << m.error().toString();
    return std::move(*s);
  }

  std::vector<StoredEvent> all(EventStore& store, const std::string& session) {
    EventQuery q;
    q.session = session;
    q.limit = 10000;
    auto r = store.query(q);
    EXPECT_TRUE(r.ok()) << r.error().toString();
    return r.ok() ? *r : std::vector<StoredEvent>{};
  }

  std::vector<std::string> match(EventStore& store, EventQuery q) {
    auto r = store.sessionsMatching(q);
    EXPECT_TRUE(r.ok()) << r.error().toString();
    return r.ok() ? *r : std::vector<std::string>{};
  }

  testing::TempDir dir_;
  std::string url_;
};

std::vector<uint64_t> sequences(const std::vector<StoredEvent>& events) {
  std::vector<uint64_t> out;
  for (const auto& e : events) out.push_back(e.sequence);
  return out;
}

TEST_P(StoreMigrationTest, ASchemaTwoDatabaseIsMigratedAndAnswersEverythingAsBefore) {
  execRaw(fixture());
  auto store = open();
  ASSERT_TRUE(store);

  // Sessions and their records.
  auto alpha = store->session("s-alpha");
  ASSERT_TRUE(alpha.ok() && alpha->has_value());
  EXPECT_EQ((*alpha)->state, "stopped");
  EXPECT_EQ((*alpha)->stop_reason, "timeout");
  EXPECT_EQ((*alpha)->exit_code, 124);
  EXPECT_EQ((*alpha)->hostname, "runner-1");
  EXPECT_EQ((*alpha)->token_hash, std::string(64, '1'));

  // Events: what retention left, byte for byte; the acknowledged marks, the gap of s-beta.
  const auto a = all(*store, "s-alpha");
  EXPECT_EQ(sequences(a), (std::vector<uint64_t>{1, 7, 8, 9, 10, 11, 12}));
  for (const auto& e : a) {
    const auto j = nlohmann::json::parse(e.json, nullptr, false);
    ASSERT_TRUE(j.is_object()) << e.json;
    EXPECT_EQ(j["metadata"]["sequence"], e.sequence);
    EXPECT_EQ(j["time"], e.time_ms);
    EXPECT_EQ(e.shorthand.rfind(e.kind + ":", 0), 0u) << e.shorthand;
  }
  EXPECT_EQ(a[0].shorthand.rfind("LOG:START", 0), 0u);
  EXPECT_EQ(a[3].path, "/work/a b\"c.txt");
  EXPECT_EQ(a[5].domain, "pypi.org");
  EXPECT_EQ(a[6].stop_reason, "timeout");
  EXPECT_EQ(sequences(all(*store, "s-beta")), (std::vector<uint64_t>{1, 7, 8}));
  EXPECT_EQ(*store->highestContiguous("s-alpha"), 12u);
  EXPECT_EQ(*store->highestContiguous("s-beta"), 5u);
  EXPECT_EQ(*store->highestContiguous("s-gamma"), 3u);
  uint64_t json_bytes = 0;
  for (const char* s : {"s-alpha", "s-beta", "s-gamma"}) {
    for (const auto& e : all(*store, s)) json_bytes += e.json.size();
  }
  EXPECT_EQ(*store->storedBytes(), json_bytes) << "the per-session byte counts came along";

  // The incident questions, from session_facts now.
  EXPECT_EQ(match(*store, {.domain = "pypi.org"}), (std::vector<std::string>{"s-alpha"}));
  EXPECT_TRUE(match(*store, {.domain = "evil.example"}).empty()) << "its events were deleted by retention";
  EXPECT_EQ(match(*store, {.path = "/work/a b\"c.txt"}), (std::vector<std::string>{"s-alpha"}));
  EXPECT_EQ(match(*store, {.stop_reason = "timeout"}), (std::vector<std::string>{"s-alpha"}));
  EXPECT_TRUE(match(*store, {.package = "requests"}).empty());
  EXPECT_EQ(match(*store, {.since_ms = kT + 3600000, .domain = "pypi.org"}), (std::vector<std::string>{"s-alpha"}));

  // Settings, revision, policy state.
  auto settings = store->loadSettings();
  ASSERT_TRUE(settings.ok()) << settings.error().toString();
  EXPECT_EQ(settings->revision, 4u);
  EXPECT_EQ(settings->policy_version, 2u);
  EXPECT_EQ(settings->policy_hash, "abcd");
  ASSERT_EQ(settings->values.size(), 2u);
  EXPECT_EQ(settings->values[1], (PersistedSetting{"s-beta", "ocsf_json_enabled", "false"}));

  // It goes on: the gap of s-beta filled, s-alpha appended to, exactly once.
  StoredEvent six = variedEvent("s-beta", 6);
  auto r = store->append({six, variedEvent("s-beta", 7)});
  ASSERT_TRUE(r.ok()) << r.error().toString();
  EXPECT_EQ(r->inserted, 1u);
  EXPECT_EQ(r->duplicates, 1u);
  EXPECT_EQ(r->highest_contiguous, 8u);
  EXPECT_EQ(all(*store, "s-beta")[1].json, six.json);

  // Retention after the migration keeps the proofs and updates the facts.
  auto deleted = store->deleteExpired(kT + 10 * 3600000, 0);
  ASSERT_TRUE(deleted.ok()) << deleted.error().toString();
  EXPECT_EQ(sequences(all(*store, "s-alpha")), (std::vector<uint64_t>{1, 8})) << "LOG:START and the checkpoint";
  EXPECT_TRUE(match(*store, {.domain = "pypi.org"}).empty());
  EXPECT_TRUE(match(*store, {.stop_reason = "timeout"}).empty());

  // And migrating again changes nothing.
  auto again = store->migrate();
  ASSERT_TRUE(again.ok()) << again.error().toString();
  EXPECT_EQ(sequences(all(*store, "s-alpha")), (std::vector<uint64_t>{1, 8}));
}

TEST_P(StoreMigrationTest, ASchemaOneDatabaseIsMigratedThroughTwoAndThree) {
  execRaw(fixture());
  // Back to what a gateway of schema 1 left behind.
  execRaw("DROP TABLE settings; DROP TABLE config_state; ALTER TABLE sessions DROP COLUMN hostname; "
          "DELETE FROM warden_schema WHERE version = 2;");
  auto store = open();
  ASSERT_TRUE(store);
  EXPECT_EQ(sequences(all(*store, "s-alpha")), (std::vector<uint64_t>{1, 7, 8, 9, 10, 11, 12}));
  auto beta = store->session("s-beta");
  ASSERT_TRUE(beta.ok() && beta->has_value());
  EXPECT_EQ((*beta)->hostname, "");
  EXPECT_EQ(store->loadSettings()->revision, 0u);
  EXPECT_EQ(match(*store, {.domain = "pypi.org"}), (std::vector<std::string>{"s-alpha"}));
}

TEST_P(StoreMigrationTest, EventsAreCompressedWithATrainedDictionaryAndComeBackExactlyAlsoAfterReopening) {
  std::vector<StoredEvent> events;
  for (uint64_t s = 1; s <= EventCodec::kTrainEvents + 1500; ++s) events.push_back(variedEvent("big", s));
  {
    auto store = open();
    ASSERT_TRUE(store);
    for (size_t at = 0; at < events.size(); at += 500) {
      const std::vector<StoredEvent> part(events.begin() + static_cast<ptrdiff_t>(at),
                                          events.begin() + static_cast<ptrdiff_t>(std::min(events.size(), at + 500)));
      auto r = store->append(part);
      ASSERT_TRUE(r.ok()) << r.error().toString();
    }
    EXPECT_EQ(*store->highestContiguous("big"), events.size());
    const auto back = all(*store, "big");
    ASSERT_EQ(back.size(), events.size());
    for (size_t i = 0; i < events.size(); ++i) {
      ASSERT_EQ(back[i].json, events[i].json) << i;
      ASSERT_EQ(back[i].shorthand, events[i].shorthand) << i;
      ASSERT_EQ(back[i].domain, events[i].domain) << i;
    }
  }
  // The first events are kept as they came (the samples, but for the batch that completed them and
  // was compressed with the new dictionary), the later ones compressed to a fraction.
  EXPECT_GE(countRows("dict = 0"), static_cast<int64_t>(EventCodec::kTrainEvents) - 500);
  EXPECT_LT(countRows("dict = 0"), static_cast<int64_t>(EventCodec::kTrainEvents));
  EXPECT_GE(countRows("dict > 0"), 1000);
  EXPECT_GE(countRows("dict > 0 AND LENGTH(body) * 3 < bytes"), 1000) << "compressed to under a third";
  // A store opened later loads the dictionary and reads the compressed rows back.
  auto reopened = open();
  ASSERT_TRUE(reopened);
  const auto back = all(*reopened, "big");
  ASSERT_EQ(back.size(), events.size());
  EXPECT_EQ(back.back().json, events.back().json);
  EXPECT_EQ(back.back().shorthand, events.back().shorthand);
  auto more = reopened->append({variedEvent("big", events.size() + 1)});
  ASSERT_TRUE(more.ok());
  EXPECT_EQ(more->highest_contiguous, events.size() + 1);

  // A damaged compressed body is DataLoss, never garbage.
  execRaw(GetParam() == Backend::kSqlite
              ? "UPDATE event_rows SET body = X'28B52FFD00' WHERE sid = (SELECT sid FROM streams WHERE session_id = "
                "'big') AND seq = " + std::to_string(events.size())
              : "UPDATE event_rows SET body = '\\x28b52ffd00'::bytea WHERE seq = " + std::to_string(events.size()));
  EventQuery q;
  q.session = "big";
  q.after_sequence = events.size() - 1;
  auto damaged = reopened->query(q);
  ASSERT_FALSE(damaged.ok());
  EXPECT_EQ(damaged.error().code(), Code::kDataLoss) << damaged.error().toString();
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreMigrationTest, ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const ::testing::TestParamInfo<Backend>& p) {
                           return p.param == Backend::kSqlite ? "Sqlite" : "Postgres";
                         });

TEST(EventCodecTest, WithoutADictionaryEventsAreKeptAsTheyCame) {
  EventCodec codec;
  const auto e = codec.encode("{\"a\":1}", "NET:OPEN [INFO] x");
  EXPECT_EQ(e.dict, 0);
  EXPECT_EQ(e.body, "{\"a\":1}");
  EXPECT_FALSE(e.shorthand_inside);
  std::string json, shorthand;
  ASSERT_TRUE(codec.decode(0, e.body, "NET:OPEN [INFO] x", &json, &shorthand).ok());
  EXPECT_EQ(json, "{\"a\":1}");
  EXPECT_EQ(shorthand, "NET:OPEN [INFO] x");
}

TEST(EventCodecTest, AnUnknownDictionaryIsAskedForAndGarbageIsDataLoss) {
  EventCodec codec;
  std::string json, shorthand;
  auto unknown = codec.decode(7, "x", "", &json, &shorthand);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code(), Code::kFailedPrecondition);
  EXPECT_FALSE(codec.addDictionary(0, "x", true).ok());
}

}  // namespace
}  // namespace warden::gateway
