// SessionCgroup: one session's cgroup directories, limits, freezing and killing (docs/cgroups.md).

#include "sandbox/cgroup.h"

#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <functional>
#include <set>
#include <thread>

#include "sandbox/cgroup_fs.h"

namespace warden::sandbox {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kPollInterval = std::chrono::milliseconds(5);
constexpr uint64_t kCpuPeriodUs = 100000;
constexpr uint64_t kMinCpuQuotaUs = 1000;

const char* const kControllers[] = {"memory", "pids", "cpu"};

Result<void> validateId(std::string_view id) {
  if (id.empty() || id.size() > 128) return invalidArgument("session id must be 1 to 128 bytes");
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '_' || c == '.';
    if (!ok) return invalidArgument(fmt::format("session id '{}' may hold only [A-Za-z0-9._-]", id));
  }
  if (id == "." || id == "..") return invalidArgument("session id may not be '.' or '..'");
  return okResult();
}

Result<void> validateLimits(const CgroupLimits& l) {
  if (l.memory_bytes && *l.memory_bytes == 0) return invalidArgument("memory limit must be more than 0 bytes");
  if (l.pids && *l.pids == 0) return invalidArgument("pids limit must be at least 1");
  if (l.cpus && (!std::isfinite(*l.cpus) || *l.cpus <= 0 || *l.cpus > 65536)) {
    return invalidArgument(fmt::format("cpu limit {} is not a number of CPUs in (0, 65536]", *l.cpus));
  }
  return okResult();
}

std::set<std::string> words(const std::string& text) {
  std::set<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\n')) ++i;
    size_t j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != '\n') ++j;
    if (j > i) out.insert(text.substr(i, j - i));
    i = j;
  }
  return out;
}

// mkdir, or adopt an existing directory that holds no process (left by a crashed run with this id,
// or pre-created by a test standing in for cgroupfs). `created` tells whether we made it.
Result<void> makeDir(const std::string& dir, bool& created) {
  created = false;
  if (::mkdir(dir.c_str(), 0755) == 0) {
    created = true;
    return okResult();
  }
  if (errno != EEXIST) return errnoError("mkdir " + dir);
  if (!cgroupfs::readProcs(dir).empty()) return alreadyExists(dir + " exists and holds processes");
  return okResult();
}

bool waitUntil(const std::function<bool()>& cond, Clock::time_point deadline) {
  for (;;) {
    if (cond()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPollInterval);
  }
}

// The v2 parent's subtree_control gains `wanted`; on EBUSY (the supervisor sits in the parent: v2's
// no-internal-process rule) the supervisor moves into a leaf first. Returns what is enabled now.
std::set<std::string> enableV2(const std::string& parent, const std::set<std::string>& wanted, std::string& notes) {
  auto current = cgroupfs::readText(parent + "/cgroup.subtree_control");
  std::set<std::string> enabled = current.ok() ? words(*current) : std::set<std::string>{};
  std::string request;
  for (const auto& c : wanted) {
    if (enabled.count(c) == 0) request += (request.empty() ? "+" : " +") + c;
  }
  if (request.empty()) return enabled;
  const std::string control = parent + "/cgroup.subtree_control";
  int err = cgroupfs::writeRaw(control, request);
  if (err == EBUSY) {
    const std::string leaf = parent + "/warden.supervisor";
    if ((::mkdir(leaf.c_str(), 0755) == 0 || errno == EEXIST) &&
        cgroupfs::writeText(leaf + "/cgroup.procs", std::to_string(::getpid())).ok()) {
      notes += fmt::format(" (supervisor moved to {} for v2's no-internal-process rule)", leaf);
      err = cgroupfs::writeRaw(control, request);
    }
  }
  if (err == 0) {
    enabled.insert(wanted.begin(), wanted.end());
    return enabled;
  }
  // One at a time, to keep whichever the kernel allows.
  for (const auto& c : wanted) {
    if (enabled.count(c) == 0 && cgroupfs::writeRaw(control, "+" + c) == 0) {
      enabled.insert(c);
    }
  }
  notes += fmt::format(" (enabling '{}' in {}: {})", request, control, std::strerror(err));
  return enabled;
}

}  // namespace

