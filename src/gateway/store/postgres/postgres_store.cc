#include "gateway/store/postgres/postgres_store.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <set>

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
};

constexpr size_t kRowsPerInsert = 1000;  // 14 parameters each, under libpq's 65535

std::string placeholder(size_t n) { return "$" + std::to_string(n); }

std::string bytes(const PGresult* r, int row, int col) {
  return pg::decodeBytea(PQgetvalue(r, row, col), PQgetlength(r, row, col));
}
std::string text(const PGresult* r, int row, int col) {
  return std::string(PQgetvalue(r, row, col), static_cast<size_t>(PQgetlength(r, row, col)));
}

// Session ids are [A-Za-z0-9._:-] (validated), so double quotes make a safe array element.
std::string textArray(const std::vector<std::string>& v) {
  std::string out = "{";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ",\"" : "\"") + v[i] + "\"";
  return out + "}";
}
std::string intArray(const std::vector<uint64_t>& v) {
  std::string out = "{";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + std::to_string(v[i]);
  return out + "}";
}

class PostgresStore final : public EventStore {
 public:
  explicit PostgresStore(std::string url) : conn_(std::move(url)) {}

  Result<void> migrate() override {
    std::lock_guard lock(mu_);
    return transaction("migrate", [&]() -> Result<void> {
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
    std::lock_guard lock(mu_);
    AppendResult result;
    auto r = transaction("append", [&]() -> Result<void> {
      auto a = appendLocked(batch);
      if (!a.ok()) return a.error();
      result = std::move(*a);
      return okResult();
    });
    if (!r.ok()) return r.error().withContext("postgres append (nothing of the batch was stored)");
    return result;
  }

  Result<uint64_t> highestContiguous(std::string_view session_id) override {
    std::lock_guard lock(mu_);
    auto r = conn_.exec("highestContiguous", "SELECT contiguous FROM session_progress WHERE session_id = $1",
                        {P::text(std::string(session_id))});
    if (!r.ok()) return r.error();
    return PQntuples(r->get()) ? static_cast<uint64_t>(pg::toInt(r->get(), 0, 0)) : uint64_t{0};
  }

  Result<std::vector<StoredEvent>> query(const EventQuery& q) override {
    WARDEN_RETURN_IF_ERROR(validateQuery(q));
    const SqlFilter f = eventFilter(q, placeholder, true);
    const std::string sql = std::string("SELECT ") + kEventColumns + " FROM events WHERE " + f.where +
                            " ORDER BY session_id, sequence LIMIT " + std::to_string(q.limit);
    std::lock_guard lock(mu_);
    auto r = conn_.exec("query", sql, f.params);
    if (!r.ok()) return r.error();
    const PGresult* res = r->get();
    std::vector<StoredEvent> out;
    for (int i = 0; i < PQntuples(res); ++i) {
      StoredEvent e;
      e.session_id = text(res, i, 0);
      e.sequence = static_cast<uint64_t>(pg::toInt(res, i, 1));
      e.time_ms = pg::toInt(res, i, 2);
      e.class_uid = static_cast<int>(pg::toInt(res, i, 3));
      e.severity_id = static_cast<int>(pg::toInt(res, i, 4));
      e.kind = text(res, i, 5);
      e.json = bytes(res, i, 6);
      e.shorthand = bytes(res, i, 7);
      e.domain = bytes(res, i, 8);
      e.path = bytes(res, i, 9);
      e.package = bytes(res, i, 10);
      e.stop_reason = bytes(res, i, 11);
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
    std::lock_guard lock(mu_);
    auto r = conn_.exec("sessionsMatching", sessionsMatchingSql(checked, f), f.params);
    if (!r.ok()) return r.error();
    std::vector<std::string> out;
    for (int i = 0; i < PQntuples(r->get()); ++i) out.push_back(text(r->get(), i, 0));
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
    auto r = conn_.exec("storedBytes", "SELECT COALESCE(SUM(bytes), 0) FROM session_progress");
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

  Result<AppendResult> appendLocked(const std::vector<StoredEvent>& batch) {
    AppendResult result;
    std::vector<std::string> order;
    std::map<std::string, uint64_t> contiguous;
    for (const auto& e : batch) {
      if (contiguous.emplace(e.session_id, 0).second) order.push_back(e.session_id);
    }
    // Lock each session's progress row, in id order (no deadlock between gateways).
    for (auto& [id, c] : contiguous) {
      auto ins = conn_.exec("append", "INSERT INTO session_progress (session_id, contiguous, bytes) VALUES ($1, 0, 0) "
                                      "ON CONFLICT (session_id) DO NOTHING",
                            {P::text(id)});
      if (!ins.ok()) return ins.error();
      auto sel = conn_.exec("append", "SELECT contiguous FROM session_progress WHERE session_id = $1 FOR UPDATE",
                            {P::text(id)});
      if (!sel.ok()) return sel.error();
      c = static_cast<uint64_t>(pg::toInt(sel->get(), 0, 0));
    }
    std::set<std::pair<std::string, uint64_t>> seen;
    std::vector<const StoredEvent*> rows;
    for (const auto& e : batch) {
      if (e.sequence <= contiguous[e.session_id] || !seen.emplace(e.session_id, e.sequence).second) {
        ++result.duplicates;
      } else {
        rows.push_back(&e);
      }
    }
    std::map<std::string, int64_t> added;
    std::set<std::pair<std::string, uint64_t>> inserted;
    for (size_t start = 0; start < rows.size(); start += kRowsPerInsert) {
      const size_t end = std::min(rows.size(), start + kRowsPerInsert);
      std::string sql =
          "INSERT INTO events (session_id, sequence, time_ms, class_uid, severity_id, kind, json, shorthand, domain, "
          "path, package, stop_reason, keep, bytes) VALUES ";
      std::vector<SqlParam> params;
      params.reserve((end - start) * 14);
      for (size_t i = start; i < end; ++i) {
        const StoredEvent& e = *rows[i];
        sql += i == start ? "(" : ", (";
        for (int c = 0; c < 14; ++c) sql += (c ? ", $" : "$") + std::to_string(params.size() + 1 + static_cast<size_t>(c));
        sql += ")";
        params.push_back(P::text(e.session_id));
        params.push_back(P::integer(static_cast<int64_t>(e.sequence)));
        params.push_back(P::integer(e.time_ms));
        params.push_back(P::integer(e.class_uid));
        params.push_back(P::integer(e.severity_id));
        params.push_back(P::text(e.kind));
        params.push_back(P::text(e.json));
        params.push_back(P::text(e.shorthand));
        params.push_back(P::text(e.domain));
        params.push_back(P::text(e.path));
        params.push_back(P::text(e.package));
        params.push_back(P::text(e.stop_reason));
        params.push_back(P::integer(isRetainedForever(e) ? 1 : 0));
        params.push_back(P::integer(static_cast<int64_t>(e.json.size())));
      }
      sql += " ON CONFLICT (session_id, sequence) DO NOTHING RETURNING session_id, bytes, sequence";
      auto r = conn_.exec("append", sql, params);
      if (!r.ok()) return r.error();
      const int n = PQntuples(r->get());
      result.inserted += static_cast<uint64_t>(n);
      result.duplicates += (end - start) - static_cast<uint64_t>(n);
      for (int i = 0; i < n; ++i) {
        added[text(r->get(), i, 0)] += pg::toInt(r->get(), i, 1);
        inserted.emplace(text(r->get(), i, 0), static_cast<uint64_t>(pg::toInt(r->get(), i, 2)));
      }
    }
    // Newly stored SESSION stops mark their session's record, in batch order.
    for (const StoredEvent* e : rows) {
      if (!e->session_stop || !inserted.count({e->session_id, e->sequence})) continue;
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
      uint64_t& c = contiguous[id];
      if (added.count(id)) {
        for (;;) {
          auto w = conn_.exec("append",
                              "SELECT sequence FROM events WHERE session_id = $1 AND sequence > $2 ORDER BY sequence "
                              "LIMIT 512",
                              {P::text(id), P::integer(static_cast<int64_t>(c))});
          if (!w.ok()) return w.error();
          const int n = PQntuples(w->get());
          bool gap = false;
          for (int i = 0; i < n && !gap; ++i) {
            if (static_cast<uint64_t>(pg::toInt(w->get(), i, 0)) == c + 1) {
              ++c;
            } else {
              gap = true;
            }
          }
          if (gap || n < 512) break;
        }
        auto up = conn_.exec("append",
                             "UPDATE session_progress SET contiguous = $2, bytes = bytes + $3 WHERE session_id = $1",
                             {P::text(id), P::integer(static_cast<int64_t>(c)), P::integer(added[id])});
        if (!up.ok()) return up.error();
      }
      result.contiguous.emplace_back(id, c);
    }
    if (!result.contiguous.empty()) result.highest_contiguous = result.contiguous.front().second;
    return result;
  }

  Result<std::vector<Deleted>> deleteLocked(int64_t cutoff_ms, uint64_t max_bytes) {
    std::map<std::string, Deleted> deleted;
    std::map<std::string, int64_t> freed;
    auto note = [&](const std::string& id, uint64_t count, uint64_t first, uint64_t last, int64_t b) {
      Deleted& d = deleted[id];
      d.session_id = id;
      d.first_seq = d.count == 0 ? first : std::min(d.first_seq, first);
      d.last_seq = d.count == 0 ? last : std::max(d.last_seq, last);
      d.count += count;
      freed[id] += b;
    };
    auto aged = conn_.exec("retention",
                           std::string("WITH d AS (DELETE FROM events WHERE time_ms < $1 AND ") + kRetentionDeletable +
                               " RETURNING session_id, sequence, bytes) SELECT session_id, COUNT(*), MIN(sequence), "
                               "MAX(sequence), SUM(bytes) FROM d GROUP BY session_id",
                           {P::integer(cutoff_ms)});
    if (!aged.ok()) return aged.error();
    for (int i = 0; i < PQntuples(aged->get()); ++i) {
      const PGresult* r = aged->get();
      note(text(r, i, 0), static_cast<uint64_t>(pg::toInt(r, i, 1)), static_cast<uint64_t>(pg::toInt(r, i, 2)),
           static_cast<uint64_t>(pg::toInt(r, i, 3)), pg::toInt(r, i, 4));
    }
    if (max_bytes > 0) {
      auto tot = conn_.exec("retention", "SELECT COALESCE(SUM(bytes), 0) FROM session_progress");
      if (!tot.ok()) return tot.error();
      int64_t total = pg::toInt(tot->get(), 0, 0);
      for (const auto& [id, b] : freed) total -= b;
      while (total > static_cast<int64_t>(max_bytes)) {
        auto oldest = conn_.exec("retention", std::string("SELECT session_id, sequence, bytes FROM events WHERE ") +
                                                  kRetentionDeletable + " ORDER BY time_ms, session_id, sequence LIMIT 4096");
        if (!oldest.ok()) return oldest.error();
        const PGresult* r = oldest->get();
        if (PQntuples(r) == 0) break;  // only kept events are left
        std::vector<std::string> ids;
        std::vector<uint64_t> seqs;
        for (int i = 0; i < PQntuples(r) && total > static_cast<int64_t>(max_bytes); ++i) {
          ids.push_back(text(r, i, 0));
          seqs.push_back(static_cast<uint64_t>(pg::toInt(r, i, 1)));
          const int64_t b = pg::toInt(r, i, 2);
          note(ids.back(), 1, seqs.back(), seqs.back(), b);
          total -= b;
        }
        auto del = conn_.exec("retention",
                              "DELETE FROM events e USING (SELECT unnest($1::text[]) AS s, unnest($2::bigint[]) AS q) d "
                              "WHERE e.session_id = d.s AND e.sequence = d.q",
                              {P::literalText(textArray(ids)), P::literalText(intArray(seqs))});
        if (!del.ok()) return del.error();
      }
    }
    std::vector<Deleted> out;
    for (auto& [id, d] : deleted) {
      auto up = conn_.exec("retention", "UPDATE session_progress SET bytes = bytes - $2 WHERE session_id = $1",
                           {P::text(id), P::integer(freed[id])});
      if (!up.ok()) return up.error();
      out.push_back(d);
    }
    return out;
  }

  std::mutex mu_;
  pg::Connection conn_;  // Guarded by mu_.
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
