#pragma once

// Caller identity (sandbox.md "Egress proxy" / "Caller identity"): which process opened the TCP
// connection the proxy just accepted. From the connection's 4-tuple, find the socket inode — with one
// NETLINK_SOCK_DIAG lookup (sock_diag.h) when the socket is in the resolver's own network namespace
// and proc_root is the real /proc, else (and whenever netlink fails or finds nothing) in
// <proc>/<net_pid>/net/tcp{,6} — then the process(es) holding `socket:[inode]` in <proc>/*/fd, then the
// executable (<proc>/<pid>/exe, hashed through that link, never through argv[0] or the path), and the
// ancestor chain. Executables are hashed on first use; a different binary later seen at the same path
// is reported as `binary_changed` (the caller denies and records it).
//
// Cost: a lookup scans every <proc>/<pid>/fd directory but skip_pid's (bounded by CallerLookupOptions);
// reading /proc/net/tcp instead of sock_diag costs tens of ms on a busy host (the kernel walks its
// whole TCP hash table). Both block: the proxy runs lookups on a worker pool (server.h). That is fine
// in standalone mode on a developer machine; a sandbox limits the scan to its own pid namespace by
// passing proc_root = "/proc/<init pid>/root/proc" (the sandbox's private /proc, as the proxy sees it
// through the init process's root; pids in results are then namespace-local) or by running the
// resolver for the sandbox's few processes. The proxy does one lookup per accepted client connection
// and keeps the result for the life of that connection (every request on it has the same caller);
// it never looks up per request.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "proxy/proc_parse.h"