Result<std::unique_ptr<SessionCgroup>> SessionCgroup::create(std::string_view session_id,
                                                             const CgroupLimits& limits,
                                                             const CgroupLayout& layout) {
  WARDEN_RETURN_IF_ERROR(validateId(session_id));
  WARDEN_RETURN_IF_ERROR(validateLimits(limits));
  std::unique_ptr<SessionCgroup> cg(new SessionCgroup());
  cg->id_ = std::string(session_id);
  const std::string name = "warden-" + cg->id_;
  std::vector<std::string> created;  // rolled back if anything fails
  auto fail = [&](const Error& e) -> Error {
    for (auto it = created.rbegin(); it != created.rend(); ++it) ::rmdir(it->c_str());
    cg->removed_ = true;
    return e.withContext(fmt::format("cgroup for session {}", cg->id_));
  };

  // v2: every controller it offers at our place in the tree, and freezing.
  const std::string v2_parent = layout.ownDir("");
  std::set<std::string> v2_enabled;
  if (!v2_parent.empty() && cgroupfs::exists(v2_parent + "/cgroup.procs")) {
    auto offered = cgroupfs::readText(v2_parent + "/cgroup.controllers");
    std::set<std::string> wanted;
    if (offered.ok()) {
      for (const auto& c : words(*offered)) {
        if (std::find(std::begin(kControllers), std::end(kControllers), c) != std::end(kControllers)) wanted.insert(c);
      }
    }
    if (!wanted.empty()) v2_enabled = enableV2(v2_parent, wanted, cg->notes_);
    const std::string dir = v2_parent + "/" + name;
    bool made = false;
    if (auto r = makeDir(dir, made); !r.ok()) return fail(r.error());
    if (made) created.push_back(dir);
    cg->v2_dir_ = dir;
  }
  // v1 for the rest, one directory per distinct mount.
  auto placeV1 = [&](const std::string& controller, std::string& out_dir) -> Result<void> {
    const std::string parent = layout.ownDir(controller);
    if (parent.empty() || !cgroupfs::exists(parent + "/cgroup.procs")) return okResult();
    const std::string dir = parent + "/" + name;
    if (std::find(cg->v1_dirs_.begin(), cg->v1_dirs_.end(), dir) == cg->v1_dirs_.end()) {
      bool made = false;
      WARDEN_RETURN_IF_ERROR(makeDir(dir, made));
      if (made) created.push_back(dir);
      cg->v1_dirs_.push_back(dir);
    }
    out_dir = dir;
    return okResult();
  };
  Placement* placements[] = {&cg->memory_, &cg->pids_, &cg->cpu_};
  for (size_t i = 0; i < 3; ++i) {
    if (v2_enabled.count(kControllers[i]) != 0) {
      *placements[i] = Placement{cg->v2_dir_, true};
    } else if (auto r = placeV1(kControllers[i], placements[i]->dir); !r.ok()) {
      return fail(r.error());
    }
  }
  if (cg->v2_dir_.empty()) {
    if (auto r = placeV1("freezer", cg->freezer_v1_dir_); !r.ok()) return fail(r.error());
  }

  // Limits.
  auto write = [&](const std::string& dir, const char* file, const std::string& value) {
    return cgroupfs::writeText(dir + "/" + file, value);
  };
  if (limits.memory_bytes) {
    const std::string v = std::to_string(*limits.memory_bytes);
    if (cg->memory_.dir.empty()) {
      cg->missing_.push_back("memory: no controller");
    } else if (cg->memory_.v2) {
      if (auto r = write(cg->memory_.dir, "memory.max", v); !r.ok()) return fail(r.error());
      if (cgroupfs::exists(cg->memory_.dir + "/memory.swap.max")) {
        if (auto r = write(cg->memory_.dir, "memory.swap.max", "0"); !r.ok()) return fail(r.error());
      } else {
        cg->notes_ += " (no memory.swap.max: swap not limited)";
      }
    } else {
      if (auto r = write(cg->memory_.dir, "memory.limit_in_bytes", v); !r.ok()) return fail(r.error());
      if (cgroupfs::exists(cg->memory_.dir + "/memory.memsw.limit_in_bytes")) {
        if (auto r = write(cg->memory_.dir, "memory.memsw.limit_in_bytes", v); !r.ok()) return fail(r.error());
      } else {
        cg->notes_ += " (no memory.memsw: swap not limited)";
      }
    }
  }
  if (limits.pids) {
    if (cg->pids_.dir.empty()) {
      cg->missing_.push_back("pids: no controller");
    } else if (auto r = write(cg->pids_.dir, "pids.max", std::to_string(*limits.pids)); !r.ok()) {
      return fail(r.error());
    }
  }
  if (limits.cpus) {
    const uint64_t quota =
        std::max<uint64_t>(kMinCpuQuotaUs, static_cast<uint64_t>(std::llround(*limits.cpus * kCpuPeriodUs)));
    if (cg->cpu_.dir.empty()) {
      cg->missing_.push_back("cpu: no controller");
    } else if (cg->cpu_.v2) {
      if (auto r = write(cg->cpu_.dir, "cpu.max", fmt::format("{} {}", quota, kCpuPeriodUs)); !r.ok()) {
        return fail(r.error());
      }
    } else {
      if (auto r = write(cg->cpu_.dir, "cpu.cfs_period_us", std::to_string(kCpuPeriodUs)); !r.ok()) {
        return fail(r.error());
      }
      if (auto r = write(cg->cpu_.dir, "cpu.cfs_quota_us", std::to_string(quota)); !r.ok()) return fail(r.error());
    }
  }
  if (cg->v2_dir_.empty() && cg->v1_dirs_.empty()) {
    return fail(failedPrecondition("no cgroup hierarchy is mounted where this process can create one"));
  }
  return cg;
}

