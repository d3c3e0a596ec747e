#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ocsf/builders.h"
#include "ocsf/event.h"

namespace warden::audit {

using ocsf::SessionContext;

// The events the audit pipeline builds about itself (events.md "Integrity", class table row
// "audit log health"), enriched from the session like every builder's event (ocsf::newEvent).
// Pure functions of their arguments plus a fresh metadata.uid (UUIDv7); thread-safe.
// metadata.sequence and integrity_prev are left for the writer to assign. Class 1008 events
// carry log_provider "warden" and log_type Application (the schema wants one of the log_*).

// Fills what a producer left empty: metadata.uid (a fresh UUIDv7 for the event time),
// metadata.correlation_uid, the host + container profiles, and device from the session. Leaves
// everything that is set alone. The writer runs it on every event; builders' events need nothing.
void fillMissingSessionFields(ocsf::Event& event, const SessionContext& session);

// LOG:START — Event Log Activity, Start (6); sequence 1 of every session. Carries the session's
// public key: unmapped.signing_key {algorithm: "Ed25519", public_key (hex raw 32 bytes), key_id}.
ocsf::Event logStartEvent(const SessionContext& session, int64_t time, std::string_view public_key_hex,
                          std::string_view key_id);

struct CheckpointFacts {
  uint64_t first_seq = 0;      // first sequence covered since the previous checkpoint
  uint64_t last_seq = 0;       // the sequence just before the checkpoint event itself
  std::string head_hex;        // hex(h_last_seq)
  std::string key_id;
  std::string signature_hex;   // Ed25519 over checkpointMessage(...); empty if signing failed
  bool final = false;
};
// LOG:CHECKPOINT — Event Log Activity, Other (99) "Checkpoint": unmapped.checkpoint {first_seq,
// last_seq, head, key_id, signature, final (only when true)}.
ocsf::Event checkpointEvent(const SessionContext& session, int64_t time, const CheckpointFacts& facts);

struct LossFacts {
  uint64_t count = 0;              // events shed at emit() (never sequenced)
  uint64_t first_seq = 0;          // window of sequence numbers written while shedding happened
  uint64_t last_seq = 0;
  uint64_t operational_lines = 0;  // plain warden.log lines shed the same way
  uint64_t refused_over_budget = 0;  // activity events refused past the session's log budget
};
// LOG:LOSS — Event Log Activity, Other (99) "Loss", severity High, `count` = count +
// refused_over_budget: unmapped.loss {count, first_seq, last_seq, operational_lines,
// refused_over_budget (each when non-zero)}.
ocsf::Event lossEvent(const SessionContext& session, int64_t time, const LossFacts& facts);

struct RotatedFile {
  std::string file;        // "warden.log"
  std::string rotated_to;  // "warden.log.2026-11-23"
};
// LOG:ROTATE — Event Log Activity, Rotate (5): unmapped.rotation {reason ("daily"|"size"),
// files [{file, rotated_to}], deleted (how many old rotated files were pruned, when non-zero)}.
ocsf::Event rotateEvent(const SessionContext& session, int64_t time, std::string_view reason,
                        const std::vector<RotatedFile>& files, uint64_t deleted);

struct WriteFailureFacts {
  std::string file;             // "warden.log" or "warden-ocsf.log"
  std::string error;            // strerror text, e.g. "No space left on device"
  int64_t since = 0;            // epoch ms of the first failed write
  uint64_t lines_delayed = 0;   // lines held in memory and written late
  uint64_t lines_lost = 0;      // lines that could not be kept (memory bound) and were dropped
};
// LOG:WRITE FAILURE — Event Log Activity, Other (99) "Write Failure", severity High, status
// Failure: writing `file` failed; unmapped.write_failure {file, error, since}.
ocsf::Event writeFailureEvent(const SessionContext& session, int64_t time, const WriteFailureFacts& facts);
// LOG:WRITE RECOVERED — Other (99) "Write Recovered", severity Medium (High when lines were
// lost), status Success: writing works again; unmapped.write_failure {file, error, since,
// lines_delayed, lines_lost}.
ocsf::Event writeRecoveredEvent(const SessionContext& session, int64_t time, const WriteFailureFacts& facts);

// CONFIG:UPDATED (or FAILED) for the JSONL toggle — Device Config State Change (5019), Log (1):
// unmapped.state "UPDATED", message "OCSF JSONL output enabled"/"... disabled",
// unmapped.config_revision when given. With a non-empty `failure` the state is "FAILED",
// severity Medium, and the message says why enabling failed.
ocsf::Event jsonlConfigEvent(const SessionContext& session, int64_t time, bool enabled,
                             std::optional<uint64_t> config_revision, std::string_view failure = {});

struct GatewayLinkFacts {
  std::string gateway;     // the gateway URL as given (HOST:PORT or http(s)://HOST:PORT)
  std::string error;       // unreachable: the gRPC status text of the first failure
  int64_t since = 0;       // epoch ms the link went down
  uint64_t down_ms = 0;    // reconnected: how long it was down
  uint64_t pending = 0;    // events waiting in the spool at that moment
};
// LOG:GATEWAY_UNREACHABLE — Event Log Activity, Other (99) "Gateway Unreachable", severity Medium,
// status Failure: the session cannot reach its gateway; it keeps running on its last config and
// keeps every event in its spool. Recorded once per outage. unmapped.gateway {url, error, since,
// pending}.
ocsf::Event gatewayUnreachableEvent(const SessionContext& session, int64_t time, const GatewayLinkFacts& facts);
// LOG:GATEWAY_RECONNECTED — Other (99) "Gateway Reconnected", Informational, status Success: the
// outage is over; unmapped.gateway {url, since, down_ms, pending (to resend)}.
ocsf::Event gatewayReconnectedEvent(const SessionContext& session, int64_t time, const GatewayLinkFacts& facts);

// What a sink (audit/sink.h) records about itself. Each builder is for one edge of an episode:
// a sink reports it once, not per failed attempt.
struct SinkFacts {
  std::string sink;        // the sink's name ("human", "syslog+tcp://siem.example:6514", ...)
  std::string error;       // unreachable / overflow: what went wrong
  int64_t since = 0;       // epoch ms the episode began
  uint64_t down_ms = 0;    // reconnected: how long it lasted
  uint64_t pending = 0;    // events waiting in the sink's own spool at that moment
  uint64_t skipped = 0;    // overflow: events (or lines) this sink will never deliver
  uint64_t first_seq = 0;  // overflow: the sequence window they belong to (0 when unknown)
  uint64_t last_seq = 0;
};
// LOG:SINK_UNREACHABLE — Event Log Activity, Other (99) "Sink Unreachable", Medium, status
// Failure: a sink's receiver is down; what it has not delivered waits in its spool.
// unmapped.sink {name, error, since, pending}.
ocsf::Event sinkUnreachableEvent(const SessionContext& session, int64_t time, const SinkFacts& facts);
// LOG:SINK_RECONNECTED — Other (99) "Sink Reconnected", Informational, Success: the outage is
// over. unmapped.sink {name, since, down_ms, pending (to deliver now)}.
ocsf::Event sinkReconnectedEvent(const SessionContext& session, int64_t time, const SinkFacts& facts);
// LOG:SINK_OVERFLOW — Other (99) "Sink Overflow", High, Failure, `count` = skipped: a sink's
// bound was reached (its spool is full, or a reader fell too far behind) and it skipped what is
// named; the session's own files still hold all of it. unmapped.sink {name, error, skipped,
// first_seq, last_seq (when known)}.
ocsf::Event sinkOverflowEvent(const SessionContext& session, int64_t time, const SinkFacts& facts);

// What happens when a session's log budget is reached (audit/pipeline.h LogBudget).
struct BudgetFacts {
  uint64_t max_events = 0, max_bytes = 0;  // the budget (0: that dimension is unbounded)
  uint64_t events = 0, bytes = 0;          // producer events and their JSON bytes accepted so far
  std::string action;                      // what the session does now: "stop", "pause", "none"
};
// LOG:BUDGET_EXHAUSTED — Event Log Activity, Other (99) "Budget Exhausted", Critical, status
// Failure: the session reached its log budget; unmapped.budget {max_events, max_bytes, events,
// bytes, action}.
ocsf::Event budgetExhaustedEvent(const SessionContext& session, int64_t time, const BudgetFacts& facts);

// The session name of a gateway's own audit trail (the session its LOG:DELETE events are in): what
// the gateway registers it under and what its readers (warden logs, audit verify --session) look for.
inline constexpr std::string_view kGatewaySessionName = "gateway";

struct RetentionFacts {
  std::string session_id;  // whose events were deleted
  uint64_t count = 0;
  uint64_t first_seq = 0, last_seq = 0;  // the range deleted (kept checkpoints inside it stay)
  int64_t cutoff_ms = 0;                 // events older than this (0: only the size cap applied)
  uint64_t max_bytes = 0;                // the size cap in force (0: none)
};
// LOG:DELETE — Event Log Activity, Delete (2), Informational, status Success: the gateway's
// retention deleted stored events of one session in bulk. count is `count`; unmapped.retention
// {session_id, count, first_seq, last_seq, cutoff_ms, max_bytes (when non-zero)}.
ocsf::Event retentionEvent(const SessionContext& session, int64_t time, const RetentionFacts& facts);

}  // namespace warden::audit
