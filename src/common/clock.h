#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace warden {

// A source of time, injectable so tests control it. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, epoch milliseconds (UTC).
  virtual int64_t nowMillis() const = 0;
  // Monotonic time, for intervals and deadlines.
  virtual std::chrono::steady_clock::time_point steadyNow() const = 0;
};

// The real clocks. A process-wide instance; never destroyed.
class SystemClock final : public Clock {
 public:
  static const SystemClock& instance();
  int64_t nowMillis() const override;
  std::chrono::steady_clock::time_point steadyNow() const override;
};

// A clock tests set and advance by hand. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_millis) : millis_(start_millis) {}
  int64_t nowMillis() const override { return millis_.load(); }
  std::chrono::steady_clock::time_point steadyNow() const override {
    return std::chrono::steady_clock::time_point(std::chrono::milliseconds(millis_.load()));
  }
  void advanceMillis(int64_t ms) { millis_ += ms; }
  void setMillis(int64_t ms) { millis_ = ms; }

 private:
  std::atomic<int64_t> millis_;
};

// "2026-11-23T13:27:09.123Z" for epoch milliseconds.
std::string formatUtcMillis(int64_t epoch_millis);
// The same, appended to `out` without a temporary (the hot path of every log line).
void appendUtcMillis(std::string& out, int64_t epoch_millis);
// "2026-11-23" (the UTC day) for epoch milliseconds.
std::string formatUtcDate(int64_t epoch_millis);
// Epoch milliseconds of the UTC midnight that starts the day after `epoch_millis`.
int64_t nextUtcMidnight(int64_t epoch_millis);

}  // namespace warden
