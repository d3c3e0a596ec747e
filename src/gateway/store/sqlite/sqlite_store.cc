#include "gateway/store/sqlite/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>

#include "gateway/store/query_sql.h"
#include "gateway/store/sqlite/sqlite_db.h"

namespace warden::gateway {
namespace {

using sqlite::exec;
using sqlite::sqliteError;
using sqlite::Statement;

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
};

// A newly stored SESSION stop marks the session's record (no row: nothing to mark).
constexpr const char* kMarkSessionStopped =
    "UPDATE sessions SET state = 'stopped', stop_reason = ?2, exit_code = ?3, updated_ms = ?4 WHERE id = ?1";

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
          auto st = Statement::prepare(
              db_, "INSERT INTO warden_schema (version, applied_ms) VALUES (?1, ?2)");
          if (!st.ok()) {
            r = st.error();
          } else {
            st->bind(1, v);
            st->bind(2, std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count());
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
    // Refuse a database written by a newer gateway.
    auto st = Statement::prepare(db_, "SELECT MAX(version) FROM warden_schema");
    if (!st.ok()) return st.error();
    auto row = st->step();
    if (!row.ok()) return row.error();
    if (st->int64(0) > latest) {
      return failedPrecondition("sqlite store schema version " + std::to_string(st->int64(0)) +
                                " is newer than this gateway's " + std::to_string(latest));
    }
    return okResult();
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
    st->bind(1, s.id);
    st->bind(2, s.name);
    st->bind(3, s.token_hash);
    st->bind(4, s.public_key);
    st->bind(5, s.state);
    st->bind(6, s.stop_reason);
    st->bind(7, s.created_ms);
    st->bind(8, s.updated_ms);
    if (s.exit_code) st->bind(9, static_cast<int64_t>(*s.exit_code));
    st->bind(10, s.hostname);
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
    st->bind(1, s.id);
    st->bind(2, s.name);
    st->bind(3, s.token_hash);
    st->bind(4, s.public_key);
    st->bind(5, s.state);
    st->bind(6, s.stop_reason);
    st->bind(7, s.created_ms);
    st->bind(8, s.updated_ms);
    if (s.exit_code) st->bind(9, static_cast<int64_t>(*s.exit_code));
    st->bind(10, s.hostname);
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
    std::lock_guard lock(mu_);
    WARDEN_RETURN_IF_ERROR(exec(db_, "BEGIN IMMEDIATE", "sqlite append: begin"));
    auto r = appendLocked(batch);
    if (!r.ok()) {
      rollback();
      return r.error().withContext("sqlite append (nothing of the batch was stored)");
    }
    if (auto c = commit(); !c.ok()) return c.error().withContext("sqlite append (nothing of the batch was stored)");
    return r;
  }

  Result<uint64_t> highestContiguous(std::string_view session_id) override {
    std::lock_guard lock(mu_);
    auto st = Statement::prepare(db_, "SELECT contiguous FROM session_progress WHERE session_id = ?1");
    if (!st.ok()) return st.error();
    st->bind(1, session_id);
    auto row = st->step();
    if (!row.ok()) return row.error().withContext("sqlite highestContiguous");
    return *row ? static_cast<uint64_t>(st->int64(0)) : uint64_t{0};
  }

  Result<std::vector<StoredEvent>> query(const EventQuery& q) override {
    WARDEN_RETURN_IF_ERROR(validateQuery(q));
    const SqlFilter f = eventFilter(q, placeholder, true);
    const std::string sql = std::string("SELECT ") + kEventColumns + " FROM events WHERE " + f.where +
                            " ORDER BY session_id, sequence LIMIT " + std::to_string(q.limit);
    std::lock_guard lock(mu_);
    auto st = Statement::prepare(db_, sql);
    if (!st.ok()) return st.error().withContext("sqlite query");
    for (size_t i = 0; i < f.params.size(); ++i) st->bind(static_cast<int>(i + 1), f.params[i]);
    std::vector<StoredEvent> out;
    for (;;) {
      auto row = st->step();
      if (!row.ok()) return row.error().withContext("sqlite query");
      if (!*row) break;
      StoredEvent e;
      e.session_id = st->text(0);
      e.sequence = static_cast<uint64_t>(st->int64(1));
      e.time_ms = st->int64(2);
      e.class_uid = static_cast<int>(st->int64(3));
      e.severity_id = static_cast<int>(st->int64(4));
      e.kind = st->text(5);
      e.json = st->text(6);
      e.shorthand = st->text(7);
      e.domain = st->text(8);
      e.path = st->text(9);
      e.package = st->text(10);
      e.stop_reason = st->text(11);
      out.push_back(std::move(e));
    }
    return out;
  }

