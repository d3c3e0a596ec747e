#include "sandbox/cgroup.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>

#include "audit/emitter.h"
#include "capture/cgroup/limit_watcher.h"
#include "ocsf/jsonl_formatter.h"
#include "ocsf/schema.h"
#include "ocsf/shorthand.h"
#include "ocsf/validator.h"
#include "support/collecting_emitter.h"
#include "support/test_env.h"

#include <fmt/format.h>

namespace warden::sandbox {
namespace {

using warden::testing::readFile;
using warden::testing::TempDir;
using warden::testing::waitFor;
using warden::testing::writeFile;

std::string sessionId(const char* tag) {
  static std::atomic<int> n{0};
  return fmt::format("test-{}-{}-{}", tag, ::getpid(), n++);
}

// ----- Layout detection (fake /proc/self) -----

TEST(CgroupLayoutTest, DetectsV1ControllersAndV2MountAsOnThisKindOfHost) {
  TempDir proc;
  writeFile(proc / "mountinfo",
            "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
            "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
            "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
            "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
            "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
            "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n");
  writeFile(proc / "cgroup",
            "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/abc\n1:cpu,cpuacct:/\n0::/\n");
  const auto layout = CgroupLayout::detect(proc.path().string());
  ASSERT_TRUE(layout.ok()) << layout.error().toString();
  EXPECT_EQ(layout->v2_mount, "/sys/fs/cgroup/unified");
  EXPECT_EQ(layout->v1_mounts.at("memory"), "/sys/fs/cgroup/memory");
  EXPECT_EQ(layout->v1_mounts.at("cpu"), "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(layout->v1_mounts.at("cpuacct"), "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(layout->v1_mounts.count("name=systemd"), 0u);
  EXPECT_EQ(layout->ownDir("memory"), "/sys/fs/cgroup/memory/process_api/abc");
  EXPECT_EQ(layout->ownDir("pids"), "/sys/fs/cgroup/pids");
  EXPECT_EQ(layout->ownDir(""), "/sys/fs/cgroup/unified");
  EXPECT_EQ(layout->ownDir("freezer"), "");
}

TEST(CgroupLayoutTest, DetectsV2OnlyHostAndStripsTheMountRoot) {
  TempDir proc;
  // A container that sees a sub-tree of the host's hierarchy mounted at /sys/fs/cgroup.
  writeFile(proc / "mountinfo",
            "30 22 0:26 /kubepods/pod1 /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n");
  writeFile(proc / "cgroup", "0::/kubepods/pod1/ctr\n");
  const auto layout = CgroupLayout::detect(proc.path().string());
  ASSERT_TRUE(layout.ok());
  EXPECT_EQ(layout->v2_mount, "/sys/fs/cgroup");
  EXPECT_TRUE(layout->v1_mounts.empty());
  EXPECT_EQ(layout->own_paths.at(""), "/ctr");
  EXPECT_EQ(layout->ownDir(""), "/sys/fs/cgroup/ctr");
}

TEST(CgroupLayoutTest, UnescapesMountPointsAndFailsWithoutProcFiles) {
  TempDir proc;
  writeFile(proc / "mountinfo", "30 22 0:26 / /mnt/c\\040g rw - cgroup2 none rw\n");
  writeFile(proc / "cgroup", "0::/\n");
  const auto layout = CgroupLayout::detect(proc.path().string());
  ASSERT_TRUE(layout.ok());
  EXPECT_EQ(layout->ownDir(""), "/mnt/c g");
  TempDir empty;
  const auto missing = CgroupLayout::detect(empty.path().string());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), Code::kNotFound);
}

// ----- v2 code paths on a fake v2-only tree -----

class FakeV2Test : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(tmp_ / "sup");
    writeFile(tmp_ / "sup/cgroup.procs", "");
    writeFile(tmp_ / "sup/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
    writeFile(tmp_ / "sup/cgroup.subtree_control", "");
    layout_.v2_mount = tmp_.path().string();
    layout_.own_paths[""] = "/sup";
  }
  // cgroupfs makes these files on mkdir; a plain directory needs them made by hand.
  std::filesystem::path precreate(const std::string& id) {
    const auto dir = tmp_ / ("sup/warden-" + id);
    std::filesystem::create_directories(dir);
    for (const char* f : {"cgroup.procs", "memory.max", "memory.swap.max", "pids.max", "cpu.max", "cgroup.freeze",
                          "cgroup.kill"}) {
      writeFile(dir / f, "");
    }
    writeFile(dir / "cgroup.events", "populated 0\nfrozen 0\n");
    return dir;
  }
  TempDir tmp_;
  CgroupLayout layout_;
};

