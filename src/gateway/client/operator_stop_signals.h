#pragma once

#include <signal.h>

#include "common/result.h"
#include "common/unique_fd.h"

namespace warden::gateway {

// SIGINT and SIGTERM as a readable descriptor, for the operator commands that run until the user
// stops them (`warden logs --follow`). start() blocks both signals in the calling thread — create
// it before any other thread starts, so that every thread inherits the mask and only fd() sees
// them — and opens a signalfd; the destructor consumes pending stop signals (the command ends
// normally, not by the signal) and restores the previous mask.
// Owns the descriptor; movable; not thread-safe (fd() may be polled from any one thread).
class StopSignals {
 public:
  static Result<StopSignals> start();
  ~StopSignals();
  StopSignals(StopSignals&& other) noexcept;
  StopSignals& operator=(StopSignals&&) = delete;
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // Readable once a stop signal is pending.
  int fd() const { return fd_.get(); }

 private:
  StopSignals() = default;
  UniqueFd fd_;
  sigset_t previous_{};
  bool restore_ = false;
};

}  // namespace warden::gateway