  Result<std::vector<std::string>> sessionsMatching(const EventQuery& q) override {
    EventQuery checked = q;
    checked.limit = 1;
    checked.after_sequence = 0;
    WARDEN_RETURN_IF_ERROR(validateQuery(checked));
    const SqlFilter f = eventFilter(checked, placeholder, false);
    const std::string sql = sessionsMatchingSql(checked, f);
    std::lock_guard lock(mu_);
    auto st = Statement::prepare(db_, sql);
    if (!st.ok()) return st.error().withContext("sqlite sessionsMatching");
    for (size_t i = 0; i < f.params.size(); ++i) st->bind(static_cast<int>(i + 1), f.params[i]);
    std::vector<std::string> out;
    for (;;) {
      auto row = st->step();
      if (!row.ok()) return row.error().withContext("sqlite sessionsMatching");
      if (!*row) break;
      out.push_back(st->text(0));
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
    auto st = Statement::prepare(db_, "SELECT COALESCE(SUM(bytes), 0) FROM session_progress");
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

 private:
  static std::string placeholder(size_t n) { return "?" + std::to_string(n); }

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

  struct Progress {
    uint64_t contiguous = 0;
    int64_t added_bytes = 0;
    bool touched = false;
  };

  Result<AppendResult> appendLocked(const std::vector<StoredEvent>& batch) {
    auto get = Statement::prepare(db_, "SELECT contiguous FROM session_progress WHERE session_id = ?1");
    auto ins = Statement::prepare(db_, R"sql(
INSERT INTO events (session_id, sequence, time_ms, class_uid, severity_id, kind, json, shorthand, domain,
                    path, package, stop_reason, keep, bytes)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
ON CONFLICT (session_id, sequence) DO NOTHING)sql");
    auto walk = Statement::prepare(
        db_, "SELECT sequence FROM events WHERE session_id = ?1 AND sequence > ?2 ORDER BY sequence LIMIT 512");
    auto put = Statement::prepare(db_, R"sql(
INSERT INTO session_progress (session_id, contiguous, bytes) VALUES (?1, ?2, ?3)
ON CONFLICT (session_id) DO UPDATE SET contiguous = excluded.contiguous,
  bytes = session_progress.bytes + excluded.bytes)sql");
    auto stop = Statement::prepare(db_, kMarkSessionStopped);
    for (auto* st : {&get, &ins, &walk, &put, &stop}) {
      if (!st->ok()) return st->error();
    }
    AppendResult result;
    std::map<std::string, Progress> progress;
    std::vector<std::string> order;
    std::vector<const StoredEvent*> stops;  // newly stored SESSION stops, batch order
    for (const auto& e : batch) {
      auto [it, fresh] = progress.try_emplace(e.session_id);
      if (fresh) {
        order.push_back(e.session_id);
        get->reset();
        get->bind(1, e.session_id);
        auto row = get->step();
        if (!row.ok()) return row.error();
        if (*row) it->second.contiguous = static_cast<uint64_t>(get->int64(0));
      }
      Progress& p = it->second;
      if (e.sequence <= p.contiguous) {  // stored before (and maybe since deleted by retention)
        ++result.duplicates;
        continue;
      }
      ins->reset();
      ins->bind(1, e.session_id);
      ins->bind(2, static_cast<int64_t>(e.sequence));
      ins->bind(3, e.time_ms);
      ins->bind(4, static_cast<int64_t>(e.class_uid));
      ins->bind(5, static_cast<int64_t>(e.severity_id));
      ins->bind(6, e.kind);
      ins->bind(7, e.json);
      ins->bind(8, e.shorthand);
      ins->bind(9, e.domain);
      ins->bind(10, e.path);
      ins->bind(11, e.package);
      ins->bind(12, e.stop_reason);
      ins->bind(13, static_cast<int64_t>(isRetainedForever(e) ? 1 : 0));
      ins->bind(14, static_cast<int64_t>(e.json.size()));
      auto done = ins->step();
      if (!done.ok()) return done.error();
      if (sqlite3_changes(db_) == 1) {
        ++result.inserted;
        p.added_bytes += static_cast<int64_t>(e.json.size());
        p.touched = true;
        if (e.session_stop) stops.push_back(&e);
      } else {
        ++result.duplicates;
      }
    }
    for (const auto& id : order) {
      Progress& p = progress[id];
      if (p.touched) {
        // Advance the high-water mark over what is now stored without a gap, 512 rows at a time.
        for (;;) {
          walk->reset();
          walk->bind(1, id);
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
        put->bind(1, id);
        put->bind(2, static_cast<int64_t>(p.contiguous));
        put->bind(3, p.added_bytes);
        auto done = put->step();
        if (!done.ok()) return done.error();
      }
      result.contiguous.emplace_back(id, p.contiguous);
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
    std::map<std::string, Deleted> deleted;
    std::map<std::string, int64_t> freed;
    auto note = [&](const std::string& id, uint64_t count, uint64_t first, uint64_t last, int64_t bytes) {
      Deleted& d = deleted[id];
      d.session_id = id;
      d.first_seq = d.count == 0 ? first : std::min(d.first_seq, first);
      d.last_seq = d.count == 0 ? last : std::max(d.last_seq, last);
      d.count += count;
      freed[id] += bytes;
    };
    {
      auto agg = Statement::prepare(db_, std::string("SELECT session_id, COUNT(*), MIN(sequence), MAX(sequence), "
                                                     "SUM(bytes) FROM events WHERE time_ms < ?1 AND ") +
                                             kRetentionDeletable + " GROUP BY session_id");
      if (!agg.ok()) return agg.error();
      agg->bind(1, cutoff_ms);
      for (;;) {
        auto row = agg->step();
        if (!row.ok()) return row.error();
        if (!*row) break;
        note(agg->text(0), static_cast<uint64_t>(agg->int64(1)), static_cast<uint64_t>(agg->int64(2)),
             static_cast<uint64_t>(agg->int64(3)), agg->int64(4));
      }
      auto del = Statement::prepare(db_, std::string("DELETE FROM events WHERE time_ms < ?1 AND ") + kRetentionDeletable);
      if (!del.ok()) return del.error();
      del->bind(1, cutoff_ms);
      auto done = del->step();
      if (!done.ok()) return done.error();
    }
    if (max_bytes > 0) {
      auto total_st = Statement::prepare(db_, "SELECT COALESCE(SUM(bytes), 0) FROM session_progress");
      if (!total_st.ok()) return total_st.error();
      auto row = total_st->step();
      if (!row.ok()) return row.error();
      int64_t total = total_st->int64(0);
      for (const auto& [id, bytes] : freed) total -= bytes;
      auto oldest = Statement::prepare(db_, std::string("SELECT session_id, sequence, bytes FROM events WHERE ") +
                                                kRetentionDeletable + " ORDER BY time_ms, session_id, sequence LIMIT 4096");
      auto del = Statement::prepare(db_, "DELETE FROM events WHERE session_id = ?1 AND sequence = ?2");
      if (!oldest.ok()) return oldest.error();
      if (!del.ok()) return del.error();
      while (total > static_cast<int64_t>(max_bytes)) {
        struct Row { std::string id; uint64_t seq; int64_t bytes; };
        std::vector<Row> rows;
        oldest->reset();
        for (;;) {
          auto r = oldest->step();
          if (!r.ok()) return r.error();
          if (!*r) break;
          rows.push_back({oldest->text(0), static_cast<uint64_t>(oldest->int64(1)), oldest->int64(2)});
        }
        if (rows.empty()) break;  // only kept events are left
        for (const auto& r : rows) {
          if (total <= static_cast<int64_t>(max_bytes)) break;
          del->reset();
          del->bind(1, r.id);
          del->bind(2, static_cast<int64_t>(r.seq));
          auto done = del->step();
          if (!done.ok()) return done.error();
          note(r.id, 1, r.seq, r.seq, r.bytes);
          total -= r.bytes;
        }
      }
    }
    auto sub = Statement::prepare(db_, "UPDATE session_progress SET bytes = bytes - ?2 WHERE session_id = ?1");
    if (!sub.ok()) return sub.error();
    std::vector<Deleted> out;
    for (auto& [id, d] : deleted) {
      sub->reset();
      sub->bind(1, id);
      sub->bind(2, freed[id]);
      auto done = sub->step();
      if (!done.ok()) return done.error();
      out.push_back(d);
    }
    return out;
  }

  std::mutex mu_;
  sqlite3* db_;  // Guarded by mu_; owned.
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
  // commit checkpoints): append 30 -> 20 us wall per event (BENCHMARKS.md "Gateway").
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