namespace warden::proxy {

struct CallerLookupOptions {
  std::filesystem::path proc_root = "/proc";
  // Whose network namespace holds the client's socket: "self" when callers share the proxy's host
  // network (standalone), or the sandbox's init pid (as seen in proc_root).
  std::string net_pid = "self";
  // The ancestor chain stops after this pid (the session's first process), at pid 1, or at ppid 0.
  int stop_pid = 1;
  // A process whose fds are not scanned (-1: none). The proxy sets its own pid: it holds one fd per
  // connection and is never its own caller. Leave it at -1 when clients may live in the resolver's
  // process (tests, in-process harnesses): a socket held only by skip_pid is NotFound.
  int skip_pid = -1;
  // Find the socket with NETLINK_SOCK_DIAG when it is usable (proc_root is "/proc" and net_pid's
  // network namespace is ours); false: always read <proc_root>/<net_pid>/net/tcp{,6}.
  bool use_sock_diag = true;
  std::chrono::milliseconds sock_diag_timeout{1000};
  size_t max_ancestors = 64;
  // How pids are reported: when proc_root is a sandbox's /proc, its pids are the sandbox's; this maps
  // every pid of one lookup (caller, ancestors, other holders) to the host's in one call (a pid
  // missing from the result is kept), so proxy events name the pids the kernel capture names
  // (sandbox::sandboxPidsToHost). Empty: pids as proc_root shows them.
  std::function<std::unordered_map<int, int>(const std::vector<int>&)> report_pids;
  // Bounds on the fd scan; exceeding one without a match is ResourceExhausted.
  size_t max_processes = 1 << 16;
  size_t max_fd_entries = 1 << 21;
  // Bounds on what is kept from a process.
  size_t max_cmdline_bytes = 64 * 1024;
  size_t max_cmdline_args = 1024;
  // Executables larger than this are not hashed (exe_sha256 stays empty, exe_error says why).
  uint64_t max_exe_bytes = uint64_t{2} << 30;
  // Bounds on the injection check: an environment larger than this is a sign in itself (a loader
  // variable could hide past it); maps lines beyond the bound are not read (injection_unchecked says so).
  size_t max_environ_bytes = 1 << 20;
  size_t max_maps_lines = 1 << 16;
};

struct AncestorProcess {
  int pid = 0;
  std::string name;  // comm
  std::string exe;   // empty if unreadable
};

// Where the socket inode was found.
enum class SocketSource { kProcTable, kSockDiag };

// Which socket table lookupByLocal() reads: <proc>/<net_pid>/net/tcp{,6} or udp{,6}.
enum class SocketProtocol { kTcp, kUdp };

struct CallerIdentity {
  int pid = 0;
  uint64_t start_time = 0;      // clock ticks since boot; (pid, start_time) names one process
  std::string name;             // /proc/<pid>/comm: set by the process itself, a label, not an identity
                                // (events name a process by its executable's basename)
  std::string exe;              // /proc/<pid>/exe target, " (deleted)" stripped; empty if unreadable
  bool exe_deleted = false;     // the file was unlinked or replaced after exec; exe_sha256 is of the
                                // running binary all the same (hashed through /proc/<pid>/exe)
  std::string exe_sha256;       // lower-case hex; empty if it could not be read (see exe_error)
  std::string exe_error;        // why exe or exe_sha256 is empty (permission, size bound)
  bool exe_first_use = false;   // this lookup recorded the path's first-seen hash
  bool binary_changed = false;  // the path's first-seen hash differs from this binary's
  std::string first_seen_sha256;  // the path's first-seen hash (== exe_sha256 unless changed)
  uint32_t uid = 0;             // real uid (Uid: line of /proc/<pid>/status)
  uint32_t euid = 0;
  std::vector<std::string> cmdline;  // argv as the process left it: recorded, never trusted
  bool cmdline_truncated = false;
  std::string cwd;                   // empty if unreadable
  std::vector<AncestorProcess> ancestors;  // parent first, up to and including stop_pid (or pid 1)
  // Signs that the process runs code its executable did not bring (code_injection.h), one sentence
  // each: loader variables in its environment, executable memory from a memfd or a deleted file, an
  // executable deleted or replaced after it started. Empty: none seen.
  std::vector<std::string> injection;
  // Executable memory without a file. JIT runtimes (node, java) always have some, so it is recorded,
  // not a sign of injection.
  size_t anonymous_exec_mappings = 0;
  std::string injection_unchecked;  // why environ or maps could not be read (injection may then be incomplete)
  // Every other process holding the same socket (inherited or passed fds), oldest first, each looked
  // up like the caller (their own other_holders stay empty).
  std::vector<CallerIdentity> other_holders;
  uint64_t socket_inode = 0;
  SocketSource socket_source = SocketSource::kProcTable;

  // What events call the process: its executable's basename, or comm when the executable is unknown.
  std::string displayName() const;
};

// Resolves connections to processes. Holds the per-path first-seen executable hashes and a hash cache
// keyed by (dev, inode, size, mtime, ctime), so repeated lookups do not re-read binaries. Thread-safe:
// lookups may run concurrently from any thread (the caches take a mutex; /proc reads take none).
// Lookups block on file I/O (/proc, and hashing an executable on first use) — run them off the
// event loop or accept that cost. Owns nothing but its caches; outlives no one.
class CallerIdentityResolver {
 public:
  static Result<std::unique_ptr<CallerIdentityResolver>> create(CallerLookupOptions options);

  // `client` is the peer address of the accepted socket, `proxy` its local address. NotFound when no
  // live process holds the client's socket (it already exited, or lives in another network namespace);
  // ResourceExhausted when the scan bounds ran out; PermissionDenied when /proc/<net_pid>/net is closed.
  Result<CallerIdentity> lookup(const TcpEndpoint& client, const TcpEndpoint& proxy);
  // The same for an accepted socket fd (getpeername/getsockname).
  Result<CallerIdentity> lookupAcceptedSocket(int fd);

