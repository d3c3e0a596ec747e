// The userspace side of the ring-buffer records: well-formed records parse; anything that does not
// hold together is an InvalidArgument, never a crash (the fuzz target explores the rest).

#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "capture/ebpf/record_parser.h"
#include "capture/path_rules.h"
#include "capture/process_table.h"

namespace warden::capture {
namespace {

std::vector<uint8_t> fileRecord(uint16_t op, const std::vector<std::pair<uint16_t, std::string>>& tlvs) {
  wire_file f{};
  f.h.kind = WK_FILE;
  f.h.version = WIRE_VERSION;
  f.op = op;
  std::vector<uint8_t> out(sizeof f);
  for (const auto& [type, value] : tlvs) {
    const uint16_t len = static_cast<uint16_t>(value.size());
    const size_t at = out.size();
    out.resize(at + 4 + value.size());
    std::memcpy(out.data() + at, &type, 2);
    std::memcpy(out.data() + at + 2, &len, 2);
    std::memcpy(out.data() + at + 4, value.data(), value.size());
  }
  f.h.size = static_cast<uint32_t>(out.size());
  std::memcpy(out.data(), &f, sizeof f);
  return out;
}

TEST(RecordParserTest, ParsesAFileRecordWithAWalkedPath) {
  const std::string walk = std::string("\0a.txt\0workspace\0", 18);
  auto r = parseRecord(fileRecord(WF_CREATE, {{WT_PATH1, walk}}));
  ASSERT_TRUE(r.ok()) << r.error().message();
  const auto& f = std::get<FileRecord>(*r);
  EXPECT_TRUE(f.has_path1_walk);
  EXPECT_EQ(f.path1.path, "/workspace/a.txt");
  EXPECT_FALSE(f.path1.truncated);
}

TEST(RecordParserTest, RejectsATlvThatOverrunsTheRecord) {
  auto bytes = fileRecord(WF_DELETE, {{WT_PATH1_STR, "abc"}});
  const uint16_t big = 400;
  std::memcpy(bytes.data() + sizeof(wire_file) + 2, &big, 2);
  auto r = parseRecord(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("overruns"), std::string::npos);
}

TEST(RecordParserTest, RejectsWrongSizesVersionsKindsAndOps) {
  auto bytes = fileRecord(WF_DELETE, {});
  EXPECT_FALSE(parseRecord(std::span(bytes).first(10)).ok());
  auto other = bytes;
  other[2] = 9;  // version
  EXPECT_FALSE(parseRecord(other).ok());
  EXPECT_FALSE(parseRecord(fileRecord(0, {})).ok());
  EXPECT_FALSE(parseRecord(fileRecord(WF_OP_MAX, {})).ok());
  auto kind = bytes;
  kind[0] = 77;
  EXPECT_FALSE(parseRecord(kind).ok());
}

TEST(RecordParserTest, AWalkKeepsItsTruncationFlagAndTheRootIsSlash) {
  EXPECT_EQ(decodeWalk(std::string("\0", 1)).path, "/");
  const WalkPath w = decodeWalk(std::string("\1b\0a\0", 5));
  EXPECT_EQ(w.path, "/a/b");
  EXPECT_TRUE(w.truncated);
}

TEST(RecordParserTest, SplitsArgvKeepingACutLastArgument) {
  EXPECT_EQ(splitArgv(std::string("a\0b c\0", 6)), (std::vector<std::string>{"a", "b c"}));
  EXPECT_EQ(splitArgv(std::string("a\0bc", 4)), (std::vector<std::string>{"a", "bc"}));
}

TEST(ArgvAssemblerTest, AssemblesChunksAndExpiresOrphans) {
  ArgvAssembler a;
  ArgvRecord c1;
  c1.exec_id = 7;
  c1.data = "ab";
  ArgvRecord c2;
  c2.exec_id = 7;
  c2.offset = 2;
  c2.data = "cd";
  ASSERT_TRUE(a.add(std::move(c1), 0));
  ASSERT_TRUE(a.add(std::move(c2), 0));
  bool complete = false;
  EXPECT_EQ(a.take(7, 2, complete), "abcd");
  EXPECT_TRUE(complete);
  ArgvRecord orphan;
  orphan.exec_id = 8;
  orphan.data = "x";
  ASSERT_TRUE(a.add(std::move(orphan), 0));
  EXPECT_EQ(a.expire(5000), 1u);
  EXPECT_EQ(a.bytesHeld(), 0u);
}

TEST(PathRulesTest, HomeSubtreesNamesAndExclusions) {
  auto rules = PathRules::create({"~/.ssh", "**/.env", "/etc/ssl/**/*.key"}, {"**/node_modules/.cache/**"}, "/home/agent");
  ASSERT_TRUE(rules.ok()) << rules.error().message();
  EXPECT_TRUE(rules->sensitive("/home/agent/.ssh"));
  EXPECT_TRUE(rules->sensitive("/home/agent/.ssh/authorized_keys"));
  EXPECT_FALSE(rules->sensitive("/home/agent/.sshx"));
  EXPECT_TRUE(rules->sensitive("/workspace/app/.env"));
  EXPECT_TRUE(rules->sensitive("/etc/ssl/private/a.key"));
  EXPECT_TRUE(rules->excluded("/w/node_modules/.cache/x/y"));
  EXPECT_EQ(rules->kernelNames(), std::vector<std::string>{".env"});
  EXPECT_EQ(rules->kernelPrefixes(), (std::vector<std::string>{"/home/agent/.ssh", "/etc/ssl"}));
  EXPECT_FALSE(PathRules::create({"relative/path"}, {}, "/h").ok());
}

TEST(PathRulesTest, ResolvesRelativePathsLexically) {
  EXPECT_EQ(resolveLexically("/w/a", "../b/./c"), "/w/b/c");
  EXPECT_EQ(resolveLexically("/w", "/etc//x"), "/etc/x");
  EXPECT_EQ(resolveLexically("/", "../../.."), "/");
}

TEST(ProcessTableTest, ForkInheritsAndAncestryEndsAtTheFirstKnownProcess) {
  ProcessTable t;
  ProcessInfo root;
  root.pid = 10;
  root.ppid = 1;
  root.exe = "/usr/bin/bash";
  root.name = "bash";
  root.start_ns = 1;
  t.exec(root);
  t.fork(11, 10, 2, 100, "bash", 0);
  ProcessInfo child;
  child.pid = 11;
  child.ppid = 10;
  child.exe = "/usr/bin/curl";
  child.name = "curl";
  child.start_ns = 2;
  t.exec(child);
  const auto up = t.ancestors(11);
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0].exe, "/usr/bin/bash");
  auto actor = t.actor(11);
  ASSERT_TRUE(actor);
  ASSERT_TRUE(actor->parent_process);
  EXPECT_EQ(actor->parent_process->pid, 10);
  EXPECT_EQ(actor->created_time, 100);
  t.exit(11, 2, 200, 0);
  EXPECT_TRUE(t.find(11)->exited);
}

