#include "proxy/caller_identity.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bit>
#include <cstring>
#include <functional>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/encoding.h"
#include "common/unique_fd.h"
#include "proxy/proc_parse.h"
#include "support/test_env.h"

namespace warden::proxy {
namespace {

using ::testing::ElementsAre;
using warden::testing::readFile;
using warden::testing::TempDir;
using warden::testing::writeFile;

// A stat line with every field up to starttime (field 22).
std::string statLine(int pid, const std::string& comm, int ppid, uint64_t start_time) {
  return fmt::format("{} ({}) S {} {} {} 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 {} 1000 200 "
                     "18446744073709551615\n",
                     pid, comm, ppid, pid, pid, start_time);
}

std::string tcpLine(const TcpEndpoint& local, const TcpEndpoint& remote, uint64_t inode, int state = 1) {
  return fmt::format("   0: {} {} {:02X} 00000000:00000000 00:00000000 00000000  1000        0 {} 1 "
                     "0000000000000000 20 4 30 10 -1\n",
                     formatTcpTableAddress(local), formatTcpTableAddress(remote), state, inode);
}

TcpEndpoint ep(const char* address, uint16_t port) { return *TcpEndpoint::parse(address, port); }

// ---- pure parsers ----

TEST(ProcParseTest, ParsesAnIpv4TcpTableLine) {
  // As the kernel prints 127.0.0.1:8080 -> 127.0.0.1:54000 on a little-endian host.
  const auto entry = parseTcpTableLine(
      "   3: 0100007F:1F90 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000  1000        0 4242 1 "
      "0000000000000000 20 4 30 10 -1");
  ASSERT_TRUE(entry.has_value());
  if constexpr (std::endian::native == std::endian::little) {
    EXPECT_EQ(entry->local, ep("127.0.0.1", 8080));
    EXPECT_EQ(entry->remote, ep("127.0.0.1", 54000));
  }
  EXPECT_EQ(entry->state, 1);
  EXPECT_EQ(entry->uid, 1000u);
  EXPECT_EQ(entry->inode, 4242u);
}

TEST(ProcParseTest, TcpTableAddressesRoundTripForBothFamilies) {
  for (const auto& [local, remote] : {std::pair{ep("10.1.2.3", 1), ep("192.168.0.1", 65535)},
                                      std::pair{ep("::1", 443), ep("2001:db8::ff00:42:8329", 40000)},
                                      std::pair{ep("::ffff:127.0.0.1", 80), ep("::ffff:10.0.0.1", 81)}}) {
    const auto entry = parseTcpTableLine(tcpLine(local, remote, 99));
    ASSERT_TRUE(entry.has_value()) << local.toString();
    EXPECT_EQ(entry->local, local);
    EXPECT_EQ(entry->remote, remote);
    EXPECT_EQ(entry->inode, 99u);
  }
}

TEST(ProcParseTest, RejectsTheHeaderAndMalformedTableLines) {
  EXPECT_FALSE(parseTcpTableLine("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   "
                                 "uid  timeout inode"));
  EXPECT_FALSE(parseTcpTableLine(""));
  EXPECT_FALSE(parseTcpTableLine("   0: 0100007F:1F90 0100007F:D2F0 01"));
  EXPECT_FALSE(parseTcpTableLine("   0: 0100007G:1F90 0100007F:D2F0 01 0:0 0:0 0 0 0 1"));
  EXPECT_FALSE(parseTcpTableLine("   0: 0100007F:1F90 00000000000000000000000001000000:D2F0 01 0:0 0:0 0 0 0 1"));
  EXPECT_FALSE(parseTcpTableLine("   0: 0100007F:1F9 0100007F:D2F0 01 0:0 0:0 0 0 0 1"));
  EXPECT_FALSE(parseTcpTableLine("   0: 0100007F:1F90 0100007F:D2F0 01 0:0 0:0 0 -5 0 1"));
  EXPECT_FALSE(parseTcpTableLine("   0: 0100007F:1F90 0100007F:D2F0 01 0:0 0:0 0 0 0 99999999999999999999999"));
  EXPECT_TRUE(parseTcpTableLine("   0: 0100007F:1F90 0100007F:D2F0 01 0:0 0:0 0 0 0 1"));
}

TEST(ProcParseTest, StatLineCommMayHoldSpacesAndParentheses) {
  const auto stat = parseStatLine(statLine(1234, "a) b) c", 1, 777));
  ASSERT_TRUE(stat.has_value());
  EXPECT_EQ(stat->pid, 1234);
  EXPECT_EQ(stat->comm, "a) b) c");
  EXPECT_EQ(stat->state, 'S');
  EXPECT_EQ(stat->ppid, 1);
  EXPECT_EQ(stat->start_time, 777u);

  const auto tricky = parseStatLine(statLine(5, ") S 99 (", 4, 8));
  ASSERT_TRUE(tricky.has_value());
  EXPECT_EQ(tricky->comm, ") S 99 (");
  EXPECT_EQ(tricky->ppid, 4);
  const auto empty = parseStatLine(statLine(6, "", 2, 9));
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->comm, "");
}

TEST(ProcParseTest, StatLineOfThisProcessParses) {
  const auto stat = parseStatLine(readFile("/proc/self/stat"));
  ASSERT_TRUE(stat.has_value());
  EXPECT_EQ(stat->pid, ::getpid());
  EXPECT_EQ(stat->ppid, ::getppid());
  EXPECT_GT(stat->start_time, 0u);
}

TEST(ProcParseTest, RejectsMalformedStatLines) {
  EXPECT_FALSE(parseStatLine(""));
  EXPECT_FALSE(parseStatLine("1234 (a) S 1"));                      // no start_time
  EXPECT_FALSE(parseStatLine("1234 a) S 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 5"));
  EXPECT_FALSE(parseStatLine("x (a) S 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 5"));
  EXPECT_FALSE(parseStatLine("0 (a) S 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 5"));
  EXPECT_FALSE(parseStatLine("12 (a)S 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 5"));
  EXPECT_FALSE(parseStatLine("12 (a) SS 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 5"));
  EXPECT_FALSE(parseStatLine(statLine(1, std::string(65, 'x'), 0, 1)));
  EXPECT_TRUE(parseStatLine("12 (a) S 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 5"));
}

TEST(ProcParseTest, StatusUidsAreTheRealAndEffective) {
  const auto uids = parseStatusUids("Name:\tx\nUmask:\t0022\nUid:\t1000\t0\t0\t0\nGid:\t5\t5\t5\t5\n");
  ASSERT_TRUE(uids.has_value());
  EXPECT_EQ(uids->real, 1000u);
  EXPECT_EQ(uids->effective, 0u);
  EXPECT_FALSE(parseStatusUids("Name:\tx\n"));
  EXPECT_FALSE(parseStatusUids("Uid:\t-1\t0\n"));
}

TEST(ProcParseTest, SocketLinksAndExeLinks) {
  EXPECT_EQ(parseSocketLink("socket:[12345]"), 12345u);
  EXPECT_FALSE(parseSocketLink("pipe:[12345]"));
  EXPECT_FALSE(parseSocketLink("socket:[]"));
  EXPECT_FALSE(parseSocketLink("socket:[12a]"));
  EXPECT_FALSE(parseSocketLink("/tmp/socket:[1]"));
  const ExeLink deleted = parseExeLink("/tmp/x/tool (deleted)");
  EXPECT_EQ(deleted.path, "/tmp/x/tool");
  EXPECT_TRUE(deleted.deleted);
  const ExeLink plain = parseExeLink("/usr/bin/curl");
  EXPECT_EQ(plain.path, "/usr/bin/curl");
  EXPECT_FALSE(plain.deleted);
}

TEST(ProcParseTest, CmdlineSplitsOnNulAndCapsArguments) {
  using namespace std::string_literals;
  EXPECT_THAT(splitCmdline("curl\0-s\0\0https://x\0"s, 16).argv, ElementsAre("curl", "-s", "", "https://x"));
  EXPECT_THAT(splitCmdline("no-terminator"s, 16).argv, ElementsAre("no-terminator"));
  EXPECT_TRUE(splitCmdline(""s, 16).argv.empty());
  const Cmdline capped = splitCmdline("a\0b\0c\0d\0"s, 2);
  EXPECT_THAT(capped.argv, ElementsAre("a", "b"));
  EXPECT_TRUE(capped.truncated);
}

TEST(ProcParseTest, PidNamesAreCanonicalDecimals) {
  EXPECT_EQ(parsePidName("1"), 1);
  EXPECT_EQ(parsePidName("4194304"), 4194304);
  EXPECT_FALSE(parsePidName("self"));
  EXPECT_FALSE(parsePidName("0"));
  EXPECT_FALSE(parsePidName("01"));
  EXPECT_FALSE(parsePidName("99999999999"));
  EXPECT_FALSE(parsePidName(""));
}

TEST(ProcParseTest, EndpointsNormalizeIpv4MappedAddresses) {
  EXPECT_EQ(ep("::ffff:127.0.0.1", 80).normalized(), ep("127.0.0.1", 80));
  EXPECT_EQ(ep("::1", 80).normalized(), ep("::1", 80));
  EXPECT_EQ(ep("[::1]", 80).toString(), "[::1]:80");
  EXPECT_FALSE(TcpEndpoint::parse("localhost", 80));
}

// ---- a fake /proc tree ----

// Builds <root>/proc with a net table and processes whose files are plain files and symlinks.
class FakeProc {
 public:
  explicit FakeProc(const TempDir& dir) : root_(dir / "proc") {
    std::filesystem::create_directories(root_ / "self" / "net");
  }
  const std::filesystem::path& root() const { return root_; }