SessionCgroup::~SessionCgroup() {
  if (removed_) return;
  if (!processes().empty()) (void)killAll(std::chrono::seconds(2));
  if (!freezer_v1_dir_.empty()) (void)thaw();
  (void)remove();
}

std::vector<std::string> SessionCgroup::directories() const {
  std::vector<std::string> out;
  if (!v2_dir_.empty()) out.push_back(v2_dir_);
  out.insert(out.end(), v1_dirs_.begin(), v1_dirs_.end());
  return out;
}

std::string SessionCgroup::primaryDir() const { return v2_dir_.empty() ? v1_dirs_.front() : v2_dir_; }

Result<void> SessionCgroup::addProcess(pid_t pid) {
  if (pid <= 0) return invalidArgument(fmt::format("pid {} is not a process", pid));
  for (const auto& dir : directories()) {
    WARDEN_RETURN_IF_ERROR(cgroupfs::writeText(dir + "/cgroup.procs", std::to_string(pid)));
  }
  return okResult();
}

bool SessionCgroup::frozenNow() const {
  if (!v2_dir_.empty()) return cgroupfs::readKey(v2_dir_ + "/cgroup.events", "frozen").value_or(0) == 1;
  if (!freezer_v1_dir_.empty()) {
    auto state = cgroupfs::readText(freezer_v1_dir_ + "/freezer.state");
    return state.ok() && state->rfind("FROZEN", 0) == 0;
  }
  return false;
}

Result<void> SessionCgroup::freeze() {
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  if (!v2_dir_.empty()) {
    WARDEN_RETURN_IF_ERROR(cgroupfs::writeText(v2_dir_ + "/cgroup.freeze", "1"));
  } else if (!freezer_v1_dir_.empty()) {
    WARDEN_RETURN_IF_ERROR(cgroupfs::writeText(freezer_v1_dir_ + "/freezer.state", "FROZEN"));
  } else {
    return failedPrecondition("no freezer: neither a cgroup v2 hierarchy nor the v1 freezer is mounted");
  }
  const bool frozen = waitUntil(
      [&] {
        if (frozenNow()) return true;
        // v1: FREEZING can stall on a task in an uninterruptible sleep; writing again retries it.
        if (v2_dir_.empty()) (void)cgroupfs::writeText(freezer_v1_dir_ + "/freezer.state", "FROZEN");
        return false;
      },
      deadline);
  if (!frozen) return deadlineExceeded(fmt::format("session {} did not freeze within 5 s", id_));
  return okResult();
}

Result<void> SessionCgroup::thaw() {
  if (!v2_dir_.empty()) return cgroupfs::writeText(v2_dir_ + "/cgroup.freeze", "0");
  if (!freezer_v1_dir_.empty()) return cgroupfs::writeText(freezer_v1_dir_ + "/freezer.state", "THAWED");
  return failedPrecondition("no freezer: neither a cgroup v2 hierarchy nor the v1 freezer is mounted");
}

Result<void> SessionCgroup::signalAll(int sig) {
  for (pid_t pid : processes()) {
    if (::kill(pid, sig) != 0 && errno != ESRCH) return errnoError(fmt::format("kill({}, {})", pid, sig));
  }
  return okResult();
}

std::vector<pid_t> SessionCgroup::processes() const {
  if (v2_dir_.empty() && v1_dirs_.empty()) return {};
  return cgroupfs::readProcs(primaryDir());
}

