// The eBPF capture on the real kernel: each test makes its own cgroup v2 directory, runs real
// programs inside it, and checks what the capture recorded (and that it validates against OCSF).
// Needs root and a kernel that loads the programs; skipped with the reason otherwise.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "audit/process_tree.h"
#include "capture/ebpf/ebpf_source.h"
#include "common/clock.h"
#include "common/encoding.h"
#include "ocsf/jsonl_formatter.h"
#include "ocsf/samples.h"
#include "ocsf/shorthand.h"
#include "support/capture_fixture.h"

namespace warden::capture {
namespace {

using testing::cgroup2Mount;
using testing::spawnIn;
using testing::TestCgroup;
using testing::waitChild;
using warden::testing::CollectingEmitter;
using warden::testing::TempDir;
using warden::testing::waitFor;

class EbpfCaptureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (loads BPF programs, makes a cgroup)";
    auto cg = TestCgroup::create();
    if (!cg) GTEST_SKIP() << "no cgroup v2 mount to make a test cgroup under";
    cgroup_.emplace(std::move(*cg));
    options_.cgroup_path = cgroup_->path();
    options_.home = (dir_ / "home").string();
    std::filesystem::create_directories(dir_ / "home/.ssh");
    std::filesystem::create_directories(dir_ / "work");
    ctx_ = ocsf::sampleContext();
  }

  // Creates and starts the source; skips when the kernel refuses it.
  void startCapture() {
    auto created = EbpfSource::create(options_, emitter_, ctx_, table_);
    if (!created.ok()) GTEST_SKIP() << "eBPF capture unavailable: " << created.error().message();
    source_ = std::move(*created);
    ASSERT_TRUE(source_->start().ok());
  }

  std::vector<ocsf::Event> stopAndCollect() {
    source_->stop();
    return emitter_.events();
  }

  std::vector<ocsf::Event> of(const std::vector<ocsf::Event>& events, ocsf::Kind kind, int activity) {
    std::vector<ocsf::Event> out;
    for (const auto& e : events) {
      if (e.kind == kind && e.activity_id == activity) out.push_back(e);
    }
    return out;
  }

  std::string dump(const std::vector<ocsf::Event>& events) {
    std::string s;
    for (const auto& e : events) s += ocsf::toShorthand(e) + "\n";
    return s;
  }

  const ocsf::Event* launchOf(const std::vector<ocsf::Event>& events, std::string_view exe_name, bool failed = false) {
    for (const auto& e : events) {
      if (e.kind != ocsf::Kind::kProc || e.activity_id != 1 || !e.process) continue;
      if ((e.status == ocsf::Status::kFailure) != failed) continue;
      if (e.process->file && baseName(e.process->file->path) == exe_name) return &e;
      if (failed && baseName(std::string(e.unmapped.stringAt("exec_filename"))) == exe_name) return &e;
    }
    return nullptr;
  }

  const ocsf::Event* fileEvent(const std::vector<ocsf::Event>& events, int activity, const std::string& path) {
    for (const auto& e : events) {
      if (e.kind == ocsf::Kind::kFile && e.activity_id == activity && e.file && e.file->path == path) return &e;
    }
    return nullptr;
  }

  const KindAccount& account(RecordKind k) { return accounts_[static_cast<size_t>(k)]; }
  void keepAccounts() { accounts_ = source_->accounts(); }

  TempDir dir_;
  std::optional<TestCgroup> cgroup_;
  CaptureOptions options_;
  CollectingEmitter emitter_;
  ocsf::SessionContext ctx_;
  std::shared_ptr<ProcessTable> table_ = std::make_shared<ProcessTable>();
  std::unique_ptr<EbpfSource> source_;
  Accounts accounts_{};
};

std::string writeScript(const std::filesystem::path& path, const std::string& body) {
  std::ofstream(path) << body;
  chmod(path.c_str(), 0755);
  return path.string();
}

