#pragma once

// cgroups for one `warden run` session (docs/cgroups.md): v2 where the controller is, v1 otherwise.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace warden::sandbox {

// What a session may use. Unset means unlimited.
struct CgroupLimits {
  std::optional<uint64_t> memory_bytes;
  std::optional<uint32_t> pids;
  std::optional<double> cpus;  // CPUs' worth of time per period, e.g. 1.5
};

// Where the hierarchies are: parsed from /proc/self/mountinfo and /proc/self/cgroup (injectable roots
// for tests, so a fake tree in a temp dir can stand in for a v2-only host). A plain value; copy freely.
struct CgroupLayout {
  std::string v2_mount;                          // "" if none
  std::map<std::string, std::string> v1_mounts;  // controller -> mount point
  std::map<std::string, std::string> own_paths;  // "" (v2) or controller (v1) -> this process's cgroup path
  // Reads `<proc_self>/mountinfo` and `<proc_self>/cgroup`. own_paths are relative to the mount (a
  // mount whose root is a sub-tree has that root stripped). Fails only when neither file can be read.
  static Result<CgroupLayout> detect(const std::string& proc_self = "/proc/self");

  // The directory of this process's own cgroup: in the v2 hierarchy (controller "") or in the v1
  // hierarchy of `controller`; "" when that hierarchy is not mounted or our path in it is unknown.
  std::string ownDir(const std::string& controller) const;
};

struct CgroupStats {
  uint64_t memory_current = 0, memory_peak = 0;
  uint32_t pids_current = 0;
  uint64_t oom_kills = 0, pids_max_hits = 0;
};

// One session's cgroup: "warden-<session id>" under the supervisor's own cgroup, in the v2 hierarchy for
// every controller v2 offers there (enabling it in the parent's cgroup.subtree_control if needed) and in
// the v1 hierarchy otherwise; freezing through v2 cgroup.freeze when a v2 hierarchy exists (it works
// with no controller enabled) else the v1 freezer. Limits: memory (v2 memory.max + memory.swap.max 0 /
// v1 memory.limit_in_bytes + memsw when present), pids (pids.max), cpu (v2 cpu.max "quota period" /
// v1 cpu.cfs_quota_us + cfs_period_us). A controller that exists nowhere is reported, not fatal (the
// supervisor records CONFIG:DEGRADED). Owns the directories; the destructor kills what is left and
// removes them (idempotent with remove()). Thread-safe for const queries; mutate from one thread.
//
// v2's no-internal-process rule: when the parent's subtree_control cannot be written because the
// supervisor itself sits in that cgroup (EBUSY), the supervisor's process is moved into a leaf
// "<own cgroup>/warden.supervisor" first (what systemd's Delegate= documentation asks of delegates).
class SessionCgroup {
 public:
  static Result<std::unique_ptr<SessionCgroup>> create(std::string_view session_id, const CgroupLimits& limits,
                                                       const CgroupLayout& layout);
  SessionCgroup(const SessionCgroup&) = delete;
  SessionCgroup& operator=(const SessionCgroup&) = delete;
  ~SessionCgroup();

  Result<void> addProcess(pid_t pid);  // into every hierarchy in use
  Result<void> freeze();               // returns when frozen (cgroup.events frozen 1 / FROZEN), deadline 5 s
  Result<void> thaw();
  Result<void> signalAll(int sig);                           // every process in the session (cgroup.procs)
  Result<void> killAll(std::chrono::milliseconds deadline);  // v2 cgroup.kill, else SIGKILL until empty
  std::vector<pid_t> processes() const;
  CgroupStats stats() const;
  // "memory:v1 pids:v1 cpu:v1 freeze:v2", and what is missing ("cpu: no controller").
  std::string describe() const;
  std::vector<std::string> missing() const;  // limits asked for that no controller can enforce
  // Paths the event watcher needs ("" when the controller is nowhere).
  std::string memoryDir() const;
  bool memoryIsV2() const;
  std::string pidsDir() const;
  bool pidsIsV2() const;
  std::string cpuDir() const;
  bool cpuIsV2() const;
  Result<void> remove();  // after the processes are gone; rmdir each

  // The session's v2 directory ("" when no v2 hierarchy is in use): what the kernel capture filters on.
  const std::string& v2Dir() const { return v2_dir_; }
  // Every directory this session owns (v2 first, then each distinct v1 one); for tests and logs.
  std::vector<std::string> directories() const;
  bool frozenNow() const;  // cgroup.events "frozen 1" / freezer.state FROZEN

 private:
  struct Placement {  // where one controller lives
    std::string dir;  // "" = nowhere
    bool v2 = false;
  };
  SessionCgroup() = default;
  std::string primaryDir() const;  // the dir whose cgroup.procs lists every process

  std::string id_;
  std::string v2_dir_;                 // "" when no v2 hierarchy is in use
  std::vector<std::string> v1_dirs_;   // distinct v1 directories, in creation order
  Placement memory_, pids_, cpu_;
  std::string freezer_v1_dir_;         // used only when v2_dir_ is empty
  std::vector<std::string> missing_;
  std::string notes_;                  // extra words for describe()
  bool removed_ = false;
};

// Removes warden-* session cgroups left by crashed runs (no process inside, and the session is not
// running: its supervisor holds no lock on <state_dir>/<id>.lock (stale_sessions.h) and nothing
// answers on its control socket <sockets_dir>/<id>.sock); returns what it removed. A session being
// set up by another supervisor holds its lock from before its cgroup exists, so it is left alone.
std::vector<std::string> cleanupStaleCgroups(const CgroupLayout& layout,
                                             const std::filesystem::path& sockets_dir = "/run/warden/sessions",
                                             const std::filesystem::path& state_dir = "/var/lib/warden/sessions");

}  // namespace warden::sandbox
