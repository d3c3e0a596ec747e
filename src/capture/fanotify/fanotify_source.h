#pragma once

#include <memory>
#include <string>
#include <thread>
#include <vector>

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

// The file fallback where BPF cannot load (docs/capture.md, "Fallback"): fanotify with
// FAN_MARK_FILESYSTEM on each of `fanotify_mounts`, reporting directory handles and names
// (FAN_REPORT_DFID_NAME): create, delete, rename (FAN_RENAME, both names), attribute changes and
// close-after-write (one FILE:UPDATE per open-for-write, as the eBPF capture). Paths are resolved from
// the directory handle (open_by_handle_at) and the name. Weaker than eBPF, and said so: refused opens,
// sensitive reads, mounts and truncate-without-write are not seen; the acting process is named by pid
// from the process table or /proc; membership is its /proc/<pid>/cgroup (an event whose process is
// already gone is counted as filtered). A queue overflow (FAN_Q_OVERFLOW) is reported as LOG:LOSS.
//
// Lifecycle (capture::Source): create() marks the filesystems; start() runs the reader; stop()
// drains, summarises and joins (idempotent, also by the destructor). Borrows the Emitter and
// SessionContext; shares the table.
class FanotifySource final : public Source {
 public:
  // Unavailable when fanotify cannot be set up (no CAP_SYS_ADMIN, a kernel without FID reporting).
  static Result<std::unique_ptr<FanotifySource>> create(const CaptureOptions& options, audit::Emitter& emitter,
                                                        const ocsf::SessionContext& ctx,
                                                        std::shared_ptr<ProcessTable> table);
  ~FanotifySource() override;
  FanotifySource(const FanotifySource&) = delete;
  FanotifySource& operator=(const FanotifySource&) = delete;

  std::string_view name() const override { return "fanotify"; }
  Result<void> start() override;
  void stop() override;
  Accounts accounts() const { return recorder_.accounts(); }  // after stop()

 private:
  FanotifySource(const CaptureOptions& options, audit::Emitter& emitter, const ocsf::SessionContext& ctx,
                 std::shared_ptr<ProcessTable> table, PathRules rules);
  void run();
  void drain();
  void handle(const char* event, size_t len);
  std::string dirPath(const void* fid_info) const;

  const CaptureOptions options_;
  const Clock& clock_;
  Recorder recorder_;
  SessionCgroup cgroup_;
  UniqueFd fan_;
  std::vector<UniqueFd> mount_fds_;  // for open_by_handle_at, one per marked filesystem
  UniqueFd wake_;
  std::thread thread_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace warden::capture
