#pragma once

// Hot reload of the policy file (sandbox.md "Hot reload"): on SIGHUP (the CLI calls trigger()) and
// whenever the file changes (inotify on its directory, so editors that write a new file and rename it
// are seen), debounced; parse and validate on the reloader's own thread (off the proxy's hot path),
// then swap atomically into the PolicyStore. Records CONFIG:UPDATED, or CONFIG:FAILED with the errors
// (the previous policy stays in force). A file whose bytes did not change records nothing.

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "audit/emitter.h"
#include "common/clock.h"
#include "common/result.h"
#include "common/unique_fd.h"
#include "ocsf/builders.h"
#include "policy/snapshot.h"

namespace warden::proxy {

struct ReloaderOptions {
  std::filesystem::path policy_file;
  std::chrono::milliseconds debounce{200};  // quiet time after the last change before loading
  bool watch_file = true;                   // inotify; false: SIGHUP (trigger()) only
};

// Owns one thread, an inotify fd and an eventfd. Borrows the store, emitter, session context and
// clock, which must outlive it. trigger() and stop() are thread-safe (trigger() is async-signal-safe:
// one write to an eventfd). Lifecycle: create() sets up the watch (errors: the directory cannot be
// watched); start() starts the thread; stop() (idempotent, also the destructor) joins it.
class PolicyReloader {
 public:
  static Result<std::unique_ptr<PolicyReloader>> create(ReloaderOptions options, policy::PolicyStore& store,
                                                        audit::Emitter& emitter, const ocsf::SessionContext& session,
                                                        const Clock* clock = nullptr);
  ~PolicyReloader();
  PolicyReloader(const PolicyReloader&) = delete;
  PolicyReloader& operator=(const PolicyReloader&) = delete;

  void start();
  // Asks for a reload now (SIGHUP).
  void trigger();
  void stop();

  // Reloads synchronously on the calling thread (what the thread does after a change). Returns true
  // when a new policy was swapped in.
  bool reloadNow();

  uint64_t reloads() const { return reloads_.load(); }
  uint64_t failures() const { return failures_.load(); }

 private:
  PolicyReloader(ReloaderOptions options, policy::PolicyStore& store, audit::Emitter& emitter,
                 const ocsf::SessionContext& session, const Clock* clock);
  void run();

  ReloaderOptions options_;
  policy::PolicyStore& store_;
  audit::Emitter& emitter_;
  const ocsf::SessionContext& session_;
  const Clock& clock_;
  UniqueFd inotify_;
  UniqueFd event_;  // eventfd: 1 = reload, large value = stop
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> reloads_{0};
  std::atomic<uint64_t> failures_{0};
};

}  // namespace warden::proxy
