#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace warden::audit {

// What `warden audit verify` found. Problems make verification fail (exit 1); warnings are
// facts the record itself states (a JSONL-off window, events the writer shed) and do not.
enum class FindingKind {
  // Problems.
  kModified,           // a line's bytes changed: its hash no longer matches the next line's prev
  kMissing,            // sequence numbers absent with no JSONL-off window to explain them
  kInserted,           // a line that is not part of the chain (duplicate sequence, does not fit)
  kReordered,          // a genuine line in the wrong place
  kBadCheckpoint,      // a checkpoint whose range or head disagrees with the chain
  kBadSignature,       // a checkpoint signature that does not verify
  kWrongKey,           // the log's signing key is not the one given with --key
  kNoKey,              // no key to check signatures with (no LOG:START, no --key)
  kUnsealedTail,       // events after the last checkpoint: still running or truncated
  kNoFinalCheckpoint,  // the log does not end with the final checkpoint
  kMalformed,          // not JSON, or a field the chain needs is missing or mistyped
  kMixedSessions,      // lines of another session in the input
  kUnreadable,         // a file that cannot be opened or read
  kNoEvents,           // nothing to verify at all
  // Warnings.
  kGap,                // sequences not written while JSONL output was off
  kLoss,               // the writer reports events it had to shed
  kEmptyFile,          // an input file with no lines
  kDuplicate,          // copies of lines already verified (a SIEM's at-least-once delivery), skipped
};

// "modified", "bad signature", … (text output) and "bad_signature" (JSON output).
std::string_view findingKindName(FindingKind kind);
std::string_view findingKindId(FindingKind kind);
bool isProblem(FindingKind kind);

// One finding. `sequence`/`last_sequence` give the affected range (0 when none applies);
// `file`/`line` point at the line concerned when there is one (line 0: none).
struct Finding {
  FindingKind kind = FindingKind::kMalformed;
  uint64_t sequence = 0;
  uint64_t last_sequence = 0;
  std::string file;
  uint64_t line = 0;
  std::string message;
};

struct VerifyOptions {
  // The session's public key (64 hex digits, raw Ed25519), e.g. from readPublicKeyFile().
  // Unset: the key is taken from the log's LOG:START event (trust on first use).
  std::optional<std::string> public_key_hex;
  // Where public_key_hex came from, for the report ("--key FILE").
  std::string key_origin;
  // Lines longer than this are reported as malformed without being parsed.
  size_t max_line_bytes = 16u << 20;
  // At most this many findings of one kind are kept; the rest are only counted.
  size_t max_findings_per_kind = 100;
  // Events the store deleted on purpose (the gateway's retention; each from a LOG:DELETE event of
  // the gateway's own trail, named by `record`): missing events wholly inside these ranges are a
  // warning (gap), not a problem — as long as no more are missing inside them than the records
  // say were deleted (`count`); any excess is reported as missing.
  struct Deletion {
    uint64_t first = 0, last = 0;  // the lowest and highest deleted sequence (kept checkpoints lie between)
    uint64_t count = 0;            // how many were deleted
    std::string record;            // where it is recorded, for the message
  };
  std::vector<Deletion> deletions;
};

enum class KeySource { kNone, kGiven, kFromLog };

// The outcome of verifying one session's JSONL.
struct VerifyReport {
  std::string session_id;
  std::vector<std::string> files;  // in the order they were read
  uint64_t events = 0;             // lines that are part of the verified chain (checkpoints included)
  uint64_t checkpoints = 0;
  uint64_t signed_checkpoints = 0;  // checkpoints whose signature and head verified
  uint64_t first_sequence = 0;
  uint64_t last_sequence = 0;
  uint64_t last_checkpoint_sequence = 0;
  bool final_checkpoint = false;   // the chain ends with a verified final checkpoint
  KeySource key_source = KeySource::kNone;
  std::string key_id;
  std::string key_origin;
  std::vector<Finding> findings;   // problems and warnings, in the order found
  uint64_t suppressed = 0;         // findings over the per-kind limit, counted only

  bool ok() const;
  size_t problemCount() const;
};

// Verifies one session's JSONL lines fed in order (events.md "Integrity"): recomputes the hash
// chain from the raw line bytes, checks every checkpoint's head and Ed25519 signature, and
// classifies each break (modified, missing, inserted, reordered, JSONL-off gap).
//
// Streaming: memory is bounded by a small window around each break, not by the log's length.
// Nothing here throws or crashes on bad input; every defect becomes a Finding.
// Not thread-safe; one Verifier per verification. Movable, not copyable.
class Verifier {
 public:
  explicit Verifier(VerifyOptions options);
  ~Verifier();
  Verifier(Verifier&&) noexcept;
  Verifier& operator=(Verifier&&) noexcept;
  Verifier(const Verifier&) = delete;
  Verifier& operator=(const Verifier&) = delete;

  // Starts the next input file; `name` is used in findings (file:line).
  void beginFile(std::string name);
  // One line of the current file without its '\n' (the exact bytes the chain hashes).
  // `terminated` is false for a last line that had no '\n' (a write cut short).
  void addLine(std::string_view line, bool terminated = true);
  // A line too long to hold (over VerifyOptions::max_line_bytes): reported, not parsed.
  void addOverlongLine(uint64_t bytes);
  // A line of the current file left out on purpose (an exact copy of one already verified, from
  // at-least-once delivery): counted for file:line positions, not verified.
  void skipLine();
  // Ends the current file (beginFile() and finish() also do).
  void endFile();
  // Records a problem found outside the lines (a file that cannot be read).
  void addFinding(Finding finding);
  // Ends verification. Call once; the Verifier is spent afterwards.
  VerifyReport finish();

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// Verifies `content` as if it were one file called `name` (tests, fuzzing).
VerifyReport verifyText(std::string_view content, std::string_view name, const VerifyOptions& options);

}  // namespace warden::audit