TEST_F(EbpfCaptureTest, RecordsEveryExecOfAFiveDeepTreeWithExactArgvAndLineage) {
  startCapture();
  const auto work = dir_ / "work";
  // sh l1 -> sh l2 -> sh l3 -> sh l4 -> python3 l5.py -> /bin/true <argv>
  writeScript(work / "l1.sh", "/bin/sh " + (work / "l2.sh").string() + "\n");
  writeScript(work / "l2.sh", "/bin/sh " + (work / "l3.sh").string() + "\n");
  writeScript(work / "l3.sh", "/bin/sh " + (work / "l4.sh").string() + "\n");
  writeScript(work / "l4.sh", "/usr/bin/python3 " + (work / "l5.py").string() + "\n");
  // Linux caps one argument at 128 KiB (MAX_ARG_STRLEN): 300 KB of argv is three 100 KB arguments.
  writeScript(work / "l5.py",
              "import subprocess\n"
              "subprocess.run([b'/bin/true', b'with space', b'line1\\nline2', b'\\xff\\xfeA', b'a'*100000,"
              " b'b'*100000, b'c'*100000])\n");
  const pid_t pid = spawnIn(cgroup_->path(), {"/bin/sh", (work / "l1.sh").string()}, work.string());
  ASSERT_EQ(WEXITSTATUS(waitChild(pid)), 0);
  ASSERT_TRUE(waitFor([&] { return launchOf(emitter_.events(), "true") != nullptr; }));
  const auto events = stopAndCollect();

  const ocsf::Event* t = launchOf(events, "true");
  ASSERT_NE(t, nullptr) << dump(events);
  const ocsf::Value* argv = t->unmapped.find("argv");
  ASSERT_NE(argv, nullptr);
  ASSERT_TRUE(argv->isArray());
  const auto& a = argv->asArray();
  ASSERT_GE(a.size(), 6u);
  EXPECT_EQ(a[0].asString(), "/bin/true");
  EXPECT_EQ(a[1].asString(), "with space");
  EXPECT_EQ(a[2].asString(), "line1\nline2");
  EXPECT_EQ(a[3].asString(), "\xff\xfe" "A");  // the bytes; the JSON writer makes them U+FFFD ...
  const ocsf::Value* hex = t->unmapped.find("argv_hex");
  ASSERT_NE(hex, nullptr);
  EXPECT_EQ(hex->stringAt("3"), "fffe41");  // ... and argv_hex keeps them exactly
  EXPECT_EQ(a[4].asString(), std::string(100000, 'a'));
  // Cut at 256 KiB: the third 100 KB argument is partial, and the full length is recorded.
  const size_t full = 10 + 11 + 12 + 4 + 3 * 100001;
  const ocsf::Value* truncated = t->unmapped.find("argv_truncated");
  ASSERT_NE(truncated, nullptr);
  EXPECT_TRUE(truncated->asBool());
  EXPECT_EQ(t->unmapped.find("argv_length")->asInt(), static_cast<int64_t>(full));
  size_t kept = 0;
  for (const auto& v : a) kept += v.asString().size() + 1;
  EXPECT_LE(kept, 256u * 1024 + 1);
  EXPECT_GT(kept, 256u * 1024 - 2);
  // Lineage: python3 and the four shells, nearest first, ending at the session's first process.
  ASSERT_GE(t->process->ancestry.size(), 5u) << dump(events);
  EXPECT_EQ(baseName(t->process->ancestry[0].path), "python3.11");
  for (int i = 1; i <= 4; ++i) EXPECT_EQ(baseName(t->process->ancestry[i].path), "dash") << i;
  EXPECT_EQ(t->process->ancestry[4].pid, pid);
  ASSERT_TRUE(t->process->parent_process);
  EXPECT_EQ(t->process->parent_process->pid, t->process->ancestry[0].pid);
  EXPECT_EQ(t->process->working_directory, work.string());
  EXPECT_EQ(t->process->uid, 0);
  EXPECT_TRUE(t->process->namespace_pid.has_value());
  // The first process is recorded like every other (its exec of /bin/sh).
  bool first = false;
  for (const auto& e : of(events, ocsf::Kind::kProc, 1)) first = first || (e.process && e.process->pid == pid);
  EXPECT_TRUE(first);
  EXPECT_EQ(testing::schemaProblems(events), "");
}

TEST_F(EbpfCaptureTest, RecordsAPipelineExitCodesAndSignals) {
  startCapture();
  const auto work = dir_ / "work";
  const pid_t pid = spawnIn(cgroup_->path(),
                            {"/bin/sh", "-c", "/bin/echo hello | /usr/bin/tr a-z A-Z > out.txt; /bin/sh -c 'exit 3';"
                                              " /bin/sh -c 'kill -9 $$'; exit 0"},
                            work.string());
  ASSERT_EQ(WEXITSTATUS(waitChild(pid)), 0);
  ASSERT_TRUE(waitFor([&] {
    for (const auto& e : emitter_.events())
      if (e.kind == ocsf::Kind::kProc && e.activity_id == 2 && e.process && e.process->pid == pid) return true;
    return false;
  }));
  const auto events = stopAndCollect();
  EXPECT_NE(launchOf(events, "echo"), nullptr) << dump(events);
  EXPECT_NE(launchOf(events, "tr"), nullptr) << dump(events);
  bool exit3 = false;
  bool sigkill = false;
  for (const auto& e : of(events, ocsf::Kind::kProc, 2)) {
    exit3 = exit3 || (e.exit_code == 3);
    sigkill = sigkill || (e.status_detail == "SIGKILL" && !e.exit_code);
    EXPECT_TRUE(e.duration.has_value()) << ocsf::toShorthand(e);
  }
  EXPECT_TRUE(exit3) << dump(events);
  EXPECT_TRUE(sigkill) << dump(events);
  EXPECT_NE(fileEvent(events, 1, (work / "out.txt").string()), nullptr) << dump(events);
  EXPECT_NE(fileEvent(events, 3, (work / "out.txt").string()), nullptr) << dump(events);  // written via fd 1
  EXPECT_EQ(testing::schemaProblems(events), "");
}

