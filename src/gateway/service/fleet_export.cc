#include "gateway/service/fleet_export.h"

#include <fmt/format.h>
#include <unistd.h>

#include <deque>
#include <mutex>
#include <vector>

#include "audit/log_events.h"
#include "common/clock.h"

namespace warden::gateway {

using audit::exporting::ExportBacklog;
using audit::exporting::ExportBatch;
using audit::exporting::ExportReceiver;

// The store as the delivery loop's backlog. Marks are batch numbers; each remembers how far it
// took each session, and acknowledging it saves those cursors.
class FleetExport::StoreBacklog final : public ExportBacklog {
 public:
  StoreBacklog(EventStore& store, const AppendSignal& signal, std::shared_ptr<const ExportReceiver> receiver,
               size_t page)
      : store_(store), signal_(signal), receiver_(std::move(receiver)), name_(receiver_->url().name), page_(page) {}

  Result<void> load() {
    auto cursors = store_.loadExportCursors(name_);
    if (!cursors.ok()) return cursors.error().withContext(fmt::format("export {}: reading its cursor", name_));
    std::lock_guard lock(mu_);
    for (const auto& [session, sequence] : *cursors) committed_[session] = sequence;
    return okResult();
  }

  Result<ExportBatch> next(uint64_t after, size_t max_records, size_t max_bytes) override {
    if (after == acked_mark_) {
      // A new link, or everything sent was taken: go on after what the receiver took.
      std::lock_guard lock(mu_);
      if (read_ != committed_ || !in_flight_.empty()) {
        read_ = committed_;
        in_flight_.clear();
        rescan_ = true;
      }
    }
    const uint64_t generation = signal_.generation();
    if (!rescan_ && generation == idle_generation_) return ExportBatch{};
    auto sessions = store_.sessions();
    if (!sessions.ok()) return sessions.error();
    ExportBatch batch;
    std::vector<std::pair<std::string, uint64_t>> taken;
    size_t bytes = 0;
    for (const SessionRecord& s : *sessions) {
      if (batch.payloads.size() >= max_records || bytes >= max_bytes) break;
      auto highest = store_.highestContiguous(s.id);
      if (!highest.ok()) return highest.error();
      uint64_t pos = 0;
      {
        std::lock_guard lock(mu_);
        highest_[s.id] = *highest;
        pos = read_[s.id];
      }
      if (pos >= *highest) continue;
      const uint64_t start = pos;
      audit::exporting::SyslogHeader origin;
      origin.hostname = s.hostname;
      origin.session_id = s.id;
      origin.procid = static_cast<long>(::getpid());
      while (pos < *highest && batch.payloads.size() < max_records && bytes < max_bytes) {
        EventQuery q;
        q.session = s.id;
        q.after_sequence = pos;
        q.limit = std::min(page_, max_records - batch.payloads.size());
        auto events = store_.query(q);
        if (!events.ok()) return events.error();
        if (events->empty()) {
          pos = *highest;  // deleted by retention before they were exported
          break;
        }
        for (const StoredEvent& e : *events) {
          if (e.sequence > *highest) break;  // beyond a gap: wait until it is filled
          audit::SinkRecord record;
          record.sequence = e.sequence;
          record.time = e.time_ms;
          record.json = e.json;
          record.shorthand = e.shorthand;
          std::string& rendered = batch.payloads.emplace_back();
          receiver_->render(rendered, origin, record);
          bytes += rendered.size();
          pos = e.sequence;
          if (batch.payloads.size() >= max_records || bytes >= max_bytes) break;
        }
        if (events->back().sequence > *highest) break;
      }
      if (pos != start) taken.emplace_back(s.id, pos);
      std::lock_guard lock(mu_);
      read_[s.id] = pos;
    }
    if (batch.payloads.empty()) {
      idle_generation_ = generation;
      rescan_ = false;
      std::lock_guard lock(mu_);
      if (!taken.empty() && in_flight_.empty()) {
        // Only skips past events retention deleted: nothing to send, the cursors move on.
        if (auto saved = store_.saveExportCursors(name_, taken); !saved.ok()) return saved.error();
        for (const auto& [session, sequence] : taken) committed_[session] = std::max(committed_[session], sequence);
      }
      return batch;
    }
    rescan_ = true;  // there may be more than one batch held
    batch.mark = ++next_mark_;
    std::lock_guard lock(mu_);
    in_flight_.push_back({batch.mark, std::move(taken), batch.payloads.size()});
    return batch;
  }

  uint64_t acknowledgedMark() const override { return acked_mark_; }