TEST_F(FakeV2Test, WritesV2LimitFilesAndEnablesControllersInTheParent) {
  const auto dir = precreate("fake1");
  CgroupLimits limits;
  limits.memory_bytes = 64ull << 20;
  limits.pids = 20;
  limits.cpus = 1.5;
  auto cg = SessionCgroup::create("fake1", limits, layout_);
  ASSERT_TRUE(cg.ok()) << cg.error().toString();
  EXPECT_EQ(readFile(dir / "memory.max"), "67108864");
  EXPECT_EQ(readFile(dir / "memory.swap.max"), "0");
  EXPECT_EQ(readFile(dir / "pids.max"), "20");
  EXPECT_EQ(readFile(dir / "cpu.max"), "150000 100000");
  EXPECT_EQ(readFile(tmp_ / "sup/cgroup.subtree_control"), "+cpu +memory +pids");
  EXPECT_EQ((*cg)->describe(), "memory:v2 pids:v2 cpu:v2 freeze:v2");
  EXPECT_TRUE((*cg)->missing().empty());
  EXPECT_TRUE((*cg)->memoryIsV2());
  EXPECT_TRUE((*cg)->pidsIsV2());
  EXPECT_EQ((*cg)->memoryDir(), dir.string());
  EXPECT_EQ((*cg)->pidsDir(), dir.string());
  EXPECT_EQ((*cg)->directories(), std::vector<std::string>{dir.string()});
}

TEST_F(FakeV2Test, AlreadyEnabledControllersAreNotWrittenAgain) {
  writeFile(tmp_ / "sup/cgroup.subtree_control", "cpu memory pids\n");
  precreate("fake2");
  auto cg = SessionCgroup::create("fake2", CgroupLimits{}, layout_);
  ASSERT_TRUE(cg.ok()) << cg.error().toString();
  EXPECT_EQ(readFile(tmp_ / "sup/cgroup.subtree_control"), "cpu memory pids\n");
}

TEST_F(FakeV2Test, ControllerThatExistsNowhereIsReportedNotFatal) {
  writeFile(tmp_ / "sup/cgroup.controllers", "memory\n");
  const auto dir = precreate("fake3");
  CgroupLimits limits;
  limits.memory_bytes = 1 << 20;
  limits.pids = 10;
  limits.cpus = 0.5;
  auto cg = SessionCgroup::create("fake3", limits, layout_);
  ASSERT_TRUE(cg.ok()) << cg.error().toString();
  EXPECT_EQ((*cg)->missing(), (std::vector<std::string>{"pids: no controller", "cpu: no controller"}));
  EXPECT_EQ((*cg)->describe(), "memory:v2 pids:none cpu:none freeze:v2; pids: no controller; cpu: no controller");
  EXPECT_EQ(readFile(dir / "pids.max"), "");
  EXPECT_EQ((*cg)->pidsDir(), "");
}

