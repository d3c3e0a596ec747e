#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
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

  // A connect(2) that completed (or is completing: EINPROGRESS), with both ends of the socket as the
  // kernel holds them (the eBPF capture's WCP_CONNECTED records; the last 4,096 are kept). Addresses
  // are canonical text, IPv4-mapped IPv6 as IPv4.
  enum class Protocol : uint8_t { kTcp, kUdp };
  struct SocketEnds {
    Protocol protocol = Protocol::kTcp;
    std::string local_ip;
    int local_port = 0;
    std::string remote_ip;
    int remote_port = 0;
  };
  void connected(uint32_t pid, std::string_view comm, uint32_t uid, SocketEnds ends, int64_t time_ms);
  // Who connected a `ends.protocol` socket from ends.local to ends.remote, at most `window_ms` before
  // `time_ms` (the newest such connect): the client of a connection the proxy or the DNS resolver
  // accepted, named after the client is gone. The table's actor when it knows the pid (and the pid
  // was not reused since), else name, pid and uid from the connect itself. A local_ip of "" matches
  // any. While a source feeds these records (attachConnectFeed), first waits — at most `wait`, on a
  // condition — until the source's reader has consumed everything the kernel recorded before this
  // call, so a connect the kernel already saw is found; without a feed, answers at once.
  std::optional<ocsf::Process> bySource(const SocketEnds& ends, int64_t time_ms,
                                        std::chrono::milliseconds wait = std::chrono::milliseconds(0),
                                        int64_t window_ms = 30000) const;
  // The source that feeds connected(): `request_pass` asks its reader for a pass over the ring now
  // (called under the table's mutex: it must not block or call back). Until detachConnectFeed(),
  // bySource() waits for caughtUp(). One feed at a time.
  void attachConnectFeed(std::function<void()> request_pass);
  void detachConnectFeed();
  // The feed's reader has consumed every record the kernel wrote before `monotonic_ns`
  // (CLOCK_MONOTONIC, the BPF programs' clock).
  void caughtUp(uint64_t monotonic_ns);

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
  struct Connected {
    uint32_t pid;
    std::string comm;
    uint32_t uid;
    SocketEnds ends;
    int64_t time_ms;
  };
  std::deque<Connected> connected_;          // Guarded by mu_: oldest first, at most kMaxConnects.
  std::function<void()> request_pass_;       // Guarded by mu_: the feed's, while attached.
  bool feeding_ = false;                     // Guarded by mu_.
  uint64_t caught_up_ns_ = 0;                // Guarded by mu_.
  mutable std::condition_variable caught_up_cv_;  // signalled by caughtUp() and detachConnectFeed()
  uint64_t refused_ = 0;                              // Guarded by mu_.
};

// CLOCK_MONOTONIC now, in ns: the clock of the BPF programs' record times (bpf_ktime_get_ns).
uint64_t monotonicNs();

// "name" of a path: what follows the last '/'.
std::string baseName(std::string_view path);

}  // namespace warden::capture
