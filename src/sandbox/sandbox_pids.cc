#include "sandbox/sandbox_pids.h"

#include <string>
#include <unordered_set>

#include "common/file_io.h"
#include "common/proc_status.h"

namespace warden::sandbox {

std::unordered_map<int, int> sandboxPidsToHost(const std::vector<pid_t>& host_pids,
                                               const std::vector<int>& sandbox_pids) {
  std::unordered_map<int, int> out;
  std::unordered_set<int> wanted;
  for (const int p : sandbox_pids) {
    if (p > 0) wanted.insert(p);
  }
  for (const pid_t host : host_pids) {
    if (out.size() == wanted.size()) break;
    auto status = readFileBounded("/proc/" + std::to_string(host) + "/status", 64 * 1024, OverLimit::kTruncate);
    if (!status.ok()) continue;  // exited meanwhile
    const int inner = static_cast<int>(procStatusNamespacePid(*status));
    if (wanted.count(inner) != 0) out.emplace(inner, host);
  }
  return out;
}

int sandboxPidToHost(const std::vector<pid_t>& host_pids, int sandbox_pid) {
  const auto found = sandboxPidsToHost(host_pids, {sandbox_pid});
  const auto it = found.find(sandbox_pid);
  return it == found.end() ? 0 : it->second;
}

}  // namespace warden::sandbox
