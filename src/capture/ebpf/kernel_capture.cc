#include "capture/ebpf/kernel_capture.h"

#include <fmt/format.h>

#include "capture/ebpf/ebpf_source.h"
#include "capture/fanotify/fanotify_source.h"
#include "capture/procconn/procconn_source.h"

namespace warden::capture {

Result<KernelCapture> createKernelCapture(const CaptureOptions& options, audit::Emitter& emitter,
                                          const ocsf::SessionContext& ctx, LoadedPrograms* preloaded,
                                          std::shared_ptr<ProcessTable> table) {
  KernelCapture out;
  out.table = table ? std::move(table) : std::make_shared<ProcessTable>();
  if (!options.processes && !options.file_writes) return out;
  std::string why_not_ebpf = "forced by configuration";
  if (options.backend != CaptureOptions::Backend::kFallback) {
    auto ebpf = EbpfSource::create(options, emitter, ctx, out.table, preloaded);
    if (ebpf.ok()) {
      out.sources.push_back(std::move(*ebpf));
      return out;
    }
    if (ebpf.error().code() == Code::kInvalidArgument || options.backend == CaptureOptions::Backend::kEbpf)
      return ebpf.error();
    why_not_ebpf = ebpf.error().message();
  }
  std::vector<std::string> missing;
  // The proc connector feeds the table the fanotify source names actors from: it always runs.
  auto procs = ProcConnSource::create(options, emitter, ctx, out.table);
  if (procs.ok()) {
    out.sources.push_back(std::move(*procs));
  } else {
    missing.push_back("no process capture (" + procs.error().message() + ")");
  }
  if (options.file_writes) {
    auto files = FanotifySource::create(options, emitter, ctx, out.table);
    if (files.ok()) {
      out.sources.push_back(std::move(*files));
    } else {
      missing.push_back("no file capture (" + files.error().message() + ")");
    }
  }
  if (out.sources.empty())
    return unavailable(fmt::format("kernel capture: eBPF unavailable ({}); {}", why_not_ebpf, missing.front()));
  out.degraded = fmt::format(
      "kernel capture: eBPF unavailable ({}); fallback proc connector + fanotify: argv read from /proc after the "
      "fact (best effort), no failed execs, no refused opens, no sensitive reads, no mounts{}{}",
      why_not_ebpf, missing.empty() ? "" : "; ", missing.empty() ? "" : missing.front());
  return out;
}

}  // namespace warden::capture
