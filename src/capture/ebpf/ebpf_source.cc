#include "capture/ebpf/ebpf_source.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <linux/magic.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

// The skeleton embeds the BPF object as one long string literal.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverlength-strings"
#include "capture.skel.h"
#pragma GCC diagnostic pop
#include "capture/path_rules.h"
#include "common/ip_address.h"

namespace warden::capture {

namespace {

// libbpf's own messages (the verifier's complaint, a missing BTF type) end up here so a failed load
// can say why; one process-wide handler, the last few lines kept.
std::mutex g_libbpf_mu;
std::string g_libbpf_log;  // Guarded by g_libbpf_mu.

int libbpfPrint(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  char line[512];
  const int n = vsnprintf(line, sizeof line, format, args);
  std::lock_guard lock(g_libbpf_mu);
  if (n > 0) g_libbpf_log.append(line, std::min<size_t>(static_cast<size_t>(n), sizeof line - 1));
  if (g_libbpf_log.size() > 2048) g_libbpf_log.erase(0, g_libbpf_log.size() - 2048);
  return 0;
}

std::string lastLibbpfLines() {
  std::lock_guard lock(g_libbpf_mu);
  std::string s = g_libbpf_log;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  const size_t start = s.size() > 300 ? s.rfind('\n', s.size() - 300) : std::string::npos;
  if (start != std::string::npos) s = s.substr(start + 1);
  for (char& c : s) {
    if (c == '\n') c = ';';
  }
  return s;
}

void installLibbpfPrint() {
  static std::once_flag once;
  std::call_once(once, [] { libbpf_set_print(libbpfPrint); });
}

RecordKind kindOf(uint16_t wire_kind) {
  switch (wire_kind) {
    case WK_EXEC: return RecordKind::kExec;
    case WK_ARGV: return RecordKind::kArgv;
    case WK_EXEC_FAIL: return RecordKind::kExecFail;
    case WK_FORK: return RecordKind::kFork;
    case WK_EXIT: return RecordKind::kExit;
    case WK_FILE: return RecordKind::kFile;
    case WK_CONNECT: return RecordKind::kConnect;
    default: return RecordKind::kCount;
  }
}

// An address from a connect record: 4 bytes for AF_INET, 16 for AF_INET6 (network order).
IpAddress addressOf(uint16_t family, const uint8_t (&raw)[16]) {
  std::array<uint8_t, 16> b{};
  std::memcpy(b.data(), raw, 16);
  return IpAddress::fromBytes(family == 2 ? IpAddress::Family::kV4 : IpAddress::Family::kV6, b);
}

std::string commOf(const wire_hdr& h) {
  return std::string(h.comm, strnlen(h.comm, sizeof h.comm));
}

size_t components(std::string_view p) {
  size_t n = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] != '/' && (i == 0 || p[i - 1] == '/')) ++n;
  }
  return n;
}

FileOp fileOpOf(uint16_t op) {
  switch (op) {
    case WF_OPEN_READ: return FileOp::kOpenRead;
    case WF_CREATE: return FileOp::kCreate;
    case WF_WRITE: return FileOp::kWrite;
    case WF_TRUNCATE: return FileOp::kTruncate;
    case WF_DELETE: return FileOp::kDelete;
    case WF_RENAME: return FileOp::kRename;
    case WF_CHMOD: return FileOp::kChmod;
    case WF_CHOWN: return FileOp::kChown;
    case WF_MOUNT: return FileOp::kMount;
    case WF_UMOUNT: return FileOp::kUnmount;
    case WF_CONNECT: return FileOp::kConnect;
    default: return FileOp::kOpenDenied;
  }
}

// A path argument: resolved by the kernel, or named by the process and resolved lexically here.
std::string pathOf(bool has_walk, const WalkPath& walk, const std::string& str, bool has_base, const WalkPath& base,
                   bool& truncated) {
  if (has_walk) {
    truncated = truncated || walk.truncated;
    return walk.path;
  }
  if (str.empty()) return {};
  if (has_base) truncated = truncated || base.truncated;
  return resolveLexically(has_base ? base.path : "/", str);
}

}  // namespace

