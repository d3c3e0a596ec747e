#include "audit/spool_sink.h"

#include <fmt/format.h>

#include "audit/log_events.h"

namespace warden::audit {

Result<void> SpoolSink::open(SinkContext& context) {
  context_ = &context;
  return okResult();
}

void SpoolSink::write(const SinkBatch& batch) {
  if (batch.events.empty()) return;
  views_.clear();
  for (const SinkRecord& r : batch.events) views_.emplace_back(r.sequence, r.json, r.shorthand);
  const auto appended = spool_.append(std::span<const SpooledEventView>(views_));
  if (appended.ok()) {
    reportSkipped(true);  // an episode that just ended is recorded at once
    if (on_appended_) on_appended_();
    return;
  }
  skipped_total_ += batch.events.size();
  unreported_ += batch.events.size();
  if (first_seq_ == 0) first_seq_ = batch.events.front().sequence;
  last_seq_ = batch.events.back().sequence;
  error_ = appended.error().message();
  reportSkipped(false);
}

void SpoolSink::reportSkipped(bool force) {
  if (unreported_ == 0 || context_ == nullptr) return;
  const auto now = context_->clock().steadyNow();
  if (!force && last_report_.time_since_epoch().count() != 0 && now - last_report_ < std::chrono::seconds(1)) return;
  last_report_ = now;
  SinkFacts f;
  f.sink = name_;
  f.error = error_;
  f.skipped = unreported_;
  f.first_seq = first_seq_;
  f.last_seq = last_seq_;
  context_->report(Level::kError, fmt::format("{}: events {}-{} could not be spooled: {}", name_, first_seq_,
                                              last_seq_, error_));
  context_->record(sinkOverflowEvent(context_->session(), context_->clock().nowMillis(), f));
  unreported_ = 0;
  first_seq_ = last_seq_ = 0;
}

}  // namespace warden::audit
