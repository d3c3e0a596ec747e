#include "gateway/store/sqlite/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <set>

#include "common/clock.h"
#include "gateway/store/event_codec.h"
#include "gateway/store/query_sql.h"
#include "gateway/store/sqlite/sqlite_db.h"

namespace warden::gateway {
namespace {

using sqlite::exec;
using sqlite::sqliteError;
using sqlite::Statement;

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Versioned migrations; migrate() applies those above the stored version, each in its transaction.
constexpr const char* kMigrations[] = {
    // 1: sessions, events with the incident-query indexes, per-session progress.
    R"sql(
CREATE TABLE sessions (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, token_hash TEXT NOT NULL, public_key TEXT NOT NULL,
  state TEXT NOT NULL, stop_reason TEXT NOT NULL, created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL, exit_code INTEGER);
CREATE TABLE events (
  session_id TEXT NOT NULL, sequence INTEGER NOT NULL, time_ms INTEGER NOT NULL,
  class_uid INTEGER NOT NULL, severity_id INTEGER NOT NULL, kind TEXT NOT NULL,
  json TEXT NOT NULL, shorthand TEXT NOT NULL, domain TEXT NOT NULL, path TEXT NOT NULL,
  package TEXT NOT NULL, stop_reason TEXT NOT NULL, keep INTEGER NOT NULL, bytes INTEGER NOT NULL,
  PRIMARY KEY (session_id, sequence));
CREATE INDEX events_time ON events (time_ms);
CREATE INDEX events_session_time ON events (session_id, time_ms);
CREATE INDEX events_domain ON events (domain, session_id) WHERE domain <> '';
CREATE INDEX events_path ON events (path, session_id) WHERE path <> '';
CREATE INDEX events_package ON events (package, session_id) WHERE package <> '';
CREATE INDEX events_stop_reason ON events (stop_reason, session_id) WHERE stop_reason <> '';
CREATE TABLE session_progress (
  session_id TEXT PRIMARY KEY, contiguous INTEGER NOT NULL, bytes INTEGER NOT NULL);
)sql",
    // 2: the supervisor's hostname; runtime settings and the one-row config state (revision, policy).
    R"sql(
ALTER TABLE sessions ADD COLUMN hostname TEXT NOT NULL DEFAULT '';
CREATE TABLE settings (
  session TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (session, key));
CREATE TABLE config_state (
  id INTEGER PRIMARY KEY CHECK (id = 1), revision INTEGER NOT NULL, policy_version INTEGER NOT NULL,
  policy_hash TEXT NOT NULL);
INSERT INTO config_state (id, revision, policy_version, policy_hash) VALUES (1, 0, 0, '');
)sql",
    // 3: fewer bytes and index entries per event (docs/gateway-store.md "Schema 3"): sessions get a
    // small integer key (streams); events are keyed (sid, seq) in a WITHOUT ROWID table with two
    // integer indexes, their JSON compressed (dict > 0) from now on; the four partial fact indexes
    // become session_facts, one row per (fact, value, session). Existing events are copied as they
    // are (dict 0).
    R"sql(
CREATE TABLE streams (
  sid INTEGER PRIMARY KEY, session_id TEXT NOT NULL UNIQUE, contiguous INTEGER NOT NULL, bytes INTEGER NOT NULL);
INSERT INTO streams (session_id, contiguous, bytes)
  SELECT session_id, contiguous, bytes FROM session_progress ORDER BY session_id;
INSERT INTO streams (session_id, contiguous, bytes)
  SELECT DISTINCT session_id, 0, 0 FROM events WHERE session_id NOT IN (SELECT session_id FROM streams)
  ORDER BY session_id;
CREATE TABLE event_rows (
  sid INTEGER NOT NULL, seq INTEGER NOT NULL, time_ms INTEGER NOT NULL, class_uid INTEGER NOT NULL,
  severity_id INTEGER NOT NULL, kind TEXT NOT NULL, keep INTEGER NOT NULL, bytes INTEGER NOT NULL,
  dict INTEGER NOT NULL, body BLOB NOT NULL, shorthand TEXT, domain TEXT, path TEXT, package TEXT,
  stop_reason TEXT, PRIMARY KEY (sid, seq)) WITHOUT ROWID;
INSERT INTO event_rows
  SELECT s.sid, e.sequence, e.time_ms, e.class_uid, e.severity_id, e.kind, e.keep, e.bytes, 0,
         CAST(e.json AS BLOB), e.shorthand, NULLIF(e.domain, ''), NULLIF(e.path, ''), NULLIF(e.package, ''),
         NULLIF(e.stop_reason, '')
  FROM events e JOIN streams s ON s.session_id = e.session_id ORDER BY s.sid, e.sequence;
CREATE INDEX event_rows_sid_time ON event_rows (sid, time_ms);
CREATE INDEX event_rows_time ON event_rows (time_ms);
CREATE TABLE session_facts (
  fact INTEGER NOT NULL, value TEXT NOT NULL, sid INTEGER NOT NULL, events INTEGER NOT NULL,
  PRIMARY KEY (fact, value, sid)) WITHOUT ROWID;
INSERT INTO session_facts SELECT 1, domain, sid, COUNT(*) FROM event_rows WHERE domain IS NOT NULL GROUP BY domain, sid;
INSERT INTO session_facts SELECT 2, path, sid, COUNT(*) FROM event_rows WHERE path IS NOT NULL GROUP BY path, sid;
INSERT INTO session_facts SELECT 3, package, sid, COUNT(*) FROM event_rows WHERE package IS NOT NULL GROUP BY package, sid;
INSERT INTO session_facts
  SELECT 4, stop_reason, sid, COUNT(*) FROM event_rows WHERE stop_reason IS NOT NULL GROUP BY stop_reason, sid;
CREATE TABLE event_dicts (id INTEGER PRIMARY KEY, dict BLOB NOT NULL, created_ms INTEGER NOT NULL);
DROP TABLE events;
DROP TABLE session_progress;
)sql",
    // 4: where each of the gateway's exports is, per session (gateway/service/fleet_export.h), and
    // the fleet rules' memory (gateway/service/store_fleet_state.h).
    R"sql(