TEST_F(FakeV2Test, RejectsBadIdsAndLimits) {
  for (const char* id : {"", "../etc", "a/b", ".."}) {
    auto cg = SessionCgroup::create(id, CgroupLimits{}, layout_);
    ASSERT_FALSE(cg.ok()) << id;
    EXPECT_EQ(cg.error().code(), Code::kInvalidArgument);
  }
  CgroupLimits zero_cpu;
  zero_cpu.cpus = 0;
  auto cg = SessionCgroup::create("x", zero_cpu, layout_);
  ASSERT_FALSE(cg.ok());
  EXPECT_NE(cg.error().message().find("cpu limit"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(tmp_ / "sup/warden-x"));
}

TEST_F(FakeV2Test, NoHierarchyAtAllIsAnError) {
  CgroupLayout none;
  auto cg = SessionCgroup::create("x", CgroupLimits{}, none);
  ASSERT_FALSE(cg.ok());
  EXPECT_EQ(cg.error().code(), Code::kFailedPrecondition);
}

TEST_F(FakeV2Test, CleanupRemovesEmptySessionDirsAndKeepsOthers) {
  std::filesystem::create_directories(tmp_ / "sup/warden-gone");
  std::filesystem::create_directories(tmp_ / "sup/warden.supervisor");
  std::filesystem::create_directories(tmp_ / "sup/other");
  TempDir sockets;
  const auto removed = cleanupStaleCgroups(layout_, sockets.path());
  EXPECT_EQ(removed, std::vector<std::string>{(tmp_ / "sup/warden-gone").string()});
  EXPECT_FALSE(std::filesystem::exists(tmp_ / "sup/warden-gone"));
  EXPECT_TRUE(std::filesystem::exists(tmp_ / "sup/warden.supervisor"));
  EXPECT_TRUE(std::filesystem::exists(tmp_ / "sup/other"));
}

// ----- This machine's real hierarchies (root) -----

// A child that waits on a pipe until it is in the cgroup, then execs `sh -c script`.
class GatedChild {
 public:
  explicit GatedChild(const std::string& script) {
    int p[2];
    if (::pipe(p) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(p[1]);
      char c;
      if (::read(p[0], &c, 1) != 1) ::_exit(120);
      ::execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(p[0]);
    gate_ = p[1];
  }
  ~GatedChild() {
    if (gate_ >= 0) ::close(gate_);
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  void go() {
    (void)!::write(gate_, "g", 1);
    ::close(gate_);
    gate_ = -1;
  }
  // The wait status once the child has exited (within `timeout`), else -1.
  int waitExit(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    int status = -1;
    const bool done = waitFor(
        [&] {
          const pid_t r = ::waitpid(pid_, &status, WNOHANG);
          return r == pid_;
        },
        timeout);
    if (!done) return -1;
    reaped_ = true;
    return status;
  }

 private:
  pid_t pid_ = -1;
  int gate_ = -1;
  bool reaped_ = false;
};

using warden::testing::CollectingEmitter;

class RealCgroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "creating cgroups needs root";
    auto layout = CgroupLayout::detect();
    if (!layout.ok()) GTEST_SKIP() << "no cgroup layout: " << layout.error().toString();
    layout_ = *layout;
    if (layout_.ownDir("").empty() && layout_.ownDir("memory").empty()) GTEST_SKIP() << "no writable cgroup hierarchy";
  }
  void expectValidEvent(const ocsf::Event& event) {
    auto schema = ocsf::Schema::load(warden::testing::schemaPath());
    ASSERT_TRUE(schema.ok()) << schema.error().toString();
    const ocsf::Validator validator(*schema);
    ocsf::Event e = event;
    e.metadata.sequence = 7;
    e.integrity_prev = std::string(64, 'a');
    const auto problems = validator.validateLine(ocsf::toJsonl(e));
    std::string report;
    for (const auto& p : problems) report += "\n  " + p.path + ": " + p.message;
    EXPECT_TRUE(problems.empty()) << ocsf::toShorthand(e) << report;
  }
  static std::string readTrim(const std::string& path) {
    std::string s = readFile(path);
    while (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
  }

  CgroupLayout layout_;
};

TEST_F(RealCgroupTest, CreateLimitFreezeThawSignalKillRemove) {
  CgroupLimits limits;
  limits.memory_bytes = 256ull << 20;
  limits.pids = 64;
  limits.cpus = 1;
  auto made = SessionCgroup::create(sessionId("life"), limits, layout_);
  ASSERT_TRUE(made.ok()) << made.error().toString();
  SessionCgroup& cg = **made;
  SCOPED_TRACE(cg.describe());
  if (!layout_.v2_mount.empty()) {
    EXPECT_NE(cg.describe().find("freeze:v2"), std::string::npos);
  }
  // The limit files hold the values.
  ASSERT_FALSE(cg.memoryDir().empty());
  EXPECT_EQ(readTrim(cg.memoryDir() + (cg.memoryIsV2() ? "/memory.max" : "/memory.limit_in_bytes")), "268435456");
  ASSERT_FALSE(cg.pidsDir().empty());
  EXPECT_EQ(readTrim(cg.pidsDir() + "/pids.max"), "64");
  bool cpu_checked = false;
  for (const auto& dir : cg.directories()) {
    if (std::filesystem::exists(dir + "/cpu.cfs_quota_us")) {
      EXPECT_EQ(readTrim(dir + "/cpu.cfs_quota_us"), "100000");
      cpu_checked = true;
    } else if (std::filesystem::exists(dir + "/cpu.max")) {
      EXPECT_EQ(readTrim(dir + "/cpu.max"), "100000 100000");
      cpu_checked = true;
    }
  }
  EXPECT_TRUE(cpu_checked || !cg.missing().empty());

  GatedChild sleeper("exec sleep 30");
  ASSERT_GT(sleeper.pid(), 0);
  ASSERT_TRUE(cg.addProcess(sleeper.pid()).ok());
  sleeper.go();
  EXPECT_EQ(cg.processes(), std::vector<pid_t>{sleeper.pid()});
  for (const auto& dir : cg.directories()) {
    EXPECT_NE(readFile(dir + "/cgroup.procs").find(std::to_string(sleeper.pid())), std::string::npos) << dir;
  }

  ASSERT_TRUE(cg.freeze().ok());
  EXPECT_TRUE(cg.frozenNow());
  if (!layout_.ownDir("").empty()) {
    EXPECT_NE(readFile(cg.directories().front() + "/cgroup.events").find("frozen 1"), std::string::npos);
  }
  ASSERT_TRUE(cg.thaw().ok());
  ASSERT_TRUE(waitFor([&] { return !cg.frozenNow(); }));

  ASSERT_TRUE(cg.signalAll(SIGTERM).ok());
  const int status = sleeper.waitExit();
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGTERM);

  GatedChild second("exec sleep 30");
  ASSERT_TRUE(cg.addProcess(second.pid()).ok());
  second.go();
  ASSERT_TRUE(cg.killAll(std::chrono::seconds(5)).ok());
  const int status2 = second.waitExit();
  ASSERT_TRUE(WIFSIGNALED(status2));
  EXPECT_EQ(WTERMSIG(status2), SIGKILL);
  EXPECT_TRUE(cg.processes().empty());

  const auto dirs = cg.directories();
  ASSERT_TRUE(cg.remove().ok());
  for (const auto& dir : dirs) EXPECT_FALSE(std::filesystem::exists(dir)) << dir;
  EXPECT_TRUE(cg.remove().ok());  // idempotent
}

TEST_F(RealCgroupTest, KillAllStopsAFrozenForkingSessionAndDestructorRemovesDirs) {
  std::vector<std::string> dirs;
  {
    CgroupLimits limits;
    limits.pids = 50;
    auto made = SessionCgroup::create(sessionId("kill"), limits, layout_);
    ASSERT_TRUE(made.ok()) << made.error().toString();
    dirs = (*made)->directories();
    GatedChild forker("while true; do sleep 30 & done");
    ASSERT_TRUE((*made)->addProcess(forker.pid()).ok());
    forker.go();
    ASSERT_TRUE(waitFor([&] { return (*made)->processes().size() > 5; }));
    ASSERT_TRUE((*made)->killAll(std::chrono::seconds(5)).ok());
    EXPECT_TRUE((*made)->processes().empty());
    EXPECT_GE(forker.waitExit(), 0);
  }  // destructor removes
  for (const auto& dir : dirs) EXPECT_FALSE(std::filesystem::exists(dir)) << dir;
}

TEST_F(RealCgroupTest, ForkBombHitsPidsMaxAndIsRecordedAsLimitPids) {
  CgroupLimits limits;
  limits.pids = 20;
  auto made = SessionCgroup::create(sessionId("pids"), limits, layout_);
  ASSERT_TRUE(made.ok()) << made.error().toString();
  SessionCgroup& cg = **made;
  if (cg.pidsDir().empty()) GTEST_SKIP() << "no pids controller: " << cg.describe();
  CollectingEmitter emitter;
  ocsf::SessionContext ctx;
  ctx.hostname = "host";
  ctx.session_id = "0193a5b0-0000-7000-8000-000000000001";
  ctx.session_name = "agent-7";
  std::atomic<int> hits{0};
  auto watcher = capture::LimitWatcher::create(
      {.pids_dir = cg.pidsDir(), .pids_v2 = cg.pidsIsV2(), .pids_limit = 20}, emitter, ctx,
      [&](const ocsf::LimitHit& hit) {
        if (hit.type == "pids") ++hits;
      });
  ASSERT_TRUE(watcher.ok()) << watcher.error().toString();
  ASSERT_TRUE((*watcher)->start().ok());

  GatedChild bomb("i=0; while [ $i -lt 100 ]; do sleep 30 & i=$((i+1)); done 2>/dev/null; wait");
  ASSERT_TRUE(cg.addProcess(bomb.pid()).ok());
  bomb.go();
  ASSERT_TRUE(waitFor([&] { return hits.load() > 0; })) << "stats max hits " << cg.stats().pids_max_hits;
  EXPECT_GT(cg.stats().pids_max_hits, 0u);
  EXPECT_LE(cg.stats().pids_current, 20u);
  ASSERT_TRUE(cg.killAll(std::chrono::seconds(5)).ok());
  (*watcher)->stop();

  const auto events = emitter.events();
  ASSERT_FALSE(events.empty());
  const ocsf::Event& e = events.front();
  const std::string line = ocsf::toShorthand(e);
  EXPECT_EQ(line.rfind("LIMIT:PIDS [LOW] - [limit:20 measured:", 0), 0u) << line;
  EXPECT_NE(line.find(" action:deny]"), std::string::npos) << line;
  EXPECT_NE(e.message.find("refused"), std::string::npos) << e.message;
  const auto* measured = e.unmapped.findPath({"limit", "measured"});
  ASSERT_NE(measured, nullptr);
  EXPECT_GE(measured->asInt(), 1);
  EXPECT_LE(measured->asInt(), 20);
  expectValidEvent(e);
}

TEST_F(RealCgroupTest, MemoryHogIsOomKilledAndRecordedAsLimitOom) {
  if (!std::filesystem::exists("/usr/bin/python3")) GTEST_SKIP() << "needs python3";
  CgroupLimits limits;
  limits.memory_bytes = 64ull << 20;
  auto made = SessionCgroup::create(sessionId("oom"), limits, layout_);
  ASSERT_TRUE(made.ok()) << made.error().toString();
  SessionCgroup& cg = **made;
  if (cg.memoryDir().empty()) GTEST_SKIP() << "no memory controller: " << cg.describe();
  CollectingEmitter emitter;
  ocsf::SessionContext ctx;
  ctx.hostname = "host";
  ctx.session_id = "0193a5b0-0000-7000-8000-000000000002";
  std::atomic<int> hits{0};
  auto watcher = capture::LimitWatcher::create(
      {.memory_dir = cg.memoryDir(), .memory_v2 = cg.memoryIsV2(), .memory_limit = 64ull << 20}, emitter, ctx,
      [&](const ocsf::LimitHit& hit) {
        if (hit.type == "oom") ++hits;
      });
  ASSERT_TRUE(watcher.ok()) << watcher.error().toString();
  ASSERT_TRUE((*watcher)->start().ok());

  GatedChild hog("exec python3 -c 'b=[]\nwhile True: b.append(bytearray(1<<20))'");
  ASSERT_TRUE(cg.addProcess(hog.pid()).ok());
  hog.go();
  const int status = hog.waitExit(std::chrono::seconds(30));
  ASSERT_TRUE(WIFSIGNALED(status)) << "status " << status;
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  ASSERT_TRUE(waitFor([&] { return hits.load() > 0; }));
  (*watcher)->stop();
  EXPECT_GE(cg.stats().oom_kills, 1u);

  const auto events = emitter.events();
  ASSERT_FALSE(events.empty());
  const ocsf::Event& e = events.front();
  const std::string line = ocsf::toShorthand(e);
  EXPECT_EQ(line.rfind("LIMIT:OOM [CRIT] - [limit:67108864 measured:", 0), 0u) << line;
  EXPECT_NE(line.find(" action:kill]"), std::string::npos) << line;
  const auto* measured = e.unmapped.findPath({"limit", "measured"});
  ASSERT_NE(measured, nullptr);
  EXPECT_GE(measured->asInt(), 32ll << 20);  // it did grow to the limit
  EXPECT_LE(measured->asInt(), 68ll << 20);
  expectValidEvent(e);
}

TEST_F(RealCgroupTest, ABusyLoopOverItsCpuQuotaIsRecordedAsThrottled) {
  CgroupLimits limits;
  limits.cpus = 0.1;
  auto made = SessionCgroup::create(sessionId("cpu"), limits, layout_);
  ASSERT_TRUE(made.ok()) << made.error().toString();
  SessionCgroup& cg = **made;
  if (cg.cpuDir().empty()) GTEST_SKIP() << "no cpu controller: " << cg.describe();
  CollectingEmitter emitter;
  ocsf::SessionContext ctx;
  ctx.hostname = "host";
  ctx.session_id = "0193a5b0-0000-7000-8000-000000000003";
  std::atomic<int> hits{0};
  auto watcher = capture::LimitWatcher::create({.cpu_dir = cg.cpuDir(),
                                                .cpu_v2 = cg.cpuIsV2(),
                                                .cpu_limit_millicores = 100,
                                                .cpu_event_interval = std::chrono::milliseconds(200)},
                                               emitter, ctx, [&](const ocsf::LimitHit& hit) {
                                                 if (hit.type == "cpu") ++hits;
                                               });
  ASSERT_TRUE(watcher.ok()) << watcher.error().toString();
  ASSERT_TRUE((*watcher)->start().ok());

  GatedChild spin("while :; do :; done");
  ASSERT_TRUE(cg.addProcess(spin.pid()).ok());
  spin.go();
  ASSERT_TRUE(waitFor([&] { return hits.load() > 0; }));
  ASSERT_TRUE(cg.killAll(std::chrono::seconds(5)).ok());
  (*watcher)->stop();

  const auto events = emitter.events();
  ASSERT_FALSE(events.empty());
  const ocsf::Event& e = events.front();
  const std::string line = ocsf::toShorthand(e);
  EXPECT_EQ(line.rfind("LIMIT:CPU [LOW] - [limit:100 measured:", 0), 0u) << line;
  EXPECT_NE(line.find(" action:throttle]"), std::string::npos) << line;
  EXPECT_NE(e.message.find("throttled in"), std::string::npos) << e.message;
  expectValidEvent(e);
}

// A scratch cgroup under ours in every hierarchy, and a layout that puts this process's "own" cgroup
// there: clean-up then sees only what this test made, never another test's session being set up.
class ScratchLayout {
 public:
  explicit ScratchLayout(const CgroupLayout& real) : layout_(real) {
    const std::string name = "wtest-" + std::to_string(::getpid());
    for (auto& [controller, path] : layout_.own_paths) {
      const std::string dir = real.ownDir(controller);
      if (dir.empty()) continue;
      const std::string scratch = dir + "/" + name;
      if (std::find(made_.begin(), made_.end(), scratch) == made_.end()) {
        if (::mkdir(scratch.c_str(), 0755) == 0) made_.push_back(scratch);
      }
      path = (path == "/" ? "" : path) + "/" + name;
    }
  }
  ~ScratchLayout() {
    for (auto it = made_.rbegin(); it != made_.rend(); ++it) ::rmdir(it->c_str());
  }
  const CgroupLayout& layout() const { return layout_; }

 private:
  CgroupLayout layout_;
  std::vector<std::string> made_;
};

TEST_F(RealCgroupTest, CleanupRemovesEmptyStaleSessionAndKeepsALiveOne) {
  const ScratchLayout scratch(layout_);
  const CgroupLayout& layout = scratch.layout();
  const std::string parent = !layout.ownDir("").empty() ? layout.ownDir("") : layout.ownDir("memory");
  ASSERT_TRUE(std::filesystem::exists(parent)) << parent;
  const std::string stale = parent + "/warden-" + sessionId("stale");
  ASSERT_EQ(::mkdir(stale.c_str(), 0755), 0) << stale;
  {
    auto live = SessionCgroup::create(sessionId("live"), CgroupLimits{}, layout);
    ASSERT_TRUE(live.ok()) << live.error().toString();
    GatedChild sleeper("exec sleep 30");
    ASSERT_TRUE((*live)->addProcess(sleeper.pid()).ok());
    sleeper.go();

    TempDir sockets;
    const auto removed = cleanupStaleCgroups(layout, sockets.path());
    if (std::filesystem::exists(stale)) ::rmdir(stale.c_str());
    EXPECT_NE(std::find(removed.begin(), removed.end(), stale), removed.end());
    for (const auto& dir : (*live)->directories()) {
      EXPECT_TRUE(std::filesystem::exists(dir)) << dir;
      EXPECT_EQ(std::find(removed.begin(), removed.end(), dir), removed.end());
    }
  }  // the live session is killed and removed before the scratch cgroups go
}

}  // namespace
}  // namespace warden::sandbox