Result<CgroupRef> cgroupRef(const std::string& path) {
  struct statfs fs {};
  if (statfs(path.c_str(), &fs) != 0) return errnoError(fmt::format("statfs {}", path));
  if (fs.f_type != CGROUP2_SUPER_MAGIC) return invalidArgument(fmt::format("{} is not a cgroup v2 directory", path));
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return errnoError(fmt::format("stat {}", path));
  char real[PATH_MAX];
  if (realpath(path.c_str(), real) == nullptr) return errnoError(fmt::format("realpath {}", path));
  const std::string rp(real);
  // The cgroup2 mount this path is under, and that mount's root within the hierarchy.
  std::ifstream mi("/proc/self/mountinfo");
  std::string line;
  size_t best_len = 0;
  std::string best_root;
  while (std::getline(mi, line)) {
    const size_t dash = line.find(" - ");
    if (dash == std::string::npos || line.compare(dash + 3, 8, "cgroup2 ") != 0) continue;
    std::istringstream in(line.substr(0, dash));
    std::string id, parent, devno, root, point;
    in >> id >> parent >> devno >> root >> point;
    if (rp.compare(0, point.size(), point) != 0 || (rp.size() > point.size() && rp[point.size()] != '/' && point != "/"))
      continue;
    if (point.size() >= best_len) {
      best_len = point.size();
      best_root = root;
    }
  }
  if (best_len == 0) return invalidArgument(fmt::format("{}: no cgroup2 mount holds it", path));
  CgroupRef ref;
  ref.id = st.st_ino;
  ref.level = static_cast<uint32_t>(components(best_root) + components(std::string_view(rp).substr(best_len)));
  return ref;
}

LoadedPrograms::Shape LoadedPrograms::shapeOf(const CaptureOptions& options, const PathRules& rules) {
  Shape shape;
  shape.argv_max = options.argv_max;
  shape.files = options.file_writes;
  shape.processes = options.processes;
  shape.ring_bytes = options.ring_bytes;
  shape.inodes = !rules.kernelPrefixes().empty();
  shape.names = !rules.kernelNames().empty();
  return shape;
}

Result<struct capture*> LoadedPrograms::openAndLoad(const Shape& shape) {
  if (shape.ring_bytes < 4096 || (shape.ring_bytes & (shape.ring_bytes - 1)) != 0)
    return invalidArgument(fmt::format("ring buffer size {} is not a power of two of at least 4096", shape.ring_bytes));
  if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
    return unavailable("the kernel has no BTF (/sys/kernel/btf/vmlinux): the CO-RE programs cannot be relocated");
  installLibbpfPrint();
  struct capture* skel = capture__open();
  if (skel == nullptr) return unavailable(fmt::format("opening the capture BPF object: {}", std::strerror(errno)));
  skel->rodata->argv_max = shape.argv_max;
  skel->rodata->capture_files = shape.files ? 1 : 0;
  skel->rodata->capture_processes = shape.processes ? 1 : 0;
  skel->rodata->have_sensitive_inodes = shape.inodes ? 1 : 0;
  skel->rodata->have_sensitive_names = shape.names ? 1 : 0;
  skel->rodata->have_sensitive_dirnames = shape.inodes ? 1 : 0;
  if (bpf_map__set_max_entries(skel->maps.events, shape.ring_bytes) != 0) {
    const int err = errno;
    capture__destroy(skel);
    return invalidArgument(fmt::format("ring buffer size {}: {}", shape.ring_bytes, std::strerror(err)));
  }
  if (capture__load(skel) != 0) {
    const int err = errno;
    const std::string detail = lastLibbpfLines();
    capture__destroy(skel);
    if (err == EPERM || err == EACCES)
      return unavailable(fmt::format(
          "BPF programs cannot be loaded: {} (needs CAP_BPF and CAP_PERFMON, no lockdown, "
          "kernel.unprivileged_bpf_disabled allowing it) ({})",
          std::strerror(err), detail));
    return unavailable(fmt::format("loading the capture BPF programs: {} ({})", std::strerror(err), detail));
  }
  return skel;
}