TEST_F(EbpfCaptureTest, AFailedExecIsALaunchWithItsErrnoAndAPathSearchIsNot) {
  startCapture();
  const auto work = dir_ / "work";
  std::ofstream(work / "noexec.sh") << "echo\n";
  chmod((work / "noexec.sh").c_str(), 0644);
  const pid_t pid = spawnIn(cgroup_->path(),
                            {"/bin/sh", "-c", "/nonexistent-cmd; ./noexec.sh; /usr/bin/env true; exit 0"},
                            work.string());
  ASSERT_EQ(WEXITSTATUS(waitChild(pid)), 0);
  ASSERT_TRUE(waitFor([&] {
    const auto ev = emitter_.events();
    return launchOf(ev, "nonexistent-cmd", true) != nullptr && launchOf(ev, "noexec.sh", true) != nullptr;
  })) << dump(emitter_.events());
  const auto events = stopAndCollect();
  const ocsf::Event* enoent = launchOf(events, "nonexistent-cmd", true);
  ASSERT_NE(enoent, nullptr);
  EXPECT_EQ(enoent->status_detail, "ENOENT");
  EXPECT_EQ(enoent->severity, ocsf::Severity::kLow);
  EXPECT_EQ(enoent->unmapped.stringAt("exec_filename"), "/nonexistent-cmd");
  const ocsf::Event* eacces = launchOf(events, "noexec.sh", true);
  ASSERT_NE(eacces, nullptr);
  EXPECT_EQ(eacces->status_detail, "EACCES");
  // env searched PATH for true (ENOENT in /usr/local/sbin, ...) and found it: no failed launch.
  EXPECT_EQ(launchOf(events, "true", true), nullptr) << dump(events);
  EXPECT_NE(launchOf(events, "true"), nullptr) << dump(events);
  EXPECT_EQ(testing::schemaProblems(events), "");
}

