#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ocsf/event.h"

namespace warden::capture {

// What the capture knows of one process of the session (docs/capture.md, "Process table").
struct ProcessInfo {
  uint32_t pid = 0;
  uint32_t ppid = 0;
  uint32_t ns_pid = 0;  // 0: unknown
  uint32_t uid = 0;
  uint32_t euid = 0;
  uint32_t gid = 0;
  uint64_t start_ns = 0;   // kernel monotonic start of the thread group: tells a reused pid apart
  int64_t start_ms = 0;    // epoch ms of the fork (or of the first exec seen)
  std::string name;        // the executable's name (the command name before any exec)
  std::string exe;         // the executable's path, once it exec'd
  std::string cwd;
  std::string cmd_line;    // argv joined with spaces, cut to 4 KiB
  bool exec_seen = false;
  bool exited = false;
  int64_t exit_ms = 0;
  int exit_status = 0;     // wait(2) status
};

// The session's processes by host pid: fed by the capture (fork, exec, exit), read by anyone who must
// name an actor by pid after the fact — NET:REFUSE from the kernel log, LIMIT:OOM, proxy and DNS
// events when their /proc lookup misses because the process is gone.
//
// Bounded: at most `max_live` processes that have not exited (more are refused and counted) and the
// last `max_exited` that have (older ones are forgotten first). Thread-safe: every method takes the
// one mutex; the supervisor shares it (shared_ptr) between the capture and the other sources.
class ProcessTable {
 public:
  explicit ProcessTable(size_t max_live = 65536, size_t max_exited = 4096);

  // A new process (fork without exec yet): it inherits its parent's executable, cwd and command.
  void fork(uint32_t pid, uint32_t ppid, uint64_t start_ns, int64_t time_ms, std::string_view comm, uint32_t uid);
  // An exec: the process's new image. Creates the entry when the fork was not seen (the session's
  // first process, or a fork record lost).
  void exec(const ProcessInfo& info);
  // The thread group ended. Kept (marked exited) so late events can still name it.
  void exit(uint32_t pid, uint64_t start_ns, int64_t time_ms, int status);

  // A connect(2) by `pid` (command name `comm`, uid) to ip:port (the last 4,096 are kept).
  void connect(uint32_t pid, std::string_view comm, uint32_t uid, std::string ip, int port, int64_t time_ms);
  // Who connected to ip:port most recently, at most `window_ms` before `time_ms`: the actor of a
  // NET:REFUSE read from the kernel log after the socket (and maybe the process) is gone. The table's
  // actor when it knows the pid, else name, pid and uid from the connect itself.
  std::optional<ocsf::Process> connector(std::string_view ip, int port, int64_t time_ms,
                                         int64_t window_ms = 10000) const;

  // The process most recently ended by SIGKILL at or after `since_ms` (the OOM killer's victim, named
  // in LIMIT:OOM): its actor, or nullopt when none is known.
  std::optional<ocsf::Process> lastKilled(int64_t since_ms) const;

  std::optional<ProcessInfo> find(uint32_t pid) const;
  // The process's ancestors, nearest first, up to the first one the table does not know (the session's
  // first process is the last entry); at most `max` entries.
  std::vector<ProcessInfo> ancestors(uint32_t pid, size_t max = 32) const;
  // The actor as events carry it: name, pid, uid, cmd_line, executable, working directory, its
  // parent (one level, as parent_process), namespace pid; nullopt when unknown.
  std::optional<ocsf::Process> actor(uint32_t pid) const;

  size_t size() const;
  uint64_t refused() const;  // processes not tracked because max_live was reached

 private:
  std::optional<ocsf::Process> actorLocked(uint32_t pid, int depth) const;
  void retire(uint32_t pid);  // mu_ held

  const size_t max_live_;
  const size_t max_exited_;
  mutable std::mutex mu_;
  std::unordered_map<uint32_t, ProcessInfo> procs_;  // Guarded by mu_.
  std::deque<std::pair<uint32_t, uint64_t>> exited_;  // Guarded by mu_: (pid, start_ns), oldest first.
  size_t live_ = 0;                                   // Guarded by mu_.
  struct Connect {
    uint32_t pid;
    std::string comm;
    uint32_t uid;
    std::string ip;
    int port;
    int64_t time_ms;
  };
  std::deque<Connect> connects_;  // Guarded by mu_: oldest first, at most kMaxConnects.
  static constexpr size_t kMaxConnects = 4096;
  uint64_t refused_ = 0;                              // Guarded by mu_.
};

// "name" of a path: what follows the last '/'.
std::string baseName(std::string_view path);

}  // namespace warden::capture