  void addTcp(const std::string& table, const std::string& lines) {
    writeFile(root_ / "self" / "net" / table,
              "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
                  lines);
  }
  void addProcess(int pid, const std::string& comm, int ppid, uint64_t start, const std::string& exe_target) {
    const auto dir = root_ / std::to_string(pid);
    std::filesystem::create_directories(dir / "fd");
    writeFile(dir / "stat", statLine(pid, comm, ppid, start));
    writeFile(dir / "comm", comm + "\n");
    writeFile(dir / "status", "Name:\tx\nUid:\t1000\t1001\t1000\t1000\n");
    writeFile(dir / "cmdline", std::string("lie\0--flag\0", 11));
    std::filesystem::create_symlink(exe_target, dir / "exe");
    std::filesystem::create_symlink("/workspace", dir / "cwd");
  }
  void addSocketFd(int pid, int fd, uint64_t inode) {
    std::filesystem::create_symlink(fmt::format("socket:[{}]", inode),
                                    root_ / std::to_string(pid) / "fd" / std::to_string(fd));
  }

 private:
  std::filesystem::path root_;
};

std::unique_ptr<CallerIdentityResolver> resolverFor(const std::filesystem::path& proc_root, int stop_pid = 1) {
  CallerLookupOptions options;
  options.proc_root = proc_root;
  options.stop_pid = stop_pid;
  auto resolver = CallerIdentityResolver::create(options);
  EXPECT_TRUE(resolver.ok()) << resolver.error().toString();
  return resolver.ok() ? std::move(*resolver) : nullptr;
}

TEST(CallerIdentityTest, FakeProcTreeResolvesOwnerAncestorsAndOldestHolder) {
  TempDir dir;
  FakeProc proc(dir);
  writeFile(dir / "tool", "#!tool v1\n");
  const TcpEndpoint client = ep("10.0.0.2", 40000);
  const TcpEndpoint proxy = ep("10.0.0.1", 3128);
  proc.addTcp("tcp", tcpLine(proxy, client, 111) + tcpLine(client, proxy, 555));
  proc.addTcp("tcp6", "");
  proc.addProcess(1, "init", 0, 1, "/sbin/init");
  proc.addProcess(50, "bash (login)", 1, 10, "/bin/bash");
  proc.addProcess(100, "we ird) x", 50, 20, (dir / "tool").string());
  proc.addProcess(200, "child", 100, 30, "/bin/true");
  proc.addSocketFd(100, 3, 555);
  proc.addSocketFd(200, 7, 555);
  proc.addSocketFd(50, 4, 111);  // the proxy's side of the connection: not the caller

  auto resolver = resolverFor(proc.root());
  ASSERT_NE(resolver, nullptr);
  auto id = resolver->lookup(client, proxy);
  ASSERT_TRUE(id.ok()) << id.error().toString();
  EXPECT_EQ(id->pid, 100);
  EXPECT_EQ(id->start_time, 20u);
  EXPECT_EQ(id->name, "we ird) x");
  EXPECT_EQ(id->exe, (dir / "tool").string());
  EXPECT_EQ(id->exe_sha256, sha256Hex("#!tool v1\n"));
  EXPECT_TRUE(id->exe_first_use);
  EXPECT_FALSE(id->binary_changed);
  EXPECT_EQ(id->uid, 1000u);
  EXPECT_EQ(id->euid, 1001u);
  EXPECT_THAT(id->cmdline, ElementsAre("lie", "--flag"));
  EXPECT_EQ(id->cwd, "/workspace");
  EXPECT_EQ(id->socket_inode, 555u);
  ASSERT_EQ(id->other_holders.size(), 1u);
  EXPECT_EQ(id->other_holders[0].pid, 200);
  EXPECT_EQ(id->other_holders[0].exe, "/bin/true");
  ASSERT_EQ(id->ancestors.size(), 2u);
  EXPECT_EQ(id->ancestors[0].pid, 50);
  EXPECT_EQ(id->ancestors[0].name, "bash (login)");
  EXPECT_EQ(id->ancestors[0].exe, "/bin/bash");
  EXPECT_EQ(id->ancestors[1].pid, 1);

  // A second lookup is not a first use.
  auto again = resolver->lookup(client, proxy);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->exe_first_use);
}

