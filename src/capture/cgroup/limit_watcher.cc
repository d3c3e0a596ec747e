#include "capture/cgroup/limit_watcher.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <cerrno>
#include <optional>

#include "capture/cgroup/cgroup_events.h"
#include "common/file_io.h"
#include "common/clock.h"

namespace warden::capture {
namespace {

constexpr int kPidsPollMillis = 250;
constexpr uint64_t kMaxOomEventsPerCheck = 64;
constexpr int kOomRecheckMillis = 20;
constexpr int kCpuPollMillis = 1000;

std::optional<std::string> readSmall(const std::string& path) {
  auto text = readFileBounded(path, 65536, OverLimit::kFail);
  if (!text.ok()) return std::nullopt;
  return std::move(text).value();
}

std::optional<uint64_t> readKey(const std::string& path, const std::string& key) {
  auto text = readSmall(path);
  if (!text) return std::nullopt;
  auto map = parseFlatKeyed(*text);
  if (!map.ok()) return std::nullopt;
  auto it = map->find(key);
  if (it == map->end()) return std::nullopt;
  return it->second;
}

std::optional<uint64_t> readValue(const std::string& path) {
  auto text = readSmall(path);
  if (!text) return std::nullopt;
  auto v = parseSingleValue(*text);
  if (!v.ok()) return std::nullopt;
  return *v;
}

void drain(int fd) {
  char buf[4096];
  while (::read(fd, buf, sizeof buf) > 0) {
  }
}

}  // namespace

LimitWatcher::LimitWatcher(Options options, audit::Emitter& emitter, const ocsf::SessionContext& ctx,
                           std::function<void(const ocsf::LimitHit&)> on_limit)
    : options_(std::move(options)), emitter_(emitter), ctx_(ctx), on_limit_(std::move(on_limit)) {}

Result<std::unique_ptr<LimitWatcher>> LimitWatcher::create(Options options, audit::Emitter& emitter,
                                                           const ocsf::SessionContext& ctx,
                                                           std::function<void(const ocsf::LimitHit&)> on_limit) {
  std::unique_ptr<LimitWatcher> w(new LimitWatcher(std::move(options), emitter, ctx, std::move(on_limit)));
  const Options& o = w->options_;
  w->stop_fd_ = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!w->stop_fd_.valid()) return errnoError("eventfd (limit watcher stop)");
  auto watch = [&](const std::string& path) -> Result<void> {
    if (!w->inotify_fd_.valid()) {
      w->inotify_fd_ = UniqueFd(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
      if (!w->inotify_fd_.valid()) return errnoError("inotify_init1");
    }
    if (::inotify_add_watch(w->inotify_fd_.get(), path.c_str(), IN_MODIFY) < 0) {
      return errnoError("inotify_add_watch " + path);
    }
    return okResult();
  };
  if (!o.memory_dir.empty()) {
    if (o.memory_v2) {
      WARDEN_RETURN_IF_ERROR(watch(o.memory_dir + "/memory.events"));
      w->seen_oom_kills_ = readKey(o.memory_dir + "/memory.events", "oom_kill").value_or(0);
    } else {
      const std::string control = o.memory_dir + "/memory.oom_control";
      w->oom_control_fd_ = UniqueFd(::open(control.c_str(), O_RDONLY | O_CLOEXEC));
      if (!w->oom_control_fd_.valid()) return errnoError("open " + control);
      w->oom_event_fd_ = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
      if (!w->oom_event_fd_.valid()) return errnoError("eventfd (oom)");
      const std::string reg = fmt::format("{} {}", w->oom_event_fd_.get(), w->oom_control_fd_.get());
      const std::string event_control = o.memory_dir + "/cgroup.event_control";
      UniqueFd ec(::open(event_control.c_str(), O_WRONLY | O_CLOEXEC));
      if (!ec.valid()) return errnoError("open " + event_control);
      if (::write(ec.get(), reg.data(), reg.size()) != static_cast<ssize_t>(reg.size())) {
        return errnoError("register OOM eventfd with " + event_control);
      }
      w->seen_oom_kills_ = readKey(control, "oom_kill").value_or(0);
    }
  }
  if (!o.pids_dir.empty()) {
    if (o.pids_v2) {
      WARDEN_RETURN_IF_ERROR(watch(o.pids_dir + "/pids.events"));
    } else {
      w->poll_pids_ = true;  // v1 pids.events is not notified (docs/cgroups.md)
    }
    w->seen_pids_max_ = readKey(o.pids_dir + "/pids.events", "max").value_or(0);
  }
  if (!o.cpu_dir.empty()) {
    const std::string stat = o.cpu_dir + "/cpu.stat";
    w->seen_throttled_periods_ = readKey(stat, "nr_throttled").value_or(0);
    w->seen_throttled_us_ = o.cpu_v2 ? readKey(stat, "throttled_usec").value_or(0)
                                     : readKey(stat, "throttled_time").value_or(0) / 1000;
  }
  return w;
}

LimitWatcher::~LimitWatcher() { stop(); }

Result<void> LimitWatcher::start() {
  if (started_) return failedPrecondition("limit watcher already started");
  started_ = true;
  thread_ = std::thread([this] { run(); });
  return okResult();
}

void LimitWatcher::stop() {
  if (!thread_.joinable()) return;
  const uint64_t one = 1;
  (void)!::write(stop_fd_.get(), &one, sizeof one);
  thread_.join();
}

void LimitWatcher::run() {
  using std::chrono::steady_clock;
  for (;;) {
    pollfd fds[3];
    nfds_t n = 0;
    fds[n++] = {stop_fd_.get(), POLLIN, 0};
    if (inotify_fd_.valid()) fds[n++] = {inotify_fd_.get(), POLLIN, 0};
    if (oom_event_fd_.valid()) fds[n++] = {oom_event_fd_.get(), POLLIN, 0};
    int timeout = poll_pids_ || pids_pending_ ? kPidsPollMillis : -1;
    if (!options_.cpu_dir.empty()) {
      const int cpu = static_cast<int>(std::min<int64_t>(kCpuPollMillis, options_.cpu_event_interval.count()));
      timeout = timeout < 0 ? cpu : std::min(timeout, cpu);
    }
    if (steady_clock::now() < oom_recheck_until_) timeout = kOomRecheckMillis;
    const int r = ::poll(fds, n, timeout);
    if (r < 0 && errno != EINTR) {
      emitter_.operational(audit::Level::kError, "cgroup", fmt::format("poll: {}", std::strerror(errno)));
      break;
    }
    for (nfds_t i = 1; i < n; ++i) {
      if (r > 0 && (fds[i].revents & POLLIN)) {
        drain(fds[i].fd);
        // v1 signals the OOM before the kill is counted: look again for a while.
        if (fds[i].fd == oom_event_fd_.get()) oom_recheck_until_ = steady_clock::now() + std::chrono::seconds(2);
      }
    }
    const uint64_t before = oom_events_.load();
    check(false);
    if (oom_events_.load() != before) oom_recheck_until_ = {};
    if (r > 0 && (fds[0].revents & POLLIN)) break;
  }
  check(true);  // whatever was counted before stop() is emitted before it returns
}

void LimitWatcher::check(bool final) {
  checkMemory();
  checkPids(final);
  checkCpu(final);
}

void LimitWatcher::checkCpu(bool final) {
  const Options& o = options_;
  if (o.cpu_dir.empty()) return;
  const auto now = std::chrono::steady_clock::now();
  if (!final && now - last_cpu_event_ < o.cpu_event_interval) return;
  const std::string stat = o.cpu_dir + "/cpu.stat";
  const auto periods = readKey(stat, "nr_throttled");
  if (!periods || *periods <= seen_throttled_periods_) return;
  const uint64_t throttled_us = o.cpu_v2 ? readKey(stat, "throttled_usec").value_or(seen_throttled_us_)
                                         : readKey(stat, "throttled_time").value_or(seen_throttled_us_ * 1000) / 1000;
  const uint64_t fresh_periods = *periods - seen_throttled_periods_;
  const uint64_t fresh_ms = throttled_us > seen_throttled_us_ ? (throttled_us - seen_throttled_us_) / 1000 : 0;
  seen_throttled_periods_ = *periods;
  seen_throttled_us_ = throttled_us;
  last_cpu_event_ = now;
  ocsf::LimitHit hit;
  hit.type = "cpu";
  hit.action = "throttle";
  hit.limit = o.cpu_limit_millicores;
  hit.measured = fresh_ms;
  ocsf::Event e = ocsf::resourceLimit(ctx_, SystemClock::instance().nowMillis(), hit);
  e.message += fmt::format(": throttled in {} period{} ({} ms)", fresh_periods, fresh_periods == 1 ? "" : "s", fresh_ms);
  emitter_.emit(std::move(e));
  ++cpu_events_;
  if (on_limit_) on_limit_(hit);
}

void LimitWatcher::checkMemory() {
  const Options& o = options_;
  if (o.memory_dir.empty()) return;
  const std::string events = o.memory_dir + (o.memory_v2 ? "/memory.events" : "/memory.oom_control");
  const auto kills = readKey(events, "oom_kill");
  if (!kills || *kills <= seen_oom_kills_) return;
  const uint64_t fresh = *kills - seen_oom_kills_;
  seen_oom_kills_ = *kills;
  ocsf::LimitHit hit;
  hit.type = "oom";
  hit.action = "kill";
  hit.limit = o.memory_limit;
  if (hit.limit == 0) {
    hit.limit = readValue(o.memory_dir + (o.memory_v2 ? "/memory.max" : "/memory.limit_in_bytes")).value_or(0);
  }
  if (o.memory_v2) {
    hit.measured = readValue(o.memory_dir + "/memory.peak").value_or(0);
    if (hit.measured == 0) hit.measured = readValue(o.memory_dir + "/memory.current").value_or(0);
  } else {
    hit.measured = readValue(o.memory_dir + "/memory.max_usage_in_bytes").value_or(0);
  }
  const int64_t noticed = SystemClock::instance().nowMillis();
  if (o.oom_victim) {
    if (auto victim = o.oom_victim(noticed)) hit.process = std::move(*victim);
  }
  const uint64_t emit_count = std::min(fresh, kMaxOomEventsPerCheck);
  for (uint64_t i = 0; i < emit_count; ++i) {
    ocsf::Event e = ocsf::resourceLimit(ctx_, noticed, hit);
    if (i + 1 == emit_count && fresh > emit_count) {
      e.message += fmt::format(" ({} more OOM kills counted in the same instant)", fresh - emit_count);
    }
    emitter_.emit(std::move(e));
    ++oom_events_;
    if (on_limit_) on_limit_(hit);
  }
}

void LimitWatcher::checkPids(bool final) {
  const Options& o = options_;
  if (o.pids_dir.empty()) return;
  const auto max_hits = readKey(o.pids_dir + "/pids.events", "max");
  if (!max_hits || *max_hits <= seen_pids_max_) return;
  // A fork bomb is refused thousands of times a second: one event per 250 ms, with the count.
  const auto now = std::chrono::steady_clock::now();
  if (!final && now - last_pids_event_ < std::chrono::milliseconds(kPidsPollMillis)) {
    pids_pending_ = true;
    return;
  }
  pids_pending_ = false;
  last_pids_event_ = now;
  const uint64_t fresh = *max_hits - seen_pids_max_;
  seen_pids_max_ = *max_hits;
  ocsf::LimitHit hit;
  hit.type = "pids";
  hit.action = "deny";
  hit.limit = o.pids_limit != 0 ? o.pids_limit : readValue(o.pids_dir + "/pids.max").value_or(0);
  hit.measured = readValue(o.pids_dir + "/pids.peak").value_or(0);
  if (hit.measured == 0) hit.measured = readValue(o.pids_dir + "/pids.current").value_or(0);
  ocsf::Event e = ocsf::resourceLimit(ctx_, SystemClock::instance().nowMillis(), hit);
  e.message += fmt::format(": {} fork{} refused", fresh, fresh == 1 ? "" : "s");
  emitter_.emit(std::move(e));
  ++pids_events_;
  if (on_limit_) on_limit_(hit);
}

}  // namespace warden::capture
