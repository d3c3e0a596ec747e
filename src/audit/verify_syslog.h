#pragma once

// `warden audit verify --from-syslog FILE`: a SIEM's copy of an exported session (docs/export.md)
// verified like the session's own JSONL. The JSON is taken from each message's MSG part and fed
// to the same Verifier; exact copies of a line already fed (at-least-once delivery) are skipped.

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "audit/verify.h"

namespace warden::audit {

// The event JSON of one line of a syslog receiver's output file (untrusted bytes; fuzzed):
// - a line holding Warden's structured data (`[warden@32473 session="…" seq="…"]`, RFC 5424
//   formats such as rsyslog's RSYSLOG_SyslogProtocol23Format) before its first '{': what follows
//   the structured data's "] ";
// - otherwise (a template writing %msg% alone, or a traditional "TIME HOST TAG: MSG" line): from
//   the first '{' on.
// A trailing '\r' is dropped. A line with neither comes back whole (the verifier then reports it
// as malformed: a file for verification should hold one session's messages only).
std::string_view syslogMessageJson(std::string_view line);

// Feeds a syslog file's lines to a Verifier: extracts each line's JSON, skips (Verifier::skipLine)
// a line whose metadata.sequence was fed already with byte-identical JSON — a copy that differs
// is fed and so reported. Remembers the line digests of the last `window` sequences (default
// 2^20: 16 MiB): a duplicate from further back is fed (reported as inserted). finish() adds one `duplicate` warning with the
// count. Not thread-safe; borrows the Verifier.
class SyslogLineFeeder {
 public:
  static constexpr size_t kDefaultWindow = size_t{1} << 20;
  explicit SyslogLineFeeder(Verifier& verifier, size_t window = kDefaultWindow);
  void addLine(std::string_view line, bool terminated = true);
  void addOverlongLine(uint64_t bytes) { verifier_.addOverlongLine(bytes); }
  // Adds the duplicate warning (when there were any) to the Verifier.
  void finish(std::string_view file);
  uint64_t duplicates() const { return duplicates_; }

 private:
  using Digest = std::array<uint8_t, 16>;
  Verifier& verifier_;
  const size_t window_;
  std::vector<Digest> digests_;  // by sequence % kWindow
  uint64_t highest_ = 0;         // highest sequence fed
  uint64_t duplicates_ = 0, first_dup_ = 0, last_dup_ = 0;
};

// Verifies syslog output files, in the order given, as one session's record.
VerifyReport verifySyslogFiles(const std::vector<std::string>& files, const VerifyOptions& options);

}  // namespace warden::audit
