#pragma once

#include <memory>
#include <string>
#include <vector>

#include "audit/emitter.h"
#include "capture/capture_options.h"
#include "capture/process_table.h"
#include "capture/source.h"
#include "common/result.h"
#include "ocsf/builders.h"

namespace warden::capture {

// The supervisor's one entry point to the kernel capture (docs/capture.md, "For the supervisor").
struct KernelCapture {
  // Ready to start(): the eBPF source, or the proc connector and fanotify fallback sources.
  std::vector<std::unique_ptr<Source>> sources;
  // The session's process table, fed by whichever sources run (share it with the kmsg and cgroup
  // sources and the proxy to name actors by pid).
  std::shared_ptr<ProcessTable> table;
  // Empty with eBPF. With the fallback: what is missing and what that costs, for CONFIG:DEGRADED,
  // e.g. "kernel capture: eBPF unavailable (BPF programs cannot be loaded: Operation not permitted
  // ...); fallback proc connector + fanotify: argv read from /proc after the fact (best effort),
  // no failed execs, no refused opens, no sensitive reads, no mounts".
  std::string degraded;
};

// eBPF when it loads (unless options.backend is kFallback), else the fallback; processes and
// file_writes both off gives no sources. Unavailable only when neither can run (the message names
// both causes); InvalidArgument for bad options (a path pattern, the cgroup path).
// `preloaded` (may be null): the eBPF programs, verified ahead (LoadedPrograms). `table` (may be
// null: a new one): the process table to feed, when others hold it before the capture exists (the
// proxy's attribution hook is wired before the capture starts).
class LoadedPrograms;
Result<KernelCapture> createKernelCapture(const CaptureOptions& options, audit::Emitter& emitter,
                                          const ocsf::SessionContext& ctx, LoadedPrograms* preloaded = nullptr,
                                          std::shared_ptr<ProcessTable> table = nullptr);

}  // namespace warden::capture
