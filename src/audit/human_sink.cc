#include "audit/human_sink.h"

#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include <fmt/format.h>

#include "audit/log_events.h"

namespace warden::audit {

HumanSink::~HumanSink() { (void)close(); }

Result<void> HumanSink::open(SinkContext& context) {
  context_ = &context;
  try {
    thread_ = std::thread([this] { run(); });
  } catch (const std::system_error& e) {
    return internalError(fmt::format("human output: cannot start its thread: {}", e.what()));
  }
  return okResult();
}

void HumanSink::write(const SinkBatch& batch) {
  if (batch.log_lines.empty()) return;
  {
    std::lock_guard lk(mu_);
    if (failed_) return;
    if (buffer_.size() + batch.log_lines.size() <= options_.max_buffered_bytes) {
      buffer_.append(batch.log_lines);
      cv_.notify_one();
      return;
    }
    skipped_lines_ += batch.events.size() + batch.operational_lines;
  }
  unreported_lines_ += batch.events.size() + batch.operational_lines;
  if (!batch.events.empty()) {
    if (unreported_first_seq_ == 0) unreported_first_seq_ = batch.events.front().sequence;
    unreported_last_seq_ = batch.events.back().sequence;
  }
  reportSkipped(false);
}

void HumanSink::tick() { reportSkipped(false); }

void HumanSink::reportSkipped(bool force) {
  if (unreported_lines_ == 0 || context_ == nullptr) return;
  const auto now = context_->clock().steadyNow();
  if (!force && last_report_.time_since_epoch().count() != 0 && now - last_report_ < std::chrono::seconds(1)) return;
  last_report_ = now;
  SinkFacts f;
  f.sink = std::string(name());
  f.error = fmt::format("the reader of fd {} fell more than {} bytes behind; {} lines not shown", options_.fd,
                        options_.max_buffered_bytes, unreported_lines_);
  f.skipped = unreported_lines_;
  f.first_seq = unreported_first_seq_;
  f.last_seq = unreported_last_seq_;
  context_->record(sinkOverflowEvent(context_->session(), context_->clock().nowMillis(), f));
  unreported_lines_ = 0;
  unreported_first_seq_ = unreported_last_seq_ = 0;
}

void HumanSink::run() {
  // A reader that went away must give EPIPE here, not kill the process.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::string taken;
  while (true) {
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [&] { return !buffer_.empty() || stopping_; });
      if (buffer_.empty()) return;  // stopping and drained
      taken.swap(buffer_);
    }
    const bool ok = writeAll(taken);
    taken.clear();
    if (!ok) return;
  }
}

bool HumanSink::writeAll(std::string_view data) {
  while (!data.empty()) {
    pollfd p{.fd = options_.fd, .events = POLLOUT, .revents = 0};
    const int ready = ::poll(&p, 1, 100);
    if (ready == 0 || (ready < 0 && errno == EINTR)) {
      std::lock_guard lk(mu_);
      if (stopping_ && std::chrono::steady_clock::now() >= give_up_) return false;
      continue;
    }
    // POLLOUT on a pipe promises room for PIPE_BUF bytes: a write of that size cannot block.
    const ssize_t n = ::write(options_.fd, data.data(), std::min<size_t>(data.size(), PIPE_BUF));
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    const int err = n < 0 ? errno : EIO;
    {
      std::lock_guard lk(mu_);
      failed_ = true;
      buffer_.clear();
    }
    if (context_ != nullptr) {
      context_->report(Level::kError, fmt::format("human output (fd {}) stopped: {}", options_.fd, std::strerror(err)));
    }
    return false;
  }
  return true;
}

Result<void> HumanSink::close() {
  if (!thread_.joinable()) return okResult();
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
    give_up_ = std::chrono::steady_clock::now() + options_.close_timeout;
  }
  cv_.notify_one();
  thread_.join();
  uint64_t left = 0;
  {
    std::lock_guard lk(mu_);
    for (const char c : buffer_) left += c == '\n' ? 1 : 0;
    buffer_.clear();
  }
  if (left > 0 && context_ != nullptr) {
    context_->report(Level::kWarn, fmt::format("human output (fd {}): {} lines not shown when the session closed "
                                               "(the reader was not reading)",
                                               options_.fd, left));
  }
  return okResult();
}

uint64_t HumanSink::skippedLines() const {
  std::lock_guard lk(mu_);
  return skipped_lines_;
}

}  // namespace warden::audit