TEST(ProcessTableTest, ForgetsTheOldestExitedProcessesBeyondItsBound) {
  ProcessTable t(100, 2);
  for (uint32_t pid = 1; pid <= 3; ++pid) {
    t.fork(pid, 0, pid, 0, "x", 0);
    t.exit(pid, pid, 1, 0);
  }
  EXPECT_FALSE(t.find(1));
  EXPECT_TRUE(t.find(3));
}

std::vector<uint8_t> connectRecord(uint8_t phase, uint16_t family, uint16_t local_port, uint8_t sock_type) {
  wire_connect c{};
  c.h.kind = WK_CONNECT;
  c.h.version = WIRE_VERSION;
  c.h.size = sizeof c;
  c.family = family;
  c.port = 3128;
  c.phase = phase;
  c.local_port = local_port;
  c.sock_type = sock_type;
  const uint8_t remote[4] = {10, 200, 0, 1};
  const uint8_t local[4] = {10, 200, 0, 2};
  std::memcpy(c.addr, remote, 4);
  std::memcpy(c.local_addr, local, 4);
  std::vector<uint8_t> out(sizeof c);
  std::memcpy(out.data(), &c, sizeof c);
  return out;
}

TEST(RecordParserTest, ParsesAConnectedRecordWithTheSocketsLocalEnd) {
  auto r = parseRecord(connectRecord(WCP_CONNECTED, 2, 40000, 1));
  ASSERT_TRUE(r.ok()) << r.error().message();
  const auto& c = std::get<ConnectRecord>(*r).fixed;
  EXPECT_EQ(c.phase, WCP_CONNECTED);
  EXPECT_EQ(c.local_port, 40000);
  EXPECT_EQ(c.sock_type, 1);
  EXPECT_EQ(c.local_addr[3], 2);
  EXPECT_TRUE(parseRecord(connectRecord(WCP_ATTEMPT, 10, 0, 0)).ok());
}

TEST(RecordParserTest, RejectsConnectRecordsWithAnUnknownPhaseFamilyOrAnAttemptWithALocalEnd) {
  auto phase = parseRecord(connectRecord(7, 2, 40000, 1));
  ASSERT_FALSE(phase.ok());
  EXPECT_NE(phase.error().message().find("phase 7"), std::string::npos);
  EXPECT_FALSE(parseRecord(connectRecord(WCP_CONNECTED, 1, 40000, 1)).ok());
  EXPECT_FALSE(parseRecord(connectRecord(WCP_ATTEMPT, 2, 40000, 0)).ok());
  auto cut = connectRecord(WCP_CONNECTED, 2, 40000, 1);
  EXPECT_FALSE(parseRecord(std::span(cut).first(sizeof(wire_connect) - 8)).ok());
}

ProcessTable::SocketEnds ends(ProcessTable::Protocol protocol, std::string local_ip, int local_port,
                              std::string remote_ip = "10.200.0.1", int remote_port = 3128) {
  return ProcessTable::SocketEnds{protocol, std::move(local_ip), local_port, std::move(remote_ip), remote_port};
}

