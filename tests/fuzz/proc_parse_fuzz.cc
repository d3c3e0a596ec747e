// libFuzzer target: the /proc text parsers behind caller identity (net/tcp rows, stat, status,
// fd links, exe links, cmdline). Checks: no out-of-bounds reads (ASan), parsed table addresses
// format back to text that parses to the same entry, and stat's comm respects its bound.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/proc_parse.h"

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
  return 0;
}
