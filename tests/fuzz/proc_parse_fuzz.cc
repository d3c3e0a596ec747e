// libFuzzer target: the /proc text parsers behind caller identity (net/tcp rows, stat, status,
// fd links, exe links, cmdline) and the NETLINK_SOCK_DIAG reply parser. Checks: no out-of-bounds
// reads (ASan), parsed table addresses format back to text that parses to the same entry, stat's
// comm respects its bound, and a found socket has exactly the asked 4-tuple.

#include <cstddef>
#include <cstdint>
#include <string>
#include <span>
#include <string_view>
#include <utility>

#include "proxy/proc_parse.h"
#include "proxy/sock_diag.h"

namespace {

void check(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace warden::proxy;
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);

  if (const auto entry = parseTcpTableLine(data)) {
    check(entry->local.v6 == entry->remote.v6);
    const std::string line = "0: " + formatTcpTableAddress(entry->local) + " " +
                             formatTcpTableAddress(entry->remote) + " 01 0:0 0:0 0 " +
                             std::to_string(entry->uid) + " 0 " + std::to_string(entry->inode);
    const auto again = parseTcpTableLine(line);
    check(again && again->local == entry->local && again->remote == entry->remote &&
          again->uid == entry->uid && again->inode == entry->inode);
    (void)entry->local.normalized().toString();
  }
  if (const auto stat = parseStatLine(data)) {
    check(stat->pid > 0 && stat->comm.size() <= 64 && stat->ppid >= 0);
    check(data.find(stat->comm) != std::string_view::npos);
  }
  (void)parseStatusUids(data);
  if (const auto inode = parseSocketLink(data)) check(data.size() >= 10);
  const ExeLink exe = parseExeLink(data);
  check(exe.path.size() <= data.size());
  const Cmdline cmdline = splitCmdline(data, 8);
  check(cmdline.argv.size() <= 8);
  size_t total = 0;
  for (const auto& arg : cmdline.argv) total += arg.size();
  check(total <= data.size());
  if (const auto pid = parsePidName(data)) check(*pid > 0);

  // The input as a netlink datagram answering sequence 1 for 127.0.0.1:40000 -> 127.0.0.1:3128, and
  // (dual-stack) for the same pair asked through IPv4-mapped addresses.
  const auto local = TcpEndpoint::v4({127, 0, 0, 1}, 40000);
  const auto remote = TcpEndpoint::v4({127, 0, 0, 1}, 3128);
  for (const auto& [l, r] : {std::pair{local, remote}, std::pair{*TcpEndpoint::parse("::ffff:127.0.0.1", 40000),
                                                                 *TcpEndpoint::parse("::1", 3128)}}) {
    const SockDiagReply reply = parseSockDiagReply(std::span<const uint8_t>(bytes, size), 1, l, r);
    if (reply.status == SockDiagStatus::kFound) {
      check(reply.socket.local.normalized() == l.normalized() && reply.socket.remote.normalized() == r.normalized());
    }
    if (reply.status == SockDiagStatus::kNoSocket || reply.status == SockDiagStatus::kError) {
      check(reply.error > 0 && reply.error <= 4095);
    }
  }
  return 0;
}
