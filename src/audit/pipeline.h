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

#include "audit/emitter.h"
#include "audit/log_events.h"
#include "audit/spool.h"
#include "common/clock.h"
#include "common/result.h"

namespace warden::audit {

struct PipelineOptions {
  std::filesystem::path log_dir;  // created 0700 when missing
  ocsf::SessionContext session;   // session.session_id is required
  bool jsonl_enabled = false;     // warden-ocsf.log from the start
  bool stdout_human = false;      // also write every warden.log line to `human_fd`
  int human_fd = STDOUT_FILENO;   // borrowed; must stay open until close()
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
  // The gateway push tap: when set, called on the writer thread once per written batch with every
  // event of the batch in sequence order — its sequence, canonical JSON (the exact bytes the chain
  // covers, whether or not JSONL is enabled) and shorthand (the warden.log line without its
  // timestamp and " OCSF ") — before the files are written. It runs on the writer's time: it must
  // not block for long (the spool append it does is one write) and must not call close() or emit();
  // operational() is fine. The final checkpoint reaches it too.
  std::function<void(std::vector<SpooledEvent>&&)> on_events;
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
};

// The audit pipeline of one session (events.md "Integrity", product.md "Files").
//
// emit() and operational() hand their input to a bounded queue from any thread. One writer
// thread, owned by the Pipeline, drains the queue in batches: it assigns metadata.sequence (1, 2,
// 3 ... per session, no gaps), fills integrity_prev and extends the hash chain over the canonical
// JSONL bytes, formats each event once per sink into one buffer per batch and writes each buffer
// with one write(): warden.log (shorthand, always), warden-ocsf.log (JSONL, while enabled), and
// the human stdout copy when asked. It writes the pipeline's own events (LOG:START with the
// session's public key as sequence 1, signed checkpoints, LOG:LOSS, LOG:ROTATE, write failures)
// and rotates the files. docs/formats.md "Log files, integrity and durability" is the contract.
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
