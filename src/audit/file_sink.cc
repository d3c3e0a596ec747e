#include "audit/file_sink.h"

#include <cstring>
#include <system_error>

#include <fmt/format.h>

#include "audit/log_events.h"

namespace warden::audit {

namespace {
std::string errnoText(int err) { return err == 0 ? std::string("unknown error") : std::string(std::strerror(err)); }
}  // namespace

Result<std::shared_ptr<FileSink>> FileSink::create(const std::filesystem::path& dir, std::string name, Content content,
                                                   size_t max_pending_bytes, bool open_now) {
  std::shared_ptr<FileSink> s(new FileSink(dir, std::move(name), content, max_pending_bytes));
  if (open_now) WARDEN_RETURN_IF_ERROR(s->openFile());
  return s;
}

Result<void> FileSink::open(SinkContext& context) {
  context_ = &context;
  return okResult();
}

Result<void> FileSink::openFile() {
  if (file_) return okResult();
  auto f = LogFile::open(dir_, name_, max_pending_bytes_);
  if (!f.ok()) return f.error();
  file_ = std::move(f).value();
  lines_since_rotate_ = 0;
  return okResult();
}

uint64_t FileSink::closeFile() {
  if (!file_) return 0;
  uint64_t dropped = 0;
  if (file_->hasPending()) {
    dropped = file_->discardPending();
    if (context_ != nullptr) {
      context_->report(Level::kError,
                       fmt::format("{}: {} lines could not be written before JSONL output was disabled", name_, dropped));
    }
  }
  lines_lost_closed_ += file_->linesLost();
  file_.reset();
  return dropped;
}

void FileSink::write(const SinkBatch& batch) {
  if (content_ == Content::kLogLines) {
    append(batch.log_lines, batch.events.size() + batch.operational_lines);
  } else if (batch.jsonl_enabled) {
    append(batch.json_lines, batch.events.size());
  }
}

void FileSink::append(std::string_view lines, uint64_t line_count) {
  if (!file_) return;
  if (lines.empty() && !file_->failing() && !file_->hasPending()) return;
  onOutcome(file_->append(lines));
  lines_since_rotate_ += line_count;
}

void FileSink::tick() {
  if (file_ && (file_->failing() || file_->hasPending())) onOutcome(file_->retry());
}

void FileSink::sync() {
  if (!file_ || file_->failing()) return;
  if (!file_->sync() && context_ != nullptr) {
    context_->report(Level::kError, fmt::format("fdatasync {}: {}", name_, errnoText(file_->lastError())));
  }
}

void FileSink::onOutcome(LogFile::WriteOutcome outcome) {
  if (context_ == nullptr) return;
  LogFile& file = *file_;
  switch (outcome) {
    case LogFile::WriteOutcome::kOk:
    case LogFile::WriteOutcome::kStillFailing:
      return;
    case LogFile::WriteOutcome::kFailed: {
      ++failure_episodes_;
      const int64_t now = context_->clock().nowMillis();
      file.setFailingSinceMs(now);
      const WriteFailureFacts f{.file = name_, .error = errnoText(file.lastError()), .since = now, .lines_delayed = 0,
                                .lines_lost = 0};
      context_->report(Level::kError,
                       fmt::format("{}: write failed: {}; the file keeps complete lines only, {} lines held in memory "
                                   "and retried",
                                   file.path().string(), f.error, file.pendingLines()));
      context_->record(writeFailureEvent(context_->session(), now, f));
      return;
    }
    case LogFile::WriteOutcome::kRecovered: {
      const WriteFailureFacts f{.file = name_, .error = errnoText(file.lastError()), .since = file.failingSinceMs(),
                                .lines_delayed = file.linesDelayed(), .lines_lost = file.linesLost()};
      lines_lost_closed_ += file.linesLost();
      file.clearFailureCounts();
      context_->report(Level::kInfo, fmt::format("{}: writing works again; {} lines written late, {} lines lost", name_,
                                                 f.lines_delayed, f.lines_lost));
      context_->record(writeRecoveredEvent(context_->session(), context_->clock().nowMillis(), f));
      return;
    }
  }
}

Result<std::optional<std::string>> FileSink::rotate(std::string_view date) {
  if (file_) {
    auto r = file_->rotate(date);
    if (r.ok() && r.value()) lines_since_rotate_ = 0;
    return r;
  }
  // Closed: a file left from an earlier enabled period still moves aside.
  std::error_code ec;
  if (std::filesystem::file_size(path_, ec) == 0 || ec) return std::optional<std::string>();
  auto closed = LogFile::open(dir_, name_, 0);
  if (!closed.ok()) return closed.error();
  return closed->rotate(date);
}

uint64_t FileSink::prune(int keep) const { return LogFile::pruneFamily(dir_, name_, keep); }

bool FileSink::wantsSizeRotation(uint64_t max_bytes) const {
  return file_ && max_bytes > 0 && file_->size() >= max_bytes && lines_since_rotate_ > 1;
}

std::optional<std::pair<uint64_t, int>> FileSink::discardPending() {
  if (!file_ || !file_->hasPending()) return std::nullopt;
  const uint64_t n = file_->discardPending();
  return std::make_pair(n, file_->lastError());
}

}  // namespace warden::audit