TEST(CallerIdentityTest, FakeProcMatchesIpv4MappedEntriesInTcp6AndStopsAtStopPid) {
  TempDir dir;
  FakeProc proc(dir);
  writeFile(dir / "tool", "x");
  proc.addTcp("tcp", "");
  proc.addTcp("tcp6", tcpLine(ep("::ffff:10.0.0.2", 40000), ep("::ffff:10.0.0.1", 3128), 777));
  proc.addProcess(1, "init", 0, 1, "/sbin/init");
  proc.addProcess(40, "session", 1, 5, "/bin/sh");
  proc.addProcess(41, "agent", 40, 6, (dir / "tool").string());
  proc.addSocketFd(41, 9, 777);
  auto resolver = resolverFor(proc.root(), /*stop_pid=*/40);
  ASSERT_NE(resolver, nullptr);
  auto id = resolver->lookup(ep("10.0.0.2", 40000), ep("::ffff:10.0.0.1", 3128));
  ASSERT_TRUE(id.ok()) << id.error().toString();
  EXPECT_EQ(id->pid, 41);
  ASSERT_EQ(id->ancestors.size(), 1u);
  EXPECT_EQ(id->ancestors[0].pid, 40);
}

TEST(CallerIdentityTest, FakeProcReportsDeletedExecutableByItsPath) {
  TempDir dir;
  FakeProc proc(dir);
  // What the kernel shows for an unlinked binary; the file with that literal name stands in for the
  // kernel's still-open inode.
  writeFile(dir / "tool (deleted)", "old build");
  proc.addTcp("tcp", tcpLine(ep("10.0.0.2", 1), ep("10.0.0.1", 2), 5));
  proc.addProcess(60, "tool", 1, 3, (dir / "tool (deleted)").string());
  proc.addSocketFd(60, 3, 5);
  auto resolver = resolverFor(proc.root());
  ASSERT_NE(resolver, nullptr);
  auto id = resolver->lookup(ep("10.0.0.2", 1), ep("10.0.0.1", 2));
  ASSERT_TRUE(id.ok()) << id.error().toString();
  EXPECT_EQ(id->exe, (dir / "tool").string());
  EXPECT_TRUE(id->exe_deleted);
  EXPECT_EQ(id->exe_sha256, sha256Hex("old build"));
}

TEST(CallerIdentityTest, FakeProcEveryHolderIsDescribedWithItsSignsOfInjection) {
  TempDir dir;
  FakeProc proc(dir);
  writeFile(dir / "curl", "curl build");
  writeFile(dir / "python3", "python build");
  proc.addTcp("tcp", tcpLine(ep("10.0.0.2", 1), ep("10.0.0.1", 2), 5));
  proc.addProcess(1, "init", 0, 1, "/sbin/init");
  proc.addProcess(70, "curl", 1, 10, (dir / "curl").string());
  proc.addProcess(71, "git", 70, 11, (dir / "python3").string());  // calls itself git
  proc.addSocketFd(70, 3, 5);
  proc.addSocketFd(71, 3, 5);
  writeFile(proc.root() / "70" / "environ", std::string("HOME=/h\0LD_PRELOAD=/tmp/hook.so\0", 32));
  writeFile(proc.root() / "70" / "maps",
            "5500-5600 r-xp 00000000 08:01 7 /usr/bin/curl\n"
            "7f00-7f10 r-xp 00000000 00:01 42 /memfd:x (deleted)\n"
            "7f20-7f30 rwxp 00000000 00:00 0 \n");
  writeFile(proc.root() / "71" / "environ", std::string("HOME=/h\0", 8));
  writeFile(proc.root() / "71" / "maps", "5500-5600 r-xp 00000000 08:01 8 /usr/bin/python3\n");
  auto resolver = resolverFor(proc.root());
  ASSERT_NE(resolver, nullptr);
  auto id = resolver->lookup(ep("10.0.0.2", 1), ep("10.0.0.1", 2));
  ASSERT_TRUE(id.ok()) << id.error().toString();
  EXPECT_EQ(id->pid, 70);
  EXPECT_EQ(id->displayName(), "curl");
  EXPECT_THAT(id->injection, ElementsAre("LD_PRELOAD=/tmp/hook.so in its environment",
                                         "executable memory from a memfd or a deleted file (/memfd:x (deleted))"));
  EXPECT_EQ(id->anonymous_exec_mappings, 1u);
  EXPECT_EQ(id->injection_unchecked, "");
  ASSERT_EQ(id->other_holders.size(), 1u);
  const CallerIdentity& other = id->other_holders[0];
  EXPECT_EQ(other.pid, 71);
  EXPECT_EQ(other.name, "git");
  EXPECT_EQ(other.displayName(), "python3");  // events name it by its executable
  EXPECT_EQ(other.exe_sha256, sha256Hex("python build"));
  EXPECT_TRUE(other.injection.empty());
  ASSERT_FALSE(other.ancestors.empty());
  EXPECT_EQ(other.ancestors[0].pid, 70);
}

