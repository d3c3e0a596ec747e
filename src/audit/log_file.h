#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"

namespace warden::audit {

// One log file family in a session's log directory: the live file `<dir>/<name>` (opened
// O_APPEND, mode 0600) and its rotated files `<name>.YYYY-MM-DD` and `<name>.YYYY-MM-DD.N`.
//
// append() takes complete lines ('\n'-terminated) and writes them with one write() in the common
// case. It never leaves a partial line in the file: if a write is short or fails, the file is
// truncated back to the end of the last complete line, and the unwritten lines are kept in
// memory (up to `max_pending_bytes`; whole lines beyond that are dropped and counted) and
// written first by the next append() or retry(). The failure and its end are reported through
// the returned WriteOutcome so the owner can record them.
//
// Owns its descriptor and the pending lines. Move-only; not thread-safe (the audit writer thread
// is its only user).
class LogFile {
 public:
  static Result<LogFile> open(const std::filesystem::path& dir, std::string name, size_t max_pending_bytes);

  LogFile(LogFile&&) noexcept = default;
  LogFile& operator=(LogFile&&) noexcept = default;
  LogFile(const LogFile&) = delete;
  LogFile& operator=(const LogFile&) = delete;

  enum class WriteOutcome { kOk, kFailed /* first failure */, kStillFailing, kRecovered };
  // Writes `lines` (after any pending lines). kFailed on the write that starts a failure,
  // kRecovered on the first write that gets everything pending out again.
  WriteOutcome append(std::string_view lines);
  // Tries to write pending lines, if any.
  WriteOutcome retry() { return append({}); }
  // fdatasync(); false (and errno kept in lastError()) on failure. Skipped while failing.
  bool sync();

  // Renames the live file to its rotated name for `date` ("YYYY-MM-DD", a free `.N` suffix when
  // taken) and opens a fresh live file. Nothing happens (nullopt) when the live file is empty.
  Result<std::optional<std::string>> rotate(std::string_view date);
  // Deletes this family's oldest rotated files beyond `keep`; returns how many were deleted.
  // Matches only `<name>.YYYY-MM-DD[.N]`, so another family's files are never touched.
  uint64_t prune(int keep) const;
  static uint64_t pruneFamily(const std::filesystem::path& dir, std::string_view name, int keep);

  const std::string& name() const { return name_; }
  const std::filesystem::path& path() const { return path_; }
  // Bytes in the live file (as written by this object since open, plus what was there).
  uint64_t size() const { return size_; }
  bool failing() const { return failing_; }
  bool hasPending() const { return !pending_.empty(); }
  uint64_t pendingLines() const { return pending_lines_; }
  int lastError() const { return last_errno_; }
  int64_t failingSinceMs() const { return failing_since_ms_; }
  void setFailingSinceMs(int64_t ms) { failing_since_ms_ = ms; }
  // Lines delayed/lost in the current (or just ended) failure; reset by clearFailureCounts().
  uint64_t linesDelayed() const { return lines_delayed_; }
  uint64_t linesLost() const { return lines_lost_; }
  void clearFailureCounts() { lines_delayed_ = lines_lost_ = 0; }
  // Drops what is pending (the family is being closed); returns how many lines were dropped.
  uint64_t discardPending();

  // `<name>.YYYY-MM-DD[.N]` files of family `name` in `dir`, oldest first.
  static std::vector<std::filesystem::path> rotatedFiles(const std::filesystem::path& dir, std::string_view name);

 private:
  LogFile() = default;
  // Writes pending_ as far as possible; true when all of it is out.
  bool writePending();
  void addPending(std::string_view lines);
  Result<void> reopen();

  std::filesystem::path dir_;
  std::string name_;
  std::filesystem::path path_;
  UniqueFd fd_;
  uint64_t size_ = 0;
  size_t max_pending_bytes_ = 0;
  std::string pending_;  // complete lines not yet in the file
  uint64_t pending_lines_ = 0;
  bool failing_ = false;
  bool torn_ = false;  // a truncate-back failed: the file may end in a partial line
  int last_errno_ = 0;
  int64_t failing_since_ms_ = 0;
  uint64_t lines_delayed_ = 0;
  uint64_t lines_lost_ = 0;
};

}  // namespace warden::audit