TEST_F(EbpfCaptureTest, RecordsEachFileKindWithAbsolutePathsAndNotOrdinaryReads) {
  startCapture();
  const auto w = dir_ / "work";
  std::ofstream(w / "existing.txt") << "old\n";
  std::ofstream(w / "trunc.txt") << "0123456789\n";
  const std::string script =
      "echo new > new.txt; echo more >> existing.txt; /usr/bin/truncate -s 2 trunc.txt; /bin/mv new.txt moved.txt;"
      " /bin/rm moved.txt; /bin/chmod 600 existing.txt; /bin/chown 1:1 existing.txt; /bin/mkdir d; /bin/rmdir d;"
      " /bin/mkdir m; /bin/mount -t tmpfs none m; /bin/umount m; /bin/cat /etc/hostname > /dev/null; exit 0";
  const pid_t pid = spawnIn(cgroup_->path(), {"/bin/sh", "-c", script}, w.string());
  ASSERT_EQ(WEXITSTATUS(waitChild(pid)), 0);
  ASSERT_TRUE(waitFor([&] { return fileEvent(emitter_.events(), 13, (w / "m").string()) != nullptr; }))
      << dump(emitter_.events());
  const auto events = stopAndCollect();
  const std::string d = w.string();
  EXPECT_NE(fileEvent(events, 1, d + "/new.txt"), nullptr) << dump(events);       // create
  EXPECT_NE(fileEvent(events, 3, d + "/new.txt"), nullptr) << dump(events);       // its write
  EXPECT_NE(fileEvent(events, 3, d + "/existing.txt"), nullptr) << dump(events);  // append
  const ocsf::Event* trunc = fileEvent(events, 3, d + "/trunc.txt");
  ASSERT_NE(trunc, nullptr) << dump(events);
  EXPECT_EQ(trunc->unmapped.stringAt("operation"), "truncate");
  const ocsf::Event* mv = fileEvent(events, 5, d + "/new.txt");
  ASSERT_NE(mv, nullptr) << dump(events);
  ASSERT_TRUE(mv->file_result);
  EXPECT_EQ(mv->file_result->path, d + "/moved.txt");
  EXPECT_NE(fileEvent(events, 4, d + "/moved.txt"), nullptr) << dump(events);
  const ocsf::Event* chmod_ev = nullptr;
  const ocsf::Event* chown_ev = nullptr;
  for (const auto& e : events) {
    if (e.kind != ocsf::Kind::kFile || e.activity_id != 7) continue;
    if (e.unmapped.stringAt("operation") == "chmod") chmod_ev = &e;
    if (e.unmapped.stringAt("operation") == "chown") chown_ev = &e;
  }
  ASSERT_NE(chmod_ev, nullptr) << dump(events);
  EXPECT_EQ(chmod_ev->unmapped.stringAt("mode"), "0600");
  ASSERT_NE(chown_ev, nullptr) << dump(events);
  EXPECT_EQ(chown_ev->unmapped.find("owner_uid")->asInt(), 1);
  EXPECT_NE(fileEvent(events, 1, d + "/d"), nullptr) << dump(events);
  EXPECT_NE(fileEvent(events, 4, d + "/d"), nullptr) << dump(events);
  const ocsf::Event* mnt = fileEvent(events, 12, "none");
  ASSERT_NE(mnt, nullptr) << dump(events);
  ASSERT_TRUE(mnt->file_result);
  EXPECT_EQ(mnt->file_result->path, d + "/m");
  EXPECT_EQ(mnt->unmapped.stringAt("fstype"), "tmpfs");
  EXPECT_NE(fileEvent(events, 13, d + "/m"), nullptr) << dump(events);
  for (const auto& e : of(events, ocsf::Kind::kFile, 2)) ADD_FAILURE() << "ordinary read recorded: " << ocsf::toShorthand(e);
  for (const auto& e : events) {
    if (e.kind == ocsf::Kind::kFile && e.file) {
      EXPECT_EQ(e.file->path.find("/etc/hostname"), std::string::npos);
    }
  }
  EXPECT_EQ(testing::schemaProblems(events), "");
}

TEST_F(EbpfCaptureTest, RecordsARefusedOpenOfShadowAndSensitiveReadsAndWrites) {
  options_.denial_note = "Landlock";
  std::ofstream(dir_ / "home/.ssh/id_rsa") << "secret\n";
  std::ofstream(dir_ / "work/.env") << "TOKEN=x\n";
  startCapture();
  const auto w = dir_ / "work";
  // As nobody: /etc/shadow is refused (EACCES).
  const pid_t nobody = spawnIn(cgroup_->path(), {"/bin/cat", "/etc/shadow"}, "/", 65534);
  waitChild(nobody);
  const std::string home = options_.home;
  const pid_t pid = spawnIn(cgroup_->path(),
                            {"/bin/sh", "-c",
                             "echo ssh-ed25519 AAAA >> " + home + "/.ssh/authorized_keys; /bin/cat " + home +
                                 "/.ssh/id_rsa > /dev/null; /bin/cat .env > /dev/null; exit 0"},
                            w.string());
  ASSERT_EQ(WEXITSTATUS(waitChild(pid)), 0);
  ASSERT_TRUE(waitFor([&] { return fileEvent(emitter_.events(), 2, w.string() + "/.env") != nullptr; }))
      << dump(emitter_.events());
  const auto events = stopAndCollect();
  const ocsf::Event* shadow = fileEvent(events, 14, "/etc/shadow");
  ASSERT_NE(shadow, nullptr) << dump(events);
  EXPECT_EQ(ocsf::toShorthand(*shadow),
            "FILE:OPEN [MED] DENIED cat(" + std::to_string(nobody) + ") /etc/shadow [sensitive] [reason:EACCES (Landlock)]");
  const ocsf::Event* keys = fileEvent(events, 1, home + "/.ssh/authorized_keys");
  ASSERT_NE(keys, nullptr) << dump(events);
  EXPECT_TRUE(keys->unmapped.find("sensitive") != nullptr);
  const ocsf::Event* id = fileEvent(events, 2, home + "/.ssh/id_rsa");
  ASSERT_NE(id, nullptr) << dump(events);
  EXPECT_NE(ocsf::toShorthand(*id).find("[sensitive]"), std::string::npos);
  EXPECT_EQ(testing::schemaProblems(events), "");
}