CREATE TABLE export_cursors (
  export TEXT NOT NULL, session_id TEXT NOT NULL, sequence INTEGER NOT NULL,
  PRIMARY KEY (export, session_id)) WITHOUT ROWID;
CREATE TABLE fleet_sightings (key TEXT PRIMARY KEY, first_ms INTEGER NOT NULL) WITHOUT ROWID;
)sql",
};

// A newly stored SESSION stop marks the session's record (no row: nothing to mark).
constexpr const char* kMarkSessionStopped =
    "UPDATE sessions SET state = 'stopped', stop_reason = ?2, exit_code = ?3, updated_ms = ?4 WHERE id = ?1";

// Rows of one event as read back, before the body is decoded (done outside the store's lock).
struct RawRow {
  StoredEvent e;
  int64_t dict = 0;
  std::string body;
  std::string shorthand_column;
};

class SqliteStore final : public EventStore {
 public:
  explicit SqliteStore(sqlite3* db) : db_(db) {}
  ~SqliteStore() override { sqlite3_close_v2(db_); }

  Result<void> migrate() override {
    std::lock_guard lock(mu_);
    WARDEN_RETURN_IF_ERROR(exec(db_,
                                "CREATE TABLE IF NOT EXISTS warden_schema (version INTEGER PRIMARY KEY, "
                                "applied_ms INTEGER NOT NULL)",
                                "create warden_schema"));
    const int64_t latest = static_cast<int64_t>(std::size(kMigrations));
    {
      // Refuse a database written by a newer gateway before touching it.
      auto st = Statement::prepare(db_, "SELECT COALESCE(MAX(version), 0) FROM warden_schema");
      if (!st.ok()) return st.error();
      auto row = st->step();
      if (!row.ok()) return row.error();
      if (st->int64(0) > latest) {
        return failedPrecondition("sqlite store schema version " + std::to_string(st->int64(0)) +
                                  " is newer than this gateway's " + std::to_string(latest));
      }
    }
    for (int64_t v = 1; v <= latest; ++v) {
      WARDEN_RETURN_IF_ERROR(exec(db_, "BEGIN IMMEDIATE", "begin migration"));
      auto applied = [&]() -> Result<bool> {
        auto st = Statement::prepare(db_, "SELECT 1 FROM warden_schema WHERE version = ?1");
        if (!st.ok()) return st.error();
        st->bind(1, v);
        return st->step();
      }();
      Result<void> r = okResult();
      if (!applied.ok()) {
        r = applied.error();
      } else if (!*applied) {
        r = exec(db_, kMigrations[v - 1], "migration " + std::to_string(v));
        if (r.ok()) {
          auto st = Statement::prepare(db_, "INSERT INTO warden_schema (version, applied_ms) VALUES (?1, ?2)");
          if (!st.ok()) {
            r = st.error();
          } else {
            st->bind(1, v);
            st->bind(2, nowMs());
            auto s = st->step();
            if (!s.ok()) r = s.error();
          }
        }
      }
      if (!r.ok()) {
        rollback();
        return r.error().withContext("sqlite migrate");
      }
      WARDEN_RETURN_IF_ERROR(commit());
    }
    return loadDictionariesLocked();
  }

  Result<void> upsertSession(const SessionRecord& s) override {
    if (!isValidSessionId(s.id)) return invalidArgument("session id '" + s.id.substr(0, 64) + "' is not 1..128 bytes of [A-Za-z0-9._:-]");
    std::lock_guard lock(mu_);
    auto st = Statement::prepare(db_, R"sql(
INSERT INTO sessions (id, name, token_hash, public_key, state, stop_reason, created_ms, updated_ms, exit_code,
                      hostname)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
ON CONFLICT (id) DO UPDATE SET name = excluded.name, token_hash = excluded.token_hash,
  public_key = excluded.public_key, state = excluded.state, stop_reason = excluded.stop_reason,
  updated_ms = excluded.updated_ms, exit_code = excluded.exit_code, hostname = excluded.hostname)sql");
    if (!st.ok()) return st.error().withContext("upsert session");
    bindSession(*st, s);
    auto r = st->step();
    if (!r.ok()) return r.error().withContext("upsert session " + s.id);
    return okResult();
  }

  Result<bool> createSession(const SessionRecord& s) override {
    if (!isValidSessionId(s.id)) return invalidArgument("session id '" + s.id.substr(0, 64) + "' is not 1..128 bytes of [A-Za-z0-9._:-]");
    std::lock_guard lock(mu_);
    auto st = Statement::prepare(db_, R"sql(
INSERT INTO sessions (id, name, token_hash, public_key, state, stop_reason, created_ms, updated_ms, exit_code,
                      hostname)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
ON CONFLICT (id) DO NOTHING)sql");
    if (!st.ok()) return st.error().withContext("create session");
    bindSession(*st, s);
    auto r = st->step();
    if (!r.ok()) return r.error().withContext("create session " + s.id);
    return sqlite3_changes(db_) == 1;
  }

