#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "audit/emitter.h"
#include "common/clock.h"
#include "common/result.h"
#include "ocsf/builders.h"
#include "ocsf/event.h"

namespace warden::audit {

// One sequenced, chained event as every sink sees it. Views into the batch's buffers: valid only
// during Sink::write().
struct SinkRecord {
  uint64_t sequence = 0;
  int64_t time = 0;            // the event's time, epoch ms
  std::string_view json;       // the canonical JSON, exactly the bytes the chain covers (no newline)
  std::string_view shorthand;  // the shorthand: the warden.log line without "<ts> OCSF " and newline
};

// What the writer hands every sink, once per written batch, in sequence order. Batches follow
// each other without gaps: the first sequence of a batch is the last of the previous one + 1
// (a sink sees every event of the session from LOG:START to the final checkpoint).
struct SinkBatch {
  std::span<const SinkRecord> events;
  // warden.log's bytes for the batch: `<ts> OCSF <shorthand>` lines of the events and the plain
  // operational lines, interleaved in order, each '\n'-terminated.
  std::string_view log_lines;
  // Every event's canonical JSON, each followed by '\n' (the JSONL form), whether or not
  // warden-ocsf.log is enabled.
  std::string_view json_lines;
  size_t operational_lines = 0;  // plain lines in log_lines besides the events' lines
  bool jsonl_enabled = false;  // warden-ocsf.log is on for this whole batch (toggles split batches)
  bool has_checkpoint = false;  // the batch holds a LOG:CHECKPOINT (a durability point)
  bool final = false;           // the batch holds the final checkpoint: nothing follows
};

// What a sink may call back into. Thread-safe: callable from the writer thread (inside the
// Sink's methods) and from the sink's own threads. Never blocks on the pipeline's queue.
class SinkContext {
 public:
  virtual ~SinkContext() = default;
  // Records an event about the sink itself (an outage, a recovery, a full spool, lines it had to
  // skip: see the builders in audit/log_events.h). Never shed and never waited for: it is
  // sequenced right after the batch being written (from the writer thread) or with the next
  // batch (from any other thread). A sink must rate-limit what it reports (once per episode).
  // After the final checkpoint the event cannot be sequenced any more: it is dropped and its
  // message goes to report() instead.
  virtual void record(ocsf::Event&& event) = 0;
  // A plain operational line in warden.log (not sequenced) and, for kError, the pipeline's
  // on_error callback (stderr by default).
  virtual void report(Level level, std::string_view message) = 0;
  virtual const ocsf::SessionContext& session() const = 0;
  virtual const Clock& clock() const = 0;
};

// An output of the audit pipeline (like Envoy's access loggers): the session's files, the human
// copy, the gateway spool, SIEM exports. The pipeline keeps sequencing, chaining, checkpoints and
// loss accounting; a sink only takes what was written and delivers it somewhere.
//
// Contract:
// - open() once, then write() once per batch in order, sync() at durability points, close()
//   once at the end — all on the writer thread, never concurrently. open() runs inside
//   Pipeline::start(); an error there fails start().
// - write() must return within a bound the sink documents (a local file write, a spool append).
//   A destination that can be slow or down (a network receiver) is decoupled by the sink itself:
//   write() appends to the sink's own bounded store (an on-disk audit::Spool with a cursor, or a
//   bounded memory queue) and the sink's own thread delivers from there. The writer never waits
//   for a receiver.
// - A sink never fails the pipeline: problems are recorded through SinkContext (an event once per
//   episode, counts of what could not be delivered) and, for the files, kept in stats.
// - The bytes a sink receives are the canonical JSON with its chain field, and checkpoints are
//   events like any other: a copy that keeps them unchanged can be verified end to end.
// Ownership: the pipeline holds sinks by shared_ptr for its lifetime; a sink must not call
// Pipeline::close() or block on emit().
class Sink {
 public:
  virtual ~Sink() = default;
  // A short name for reports ("warden.log", "human", "spool", "syslog+tcp://...").
  virtual std::string_view name() const = 0;
  virtual Result<void> open(SinkContext& context) {
    (void)context;
    return okResult();
  }
  virtual void write(const SinkBatch& batch) = 0;
  // A checkpoint was written: make what this sink holds durable (fdatasync). Called at most once
  // per PipelineOptions::sync_interval, and once after the final batch.
  virtual void sync() {}
  // Called on the writer thread at least every PipelineOptions::idle_poll, batch or not (retries,
  // timers).
  virtual void tick() {}
  // After the final batch and sync: stop threads (within the sink's documented bound), release.
  // An error is reported by close() of the pipeline only for the session's own files.
  virtual Result<void> close() { return okResult(); }
};

}  // namespace warden::audit
