#include "gateway/store/postgres/postgres_store.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <set>

#include "common/clock.h"
#include "gateway/store/event_codec.h"
#include "gateway/store/postgres/pg_conn.h"
#include "gateway/store/query_sql.h"

namespace warden::gateway {
namespace {

using pg::PgResult;
using P = SqlParam;

constexpr const char* kMigrations[] = {
    // 1: sessions, events with the incident-query indexes, per-session progress. Byte strings that
    // come from the agent are BYTEA so any bytes round-trip exactly.
    R"sql(
CREATE TABLE sessions (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, token_hash TEXT NOT NULL, public_key TEXT NOT NULL,
  state TEXT NOT NULL, stop_reason TEXT NOT NULL, created_ms BIGINT NOT NULL,
  updated_ms BIGINT NOT NULL, exit_code INTEGER);
CREATE TABLE events (
  session_id TEXT NOT NULL, sequence BIGINT NOT NULL, time_ms BIGINT NOT NULL,
  class_uid INTEGER NOT NULL, severity_id INTEGER NOT NULL, kind TEXT NOT NULL,
  json BYTEA NOT NULL, shorthand BYTEA NOT NULL, domain BYTEA NOT NULL, path BYTEA NOT NULL,
  package BYTEA NOT NULL, stop_reason BYTEA NOT NULL, keep SMALLINT NOT NULL, bytes BIGINT NOT NULL,
  PRIMARY KEY (session_id, sequence));
CREATE INDEX events_time ON events (time_ms);
CREATE INDEX events_session_time ON events (session_id, time_ms);
CREATE INDEX events_domain ON events (domain, session_id) WHERE domain <> '';
CREATE INDEX events_path ON events (path, session_id) WHERE path <> '';
CREATE INDEX events_package ON events (package, session_id) WHERE package <> '';
CREATE INDEX events_stop_reason ON events (stop_reason, session_id) WHERE stop_reason <> '';
CREATE TABLE session_progress (
  session_id TEXT PRIMARY KEY, contiguous BIGINT NOT NULL, bytes BIGINT NOT NULL);
)sql",
    // 2: the supervisor's hostname; runtime settings and the one-row config state (revision, policy).
    R"sql(
ALTER TABLE sessions ADD COLUMN hostname TEXT NOT NULL DEFAULT '';
CREATE TABLE settings (
  session TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (session, key));
CREATE TABLE config_state (
  id INTEGER PRIMARY KEY CHECK (id = 1), revision BIGINT NOT NULL, policy_version BIGINT NOT NULL,
  policy_hash TEXT NOT NULL);
INSERT INTO config_state (id, revision, policy_version, policy_hash) VALUES (1, 0, 0, '');
)sql",
    // 3: as SQLite's migration 3 (docs/gateway-store.md "Schema 3"): sessions get a small integer
    // key (streams); events are keyed (sid, seq) with two integer indexes, their JSON compressed
    // (dict > 0) from now on; the four partial fact indexes become session_facts. Existing events are
    // copied as they are (dict 0).
    R"sql(
CREATE TABLE streams (
  sid BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, session_id TEXT NOT NULL UNIQUE,
  contiguous BIGINT NOT NULL, bytes BIGINT NOT NULL);
INSERT INTO streams (session_id, contiguous, bytes)
  SELECT session_id, contiguous, bytes FROM session_progress ORDER BY session_id;
INSERT INTO streams (session_id, contiguous, bytes)
  SELECT DISTINCT session_id, 0, 0 FROM events WHERE session_id NOT IN (SELECT session_id FROM streams)
  ORDER BY session_id;
CREATE TABLE event_rows (
  sid BIGINT NOT NULL, seq BIGINT NOT NULL, time_ms BIGINT NOT NULL, class_uid INTEGER NOT NULL,
  severity_id INTEGER NOT NULL, kind TEXT NOT NULL, keep SMALLINT NOT NULL, bytes BIGINT NOT NULL,
  dict BIGINT NOT NULL, body BYTEA NOT NULL, shorthand BYTEA, domain BYTEA, path BYTEA, package BYTEA,
  stop_reason BYTEA, PRIMARY KEY (sid, seq));
INSERT INTO event_rows
  SELECT s.sid, e.sequence, e.time_ms, e.class_uid, e.severity_id, e.kind, e.keep, e.bytes, 0, e.json,
         e.shorthand, NULLIF(e.domain, ''::bytea), NULLIF(e.path, ''::bytea), NULLIF(e.package, ''::bytea),
         NULLIF(e.stop_reason, ''::bytea)
  FROM events e JOIN streams s ON s.session_id = e.session_id;
CREATE INDEX event_rows_sid_time ON event_rows (sid, time_ms);
CREATE INDEX event_rows_time ON event_rows (time_ms);
CREATE TABLE session_facts (
  fact SMALLINT NOT NULL, value BYTEA NOT NULL, sid BIGINT NOT NULL, events BIGINT NOT NULL,
  PRIMARY KEY (fact, value, sid));
INSERT INTO session_facts SELECT 1, domain, sid, COUNT(*) FROM event_rows WHERE domain IS NOT NULL GROUP BY domain, sid;
INSERT INTO session_facts SELECT 2, path, sid, COUNT(*) FROM event_rows WHERE path IS NOT NULL GROUP BY path, sid;
INSERT INTO session_facts SELECT 3, package, sid, COUNT(*) FROM event_rows WHERE package IS NOT NULL GROUP BY package, sid;
INSERT INTO session_facts
  SELECT 4, stop_reason, sid, COUNT(*) FROM event_rows WHERE stop_reason IS NOT NULL GROUP BY stop_reason, sid;
CREATE TABLE event_dicts (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, dict BYTEA NOT NULL, created_ms BIGINT NOT NULL);
DROP TABLE events;
DROP TABLE session_progress;
ANALYZE event_rows;
)sql",
    // 4: where each of the gateway's exports is, per session (gateway/service/fleet_export.h), and
    // the fleet rules' memory (gateway/service/store_fleet_state.h).
    R"sql(