  Result<std::optional<SessionRecord>> session(std::string_view id) override {
    std::lock_guard lock(mu_);
    auto all = readSessions(id);
    if (!all.ok()) return all.error();
    if (all->empty()) return std::optional<SessionRecord>();
    return std::optional<SessionRecord>(std::move(all->front()));
  }

  Result<std::vector<SessionRecord>> sessions() override {
    std::lock_guard lock(mu_);
    return readSessions(std::nullopt);
  }

  Result<AppendResult> append(const std::vector<StoredEvent>& batch) override {
    for (const auto& e : batch) WARDEN_RETURN_IF_ERROR(validateEvent(e));
    codec_.learnFrom(batch, [this](const std::string& dict) { return saveDictionary(dict); });
    // Compressed here, on the caller's thread, while another batch may hold the connection.
    std::vector<EventCodec::Encoded> encoded;
    encoded.reserve(batch.size());
    for (const auto& e : batch) encoded.push_back(codec_.encode(e.json, e.shorthand));
    std::lock_guard lock(mu_);
    WARDEN_RETURN_IF_ERROR(exec(db_, "BEGIN IMMEDIATE", "sqlite append: begin"));
    auto r = appendLocked(batch, encoded);
    if (!r.ok()) {
      rollback();
      return r.error().withContext("sqlite append (nothing of the batch was stored)");
    }
    if (auto c = commit(); !c.ok()) return c.error().withContext("sqlite append (nothing of the batch was stored)");
    return r;
  }

  Result<uint64_t> highestContiguous(std::string_view session_id) override {
    std::lock_guard lock(mu_);
    auto st = Statement::prepare(db_, "SELECT contiguous FROM streams WHERE session_id = ?1");
    if (!st.ok()) return st.error();
    st->bind(1, session_id);
    auto row = st->step();
    if (!row.ok()) return row.error().withContext("sqlite highestContiguous");
    return *row ? static_cast<uint64_t>(st->int64(0)) : uint64_t{0};
  }

  Result<std::vector<StoredEvent>> query(const EventQuery& q) override {
    WARDEN_RETURN_IF_ERROR(validateQuery(q));
    std::vector<RawRow> rows;
    {
      std::lock_guard lock(mu_);
      auto streams = streamsFor(q.session);
      if (!streams.ok()) return streams.error().withContext("sqlite query");
      const SqlFilter f = rowFilter(q, placeholder, 3);
      auto st = Statement::prepare(db_, std::string("SELECT ") + kRowColumns +
                                            " FROM event_rows WHERE sid = ?1 AND seq > ?2" + f.where +
                                            " ORDER BY seq LIMIT " + std::to_string(q.limit));
      if (!st.ok()) return st.error().withContext("sqlite query");
      for (const auto& [sid, id] : *streams) {
        if (rows.size() >= q.limit) break;
        st->reset();
        st->bind(1, sid);
        st->bind(2, static_cast<int64_t>(q.after_sequence));
        for (size_t i = 0; i < f.params.size(); ++i) st->bind(static_cast<int>(i + 3), f.params[i]);
        while (rows.size() < q.limit) {
          auto row = st->step();
          if (!row.ok()) return row.error().withContext("sqlite query");
          if (!*row) break;
          rows.push_back(readRow(*st, id));
        }
      }
    }
    return decodeRows(std::move(rows));
  }

