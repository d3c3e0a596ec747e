#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace warden::gateway {

// One event as a session pushed it.
struct StoredEvent {
  std::string session_id;
  uint64_t sequence = 0;  // metadata.sequence, from 1
  int64_t time_ms = 0;
  int class_uid = 0;
  int severity_id = 0;
  std::string kind;       // "NET", "HTTP", ... (the shorthand prefix)
  std::string json;       // canonical JSONL line (no trailing newline), exact bytes
  std::string shorthand;  // the warden.log line's shorthand part
  // Facts extracted for the incident queries (product.md "audit query"), filled by the caller or by
  // extractFacts(json): domain (dst_endpoint hostname/domain, http_request.url.hostname,
  // query.hostname), path (file.path), package (app.name on PKG), stop_reason (SESSION stop
  // status_detail).
  std::string domain, path, package, stop_reason;
  // A SESSION Stop (activity 4): append() then marks the session record stopped with stop_reason
  // and exit_code (unmapped.exit_code, when the event has one). Filled by extractFacts().
  bool session_stop = false;
  std::optional<int> exit_code;
};

// Parses e.json and fills the facts the caller left empty (and class_uid, severity_id, time_ms,
// sequence when zero; session_stop and exit_code when the event is a SESSION Stop). Never fails: JSON that does not parse leaves `e` as it was (append() then
// stores it as given). Pure and thread-safe.
StoredEvent extractFacts(StoredEvent e);

// The shorthand prefix, which the store keeps as `kind` ("NET" of "NET:CONNECT [INFO] ..."), or ""
// when there is no ':' or the prefix is not [A-Z0-9_]+.
std::string_view shorthandKind(std::string_view shorthand);

// What append() checks before storing anything; InvalidArgument names the field. Session ids are
// 1..128 bytes of [A-Za-z0-9._:-]; sequence >= 1; kind non-empty; json 1..kMaxEventBytes.
inline constexpr size_t kMaxEventBytes = 4 * 1024 * 1024;
bool isValidSessionId(std::string_view id);
Result<void> validateEvent(const StoredEvent& e);
// Retention never deletes these: each session's LOG:START (sequence 1, it carries the public key),
// every checkpoint (class 1008, "CHECKPOINT" in a LOG shorthand or activity_name "Checkpoint"), and
// every retention record (LOG:DELETE, unmapped.retention) — what makes a deletion provable later.
bool isRetainedForever(const StoredEvent& e);

struct SessionRecord {
  std::string id, name, token_hash, public_key, state, stop_reason;
  int64_t created_ms = 0, updated_ms = 0;
  std::optional<int> exit_code;
  std::string hostname;  // RegisterSession's hostname (the supervisor's host)
};

// The runtime settings as the store keeps them. Neutral types: the store does not know the settings
// registry; values are the registry's text form and are parsed back by the caller.
struct PersistedSetting {
  std::string session;  // "" = global
  std::string key;
  std::string value;
  bool operator==(const PersistedSetting&) const = default;
};
struct PersistedSettings {
  std::vector<PersistedSetting> values;  // ordered by (session, key)
  uint64_t revision = 0;                 // the highest config revision ever saved; 0 = none
  uint64_t policy_version = 0;           // the served policy's version and hash; 0 / "" = none
  std::string policy_hash;
};
// Limits saveSetting() checks (InvalidArgument beyond them).
inline constexpr size_t kMaxSettingKeyBytes = 256;
inline constexpr size_t kMaxSettingSessionBytes = 1024;
inline constexpr size_t kMaxSettingValueBytes = 64 * 1024;

struct AppendResult {
  uint64_t inserted = 0, duplicates = 0;
  // For a batch of one session: the highest h such that 1..h are all stored for it. For a mixed
  // batch: that of the batch's first session; `contiguous` has every session of the batch.
  uint64_t highest_contiguous = 0;
  std::vector<std::pair<std::string, uint64_t>> contiguous;  // (session, highest contiguous), batch order
};

struct EventQuery {
  std::optional<std::string> session;
  std::optional<int64_t> since_ms, until_ms;  // since <= time_ms < until
  std::vector<std::string> kinds;             // any of; empty: all
  std::optional<int> min_severity;
  std::optional<std::string> domain, path, package, stop_reason;  // exact matches
  uint64_t after_sequence = 0;                // paging within one session: sequence > after_sequence
  size_t limit = 1000;                        // 1..kMaxQueryLimit
};
inline constexpr size_t kMaxQueryLimit = 100000;
Result<void> validateQuery(const EventQuery& q);