CREATE TABLE export_cursors (
  export TEXT NOT NULL, session_id TEXT NOT NULL, sequence BIGINT NOT NULL,
  PRIMARY KEY (export, session_id));
CREATE TABLE fleet_sightings (key TEXT PRIMARY KEY, first_ms BIGINT NOT NULL);
)sql",
};

constexpr size_t kFactRowsPerInsert = 1000;  // 4 parameters each, under libpq's 65535

// Rows of one event as read back, before the body is decoded (outside the store's lock).
struct RawRow {
  StoredEvent e;
  int64_t dict = 0;
  std::string body;
  std::string shorthand_column;
};

std::string placeholder(size_t n) { return "$" + std::to_string(n); }

std::string bytes(const PGresult* r, int row, int col) {
  return pg::decodeBytea(PQgetvalue(r, row, col), PQgetlength(r, row, col));
}
std::string text(const PGresult* r, int row, int col) {
  return std::string(PQgetvalue(r, row, col), static_cast<size_t>(PQgetlength(r, row, col)));
}

std::string intArray(const std::vector<int64_t>& v) {
  std::string out = "{";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + std::to_string(v[i]);
  return out + "}";
}

class PostgresStore final : public EventStore {
 public:
  explicit PostgresStore(std::string url) : conn_(std::move(url)) {}