  Result<std::vector<std::string>> sessionsMatching(const EventQuery& q) override {
    EventQuery checked = q;
    checked.limit = 1;
    checked.after_sequence = 0;
    WARDEN_RETURN_IF_ERROR(validateQuery(checked));
    const auto facts = factFilters(checked);
    std::lock_guard lock(mu_);
    // Candidates: the sessions with every fact asked for (session_facts), else every session.
    std::vector<std::pair<int64_t, std::string>> candidates;
    if (!facts.empty()) {
      std::string sql = "SELECT s.sid, s.session_id FROM streams s";
      for (size_t i = 0; i < facts.size(); ++i) {
        const std::string a = "f" + std::to_string(i);
        sql += " JOIN session_facts " + a + " ON " + a + ".sid = s.sid AND " + a + ".fact = ?" +
               std::to_string(2 * i + 1) + " AND " + a + ".value = ?" + std::to_string(2 * i + 2) + " AND " + a +
               ".events > 0";
      }
      if (checked.session) sql += " WHERE s.session_id = ?" + std::to_string(2 * facts.size() + 1);
      auto st = Statement::prepare(db_, sql + " ORDER BY s.session_id");
      if (!st.ok()) return st.error().withContext("sqlite sessionsMatching");
      for (size_t i = 0; i < facts.size(); ++i) {
        st->bind(static_cast<int>(2 * i + 1), static_cast<int64_t>(facts[i].first));
        st->bind(static_cast<int>(2 * i + 2), std::string_view(facts[i].second));
      }
      if (checked.session) st->bind(static_cast<int>(2 * facts.size() + 1), std::string_view(*checked.session));
      for (;;) {
        auto row = st->step();
        if (!row.ok()) return row.error().withContext("sqlite sessionsMatching");
        if (!*row) break;
        candidates.emplace_back(st->int64(0), st->text(1));
      }
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
    auto st = Statement::prepare(db_, "SELECT 1 FROM event_rows WHERE sid = ?1" + f.where + " LIMIT 1");
    if (!st.ok()) return st.error().withContext("sqlite sessionsMatching");
    for (auto& [sid, id] : candidates) {
      st->reset();
      st->bind(1, sid);
      for (size_t i = 0; i < f.params.size(); ++i) st->bind(static_cast<int>(i + 2), f.params[i]);
      auto row = st->step();
      if (!row.ok()) return row.error().withContext("sqlite sessionsMatching");
      if (*row) out.push_back(std::move(id));
    }
    return out;
  }

  Result<std::vector<Deleted>> deleteExpired(int64_t cutoff_ms, uint64_t max_bytes) override {
    std::lock_guard lock(mu_);
    WARDEN_RETURN_IF_ERROR(exec(db_, "BEGIN IMMEDIATE", "sqlite retention: begin"));
    auto r = deleteLocked(cutoff_ms, max_bytes);
    if (!r.ok()) {
      rollback();
      return r.error().withContext("sqlite retention (nothing deleted)");
    }
    if (auto c = commit(); !c.ok()) return c.error().withContext("sqlite retention (nothing deleted)");
    return r;
  }

  Result<uint64_t> storedBytes() override {
    std::lock_guard lock(mu_);
    auto st = Statement::prepare(db_, "SELECT COALESCE(SUM(bytes), 0) FROM streams");
    if (!st.ok()) return st.error();
    auto row = st->step();
    if (!row.ok()) return row.error().withContext("sqlite storedBytes");
    return static_cast<uint64_t>(st->int64(0));
  }

  Result<void> saveSetting(std::string_view session, std::string_view key, const std::optional<std::string>& value,
                           uint64_t revision) override {
    WARDEN_RETURN_IF_ERROR(validateSettingWrite(session, key, value, revision));
    std::lock_guard lock(mu_);
    return writeTransaction("sqlite saveSetting", [&]() -> Result<void> {
      auto st = Statement::prepare(db_, value ? "INSERT INTO settings (session, key, value) VALUES (?1, ?2, ?3) "
                                                "ON CONFLICT (session, key) DO UPDATE SET value = excluded.value"
                                              : "DELETE FROM settings WHERE session = ?1 AND key = ?2");
      if (!st.ok()) return st.error();
      st->bind(1, session);
      st->bind(2, key);
      if (value) st->bind(3, std::string_view(*value));
      auto done = st->step();
      if (!done.ok()) return done.error();
      return raiseRevisionLocked(revision);
    });
  }

  Result<void> saveRevision(uint64_t revision) override {
    if (revision > static_cast<uint64_t>(INT64_MAX)) return invalidArgument("config revision is out of range");
    std::lock_guard lock(mu_);
    return writeTransaction("sqlite saveRevision", [&]() { return raiseRevisionLocked(revision); });
  }

  Result<void> savePolicyState(uint64_t policy_version, std::string_view policy_hash) override {
    if (policy_version > static_cast<uint64_t>(INT64_MAX)) return invalidArgument("policy version is out of range");
    std::lock_guard lock(mu_);
    return writeTransaction("sqlite savePolicyState", [&]() -> Result<void> {
      auto st = Statement::prepare(db_, "UPDATE config_state SET policy_version = ?1, policy_hash = ?2 WHERE id = 1");
      if (!st.ok()) return st.error();
      st->bind(1, static_cast<int64_t>(policy_version));
      st->bind(2, policy_hash);
      auto done = st->step();
      if (!done.ok()) return done.error();
      return okResult();
    });
  }

  Result<PersistedSettings> loadSettings() override {
    std::lock_guard lock(mu_);
    PersistedSettings out;
    auto r = writeTransaction("sqlite loadSettings", [&]() -> Result<void> {
      auto st = Statement::prepare(db_, "SELECT session, key, value FROM settings ORDER BY session, key");
      if (!st.ok()) return st.error();
      for (;;) {
        auto row = st->step();
        if (!row.ok()) return row.error();
        if (!*row) break;
        out.values.push_back({st->text(0), st->text(1), st->text(2)});
      }
      auto cs = Statement::prepare(db_, "SELECT revision, policy_version, policy_hash FROM config_state WHERE id = 1");
      if (!cs.ok()) return cs.error();
      auto row = cs->step();
      if (!row.ok()) return row.error();
      if (!*row) return failedPrecondition("config_state has no row (run migrate() first)");
      out.revision = static_cast<uint64_t>(cs->int64(0));
      out.policy_version = static_cast<uint64_t>(cs->int64(1));
      out.policy_hash = cs->text(2);
      return okResult();
    });
    if (!r.ok()) return r.error();
    return out;
  }

  Result<void> saveExportCursors(std::string_view export_name,
                                 const std::vector<std::pair<std::string, uint64_t>>& cursors) override {
    WARDEN_RETURN_IF_ERROR(validateExportCursors(export_name, cursors));
    std::lock_guard lock(mu_);
    return writeTransaction("sqlite saveExportCursors", [&]() -> Result<void> {
      auto st = Statement::prepare(db_, "INSERT INTO export_cursors (export, session_id, sequence) VALUES (?1, ?2, ?3) "
                                        "ON CONFLICT (export, session_id) DO UPDATE SET sequence = "
                                        "MAX(sequence, excluded.sequence)");
      if (!st.ok()) return st.error();
      for (const auto& [session, sequence] : cursors) {
        st->reset();
        st->bind(1, export_name);
        st->bind(2, std::string_view(session));
        st->bind(3, static_cast<int64_t>(sequence));
        auto done = st->step();
        if (!done.ok()) return done.error();
      }
      return okResult();
    });
  }

  Result<bool> recordFleetSighting(std::string_view key) override {
    if (!isValidSightingKey(key)) return invalidArgument("a fleet sighting key is 64 lower-case hex digits");
    std::lock_guard lock(mu_);
    bool inserted = false;
    auto r = writeTransaction("sqlite recordFleetSighting", [&]() -> Result<void> {
      auto st = Statement::prepare(db_, "INSERT INTO fleet_sightings (key, first_ms) VALUES (?1, ?2) ON CONFLICT DO NOTHING");
      if (!st.ok()) return st.error();
      st->bind(1, key);
      st->bind(2, SystemClock::instance().nowMillis());
      auto done = st->step();
      if (!done.ok()) return done.error();
      inserted = sqlite3_changes(db_) == 1;
      return okResult();
    });
    if (!r.ok()) return r.error();
    return inserted;
  }

  Result<std::vector<std::pair<std::string, uint64_t>>> loadExportCursors(std::string_view export_name) override {
    std::lock_guard lock(mu_);
    std::vector<std::pair<std::string, uint64_t>> out;
    auto r = writeTransaction("sqlite loadExportCursors", [&]() -> Result<void> {
      auto st = Statement::prepare(db_, "SELECT session_id, sequence FROM export_cursors WHERE export = ?1 ORDER BY session_id");
      if (!st.ok()) return st.error();
      st->bind(1, export_name);
      for (;;) {
        auto row = st->step();
        if (!row.ok()) return row.error();
        if (!*row) break;
        out.emplace_back(st->text(0), static_cast<uint64_t>(st->int64(1)));
      }
      return okResult();
    });
    if (!r.ok()) return r.error();
    return out;
  }

 private:
  static std::string placeholder(size_t n) { return "?" + std::to_string(n); }

  static void bindSession(Statement& st, const SessionRecord& s) {
    st.bind(1, s.id);
    st.bind(2, s.name);
    st.bind(3, s.token_hash);
    st.bind(4, s.public_key);
    st.bind(5, s.state);
    st.bind(6, s.stop_reason);
    st.bind(7, s.created_ms);
    st.bind(8, s.updated_ms);
    if (s.exit_code) st.bind(9, static_cast<int64_t>(*s.exit_code));
    st.bind(10, s.hostname);
  }

  // BEGIN IMMEDIATE, body, COMMIT (ROLLBACK when the body fails). Called with mu_ held.
  template <typename F>
  Result<void> writeTransaction(std::string_view what, F&& body) {
    WARDEN_RETURN_IF_ERROR(exec(db_, "BEGIN IMMEDIATE", std::string(what) + ": begin"));
    Result<void> r = body();
    if (!r.ok()) {
      rollback();
      return r.error().withContext(std::string(what) + " (nothing was changed)");
    }
    if (auto c = commit(); !c.ok()) return c.error().withContext(std::string(what) + " (nothing was changed)");
    return okResult();
  }

  Result<void> raiseRevisionLocked(uint64_t revision) {
    auto st = Statement::prepare(db_, "UPDATE config_state SET revision = MAX(revision, ?1) WHERE id = 1");
    if (!st.ok()) return st.error();
    st->bind(1, static_cast<int64_t>(revision));
    auto done = st->step();
    if (!done.ok()) return done.error();
    return okResult();
  }

  void rollback() { (void)exec(db_, "ROLLBACK", "rollback"); }
  Result<void> commit() {
    auto r = exec(db_, "COMMIT", "sqlite commit");
    if (!r.ok()) rollback();
    return r;
  }

  // Installs every persisted dictionary (the newest is the one new events use).
  Result<void> loadDictionariesLocked() {
    auto st = Statement::prepare(db_, "SELECT id, dict FROM event_dicts ORDER BY id");
    if (!st.ok()) return st.error().withContext("sqlite event dictionaries");
    for (;;) {
      auto row = st->step();
      if (!row.ok()) return row.error().withContext("sqlite event dictionaries");
      if (!*row) break;
      if (codec_.hasDictionary(st->int64(0))) continue;
      WARDEN_RETURN_IF_ERROR(codec_.addDictionary(st->int64(0), st->text(1), true));
    }
    return okResult();
  }

  // A newly trained dictionary, saved in its own transaction; its id.
  Result<int64_t> saveDictionary(const std::string& dict) {
    std::lock_guard lock(mu_);
    int64_t id = 0;
    auto r = writeTransaction("sqlite event dictionary", [&]() -> Result<void> {
      auto st = Statement::prepare(db_, "INSERT INTO event_dicts (dict, created_ms) VALUES (?1, ?2)");
      if (!st.ok()) return st.error();
      st->bindBlobStatic(1, dict);
      st->bind(2, nowMs());
      auto done = st->step();
      if (!done.ok()) return done.error();
      id = sqlite3_last_insert_rowid(db_);
      return okResult();
    });
    if (!r.ok()) return r.error();
    return id;
  }

  Result<std::vector<SessionRecord>> readSessions(std::optional<std::string_view> id) {
    auto st = Statement::prepare(
        db_, std::string("SELECT id, name, token_hash, public_key, state, stop_reason, created_ms, updated_ms, "
                         "exit_code, hostname FROM sessions") +
                 (id ? " WHERE id = ?1" : "") + " ORDER BY id");
    if (!st.ok()) return st.error().withContext("sqlite sessions");
    if (id) st->bind(1, *id);
    std::vector<SessionRecord> out;
    for (;;) {
      auto row = st->step();
      if (!row.ok()) return row.error().withContext("sqlite sessions");
      if (!*row) break;
      SessionRecord s;
      s.id = st->text(0);
      s.name = st->text(1);
      s.token_hash = st->text(2);
      s.public_key = st->text(3);
      s.state = st->text(4);
      s.stop_reason = st->text(5);
      s.created_ms = st->int64(6);
      s.updated_ms = st->int64(7);
      if (!st->isNull(8)) s.exit_code = static_cast<int>(st->int64(8));
      s.hostname = st->text(9);
      out.push_back(std::move(s));
    }
    return out;
  }

  // (sid, session id) of `session`, or of every session in id order; empty for an unknown one.
  Result<std::vector<std::pair<int64_t, std::string>>> streamsFor(const std::optional<std::string>& session) {
    auto st = Statement::prepare(db_, session ? "SELECT sid, session_id FROM streams WHERE session_id = ?1"
                                              : "SELECT sid, session_id FROM streams ORDER BY session_id");
    if (!st.ok()) return st.error();
    if (session) st->bind(1, std::string_view(*session));
    std::vector<std::pair<int64_t, std::string>> out;
    for (;;) {
      auto row = st->step();
      if (!row.ok()) return row.error();
      if (!*row) break;
      out.emplace_back(st->int64(0), st->text(1));
    }
    return out;
  }

  static RawRow readRow(const Statement& st, const std::string& session_id) {
    RawRow r;
    r.e.session_id = session_id;
    r.e.sequence = static_cast<uint64_t>(st.int64(0));
    r.e.time_ms = st.int64(1);
    r.e.class_uid = static_cast<int>(st.int64(2));
    r.e.severity_id = static_cast<int>(st.int64(3));
    r.e.kind = st.text(4);
    r.dict = st.int64(5);
    r.body = st.text(6);
    r.shorthand_column = st.text(7);
    r.e.domain = st.text(8);
    r.e.path = st.text(9);
    r.e.package = st.text(10);
    r.e.stop_reason = st.text(11);
    return r;
  }

  Result<std::vector<StoredEvent>> decodeRows(std::vector<RawRow> rows) {
    std::vector<StoredEvent> out;
    out.reserve(rows.size());
    for (auto& r : rows) {
      if (r.dict != 0 && !codec_.hasDictionary(r.dict)) {
        std::lock_guard lock(mu_);  // a dictionary another gateway process trained
        WARDEN_RETURN_IF_ERROR(loadDictionariesLocked());
      }
      WARDEN_RETURN_IF_ERROR(codec_.decode(r.dict, r.body, r.shorthand_column, &r.e.json, &r.e.shorthand));
      out.push_back(std::move(r.e));
    }
    return out;
  }

  struct Progress {
    int64_t sid = 0;
    uint64_t contiguous = 0;
    int64_t added_bytes = 0;
    std::vector<uint64_t> inserted;  // this batch's new sequences above `contiguous`
  };

  // The stream (sid, contiguous) of `session_id`, created when it has none.
  Result<void> openStream(const std::string& session_id, Statement& create, Statement& get, Progress* p) {
    create.reset();
    create.bind(1, std::string_view(session_id));
    if (auto done = create.step(); !done.ok()) return done.error();
    get.reset();
    get.bind(1, std::string_view(session_id));
    auto row = get.step();
    if (!row.ok()) return row.error();
    if (!*row) return internalError("stream of session " + session_id + " vanished");
    p->sid = get.int64(0);
    p->contiguous = static_cast<uint64_t>(get.int64(1));
    return okResult();
  }

  Result<AppendResult> appendLocked(const std::vector<StoredEvent>& batch,
                                    const std::vector<EventCodec::Encoded>& encoded) {
    auto create = Statement::prepare(
        db_, "INSERT INTO streams (session_id, contiguous, bytes) VALUES (?1, 0, 0) ON CONFLICT DO NOTHING");
    auto get = Statement::prepare(db_, "SELECT sid, contiguous FROM streams WHERE session_id = ?1");
    auto ins = Statement::prepare(db_, R"sql(
INSERT INTO event_rows (sid, seq, time_ms, class_uid, severity_id, kind, keep, bytes, dict, body, shorthand, domain,
                        path, package, stop_reason)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
ON CONFLICT DO NOTHING)sql");
    auto walk = Statement::prepare(db_, "SELECT seq FROM event_rows WHERE sid = ?1 AND seq > ?2 ORDER BY seq LIMIT 512");
    auto put = Statement::prepare(db_, "UPDATE streams SET contiguous = ?2, bytes = bytes + ?3 WHERE sid = ?1");
    auto fact = Statement::prepare(db_, "INSERT INTO session_facts (fact, value, sid, events) VALUES (?1, ?2, ?3, ?4) "
                                        "ON CONFLICT DO UPDATE SET events = events + excluded.events");
    auto stop = Statement::prepare(db_, kMarkSessionStopped);
    for (auto* st : {&create, &get, &ins, &walk, &put, &fact, &stop}) {
      if (!st->ok()) return st->error();
    }
    AppendResult result;
    std::map<std::string, Progress> progress;
    std::vector<std::string> order;
    std::vector<const StoredEvent*> stops;  // newly stored SESSION stops, batch order
    FactCounts facts;
    for (size_t i = 0; i < batch.size(); ++i) {
      const StoredEvent& e = batch[i];
      auto [it, fresh] = progress.try_emplace(e.session_id);
      if (fresh) {
        order.push_back(e.session_id);
        WARDEN_RETURN_IF_ERROR(openStream(e.session_id, *create, *get, &it->second));
      }
      Progress& p = it->second;
      if (e.sequence <= p.contiguous) {  // stored before (and maybe since deleted by retention)
        ++result.duplicates;
        continue;
      }
      const EventCodec::Encoded& enc = encoded[i];
      ins->reset();
      ins->bind(1, p.sid);
      ins->bind(2, static_cast<int64_t>(e.sequence));
      ins->bind(3, e.time_ms);
      ins->bind(4, static_cast<int64_t>(e.class_uid));
      ins->bind(5, static_cast<int64_t>(e.severity_id));
      ins->bindTextStatic(6, e.kind);
      ins->bind(7, static_cast<int64_t>(isRetainedForever(e) ? 1 : 0));
      ins->bind(8, static_cast<int64_t>(e.json.size()));
      ins->bind(9, enc.dict);
      ins->bindBlobStatic(10, enc.body);
      if (!enc.shorthand_inside) ins->bindTextStatic(11, e.shorthand);
      ins->bindTextOrNull(12, e.domain);
      ins->bindTextOrNull(13, e.path);
      ins->bindTextOrNull(14, e.package);
      ins->bindTextOrNull(15, e.stop_reason);
      auto done = ins->step();
      if (!done.ok()) return done.error();
      if (sqlite3_changes(db_) == 1) {
        ++result.inserted;
        p.added_bytes += static_cast<int64_t>(e.json.size());
        p.inserted.push_back(e.sequence);
        countFacts(facts, p.sid, e.domain, e.path, e.package, e.stop_reason, 1);
        if (e.session_stop) stops.push_back(&e);
      } else {
        ++result.duplicates;
      }
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
          walk->reset();
          walk->bind(1, p.sid);
          walk->bind(2, static_cast<int64_t>(p.contiguous));
          int rows = 0;
          bool gap = false;
          for (;;) {
            auto row = walk->step();
            if (!row.ok()) return row.error();
            if (!*row) break;
            ++rows;
            if (static_cast<uint64_t>(walk->int64(0)) != p.contiguous + 1) {
              gap = true;
              break;
            }
            ++p.contiguous;
          }
          if (gap || rows < 512) break;
        }
        put->reset();
        put->bind(1, p.sid);
        put->bind(2, static_cast<int64_t>(p.contiguous));
        put->bind(3, p.added_bytes);
        auto done = put->step();
        if (!done.ok()) return done.error();
      }
      result.contiguous.emplace_back(id, p.contiguous);
    }
    for (const auto& [key, count] : facts) {
      fact->reset();
      fact->bind(1, static_cast<int64_t>(std::get<0>(key)));
      fact->bindTextStatic(2, std::get<1>(key));
      fact->bind(3, std::get<2>(key));
      fact->bind(4, count);
      auto done = fact->step();
      if (!done.ok()) return done.error();
    }
    for (const StoredEvent* e : stops) {
      stop->reset();
      stop->bind(1, e->session_id);
      stop->bind(2, stopReasonForRecord(e->stop_reason));
      if (e->exit_code) stop->bind(3, static_cast<int64_t>(*e->exit_code));
      stop->bind(4, e->time_ms);
      auto done = stop->step();
      if (!done.ok()) return done.error();
    }
    if (!result.contiguous.empty()) result.highest_contiguous = result.contiguous.front().second;
    return result;
  }

  Result<std::vector<Deleted>> deleteLocked(int64_t cutoff_ms, uint64_t max_bytes) {
    std::map<int64_t, Deleted> deleted;
    std::map<int64_t, int64_t> freed;
    FactCounts facts;
    auto note = [&](const Statement& st) {  // sid, seq, bytes, domain, path, package, stop_reason
      const int64_t sid = st.int64(0);
      const uint64_t seq = static_cast<uint64_t>(st.int64(1));
      Deleted& d = deleted[sid];
      d.first_seq = d.count == 0 ? seq : std::min(d.first_seq, seq);
      d.last_seq = d.count == 0 ? seq : std::max(d.last_seq, seq);
      ++d.count;
      freed[sid] += st.int64(2);
      countFacts(facts, sid, st.view(3), st.view(4), st.view(5), st.view(6), -1);
    };
    // Deletable: not kept forever, and acknowledged (at or below the stream's contiguous mark), so
    // retention never opens a gap append() would wait on.
    constexpr const char* kDeletable =
        "keep = 0 AND seq <= (SELECT s.contiguous FROM streams s WHERE s.sid = event_rows.sid)";
    {
      auto del = Statement::prepare(db_, std::string("DELETE FROM event_rows WHERE time_ms < ?1 AND ") + kDeletable +
                                             " RETURNING sid, seq, bytes, domain, path, package, stop_reason");
      if (!del.ok()) return del.error();
      del->bind(1, cutoff_ms);
      for (;;) {
        auto row = del->step();
        if (!row.ok()) return row.error();
        if (!*row) break;
        note(*del);
      }
    }
    if (max_bytes > 0) {
      auto total_st = Statement::prepare(db_, "SELECT COALESCE(SUM(bytes), 0) FROM streams");
      if (!total_st.ok()) return total_st.error();
      auto row = total_st->step();
      if (!row.ok()) return row.error();
      int64_t total = total_st->int64(0);
      for (const auto& [sid, bytes] : freed) total -= bytes;
      auto oldest = Statement::prepare(db_, std::string("SELECT sid, seq FROM event_rows WHERE ") + kDeletable +
                                                " ORDER BY time_ms, sid, seq LIMIT 4096");
      auto del = Statement::prepare(db_, "DELETE FROM event_rows WHERE sid = ?1 AND seq = ?2 "
                                         "RETURNING sid, seq, bytes, domain, path, package, stop_reason");
      if (!oldest.ok()) return oldest.error();
      if (!del.ok()) return del.error();
      while (total > static_cast<int64_t>(max_bytes)) {
        std::vector<std::pair<int64_t, int64_t>> keys;
        oldest->reset();
        for (;;) {
          auto r = oldest->step();
          if (!r.ok()) return r.error();
          if (!*r) break;
          keys.emplace_back(oldest->int64(0), oldest->int64(1));
        }
        if (keys.empty()) break;  // only kept events are left
        for (const auto& [sid, seq] : keys) {
          if (total <= static_cast<int64_t>(max_bytes)) break;
          del->reset();
          del->bind(1, sid);
          del->bind(2, seq);
          auto r = del->step();
          if (!r.ok()) return r.error();
          if (!*r) continue;
          note(*del);
          total -= del->int64(2);
          while (true) {  // finish the statement
            auto more = del->step();
            if (!more.ok()) return more.error();
            if (!*more) break;
          }
        }
      }
    }
    auto sub = Statement::prepare(db_, "UPDATE streams SET bytes = bytes - ?2 WHERE sid = ?1");
    auto fact = Statement::prepare(db_, "UPDATE session_facts SET events = events + ?4 WHERE fact = ?1 AND value = ?2 AND sid = ?3");
    auto gone = Statement::prepare(db_, "DELETE FROM session_facts WHERE fact = ?1 AND value = ?2 AND sid = ?3 AND events <= 0");
    auto name = Statement::prepare(db_, "SELECT session_id FROM streams WHERE sid = ?1");
    for (auto* st : {&sub, &fact, &gone, &name}) {
      if (!st->ok()) return st->error();
    }
    for (const auto& [key, count] : facts) {
      for (auto* st : {&fact, &gone}) {
        (*st)->reset();
        (*st)->bind(1, static_cast<int64_t>(std::get<0>(key)));
        (*st)->bindTextStatic(2, std::get<1>(key));
        (*st)->bind(3, std::get<2>(key));
        if (st == &fact) (*st)->bind(4, count);
        auto done = (*st)->step();
        if (!done.ok()) return done.error();
      }
    }
    std::vector<Deleted> out;
    for (auto& [sid, d] : deleted) {
      sub->reset();
      sub->bind(1, sid);
      sub->bind(2, freed[sid]);
      auto done = sub->step();
      if (!done.ok()) return done.error();
      name->reset();
      name->bind(1, sid);
      auto row = name->step();
      if (!row.ok()) return row.error();
      d.session_id = *row ? name->text(0) : std::string();
      out.push_back(d);
    }
    std::sort(out.begin(), out.end(), [](const Deleted& a, const Deleted& b) { return a.session_id < b.session_id; });
    return out;
  }

  std::mutex mu_;
  sqlite3* db_;  // Guarded by mu_; owned.
  EventCodec codec_;  // thread-safe on its own
};

}  // namespace

