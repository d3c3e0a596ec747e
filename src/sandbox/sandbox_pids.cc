#include "sandbox/sandbox_pids.h"

#include <string>

#include "common/file_io.h"
#include "common/proc_status.h"

namespace warden::sandbox {

int sandboxPidToHost(const std::vector<pid_t>& host_pids, int sandbox_pid) {
  if (sandbox_pid <= 0) return 0;
  for (const pid_t host : host_pids) {
    auto status = readFileBounded("/proc/" + std::to_string(host) + "/status", 64 * 1024, OverLimit::kTruncate);
    if (!status.ok()) continue;  // exited meanwhile
    if (procStatusNamespacePid(*status) == static_cast<uint32_t>(sandbox_pid)) return host;
  }
  return 0;
}

}  // namespace warden::sandbox
