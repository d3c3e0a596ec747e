#include "audit/export/spooled_export_sink.h"

#include <fmt/format.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/file_io.h"

#include <algorithm>

namespace warden::audit::exporting {

// The sink's spool as the delivery loop's backlog: marks are sequences.
class SpooledExportSink::SpoolBacklog final : public ExportBacklog {
 public:
  explicit SpoolBacklog(Spool& spool) : spool_(spool) {}
  Result<ExportBatch> next(uint64_t after, size_t max_records, size_t max_bytes) override {
    auto pending = spool_.pending(after, max_records, max_bytes);
    if (!pending.ok()) return pending.error();
    ExportBatch batch;
    batch.payloads.reserve(pending->size());
    for (SpooledEvent& e : *pending) {
      batch.mark = e.sequence;
      batch.payloads.push_back(std::move(e.json));
    }
    return batch;
  }
  uint64_t acknowledgedMark() const override { return spool_.ackedSequence(); }
  Result<void> acknowledge(uint64_t mark) override { return spool_.ack(mark); }
  uint64_t unacknowledged() const override { return spool_.lastSequence() - spool_.ackedSequence(); }

 private:
  Spool& spool_;
};

namespace {

// What a spool was written for: events rendered for one receiver are only sent to that receiver.
std::string receiverLabel(const ExportUrl& url) {
  const char* format = !url.isHttp() ? "syslog" : url.format == ExportUrl::Format::kEsBulk ? "es-bulk" : "ndjson";
  return fmt::format("{}\n{}\n", url.name, format);
}

constexpr const char* kReceiverFile = "receiver";

}  // namespace

SpooledExportSink::SpooledExportSink(SpooledExportOptions options) : options_(std::move(options)) {}

SpoolOptions SpooledExportSink::spoolOptions(const std::filesystem::path& dir) const {
  SpoolOptions o;
  o.dir = dir;
  o.max_bytes = options_.spool_max_bytes;
  // The session's own files are the durable record; this spool only has to survive the receiver.
  o.fsync_each_batch = false;
  o.owner_files = {kReceiverFile};
  return o;
}

ExportDeliveryOptions SpooledExportSink::deliveryOptions() const {
  ExportDeliveryOptions d;
  d.connect_timeout = options_.connect_timeout;
  d.backoff_min = options_.backoff_min;
  d.backoff_max = options_.backoff_max;
  return d;
}

Result<void> SpooledExportSink::adoptLeftovers() {
  const std::filesystem::path parent = options_.spool_dir.parent_path();
  const std::string prefix = options_.spool_dir.filename().string() + ".left-";
  std::error_code ec;
  std::vector<std::filesystem::path> dirs;
  for (const auto& entry : std::filesystem::directory_iterator(parent, ec)) {
    if (entry.is_directory(ec) && entry.path().filename().string().starts_with(prefix)) dirs.push_back(entry.path());
  }
  std::sort(dirs.begin(), dirs.end());  // oldest first (the suffix is epoch ms of the same width)
  const std::string label = receiverLabel(options_.url);
  for (const auto& dir : dirs) {
    auto written_for = readFileBounded(dir / kReceiverFile, 4096, OverLimit::kFail);
    if (!written_for.ok() || *written_for != label) {
      foreign_.push_back(dir);
      continue;
    }
    auto spool = Spool::open(spoolOptions(dir));
    if (!spool.ok()) {
      foreign_.push_back(dir);  // locked by a session still running, or unreadable: left alone
      continue;
    }
    Leftover l;
    l.dir = dir;
    l.spool = std::move(spool).value();
    l.backlog = std::make_unique<SpoolBacklog>(*l.spool);
    l.pending = l.backlog->unacknowledged();
    leftovers_.push_back(std::move(l));
  }
  return okResult();
}

void SpooledExportSink::closeLeftovers(std::chrono::steady_clock::time_point deadline) {
  for (Leftover& l : leftovers_) {
    if (!l.delivery) continue;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    const bool all = l.delivery->drain(std::max(left, std::chrono::milliseconds(0)));
    l.delivery.reset();
    const uint64_t pending = l.backlog->unacknowledged();
    l.backlog.reset();
    l.spool.reset();
    if (all) {
      std::error_code ec;
      std::filesystem::remove_all(l.dir, ec);
      context_->report(Level::kInfo, fmt::format("export {}: delivered the {} events an earlier session had left in {}",
                                                 options_.url.name, l.pending, l.dir.string()));
    } else {
      context_->report(Level::kWarn, fmt::format("export {}: {} events an earlier session left are still in {}",
                                                 options_.url.name, pending, l.dir.string()));
    }
  }
}

Result<std::shared_ptr<SpooledExportSink>> SpooledExportSink::make(SpooledExportOptions options) {
  auto receiver = ExportReceiver::make(options.url, options.settle);
  if (!receiver.ok()) return receiver.error();
  std::shared_ptr<SpooledExportSink> sink(new SpooledExportSink(std::move(options)));
  sink->receiver_ = std::move(receiver).value();
  const SpooledExportOptions& o = sink->options_;
  // A spool left by an earlier session in the same log directory holds another session's
  // sequences: it is moved aside (kept, and reported at open()), never appended to.
  std::error_code ec;
  if (std::filesystem::exists(o.spool_dir, ec)) {
    // Named by the time it was moved (sorting by name is oldest first); two moves in one
    // millisecond get a counter.
    std::filesystem::path aside = o.spool_dir.string() + fmt::format(".left-{}", SystemClock::instance().nowMillis());
    for (int n = 1; std::filesystem::exists(aside, ec); ++n) {
      aside = o.spool_dir.string() + fmt::format(".left-{}-{}", SystemClock::instance().nowMillis(), n);
    }
    std::filesystem::rename(o.spool_dir, aside, ec);
    if (ec) return errnoError(fmt::format("export {}: move the earlier spool {} aside", o.url.name, o.spool_dir.string()), ec.value());
    sink->earlier_spool_ = aside;
  }
  WARDEN_RETURN_IF_ERROR(sink->adoptLeftovers());
  auto spool = Spool::open(sink->spoolOptions(o.spool_dir));
  if (!spool.ok()) return spool.error().withContext(fmt::format("export {} spool {}", o.url.name, o.spool_dir.string()));
  sink->spool_ = std::move(spool).value();
  if (auto written = writeFileAtomically(o.spool_dir / kReceiverFile, receiverLabel(o.url), 0600); !written.ok()) {
    return written.error().withContext(fmt::format("export {} spool {}", o.url.name, o.spool_dir.string()));
  }
  sink->backlog_ = std::make_unique<SpoolBacklog>(*sink->spool_);
  sink->spool_sink_ = std::make_unique<SpoolSink>(o.url.name, *sink->spool_, [s = sink.get()] {
    if (s->delivery_) s->delivery_->wake();
  });
  return sink;
}

SpooledExportSink::~SpooledExportSink() {
  if (delivery_) delivery_->stop();
  for (Leftover& l : leftovers_) {
    if (l.delivery) l.delivery->stop();
  }
}

Result<void> SpooledExportSink::open(SinkContext& context) {
  context_ = &context;
  origin_.hostname = context.session().hostname;
  origin_.session_id = context.session().session_id;
  origin_.procid = static_cast<long>(::getpid());
  if (auto opened = spool_sink_->open(context); !opened.ok()) return opened;
  for (const auto& dir : foreign_) {
    context.report(Level::kWarn, fmt::format("export {}: an earlier session's undelivered events are kept in {} "
                                             "(written for another receiver or in use: not sent)",
                                             options_.url.name, dir.string()));
  }
  const ExportDeliveryOptions d = deliveryOptions();
  for (Leftover& l : leftovers_) {
    context.report(Level::kInfo, fmt::format("export {}: delivering the {} events an earlier session left in {}",
                                             options_.url.name, l.pending, l.dir.string()));
    ExportObserver quiet;  // this session's own delivery records the receiver's outages
    quiet.down = [](const SinkFacts&) {};
    quiet.up = [](const SinkFacts&) {};
    quiet.report = [this](Level level, const std::string& message) {
      context_->report(level, "(an earlier session's events) " + message);
    };
    quiet.now_ms = [this] { return context_->clock().nowMillis(); };
    l.delivery = std::make_unique<ExportDelivery>(receiver_, *l.backlog, d, std::move(quiet));
    l.delivery->start();
  }
  ExportObserver observer;
  observer.down = [this](const SinkFacts& f) { context_->record(sinkUnreachableEvent(context_->session(), f.since, f)); };
  observer.up = [this](const SinkFacts& f) {
    context_->record(sinkReconnectedEvent(context_->session(), context_->clock().nowMillis(), f));
  };
  observer.report = [this](Level level, const std::string& message) { context_->report(level, message); };
  observer.now_ms = [this] { return context_->clock().nowMillis(); };
  delivery_ = std::make_unique<ExportDelivery>(receiver_, *backlog_, d, std::move(observer));
  delivery_->start();
  return okResult();
}

void SpooledExportSink::write(const SinkBatch& batch) {
  if (batch.events.empty()) return;
  rendered_.resize(batch.events.size());
  records_.resize(batch.events.size());
  for (size_t i = 0; i < batch.events.size(); ++i) {
    rendered_[i].clear();
    receiver_->render(rendered_[i], origin_, batch.events[i]);
    records_[i] = batch.events[i];
    records_[i].json = rendered_[i];  // the spool keeps the event as it will be sent
  }
  SinkBatch copy = batch;
  copy.events = records_;
  spool_sink_->write(copy);
  std::lock_guard lock(mu_);
  skipped_ = spool_sink_->skipped();
}

Result<void> SpooledExportSink::close() {
  if (auto closed = spool_sink_->close(); !closed.ok()) return closed;
  if (!delivery_) return okResult();
  const auto deadline = std::chrono::steady_clock::now() + options_.drain;
  delivery_->drain(options_.drain);
  closeLeftovers(deadline);
  const uint64_t left = spool_->lastSequence() - spool_->ackedSequence();
  const SpooledExportStats last = stats();
  {
    std::lock_guard lock(mu_);
    final_ = last;
    closed_ = true;
    delivery_.reset();
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

SpooledExportStats SpooledExportSink::stats() const {
  std::lock_guard lock(mu_);
  if (closed_) return final_;
  SpooledExportStats out;
  if (delivery_) {
    const ExportDeliveryStats d = delivery_->stats();
    out.delivered_sequence = d.delivered_mark;
    out.connections = d.connections;
    out.outages = d.outages;
  }
  out.skipped = skipped_;
  return out;
}

}  // namespace warden::audit::exporting