Result<std::unique_ptr<LoadedPrograms>> LoadedPrograms::load(const CaptureOptions& options) {
  // The home only moves "~" patterns; whether any path or name is filtered does not depend on it.
  auto rules = PathRules::create(options.sensitive_paths, options.exclude_paths,
                                 options.home.empty() ? std::string_view("/root") : std::string_view(options.home));
  if (!rules.ok()) return rules.error();
  std::unique_ptr<LoadedPrograms> out(new LoadedPrograms());
  out->shape_ = shapeOf(options, *rules);
  auto skel = openAndLoad(out->shape_);
  if (!skel.ok()) return skel.error();
  out->skel_ = *skel;
  return out;
}

LoadedPrograms::~LoadedPrograms() {
  if (skel_ != nullptr) capture__destroy(skel_);
}

Result<std::unique_ptr<EbpfSource>> EbpfSource::create(const CaptureOptions& options, audit::Emitter& emitter,
                                                       const ocsf::SessionContext& ctx,
                                                       std::shared_ptr<ProcessTable> table,
                                                       LoadedPrograms* preloaded) {
  auto rules = PathRules::create(options.sensitive_paths, options.exclude_paths, options.home);
  if (!rules.ok()) return rules.error();
  auto ref = cgroupRef(options.cgroup_path);
  if (!ref.ok()) return ref.error();
  if (!table) table = std::make_shared<ProcessTable>();
  std::unique_ptr<EbpfSource> s(new EbpfSource(options, emitter, ctx, std::move(table), *rules));
  s->cgroup_id_ = ref->id;
  s->cgroup_level_ = ref->level;
  const LoadedPrograms::Shape shape = LoadedPrograms::shapeOf(options, *rules);
  if (preloaded != nullptr && preloaded->skel_ != nullptr && preloaded->shape_ == shape) {
    s->skel_ = std::exchange(preloaded->skel_, nullptr);
  } else {
    auto skel = LoadedPrograms::openAndLoad(shape);
    if (!skel.ok()) return skel.error();
    s->skel_ = *skel;
  }
  // Bound to the session's cgroup before anything is attached.
  s->skel_->bss->session_cgroup_id = s->cgroup_id_;
  s->skel_->bss->session_cgroup_level = s->cgroup_level_;
  WARDEN_RETURN_IF_ERROR(s->fillSensitiveMaps(*rules));
  if (capture__attach(s->skel_) != 0) {
    const int err = errno;
    return unavailable(fmt::format("attaching the capture programs: {} ({})", std::strerror(err), lastLibbpfLines()));
  }
  return s;
}

EbpfSource::EbpfSource(const CaptureOptions& options, audit::Emitter& emitter, const ocsf::SessionContext& ctx,
                       std::shared_ptr<ProcessTable> table, PathRules rules)
    : options_(options),
      emitter_(emitter),
      clock_(options.clock != nullptr ? *options.clock : SystemClock::instance()),
      recorder_(options_, std::move(rules), emitter, ctx, std::move(table)) {
  struct timespec rt {};
  struct timespec mono {};
  clock_gettime(CLOCK_REALTIME, &rt);
  clock_gettime(CLOCK_MONOTONIC, &mono);
  mono_to_epoch_ns_ = (static_cast<int64_t>(rt.tv_sec) - mono.tv_sec) * 1'000'000'000LL + (rt.tv_nsec - mono.tv_nsec);
}

EbpfSource::~EbpfSource() {
  stop();
  if (ring_ != nullptr) ring_buffer__free(ring_);
  if (skel_ != nullptr) capture__destroy(skel_);
}

