#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "audit/sink.h"

namespace warden::audit {

// The human copy of warden.log on a descriptor (`warden run --follow`, stdout, a pipe): exactly
// the warden.log bytes, in order. Written by the sink's own thread, so a slow or stopped reader
// never holds up the audit writer: write() only copies the batch's lines into a buffer of at
// most `max_buffered_bytes`. When a batch does not fit, its lines are skipped whole (never a
// partial line), counted, and recorded as LOG:SINK_OVERFLOW (at most once per second, with the
// sequence window; the files have everything). A reader that goes away (EPIPE) or another write
// error stops the copy, reported once. close() waits at most `close_timeout` for the buffer to
// drain, then reports what was not shown.
//
// The descriptor is borrowed and must stay open until close() returns. Writes wait for POLLOUT
// in slices of 100 ms and write at most PIPE_BUF bytes at a time, so the thread notices close()
// even when the reader is stuck. Thread-safe as the Sink contract requires.
class HumanSink final : public Sink {
 public:
  struct Options {
    int fd = 1;
    size_t max_buffered_bytes = 8u << 20;
    std::chrono::milliseconds close_timeout{2000};
  };
  explicit HumanSink(Options options) : options_(options) {}
  ~HumanSink() override;

  std::string_view name() const override { return "human output"; }
  Result<void> open(SinkContext& context) override;
  void write(const SinkBatch& batch) override;
  void tick() override;
  Result<void> close() override;

  uint64_t skippedLines() const;

 private:
  void run();
  // Writes all of `data`; false when the descriptor failed or close() gave up.
  bool writeAll(std::string_view data);
  void reportSkipped(bool force);

  const Options options_;
  SinkContext* context_ = nullptr;
  std::thread thread_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string buffer_;           // Guarded by mu_. Lines waiting for the thread.
  bool stopping_ = false;        // Guarded by mu_.
  bool failed_ = false;          // Guarded by mu_. The descriptor failed: nothing more is written.
  std::chrono::steady_clock::time_point give_up_{};  // Guarded by mu_. close()'s deadline.
  uint64_t skipped_lines_ = 0;   // Guarded by mu_. Total.
  // Writer thread only: the skip episode not yet recorded.
  uint64_t unreported_lines_ = 0;
  uint64_t unreported_first_seq_ = 0;
  uint64_t unreported_last_seq_ = 0;
  std::chrono::steady_clock::time_point last_report_{};
};

}  // namespace warden::audit