Result<std::unique_ptr<EventStore>> openSqliteStore(const std::filesystem::path& file, const SqliteOptions& options) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 nullptr);
  if (rc != SQLITE_OK) {
    Error e = sqliteError(db, rc, "open sqlite store " + file.string());
    sqlite3_close_v2(db);
    return e;
  }
  auto store = std::make_unique<SqliteStore>(db);
  sqlite3_busy_timeout(db, static_cast<int>(options.busy_timeout.count()));
  sqlite3_extended_result_codes(db, 0);
  // Larger pages for a new file (an existing one keeps its page size until VACUUM), a 256 MiB page
  // cache (the default 2 MiB is smaller than one batch's transaction, which then spills into the WAL
  // and is read back) and a WAL checkpoint every 10,000 pages instead of 1,000 (else nearly every
  // commit checkpoints): BENCHMARKS.md "Gateway".
  WARDEN_RETURN_IF_ERROR(exec(db, "PRAGMA page_size = 16384", "open sqlite store: page_size"));
  WARDEN_RETURN_IF_ERROR(exec(db, "PRAGMA cache_size = -262144", "open sqlite store: cache_size"));
  // journal_mode returns the mode in effect; anything but "wal" (e.g. a read-only directory) is refused.
  {
    auto st = Statement::prepare(db, "PRAGMA journal_mode = WAL");
    if (!st.ok()) return st.error().withContext("open sqlite store " + file.string());
    auto row = st->step();
    if (!row.ok()) return row.error().withContext("open sqlite store " + file.string());
    if (!*row || st->text(0) != "wal") {
      return failedPrecondition("open sqlite store " + file.string() + ": cannot switch to WAL journal mode");
    }
  }
  WARDEN_RETURN_IF_ERROR(exec(db, "PRAGMA synchronous = FULL", "open sqlite store: synchronous"));
  WARDEN_RETURN_IF_ERROR(exec(db, "PRAGMA wal_autocheckpoint = 10000", "open sqlite store: wal_autocheckpoint"));
  return std::unique_ptr<EventStore>(std::move(store));
}

Result<std::unique_ptr<EventStore>> openSqliteStore(const std::filesystem::path& file) {
  return openSqliteStore(file, SqliteOptions{});
}

}  // namespace warden::gateway
