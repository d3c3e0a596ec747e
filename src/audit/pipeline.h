#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "audit/coalescer.h"
#include "audit/emitter.h"
#include "audit/log_events.h"
#include "audit/sink.h"
#include "audit/spool.h"
#include "common/clock.h"
#include "common/result.h"

namespace warden::audit {

// A per-session bound on what producers may write: events, and bytes of their canonical JSON
// (what warden-ocsf.log and the gateway store per event). 0 means no bound. When either is reached
// the writer records LOG:BUDGET_EXHAUSTED (Critical) once and calls on_exhausted once — the
// supervisor stops or pauses the agent there (fail closed). Control events (session, lifecycle,
// config, findings, limits, the pipeline's own) are always accepted; activity events (network,
// HTTP, DNS, SSH, process, file, package, tool, other) beyond the budget plus `grace_events` are
// refused at emit(), counted and reported in LOG:LOSS (unmapped.loss.refused_over_budget).
struct LogBudget {
  uint64_t max_events = 0;
  uint64_t max_bytes = 0;
  uint64_t grace_events = 10000;  // after the budget: room for the stop's own events
  std::string action = "stop";    // what on_exhausted does, as recorded ("stop", "pause", "none")
  // Called once, on the writer thread, right after the event is written; must not block or call
  // close()/emit() (post a stop to the supervisor's loop).
  std::function<void(const BudgetFacts&)> on_exhausted;
};

struct PipelineOptions {
  std::filesystem::path log_dir;  // created 0700 when missing
  ocsf::SessionContext session;   // session.session_id is required
  bool jsonl_enabled = false;     // warden-ocsf.log from the start
  bool stdout_human = false;      // also write every warden.log line to `human_fd` (a HumanSink)
  int human_fd = STDOUT_FILENO;   // borrowed; must stay open until close()
  // More outputs (audit/sink.h): the gateway spool (SpoolSink), exports. Written after the
  // session's files, in this order, with every batch from LOG:START to the final checkpoint.
  std::vector<std::shared_ptr<Sink>> sinks;
  // Identical denials within a window become one event plus a summary (audit/coalescer.h).
  CoalesceOptions coalesce;
  LogBudget budget;
  // Events (and operational lines) waiting for the writer. When it is full, emit() waits up to
  // backpressure_timeout for space, then sheds the event and counts it (LOG:LOSS).
  size_t queue_capacity = 65536;
  std::chrono::milliseconds backpressure_timeout{50};
  uint64_t checkpoint_every_events = 1000;
  std::chrono::milliseconds checkpoint_interval{10000};
  // A batch holding a checkpoint is fdatasync'ed, but at most once per sync_interval (the writer
  // wakes to do a due sync when idle, and close() always syncs): a signed checkpoint is on disk
  // within this interval, and a busy writer is not serialised on the disk every 1,000 events.
  std::chrono::milliseconds sync_interval{1000};
  std::chrono::milliseconds loss_report_interval{1000};  // at most one LOG:LOSS per interval
  int keep_files = 3;             // rotated files kept per family
  uint64_t rotate_max_bytes = 0;  // 0: daily rotation only
  size_t max_pending_bytes = 64u << 20;  // per file, lines held in memory while writes fail
  // Longest the writer sleeps before re-reading the clock (timers: checkpoint, midnight, retry).
  std::chrono::milliseconds idle_poll{1000};
  const Clock* clock = nullptr;  // borrowed, must outlive the pipeline; nullptr: SystemClock
  // Where clear errors go besides warden.log (write failures, key or signing trouble).
  // Called on the writer thread; must not block for long or call close(). Default: a line on stderr.
  std::function<void(std::string_view)> on_error;
};

struct PipelineStats {
  uint64_t emitted = 0;        // emit() calls while open: written + shed (+ still queued)
  uint64_t written = 0;        // producer events sequenced and formatted for the sinks
  uint64_t shed = 0;           // producer events dropped at emit() (queue full); all reported by LOG:LOSS
  uint64_t operational_shed = 0;      // operational lines dropped at operational() (queue full)
  uint64_t rejected_after_close = 0;  // emit() after close() began: a caller bug, counted
  uint64_t checkpoints = 0;
  uint64_t last_sequence = 0;  // highest metadata.sequence written
  uint64_t rotations = 0;
  uint64_t write_failures = 0;  // failure episodes (a file went from writable to failing)
  uint64_t lines_lost = 0;      // lines that never reached a file (memory bound, or still failing at close)
  uint64_t coalesced = 0;       // producer events counted into a summary instead of written
  uint64_t summaries = 0;       // summary events written (their `count`s add up to `coalesced`)
  uint64_t refused_over_budget = 0;  // activity events refused past the log budget (+ grace)
  bool budget_exhausted = false;
};

// The audit pipeline of one session (events.md "Integrity", product.md "Files").
//
// emit() renders the event on the caller's thread — its canonical JSON with placeholders for
// sequence and prev, and its warden.log line (audit/prepared_event.h) — into a pooled cell and
// appends the cell to a bounded queue; operational() queues a line. Identical denials are
// coalesced first (audit/coalescer.h) and the log budget is applied. One writer thread, owned by
// the Pipeline, drains the queue in batches: it assigns metadata.sequence (1, 2, 3 ... per
// session, no gaps), splices sequence and unmapped.integrity.prev into the JSON, extends the hash
// chain over exactly those bytes, and hands each batch (audit/sink.h) to its sinks: warden.log
// (always), warden-ocsf.log (while JSONL is enabled), the human copy (when asked) and
// PipelineOptions::sinks (the gateway spool, exports). It writes the pipeline's own events
// (LOG:START with the session's public key as sequence 1, signed checkpoints, LOG:LOSS,
// LOG:ROTATE, write failures, what sinks record, coalescing summaries, the budget) and rotates
// the files. docs/formats.md "Log files, integrity and durability" is the contract.
//
// Lifetime: start() creates the directory, opens the files, makes the session's Ed25519 key pair
// and starts the writer; close() (idempotent, also run by the destructor) drains the queue, writes
// the final checkpoint, flushes, fdatasyncs, joins the writer and destroys the private key.
// Threads: every public method is thread-safe. emit() waits at most backpressure_timeout;
// operational() and setJsonlEnabled() never wait for the writer.
class Pipeline final : public Emitter {
 public:
  static Result<std::unique_ptr<Pipeline>> start(PipelineOptions options);
  ~Pipeline() override;
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  void emit(ocsf::Event&& event) override;
  void operational(Level level, std::string_view component, std::string_view message) override;

  // Turns warden-ocsf.log on or off while running. Applied by the writer in queue order: on
  // enable it opens (creates) the file and writes CONFIG:UPDATED as the file's first line after
  // the gap; on disable CONFIG:UPDATED is the file's last line before it stops. Asking for the
  // state the pipeline is already in records nothing. Ignored after close().
  void setJsonlEnabled(bool enabled, std::optional<uint64_t> config_revision = std::nullopt);

  // Final checkpoint, flush, fdatasync, join, key destroyed. Returns DataLoss when lines could
  // not be written (the files are still consistent: complete lines only). Idempotent: later
  // calls return the first result.
  Result<void> close();

  PipelineStats stats() const;
  // The session's public key (hex raw 32 bytes) and key id, as LOG:START carries them.
  const std::string& publicKeyHex() const;
  const std::string& keyId() const;

  struct Impl;

 private:
  explicit Pipeline(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
  std::mutex close_mu_;                     // serialises close()
  std::optional<Result<void>> close_result_;  // Guarded by close_mu_.
};

}  // namespace warden::audit