// The gateway's durable event store.
// Every implementation: thread-safe (calls are serialised on one connection); each call is one
// transaction; errors are values — Unavailable for a database that is down or locked past its busy
// timeout (callers retry; nothing of the failed call is stored), InvalidArgument for bad input,
// DataLoss for a corrupt database, never silently. Nothing is acknowledged that is not committed.
class EventStore {
 public:
  virtual ~EventStore() = default;
  virtual Result<void> migrate() = 0;  // schema migrations, versioned, idempotent
  virtual Result<void> upsertSession(const SessionRecord& s) = 0;
  // Registers a new session: stores `s` unless a session with its id exists, in one statement, so
  // that of two concurrent registrations of one id only one wins. True when stored; false when the
  // id was taken (nothing changed: a session's key and token are never replaced).
  virtual Result<bool> createSession(const SessionRecord& s) = 0;
  virtual Result<std::optional<SessionRecord>> session(std::string_view id) = 0;
  virtual Result<std::vector<SessionRecord>> sessions() = 0;  // ordered by id
  // Stores a batch exactly once per (session_id, sequence): a duplicate is counted, not an error and
  // not stored twice (also after retention deleted the first copy); returns the highest sequence h
  // such that 1..h are all stored for that session (what the gateway may acknowledge). A batch may
  // mix sessions. An invalid event rejects the whole batch (InvalidArgument, nothing stored).
  // In the same transaction, each newly stored event with session_stop marks its session's record
  // (when there is one) state "stopped", stop_reason, exit_code, updated_ms = the event's time_ms.
  virtual Result<AppendResult> append(const std::vector<StoredEvent>& batch) = 0;
  virtual Result<uint64_t> highestContiguous(std::string_view session_id) = 0;
  virtual Result<std::vector<StoredEvent>> query(const EventQuery& q) = 0;  // ordered by session, sequence
  // Which sessions match (touched path P, connected to domain D, installed package V, stopped with
  // R), ordered by id; `limit` and `after_sequence` are ignored.
  virtual Result<std::vector<std::string>> sessionsMatching(const EventQuery& q) = 0;
  // Retention: deletes in bulk events older than cutoff_ms (and, if max_bytes > 0, the oldest events
  // until the stored JSON bytes fit), EXCEPT the events isRetainedForever() keeps, so a deletion stays
  // provable. Returns per session (ordered by id) the deleted count and sequence range; kept
  // checkpoints inside a range stay stored.
  struct Deleted {
    std::string session_id;
    uint64_t count = 0, first_seq = 0, last_seq = 0;
  };
  virtual Result<std::vector<Deleted>> deleteExpired(int64_t cutoff_ms, uint64_t max_bytes) = 0;
  // Sum of the stored events' JSON bytes.
  virtual Result<uint64_t> storedBytes() = 0;

  // Runtime settings and the config revision (schema migration 2). Each call is one transaction.
  // saveSetting stores `value` for (session, key) — nullopt deletes it — and records `revision`;
  // saveRevision records only the revision (a base value changed, the policy changed, a restart).
  // The stored revision never goes down: it becomes max(stored, revision). Revisions above
  // INT64_MAX, an empty key or values over the limits above are InvalidArgument.
  virtual Result<void> saveSetting(std::string_view session, std::string_view key,
                                   const std::optional<std::string>& value, uint64_t revision) = 0;
  virtual Result<void> saveRevision(uint64_t revision) = 0;
  // The version and hash of the policy the gateway serves (so its version survives a restart).
  virtual Result<void> savePolicyState(uint64_t policy_version, std::string_view policy_hash) = 0;
  virtual Result<PersistedSettings> loadSettings() = 0;

  // The cursors of the gateway's exports (schema migration 4; gateway/service/fleet_export.h): per
  // export (its URL's name, never its query) and session, the highest sequence the receiver took.
  // saveExportCursors writes a batch in one transaction; a cursor never goes down (max(stored,
  // given)). Export names over kMaxSettingKeyBytes or invalid session ids are InvalidArgument.
  virtual Result<void> saveExportCursors(std::string_view export_name,
                                         const std::vector<std::pair<std::string, uint64_t>>& cursors) = 0;
  virtual Result<std::vector<std::pair<std::string, uint64_t>>> loadExportCursors(std::string_view export_name) = 0;

  // The fleet rules' memory (schema migration 4; gateway/service/store_fleet_state.h): records the
  // sighting `key` (64 lower-case hex digits: a SHA-256) and says whether it is new — true exactly
  // once per key, whichever of several concurrent callers wins. Another key shape is InvalidArgument.
  virtual Result<bool> recordFleetSighting(std::string_view key) = 0;
};

// The check recordFleetSighting() makes: 64 lower-case hex digits.
bool isValidSightingKey(std::string_view key);

// The checks saveExportCursors() makes before touching the database (shared by both backends).
Result<void> validateExportCursors(std::string_view export_name,
                                   const std::vector<std::pair<std::string, uint64_t>>& cursors);

// The stop reason as a session record keeps it: cut at the first NUL and to 256 bytes (on a UTF-8
// boundary), so that any event's bytes fit a TEXT column. The event itself keeps the exact bytes.
std::string stopReasonForRecord(std::string_view stop_reason);

// The checks saveSetting() makes before touching the database (shared by both backends).
Result<void> validateSettingWrite(std::string_view session, std::string_view key,
                                  const std::optional<std::string>& value, uint64_t revision);

}  // namespace warden::gateway