Result<void> EbpfSource::fillSensitiveMaps(const PathRules& rules) {
  struct InodeKey {
    uint64_t ino;
    uint32_t dev;
    uint32_t pad;
  };
  const int inodes = bpf_map__fd(skel_->maps.sensitive_inodes);
  for (const auto& p : rules.kernelPrefixes()) {
    struct stat st {};
    if (stat(p.c_str(), &st) != 0) continue;  // not there (yet): userspace globs still mark writes
    InodeKey k{};
    k.ino = st.st_ino;
    k.dev = (major(st.st_dev) << 20) | minor(st.st_dev);  // the kernel's MKDEV
    const uint8_t v = S_ISDIR(st.st_mode) ? 3 : 1;       // SENS_SELF | SENS_SUBTREE for a directory
    if (bpf_map_update_elem(inodes, &k, &v, BPF_ANY) != 0) return errnoError(fmt::format("sensitive path {}", p));
  }
  const int dirnames = bpf_map__fd(skel_->maps.sensitive_dirnames);
  for (const auto& p : rules.kernelPrefixes()) {
    const std::string_view last = std::string_view(p).substr(p.rfind('/') + 1);
    if (last.empty() || last.size() >= 32) continue;  // "/": the inode map covers it
    char key[32] = {};
    std::memcpy(key, last.data(), last.size());
    const uint8_t v = 1;
    if (bpf_map_update_elem(dirnames, key, &v, BPF_ANY) != 0) return errnoError(fmt::format("sensitive name {}", last));
  }
  const int names = bpf_map__fd(skel_->maps.sensitive_names);
  for (const auto& n : rules.kernelNames()) {
    char key[32] = {};
    std::memcpy(key, n.data(), std::min(n.size(), sizeof key - 1));
    const uint8_t v = 1;
    if (bpf_map_update_elem(names, key, &v, BPF_ANY) != 0) return errnoError(fmt::format("sensitive name {}", n));
  }
  return {};
}

Result<void> EbpfSource::setAttached(bool attached) {
  if (skel_ == nullptr || stopped_) return failedPrecondition("ebpf capture not running");
  if (!attached) {
    capture__detach(skel_);
    return {};
  }
  if (capture__attach(skel_) != 0) return unavailable(fmt::format("re-attaching: {}", std::strerror(errno)));
  return {};
}

Result<void> EbpfSource::start() {
  if (started_) return failedPrecondition("ebpf capture already started");
  wake_ = UniqueFd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (wake_.get() < 0) return errnoError("eventfd");
  pass_ = UniqueFd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (pass_.get() < 0) return errnoError("eventfd");
  ring_ = ring_buffer__new(bpf_map__fd(skel_->maps.events), &EbpfSource::onRecord, this, nullptr);
  if (ring_ == nullptr) return errnoError("ring_buffer__new");
  last_loss_check_ms_ = clock_.nowMillis();
  started_ = true;
  thread_ = std::thread([this] { run(); });
  if (options_.processes) {
    // Connect records feed ProcessTable::bySource: a lookup may ask the reader for a pass now.
    recorder_.table()->attachConnectFeed([fd = pass_.get()] {
      const uint64_t one = 1;
      if (write(fd, &one, sizeof one) < 0) {
      }  // EAGAIN: a pass is already asked for
    });
  }
  return {};
}