TEST(CallerIdentityTest, FakeProcUnreadableEnvironIsSaidAndAnOversizedOneIsASign) {
  TempDir dir;
  FakeProc proc(dir);
  writeFile(dir / "tool", "x");
  proc.addTcp("tcp", tcpLine(ep("10.0.0.2", 1), ep("10.0.0.1", 2), 5) + tcpLine(ep("10.0.0.3", 1), ep("10.0.0.1", 2), 6));
  proc.addProcess(80, "a", 1, 10, (dir / "tool").string());
  proc.addProcess(81, "b", 1, 11, (dir / "tool").string());
  proc.addSocketFd(80, 3, 5);
  proc.addSocketFd(81, 3, 6);
  writeFile(proc.root() / "81" / "environ", std::string(64, 'A'));
  writeFile(proc.root() / "81" / "maps", "");
  CallerLookupOptions options;
  options.proc_root = proc.root();
  options.max_environ_bytes = 32;
  auto resolver = CallerIdentityResolver::create(options);
  ASSERT_TRUE(resolver.ok());
  auto missing = (*resolver)->lookup(ep("10.0.0.2", 1), ep("10.0.0.1", 2));
  ASSERT_TRUE(missing.ok()) << missing.error().toString();
  EXPECT_TRUE(missing->injection.empty());
  EXPECT_THAT(missing->injection_unchecked, ::testing::HasSubstr("environ"));
  auto big = (*resolver)->lookup(ep("10.0.0.3", 1), ep("10.0.0.1", 2));
  ASSERT_TRUE(big.ok()) << big.error().toString();
  EXPECT_THAT(big->injection, ElementsAre(::testing::HasSubstr("larger than 32 bytes")));
}

TEST(CallerIdentityTest, FakeProcSocketWithoutOwnerIsNotFound) {
  TempDir dir;
  FakeProc proc(dir);
  proc.addTcp("tcp", tcpLine(ep("10.0.0.2", 1), ep("10.0.0.1", 2), 0, 5) +  // FIN_WAIT2, orphaned
                         tcpLine(ep("10.0.0.3", 1), ep("10.0.0.1", 2), 42));  // nobody holds 42
  auto resolver = resolverFor(proc.root());
  ASSERT_NE(resolver, nullptr);
  auto orphan = resolver->lookup(ep("10.0.0.2", 1), ep("10.0.0.1", 2));
  ASSERT_FALSE(orphan.ok());
  EXPECT_EQ(orphan.error().code(), Code::kNotFound);
  auto unowned = resolver->lookup(ep("10.0.0.3", 1), ep("10.0.0.1", 2));
  ASSERT_FALSE(unowned.ok());
  EXPECT_EQ(unowned.error().code(), Code::kNotFound);
  auto absent = resolver->lookup(ep("10.0.0.4", 1), ep("10.0.0.1", 2));
  ASSERT_FALSE(absent.ok());
  EXPECT_EQ(absent.error().code(), Code::kNotFound);
}

TEST(CallerIdentityTest, ScanBoundsGiveResourceExhausted) {
  TempDir dir;
  FakeProc proc(dir);
  proc.addTcp("tcp", tcpLine(ep("10.0.0.2", 1), ep("10.0.0.1", 2), 5));
  for (int pid = 10; pid < 14; ++pid) proc.addProcess(pid, "p", 1, 1, "/bin/true");
  CallerLookupOptions options;
  options.proc_root = proc.root();
  options.max_processes = 2;
  auto resolver = CallerIdentityResolver::create(options);
  ASSERT_TRUE(resolver.ok());
  auto id = (*resolver)->lookup(ep("10.0.0.2", 1), ep("10.0.0.1", 2));
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.error().code(), Code::kResourceExhausted);
}

TEST(CallerIdentityTest, FakeProcFindsAUdpSocketByItsLocalEndPreferringAnExactMatch) {
  TempDir dir;
  FakeProc proc(dir);
  // An unconnected socket bound to 0.0.0.0:5353 (state 07) and a connected one on 10.0.0.2:5353.
  proc.addTcp("udp", tcpLine(ep("0.0.0.0", 5353), ep("0.0.0.0", 0), 901, 7) +
                         tcpLine(ep("10.0.0.2", 5353), ep("10.0.0.1", 53), 902, 1));
  proc.addTcp("udp6", "");
  proc.addProcess(1, "init", 0, 1, "/sbin/init");
  proc.addProcess(30, "wild", 1, 5, "/bin/true");
  proc.addProcess(31, "exact", 1, 6, "/bin/true");
  proc.addSocketFd(30, 3, 901);
  proc.addSocketFd(31, 4, 902);
  auto resolver = resolverFor(proc.root());
  ASSERT_NE(resolver, nullptr);
  auto exact = resolver->lookupByLocal(SocketProtocol::kUdp, ep("10.0.0.2", 5353));
  ASSERT_TRUE(exact.ok()) << exact.error().toString();
  EXPECT_EQ(exact->pid, 31);
  EXPECT_EQ(exact->socket_inode, 902u);
  EXPECT_EQ(exact->socket_source, SocketSource::kProcTable);
  // Another source address on the same port: only the wildcard socket can have sent it.
  auto wild = resolver->lookupByLocal(SocketProtocol::kUdp, ep("10.0.0.9", 5353));
  ASSERT_TRUE(wild.ok()) << wild.error().toString();
  EXPECT_EQ(wild->pid, 30);
  // The TCP tables are not consulted for UDP, and vice versa.
  auto absent = resolver->lookupByLocal(SocketProtocol::kUdp, ep("10.0.0.2", 5354));
  ASSERT_FALSE(absent.ok());
  EXPECT_EQ(absent.error().code(), Code::kNotFound);
  auto tcp = resolver->lookupByLocal(SocketProtocol::kTcp, ep("10.0.0.2", 5353));
  ASSERT_FALSE(tcp.ok());
  EXPECT_EQ(tcp.error().code(), Code::kNotFound);
}