  Result<void> acknowledge(uint64_t mark) override {
    std::vector<std::pair<std::string, uint64_t>> save;
    uint64_t events = 0;
    {
      std::lock_guard lock(mu_);
      while (!in_flight_.empty() && in_flight_.front().mark <= mark) {
        for (const auto& [session, sequence] : in_flight_.front().taken) save.emplace_back(session, sequence);
        events += in_flight_.front().events;
        in_flight_.pop_front();
      }
    }
    acked_mark_ = mark;
    if (save.empty()) return okResult();
    WARDEN_RETURN_IF_ERROR(store_.saveExportCursors(name_, save));
    std::lock_guard lock(mu_);
    for (const auto& [session, sequence] : save) committed_[session] = std::max(committed_[session], sequence);
    exported_ += events;
    return okResult();
  }

  uint64_t unacknowledged() const override {
    std::lock_guard lock(mu_);
    uint64_t n = 0;
    for (const auto& [session, highest] : highest_) {
      const auto c = committed_.find(session);
      const uint64_t done = c == committed_.end() ? 0 : c->second;
      if (highest > done) n += highest - done;
    }
    return n;
  }

  uint64_t cursor(const std::string& session) const {
    std::lock_guard lock(mu_);
    const auto c = committed_.find(session);
    return c == committed_.end() ? 0 : c->second;
  }

  uint64_t exported() const {
    std::lock_guard lock(mu_);
    return exported_;
  }

 private:
  struct InFlight {
    uint64_t mark = 0;
    std::vector<std::pair<std::string, uint64_t>> taken;  // (session, highest sequence in the batch)
    uint64_t events = 0;
  };
  EventStore& store_;
  const AppendSignal& signal_;
  const std::shared_ptr<const ExportReceiver> receiver_;
  const std::string name_;
  const size_t page_;
  // Delivery thread only.
  uint64_t acked_mark_ = 0;
  uint64_t next_mark_ = 0;
  uint64_t idle_generation_ = UINT64_MAX;
  bool rescan_ = true;
  // Guarded by mu_ (cursor(), unacknowledged() and stats() read them from other threads).
  mutable std::mutex mu_;
  std::map<std::string, uint64_t> committed_;  // what the receiver took, as persisted
  std::map<std::string, uint64_t> read_;       // how far the current link has read
  std::map<std::string, uint64_t> highest_;    // each session's highest contiguous sequence, last seen
  std::deque<InFlight> in_flight_;
  uint64_t exported_ = 0;
};

Result<std::unique_ptr<FleetExport>> FleetExport::start(EventStore& store, const AppendSignal& signal,
                                                        audit::Emitter& trail,
                                                        const ocsf::SessionContext& trail_session,
                                                        const audit::exporting::ExportUrl& url,
                                                        FleetExportOptions options) {
  auto receiver = ExportReceiver::make(url, options.settle);
  if (!receiver.ok()) return receiver.error();
  std::unique_ptr<FleetExport> out(new FleetExport());
  out->drain_ = options.drain;
  out->backlog_ = std::make_unique<StoreBacklog>(store, signal, *receiver, options.page);
  WARDEN_RETURN_IF_ERROR(out->backlog_->load());
  audit::exporting::ExportObserver observer;
  const ocsf::SessionContext* session = &trail_session;
  audit::Emitter* emitter = &trail;
  observer.down = [session, emitter](const audit::SinkFacts& f) {
    emitter->emit(audit::sinkUnreachableEvent(*session, f.since, f));
  };
  observer.up = [session, emitter](const audit::SinkFacts& f) {
    emitter->emit(audit::sinkReconnectedEvent(*session, SystemClock::instance().nowMillis(), f));
  };
  observer.report = [emitter](audit::Level level, const std::string& message) {
    emitter->operational(level, "export", message);
  };
  observer.now_ms = [] { return SystemClock::instance().nowMillis(); };
  out->delivery_ = std::make_unique<audit::exporting::ExportDelivery>(*receiver, *out->backlog_, options.delivery,
                                                                      std::move(observer));
  out->delivery_->start();
  return out;
}

FleetExport::~FleetExport() { close(); }

void FleetExport::close() {
  if (closed_ || !delivery_) return;
  closed_ = true;
  delivery_->drain(drain_);
}

FleetExportStats FleetExport::stats() const {
  FleetExportStats out;
  if (delivery_) {
    const auto d = delivery_->stats();
    out.connections = d.connections;
    out.outages = d.outages;
  }
  if (backlog_) out.exported = backlog_->exported();
  return out;
}

uint64_t FleetExport::cursor(const std::string& session) const { return backlog_ ? backlog_->cursor(session) : 0; }

}  // namespace warden::gateway