void EbpfSource::run() {
  UniqueFd ep(epoll_create1(EPOLL_CLOEXEC));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u32 = 1;
  epoll_ctl(ep.get(), EPOLL_CTL_ADD, ring_buffer__epoll_fd(ring_), &ev);
  ev.data.u32 = 2;
  epoll_ctl(ep.get(), EPOLL_CTL_ADD, wake_.get(), &ev);
  ev.data.u32 = 3;
  epoll_ctl(ep.get(), EPOLL_CTL_ADD, pass_.get(), &ev);
  const int timeout = static_cast<int>(std::max<int64_t>(10, options_.loss_check.count()));
  for (;;) {
    epoll_event got[3];
    const int n = epoll_wait(ep.get(), got, 3, timeout);
    bool stopping = false;
    for (int i = 0; i < n; ++i) {
      stopping = stopping || got[i].data.u32 == 2;
      if (got[i].data.u32 == 3) {
        uint64_t asked = 0;
        if (read(pass_.get(), &asked, sizeof asked) < 0) {
        }  // EAGAIN: already reset
      }
    }
    // Every record committed before this instant is in the ring now, and consumed below.
    const uint64_t pass_ns = monotonicNs();
    ring_buffer__consume(ring_);
    recorder_.table()->caughtUp(pass_ns);
    const int64_t now = clock_.nowMillis();
    if (now - last_loss_check_ms_ >= options_.loss_check.count()) checkLoss(false);
    recorder_.tick(now);
    const size_t orphans = argv_.expire(now);
    if (orphans > 0) {
      recorder_.account(RecordKind::kArgv).recorded -= orphans;
      recorder_.account(RecordKind::kArgv).filtered += orphans;
    }
    if (stopping) return;
  }
}

int EbpfSource::onRecord(void* self, void* data, size_t size) {
  static_cast<EbpfSource*>(self)->handle(std::span<const uint8_t>(static_cast<const uint8_t*>(data), size));
  return 0;
}

int64_t EbpfSource::epochMs(uint64_t mono_ns) const {
  return (static_cast<int64_t>(mono_ns) + mono_to_epoch_ns_) / 1'000'000;
}