  // A socket known only by the address it sent from: a UDP datagram's source (the sandbox DNS
  // resolver's queries), or a TCP client whose server end is not at hand. Reads
  // <proc>/<net_pid>/net/{udp,udp6} (or tcp, tcp6) only — never sock_diag — and takes the first live
  // row (inode != 0) whose local end is `local` exactly; failing that, the first bound to the
  // unspecified address (0.0.0.0, ::) on the same port (an unconnected socket, which the kernel lists
  // by its bind address; a dual-stack :: socket also answers for IPv4). TCP rows in LISTEN are
  // skipped. Then the same owner scan as lookup(). Errors as lookup(). Blocks like lookup().
  // A UDP source port is only unique while its socket lives: a caller that closed its socket before
  // the lookup is NotFound, and (rarely) a new socket on the same port names its owner instead.
  Result<CallerIdentity> lookupByLocal(SocketProtocol protocol, const TcpEndpoint& local);
  // The process that sent a UDP datagram from `local` to `remote` (the DNS resolver's queries): the
  // one live socket in <proc>/<net_pid>/net/udp{,6} that can have sent it — bound to `local` exactly,
  // or to the unspecified address on its port — and that is either not connected or connected to
  // `remote` (a socket connected elsewhere cannot have). When several can have (SO_REUSEADDR lets an
  // exact and a wildcard socket share a port), the sender cannot be told: FailedPrecondition naming
  // the count, rather than a guess. NotFound when none is left. Then the owner scan of lookup().
  Result<CallerIdentity> lookupUdpSender(const TcpEndpoint& local, const TcpEndpoint& remote);

  const CallerLookupOptions& options() const { return options_; }

 private:
  struct FileKey {
    dev_t dev;
    ino_t ino;
    off_t size;
    int64_t mtime_ns;
    int64_t ctime_ns;
    auto operator<=>(const FileKey&) const = default;
  };
  static constexpr size_t kMaxHashCacheEntries = 4096;

  explicit CallerIdentityResolver(CallerLookupOptions options) : options_(std::move(options)) {}

  struct SocketHit {
    uint64_t inode = 0;
    SocketSource source = SocketSource::kProcTable;
  };
  // sock_diag first when usable, then the /proc table.
  Result<SocketHit> findSocketInode(const TcpEndpoint& client, const TcpEndpoint& proxy) const;
  Result<uint64_t> findSocketInodeInTable(const TcpEndpoint& client, const TcpEndpoint& proxy) const;
  Result<uint64_t> findSocketInodeByLocal(SocketProtocol protocol, const TcpEndpoint& local) const;
  Result<uint64_t> findUdpSenderInode(const TcpEndpoint& local, const TcpEndpoint& remote) const;
  // The fd scan and everything after it, for a socket inode found one way or another. `what`
  // describes the socket in errors ("10.0.0.2:40000 -> 10.0.0.1:3128").
  Result<CallerIdentity> identifyOwner(uint64_t inode, SocketSource source, const std::string& what);
  // Everything about one holder of `target` ("socket:[N]"): executable, hash, uid, cmdline, cwd,
  // ancestors, signs of injection. NotFound when it let go of the socket (or died) meanwhile.
  Result<CallerIdentity> describeHolder(int pid, int fd, uint64_t start_time, const std::string& target);
  // Fills identity.injection and friends from <pid_dir>/environ and maps.
  void inspectCode(const std::filesystem::path& pid_dir, CallerIdentity& identity) const;
  // True when a netlink socket opened here sees net_pid's network namespace (and proc_root is /proc).
  bool sockDiagUsable() const;
  // Hashes the executable through <proc>/<pid>/exe; fills exe_sha256/exe_error and the first-use flags.
  void hashExecutable(int pid, CallerIdentity& identity);

  const CallerLookupOptions options_;
  std::mutex mu_;
  std::map<FileKey, std::string> hash_cache_;          // Guarded by mu_. Cleared when full.
  std::map<std::string, std::string> first_seen_;      // Guarded by mu_. path -> first hash; never shrinks
};

}  // namespace warden::proxy
