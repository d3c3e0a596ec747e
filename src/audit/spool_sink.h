#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "audit/sink.h"
#include "audit/spool.h"

namespace warden::audit {

// A sink that appends every batch to an on-disk audit::Spool: the gateway push tap of
// `warden run --gateway` (the SessionLink reads the spool with its own cursor and acknowledges),
// and the store a durable export delivers from. write() is one Spool::append (one write(), plus
// fdatasync when the spool was opened with fsync_each_batch) and then `on_appended` (which must
// not block: it wakes the reader). An append the spool refuses — full (its max_bytes), or a disk
// error — skips that batch for this sink only (the session's files have it, and the reader sees
// the missing sequences); it is recorded as LOG:SINK_OVERFLOW with the count and sequence window,
// at most once per second while it lasts and once more when appends work again.
//
// The spool is borrowed and must outlive the pipeline. Writer thread only.
class SpoolSink final : public Sink {
 public:
  SpoolSink(std::string name, Spool& spool, std::function<void()> on_appended = {})
      : name_(std::move(name)), spool_(spool), on_appended_(std::move(on_appended)) {}

  std::string_view name() const override { return name_; }
  Result<void> open(SinkContext& context) override;
  void write(const SinkBatch& batch) override;
  void tick() override { reportSkipped(false); }
  // An episode still unreported at the end (the last batches, the final checkpoint's included,
  // did not fit) is reported now: after the final checkpoint that is an operational line.
  Result<void> close() override {
    reportSkipped(true);
    return okResult();
  }

  uint64_t skipped() const { return skipped_total_; }

 private:
  void reportSkipped(bool force);

  const std::string name_;
  Spool& spool_;
  const std::function<void()> on_appended_;
  SinkContext* context_ = nullptr;
  std::vector<SpooledEventView> views_;
  uint64_t skipped_total_ = 0;
  // The episode not yet recorded.
  uint64_t unreported_ = 0;
  uint64_t first_seq_ = 0, last_seq_ = 0;
  std::string error_;
  std::chrono::steady_clock::time_point last_report_{};
};

// A sink that hands every batch to a function (on the writer thread; it must not block for long
// and must not call close() or emit()). The views in the batch are valid only during the call.
class CallbackSink final : public Sink {
 public:
  CallbackSink(std::string name, std::function<void(const SinkBatch&)> fn) : name_(std::move(name)), fn_(std::move(fn)) {}
  std::string_view name() const override { return name_; }
  void write(const SinkBatch& batch) override {
    if (fn_) fn_(batch);
  }

 private:
  const std::string name_;
  const std::function<void(const SinkBatch&)> fn_;
};

}  // namespace warden::audit
