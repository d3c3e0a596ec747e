#pragma once

// Proxy-bypass detection from the kernel log (sandbox.md "Isolation", events.md "Dual emit").

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "audit/emitter.h"
#include "capture/kmsg/nft_log_line.h"
#include "capture/source.h"
#include "common/clock.h"
#include "common/result.h"
#include "common/unique_fd.h"
#include "ocsf/builders.h"

namespace warden::capture {

// Reads /dev/kmsg from its end on its own thread, parses our records for one session tag, and
// dual-emits for each: NET:REFUSE (ocsf::netRefuse: engine nftables, policy bypass-detect,
// observation point 3, DENIED, dst ip:port/proto, the agent uid when known as unmapped.uid) then a Medium
// FINDING (ocsf::finding) with the remediation hint of sandbox.md (bypass_events.h builds both). Lines lost
// by the kernel (EPIPE on read: the ring overwrote them) are reported as an operational warning event (EVENT,
// Low) with the number lost. Because non-initial network namespaces do not log to the kernel ring unless
// net.netfilter.nf_log_all_netns=1, start() sets it to 1 when it is 0 and reports that it did in
// kernelChange() (the supervisor records it as CONFIG); it is never set back (other sessions may rely on it;
// docs/sandbox-network.md). If the nf_log loggers are missing it says so (Unavailable) — the firewall still
// rejects.
//
// Lifecycle (capture::Source): create() checks nothing in the kernel; start() checks and changes
// the sysctl, opens the log, seeks to its end and starts the thread; stop() wakes the thread
// through an eventfd, lets it read what is already in the log, and joins. stop() is idempotent and
// run by the destructor. Borrows the Emitter (must outlive this); copies the SessionContext.
// start()/stop() from one thread; attempts()/kernelChange() from any thread once start() returned.
class BypassMonitor final : public Source {
 public:
  struct Options {
    std::string session_tag;
    std::string kmsg_path = "/dev/kmsg";
    std::string nf_log_all_netns_path = "/proc/sys/net/netfilter/nf_log_all_netns";
    // Where the registered kernel loggers are listed; empty skips the check (tests with a fake log).
    std::string nf_log_path = "/proc/net/netfilter/nf_log";
    // Event times; the real clock when null.
    const Clock* clock = nullptr;
    // Optional: who made the attempt (the supervisor may know the uid's process). Used when it
    // returns a process with a pid; otherwise the events have no actor and carry unmapped.uid.
    std::function<std::optional<ocsf::Process>(const NftLogRecord&)> resolve_actor;
  };

  // The monitor, ready to start(). InvalidArgument for an empty or over-long session tag.
  static Result<std::unique_ptr<BypassMonitor>> create(Options options, audit::Emitter& emitter,
                                                       const ocsf::SessionContext& session);
  // create() + start().
  static Result<std::unique_ptr<BypassMonitor>> start(Options options, audit::Emitter& emitter,
                                                      const ocsf::SessionContext& session);

  std::string_view name() const override { return "kmsg"; }
  // Unavailable when the kernel cannot log for a sandbox (no nf_log logger for IPv4, the sysctl
  // cannot be set) or the log cannot be read; FailedPrecondition when already started.
  Result<void> start() override;
  void stop() override;  // idempotent; joins the thread (woken through an eventfd, not a timeout)

  // What start() changed in the kernel ("net.netfilter.nf_log_all_netns 0 -> 1"), empty if nothing.
  const std::string& kernelChange() const;
  // Bypass records of this session seen so far (each was dual-emitted).
  uint64_t attempts() const;
  // Records the kernel overwrote before they were read (reported as events).
  uint64_t lost() const;

  ~BypassMonitor() override;
  BypassMonitor(const BypassMonitor&) = delete;
  BypassMonitor& operator=(const BypassMonitor&) = delete;

 private:
  BypassMonitor(Options options, audit::Emitter& emitter, ocsf::SessionContext session);
  Result<void> checkLoggers() const;
  Result<void> enableNetnsLogging();
  void run();
  // Reads until the log would block; false when the source ended or failed (the thread then only
  // waits for stop()).
  bool drain();
  void handleLine(std::string_view line);
  void reportLoss(uint64_t count, std::string_view why);

  const Options options_;
  audit::Emitter& emitter_;
  const ocsf::SessionContext session_;
  const Clock& clock_;

  std::string kernel_change_;  // written by start() before the thread exists
  UniqueFd kmsg_;              // used by the thread only once it runs
  UniqueFd wake_;              // eventfd: stop() writes, the thread polls
  std::thread thread_;
  bool started_ = false;  // start()/stop() thread only

  // Thread state (the reader thread only).
  std::string pending_;        // a partial line (a pipe or file, not /dev/kmsg)
  bool lost_pending_ = false;  // EPIPE seen: the next record's sequence tells how many
  std::optional<uint64_t> last_sequence_;

  std::atomic<uint64_t> attempts_{0};
  std::atomic<uint64_t> lost_{0};
  std::atomic<uint64_t> malformed_{0};  // ours but unparseable; each reported as an operational line
};

}  // namespace warden::capture