  Result<void> migrate() override {
    std::lock_guard lock(mu_);
    auto migrated = transaction("migrate", [&]() -> Result<void> {
      auto lk = conn_.exec("migrate", "SELECT pg_advisory_xact_lock(727465)");
      if (!lk.ok()) return lk.error();
      auto t = conn_.exec("migrate", "CREATE TABLE IF NOT EXISTS warden_schema (version INTEGER PRIMARY KEY, "
                                     "applied_ms BIGINT NOT NULL)");
      if (!t.ok()) return t.error();
      auto cur = conn_.exec("migrate", "SELECT COALESCE(MAX(version), 0) FROM warden_schema");
      if (!cur.ok()) return cur.error();
      const int64_t have = pg::toInt(cur->get(), 0, 0);
      const int64_t latest = static_cast<int64_t>(std::size(kMigrations));
      if (have > latest) {
        return failedPrecondition("postgres store schema version " + std::to_string(have) +
                                  " is newer than this gateway's " + std::to_string(latest));
      }
      const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch()).count();
      for (int64_t v = have + 1; v <= latest; ++v) {
        auto m = conn_.exec("migration " + std::to_string(v), kMigrations[v - 1]);
        if (!m.ok()) return m.error();
        auto rec = conn_.exec("migrate", "INSERT INTO warden_schema (version, applied_ms) VALUES ($1, $2)",
                              {P::integer(v), P::integer(now)});
        if (!rec.ok()) return rec.error();
      }
      return okResult();
    });
    if (!migrated.ok()) return migrated;
    return loadDictionariesLocked();
  }

  Result<void> upsertSession(const SessionRecord& s) override {
    if (!isValidSessionId(s.id)) {
      return invalidArgument("session id '" + s.id.substr(0, 64) + "' is not 1..128 bytes of [A-Za-z0-9._:-]");
    }
    std::lock_guard lock(mu_);
    std::vector<SqlParam> params = {P::text(s.id),         P::text(s.name),        P::text(s.token_hash),
                                    P::text(s.public_key), P::text(s.state),       P::text(s.stop_reason),
                                    P::integer(s.created_ms), P::integer(s.updated_ms), P::text(s.hostname)};
    const std::string exit = s.exit_code ? "$10" : "NULL";
    if (s.exit_code) params.push_back(P::integer(*s.exit_code));
    auto r = conn_.exec("upsert session", R"sql(
INSERT INTO sessions (id, name, token_hash, public_key, state, stop_reason, created_ms, updated_ms, hostname,
                      exit_code)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, )sql" + exit + R"sql()
ON CONFLICT (id) DO UPDATE SET name = excluded.name, token_hash = excluded.token_hash,
  public_key = excluded.public_key, state = excluded.state, stop_reason = excluded.stop_reason,
  updated_ms = excluded.updated_ms, exit_code = excluded.exit_code, hostname = excluded.hostname)sql",
                        params);
    if (!r.ok()) return r.error();
    return okResult();
  }

  Result<bool> createSession(const SessionRecord& s) override {
    if (!isValidSessionId(s.id)) {
      return invalidArgument("session id '" + s.id.substr(0, 64) + "' is not 1..128 bytes of [A-Za-z0-9._:-]");
    }
    std::lock_guard lock(mu_);
    std::vector<SqlParam> params = {P::text(s.id),         P::text(s.name),        P::text(s.token_hash),
                                    P::text(s.public_key), P::text(s.state),       P::text(s.stop_reason),
                                    P::integer(s.created_ms), P::integer(s.updated_ms), P::text(s.hostname)};
    const std::string exit = s.exit_code ? "$10" : "NULL";
    if (s.exit_code) params.push_back(P::integer(*s.exit_code));
    auto r = conn_.exec("create session", R"sql(
INSERT INTO sessions (id, name, token_hash, public_key, state, stop_reason, created_ms, updated_ms, hostname,
                      exit_code)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, )sql" + exit + R"sql()
ON CONFLICT (id) DO NOTHING RETURNING id)sql",
                        params);
    if (!r.ok()) return r.error();
    return PQntuples(r->get()) == 1;
  }

  Result<std::optional<SessionRecord>> session(std::string_view id) override {
    std::lock_guard lock(mu_);
    auto all = readSessions(std::string(id), true);
    if (!all.ok()) return all.error();
    if (all->empty()) return std::optional<SessionRecord>();
    return std::optional<SessionRecord>(std::move(all->front()));
  }

  Result<std::vector<SessionRecord>> sessions() override {
    std::lock_guard lock(mu_);
    return readSessions("", false);
  }

  Result<AppendResult> append(const std::vector<StoredEvent>& batch) override {
    for (const auto& e : batch) WARDEN_RETURN_IF_ERROR(validateEvent(e));
    codec_.learnFrom(batch, [this](const std::string& dict) { return saveDictionary(dict); });
    // Compressed here, on the caller's thread, while another batch may hold the connection.
    std::vector<EventCodec::Encoded> encoded;
    encoded.reserve(batch.size());
    for (const auto& e : batch) encoded.push_back(codec_.encode(e.json, e.shorthand));
    std::lock_guard lock(mu_);
    AppendResult result;
    auto r = transaction("append", [&]() -> Result<void> {
      auto a = appendLocked(batch, encoded);
      if (!a.ok()) return a.error();
      result = std::move(*a);
      return okResult();
    });
    if (!r.ok()) return r.error().withContext("postgres append (nothing of the batch was stored)");
    return result;
  }

  Result<uint64_t> highestContiguous(std::string_view session_id) override {
    std::lock_guard lock(mu_);
    auto r = conn_.exec("highestContiguous", "SELECT contiguous FROM streams WHERE session_id = $1",
                        {P::text(std::string(session_id))});
    if (!r.ok()) return r.error();
    return PQntuples(r->get()) ? static_cast<uint64_t>(pg::toInt(r->get(), 0, 0)) : uint64_t{0};
  }

  Result<std::vector<StoredEvent>> query(const EventQuery& q) override {
    WARDEN_RETURN_IF_ERROR(validateQuery(q));
    std::vector<RawRow> rows;
    {
      std::lock_guard lock(mu_);
      auto streams = streamsFor(q.session);
      if (!streams.ok()) return streams.error();
      const SqlFilter f = rowFilter(q, placeholder, 3);
      const std::string sql = std::string("SELECT ") + kRowColumns + " FROM event_rows WHERE sid = $1 AND seq > $2" +
                              f.where + " ORDER BY seq LIMIT ";
      for (const auto& [sid, id] : *streams) {
        if (rows.size() >= q.limit) break;
        std::vector<SqlParam> params = {P::integer(sid), P::integer(static_cast<int64_t>(q.after_sequence))};
        params.insert(params.end(), f.params.begin(), f.params.end());
        auto r = conn_.exec("query", sql + std::to_string(q.limit - rows.size()), params);
        if (!r.ok()) return r.error();
        const PGresult* res = r->get();
        for (int i = 0; i < PQntuples(res); ++i) {
          RawRow row;
          row.e.session_id = id;
          row.e.sequence = static_cast<uint64_t>(pg::toInt(res, i, 0));
          row.e.time_ms = pg::toInt(res, i, 1);
          row.e.class_uid = static_cast<int>(pg::toInt(res, i, 2));
          row.e.severity_id = static_cast<int>(pg::toInt(res, i, 3));
          row.e.kind = text(res, i, 4);
          row.dict = pg::toInt(res, i, 5);
          row.body = bytes(res, i, 6);
          row.shorthand_column = bytes(res, i, 7);
          row.e.domain = bytes(res, i, 8);
          row.e.path = bytes(res, i, 9);
          row.e.package = bytes(res, i, 10);
          row.e.stop_reason = bytes(res, i, 11);
          rows.push_back(std::move(row));
        }
      }
    }
    std::vector<StoredEvent> out;
    out.reserve(rows.size());
    for (auto& r : rows) {
      if (r.dict != 0 && !codec_.hasDictionary(r.dict)) {
        std::lock_guard lock(mu_);  // a dictionary another gateway trained
        WARDEN_RETURN_IF_ERROR(loadDictionariesLocked());
      }
      WARDEN_RETURN_IF_ERROR(codec_.decode(r.dict, r.body, r.shorthand_column, &r.e.json, &r.e.shorthand));
      out.push_back(std::move(r.e));
    }
    return out;
  }

  Result<std::vector<std::string>> sessionsMatching(const EventQuery& q) override {
    EventQuery checked = q;
    checked.limit = 1;
    checked.after_sequence = 0;
    WARDEN_RETURN_IF_ERROR(validateQuery(checked));
    const auto facts = factFilters(checked);
    std::lock_guard lock(mu_);
    std::vector<std::pair<int64_t, std::string>> candidates;
    if (!facts.empty()) {
      // The sessions with every fact asked for: one index probe per fact and session.
      std::string sql = "SELECT s.sid, s.session_id FROM streams s";
      std::vector<SqlParam> params;
      for (size_t i = 0; i < facts.size(); ++i) {
        const std::string a = "f" + std::to_string(i);
        params.push_back(P::integer(static_cast<int>(facts[i].first)));
        params.push_back(P::text(facts[i].second));
        sql += " JOIN session_facts " + a + " ON " + a + ".sid = s.sid AND " + a + ".fact = $" +
               std::to_string(params.size() - 1) + " AND " + a + ".value = $" + std::to_string(params.size()) +
               " AND " + a + ".events > 0";
      }
      if (checked.session) {
        params.push_back(P::text(*checked.session));
        sql += " WHERE s.session_id = $" + std::to_string(params.size());
      }
      auto r = conn_.exec("sessionsMatching", sql + " ORDER BY s.session_id", params);
      if (!r.ok()) return r.error();
      for (int i = 0; i < PQntuples(r->get()); ++i) candidates.emplace_back(pg::toInt(r->get(), i, 0), text(r->get(), i, 1));
    } else {
      auto all = streamsFor(checked.session);
      if (!all.ok()) return all.error();
      candidates = std::move(*all);
    }
    std::vector<std::string> out;
    if (isSingleFactQuestion(checked) && !checked.session) {
      for (auto& [sid, id] : candidates) out.push_back(std::move(id));
      return out;
    }
    // Anything more: each candidate must have one event that satisfies the whole filter.
    const SqlFilter f = rowFilter(checked, placeholder, 2);
    for (auto& [sid, id] : candidates) {
      std::vector<SqlParam> params = {P::integer(sid)};
      params.insert(params.end(), f.params.begin(), f.params.end());
      auto r = conn_.exec("sessionsMatching", "SELECT 1 FROM event_rows WHERE sid = $1" + f.where + " LIMIT 1", params);
      if (!r.ok()) return r.error();
      if (PQntuples(r->get()) > 0) out.push_back(std::move(id));
    }
    return out;
  }

  Result<std::vector<Deleted>> deleteExpired(int64_t cutoff_ms, uint64_t max_bytes) override {
    std::lock_guard lock(mu_);
    std::vector<Deleted> out;
    auto r = transaction("retention", [&]() -> Result<void> {
      auto d = deleteLocked(cutoff_ms, max_bytes);
      if (!d.ok()) return d.error();
      out = std::move(*d);
      return okResult();
    });
    if (!r.ok()) return r.error().withContext("postgres retention (nothing deleted)");
    return out;
  }

  Result<void> connect() {
    std::lock_guard lock(mu_);
    return conn_.ensureConnected();
  }

  Result<uint64_t> storedBytes() override {
    std::lock_guard lock(mu_);
    auto r = conn_.exec("storedBytes", "SELECT COALESCE(SUM(bytes), 0) FROM streams");
    if (!r.ok()) return r.error();
    return static_cast<uint64_t>(pg::toInt(r->get(), 0, 0));
  }

  Result<void> saveSetting(std::string_view session, std::string_view key, const std::optional<std::string>& value,
                           uint64_t revision) override {
    WARDEN_RETURN_IF_ERROR(validateSettingWrite(session, key, value, revision));
    std::lock_guard lock(mu_);
    auto r = transaction("saveSetting", [&]() -> Result<void> {
      Result<PgResult> w = value ? conn_.exec("saveSetting",
                                              "INSERT INTO settings (session, key, value) VALUES ($1, $2, $3) "
                                              "ON CONFLICT (session, key) DO UPDATE SET value = excluded.value",
                                              {P::text(std::string(session)), P::text(std::string(key)), P::text(*value)})
                                 : conn_.exec("saveSetting", "DELETE FROM settings WHERE session = $1 AND key = $2",
                                              {P::text(std::string(session)), P::text(std::string(key))});
      if (!w.ok()) return w.error();
      return raiseRevisionLocked(revision);
    });
    if (!r.ok()) return r.error().withContext("postgres saveSetting (nothing was changed)");
    return okResult();
  }

  Result<void> saveRevision(uint64_t revision) override {
    if (revision > static_cast<uint64_t>(INT64_MAX)) return invalidArgument("config revision is out of range");
    std::lock_guard lock(mu_);
    auto r = transaction("saveRevision", [&]() { return raiseRevisionLocked(revision); });
    if (!r.ok()) return r.error().withContext("postgres saveRevision (nothing was changed)");
    return okResult();
  }

  Result<void> savePolicyState(uint64_t policy_version, std::string_view policy_hash) override {
    if (policy_version > static_cast<uint64_t>(INT64_MAX)) return invalidArgument("policy version is out of range");
    std::lock_guard lock(mu_);
    auto r = conn_.exec("savePolicyState", "UPDATE config_state SET policy_version = $1, policy_hash = $2 WHERE id = 1",
                        {P::integer(static_cast<int64_t>(policy_version)), P::text(std::string(policy_hash))});
    if (!r.ok()) return r.error().withContext("postgres savePolicyState (nothing was changed)");
    return okResult();
  }

  Result<PersistedSettings> loadSettings() override {
    std::lock_guard lock(mu_);
    PersistedSettings out;
    auto r = transaction("loadSettings", [&]() -> Result<void> {
      auto rows = conn_.exec("loadSettings", "SELECT session, key, value FROM settings ORDER BY session, key");
      if (!rows.ok()) return rows.error();
      for (int i = 0; i < PQntuples(rows->get()); ++i) {
        out.values.push_back({text(rows->get(), i, 0), text(rows->get(), i, 1), text(rows->get(), i, 2)});
      }
      auto cs = conn_.exec("loadSettings", "SELECT revision, policy_version, policy_hash FROM config_state WHERE id = 1");
      if (!cs.ok()) return cs.error();
      if (PQntuples(cs->get()) != 1) return failedPrecondition("config_state has no row (run migrate() first)");
      out.revision = static_cast<uint64_t>(pg::toInt(cs->get(), 0, 0));
      out.policy_version = static_cast<uint64_t>(pg::toInt(cs->get(), 0, 1));
      out.policy_hash = text(cs->get(), 0, 2);
      return okResult();
    });
    if (!r.ok()) return r.error().withContext("postgres loadSettings");
    return out;
  }

  Result<void> saveExportCursors(std::string_view export_name,
                                 const std::vector<std::pair<std::string, uint64_t>>& cursors) override {
    WARDEN_RETURN_IF_ERROR(validateExportCursors(export_name, cursors));
    std::lock_guard lock(mu_);
    auto r = transaction("saveExportCursors", [&]() -> Result<void> {
      for (const auto& [session, sequence] : cursors) {
        auto w = conn_.exec("saveExportCursors",
                            "INSERT INTO export_cursors (export, session_id, sequence) VALUES ($1, $2, $3) "
                            "ON CONFLICT (export, session_id) DO UPDATE SET sequence = "
                            "GREATEST(export_cursors.sequence, excluded.sequence)",
                            {P::text(std::string(export_name)), P::text(session),
                             P::integer(static_cast<int64_t>(sequence))});
        if (!w.ok()) return w.error();
      }
      return okResult();
    });
    if (!r.ok()) return r.error().withContext("postgres saveExportCursors (nothing was changed)");
    return okResult();
  }

  Result<bool> recordFleetSighting(std::string_view key) override {
    if (!isValidSightingKey(key)) return invalidArgument("a fleet sighting key is 64 lower-case hex digits");
    std::lock_guard lock(mu_);
    auto rows = conn_.exec("recordFleetSighting",
                           "INSERT INTO fleet_sightings (key, first_ms) VALUES ($1, $2) ON CONFLICT DO NOTHING "
                           "RETURNING key",
                           {P::text(std::string(key)), P::integer(SystemClock::instance().nowMillis())});
    if (!rows.ok()) return rows.error().withContext("postgres recordFleetSighting");
    return PQntuples(rows->get()) == 1;
  }

  Result<std::vector<std::pair<std::string, uint64_t>>> loadExportCursors(std::string_view export_name) override {
    std::lock_guard lock(mu_);
    auto rows = conn_.exec("loadExportCursors",
                           "SELECT session_id, sequence FROM export_cursors WHERE export = $1 ORDER BY session_id",
                           {P::text(std::string(export_name))});
    if (!rows.ok()) return rows.error().withContext("postgres loadExportCursors");
    std::vector<std::pair<std::string, uint64_t>> out;
    for (int i = 0; i < PQntuples(rows->get()); ++i) {
      out.emplace_back(text(rows->get(), i, 0), static_cast<uint64_t>(pg::toInt(rows->get(), i, 1)));
    }
    return out;
  }

 private:
  Result<void> raiseRevisionLocked(uint64_t revision) {
    auto r = conn_.exec("config revision", "UPDATE config_state SET revision = GREATEST(revision, $1) WHERE id = 1",
                        {P::integer(static_cast<int64_t>(revision))});
    if (!r.ok()) return r.error();
    return okResult();
  }

  template <typename F>
  Result<void> transaction(std::string_view what, F&& body) {
    auto b = conn_.exec(what, "BEGIN");
    if (!b.ok()) return b.error();
    Result<void> r = body();
    if (!r.ok()) {
      (void)conn_.exec(what, "ROLLBACK");
      return r;
    }
    auto c = conn_.exec(what, "COMMIT");
    if (!c.ok()) return c.error();
    return okResult();
  }

  Result<std::vector<SessionRecord>> readSessions(const std::string& id, bool one) {
    auto r = conn_.exec("sessions",
                        std::string("SELECT id, name, token_hash, public_key, state, stop_reason, created_ms, "
                                    "updated_ms, exit_code, hostname FROM sessions") +
                            (one ? " WHERE id = $1" : "") + " ORDER BY id",
                        one ? std::vector<SqlParam>{P::text(id)} : std::vector<SqlParam>{});
    if (!r.ok()) return r.error();
    const PGresult* res = r->get();
    std::vector<SessionRecord> out;
    for (int i = 0; i < PQntuples(res); ++i) {
      SessionRecord s;
      s.id = text(res, i, 0);
      s.name = text(res, i, 1);
      s.token_hash = text(res, i, 2);
      s.public_key = text(res, i, 3);
      s.state = text(res, i, 4);
      s.stop_reason = text(res, i, 5);
      s.created_ms = pg::toInt(res, i, 6);
      s.updated_ms = pg::toInt(res, i, 7);
      if (!PQgetisnull(res, i, 8)) s.exit_code = static_cast<int>(pg::toInt(res, i, 8));
      s.hostname = text(res, i, 9);
      out.push_back(std::move(s));
    }
    return out;
  }

  // Installs every persisted dictionary (the newest is the one new events use).
  Result<void> loadDictionariesLocked() {
    auto r = conn_.exec("event dictionaries", "SELECT id, dict FROM event_dicts ORDER BY id");
    if (!r.ok()) return r.error();
    for (int i = 0; i < PQntuples(r->get()); ++i) {
      const int64_t id = pg::toInt(r->get(), i, 0);
      if (codec_.hasDictionary(id)) continue;
      WARDEN_RETURN_IF_ERROR(codec_.addDictionary(id, bytes(r->get(), i, 1), true));
    }
    return okResult();
  }

  // A newly trained dictionary, saved in its own transaction; its id.
  Result<int64_t> saveDictionary(const std::string& dict) {
    std::lock_guard lock(mu_);
    int64_t id = 0;
    auto r = transaction("event dictionary", [&]() -> Result<void> {
      auto ins = conn_.exec("event dictionary", "INSERT INTO event_dicts (dict, created_ms) VALUES ($1, $2) RETURNING id",
                            {P::text(dict), P::integer(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                           std::chrono::system_clock::now().time_since_epoch())
                                                           .count())});
      if (!ins.ok()) return ins.error();
      id = pg::toInt(ins->get(), 0, 0);
      return okResult();
    });
    if (!r.ok()) return r.error();
    return id;
  }

  // (sid, session id) of `session`, or of every session in id order; empty for an unknown one.
  Result<std::vector<std::pair<int64_t, std::string>>> streamsFor(const std::optional<std::string>& session) {
    auto r = session ? conn_.exec("streams", "SELECT sid, session_id FROM streams WHERE session_id = $1",
                                  {P::text(*session)})
                     : conn_.exec("streams", "SELECT sid, session_id FROM streams ORDER BY session_id");
    if (!r.ok()) return r.error();
    std::vector<std::pair<int64_t, std::string>> out;
    for (int i = 0; i < PQntuples(r->get()); ++i) out.emplace_back(pg::toInt(r->get(), i, 0), text(r->get(), i, 1));
    return out;
  }

  struct Progress {
    int64_t sid = 0;
    uint64_t contiguous = 0;
    int64_t added_bytes = 0;
    std::vector<uint64_t> inserted;  // this batch's new sequences above `contiguous`
  };

  Result<AppendResult> appendLocked(const std::vector<StoredEvent>& batch,
                                    const std::vector<EventCodec::Encoded>& encoded) {
    AppendResult result;
    std::vector<std::string> order;
    std::map<std::string, Progress> progress;
    for (const auto& e : batch) {
      if (progress.emplace(e.session_id, Progress{}).second) order.push_back(e.session_id);
    }
    // Lock each session's stream row, in id order (no deadlock between gateways sharing the
    // database): while this transaction holds it, nobody else stores events of the session.
    for (auto& [id, p] : progress) {
      auto ins = conn_.exec("append", "INSERT INTO streams (session_id, contiguous, bytes) VALUES ($1, 0, 0) "
                                      "ON CONFLICT (session_id) DO NOTHING",
                            {P::text(id)});
      if (!ins.ok()) return ins.error();
      auto sel = conn_.exec("append", "SELECT sid, contiguous FROM streams WHERE session_id = $1 FOR UPDATE",
                            {P::text(id)});
      if (!sel.ok()) return sel.error();
      p.sid = pg::toInt(sel->get(), 0, 0);
      p.contiguous = static_cast<uint64_t>(pg::toInt(sel->get(), 0, 1));
    }
    // Above the mark, what an earlier batch stored beyond a gap is already there.
    std::set<std::pair<std::string, uint64_t>> stored;
    for (auto& [id, p] : progress) {
      uint64_t top = 0;
      for (const auto& e : batch) {
        if (e.session_id == id) top = std::max(top, e.sequence);
      }
      if (top <= p.contiguous) continue;
      auto have = conn_.exec("append", "SELECT seq FROM event_rows WHERE sid = $1 AND seq > $2 AND seq <= $3",
                             {P::integer(p.sid), P::integer(static_cast<int64_t>(p.contiguous)),
                              P::integer(static_cast<int64_t>(top))});
      if (!have.ok()) return have.error();
      for (int i = 0; i < PQntuples(have->get()); ++i) {
        stored.emplace(id, static_cast<uint64_t>(pg::toInt(have->get(), i, 0)));
      }
    }
    pg::BinaryCopy copy;
    FactCounts facts;
    std::vector<const StoredEvent*> stops;
    for (size_t i = 0; i < batch.size(); ++i) {
      const StoredEvent& e = batch[i];
      Progress& p = progress[e.session_id];
      if (e.sequence <= p.contiguous || !stored.emplace(e.session_id, e.sequence).second) {
        ++result.duplicates;  // stored before (maybe since deleted by retention), or twice in this batch
        continue;
      }
      const EventCodec::Encoded& enc = encoded[i];
      copy.row(15);
      copy.int64(p.sid);
      copy.int64(static_cast<int64_t>(e.sequence));
      copy.int64(e.time_ms);
      copy.int32(e.class_uid);
      copy.int32(e.severity_id);
      copy.bytes(e.kind);
      copy.int16(isRetainedForever(e) ? 1 : 0);
      copy.int64(static_cast<int64_t>(e.json.size()));
      copy.int64(enc.dict);
      copy.bytes(enc.body);
      enc.shorthand_inside ? copy.null() : copy.bytes(e.shorthand);
      for (const std::string* fact : {&e.domain, &e.path, &e.package, &e.stop_reason}) {
        fact->empty() ? copy.null() : copy.bytes(*fact);
      }
      ++result.inserted;
      p.added_bytes += static_cast<int64_t>(e.json.size());
      p.inserted.push_back(e.sequence);
      countFacts(facts, p.sid, e.domain, e.path, e.package, e.stop_reason, 1);
      if (e.session_stop) stops.push_back(&e);
    }
    if (result.inserted > 0) {
      auto c = conn_.copyIn("append",
                            "COPY event_rows (sid, seq, time_ms, class_uid, severity_id, kind, keep, bytes, dict, body, "
                            "shorthand, domain, path, package, stop_reason) FROM STDIN (FORMAT binary)",
                            copy.finish());
      if (!c.ok()) return c.error();
    }
    std::vector<std::pair<const std::tuple<int, std::string, int64_t>*, int64_t>> fact_rows;
    for (const auto& [key, count] : facts) fact_rows.emplace_back(&key, count);
    for (size_t start = 0; start < fact_rows.size(); start += kFactRowsPerInsert) {
      const size_t end = std::min(fact_rows.size(), start + kFactRowsPerInsert);
      std::string sql = "INSERT INTO session_facts (fact, value, sid, events) VALUES ";
      std::vector<SqlParam> params;
      for (size_t i = start; i < end; ++i) {
        const auto& [key, count] = fact_rows[i];
        const size_t n = params.size();
        sql += (i == start ? "($" : ", ($") + std::to_string(n + 1) + ", $" + std::to_string(n + 2) + ", $" +
               std::to_string(n + 3) + ", $" + std::to_string(n + 4) + ")";
        params.push_back(P::integer(std::get<0>(*key)));
        params.push_back(P::text(std::get<1>(*key)));
        params.push_back(P::integer(std::get<2>(*key)));
        params.push_back(P::integer(count));
      }
      sql += " ON CONFLICT (fact, value, sid) DO UPDATE SET events = session_facts.events + excluded.events";
      auto up = conn_.exec("append", sql, params);
      if (!up.ok()) return up.error();
    }
    // Newly stored SESSION stops mark their session's record, in batch order.
    for (const StoredEvent* e : stops) {
      std::vector<SqlParam> params = {P::text(e->session_id), P::text(stopReasonForRecord(e->stop_reason)),
                                      P::integer(e->time_ms)};
      const std::string exit = e->exit_code ? "$4" : "NULL";
      if (e->exit_code) params.push_back(P::integer(*e->exit_code));
      auto up = conn_.exec("append",
                           "UPDATE sessions SET state = 'stopped', stop_reason = $2, "
                           "exit_code = " + exit + ", updated_ms = $3 WHERE id = $1",
                           params);
      if (!up.ok()) return up.error();
    }
    for (const auto& id : order) {
      Progress& p = progress[id];
      if (!p.inserted.empty()) {
        // What this batch stored right above the mark moves it without reading anything back.
        std::sort(p.inserted.begin(), p.inserted.end());
        for (const uint64_t s : p.inserted) {
          if (s != p.contiguous + 1) break;
          ++p.contiguous;
        }
        // Then over what earlier batches stored above a gap, 512 rows at a time.
        for (;;) {
          auto w = conn_.exec("append", "SELECT seq FROM event_rows WHERE sid = $1 AND seq > $2 ORDER BY seq LIMIT 512",
                              {P::integer(p.sid), P::integer(static_cast<int64_t>(p.contiguous))});
          if (!w.ok()) return w.error();
          const int n = PQntuples(w->get());
          bool gap = false;
          for (int i = 0; i < n && !gap; ++i) {
            if (static_cast<uint64_t>(pg::toInt(w->get(), i, 0)) == p.contiguous + 1) {
              ++p.contiguous;
            } else {
              gap = true;
            }
          }
          if (gap || n < 512) break;
        }
        auto up = conn_.exec("append", "UPDATE streams SET contiguous = $2, bytes = bytes + $3 WHERE sid = $1",
                             {P::integer(p.sid), P::integer(static_cast<int64_t>(p.contiguous)),
                              P::integer(p.added_bytes)});
        if (!up.ok()) return up.error();
      }
      result.contiguous.emplace_back(id, p.contiguous);
    }
    if (!result.contiguous.empty()) result.highest_contiguous = result.contiguous.front().second;
    return result;
  }

  Result<std::vector<Deleted>> deleteLocked(int64_t cutoff_ms, uint64_t max_bytes) {
    std::map<int64_t, Deleted> deleted;
    std::map<int64_t, int64_t> freed;
    FactCounts facts;
    // Deleted rows come back aggregated: kind 0 per session (count, first, last, bytes), kinds 1..4
    // per (session, fact value) (count).
    auto apply = [&](const PGresult* r) {
      for (int i = 0; i < PQntuples(r); ++i) {
        const int64_t kind = pg::toInt(r, i, 0);
        const int64_t sid = pg::toInt(r, i, 1);
        const int64_t count = pg::toInt(r, i, 2);
        if (kind == 0) {
          Deleted& d = deleted[sid];
          const auto first = static_cast<uint64_t>(pg::toInt(r, i, 3));
          const auto last = static_cast<uint64_t>(pg::toInt(r, i, 4));
          d.first_seq = d.count == 0 ? first : std::min(d.first_seq, first);
          d.last_seq = d.count == 0 ? last : std::max(d.last_seq, last);
          d.count += static_cast<uint64_t>(count);
          freed[sid] += pg::toInt(r, i, 5);
        } else {
          facts[{static_cast<int>(kind), bytes(r, i, 6), sid}] -= count;
        }
      }
    };
    auto summary = [](const std::string& deleted_rows) {
      return "WITH d AS (" + deleted_rows +
             " RETURNING e.sid, e.seq, e.bytes, e.domain, e.path, e.package, e.stop_reason) "
             "SELECT 0, sid, COUNT(*), MIN(seq), MAX(seq), SUM(bytes), NULL::bytea FROM d GROUP BY sid "
             "UNION ALL SELECT 1, sid, COUNT(*), 0, 0, 0, domain FROM d WHERE domain IS NOT NULL GROUP BY sid, domain "
             "UNION ALL SELECT 2, sid, COUNT(*), 0, 0, 0, path FROM d WHERE path IS NOT NULL GROUP BY sid, path "
             "UNION ALL SELECT 3, sid, COUNT(*), 0, 0, 0, package FROM d WHERE package IS NOT NULL GROUP BY sid, package "
             "UNION ALL SELECT 4, sid, COUNT(*), 0, 0, 0, stop_reason FROM d WHERE stop_reason IS NOT NULL "
             "GROUP BY sid, stop_reason";
    };
    // Deletable: not kept forever, and acknowledged (at or below the stream's contiguous mark), so
    // retention never opens a gap append() would wait on.
    auto aged = conn_.exec("retention",
                           summary("DELETE FROM event_rows e USING streams s WHERE s.sid = e.sid AND e.time_ms < $1 "
                                   "AND e.keep = 0 AND e.seq <= s.contiguous"),
                           {P::integer(cutoff_ms)});
    if (!aged.ok()) return aged.error();
    apply(aged->get());
    if (max_bytes > 0) {
      auto tot = conn_.exec("retention", "SELECT COALESCE(SUM(bytes), 0) FROM streams");
      if (!tot.ok()) return tot.error();
      int64_t total = pg::toInt(tot->get(), 0, 0);
      for (const auto& [sid, b] : freed) total -= b;
      while (total > static_cast<int64_t>(max_bytes)) {
        auto oldest = conn_.exec("retention",
                                 "SELECT e.sid, e.seq, e.bytes FROM event_rows e JOIN streams s ON s.sid = e.sid "
                                 "WHERE e.keep = 0 AND e.seq <= s.contiguous ORDER BY e.time_ms, e.sid, e.seq LIMIT 4096");
        if (!oldest.ok()) return oldest.error();
        const PGresult* r = oldest->get();
        if (PQntuples(r) == 0) break;  // only kept events are left
        std::vector<int64_t> sids, seqs;
        for (int i = 0; i < PQntuples(r) && total > static_cast<int64_t>(max_bytes); ++i) {
          sids.push_back(pg::toInt(r, i, 0));
          seqs.push_back(pg::toInt(r, i, 1));
          total -= pg::toInt(r, i, 2);
        }
        auto del = conn_.exec("retention",
                              summary("DELETE FROM event_rows e USING (SELECT unnest($1::bigint[]) AS sid, "
                                      "unnest($2::bigint[]) AS seq) k WHERE e.sid = k.sid AND e.seq = k.seq"),
                              {P::literalText(intArray(sids)), P::literalText(intArray(seqs))});
        if (!del.ok()) return del.error();
        apply(del->get());
      }
    }
    for (const auto& [key, count] : facts) {
      const std::vector<SqlParam> params = {P::integer(std::get<0>(key)), P::text(std::get<1>(key)),
                                            P::integer(std::get<2>(key)), P::integer(count)};
      auto up = conn_.exec("retention",
                           "UPDATE session_facts SET events = events + $4 WHERE fact = $1 AND value = $2 AND sid = $3",
                           params);
      if (!up.ok()) return up.error();
      auto gone = conn_.exec("retention",
                             "DELETE FROM session_facts WHERE fact = $1 AND value = $2 AND sid = $3 AND events <= 0",
                             {params[0], params[1], params[2]});
      if (!gone.ok()) return gone.error();
    }
    std::vector<Deleted> out;
    for (auto& [sid, d] : deleted) {
      auto up = conn_.exec("retention", "UPDATE streams SET bytes = bytes - $2 WHERE sid = $1 RETURNING session_id",
                           {P::integer(sid), P::integer(freed[sid])});
      if (!up.ok()) return up.error();
      d.session_id = PQntuples(up->get()) ? text(up->get(), 0, 0) : std::string();
      out.push_back(d);
    }
    std::sort(out.begin(), out.end(), [](const Deleted& a, const Deleted& b) { return a.session_id < b.session_id; });
    return out;
  }

  std::mutex mu_;
  pg::Connection conn_;  // Guarded by mu_.
  EventCodec codec_;     // thread-safe on its own
};

}  // namespace

Result<std::unique_ptr<EventStore>> openPostgresStore(const std::string& url) {
  if (url.rfind("postgresql://", 0) != 0 && url.rfind("postgres://", 0) != 0) {
    return invalidArgument("postgres store URL must start with postgresql:// (got '" + url.substr(0, 32) + "')");
  }
  auto store = std::make_unique<PostgresStore>(url);
  // Fail early when the server is unreachable; later calls reconnect by themselves.
  WARDEN_RETURN_IF_ERROR(store->connect());
  return std::unique_ptr<EventStore>(std::move(store));
}

}  // namespace warden::gateway
