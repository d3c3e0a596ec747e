#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "audit/log_file.h"
#include "audit/sink.h"

namespace warden::audit {

// One of the session's own log files as a sink: `warden.log` (Content::kLogLines: every batch's
// log lines) or `warden-ocsf.log` (Content::kJsonLines: every batch's JSON lines while
// SinkBatch::jsonl_enabled). A LogFile underneath keeps complete lines only, holds unwritten
// lines in memory up to its bound and retries them on every batch and tick(); the start and the
// end of a write failure are recorded through the SinkContext (LOG Write Failure / Write
// Recovered, an ERROR line and on_error). The pipeline drives what only it can decide:
// opening and closing the JSONL file (the toggle), rotation (one LOG:ROTATE for both files) and
// the loss count at close (docs/formats.md "Log files, integrity and durability").
//
// Owned by the pipeline (shared_ptr); every method runs on the audit writer thread.
class FileSink final : public Sink {
 public:
  enum class Content : uint8_t { kLogLines, kJsonLines };
  // Opens (creates, mode 0600) `<dir>/<name>` now when `open_now`, else leaves it closed until
  // openFile(). Errors: the file cannot be opened or is not a regular file.
  static Result<std::shared_ptr<FileSink>> create(const std::filesystem::path& dir, std::string name, Content content,
                                                  size_t max_pending_bytes, bool open_now);

  std::string_view name() const override { return name_; }
  Result<void> open(SinkContext& context) override;
  void write(const SinkBatch& batch) override;
  void sync() override;
  void tick() override;

  // The JSONL toggle: open (create) or close the file. Closing drops lines still held after a
  // failed write (reported) and returns how many.
  Result<void> openFile();
  uint64_t closeFile();
  bool isOpen() const { return file_.has_value(); }

  // Rotation (pipeline-driven). Renames the live file to `<name>.<date>[.N]` and opens a fresh
  // one; nullopt when the file is empty. Works on a closed family too (a JSONL file left from an
  // earlier enabled period). prune() deletes the oldest rotated files beyond `keep`.
  Result<std::optional<std::string>> rotate(std::string_view date);
  uint64_t prune(int keep) const;
  // True when the live file has reached `max_bytes` and holds more than a LOG:ROTATE line.
  bool wantsSizeRotation(uint64_t max_bytes) const;

  bool failing() const { return file_ && file_->failing(); }
  int lastError() const { return file_ ? file_->lastError() : 0; }
  // Lines lost so far (memory bound, closed while failing), this file's whole life.
  uint64_t linesLost() const { return lines_lost_closed_ + (file_ ? file_->linesLost() : 0); }
  // Write failure episodes so far (a file going from writable to failing).
  uint64_t failureEpisodes() const { return failure_episodes_; }
  // At close: drops what is still pending; returns (lines, error text) when something was.
  std::optional<std::pair<uint64_t, int>> discardPending();
  const std::filesystem::path& path() const { return path_; }

 private:
  FileSink(std::filesystem::path dir, std::string name, Content content, size_t max_pending_bytes)
      : dir_(std::move(dir)), name_(std::move(name)), path_(dir_ / name_), content_(content),
        max_pending_bytes_(max_pending_bytes) {}
  void append(std::string_view lines, uint64_t line_count);
  void onOutcome(LogFile::WriteOutcome outcome);

  const std::filesystem::path dir_;
  const std::string name_;
  const std::filesystem::path path_;
  const Content content_;
  const size_t max_pending_bytes_;
  SinkContext* context_ = nullptr;
  std::optional<LogFile> file_;
  uint64_t lines_since_rotate_ = 0;
  uint64_t lines_lost_closed_ = 0;
  uint64_t failure_episodes_ = 0;
};

}  // namespace warden::audit