TEST_F(EbpfCaptureTest, ASensitivePathMadeAfterTheCaptureStartedIsReadSensitivelyAndANamesakeIsNot) {
  // ~/.aws does not exist when the capture starts (no inode to register): the kernel's name filter
  // sends reads below any ".aws", and the reader keeps only the one the rules name.
  std::filesystem::create_directories(dir_ / "work/elsewhere/.aws");
  std::ofstream(dir_ / "work/elsewhere/.aws/config") << "region=x\n";
  startCapture();
  const std::string home = options_.home;
  const pid_t pid = spawnIn(cgroup_->path(),
                            {"/bin/sh", "-c",
                             "mkdir " + home + "/.aws && echo key > " + home + "/.aws/credentials && /bin/cat " +
                                 home + "/.aws/credentials > /dev/null && /bin/cat elsewhere/.aws/config > /dev/null"},
                            (dir_ / "work").string());
  ASSERT_EQ(WEXITSTATUS(waitChild(pid)), 0);
  ASSERT_TRUE(waitFor([&] { return fileEvent(emitter_.events(), 2, home + "/.aws/credentials") != nullptr; }))
      << dump(emitter_.events());
  const auto events = stopAndCollect();
  keepAccounts();
  EXPECT_NE(ocsf::toShorthand(*fileEvent(events, 2, home + "/.aws/credentials")).find("[sensitive]"), std::string::npos);
  EXPECT_EQ(fileEvent(events, 2, (dir_ / "work/elsewhere/.aws/config").string()), nullptr) << dump(events);
  EXPECT_GE(account(RecordKind::kFile).filtered, 1u) << "the wrong guess is counted as filtered";
}

TEST_F(EbpfCaptureTest, ACredentialInACommandLineIsRedactedAndTheRestKept) {
  startCapture();
  const pid_t pid = spawnIn(cgroup_->path(),
                            {"/bin/sh", "-c",
                             "/bin/echo -H 'Authorization: Bearer ghp_abcdefghijklmnopqrstuvwxyz0123456789' "
                             "--password=hunter2hunter2 plain > /dev/null"},
                            (dir_ / "work").string());
  ASSERT_EQ(WEXITSTATUS(waitChild(pid)), 0);
  ASSERT_TRUE(waitFor([&] { return launchOf(emitter_.events(), "echo") != nullptr; }));
  const auto events = stopAndCollect();
  const ocsf::Event* echo = launchOf(events, "echo");
  ASSERT_NE(echo, nullptr) << dump(events);
  const std::string line = ocsf::toShorthand(*echo);
  EXPECT_EQ(line.find("ghp_abcdefghijklmnopqrstuvwxyz0123456789"), std::string::npos) << line;
  EXPECT_EQ(line.find("hunter2hunter2"), std::string::npos) << line;
  EXPECT_NE(echo->process->cmd_line.find("--password=[redacted]"), std::string::npos) << line;
  EXPECT_NE(line.find("plain"), std::string::npos) << "what is not a secret is kept: " << line;
  EXPECT_NE(echo->unmapped.find("argv_redacted"), nullptr);
  for (const auto& e : events) {
    if (e.kind != ocsf::Kind::kProc || !e.process) continue;
    EXPECT_EQ(e.process->cmd_line.find("ghp_"), std::string::npos) << ocsf::toShorthand(e);
  }
  EXPECT_EQ(testing::schemaProblems(events), "");
}

TEST_F(EbpfCaptureTest, TheRecordedTrailTellsTheStoryAsAProcessTree) {
  startCapture();
  const auto w = dir_ / "work";
  const pid_t pid = spawnIn(cgroup_->path(),
                            {"/bin/sh", "-c", "echo a > a.txt; /bin/mv a.txt b.txt; /bin/rm b.txt; exit 7"}, w.string());
  ASSERT_EQ(WEXITSTATUS(waitChild(pid)), 7);
  ASSERT_TRUE(waitFor([&] {
    for (const auto& e : emitter_.events())
      if (e.kind == ocsf::Kind::kProc && e.activity_id == 2 && e.process && e.process->pid == pid) return true;
    return false;
  }));
  const auto events = stopAndCollect();
  audit::ProcessTreeBuilder builder;
  for (const auto& e : events) builder.add(ocsf::toJsonl(e));
  const audit::ProcessTree tree = builder.build();
  ASSERT_EQ(tree.roots.size(), 1u) << audit::renderTreeText(tree);
  const audit::TreeProcess& sh = tree.processes[tree.roots[0]];
  EXPECT_EQ(sh.pid, pid);
  EXPECT_EQ(sh.exit_code, 7);
  ASSERT_EQ(sh.children.size(), 2u) << audit::renderTreeText(tree);
  const audit::TreeProcess& mv = tree.processes[sh.children[0]];
  const audit::TreeProcess& rm = tree.processes[sh.children[1]];
  EXPECT_EQ(mv.name, "mv");
  EXPECT_EQ(rm.name, "rm");
  ASSERT_FALSE(mv.items.empty());
  EXPECT_EQ(mv.items[0].what, "rename " + w.string() + "/a.txt -> " + w.string() + "/b.txt");
  ASSERT_FALSE(rm.items.empty());
  EXPECT_EQ(rm.items[0].what, "delete " + w.string() + "/b.txt");
  ASSERT_GE(sh.items.size(), 2u);
  EXPECT_EQ(sh.items[0].what, "create " + w.string() + "/a.txt");
  EXPECT_EQ(sh.items[1].what, "update " + w.string() + "/a.txt");
}

