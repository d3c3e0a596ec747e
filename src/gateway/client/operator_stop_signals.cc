#include "gateway/client/operator_stop_signals.h"

#include <pthread.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <utility>

namespace warden::gateway {

Result<StopSignals> StopSignals::start() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  StopSignals s;
  if (const int rc = pthread_sigmask(SIG_BLOCK, &set, &s.previous_); rc != 0) {
    return errnoError("pthread_sigmask", rc);
  }
  s.restore_ = true;
  s.fd_ = UniqueFd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!s.fd_.valid()) return errnoError("signalfd");
  return s;
}

StopSignals::StopSignals(StopSignals&& other) noexcept
    : fd_(std::move(other.fd_)), previous_(other.previous_), restore_(std::exchange(other.restore_, false)) {}

StopSignals::~StopSignals() {
  // Consume what is pending, so that restoring the mask does not deliver it after all.
  if (fd_.valid()) {
    signalfd_siginfo si{};
    while (::read(fd_.get(), &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
    }
  }
  fd_.reset();
  if (restore_) pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
}

}  // namespace warden::gateway