TEST(CallerIdentityTest, FakeProcUdpSenderIsNeverGuessedWhenTwoSocketsShareThePort) {
  // Issue 12 item 10: a wildcard-bound socket on curl's port sent the query; the exact-match rule
  // named curl. Both can have sent 10.0.0.2:5353 -> 10.0.0.1:53: the sender cannot be told.
  TempDir dir;
  FakeProc proc(dir);
  proc.addTcp("udp", tcpLine(ep("0.0.0.0", 5353), ep("0.0.0.0", 0), 901, 7) +
                         tcpLine(ep("10.0.0.2", 5353), ep("10.0.0.1", 53), 902, 1) +
                         tcpLine(ep("10.0.0.2", 6000), ep("10.0.0.8", 53), 903, 1));
  proc.addTcp("udp6", "");
  proc.addProcess(1, "init", 0, 1, "/sbin/init");
  proc.addProcess(30, "python3", 1, 5, "/usr/bin/python3");
  proc.addProcess(31, "curl", 1, 6, "/usr/bin/curl");
  proc.addSocketFd(30, 3, 901);
  proc.addSocketFd(31, 4, 902);
  proc.addSocketFd(31, 5, 903);
  auto resolver = resolverFor(proc.root());
  ASSERT_NE(resolver, nullptr);
  auto both = resolver->lookupUdpSender(ep("10.0.0.2", 5353), ep("10.0.0.1", 53));
  ASSERT_FALSE(both.ok());
  EXPECT_EQ(both.error().code(), Code::kFailedPrecondition);
  EXPECT_THAT(both.error().message(), ::testing::HasSubstr("2 UDP sockets can have sent"));
  // To another server, curl's socket (connected to 10.0.0.1:53) cannot have sent it: the wildcard did.
  auto other = resolver->lookupUdpSender(ep("10.0.0.2", 5353), ep("10.0.0.7", 53));
  ASSERT_TRUE(other.ok()) << other.error().toString();
  EXPECT_EQ(other->pid, 30);
  // A socket connected elsewhere is never the sender, even on an exact match.
  auto elsewhere = resolver->lookupUdpSender(ep("10.0.0.2", 6000), ep("10.0.0.1", 53));
  ASSERT_FALSE(elsewhere.ok());
  EXPECT_EQ(elsewhere.error().code(), Code::kNotFound);
  auto exact = resolver->lookupUdpSender(ep("10.0.0.2", 6000), ep("10.0.0.8", 53));
  ASSERT_TRUE(exact.ok()) << exact.error().toString();
  EXPECT_EQ(exact->pid, 31);
}

TEST(CallerIdentityTest, FakeProcDualStackUdpSocketAnswersForIpv4AndOrphansAreSkipped) {
  TempDir dir;
  FakeProc proc(dir);
  proc.addTcp("udp", tcpLine(ep("10.0.0.2", 7000), ep("0.0.0.0", 0), 0, 7));  // no owner
  proc.addTcp("udp6", tcpLine(ep("::", 7000), ep("::", 0), 903, 7));
  proc.addProcess(40, "dual", 1, 5, "/bin/true");
  proc.addSocketFd(40, 5, 903);
  auto resolver = resolverFor(proc.root());
  ASSERT_NE(resolver, nullptr);
  auto id = resolver->lookupByLocal(SocketProtocol::kUdp, ep("10.0.0.2", 7000));
  ASSERT_TRUE(id.ok()) << id.error().toString();
  EXPECT_EQ(id->pid, 40);
}

TEST(CallerIdentityTest, FakeProcTcpByLocalSkipsListeners) {
  TempDir dir;
  FakeProc proc(dir);
  proc.addTcp("tcp", tcpLine(ep("0.0.0.0", 8080), ep("0.0.0.0", 0), 71, 10) +  // LISTEN
                         tcpLine(ep("10.0.0.2", 8080), ep("10.0.0.1", 53), 72, 1));
  proc.addProcess(50, "client", 1, 5, "/bin/true");
  proc.addProcess(51, "server", 1, 5, "/bin/true");
  proc.addSocketFd(50, 3, 72);
  proc.addSocketFd(51, 3, 71);
  auto resolver = resolverFor(proc.root());
  ASSERT_NE(resolver, nullptr);
  auto id = resolver->lookupByLocal(SocketProtocol::kTcp, ep("10.0.0.2", 8080));
  ASSERT_TRUE(id.ok()) << id.error().toString();
  EXPECT_EQ(id->pid, 50);
  EXPECT_FALSE(resolver->lookupByLocal(SocketProtocol::kTcp, ep("10.0.0.3", 8080)).ok());
}

TEST(CallerIdentityTest, CreateRejectsAMissingProcRoot) {
  CallerLookupOptions options;
  options.proc_root = "/nonexistent/proc";
  EXPECT_FALSE(CallerIdentityResolver::create(options).ok());
  options.proc_root = "/proc";
  options.net_pid = "../1";
  EXPECT_EQ(CallerIdentityResolver::create(options).error().code(), Code::kInvalidArgument);
}

// ---- the real /proc ----

