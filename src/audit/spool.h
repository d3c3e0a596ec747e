#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <utility>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"

namespace warden::audit {

// One event as the session pushes it to the gateway: its chain sequence, canonical JSON and
// shorthand line (both without a trailing newline, though any bytes are kept as given).
struct SpooledEvent {
  uint64_t sequence = 0;
  std::string json;
  std::string shorthand;

  bool operator==(const SpooledEvent&) const = default;
};

// The same record borrowed: what the audit writer hands its sinks (audit/sink.h) without copying.
struct SpooledEventView {
  uint64_t sequence = 0;
  std::string_view json;
  std::string_view shorthand;

  SpooledEventView() = default;
  SpooledEventView(uint64_t seq, std::string_view j, std::string_view s) : sequence(seq), json(j), shorthand(s) {}
  SpooledEventView(const SpooledEvent& e) : sequence(e.sequence), json(e.json), shorthand(e.shorthand) {}  // NOLINT
};

struct SpoolOptions {
  std::filesystem::path dir;          // created 0700; one spool per session (locked with flock)
  uint64_t segment_bytes = 8 << 20;   // records go to append-only segment files; a segment whose
                                      // records are all acknowledged is deleted
  uint64_t max_bytes = 1ull << 30;    // beyond: append() returns ResourceExhausted and writes
                                      // nothing (the caller records LOG:LOSS-style; never silent)
  // true: append() returns Ok only after fdatasync() of every segment it wrote (and of the
  // directory when it created one): an Ok batch survives power loss. false: Ok means the bytes
  // are in the kernel's page cache: an Ok batch survives the supervisor being killed, not a
  // kernel crash or power loss. Segment rolls and the ack file are always synced.
  bool fsync_each_batch = true;
  // Files the spool's owner keeps in the directory (an export's `receiver`): not reported as
  // unexpected.
  std::vector<std::string> owner_files;
};

// An append-only, crash-safe queue of (sequence, json, shorthand) records on disk: the session's
// store of events the gateway has not acknowledged yet (docs/spool.md).
//
// Records are framed (length, CRC32C of header and payload, sequence), so a torn tail after a
// crash is detected and cut back to the last whole record on open (reported in
// `recovered_notes`, not fatal); a corrupt record with whole records after it is DataLoss naming
// the segment and offset. Sequences must be strictly increasing. ack(h) marks everything <= h
// acknowledged (persisted in a small ack file replaced atomically) and deletes fully acknowledged
// segments. pending(after, ...) reads unacknowledged records in order for (re)sending.
// open() of an existing dir continues where it was: the next append must be > lastSequence();
// pending starts after the acknowledged sequence.
//
// Owns its directory lock and segment descriptors for its lifetime. Thread-safe: every public
// member takes one mutex, so append() and pending()/ack() may run on different threads.
class Spool {
 public:
  static Result<std::unique_ptr<Spool>> open(SpoolOptions options,
                                             std::vector<std::string>* recovered_notes = nullptr);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Appends `batch` in order, all or nothing. InvalidArgument when a sequence is 0 or not greater
  // than the one before it (and lastSequence()), or a record exceeds 16 MiB; ResourceExhausted
  // when the spool would grow beyond max_bytes; errno errors from the file system. On any error
  // nothing of the batch stays on disk (written bytes are truncated away).
  Result<void> append(const std::vector<SpooledEvent>& batch);
  Result<void> append(std::span<const SpooledEventView> batch);
  // Marks every sequence <= up_to_sequence acknowledged and deletes segments left with no
  // unacknowledged record. Acknowledging at or below ackedSequence() is a no-op; beyond
  // lastSequence() is OutOfRange (the gateway cannot have stored what was never spooled).
  Result<void> ack(uint64_t up_to_sequence);
  // Up to `max_records` unacknowledged records with sequence > after_sequence, in order, whose
  // sizes (json + shorthand) add up to at most `max_bytes` — but always at least one record when
  // there is one. DataLoss if a record read back fails its checksum.
  Result<std::vector<SpooledEvent>> pending(uint64_t after_sequence, size_t max_records, size_t max_bytes);

  uint64_t ackedSequence() const;
  // The highest sequence ever appended (or acknowledged); 0 for a new spool.
  uint64_t lastSequence() const;
  // Bytes of all segment files (the ack file is not counted); what max_bytes limits.
  uint64_t bytesOnDisk() const;

 private:
  // One segment file: `<dir>/<first sequence, 20 digits>.seg`.
  struct Segment {
    std::filesystem::path path;
    uint64_t first_seq = 0;
    uint64_t last_seq = 0;
    uint64_t size = 0;
    // (sequence, offset) of the first record and of one record about every 64 KiB after it.
    std::vector<std::pair<uint64_t, uint64_t>> index;
  };

  explicit Spool(SpoolOptions options) : options_(std::move(options)) {}
  Result<void> recover(std::vector<std::string>& notes);
  Result<void> writeAckFile(uint64_t acked);
  Result<void> openActive();
  Result<void> startSegment(uint64_t first_seq);
  // Appends the records of `segment` after `after` to `out` within the limits; true when a limit
  // was reached (stop reading further segments).
  Result<bool> readRecordsFrom(const Segment& segment, uint64_t after, size_t max_records, size_t max_bytes,
                               std::vector<SpooledEvent>& out, size_t& bytes) const;
  static void addIndex(Segment& segment, uint64_t sequence, uint64_t offset);

  const SpoolOptions options_;
  UniqueFd lock_fd_;  // flock(LOCK_EX) on <dir>/lock for the spool's lifetime

  mutable std::mutex mu_;
  std::vector<Segment> segments_;  // Guarded by mu_. Oldest first; the last one is appended to.
  UniqueFd active_fd_;             // Guarded by mu_. O_APPEND descriptor of segments_.back().
  uint64_t acked_ = 0;             // Guarded by mu_.
  uint64_t last_ = 0;              // Guarded by mu_.
  uint64_t bytes_ = 0;             // Guarded by mu_. Sum of segments_[i].size.
};

// The record parser used by open() on untrusted bytes (a spool file could be damaged): fuzzed.
// Parses a whole segment file. A torn tail — the file ends inside a record, or its last record
// fails its checksum with no whole record after it — is not an error: the records before it are
// returned and `*valid_prefix_bytes` is where they end (== bytes.size() when the file is whole;
// 0 when even the magic is incomplete). A bad magic, or a corrupt record followed by a valid one,
// or sequences not strictly increasing, is DataLoss naming the offset.
Result<std::vector<SpooledEvent>> parseSpoolSegment(std::string_view bytes, size_t* valid_prefix_bytes);

}  // namespace warden::audit
