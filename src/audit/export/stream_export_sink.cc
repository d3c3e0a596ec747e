#include "audit/export/stream_export_sink.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>

#include "audit/log_events.h"
#include "common/clock.h"

namespace warden::audit::exporting {
namespace {

constexpr size_t kBatchRecords = 1024;
constexpr size_t kBatchBytes = 1u << 20;
constexpr std::chrono::milliseconds kIdlePoll{100};
constexpr std::chrono::milliseconds kAckInterval{250};

}  // namespace

Result<std::shared_ptr<StreamExportSink>> StreamExportSink::make(StreamExportOptions options) {
  if (options.url.transport == ExportUrl::Transport::kUdp) {
    return invalidArgument(fmt::format("export URL '{}': not a stream transport", options.url.name));
  }
  std::shared_ptr<StreamExportSink> sink(new StreamExportSink(std::move(options)));
  const StreamExportOptions& o = sink->options_;
  if (o.url.transport == ExportUrl::Transport::kTls) {
    auto tls = TlsClientContext::make(o.url);
    if (!tls.ok()) return tls.error();
    sink->tls_ = std::move(tls).value();
  }
  SpoolOptions spool_options;
  spool_options.dir = o.spool_dir;
  spool_options.max_bytes = o.spool_max_bytes;
  // The session's own files are the durable record; this spool only has to survive the receiver.
  spool_options.fsync_each_batch = false;
  // A spool left by an earlier session in the same log directory holds another session's
  // sequences: it is moved aside (kept, and reported at open()), never appended to.
  std::error_code ec;
  if (std::filesystem::exists(o.spool_dir, ec)) {
    const std::filesystem::path aside =
        o.spool_dir.string() + fmt::format(".left-{}", SystemClock::instance().nowMillis());
    std::filesystem::rename(o.spool_dir, aside, ec);
    if (ec) return errnoError(fmt::format("export {}: move the earlier spool {} aside", o.url.name, o.spool_dir.string()), ec.value());
    sink->earlier_spool_ = aside;
  }
  auto spool = Spool::open(spool_options);
  if (!spool.ok()) return spool.error().withContext(fmt::format("export {} spool {}", o.url.name, o.spool_dir.string()));
  sink->spool_ = std::move(spool).value();
  sink->spool_sink_ = std::make_unique<SpoolSink>(o.url.name, *sink->spool_, [s = sink.get()] {
    {
      std::lock_guard lock(s->mu_);
      s->appended_ = true;
    }
    s->wake_.notify_one();
  });
  return sink;
}

StreamExportSink::~StreamExportSink() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    if (live_ != nullptr) live_->interrupt();
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Result<void> StreamExportSink::open(SinkContext& context) {
  context_ = &context;
  header_.hostname = context.session().hostname;
  header_.session_id = context.session().session_id;
  header_.procid = static_cast<long>(::getpid());
  if (auto opened = spool_sink_->open(context); !opened.ok()) return opened;
  if (!earlier_spool_.empty()) {
    context.report(Level::kWarn, fmt::format("export {}: an earlier session's undelivered events are kept in {} "
                                             "(not sent: this session starts a spool of its own)",
                                             options_.url.name, earlier_spool_.string()));
  }
  // Continue after whatever an earlier run left unacknowledged in this spool.
  cursor_ = spool_->ackedSequence();
  thread_ = std::thread([this] { run(); });
  return okResult();
}

void StreamExportSink::write(const SinkBatch& batch) {
  if (batch.events.empty()) return;
  rendered_.resize(batch.events.size());
  records_.resize(batch.events.size());
  for (size_t i = 0; i < batch.events.size(); ++i) {
    rendered_[i].clear();
    appendSyslogMessage(rendered_[i], header_, batch.events[i]);
    records_[i] = batch.events[i];
    records_[i].json = rendered_[i];  // the spool keeps the message as it will be sent
  }
  SinkBatch copy = batch;
  copy.events = records_;
  spool_sink_->write(copy);
  std::lock_guard lock(mu_);
  stats_.skipped = spool_sink_->skipped();
}

void StreamExportSink::waitWake(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  wake_.wait_for(lock, timeout, [this] { return stop_ || appended_; });
  appended_ = false;
}

void StreamExportSink::noteDown(const std::string& error) {
  if (down_) return;
  down_ = true;
  down_since_ = std::chrono::steady_clock::now();
  down_since_ms_ = context_->clock().nowMillis();
  SinkFacts f;
  f.sink = options_.url.name;
  f.error = error;
  f.since = down_since_ms_;
  f.pending = spool_->lastSequence() - spool_->ackedSequence();
  {
    std::lock_guard lock(mu_);
    ++stats_.outages;
  }
  context_->report(Level::kWarn, fmt::format("export {} unreachable: {}; events wait in its spool", f.sink, error));
  context_->record(sinkUnreachableEvent(context_->session(), f.since, f));
}

void StreamExportSink::noteUp() {
  {
    std::lock_guard lock(mu_);
    ++stats_.connections;
  }
  if (!down_) return;
  down_ = false;
  SinkFacts f;
  f.sink = options_.url.name;
  f.since = down_since_ms_;
  f.down_ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - down_since_).count());
  f.pending = spool_->lastSequence() - spool_->ackedSequence();
  context_->report(Level::kInfo, fmt::format("export {} reconnected after {} ms; sending {} events", f.sink,
                                             f.down_ms, f.pending));
  context_->record(sinkReconnectedEvent(context_->session(), context_->clock().nowMillis(), f));
}