// A listener on loopback port 0.
class Listener {
 public:
  explicit Listener(bool v6 = false) {
    fd_.reset(::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (v6) {
      sockaddr_in6 addr{};
      addr.sin6_family = AF_INET6;
      addr.sin6_addr = in6addr_loopback;
      ok_ = ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    } else {
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      ok_ = ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    }
    ok_ = ok_ && ::listen(fd_.get(), 8) == 0;
    sockaddr_storage bound{};
    socklen_t len = sizeof(bound);
    ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&bound), &len);
    port_ = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                     : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  }
  bool ok() const { return ok_; }
  uint16_t port() const { return port_; }

  // Accepts one connection (10 s deadline) and reads the one byte the client sends once connected.
  UniqueFd acceptOne() {
    pollfd p{.fd = fd_.get(), .events = POLLIN};
    if (::poll(&p, 1, 10000) != 1) return UniqueFd();
    UniqueFd conn(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    pollfd c{.fd = conn.get(), .events = POLLIN};
    char byte = 0;
    if (::poll(&c, 1, 10000) != 1 || ::read(conn.get(), &byte, 1) != 1) return UniqueFd();
    return conn;
  }

 private:
  bool ok_ = false;
  uint16_t port_ = 0;
  UniqueFd fd_;
};

// Connects to loopback:port and sends one byte. Async-signal-safe, for use after fork().
int connectAndSignal(uint16_t port, bool v6 = false) {
  const int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
  int r = -1;
  if (v6) {
    sockaddr_in6 addr{};
    addr.sin6_family = AF_INET6;
    addr.sin6_addr = in6addr_loopback;
    addr.sin6_port = htons(port);
    r = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  } else {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    r = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  }
  if (r != 0 || ::write(fd, "x", 1) != 1) return -1;
  return fd;
}

// A forked child that connects, signals, and waits for EOF; killed and reaped on destruction.
class ConnectingChild {
 public:
  explicit ConnectingChild(uint16_t port, bool v6 = false) {
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = connectAndSignal(port, v6);
      if (fd < 0) ::_exit(1);
      char byte;
      while (::read(fd, &byte, 1) > 0) {
      }
      ::_exit(0);
    }
  }
  ~ConnectingChild() { stop(); }
  pid_t pid() const { return pid_; }
  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }

 private:
  pid_t pid_ = -1;
};

// A child exec'ing `program` with `argv` (argv[0] may lie); killed and reaped on destruction.
class ExecChild {
 public:
  ExecChild(const std::string& program, const std::vector<std::string>& argv) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::execv(program.c_str(), args.data());
      ::_exit(127);
    }
  }
  ~ExecChild() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

std::string selfExe() { return std::filesystem::read_symlink("/proc/self/exe").string(); }

std::string bashConnectScript(uint16_t port) {
  return fmt::format("exec 3<>/dev/tcp/127.0.0.1/{}; printf x >&3; read -r -u 3 line", port);
}

TEST(CallerIdentityTest, SameProcessConnectionIsAttributedToThisProcess) {
  Listener listener;
  ASSERT_TRUE(listener.ok());
  UniqueFd client(connectAndSignal(listener.port()));
  ASSERT_TRUE(client.valid());
  UniqueFd accepted = listener.acceptOne();
  ASSERT_TRUE(accepted.valid());
  auto resolver = resolverFor("/proc");
  ASSERT_NE(resolver, nullptr);
  auto id = resolver->lookupAcceptedSocket(accepted.get());
  ASSERT_TRUE(id.ok()) << id.error().toString();
  EXPECT_EQ(id->pid, ::getpid());
  EXPECT_EQ(id->exe, selfExe());
  EXPECT_EQ(id->exe_sha256, sha256Hex(readFile(selfExe())));
  EXPECT_FALSE(id->binary_changed);
  EXPECT_EQ(id->uid, ::getuid());
  EXPECT_EQ(id->cwd, std::filesystem::current_path().string());
  ASSERT_FALSE(id->ancestors.empty());
  EXPECT_EQ(id->ancestors[0].pid, ::getppid());
}

// A UDP socket of this process, bound to `address`:0; its port through *port.
UniqueFd boundUdp(const char* address, uint16_t* port) {
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  ::inet_pton(AF_INET, address, &addr.sin_addr);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return UniqueFd();
  socklen_t len = sizeof(addr);
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  *port = ntohs(addr.sin_port);
  return fd;
}

TEST(CallerIdentityTest, RealUdpSocketIsAttributedToThisProcessByItsSourceAddress) {
  uint16_t port = 0;
  UniqueFd fd = boundUdp("127.0.0.1", &port);
  ASSERT_TRUE(fd.valid());
  auto resolver = resolverFor("/proc");
  ASSERT_NE(resolver, nullptr);
  auto id = resolver->lookupByLocal(SocketProtocol::kUdp, ep("127.0.0.1", port));
  ASSERT_TRUE(id.ok()) << id.error().toString();
  EXPECT_EQ(id->pid, ::getpid());
  EXPECT_EQ(id->exe, selfExe());
}

TEST(CallerIdentityTest, RealWildcardUdpSocketAnswersForLoopbackSources) {
  uint16_t port = 0;
  UniqueFd fd = boundUdp("0.0.0.0", &port);
  ASSERT_TRUE(fd.valid());
  auto resolver = resolverFor("/proc");
  ASSERT_NE(resolver, nullptr);
  auto id = resolver->lookupByLocal(SocketProtocol::kUdp, ep("127.0.0.1", port));
  ASSERT_TRUE(id.ok()) << id.error().toString();
  EXPECT_EQ(id->pid, ::getpid());
  fd.reset();
  auto gone = resolver->lookupByLocal(SocketProtocol::kUdp, ep("127.0.0.1", port));
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code(), Code::kNotFound);
}

TEST(CallerIdentityTest, RealUdpSenderIsAmbiguousWhenAWildcardSocketSharesThePort) {
  // Two real sockets on one port (SO_REUSEADDR): 127.0.0.1:P and 0.0.0.0:P. Either can send from
  // 127.0.0.1:P; the lookup says so instead of naming the exact one.
  auto reusable = [](const char* address, uint16_t port) {
    UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    ::inet_pton(AF_INET, address, &addr.sin_addr);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return UniqueFd();
    return fd;
  };
  UniqueFd exact = reusable("127.0.0.1", 0);
  ASSERT_TRUE(exact.valid());
  sockaddr_in got{};
  socklen_t len = sizeof got;
  ASSERT_EQ(::getsockname(exact.get(), reinterpret_cast<sockaddr*>(&got), &len), 0);
  const uint16_t port = ntohs(got.sin_port);
  auto resolver = resolverFor("/proc");
  ASSERT_NE(resolver, nullptr);
  auto alone = resolver->lookupUdpSender(ep("127.0.0.1", port), ep("127.0.0.1", 53));
  ASSERT_TRUE(alone.ok()) << alone.error().toString();
  EXPECT_EQ(alone->pid, ::getpid());
  UniqueFd wildcard = reusable("0.0.0.0", port);
  if (!wildcard.valid()) GTEST_SKIP() << "this kernel refuses the shared port: " << std::strerror(errno);
  auto shared = resolver->lookupUdpSender(ep("127.0.0.1", port), ep("127.0.0.1", 53));
  ASSERT_FALSE(shared.ok());
  EXPECT_EQ(shared.error().code(), Code::kFailedPrecondition);
}

