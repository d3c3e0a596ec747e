#include "capture/fanotify/fanotify_source.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

namespace warden::capture {

namespace {

constexpr uint64_t kMask = FAN_CREATE | FAN_DELETE | FAN_RENAME | FAN_ATTRIB | FAN_CLOSE_WRITE | FAN_ONDIR;

std::string commOf(uint32_t pid) {
  char buf[64] = {};
  const int fd = open(("/proc/" + std::to_string(pid) + "/comm").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  const ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  std::string s(buf, n > 0 ? static_cast<size_t>(n) : 0);
  if (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

}  // namespace

Result<std::unique_ptr<FanotifySource>> FanotifySource::create(const CaptureOptions& options, audit::Emitter& emitter,
                                                               const ocsf::SessionContext& ctx,
                                                               std::shared_ptr<ProcessTable> table) {
  auto rules = PathRules::create(options.sensitive_paths, options.exclude_paths, options.home);
  if (!rules.ok()) return rules.error();
  if (!table) table = std::make_shared<ProcessTable>();
  std::unique_ptr<FanotifySource> s(new FanotifySource(options, emitter, ctx, std::move(table), std::move(*rules)));
  s->fan_ = UniqueFd(fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK | FAN_REPORT_DFID_NAME_TARGET,
                                   O_RDONLY | O_CLOEXEC | O_LARGEFILE));
  if (s->fan_.get() < 0)
    return unavailable(fmt::format("fanotify_init(FAN_REPORT_DFID_NAME): {} (needs CAP_SYS_ADMIN)", std::strerror(errno)));
  std::vector<std::string> mounts = options.fanotify_mounts;
  if (mounts.empty()) mounts.push_back("/");
  for (const auto& m : mounts) {
    if (fanotify_mark(s->fan_.get(), FAN_MARK_ADD | FAN_MARK_FILESYSTEM, kMask, AT_FDCWD, m.c_str()) != 0)
      return unavailable(fmt::format("fanotify_mark(FAN_MARK_FILESYSTEM, {}): {}", m, std::strerror(errno)));
    UniqueFd fd(open(m.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0) return errnoError(fmt::format("open {}", m));
    s->mount_fds_.push_back(std::move(fd));
  }
  return s;
}

FanotifySource::FanotifySource(const CaptureOptions& options, audit::Emitter& emitter, const ocsf::SessionContext& ctx,
                               std::shared_ptr<ProcessTable> table, PathRules rules)
    : options_(options),
      clock_(options.clock != nullptr ? *options.clock : SystemClock::instance()),
      recorder_(options_, std::move(rules), emitter, ctx, std::move(table)),
      cgroup_(options.cgroup_path) {}

FanotifySource::~FanotifySource() { stop(); }

Result<void> FanotifySource::start() {
  if (started_) return failedPrecondition("fanotify capture already started");
  wake_ = UniqueFd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (wake_.get() < 0) return errnoError("eventfd");
  started_ = true;
  thread_ = std::thread([this] { run(); });
  return {};
}

void FanotifySource::run() {
  for (;;) {
    pollfd fds[2] = {{fan_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
    const int n = poll(fds, 2, 250);
    drain();
    if (n > 0 && (fds[1].revents & POLLIN)) return;
  }
}

void FanotifySource::drain() {
  alignas(fanotify_event_metadata) char buf[65536];
  for (;;) {
    const ssize_t got = read(fan_.get(), buf, sizeof buf);
    if (got <= 0) return;
    size_t off = 0;
    while (off + sizeof(fanotify_event_metadata) <= static_cast<size_t>(got)) {
      fanotify_event_metadata m{};
      std::memcpy(&m, buf + off, sizeof m);
      if (m.event_len < sizeof m || off + m.event_len > static_cast<size_t>(got)) break;
      handle(buf + off, m.event_len);
      off += m.event_len;
    }
  }
}

std::string FanotifySource::dirPath(const void* info) const {
  fanotify_event_info_fid fid{};
  std::memcpy(&fid, info, sizeof fid);
  const auto* handle = reinterpret_cast<const file_handle*>(static_cast<const char*>(info) + sizeof fid);
  for (const auto& mfd : mount_fds_) {
    const int fd = open_by_handle_at(mfd.get(), const_cast<file_handle*>(handle), O_PATH | O_CLOEXEC);
    if (fd < 0) continue;
    char path[PATH_MAX];
    const ssize_t n = readlink(("/proc/self/fd/" + std::to_string(fd)).c_str(), path, sizeof path);
    close(fd);
    if (n > 0) return std::string(path, static_cast<size_t>(n));
  }
  return {};
}

void FanotifySource::handle(const char* event, size_t len) {
  fanotify_event_metadata m{};
  std::memcpy(&m, event, sizeof m);
  const int64_t now = clock_.nowMillis();
  if (m.mask & FAN_Q_OVERFLOW) {
    recorder_.account(RecordKind::kFile).dropped++;
    recorder_.reportLoss(RecordKind::kFile, 1, now, now, "fanotify queue overflowed (at least one event)");
    return;
  }
  const uint32_t pid = m.pid > 0 ? static_cast<uint32_t>(m.pid) : 0;
  const bool known = pid != 0 && recorder_.table()->find(pid).has_value();
  if (pid == 0 || (!known && !cgroup_.contains(pid))) return;  // not the session's
  recorder_.account(RecordKind::kFile).seen++;
  recorder_.account(RecordKind::kFile).received++;
  // Info records: DFID_NAME (the object: dir + name), OLD/NEW_DFID_NAME for FAN_RENAME.
  std::string path, from, to;
  size_t off = m.metadata_len;
  while (off + sizeof(fanotify_event_info_header) <= len) {
    fanotify_event_info_header h{};
    std::memcpy(&h, event + off, sizeof h);
    if (h.len < sizeof h || off + h.len > len) break;
    const char* info = event + off;
    if (h.info_type == FAN_EVENT_INFO_TYPE_DFID_NAME || h.info_type == FAN_EVENT_INFO_TYPE_OLD_DFID_NAME ||
        h.info_type == FAN_EVENT_INFO_TYPE_NEW_DFID_NAME) {
      const auto* fh = reinterpret_cast<const file_handle*>(info + sizeof(fanotify_event_info_fid));
      const size_t name_at = sizeof(fanotify_event_info_fid) + sizeof(file_handle) + fh->handle_bytes;
      std::string name;
      if (name_at < h.len) name = std::string(info + name_at, strnlen(info + name_at, h.len - name_at));
      const std::string dir = dirPath(info);
      const std::string full = dir.empty() ? name : (dir == "/" ? "/" + name : dir + "/" + name);
      if (h.info_type == FAN_EVENT_INFO_TYPE_OLD_DFID_NAME) {
        from = full;
      } else if (h.info_type == FAN_EVENT_INFO_TYPE_NEW_DFID_NAME) {
        to = full;
      } else {
        path = full;
      }
    }
    off += h.len;
  }
  FileFact f;
  f.time_ms = now;
  f.pid = pid;
  if (auto p = recorder_.table()->find(pid)) {
    f.uid = p->uid;
    f.comm = p->name;
  } else {
    f.comm = commOf(pid);
  }
  f.directory = (m.mask & FAN_ONDIR) != 0;
  // fanotify merges events on one object (a create then its close-after-write arrive as one): each
  // bit is its own FILE event, in the order they happened.
  std::vector<FileFact> facts;
  auto add = [&](FileOp op, const std::string& p1, const std::string& p2 = {}) {
    FileFact x = f;
    x.op = op;
    x.path = p1;
    x.path2 = p2;
    facts.push_back(std::move(x));
  };
  if (m.mask & FAN_CREATE) add(FileOp::kCreate, path);
  if (m.mask & FAN_CLOSE_WRITE) add(FileOp::kWrite, path);
  if (m.mask & FAN_ATTRIB) add(FileOp::kAttrib, path);
  if (m.mask & FAN_RENAME) add(FileOp::kRename, from, to);
  if (m.mask & FAN_DELETE) add(FileOp::kDelete, path);
  if (facts.empty() || facts.front().path.empty()) {
    recorder_.account(RecordKind::kFile).malformed++;
    recorder_.reportLoss(RecordKind::kFile, 1, now, now, "fanotify event without a resolvable path");
    return;
  }
  // One record received; the extra events it carried count as received too, so the summary adds up.
  recorder_.account(RecordKind::kFile).seen += facts.size() - 1;
  recorder_.account(RecordKind::kFile).received += facts.size() - 1;
  for (auto& x : facts) recorder_.onFile(std::move(x));
}

void FanotifySource::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (!started_) return;
  const uint64_t one = 1;
  if (write(wake_.get(), &one, sizeof one) < 0) {
  }
  if (thread_.joinable()) thread_.join();
  recorder_.flush();
  recorder_.summary("fanotify", recorder_.accounts(), clock_.nowMillis());
}

}  // namespace warden::capture