void StreamExportSink::breakConnection(const std::string& error) {
  {
    std::lock_guard lock(mu_);
    live_ = nullptr;
  }
  conn_.reset();
  in_flight_.clear();
  persistAck();                       // what had settled before the break stays delivered
  cursor_ = spool_->ackedSequence();  // everything not acknowledged is sent again
  noteDown(error);
}

void StreamExportSink::updateAcks(bool settle_waived) {
  if (!conn_) return;
  const uint64_t sent = conn_->bytesSent();
  const uint64_t unacked = std::min(conn_->unacknowledged(), sent);
  const uint64_t acked_bytes = sent - unacked;
  const auto now = std::chrono::steady_clock::now();
  for (InFlight& f : in_flight_) {
    if (f.end_bytes > acked_bytes) break;
    if (f.acked_at == std::chrono::steady_clock::time_point{}) f.acked_at = now;
  }
  while (!in_flight_.empty() && in_flight_.front().acked_at != std::chrono::steady_clock::time_point{} &&
         (settle_waived || now - in_flight_.front().acked_at >= options_.settle)) {
    settled_ = in_flight_.front().last_sequence;
    in_flight_.pop_front();
  }
  // Each Spool::ack() fdatasyncs its ack file: at most one every kAckInterval while streaming.
  if (settled_ <= spool_->ackedSequence()) return;
  if (!settle_waived && now - last_ack_ < kAckInterval) return;
  persistAck();
}

void StreamExportSink::persistAck() {
  if (settled_ <= spool_->ackedSequence()) return;
  last_ack_ = std::chrono::steady_clock::now();
  if (auto acked = spool_->ack(settled_); !acked.ok()) {
    context_->report(Level::kError, fmt::format("export {}: spool ack: {}", options_.url.name, acked.error().message()));
  }
  std::lock_guard lock(mu_);
  stats_.delivered_sequence = spool_->ackedSequence();
}

void StreamExportSink::run() {
  auto backoff = options_.backoff_min;
  bool spool_error_reported = false;
  while (true) {
    bool draining = false;
    {
      std::lock_guard lock(mu_);
      if (stop_) break;
      draining = draining_;
    }
    if (!conn_) {
      auto connected = StreamConnection::connect(options_.url, tls_.get(), options_.connect_timeout);
      if (!connected.ok()) {
        noteDown(connected.error().message());
        if (draining) {
          // The session is over and the receiver still does not answer: the rest stays in the spool.
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
      conn_ = std::move(connected).value();
      {
        std::lock_guard lock(mu_);
        if (stop_) break;
        live_ = conn_.get();
      }
      backoff = options_.backoff_min;
      cursor_ = spool_->ackedSequence();
      noteUp();
    }
    updateAcks(draining);
    auto pending = spool_->pending(cursor_, kBatchRecords, kBatchBytes);
    if (!pending.ok()) {
      if (!spool_error_reported) {
        spool_error_reported = true;
        context_->report(Level::kError,
                         fmt::format("export {}: reading its spool: {}", options_.url.name, pending.error().message()));
      }
      waitWake(options_.backoff_max);
      continue;
    }
    if (pending->empty()) {
      if (conn_->peerGone()) {
        breakConnection("the receiver closed the connection");
        continue;
      }
      if (draining && in_flight_.empty() && spool_->ackedSequence() == spool_->lastSequence()) {
        {
          std::lock_guard lock(mu_);
          drained_ = true;
        }
        wake_.notify_all();
      }
      waitWake(kIdlePoll);
      continue;
    }
    frame_.clear();
    for (const SpooledEvent& e : *pending) fmt::format_to(std::back_inserter(frame_), "{} {}", e.json.size(), e.json);
    if (auto written = conn_->write(frame_); !written.ok()) {
      {
        std::lock_guard lock(mu_);
        if (stop_) break;  // close() interrupted the write: not an outage
      }
      breakConnection(written.error().message());
      continue;
    }
    cursor_ = pending->back().sequence;
    in_flight_.push_back({cursor_, conn_->bytesSent(), {}});
  }
  std::lock_guard lock(mu_);
  live_ = nullptr;
}

Result<void> StreamExportSink::close() {
  if (auto closed = spool_sink_->close(); !closed.ok()) return closed;
  if (!thread_.joinable()) return okResult();
  {
    std::unique_lock lock(mu_);
    draining_ = true;
    appended_ = true;
    wake_.notify_all();
    wake_.wait_for(lock, options_.drain, [this] { return drained_; });
    stop_ = true;
    if (live_ != nullptr) live_->interrupt();
  }
  wake_.notify_all();
  thread_.join();
  persistAck();
  conn_.reset();
  const uint64_t left = spool_->lastSequence() - spool_->ackedSequence();
  {
    std::lock_guard lock(mu_);
    stats_.delivered_sequence = spool_->ackedSequence();
  }
  spool_.reset();
  if (left == 0) {
    std::error_code ec;
    std::filesystem::remove_all(options_.spool_dir, ec);
    return okResult();
  }
  context_->report(Level::kError, fmt::format("export {}: {} events were not delivered; they are kept in {}",
                                              options_.url.name, left, options_.spool_dir.string()));
  return okResult();
}

StreamExportStats StreamExportSink::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace warden::audit::exporting
