#pragma once

// Pure parsers for the /proc text that caller identity reads (sandbox.md "Caller identity"). /proc is
// written by the kernel, but several fields are chosen by the processes we are identifying (comm,
// cmdline, exe paths), so every function here treats its input as untrusted bytes: bounds-checked,
// no allocation proportional to anything but the input, nullopt on anything malformed.
// Stateless and thread-safe. Fuzzed by tests/fuzz/proc_parse_fuzz.cc.

#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace warden::proxy {

// A TCP endpoint as the kernel keys a socket: address and port. IPv4 is its own family; an
// IPv4-mapped IPv6 address (::ffff:a.b.c.d) is a different value — use normalized() to compare
// across dual-stack sockets. A value type.
struct TcpEndpoint {
  bool v6 = false;
  std::array<uint8_t, 16> address{};  // network order; the first 4 bytes for IPv4
  uint16_t port = 0;                  // host order

  static TcpEndpoint v4(const std::array<uint8_t, 4>& bytes, uint16_t port);
  static TcpEndpoint v6addr(const std::array<uint8_t, 16>& bytes, uint16_t port);
  // From getsockname()/getpeername() output (AF_INET or AF_INET6); nullopt for other families or a
  // short length.
  static std::optional<TcpEndpoint> fromSockaddr(const sockaddr* addr, socklen_t length);
  // "127.0.0.1", "::1" or "[::1]" and a port; nullopt if the address does not parse.
  static std::optional<TcpEndpoint> parse(std::string_view address, uint16_t port);

  // IPv4-mapped IPv6 becomes IPv4; everything else is returned as is.
  TcpEndpoint normalized() const;
  // "127.0.0.1:8080" or "[::1]:8080".
  std::string toString() const;

  bool operator==(const TcpEndpoint&) const = default;
};

// One row of /proc/<pid>/net/tcp or tcp6.
struct TcpTableEntry {
  TcpEndpoint local;
  TcpEndpoint remote;
  uint8_t state = 0;   // TCP_ESTABLISHED = 1, TCP_LISTEN = 10, ...
  uint32_t uid = 0;
  uint64_t inode = 0;  // 0 for sockets no process holds (TIME_WAIT, orphaned after close)
};

// Parses one data line ("   0: 0100007F:1F90 0100007F:D2F4 01 ... 1000 0 123456 1 ..."). The address
// width decides the family: 8 hex digits for tcp, 32 for tcp6. The header line and anything malformed
// give nullopt. Addresses are the kernel's per-32-bit-word native-endian hex, decoded for this host.
std::optional<TcpTableEntry> parseTcpTableLine(std::string_view line);
// One data line of /proc/<pid>/net/udp or udp6: the same columns as the TCP table (plus a trailing
// `drops`, ignored), so the same entry type. `state` is 07 (TCP_CLOSE) for an unconnected socket and
// 01 for a connected one; `remote` is all zeros unless connected.
std::optional<TcpTableEntry> parseUdpTableLine(std::string_view line);
// True for 0.0.0.0 and :: (and ::ffff:0.0.0.0): a socket bound to every address.
bool isUnspecifiedAddress(const TcpEndpoint& endpoint);
// The inverse for one address field ("0100007F:1F90"), as this host's kernel would print it. For tests
// (fake /proc trees) and the fuzzer's round trip.
std::string formatTcpTableAddress(const TcpEndpoint& endpoint);

// The fields of /proc/<pid>/stat that identity needs.
struct ProcStat {
  int pid = 0;
  std::string comm;  // between the first '(' and the last ')': may hold spaces and ')'
  char state = '?';
  int ppid = 0;
  uint64_t start_time = 0;  // field 22, clock ticks since boot: (pid, start_time) names one process
};

// Parses "1234 (a) b) c) S 1 ...". comm is at most 64 bytes (the kernel's is 16). nullopt on
// anything malformed, including a missing start_time.
std::optional<ProcStat> parseStatLine(std::string_view line);

// Real and effective uid from the "Uid:" line of /proc/<pid>/status.
struct ProcUids {
  uint32_t real = 0;
  uint32_t effective = 0;
};
std::optional<ProcUids> parseStatusUids(std::string_view status);

// "socket:[12345]" -> 12345; anything else (pipes, files, anon inodes) -> nullopt.
std::optional<uint64_t> parseSocketLink(std::string_view link);

// A readlink() of /proc/<pid>/exe: the kernel appends " (deleted)" when the file was unlinked (or
// replaced by rename) after exec.
struct ExeLink {
  std::string path;
  bool deleted = false;
};
ExeLink parseExeLink(std::string_view link);

// /proc/<pid>/cmdline (NUL-separated, usually NUL-terminated) -> argv. Keeps at most `max_args`
// arguments; `truncated` is set when arguments were dropped. Bytes are kept as they are (argv is
// the caller's to choose: never an identity, only a record).
struct Cmdline {
  std::vector<std::string> argv;
  bool truncated = false;
};
Cmdline splitCmdline(std::string_view raw, size_t max_args);

// True for a decimal pid directory name in /proc ("1234"; not "self", not "0", not "01").
std::optional<int> parsePidName(std::string_view name);

}  // namespace warden::proxy
