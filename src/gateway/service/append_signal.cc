#include "gateway/service/append_signal.h"

namespace warden::gateway {

void AppendSignal::notify() {
  {
    std::lock_guard lock(mu_);
    ++generation_;
  }
  changed_.notify_all();
}

void AppendSignal::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  changed_.notify_all();
}

uint64_t AppendSignal::generation() const {
  std::lock_guard lock(mu_);
  return generation_;
}

bool AppendSignal::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

uint64_t AppendSignal::waitChange(uint64_t seen, std::chrono::steady_clock::time_point deadline) const {
  std::unique_lock lock(mu_);
  changed_.wait_until(lock, deadline, [&] { return generation_ != seen || closed_; });
  return generation_;
}

}  // namespace warden::gateway