TEST_F(EbpfCaptureTest, TheProcessTableNamesWhoConnectedWhereAfterTheProcessIsGone) {
  startCapture();
  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(listener, 4), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int port = ntohs(addr.sin_port);
  const pid_t pid = spawnIn(cgroup_->path(), {}, "/", std::nullopt, [&] {
    const int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    return connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 ? 0 : 1;
  });
  ASSERT_EQ(WEXITSTATUS(waitChild(pid)), 0);
  close(listener);
  const int64_t now = SystemClock::instance().nowMillis();
  const bool found = waitFor([&] { return table_->connector("127.0.0.1", port, now).has_value(); });
  if (!found) {
    source_->stop();
    keepAccounts();
    const auto& c = account(RecordKind::kConnect);
    FAIL() << "connect records: seen " << c.seen << " received " << c.received << " filtered " << c.filtered
           << " malformed " << c.malformed << " dropped " << c.dropped << "\n" << dump(emitter_.events());
  }
  const auto who = table_->connector("127.0.0.1", port, now);
  EXPECT_EQ(who->pid, pid);
  EXPECT_FALSE(table_->connector("127.0.0.1", port + 1, now).has_value());
  source_->stop();
}

// A client in the session that connects (TCP or UDP, IPv4 or IPv6) from a port the kernel picks,
// reports that port through a pipe and exits; `ready` is the server side's address.
struct SourceClient {
  pid_t pid = 0;
  int local_port = 0;
};

SourceClient connectFromSession(const std::string& cgroup, int family, int type, const sockaddr* to, socklen_t len) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  const pid_t pid = spawnIn(cgroup, {}, "/", std::nullopt, [&] {
    const int s = socket(family, type | SOCK_CLOEXEC, 0);
    if (s < 0 || connect(s, to, len) != 0) return 1;
    sockaddr_storage me{};
    socklen_t me_len = sizeof me;
    if (getsockname(s, reinterpret_cast<sockaddr*>(&me), &me_len) != 0) return 1;
    const int port = ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in*>(&me)->sin_port
                                             : reinterpret_cast<sockaddr_in6*>(&me)->sin6_port);
    return write(fds[1], &port, sizeof port) == sizeof port ? 0 : 1;
  });
  close(fds[1]);
  SourceClient c;
  c.pid = pid;
  if (read(fds[0], &c.local_port, sizeof c.local_port) != sizeof c.local_port) c.local_port = 0;
  close(fds[0]);
  return c;
}

