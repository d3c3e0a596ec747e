#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"

namespace warden::gateway {

// `warden logs --log-dir DIR`: a session's events read from its log directory instead of a gateway.
// warden.log (shorthand lines, format kShorthand) or, for --json, warden-ocsf.log (canonical JSONL,
// format kJson) — rotated files oldest first, then the live file — filtered here as the gateway
// would filter them.

struct LogDirFilter {
  int64_t since_ms = 0;              // events with time >= since_ms; 0: all
  std::vector<std::string> classes;  // shorthand families (NET, HTTP, ...); empty: all
  int min_severity = 0;              // severity_id >= this; 0: all
};

enum class LogDirFormat { kShorthand, kJson };

// True when `line` (no newline) is an event of `format` that passes `filter`. A warden.log line is
// an event when it reads `<UTC ts ms> OCSF <shorthand>`; the operational lines interleaved with
// them (`<ts> <LEVEL> <component>: ...`) never match. A JSONL line must be a JSON object; its
// family is told from class_uid (and, where several families share a class, from the fields their
// builders set: unmapped.package for PKG, app.name "warden-session" for SESSION, unmapped.limit for
// LIMIT). Pure; thread-safe.
bool logLineMatches(std::string_view line, LogDirFormat format, const LogDirFilter& filter);
// The family of one JSONL event as logLineMatches() tells it ("" when the line is not an object).
std::string jsonEventClass(std::string_view line);

// Reads a log directory's file family and then, optionally, follows it.
// Lines are handed over complete (a line still being written is held until its '\n'), without the
// newline, oldest first. Following survives rotation (the live file renamed and a new one created:
// the old one is read to its end first) and truncation (read again from the start). Waits use
// inotify on the directory; nothing polls on a timer.
// Owns its descriptors; not thread-safe; movable.
class LogDirReader {
 public:
  using LineFn = std::function<void(std::string_view line)>;

  // NotFound when `dir` is not a directory.
  static Result<LogDirReader> open(std::filesystem::path dir, LogDirFormat format, LogDirFilter filter);

  // Every matching line of the rotated files, then of the live file up to its current end (the
  // live file may not exist yet: then nothing).
  Result<void> readAll(const LineFn& on_line);
  // Every matching line appended after readAll() until `stop_fd` becomes readable (e.g. a
  // signalfd for SIGINT). Returns OK then; an Error when the directory cannot be watched or read.
  Result<void> follow(const LineFn& on_line, int stop_fd);

  // True when the directory holds the live file or a rotated one of this family.
  bool hasFiles() const;
  // The live file's name in the directory ("warden.log" or "warden-ocsf.log").
  const std::string& liveName() const { return name_; }

 private:
  LogDirReader() = default;
  // Reads what `fd` has now; hands complete lines over and keeps the rest in partial_.
  Result<void> readAvailable(int fd, const std::string& what, const LineFn& on_line);
  void handLines(const LineFn& on_line);
  // Reads the live file's new bytes, switching to a new live file after a rotation.
  Result<void> drainLive(const LineFn& on_line);

  std::filesystem::path dir_;
  std::string name_;
  LogDirFormat format_ = LogDirFormat::kShorthand;
  LogDirFilter filter_;
  UniqueFd live_;  // the live file as opened (-1 until it exists)
  dev_t live_dev_ = 0;
  ino_t live_ino_ = 0;
  uint64_t offset_ = 0;    // bytes of the live file read so far
  std::string partial_;    // bytes after the last '\n' read
  bool skipping_ = false;  // inside a line over the length limit: dropped up to its '\n'
};

}  // namespace warden::gateway
