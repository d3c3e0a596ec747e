#pragma once

#include <memory>
#include <string>
#include <thread>

#include "audit/emitter.h"
#include "capture/capture_options.h"
#include "capture/process_table.h"
#include "capture/recorder.h"
#include "capture/session_cgroup.h"
#include "capture/source.h"
#include "common/result.h"
#include "common/unique_fd.h"
#include "ocsf/builders.h"

namespace warden::capture {

// The process fallback where BPF cannot load (docs/capture.md, "Fallback"): fork, exec and exit from
// the kernel's proc connector (NETLINK_CONNECTOR, CN_IDX_PROC). The connector says only which pid
// did what, so the rest is read from /proc when the message arrives — argv, executable, cwd, ids —
// and marked best effort (unmapped.argv_source "procfs"): a process that exits first is recorded with
// what is left (its command name), and failed execs are not seen at all. Membership is its
// /proc/<pid>/cgroup. A socket overflow (ENOBUFS) is reported as LOG:LOSS.
//
// Lifecycle (capture::Source): create() subscribes (so nothing after it returns is missed); start()
// runs the reader thread; stop() wakes it, reads what is queued, emits the summary, joins —
// idempotent, also run by the destructor. Borrows the Emitter and SessionContext; shares the table.
class ProcConnSource final : public Source {
 public:
  // Unavailable when the connector cannot be opened or subscribed (no CAP_NET_ADMIN, not compiled in).
  static Result<std::unique_ptr<ProcConnSource>> create(const CaptureOptions& options, audit::Emitter& emitter,
                                                        const ocsf::SessionContext& ctx,
                                                        std::shared_ptr<ProcessTable> table);
  ~ProcConnSource() override;
  ProcConnSource(const ProcConnSource&) = delete;
  ProcConnSource& operator=(const ProcConnSource&) = delete;

  std::string_view name() const override { return "procconn"; }
  Result<void> start() override;
  void stop() override;
  Accounts accounts() const { return recorder_.accounts(); }  // after stop()

 private:
  ProcConnSource(const CaptureOptions& options, audit::Emitter& emitter, const ocsf::SessionContext& ctx,
                 std::shared_ptr<ProcessTable> table, PathRules rules);
  void run();
  bool drain();  // false on a fatal socket error
  void handle(const void* msg, size_t len);

  const CaptureOptions options_;
  const Clock& clock_;
  Recorder recorder_;
  SessionCgroup cgroup_;
  UniqueFd sock_;
  UniqueFd wake_;
  std::thread thread_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace warden::capture