TEST_F(EbpfCaptureTest, TheProcessTableNamesTheClientOfASourceAddressOnceItIsGone) {
  startCapture();
  using P = ProcessTable::Protocol;
  // TCP over IPv4: a listener that never accepts (the handshake completes in its backlog).
  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(listener, 4), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int port = ntohs(addr.sin_port);
  const SourceClient tcp =
      connectFromSession(cgroup_->path(), AF_INET, SOCK_STREAM, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ASSERT_EQ(WEXITSTATUS(waitChild(tcp.pid)), 0);
  ASSERT_NE(tcp.local_port, 0);
  // UDP over IPv6, connected (as resolvers do): nobody needs to listen.
  const int udp_server = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in6 addr6{};
  addr6.sin6_family = AF_INET6;
  addr6.sin6_addr = in6addr_loopback;
  ASSERT_EQ(bind(udp_server, reinterpret_cast<sockaddr*>(&addr6), sizeof addr6), 0);
  len = sizeof addr6;
  ASSERT_EQ(getsockname(udp_server, reinterpret_cast<sockaddr*>(&addr6), &len), 0);
  const int port6 = ntohs(addr6.sin6_port);
  const SourceClient udp =
      connectFromSession(cgroup_->path(), AF_INET6, SOCK_DGRAM, reinterpret_cast<sockaddr*>(&addr6), sizeof addr6);
  ASSERT_EQ(WEXITSTATUS(waitChild(udp.pid)), 0);
  ASSERT_NE(udp.local_port, 0);
  // Both clients are gone and reaped. No waiting here but the lookup's own: it asks the reader for a
  // pass and waits for it, so a connect the kernel recorded is found at once.
  const int64_t now = SystemClock::instance().nowMillis();
  const auto wait = std::chrono::seconds(5);
  const auto who = table_->bySource({P::kTcp, "127.0.0.1", tcp.local_port, "127.0.0.1", port}, now, wait);
  ASSERT_TRUE(who) << "no connect from 127.0.0.1:" << tcp.local_port;
  EXPECT_EQ(who->pid, tcp.pid);
  const auto who6 = table_->bySource({P::kUdp, "::1", udp.local_port, "::1", port6}, now, wait);
  ASSERT_TRUE(who6) << "no connect from [::1]:" << udp.local_port;
  EXPECT_EQ(who6->pid, udp.pid);
  // Another port, or the other protocol, is nobody.
  EXPECT_FALSE(table_->bySource({P::kTcp, "127.0.0.1", tcp.local_port + 1, "127.0.0.1", port}, now, wait));
  EXPECT_FALSE(table_->bySource({P::kUdp, "127.0.0.1", tcp.local_port, "127.0.0.1", port}, now, wait));
  close(listener);
  close(udp_server);
  source_->stop();
  keepAccounts();
  // Attempts and completions are attribution, never events: all filtered, all reconciled.
  const auto& c = account(RecordKind::kConnect);
  EXPECT_GE(c.received, 4u);
  EXPECT_EQ(c.received, c.filtered);
  EXPECT_EQ(c.dropped, 0u);
}

TEST_F(EbpfCaptureTest, ProgramsLoadedAheadAreBoundToTheSessionsCgroupOnlyWhenTheSourceIsMade) {
  // Verified before any cgroup is known (as the supervisor does beside its set-up)...
  CaptureOptions early = options_;
  early.cgroup_path.clear();
  auto loaded = LoadedPrograms::load(early);
  if (!loaded.ok()) GTEST_SKIP() << "eBPF capture unavailable: " << loaded.error().message();
  // ...then bound and attached: the session's processes are recorded, nobody else's.
  auto created = EbpfSource::create(options_, emitter_, ctx_, table_, loaded->get());
  ASSERT_TRUE(created.ok()) << created.error().toString();
  source_ = std::move(*created);
  ASSERT_TRUE(source_->start().ok());
  const auto w = dir_ / "work";
  const pid_t outside = spawnIn("", {"/bin/sh", "-c", "echo x > early-outside.txt"}, w.string());
  const pid_t inside = spawnIn(cgroup_->path(), {"/bin/sh", "-c", "echo x > early-inside.txt"}, w.string());
  waitChild(outside);
  waitChild(inside);
  ASSERT_TRUE(waitFor([&] { return fileEvent(emitter_.events(), 1, w.string() + "/early-inside.txt") != nullptr; }))
      << dump(emitter_.events());
  const auto events = stopAndCollect();
  EXPECT_EQ(fileEvent(events, 1, w.string() + "/early-outside.txt"), nullptr) << dump(events);
  // A preload of another shape (no file capture) is not taken: the source loads what it needs.
  CaptureOptions processes_only = early;
  processes_only.file_writes = false;
  auto other = LoadedPrograms::load(processes_only);
  ASSERT_TRUE(other.ok()) << other.error().toString();
  CollectingEmitter second_emitter;
  auto second = EbpfSource::create(options_, second_emitter, ctx_, std::make_shared<ProcessTable>(), other->get());
  ASSERT_TRUE(second.ok()) << second.error().toString();
  ASSERT_TRUE((*second)->start().ok());
  const pid_t again = spawnIn(cgroup_->path(), {"/bin/sh", "-c", "echo x > files-still.txt"}, w.string());
  waitChild(again);
  EXPECT_TRUE(waitFor([&] { return fileEvent(second_emitter.events(), 1, w.string() + "/files-still.txt") != nullptr; }))
      << dump(second_emitter.events());
  (*second)->stop();
}

TEST_F(EbpfCaptureTest, NeverRecordsProcessesOutsideTheSessionCgroup) {
  startCapture();
  const auto w = dir_ / "work";
  const pid_t outside = spawnIn("", {"/bin/sh", "-c", "echo x > outside.txt; /bin/true marker-outside"}, w.string());
  const pid_t inside = spawnIn(cgroup_->path(), {"/bin/sh", "-c", "echo x > inside.txt; /bin/true marker-inside"}, w.string());
  waitChild(outside);
  waitChild(inside);
  ASSERT_TRUE(waitFor([&] { return fileEvent(emitter_.events(), 1, w.string() + "/inside.txt") != nullptr; }));
  const auto events = stopAndCollect();
  for (const auto& e : events) {
    const std::string line = ocsf::toShorthand(e);
    EXPECT_EQ(line.find("outside"), std::string::npos) << line;
    if (e.process) {
      EXPECT_NE(e.process->pid, outside);
    }
    if (e.actor) {
      EXPECT_NE(e.actor->pid, outside);
    }
  }
}

TEST_F(EbpfCaptureTest, ATinyRingBufferReportsExactlyWhatItDropped) {
  options_.ring_bytes = 4096;
  // create() attaches; nothing reads until start(): a burst now overflows the 4 KiB ring for certain.
  auto created = EbpfSource::create(options_, emitter_, ctx_, table_);
  if (!created.ok()) GTEST_SKIP() << "eBPF capture unavailable: " << created.error().message();
  source_ = std::move(*created);
  const auto w = dir_ / "work";
  constexpr int kFiles = 5000;
  const pid_t pid = spawnIn(cgroup_->path(), {}, w.string(), std::nullopt, [] {
    for (int i = 0; i < kFiles; ++i) {
      const std::string name = "f" + std::to_string(i);
      const int fd = open(name.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
      if (fd < 0) return 1;
      close(fd);
    }
    return 0;
  });
  ASSERT_EQ(WEXITSTATUS(waitChild(pid)), 0);
  ASSERT_TRUE(source_->start().ok());
  // The loss is reported while running (within a second), not only at stop.
  ASSERT_TRUE(waitFor([&] {
    for (const auto& e : emitter_.events())
      if (e.kind == ocsf::Kind::kLog && e.unmapped.find("loss") != nullptr) return true;
    return false;
  }, std::chrono::seconds(2)));
  const auto events = stopAndCollect();
  keepAccounts();
  size_t creates = 0;
  uint64_t reported = 0;
  bool reconciled = false;
  for (const auto& e : events) {
    if (e.kind == ocsf::Kind::kFile && e.activity_id == 1 && e.file && e.file->path.rfind(w.string() + "/f", 0) == 0) ++creates;
    if (e.kind == ocsf::Kind::kLog) {
      const ocsf::Value* loss = e.unmapped.find("loss");
      if (loss != nullptr && loss->stringAt("kind") == "file") reported += static_cast<uint64_t>(loss->find("count")->asInt());
    }
    if (e.activity_name == "Capture Summary") reconciled = e.unmapped.find("reconciled")->asBool();
  }
  const KindAccount& file = account(RecordKind::kFile);
  EXPECT_GT(file.dropped, 0u) << "a 4 KiB ring kept up with " << kFiles << " creates: nothing to account";
  EXPECT_EQ(reported, file.dropped);                  // every drop reported as LOG:LOSS
  EXPECT_EQ(creates + file.dropped, size_t{kFiles});  // recorded + lost = what happened
  EXPECT_TRUE(reconciled);
  EXPECT_EQ(testing::schemaProblems(events), "");
}

TEST_F(EbpfCaptureTest, AForkStormNeitherCrashesTheReaderNorLosesEventsSilently) {
  options_.ring_bytes = 1u << 20;
  startCapture();
  constexpr int kForks = 5000;
  const pid_t pid = spawnIn(cgroup_->path(), {}, "/", std::nullopt, [] {
    for (int i = 0; i < kForks; ++i) {
      const pid_t c = fork();
      if (c == 0) _exit(0);
      if (c < 0) return 1;
      int st = 0;
      waitpid(c, &st, 0);
    }
    return 0;
  });
  ASSERT_EQ(WEXITSTATUS(waitChild(pid)), 0);
  const auto events = stopAndCollect();
  keepAccounts();
  const KindAccount& fork = account(RecordKind::kFork);
  const KindAccount& exit = account(RecordKind::kExit);
  EXPECT_EQ(fork.seen, fork.received + fork.dropped);
  EXPECT_GE(fork.seen, static_cast<uint64_t>(kForks));
  EXPECT_EQ(exit.seen, exit.received + exit.dropped);
  const size_t terminates = of(events, ocsf::Kind::kProc, 2).size();
  EXPECT_EQ(terminates, exit.recorded);
  EXPECT_GE(exit.recorded + exit.dropped, static_cast<uint64_t>(kForks));
  bool reconciled = false;
  for (const auto& e : events)
    if (e.activity_name == "Capture Summary") reconciled = e.unmapped.find("reconciled")->asBool();
  EXPECT_TRUE(reconciled);
}

}  // namespace
}  // namespace warden::capture
