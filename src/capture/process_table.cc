#include "capture/process_table.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include <memory>

namespace warden::capture {

uint64_t monotonicNs() {
  struct timespec ts {};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

std::string baseName(std::string_view path) {
  const size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

ProcessTable::ProcessTable(size_t max_live, size_t max_exited) : max_live_(max_live), max_exited_(max_exited) {}

void ProcessTable::fork(uint32_t pid, uint32_t ppid, uint64_t start_ns, int64_t time_ms, std::string_view comm,
                        uint32_t uid) {
  std::lock_guard lock(mu_);
  auto old = procs_.find(pid);
  if (old != procs_.end()) {
    if (!old->second.exited && live_ > 0) --live_;
    procs_.erase(old);  // a reused pid: its predecessor is gone
  }
  if (live_ >= max_live_) {
    ++refused_;
    return;
  }
  ProcessInfo p;
  p.pid = pid;
  p.ppid = ppid;
  p.start_ns = start_ns;
  p.start_ms = time_ms;
  p.uid = uid;
  p.name = std::string(comm);
  if (auto parent = procs_.find(ppid); parent != procs_.end()) {
    p.exe = parent->second.exe;
    p.cwd = parent->second.cwd;
    p.cmd_line = parent->second.cmd_line;
    p.euid = parent->second.euid;
    p.gid = parent->second.gid;
    if (!parent->second.name.empty()) p.name = parent->second.name;
  }
  procs_.emplace(pid, std::move(p));
  ++live_;
}

void ProcessTable::exec(const ProcessInfo& info) {
  std::lock_guard lock(mu_);
  auto it = procs_.find(info.pid);
  if (it != procs_.end() && (it->second.exited || (info.start_ns != 0 && it->second.start_ns != 0 &&
                                                   it->second.start_ns != info.start_ns))) {
    if (!it->second.exited && live_ > 0) --live_;
    procs_.erase(it);
    it = procs_.end();
  }
  if (it == procs_.end()) {
    if (live_ >= max_live_) {
      ++refused_;
      return;
    }
    it = procs_.emplace(info.pid, info).first;
    ++live_;
  } else {
    const int64_t start_ms = it->second.start_ms;
    it->second = info;
    if (start_ms != 0) it->second.start_ms = start_ms;
  }
  it->second.exec_seen = true;
}

void ProcessTable::exit(uint32_t pid, uint64_t start_ns, int64_t time_ms, int status) {
  std::lock_guard lock(mu_);
  auto it = procs_.find(pid);
  if (it == procs_.end() || it->second.exited) return;
  if (start_ns != 0 && it->second.start_ns != 0 && start_ns != it->second.start_ns) return;
  it->second.exited = true;
  it->second.exit_ms = time_ms;
  it->second.exit_status = status;
  if (live_ > 0) --live_;
  exited_.emplace_back(pid, it->second.start_ns);
  while (exited_.size() > max_exited_) {
    retire(exited_.front().first);
    exited_.pop_front();
  }
}

void ProcessTable::retire(uint32_t pid) {
  auto it = procs_.find(pid);
  if (it != procs_.end() && it->second.exited && it->second.start_ns == exited_.front().second) procs_.erase(it);
}

void ProcessTable::connect(uint32_t pid, std::string_view comm, uint32_t uid, std::string ip, int port,
                           int64_t time_ms) {
  std::lock_guard lock(mu_);
  connects_.push_back(Connect{pid, std::string(comm), uid, std::move(ip), port, time_ms});
  while (connects_.size() > kMaxConnects) connects_.pop_front();
}

namespace {

// The actor a connect record alone can name (the table no longer knows its process).
ocsf::Process recordedActor(uint32_t pid, const std::string& comm, uint32_t uid) {
  ocsf::Process p;
  p.name = comm;
  p.pid = pid;
  p.uid = uid;
  return p;
}

}  // namespace

std::optional<ocsf::Process> ProcessTable::connector(std::string_view ip, int port, int64_t time_ms,
                                                     int64_t window_ms) const {
  std::lock_guard lock(mu_);
  for (auto it = connects_.rbegin(); it != connects_.rend(); ++it) {
    if (it->ip != ip || it->port != port || it->time_ms > time_ms + 1000) continue;
    if (time_ms - it->time_ms > window_ms) break;
    if (auto known = actorLocked(it->pid, 1)) return known;
    return recordedActor(it->pid, it->comm, it->uid);
  }
  return std::nullopt;
}

void ProcessTable::connected(uint32_t pid, std::string_view comm, uint32_t uid, SocketEnds ends, int64_t time_ms) {
  std::lock_guard lock(mu_);
  connected_.push_back(Connected{pid, std::string(comm), uid, std::move(ends), time_ms});
  while (connected_.size() > kMaxConnects) connected_.pop_front();
}

std::optional<ocsf::Process> ProcessTable::bySource(const SocketEnds& ends, int64_t time_ms,
                                                    std::chrono::milliseconds wait, int64_t window_ms) const {
  std::unique_lock lock(mu_);
  if (feeding_ && wait.count() > 0) {
    // Everything the kernel recorded before now: a client whose socket is already closed made its
    // connect before that (the record is written before connect(2) returns).
    const uint64_t asked_ns = monotonicNs();
    if (caught_up_ns_ < asked_ns && request_pass_) request_pass_();
    caught_up_cv_.wait_for(lock, wait, [&] { return !feeding_ || caught_up_ns_ >= asked_ns; });
  }
  for (auto it = connected_.rbegin(); it != connected_.rend(); ++it) {
    const SocketEnds& e = it->ends;
    if (e.protocol != ends.protocol || e.local_port != ends.local_port || e.remote_port != ends.remote_port ||
        e.remote_ip != ends.remote_ip || it->time_ms > time_ms + 1000) {
      continue;
    }
    if (!ends.local_ip.empty() && e.local_ip != ends.local_ip) continue;
    if (time_ms - it->time_ms > window_ms) break;
    // The table's richer entry, unless the pid now names a process started after this connect.
    auto known = procs_.find(it->pid);
    if (known != procs_.end() && (known->second.start_ms == 0 || known->second.start_ms <= it->time_ms + 1000)) {
      return actorLocked(it->pid, 1);
    }
    return recordedActor(it->pid, it->comm, it->uid);
  }
  return std::nullopt;
}

void ProcessTable::attachConnectFeed(std::function<void()> request_pass) {
  std::lock_guard lock(mu_);
  request_pass_ = std::move(request_pass);
  feeding_ = true;
}

void ProcessTable::detachConnectFeed() {
  {
    std::lock_guard lock(mu_);
    request_pass_ = nullptr;
    feeding_ = false;
  }
  caught_up_cv_.notify_all();
}

void ProcessTable::caughtUp(uint64_t monotonic_ns) {
  {
    std::lock_guard lock(mu_);
    if (monotonic_ns <= caught_up_ns_) return;
    caught_up_ns_ = monotonic_ns;
  }
  caught_up_cv_.notify_all();
}

std::optional<ocsf::Process> ProcessTable::lastKilled(int64_t since_ms) const {
  std::lock_guard lock(mu_);
  const ProcessInfo* best = nullptr;
  for (const auto& [pid, info] : procs_) {
    if (!info.exited || info.exit_ms < since_ms) continue;
    if (!WIFSIGNALED(info.exit_status) || WTERMSIG(info.exit_status) != SIGKILL) continue;
    if (best == nullptr || info.exit_ms > best->exit_ms) best = &info;
  }
  if (best == nullptr) return std::nullopt;
  return actorLocked(best->pid, 0);
}

std::optional<ProcessInfo> ProcessTable::find(uint32_t pid) const {
  std::lock_guard lock(mu_);
  auto it = procs_.find(pid);
  if (it == procs_.end()) return std::nullopt;
  return it->second;
}

std::vector<ProcessInfo> ProcessTable::ancestors(uint32_t pid, size_t max) const {
  std::lock_guard lock(mu_);
  std::vector<ProcessInfo> out;
  auto it = procs_.find(pid);
  if (it == procs_.end()) return out;
  uint32_t next = it->second.ppid;
  while (out.size() < max) {
    auto p = procs_.find(next);
    if (p == procs_.end() || p->first == pid) break;
    out.push_back(p->second);
    if (p->second.ppid == p->first) break;
    next = p->second.ppid;
  }
  return out;
}

std::optional<ocsf::Process> ProcessTable::actorLocked(uint32_t pid, int depth) const {
  auto it = procs_.find(pid);
  if (it == procs_.end()) return std::nullopt;
  const ProcessInfo& i = it->second;
  ocsf::Process p;
  p.name = i.name.empty() ? baseName(i.exe) : i.name;
  p.pid = i.pid;
  p.uid = i.uid;
  p.cmd_line = i.cmd_line;
  if (!i.exe.empty()) {
    ocsf::File f;
    f.path = i.exe;
    f.name = baseName(i.exe);
    p.file = std::move(f);
  }
  p.working_directory = i.cwd;
  if (i.ns_pid != 0) p.namespace_pid = i.ns_pid;
  if (i.start_ms != 0) p.created_time = i.start_ms;
  if (depth > 0 && i.ppid != i.pid) {
    if (auto parent = actorLocked(i.ppid, depth - 1)) p.parent_process = std::make_shared<const ocsf::Process>(std::move(*parent));
  }
  return p;
}

std::optional<ocsf::Process> ProcessTable::actor(uint32_t pid) const {
  std::lock_guard lock(mu_);
  return actorLocked(pid, 1);
}

size_t ProcessTable::size() const {
  std::lock_guard lock(mu_);
  return procs_.size();
}

uint64_t ProcessTable::refused() const {
  std::lock_guard lock(mu_);
  return refused_;
}

}  // namespace warden::capture