void EbpfSource::handle(std::span<const uint8_t> bytes) {
  const RecordKind kind = kindOf(recordKindOf(bytes));
  if (kind == RecordKind::kCount) {
    emitter_.operational(audit::Level::kWarn, "capture", fmt::format("ebpf: record of unknown kind {} ({} bytes) ignored",
                                                                     recordKindOf(bytes), bytes.size()));
    return;
  }
  recorder_.account(kind).received++;
  auto parsed = parseRecord(bytes);
  if (!parsed.ok()) {
    recorder_.account(kind).malformed++;
    const int64_t now = clock_.nowMillis();
    recorder_.reportLoss(kind, 1, now, now, "malformed record: " + parsed.error().message());
    return;
  }
  Record& rec = *parsed;
  if (auto* chunk = std::get_if<ArgvRecord>(&rec)) {
    if (argv_.add(std::move(*chunk), clock_.nowMillis())) {
      recorder_.account(kind).recorded++;
    } else {
      recorder_.account(kind).filtered++;
    }
    return;
  }
  if (auto* e = std::get_if<ExecRecord>(&rec)) {
    const wire_exec& x = e->fixed;
    ExecFact f;
    f.time_ms = epochMs(x.h.time_ns);
    f.pid = x.h.pid;
    f.ppid = x.ppid;
    f.ns_pid = x.ns_pid;
    f.uid = x.h.uid;
    f.euid = x.euid;
    f.gid = x.gid;
    f.start_ns = x.start_ns;
    f.comm = commOf(x.h);
    f.exe = e->exe.path;
    f.cwd = e->cwd.path;
    f.filename = e->filename.empty() || e->filename.front() == '/' ? e->filename : resolveLexically(f.cwd, e->filename);
    bool complete = true;
    const std::string area = argv_.take(x.exec_id, x.argv_chunks, complete);
    f.argv = splitArgv(area);
    f.argv_truncated = (x.flags & WEF_ARGV_TRUNCATED) != 0;
    f.argv_length = x.argv_len;
    f.argv_incomplete = (x.flags & WEF_ARGV_INCOMPLETE) != 0 || !complete;
    recorder_.onExec(std::move(f));
    return;
  }
  if (auto* e = std::get_if<ExecFailRecord>(&rec)) {
    const wire_exec_fail& x = e->fixed;
    ExecFailFact f;
    f.time_ms = epochMs(x.h.time_ns);
    f.pid = x.h.pid;
    f.ppid = x.ppid;
    f.uid = x.h.uid;
    f.euid = x.euid;
    f.gid = x.gid;
    f.comm = commOf(x.h);
    f.err = x.err;
    f.path = e->filename.empty() ? std::string() : resolveLexically(e->base.path.empty() ? e->cwd.path : e->base.path, e->filename);
    f.argv = std::move(e->argv);
    f.argv_truncated = (x.flags & WEF_ARGV_TRUNCATED) != 0;
    recorder_.onExecFailed(std::move(f));
    return;
  }
  if (auto* e = std::get_if<ForkRecord>(&rec)) {
    ForkFact f;
    f.time_ms = epochMs(e->fixed.h.time_ns);
    f.pid = e->fixed.h.pid;
    f.ppid = e->fixed.ppid;
    f.uid = e->fixed.h.uid;
    f.start_ns = e->fixed.start_ns;
    f.comm = commOf(e->fixed.h);
    recorder_.onFork(f);
    return;
  }
  if (auto* e = std::get_if<ExitRecord>(&rec)) {
    ExitFact f;
    f.time_ms = epochMs(e->fixed.h.time_ns);
    f.pid = e->fixed.h.pid;
    f.status = e->fixed.status;
    f.start_ns = e->fixed.start_ns;
    f.comm = commOf(e->fixed.h);
    recorder_.onExit(f);
    return;
  }
  if (auto* c = std::get_if<ConnectRecord>(&rec)) {
    const wire_connect& x = c->fixed;
    if (x.phase == WCP_CONNECTED) {
      if (x.sock_type != SOCK_STREAM && x.sock_type != SOCK_DGRAM) {
        recorder_.account(kind).filtered++;  // a raw or SCTP-style socket: no proxy or resolver client
        return;
      }
      ProcessTable::SocketEnds ends;
      ends.protocol = x.sock_type == SOCK_STREAM ? ProcessTable::Protocol::kTcp : ProcessTable::Protocol::kUdp;
      ends.local_ip = addressOf(x.family, x.local_addr).unmapped().toString();
      ends.local_port = x.local_port;
      ends.remote_ip = addressOf(x.family, x.addr).unmapped().toString();
      ends.remote_port = x.port;
      recorder_.onConnected(x.h.pid, commOf(x.h), x.h.uid, std::move(ends), epochMs(x.h.time_ns));
      return;
    }
    recorder_.onConnect(x.h.pid, commOf(x.h), x.h.uid, addressOf(x.family, x.addr).toString(), x.port,
                        epochMs(x.h.time_ns));
    return;
  }
  if (auto* e = std::get_if<FileRecord>(&rec)) {
    const wire_file& x = e->fixed;
    FileFact f;
    f.time_ms = epochMs(x.h.time_ns);
    f.pid = x.h.pid;
    f.uid = x.h.uid;
    f.comm = commOf(x.h);
    f.op = fileOpOf(x.op);
    f.err = x.err;
    if (x.op == WF_MOUNT && !e->path1_str.empty() && e->path1_str.front() != '/') {
      f.path = e->path1_str;  // a mount source that is not a path ("tmpfs", "proc")
    } else {
      f.path = pathOf(e->has_path1_walk, e->path1, e->path1_str, e->has_base1, e->base1, f.path_truncated);
    }
    f.path2 = pathOf(e->has_path2_walk, e->path2, e->path2_str, e->has_base2, e->base2, f.path_truncated);
    f.fstype = e->fstype;
    f.sensitive_hint = (x.flags & WFF_SENSITIVE) != 0;
    f.sensitive_guess = (x.flags & WFF_SENSITIVE_GUESS) != 0;
    f.directory = (x.flags & WFF_DIRECTORY) != 0;
    f.truncated = (x.flags & WFF_TRUNCATED) != 0;
    f.created = (x.flags & WFF_CREATED) != 0;
    f.mode = x.mode;
    f.owner_uid = x.owner_uid == 0xffffffffu ? -1 : static_cast<int64_t>(x.owner_uid);
    f.owner_gid = x.owner_gid == 0xffffffffu ? -1 : static_cast<int64_t>(x.owner_gid);
    if (x.op == WF_MOUNT) f.mount_flags = x.open_flags;
    recorder_.onFile(std::move(f));
  }
}

