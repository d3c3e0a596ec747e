#include "proxy/caller_identity.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <functional>
#include <optional>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "common/file_io.h"
#include "common/encoding.h"
#include "common/unique_fd.h"
#include "proxy/code_injection.h"
#include "proxy/sock_diag.h"

namespace warden::proxy {
namespace {

constexpr size_t kMaxTableLineBytes = 4096;
constexpr size_t kMaxLinkBytes = 64 * 1024;
constexpr size_t kMaxSmallFileBytes = 64 * 1024;
constexpr size_t kMaxFdsRecheck = 1 << 16;

// Closes a DIR* on scope exit.
struct DirCloser {
  void operator()(DIR* dir) const { closedir(dir); }
};
using UniqueDir = std::unique_ptr<DIR, DirCloser>;

UniqueFd openReadOnly(const std::filesystem::path& path) {
  return UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
}

// Reads at most `max` bytes of a file (proc files report size 0, so read until EOF).
Result<std::string> readBounded(const std::filesystem::path& path, size_t max) {
  return readFileBounded(path, max, OverLimit::kTruncate);
}

// readlinkat() into a string, growing the buffer up to kMaxLinkBytes.
Result<std::string> readLinkAt(int dir_fd, const char* name) {
  std::string buf(256, '\0');
  while (true) {
    const ssize_t n = ::readlinkat(dir_fd, name, buf.data(), buf.size());
    if (n < 0) return errnoError(fmt::format("readlink {}", name));
    if (static_cast<size_t>(n) < buf.size()) {
      buf.resize(static_cast<size_t>(n));
      return buf;
    }
    if (buf.size() >= kMaxLinkBytes) return outOfRange(fmt::format("readlink {}: target too long", name));
    buf.resize(buf.size() * 4);
  }
}

Result<std::string> readLink(const std::filesystem::path& path) { return readLinkAt(AT_FDCWD, path.c_str()); }

// Calls `on_line` for every line of a file, reading it in chunks; lines longer than
// kMaxTableLineBytes are skipped. `on_line` returns false to stop.
Result<void> forEachLine(const std::filesystem::path& path, const std::function<bool(std::string_view)>& on_line) {
  UniqueFd fd = openReadOnly(path);
  if (!fd.valid()) return errnoError(fmt::format("open {}", path.string()));
  std::string pending;
  bool skipping = false;  // inside an over-long line
  char buf[64 * 1024];
  while (true) {
    const ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errnoError(fmt::format("read {}", path.string()));
    }
    if (n == 0) break;
    std::string_view chunk(buf, static_cast<size_t>(n));
    while (!chunk.empty()) {
      const size_t nl = chunk.find('\n');
      const std::string_view piece = chunk.substr(0, nl);
      if (!skipping) {
        if (pending.size() + piece.size() > kMaxTableLineBytes) {
          skipping = true;
          pending.clear();
        } else {
          pending.append(piece);
        }
      }
      if (nl == std::string_view::npos) break;
      if (!skipping && !on_line(pending)) return okResult();
      pending.clear();
      skipping = false;
      chunk.remove_prefix(nl + 1);
    }
  }
  if (!skipping && !pending.empty()) on_line(pending);
  return okResult();
}

std::string trimNewline(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

struct SocketOwner {
  int pid = 0;
  int fd = -1;  // the fd number under which it holds the socket
  uint64_t start_time = 0;
  bool alive = false;  // its stat was read
};

// True if the process at `pid_dir` holds `target` ("socket:[N]"), looking at `likely_fd` first.
bool holdsSocket(const std::filesystem::path& pid_dir, int likely_fd, const std::string& target) {
  auto link = readLink(pid_dir / "fd" / std::to_string(likely_fd));
  if (link.ok() && *link == target) return true;
  UniqueDir fds(::opendir((pid_dir / "fd").c_str()));
  if (!fds) return false;
  const int dir_fd = ::dirfd(fds.get());
  size_t seen = 0;
  while (const dirent* entry = ::readdir(fds.get())) {
    if (entry->d_name[0] == '.') continue;
    if (++seen > kMaxFdsRecheck) return false;
    auto other = readLinkAt(dir_fd, entry->d_name);
    if (other.ok() && *other == target) return true;
  }
  return false;
}

}  // namespace

std::string CallerIdentity::displayName() const {
  if (exe.empty()) return name;
  const size_t slash = exe.rfind('/');
  return slash == std::string::npos ? exe : exe.substr(slash + 1);
}

Result<std::unique_ptr<CallerIdentityResolver>> CallerIdentityResolver::create(CallerLookupOptions options) {
  if (options.proc_root.empty()) return invalidArgument("caller identity: proc_root is empty");
  if (options.net_pid.empty() || options.net_pid.find('/') != std::string::npos) {
    return invalidArgument(fmt::format("caller identity: net_pid '{}' is not a pid or \"self\"", options.net_pid));
  }
  if (options.max_ancestors == 0 || options.max_processes == 0 || options.max_fd_entries == 0) {
    return invalidArgument("caller identity: scan bounds must be positive");
  }
  struct stat st {};
  if (::stat(options.proc_root.c_str(), &st) != 0) {
    return errnoError(fmt::format("caller identity: proc root {}", options.proc_root.string()));
  }
  if (!S_ISDIR(st.st_mode)) {
    return invalidArgument(fmt::format("caller identity: proc root {} is not a directory", options.proc_root.string()));
  }
  return std::unique_ptr<CallerIdentityResolver>(new CallerIdentityResolver(std::move(options)));
}

bool CallerIdentityResolver::sockDiagUsable() const {
  if (!options_.use_sock_diag) return false;
  const std::filesystem::path root = options_.proc_root.lexically_normal();
  if (root != "/proc" && root != "/proc/") return false;  // a fake or another pid namespace's tree
  if (options_.net_pid == "self") return true;
  // Another pid (a sandbox's init): only if it shares our network namespace. Checked per lookup: the
  // pid may exit and be reused. Anything unreadable means no.
  struct stat theirs {};
  struct stat ours {};
  if (::stat((root / options_.net_pid / "ns" / "net").c_str(), &theirs) != 0) return false;
  if (::stat("/proc/thread-self/ns/net", &ours) != 0) return false;
  return theirs.st_dev == ours.st_dev && theirs.st_ino == ours.st_ino;
}

Result<CallerIdentityResolver::SocketHit> CallerIdentityResolver::findSocketInode(const TcpEndpoint& client,
                                                                                  const TcpEndpoint& proxy) const {
  if (sockDiagUsable()) {
    auto reply = querySockDiag(client, proxy, options_.sock_diag_timeout);
    if (reply.ok() && reply->status == SockDiagStatus::kFound) {
      if (reply->socket.inode == 0) {
        return notFound(fmt::format("caller identity: socket {} -> {} has no owner (the client closed it; its "
                                    "process is gone or let go)",
                                    client.toString(), proxy.toString()));
      }
      return SocketHit{.inode = reply->socket.inode, .source = SocketSource::kSockDiag};
    }
    // Transport errors (EPERM, no NETLINK_SOCK_DIAG), kernel errors, ENOENT (not authoritative: no
    // tcp_diag module, link-local sockets) and anything malformed: read the table instead.
  }
  auto inode = findSocketInodeInTable(client, proxy);
  if (!inode.ok()) return inode.error();
  return SocketHit{.inode = *inode, .source = SocketSource::kProcTable};
}

Result<uint64_t> CallerIdentityResolver::findSocketInodeInTable(const TcpEndpoint& client,
                                                                const TcpEndpoint& proxy) const {
  const TcpEndpoint want_local = client.normalized();
  const TcpEndpoint want_remote = proxy.normalized();
  const std::filesystem::path net_dir = options_.proc_root / options_.net_pid / "net";
  bool saw_orphan = false;
  bool read_any = false;
  for (const char* table : {"tcp", "tcp6"}) {
    uint64_t found = 0;
    auto read = forEachLine(net_dir / table, [&](std::string_view line) {
      const auto entry = parseTcpTableLine(line);
      if (!entry) return true;
      // The client's own socket: its local end is the client, its remote end the proxy.
      if (entry->local.normalized() != want_local || entry->remote.normalized() != want_remote) return true;
      if (entry->inode == 0) {
        saw_orphan = true;  // closed by its owner (FIN_WAIT, TIME_WAIT): no process holds it
        return true;
      }
      found = entry->inode;
      return false;
    });
    if (!read.ok()) {
      if (read.error().code() == Code::kNotFound) continue;  // no tcp6 without IPv6
      return read.error().withContext("caller identity");
    }
    read_any = true;
    if (found != 0) return found;
  }
  if (!read_any) return notFound(fmt::format("caller identity: no TCP tables under {}", net_dir.string()));
  return notFound(fmt::format("caller identity: no live socket {} -> {} in {}{}", client.toString(),
                              proxy.toString(), net_dir.string(),
                              saw_orphan ? " (the client closed it; its process is gone or let go)" : ""));
}

void CallerIdentityResolver::hashExecutable(int pid, CallerIdentity& identity) {
  const std::filesystem::path exe_link = options_.proc_root / std::to_string(pid) / "exe";
  // Through the link, not the path: the running binary even if the path was replaced or removed.
  UniqueFd fd = openReadOnly(exe_link);
  if (!fd.valid()) {
    identity.exe_error = errnoError(fmt::format("open {}", exe_link.string())).toString();
    return;
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    identity.exe_error = errnoError(fmt::format("fstat {}", exe_link.string())).toString();
    return;
  }
  if (!S_ISREG(st.st_mode)) {
    identity.exe_error = fmt::format("{} is not a regular file", exe_link.string());
    return;
  }
  if (static_cast<uint64_t>(st.st_size) > options_.max_exe_bytes) {
    identity.exe_error = fmt::format("{} is {} bytes, over the {} byte hashing bound", identity.exe,
                                     st.st_size, options_.max_exe_bytes);
    return;
  }
  const FileKey key{.dev = st.st_dev,
                    .ino = st.st_ino,
                    .size = st.st_size,
                    .mtime_ns = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec,
                    .ctime_ns = int64_t{st.st_ctim.tv_sec} * 1000000000 + st.st_ctim.tv_nsec};
  std::string hash;
  {
    std::lock_guard lock(mu_);
    if (auto it = hash_cache_.find(key); it != hash_cache_.end()) hash = it->second;
  }
  if (hash.empty()) {
    Sha256Stream sha;
    char buf[64 * 1024];
    while (true) {
      const ssize_t n = ::read(fd.get(), buf, sizeof(buf));
      if (n < 0) {
        if (errno == EINTR) continue;
        identity.exe_error = errnoError(fmt::format("read {}", exe_link.string())).toString();
        return;
      }
      if (n == 0) break;
      sha.update(std::string_view(buf, static_cast<size_t>(n)));
    }
    hash = sha.finishHex();
    std::lock_guard lock(mu_);
    if (hash_cache_.size() >= kMaxHashCacheEntries) hash_cache_.clear();
    hash_cache_.emplace(key, hash);
  }
  identity.exe_sha256 = hash;
  if (identity.exe.empty()) return;
  std::lock_guard lock(mu_);
  const auto [it, inserted] = first_seen_.emplace(identity.exe, hash);
  identity.exe_first_use = inserted;
  identity.first_seen_sha256 = it->second;
  identity.binary_changed = it->second != hash;
}

Result<CallerIdentity> CallerIdentityResolver::lookup(const TcpEndpoint& client, const TcpEndpoint& proxy) {
  auto hit = findSocketInode(client, proxy);
  if (!hit.ok()) return hit.error();
  return identifyOwner(hit->inode, hit->source, fmt::format("{} -> {}", client.toString(), proxy.toString()));
}

Result<CallerIdentity> CallerIdentityResolver::lookupByLocal(SocketProtocol protocol, const TcpEndpoint& local) {
  auto inode = findSocketInodeByLocal(protocol, local);
  if (!inode.ok()) return inode.error();
  return identifyOwner(*inode, SocketSource::kProcTable,
                       fmt::format("{} {}", protocol == SocketProtocol::kUdp ? "udp" : "tcp", local.toString()));
}

Result<uint64_t> CallerIdentityResolver::findSocketInodeByLocal(SocketProtocol protocol,
                                                                const TcpEndpoint& local) const {
  const TcpEndpoint want = local.normalized();
  const bool udp = protocol == SocketProtocol::kUdp;
  const std::filesystem::path net_dir = options_.proc_root / options_.net_pid / "net";
  constexpr uint8_t kTcpListen = 10;
  uint64_t wildcard = 0;  // the first unspecified-address row on the port, used if no exact match
  bool read_any = false;
  static constexpr std::array<const char*, 2> kUdpTables{"udp", "udp6"};
  static constexpr std::array<const char*, 2> kTcpTables{"tcp", "tcp6"};
  for (const char* table : udp ? kUdpTables : kTcpTables) {
    uint64_t exact = 0;
    auto read = forEachLine(net_dir / table, [&](std::string_view line) {
      const auto entry = udp ? parseUdpTableLine(line) : parseTcpTableLine(line);
      if (!entry || entry->inode == 0) return true;
      if (!udp && entry->state == kTcpListen) return true;
      const TcpEndpoint have = entry->local.normalized();
      if (have == want) {
        exact = entry->inode;
        return false;
      }
      if (wildcard == 0 && have.port == want.port && isUnspecifiedAddress(have) &&
          (have.v6 || !want.v6)) {  // 0.0.0.0 takes IPv4 only; :: takes both (unless V6ONLY)
        wildcard = entry->inode;
      }
      return true;
    });
    if (!read.ok()) {
      if (read.error().code() == Code::kNotFound) continue;  // no udp6/tcp6 without IPv6
      return read.error().withContext("caller identity");
    }
    read_any = true;
    if (exact != 0) return exact;
  }
  if (!read_any) {
    return notFound(fmt::format("caller identity: no {} tables under {}", udp ? "UDP" : "TCP", net_dir.string()));
  }
  if (wildcard != 0) return wildcard;
  return notFound(fmt::format("caller identity: no live {} socket bound to {} in {} (its owner closed it)",
                              udp ? "UDP" : "TCP", local.toString(), net_dir.string()));
}

Result<CallerIdentity> CallerIdentityResolver::lookupUdpSender(const TcpEndpoint& local, const TcpEndpoint& remote) {
  auto inode = findUdpSenderInode(local, remote);
  if (!inode.ok()) return inode.error();
  return identifyOwner(*inode, SocketSource::kProcTable,
                       fmt::format("udp {} -> {}", local.toString(), remote.toString()));
}

Result<uint64_t> CallerIdentityResolver::findUdpSenderInode(const TcpEndpoint& local, const TcpEndpoint& remote) const {
  const TcpEndpoint want = local.normalized();
  const TcpEndpoint want_remote = remote.normalized();
  const std::filesystem::path net_dir = options_.proc_root / options_.net_pid / "net";
  std::vector<uint64_t> candidates;  // distinct inodes that can have sent the datagram
  bool read_any = false;
  for (const char* table : {"udp", "udp6"}) {
    auto read = forEachLine(net_dir / table, [&](std::string_view line) {
      const auto entry = parseUdpTableLine(line);
      if (!entry || entry->inode == 0) return true;
      const TcpEndpoint peer = entry->remote.normalized();
      const bool connected = !(isUnspecifiedAddress(peer) && peer.port == 0);
      if (connected && peer != want_remote) return true;  // connected elsewhere: not the sender
      const TcpEndpoint have = entry->local.normalized();
      const bool exact = have == want;
      const bool wildcard = have.port == want.port && isUnspecifiedAddress(have) && (have.v6 || !want.v6);
      if ((exact || wildcard) &&
          std::find(candidates.begin(), candidates.end(), entry->inode) == candidates.end()) {
        candidates.push_back(entry->inode);
      }
      return candidates.size() < 16;  // enough to say it is ambiguous
    });
    if (!read.ok()) {
      if (read.error().code() == Code::kNotFound) continue;  // no udp6 without IPv6
      return read.error().withContext("caller identity");
    }
    read_any = true;
  }
  if (!read_any) return notFound(fmt::format("caller identity: no UDP tables under {}", net_dir.string()));
  if (candidates.size() == 1) return candidates.front();
  if (candidates.empty()) {
    return notFound(fmt::format("caller identity: no live UDP socket can have sent {} -> {} (its owner closed it)",
                                local.toString(), remote.toString()));
  }
  return failedPrecondition(fmt::format(
      "caller identity: {} UDP sockets can have sent {} -> {} (sharing the port); the sender cannot be told",
      candidates.size(), local.toString(), remote.toString()));
}

Result<CallerIdentity> CallerIdentityResolver::identifyOwner(uint64_t inode, SocketSource source,
                                                             const std::string& what) {
  const std::string target = fmt::format("socket:[{}]", inode);

  // Every process holding the socket. Bounded: processes and fd entries visited.
  UniqueDir proc(::opendir(options_.proc_root.c_str()));
  if (!proc) return errnoError(fmt::format("caller identity: opendir {}", options_.proc_root.string()));
  std::vector<SocketOwner> owners;
  size_t processes = 0;
  size_t fd_entries = 0;
  bool exhausted = false;
  while (const dirent* entry = ::readdir(proc.get())) {
    const auto pid = parsePidName(entry->d_name);
    if (!pid || *pid == options_.skip_pid) continue;
    if (++processes > options_.max_processes) {
      exhausted = true;
      break;
    }
    const std::filesystem::path fd_path = options_.proc_root / entry->d_name / "fd";
    UniqueDir fds(::opendir(fd_path.c_str()));
    if (!fds) continue;  // vanished (ENOENT), another user's (EACCES), a zombie: skip
    const int dir_fd = ::dirfd(fds.get());
    while (const dirent* fd_entry = ::readdir(fds.get())) {
      if (fd_entry->d_name[0] == '.') continue;
      if (++fd_entries > options_.max_fd_entries) {
        exhausted = true;
        break;
      }
      auto link = readLinkAt(dir_fd, fd_entry->d_name);
      if (link.ok() && *link == target) {
        owners.push_back(SocketOwner{.pid = *pid, .fd = std::atoi(fd_entry->d_name)});
        break;  // one fd per process is enough
      }
    }
    if (exhausted) break;
  }
  if (owners.empty()) {
    if (exhausted) {
      return resourceExhausted(fmt::format(
          "caller identity: scan bound reached ({} processes, {} fds) before finding the owner of {}",
          options_.max_processes, options_.max_fd_entries, target));
    }
    return notFound(fmt::format("caller identity: no process holds {} ({}); the client exited", target, what));
  }

  // With inherited fds several processes hold the socket. Fork inheritance only reaches processes
  // younger than the creator, so the oldest holder is the caller; every holder is described.
  for (auto& owner : owners) {
    auto text = readBounded(options_.proc_root / std::to_string(owner.pid) / "stat", kMaxSmallFileBytes);
    if (!text.ok()) continue;
    if (auto parsed = parseStatLine(trimNewline(*text))) {
      owner.start_time = parsed->start_time;
      owner.alive = true;
    }
  }
  std::stable_sort(owners.begin(), owners.end(), [](const SocketOwner& a, const SocketOwner& b) {
    if (a.alive != b.alive) return a.alive;  // unreadable ones last
    return a.start_time != b.start_time ? a.start_time < b.start_time : a.pid < b.pid;
  });
  std::optional<CallerIdentity> identity;
  std::vector<CallerIdentity> others;
  for (const auto& owner : owners) {
    if (!owner.alive) continue;  // exited before its stat could be read
    auto described = describeHolder(owner.pid, owner.fd, owner.start_time, target);
    if (!described.ok()) continue;  // let go of the socket (or exited) meanwhile
    if (!identity) {
      identity = std::move(described).value();
    } else {
      others.push_back(std::move(described).value());
    }
  }
  if (!identity) return notFound(fmt::format("caller identity: the holders of {} exited or let go of it", target));
  identity->socket_inode = inode;
  identity->socket_source = source;
  identity->other_holders = std::move(others);
  if (options_.report_pids) {
    std::vector<int*> pids;
    auto collect = [&](CallerIdentity& id) {
      pids.push_back(&id.pid);
      for (auto& a : id.ancestors) pids.push_back(&a.pid);
    };
    collect(*identity);
    for (auto& other : identity->other_holders) collect(other);
    std::vector<int> wanted;
    for (const int* p : pids) wanted.push_back(*p);
    const auto host = options_.report_pids(wanted);
    for (int* p : pids) {
      if (auto it = host.find(*p); it != host.end() && it->second > 0) *p = it->second;
    }
  }
  return std::move(*identity);
}

Result<CallerIdentity> CallerIdentityResolver::describeHolder(int pid, int fd, uint64_t start_time,
                                                              const std::string& target) {
  const std::filesystem::path pid_dir = options_.proc_root / std::to_string(pid);
  auto stat_text = readBounded(pid_dir / "stat", kMaxSmallFileBytes);
  if (!stat_text.ok()) return stat_text.error();
  auto stat = parseStatLine(trimNewline(*stat_text));
  if (!stat || stat->start_time != start_time) return notFound(fmt::format("caller identity: pid {} exited", pid));
  CallerIdentity identity;
  identity.pid = pid;
  identity.start_time = start_time;

  auto comm = readBounded(pid_dir / "comm", 256);
  identity.name = comm.ok() ? trimNewline(std::move(*comm)) : stat->comm;
  if (auto exe = readLink(pid_dir / "exe"); exe.ok()) {
    ExeLink link = parseExeLink(*exe);
    identity.exe = std::move(link.path);
    identity.exe_deleted = link.deleted;
    hashExecutable(pid, identity);
  } else {
    identity.exe_error = exe.error().toString();  // EACCES: another user's process and we are not root
  }
  if (auto status = readBounded(pid_dir / "status", kMaxSmallFileBytes); status.ok()) {
    if (auto uids = parseStatusUids(*status)) {
      identity.uid = uids->real;
      identity.euid = uids->effective;
    }
  }
  if (auto raw = readBounded(pid_dir / "cmdline", options_.max_cmdline_bytes); raw.ok()) {
    Cmdline cmdline = splitCmdline(*raw, options_.max_cmdline_args);
    identity.cmdline = std::move(cmdline.argv);
    identity.cmdline_truncated = cmdline.truncated || raw->size() >= options_.max_cmdline_bytes;
  }
  if (auto cwd = readLink(pid_dir / "cwd"); cwd.ok()) identity.cwd = std::move(*cwd);
  inspectCode(pid_dir, identity);

  // Ancestors, parent first, up to the stop pid or init. Processes that vanish end the chain.
  int next = pid == options_.stop_pid ? 0 : stat->ppid;
  while (next > 0 && identity.ancestors.size() < options_.max_ancestors) {
    const std::filesystem::path dir = options_.proc_root / std::to_string(next);
    auto text = readBounded(dir / "stat", kMaxSmallFileBytes);
    if (!text.ok()) break;
    auto parsed = parseStatLine(trimNewline(*text));
    if (!parsed) break;
    AncestorProcess ancestor{.pid = next, .name = parsed->comm};
    if (auto name = readBounded(dir / "comm", 256); name.ok()) ancestor.name = trimNewline(std::move(*name));
    if (auto exe = readLink(dir / "exe"); exe.ok()) ancestor.exe = parseExeLink(*exe).path;
    identity.ancestors.push_back(std::move(ancestor));
    if (next == options_.stop_pid || next == 1) break;
    next = parsed->ppid;
  }

  // The pid could have died and been reused between the fd scan and the reads above: the process
  // with this start time must still hold the socket (under any fd: processes dup2() sockets around,
  // as bash does for `exec 3<>/dev/tcp/...` and `printf >&3`).
  auto stat_again = readBounded(pid_dir / "stat", kMaxSmallFileBytes);
  std::optional<ProcStat> parsed_again;
  if (stat_again.ok()) parsed_again = parseStatLine(trimNewline(*stat_again));
  if (!holdsSocket(pid_dir, fd, target) || !parsed_again || parsed_again->start_time != start_time) {
    return notFound(fmt::format("caller identity: pid {} let go of {} during the lookup", pid, target));
  }
  return identity;
}

void CallerIdentityResolver::inspectCode(const std::filesystem::path& pid_dir, CallerIdentity& identity) const {
  if (identity.exe_deleted) {
    identity.injection.push_back("its executable was deleted or replaced after it started");
  }
  // The environment the process was started with (what the dynamic linker read).
  auto environ_block = readFileBounded(pid_dir / "environ", options_.max_environ_bytes + 1, OverLimit::kTruncate);
  if (!environ_block.ok()) {
    identity.injection_unchecked = fmt::format("environ: {}", environ_block.error().message());
  } else {
    for (auto& variable : loaderVariables(*environ_block)) {
      identity.injection.push_back(fmt::format("{} in its environment", variable));
    }
    if (environ_block->size() > options_.max_environ_bytes) {
      identity.injection.push_back(fmt::format(
          "its environment is larger than {} bytes; a loader variable past that was not checked",
          options_.max_environ_bytes));
    }
  }
  // Executable memory.
  size_t lines = 0;
  size_t fileless = 0;
  std::string first_fileless;
  auto read = forEachLine(pid_dir / "maps", [&](std::string_view line) {
    if (++lines > options_.max_maps_lines) return false;
    const auto entry = parseMapsLine(line);
    if (!entry) return true;
    switch (codeOrigin(*entry)) {
      case CodeOrigin::kAnonymous:
        ++identity.anonymous_exec_mappings;
        break;
      case CodeOrigin::kFilelessCode:
        if (fileless++ == 0) first_fileless = entry->path.substr(0, 256);
        break;
      default:
        break;
    }
    return true;
  });
  if (!read.ok()) {
    if (!identity.injection_unchecked.empty()) identity.injection_unchecked += "; ";
    identity.injection_unchecked += fmt::format("maps: {}", read.error().message());
  } else if (lines > options_.max_maps_lines) {
    if (!identity.injection_unchecked.empty()) identity.injection_unchecked += "; ";
    identity.injection_unchecked += fmt::format("maps: more than {} mappings, the rest not read", options_.max_maps_lines);
  }
  if (fileless > 0) {
    identity.injection.push_back(fmt::format("executable memory from a memfd or a deleted file ({}{})",
                                             first_fileless,
                                             fileless > 1 ? fmt::format(" and {} more", fileless - 1) : ""));
  }
}

Result<CallerIdentity> CallerIdentityResolver::lookupAcceptedSocket(int fd) {
  sockaddr_storage peer{};
  sockaddr_storage local{};
  socklen_t peer_len = sizeof(peer);
  socklen_t local_len = sizeof(local);
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) {
    return errnoError("caller identity: getpeername");
  }
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0) {
    return errnoError("caller identity: getsockname");
  }
  const auto client = TcpEndpoint::fromSockaddr(reinterpret_cast<const sockaddr*>(&peer), peer_len);
  const auto proxy = TcpEndpoint::fromSockaddr(reinterpret_cast<const sockaddr*>(&local), local_len);
  if (!client || !proxy) return invalidArgument("caller identity: not a TCP/IP socket");
  return lookup(*client, *proxy);
}

}  // namespace warden::proxy
