#include "audit/export/export_delivery.h"

#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>

namespace warden::audit::exporting {

ExportDelivery::ExportDelivery(std::shared_ptr<const ExportReceiver> receiver, ExportBacklog& backlog,
                               ExportDeliveryOptions options, ExportObserver observer)
    : receiver_(std::move(receiver)),
      backlog_(backlog),
      options_(options),
      observer_(std::move(observer)),
      name_(receiver_->url().name),
      batch_records_(std::max<size_t>(1, options.batch_records)) {}

ExportDelivery::~ExportDelivery() { stop(); }

void ExportDelivery::start() {
  cursor_ = backlog_.acknowledgedMark();
  delivered_ = cursor_;
  thread_ = std::thread([this] { run(); });
}

void ExportDelivery::wake() {
  {
    std::lock_guard lock(mu_);
    appended_ = true;
  }
  wake_.notify_one();
}

void ExportDelivery::waitWake(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  wake_.wait_for(lock, timeout, [this] { return stop_ || appended_; });
  appended_ = false;
}

void ExportDelivery::noteDown(const std::string& error) {
  if (down_) return;
  down_ = true;
  down_since_ = std::chrono::steady_clock::now();
  down_since_ms_ = observer_.now_ms();
  {
    std::lock_guard lock(mu_);
    ++stats_.outages;
  }
  SinkFacts f;
  f.sink = name_;
  f.error = error;
  f.since = down_since_ms_;
  f.pending = backlog_.unacknowledged();
  observer_.report(Level::kWarn, fmt::format("export {} unreachable: {}; events wait for it", name_, error));
  observer_.down(f);
}

void ExportDelivery::noteUp() {
  if (!down_) return;
  down_ = false;
  SinkFacts f;
  f.sink = name_;
  f.since = down_since_ms_;
  f.down_ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - down_since_).count());
  f.pending = backlog_.unacknowledged();
  observer_.report(Level::kInfo,
                   fmt::format("export {} reconnected after {} ms; sending {} events", name_, f.down_ms, f.pending));
  observer_.up(f);
}

void ExportDelivery::dropLink(const std::string& error, bool outage) {
  if (link_) delivered_ = std::max(delivered_, link_->delivered(false));
  {
    std::lock_guard lock(mu_);
    live_ = nullptr;
  }
  link_.reset();
  acknowledge(true);  // what was delivered before the break stays delivered
  cursor_ = backlog_.acknowledgedMark();  // everything else is sent again
  if (outage) noteDown(error);
}

void ExportDelivery::acknowledge(bool now) {
  if (delivered_ <= backlog_.acknowledgedMark()) return;
  const auto t = std::chrono::steady_clock::now();
  if (!now && t - last_ack_ < options_.ack_interval) return;
  last_ack_ = t;
  if (auto acked = backlog_.acknowledge(delivered_); !acked.ok()) {
    observer_.report(Level::kError, fmt::format("export {}: acknowledging delivered events: {}", name_, acked.error().message()));
  }
  std::lock_guard lock(mu_);
  stats_.delivered_mark = backlog_.acknowledgedMark();
}

void ExportDelivery::run() {
  // A receiver that goes away makes a write raise SIGPIPE (OpenSSL writes without MSG_NOSIGNAL):
  // blocked on this thread, the write fails with EPIPE instead and the process lives on.
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
  auto backoff = options_.backoff_min;
  bool backlog_error_reported = false;
  while (true) {
    bool draining = false;
    {
      std::lock_guard lock(mu_);
      if (stop_) break;
      draining = draining_;
    }
    if (!link_) {
      auto connected = receiver_->connect(options_.connect_timeout);
      if (!connected.ok()) {
        noteDown(connected.error().message());
        if (draining) {
          // The end, and the receiver still does not answer: the rest stays where it is.
          {
            std::lock_guard lock(mu_);
            drained_ = true;
          }
          wake_.notify_all();
          break;
        }
        waitWake(backoff);
        backoff = std::min(backoff * 2, options_.backoff_max);
        continue;
      }
      link_ = std::move(connected).value();
      {
        std::lock_guard lock(mu_);
        if (stop_) break;
        live_ = link_.get();
        ++stats_.connections;
      }
      cursor_ = backlog_.acknowledgedMark();
      if (link_->upWhenConnected()) {
        backoff = options_.backoff_min;
        noteUp();
      }
    }
    delivered_ = std::max(delivered_, link_->delivered(draining));
    acknowledge(draining);
    if (link_->idleCloseIsNormal() && link_->settled() && link_->peerGone()) {
      // The receiver ended the connection between batches (an HTTP server's keep-alive limit or
      // `Connection: close`): a new link, not an outage.
      dropLink("", false);
      continue;
    }
    auto batch = backlog_.next(cursor_, batch_records_, options_.batch_bytes);
    if (!batch.ok()) {
      if (!backlog_error_reported) {
        backlog_error_reported = true;
        observer_.report(Level::kError, fmt::format("export {}: reading what to send: {}", name_, batch.error().message()));
      }
      waitWake(options_.backoff_max);
      continue;
    }
    if (batch->payloads.empty()) {
      if (link_->peerGone()) {
        const bool quiet = link_->idleCloseIsNormal() && link_->settled();
        dropLink("the receiver closed the connection", !quiet);
        continue;
      }
      if (draining && link_->settled() && backlog_.unacknowledged() == 0) {
        {
          std::lock_guard lock(mu_);
          drained_ = true;
        }
        wake_.notify_all();
      }
      waitWake(options_.idle_poll);
      continue;
    }
    if (auto sent = link_->send(batch->payloads, batch->mark); !sent.ok()) {
      {
        std::lock_guard lock(mu_);
        if (stop_) break;  // stop() interrupted the send: not an outage
      }
      if (sent.error().code() == Code::kResourceExhausted && batch_records_ > 1) {
        batch_records_ = std::max<size_t>(1, std::min(batch_records_, batch->payloads.size()) / 2);
        observer_.report(Level::kWarn, fmt::format("export {}: {}; sending at most {} events per batch from now on",
                                                   name_, sent.error().message(), batch_records_));
        dropLink(sent.error().message(), false);
        continue;
      }
      dropLink(sent.error().message(), true);
      waitWake(backoff);
      backoff = std::min(backoff * 2, options_.backoff_max);
      continue;
    }
    cursor_ = batch->mark;
    if (!link_->upWhenConnected()) {
      backoff = options_.backoff_min;
      noteUp();
    }
  }
  std::lock_guard lock(mu_);
  live_ = nullptr;
}

bool ExportDelivery::drain(std::chrono::milliseconds timeout) {
  if (!thread_.joinable()) return backlog_.unacknowledged() == 0;
  {
    std::unique_lock lock(mu_);
    draining_ = true;
    appended_ = true;
    wake_.notify_all();
    wake_.wait_for(lock, timeout, [this] { return drained_; });
  }
  stop();
  return backlog_.unacknowledged() == 0;
}

void ExportDelivery::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    if (live_ != nullptr) live_->interrupt();
  }
  wake_.notify_all();
  if (!thread_.joinable()) return;
  thread_.join();
  if (link_) delivered_ = std::max(delivered_, link_->delivered(true));
  acknowledge(true);
  link_.reset();
}

ExportDeliveryStats ExportDelivery::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace warden::audit::exporting