TEST(ProcessTableTest, NamesTheClientOfASourceAddressByProtocolPortsAndAddresses) {
  using P = ProcessTable::Protocol;
  ProcessTable t;
  ProcessInfo curl;
  curl.pid = 42;
  curl.ppid = 1;
  curl.exe = "/usr/bin/curl";
  curl.name = "curl";
  curl.cmd_line = "curl https://example.com";
  curl.start_ms = 900;
  t.exec(curl);
  t.connected(42, "curl", 1000, ends(P::kTcp, "10.200.0.2", 40000), 1000);
  t.connected(43, "dig", 1000, ends(P::kUdp, "10.200.0.2", 40000, "10.200.0.1", 53), 1001);
  t.exit(42, 0, 1100, 0);

  // The table's actor (executable, command line) for a pid it knows, even after the exit...
  auto who = t.bySource(ends(P::kTcp, "10.200.0.2", 40000), 1200);
  ASSERT_TRUE(who);
  EXPECT_EQ(who->pid, 42);
  EXPECT_EQ(who->name, "curl");
  EXPECT_EQ(who->cmd_line, "curl https://example.com");
  ASSERT_TRUE(who->file);
  EXPECT_EQ(who->file->path, "/usr/bin/curl");
  // ...the record's own name, pid and uid for one it does not.
  auto udp = t.bySource(ends(P::kUdp, "10.200.0.2", 40000, "10.200.0.1", 53), 1200);
  ASSERT_TRUE(udp);
  EXPECT_EQ(udp->pid, 43);
  EXPECT_EQ(udp->name, "dig");
  EXPECT_EQ(udp->uid, 1000);
  EXPECT_FALSE(udp->file);
  // Any local address when the caller has none.
  EXPECT_TRUE(t.bySource(ends(P::kTcp, "", 40000), 1200));
  // Nothing for another protocol, port, address, or outside the window.
  EXPECT_FALSE(t.bySource(ends(P::kUdp, "10.200.0.2", 40000), 1200));
  EXPECT_FALSE(t.bySource(ends(P::kTcp, "10.200.0.2", 40001), 1200));
  EXPECT_FALSE(t.bySource(ends(P::kTcp, "10.200.0.3", 40000), 1200));
  EXPECT_FALSE(t.bySource(ends(P::kTcp, "10.200.0.2", 40000, "10.200.0.1", 8080), 1200));
  EXPECT_FALSE(t.bySource(ends(P::kTcp, "10.200.0.2", 40000), 1000 + 30001));
}

TEST(ProcessTableTest, TheNewestConnectFromAPortWinsAndAReusedPidIsNotNamedForAnOlderConnect) {
  using P = ProcessTable::Protocol;
  ProcessTable t;
  t.connected(50, "python3", 0, ends(P::kTcp, "10.200.0.2", 41000), 1000);
  t.connected(51, "node", 0, ends(P::kTcp, "10.200.0.2", 41000), 2000);
  EXPECT_EQ(t.bySource(ends(P::kTcp, "10.200.0.2", 41000), 2500)->pid, 51);
  // pid 51 is reused by a process started after its connect: the record names the connector.
  ProcessInfo later;
  later.pid = 51;
  later.name = "bash";
  later.exe = "/usr/bin/bash";
  later.start_ms = 9000;
  t.exec(later);
  auto who = t.bySource(ends(P::kTcp, "10.200.0.2", 41000), 2500);
  ASSERT_TRUE(who);
  EXPECT_EQ(who->name, "node");
  EXPECT_FALSE(who->file);
}

TEST(ProcessTableTest, ASourceLookupWaitsForTheFeedsReaderToCatchUp) {
  using P = ProcessTable::Protocol;
  ProcessTable t;
  // The feed: asked for a pass, its "reader" (another thread) records the connect, then says it
  // has consumed everything up to now.
  std::mutex mu;
  std::condition_variable cv;
  bool asked = false;
  t.attachConnectFeed([&] {
    std::lock_guard lock(mu);
    asked = true;
    cv.notify_all();
  });
  std::thread reader([&] {
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return asked; });
    }
    t.connected(60, "curl", 0, ends(P::kTcp, "10.200.0.2", 42000), 1000);
    t.caughtUp(monotonicNs());
  });
  auto who = t.bySource(ends(P::kTcp, "10.200.0.2", 42000), 1000, std::chrono::seconds(30));
  reader.join();
  ASSERT_TRUE(who);
  EXPECT_EQ(who->pid, 60);
  // A reader that never answers: the lookup gives up at its bound.
  EXPECT_FALSE(t.bySource(ends(P::kTcp, "10.200.0.2", 42001), 1000, std::chrono::milliseconds(20)));
  // Without a feed there is nothing to wait for.
  t.detachConnectFeed();
  EXPECT_FALSE(t.bySource(ends(P::kTcp, "10.200.0.2", 42001), 1000, std::chrono::hours(1)));
}

}  // namespace
}  // namespace warden::capture
