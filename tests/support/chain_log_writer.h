#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "audit/chain.h"
#include "audit/signer.h"
#include "ocsf/builders.h"
#include "ocsf/event.h"

namespace warden::testing {

// Writes a session's OCSF JSONL exactly as events.md "Integrity" lays it out, without the audit
// pipeline: LOG:START (seq 1, with the public key), events sequenced 1, 2, 3 … and chained
// (unmapped.integrity.prev = hex(h_{n-1}), h_n over the canonical line bytes), signed
// LOG:CHECKPOINTs, LOG:LOSS, and the CONFIG:UPDATED events that bracket a JSONL-off window
// (events in the window are sequenced and chained but not written, as the writer does).
// Holds the session's signing key. Test-only; not thread-safe.
class ChainLogWriter {
 public:
  // A writer for session `session_id` with a fresh Ed25519 key; writes LOG:START.
  explicit ChainLogWriter(std::string session_id = "sess-verify-1", int64_t start_time = 1763900000000);

  // Appends one event (sequenced, chained; written unless JSONL is off). Checkpoints follow
  // automatically every `checkpointEvery()` events when that is non-zero.
  void event(ocsf::Event e);
  // Appends `n` realistic events (the builders' samples, cycled).
  void events(uint64_t n);
  // A signed LOG:CHECKPOINT covering everything since the previous one.
  void checkpoint(bool final = false);
  // CONFIG:UPDATED "OCSF JSONL output disabled" (written, then output stops) or "... enabled"
  // (output resumes with this event).
  void setJsonl(bool enabled);
  // LOG:LOSS reporting `count` shed events.
  void loss(uint64_t count);

  void setCheckpointEvery(uint64_t n) { checkpoint_every_ = n; }
  uint64_t checkpointEvery() const { return checkpoint_every_; }

  // The written lines, without newlines, and the file content (each line '\n'-terminated).
  const std::vector<std::string>& lines() const { return lines_; }
  std::vector<std::string>& mutableLines() { return lines_; }
  std::string text() const;
  static std::string join(const std::vector<std::string>& lines);

  const std::string& sessionId() const { return session_id_; }
  const std::string& publicKeyHex() const { return signer_.publicKeyHex(); }
  const std::string& keyId() const { return signer_.keyId(); }
  uint64_t lastSequence() const { return seq_; }

 private:
  ocsf::Event logEvent(int activity_id, std::string activity_name);
  void append(ocsf::Event e, bool is_checkpoint);

  audit::Signer signer_;
  std::string session_id_;
  ocsf::SessionContext ctx_;
  int64_t time_;
  uint64_t seq_ = 0;
  audit::Digest head_{};
  uint64_t checkpoint_every_ = 1000;
  uint64_t since_checkpoint_ = 0;
  uint64_t cp_first_seq_ = 1;
  bool jsonl_ = true;
  std::vector<ocsf::Event> samples_;
  size_t next_sample_ = 0;
  std::vector<std::string> lines_;
};

// The standard test log: LOG:START, `events` realistic events with a checkpoint after every
// 1,000 of them, then the final checkpoint.
ChainLogWriter standardLog(uint64_t events = 10000);

}  // namespace warden::testing