Result<void> SessionCgroup::killAll(std::chrono::milliseconds deadline_in) {
  const auto deadline = Clock::now() + deadline_in;
  auto empty = [&] {
    for (const auto& dir : directories()) {
      if (!cgroupfs::readProcs(dir).empty()) return false;
    }
    return true;
  };
  if (!v2_dir_.empty() && cgroupfs::exists(v2_dir_ + "/cgroup.kill")) {
    WARDEN_RETURN_IF_ERROR(cgroupfs::writeText(v2_dir_ + "/cgroup.kill", "1"));
  } else {
    // No cgroup.kill: freeze (so nothing forks meanwhile), SIGKILL everything, thaw (v1 frozen tasks
    // die only once thawed); repeat until empty.
    while (!empty() && Clock::now() < deadline) {
      const bool can_freeze = !v2_dir_.empty() || !freezer_v1_dir_.empty();
      if (can_freeze) (void)freeze();
      for (const auto& dir : directories()) {
        for (pid_t pid : cgroupfs::readProcs(dir)) ::kill(pid, SIGKILL);
      }
      if (can_freeze) (void)thaw();
      std::this_thread::sleep_for(kPollInterval);
    }
  }
  if (!waitUntil(empty, deadline)) {
    return deadlineExceeded(fmt::format("session {}: {} processes still alive after {} ms", id_,
                                        processes().size(), deadline_in.count()));
  }
  return okResult();
}

CgroupStats SessionCgroup::stats() const {
  CgroupStats s;
  if (!memory_.dir.empty()) {
    const std::string& d = memory_.dir;
    if (memory_.v2) {
      s.memory_current = cgroupfs::readNumber(d + "/memory.current").value_or(0);
      s.memory_peak = cgroupfs::readNumber(d + "/memory.peak").value_or(s.memory_current);
      s.oom_kills = cgroupfs::readKey(d + "/memory.events", "oom_kill").value_or(0);
    } else {
      s.memory_current = cgroupfs::readNumber(d + "/memory.usage_in_bytes").value_or(0);
      s.memory_peak = cgroupfs::readNumber(d + "/memory.max_usage_in_bytes").value_or(s.memory_current);
      s.oom_kills = cgroupfs::readKey(d + "/memory.oom_control", "oom_kill").value_or(0);
    }
  }
  if (!pids_.dir.empty()) {
    s.pids_current = static_cast<uint32_t>(cgroupfs::readNumber(pids_.dir + "/pids.current").value_or(0));
    s.pids_max_hits = cgroupfs::readKey(pids_.dir + "/pids.events", "max").value_or(0);
  }
  return s;
}

std::string SessionCgroup::describe() const {
  auto where = [](const Placement& p) { return p.dir.empty() ? "none" : (p.v2 ? "v2" : "v1"); };
  std::string out = fmt::format("memory:{} pids:{} cpu:{} freeze:{}", where(memory_), where(pids_), where(cpu_),
                                !v2_dir_.empty() ? "v2" : (!freezer_v1_dir_.empty() ? "v1" : "none"));
  for (const auto& m : missing_) out += "; " + m;
  out += notes_;
  return out;
}

std::vector<std::string> SessionCgroup::missing() const { return missing_; }
std::string SessionCgroup::memoryDir() const { return memory_.dir; }
bool SessionCgroup::memoryIsV2() const { return memory_.v2; }
std::string SessionCgroup::pidsDir() const { return pids_.dir; }
bool SessionCgroup::pidsIsV2() const { return pids_.v2; }
std::string SessionCgroup::cpuDir() const { return cpu_.dir; }
bool SessionCgroup::cpuIsV2() const { return cpu_.v2; }

Result<void> SessionCgroup::remove() {
  if (removed_) return okResult();
  auto dirs = directories();
  std::reverse(dirs.begin(), dirs.end());  // v1 first, the v2 one last
  for (const auto& dir : dirs) {
    // A process that has just exited can keep a cgroup busy for a moment.
    const auto deadline = Clock::now() + std::chrono::seconds(2);
    for (;;) {
      if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) break;
      if (errno != EBUSY || Clock::now() >= deadline) {
        const int err = errno;
        return errnoError("rmdir " + dir + (err == EBUSY ? " (processes remain; killAll first)" : ""), err);
      }
      std::this_thread::sleep_for(kPollInterval);
    }
  }
  removed_ = true;
  return okResult();
}

}  // namespace warden::sandbox