TEST(CallerIdentityTest, ForkedChildThatConnectsIsTheCallerWithThisProcessAsParent) {
  Listener listener;
  ASSERT_TRUE(listener.ok());
  ConnectingChild child(listener.port());
  UniqueFd accepted = listener.acceptOne();
  ASSERT_TRUE(accepted.valid());
  auto resolver = resolverFor("/proc");
  ASSERT_NE(resolver, nullptr);
  auto id = resolver->lookupAcceptedSocket(accepted.get());
  ASSERT_TRUE(id.ok()) << id.error().toString();
  EXPECT_EQ(id->pid, child.pid());
  EXPECT_EQ(id->exe, selfExe());
  ASSERT_FALSE(id->ancestors.empty());
  EXPECT_EQ(id->ancestors[0].pid, ::getpid());
  EXPECT_EQ(id->ancestors[0].exe, selfExe());
  EXPECT_TRUE(id->other_holders.empty());
}

TEST(CallerIdentityTest, AncestorChainStopsAtTheStopPid) {
  Listener listener;
  ASSERT_TRUE(listener.ok());
  ConnectingChild child(listener.port());
  UniqueFd accepted = listener.acceptOne();
  ASSERT_TRUE(accepted.valid());
  auto resolver = resolverFor("/proc", /*stop_pid=*/::getpid());
  ASSERT_NE(resolver, nullptr);
  auto id = resolver->lookupAcceptedSocket(accepted.get());
  ASSERT_TRUE(id.ok()) << id.error().toString();
  ASSERT_EQ(id->ancestors.size(), 1u);
  EXPECT_EQ(id->ancestors[0].pid, ::getpid());
}

TEST(CallerIdentityTest, Ipv6LoopbackCallerIsFoundInTcp6) {
  Listener listener(/*v6=*/true);
  if (!listener.ok()) GTEST_SKIP() << "no IPv6 loopback";
  ConnectingChild child(listener.port(), /*v6=*/true);
  UniqueFd accepted = listener.acceptOne();
  ASSERT_TRUE(accepted.valid());
  auto resolver = resolverFor("/proc");
  ASSERT_NE(resolver, nullptr);
  auto id = resolver->lookupAcceptedSocket(accepted.get());
  ASSERT_TRUE(id.ok()) << id.error().toString();
  EXPECT_EQ(id->pid, child.pid());
}

// The netlink path and the /proc table path agree on a real loopback connection.
TEST(CallerIdentityTest, SockDiagAndProcTableFindTheSameSocketAndProcess) {
  Listener listener;
  ASSERT_TRUE(listener.ok());
  ConnectingChild child(listener.port());
  UniqueFd accepted = listener.acceptOne();
  ASSERT_TRUE(accepted.valid());
  CallerLookupOptions options;
  auto with_netlink = CallerIdentityResolver::create(options);
  options.use_sock_diag = false;
  auto table_only = CallerIdentityResolver::create(options);
  ASSERT_TRUE(with_netlink.ok() && table_only.ok());
  auto a = (*with_netlink)->lookupAcceptedSocket(accepted.get());
  auto b = (*table_only)->lookupAcceptedSocket(accepted.get());
  ASSERT_TRUE(a.ok()) << a.error().toString();
  ASSERT_TRUE(b.ok()) << b.error().toString();
  EXPECT_EQ(b->socket_source, SocketSource::kProcTable);
  EXPECT_EQ(a->socket_inode, b->socket_inode);
  EXPECT_EQ(a->pid, child.pid());
  EXPECT_EQ(b->pid, child.pid());
  if (a->socket_source != SocketSource::kSockDiag) GTEST_SKIP() << "NETLINK_SOCK_DIAG unavailable: fell back";
}

TEST(CallerIdentityTest, NetPidInOurNamespaceStillUsesSockDiag) {
  Listener listener;
  ASSERT_TRUE(listener.ok());
  UniqueFd client(connectAndSignal(listener.port()));
  UniqueFd accepted = listener.acceptOne();
  ASSERT_TRUE(accepted.valid());
  CallerLookupOptions options;
  options.net_pid = std::to_string(::getpid());
  auto resolver = CallerIdentityResolver::create(options);
  ASSERT_TRUE(resolver.ok());
  auto id = (*resolver)->lookupAcceptedSocket(accepted.get());
  ASSERT_TRUE(id.ok()) << id.error().toString();
  EXPECT_EQ(id->pid, ::getpid());
  CallerLookupOptions table;
  table.use_sock_diag = false;
  auto expected = (*CallerIdentityResolver::create(table))->lookupAcceptedSocket(accepted.get());
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(id->socket_inode, expected->socket_inode);
}

TEST(CallerIdentityTest, FakeProcTreeNeverAsksTheKernel) {
  // sock_diag would answer for the real host, not for the tree: a fake proc_root reads its table.
  TempDir dir;
  FakeProc proc(dir);
  proc.addTcp("tcp", tcpLine(ep("127.0.0.1", 40000), ep("127.0.0.1", 3128), 777));
  proc.addProcess(10, "tool", 1, 500, "/bin/tool");
  proc.addSocketFd(10, 3, 777);
  auto resolver = resolverFor(proc.root());
  ASSERT_NE(resolver, nullptr);
  auto id = resolver->lookup(ep("127.0.0.1", 40000), ep("127.0.0.1", 3128));
  ASSERT_TRUE(id.ok()) << id.error().toString();
  EXPECT_EQ(id->pid, 10);
  EXPECT_EQ(id->socket_inode, 777u);
  EXPECT_EQ(id->socket_source, SocketSource::kProcTable);
}