void EbpfSource::kernelCounters(uint64_t seen[WK_MAX], uint64_t dropped[WK_MAX]) const {
  for (int k = 0; k < WK_MAX; ++k) seen[k] = dropped[k] = 0;
  if (skel_ == nullptr) return;
  const int fd = bpf_map__fd(skel_->maps.counters);
  const int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) return;
  struct Counter {
    uint64_t seen;
    uint64_t dropped;
  };
  std::vector<Counter> values(static_cast<size_t>(cpus));
  for (uint32_t k = 0; k < WK_MAX; ++k) {
    if (bpf_map_lookup_elem(fd, &k, values.data()) != 0) continue;
    for (const auto& v : values) {
      seen[k] += v.seen;
      dropped[k] += v.dropped;
    }
  }
}

uint64_t EbpfSource::kernelSkipped() const {
  if (skel_ == nullptr) return 0;
  uint64_t total = 0;
  for (const bpf_program* prog : {skel_->progs.on_exec, skel_->progs.on_fork, skel_->progs.on_exit,
                                  skel_->progs.on_sys_enter, skel_->progs.on_sys_exit}) {
    bpf_prog_info info{};
    uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) == 0) total += info.recursion_misses;
  }
  return total;
}

void EbpfSource::checkLoss(bool final) {
  uint64_t seen[WK_MAX];
  uint64_t dropped[WK_MAX];
  kernelCounters(seen, dropped);
  const int64_t now = clock_.nowMillis();
  for (int k = 1; k < WK_MAX; ++k) {
    if (dropped[k] > last_dropped_[k]) {
      recorder_.reportLoss(kindOf(static_cast<uint16_t>(k)), dropped[k] - last_dropped_[k], last_loss_check_ms_, now,
                           final ? "ring buffer full (found at stop)" : "ring buffer full");
      last_dropped_[k] = dropped[k];
    }
  }
  const uint64_t skipped = kernelSkipped();
  if (skipped > last_skipped_) {
    recorder_.reportSkipped(skipped - last_skipped_, last_loss_check_ms_, now);
    last_skipped_ = skipped;
  }
  last_loss_check_ms_ = now;
}

void EbpfSource::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (skel_ == nullptr) return;
  if (started_ && options_.processes) recorder_.table()->detachConnectFeed();  // before pass_ can close
  if (started_) {
    const uint64_t one = 1;
    if (write(wake_.get(), &one, sizeof one) < 0) {
    }
    if (thread_.joinable()) thread_.join();
  }
  capture__detach(skel_);  // nothing new from here on: what the ring holds is all there is
  if (ring_ != nullptr) ring_buffer__consume(ring_);
  recorder_.flush();
  const size_t orphans = argv_.expire(INT64_MAX / 2, 0);
  if (orphans > 0) {
    recorder_.account(RecordKind::kArgv).recorded -= orphans;
    recorder_.account(RecordKind::kArgv).filtered += orphans;
  }
  checkLoss(true);
  uint64_t seen[WK_MAX];
  uint64_t dropped[WK_MAX];
  kernelCounters(seen, dropped);
  Accounts accounts = recorder_.accounts();
  for (int k = 1; k < WK_MAX; ++k) {
    KindAccount& a = accounts[static_cast<size_t>(kindOf(static_cast<uint16_t>(k)))];
    a.seen = seen[k];
    a.dropped = dropped[k];
  }
  recorder_.summary("ebpf", accounts, clock_.nowMillis(), kernelSkipped());
  std::lock_guard lock(accounts_mu_);
  final_accounts_ = accounts;
}

Accounts EbpfSource::accounts() const {
  std::lock_guard lock(accounts_mu_);
  return final_accounts_;
}

}  // namespace warden::capture