TEST(CallerIdentityTest, SkipPidIsNotScanned) {
  Listener listener;
  ASSERT_TRUE(listener.ok());
  UniqueFd client(connectAndSignal(listener.port()));
  ASSERT_TRUE(client.valid());
  UniqueFd accepted = listener.acceptOne();
  ASSERT_TRUE(accepted.valid());
  CallerLookupOptions options;
  options.skip_pid = ::getpid();
  auto resolver = CallerIdentityResolver::create(options);
  ASSERT_TRUE(resolver.ok());
  // This process holds the client socket, and it is skipped: nobody else does.
  auto id = (*resolver)->lookupAcceptedSocket(accepted.get());
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.error().code(), Code::kNotFound) << id.error().toString();
}

TEST(CallerIdentityTest, SkipPidStillFindsOtherProcesses) {
  Listener listener;
  ASSERT_TRUE(listener.ok());
  ConnectingChild child(listener.port());
  UniqueFd accepted = listener.acceptOne();
  ASSERT_TRUE(accepted.valid());
  CallerLookupOptions options;
  options.skip_pid = ::getpid();
  auto resolver = CallerIdentityResolver::create(options);
  ASSERT_TRUE(resolver.ok());
  auto id = (*resolver)->lookupAcceptedSocket(accepted.get());
  ASSERT_TRUE(id.ok()) << id.error().toString();
  EXPECT_EQ(id->pid, child.pid());
  ASSERT_FALSE(id->ancestors.empty());
  EXPECT_EQ(id->ancestors[0].pid, ::getpid());  // skipped in the fd scan only, not as an ancestor
}

TEST(CallerIdentityTest, CallerWhoseProcessExitedIsNotFound) {
  Listener listener;
  ASSERT_TRUE(listener.ok());
  ConnectingChild child(listener.port());
  UniqueFd accepted = listener.acceptOne();
  ASSERT_TRUE(accepted.valid());
  child.stop();  // killed and reaped: the kernel closed its socket
  auto resolver = resolverFor("/proc");
  ASSERT_NE(resolver, nullptr);
  auto id = resolver->lookupAcceptedSocket(accepted.get());
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.error().code(), Code::kNotFound) << id.error().toString();
}

class CallerExecutableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists("/bin/bash")) GTEST_SKIP() << "needs /bin/bash for /dev/tcp";
    ASSERT_TRUE(listener_.ok());
    original_ = readFile("/bin/bash");
  }

  // Installs `content` at the tool path by rename, as package managers do.
  void install(const std::string& content) {
    writeFile(dir_ / "tool.new", content);
    std::filesystem::permissions(dir_ / "tool.new", std::filesystem::perms::owner_all);
    std::filesystem::rename(dir_ / "tool.new", tool());
  }
  std::string tool() const { return (dir_ / "tool").string(); }

  Result<CallerIdentity> runAndLookUp(CallerIdentityResolver& resolver, const std::function<void(pid_t)>& before) {
    ExecChild child(tool(), {"/usr/bin/trusted-name", "-c", bashConnectScript(listener_.port())});
    UniqueFd accepted = listener_.acceptOne();
    if (!accepted.valid()) return internalError("the child did not connect");
    if (before) before(child.pid());
    auto id = resolver.lookupAcceptedSocket(accepted.get());
    if (id.ok()) {
      EXPECT_EQ(id->pid, child.pid());
    }
    return id;
  }

  TempDir dir_;
  Listener listener_;
  std::string original_;
};

TEST_F(CallerExecutableTest, ExeIsHashedThroughProcNeverTakenFromArgv) {
  install(original_);
  auto resolver = resolverFor("/proc");
  ASSERT_NE(resolver, nullptr);
  auto id = runAndLookUp(*resolver, nullptr);
  ASSERT_TRUE(id.ok()) << id.error().toString();
  EXPECT_EQ(id->exe, tool());
  EXPECT_EQ(id->exe_sha256, sha256Hex(original_));
  EXPECT_TRUE(id->exe_first_use);
  ASSERT_FALSE(id->cmdline.empty());
  EXPECT_EQ(id->cmdline[0], "/usr/bin/trusted-name");  // recorded, not believed
  EXPECT_EQ(id->name, "tool");
  ASSERT_FALSE(id->ancestors.empty());
  EXPECT_EQ(id->ancestors[0].pid, ::getpid());
}

TEST_F(CallerExecutableTest, ReplacedBinaryAtTheSamePathSetsBinaryChanged) {
  install(original_);
  auto resolver = resolverFor("/proc");
  ASSERT_NE(resolver, nullptr);
  auto first = runAndLookUp(*resolver, nullptr);
  ASSERT_TRUE(first.ok()) << first.error().toString();
  EXPECT_FALSE(first->binary_changed);

  const std::string modified = original_ + "\nwarden-test: a different build\n";  // still a valid ELF
  install(modified);
  auto second = runAndLookUp(*resolver, nullptr);
  ASSERT_TRUE(second.ok()) << second.error().toString();
  EXPECT_EQ(second->exe, tool());
  EXPECT_EQ(second->exe_sha256, sha256Hex(modified));
  EXPECT_TRUE(second->binary_changed);
  EXPECT_FALSE(second->exe_first_use);
  EXPECT_EQ(second->first_seen_sha256, sha256Hex(original_));
}

TEST_F(CallerExecutableTest, DeletedExecutableIsReportedWithTheRunningBinarysHash) {
  install(original_);
  auto resolver = resolverFor("/proc");
  ASSERT_NE(resolver, nullptr);
  auto id = runAndLookUp(*resolver, [&](pid_t) { std::filesystem::remove(tool()); });
  ASSERT_TRUE(id.ok()) << id.error().toString();
  EXPECT_EQ(id->exe, tool());
  EXPECT_TRUE(id->exe_deleted);
  EXPECT_EQ(id->exe_sha256, sha256Hex(original_));
}

}  // namespace
}  // namespace warden::proxy
