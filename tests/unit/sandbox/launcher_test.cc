#include "sandbox/launcher.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <thread>
#include <atomic>

#include <gtest/gtest.h>

#include "sandbox/workspace.h"
#include "support/sandbox_fixtures.h"
#include "support/test_env.h"

namespace warden::sandbox {
namespace {

using warden::testing::TempDir;
using warden::testing::Workspace;
using warden::testing::writeFile;

constexpr idtype_t kPidfd = static_cast<idtype_t>(3);  // P_PIDFD

struct Outcome {
  Result<void> release = okResult();
  int exit_code = -1;  // -1: killed by a signal
  int signal = 0;
  std::string output;  // stdout and stderr
};

// Runs the spec with stdout+stderr captured; waits (bounded) for the agent to exit and reaps it.
Outcome run(LaunchSpec spec) {
  Outcome out;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2";
    return out;
  }
  spec.stdio = {-1, fds[1], fds[1]};
  auto child = SandboxChild::spawn(spec);
  ::close(fds[1]);
  if (!child.ok()) {
    ::close(fds[0]);
    out.release = child.error();
    return out;
  }
  out.release = (*child)->release();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  char buf[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    struct pollfd pfd {fds[0], POLLIN, 0};
    if (left.count() <= 0 || ::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) {
      ADD_FAILURE() << "the agent's output did not end in time";
      ::syscall(SYS_pidfd_send_signal, (*child)->pidfd(), SIGKILL, nullptr, 0);
      break;
    }
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    out.output.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  struct pollfd pfd {(*child)->pidfd(), POLLIN, 0};
  if (::poll(&pfd, 1, 20000) <= 0) {
    ADD_FAILURE() << "the agent did not exit in time";
    ::syscall(SYS_pidfd_send_signal, (*child)->pidfd(), SIGKILL, nullptr, 0);
  }
  siginfo_t info{};
  if (::waitid(kPidfd, static_cast<id_t>((*child)->pidfd()), &info, WEXITED) == 0) {
    if (info.si_code == CLD_EXITED) {
      out.exit_code = info.si_status;
    } else {
      out.signal = info.si_status;
    }
  }
  return out;
}

class LauncherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "the launcher needs root (namespaces, mounts, setresuid)";
    auto user = resolveAgentUser(std::nullopt);
    ASSERT_TRUE(user.ok()) << user.error().toString();
    user_ = *user;
    auto seccomp = buildSeccompProgram();
    ASSERT_TRUE(seccomp.ok()) << seccomp.error().toString();
    seccomp_ = *seccomp;
  }

  // The agent's view of a directory tree under /tmp: owned by the agent, so that only Landlock (not
  // file permissions) decides what it may do there.
  void giveToAgent(const std::filesystem::path& path) {
    ASSERT_EQ(::chown(path.c_str(), user_.uid, user_.gid), 0) << path;
    ASSERT_EQ(::chmod(path.c_str(), 0755), 0) << path;
  }

  // The system directories read-only plus `read_only`, `read_write` read-write: in the view and in
  // Landlock alike. `layout` may be changed by the test before the spec is built (hidden, extra).
  LaunchSpec spec(std::vector<std::string> argv, std::vector<std::string> read_write = {},
                  std::vector<std::string> read_only = {}, RootLayoutInput layout = {}) {
    policy::FilesystemAccess fs;
    fs.read_only = {"/usr", "/bin", "/lib", "/lib64", "/etc"};
    fs.read_only.insert(fs.read_only.end(), read_only.begin(), read_only.end());
    fs.read_write = std::move(read_write);
    auto plan = planLandlock(fs, {"/sys"});
    EXPECT_TRUE(plan.ok());
    layout.read_only = fs.read_only;
    layout.read_write = fs.read_write;
    LaunchSpec s;
    s.argv = std::move(argv);
    s.env = {"PATH=/usr/bin:/bin", "LANG=C"};
    s.cwd = "/";
    s.hostname = "warden-test";
    s.user = user_;
    s.root_dir = root_.path().string();
    s.mounts = planRootLayout(layout);
    s.landlock = plan.ok() ? *plan : LandlockPlan{};
    s.seccomp = seccomp_;
    return s;
  }

  static std::vector<std::string> sh(const std::string& script) { return {"/bin/sh", "-c", script}; }

  AgentUser user_;
  SeccompProgram seccomp_;
  TempDir root_;  // where each child mounts its new root (in its own mount namespace)
};

// "Name:\tvalue" from /proc/<pid>/status text.
std::string statusField(const std::string& status, const std::string& name) {
  std::istringstream in(status);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + ":", 0) == 0) {
      std::string value = line.substr(name.size() + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      return value;
    }
  }
  return "<absent>";
}

TEST_F(LauncherTest, InitIsPidOneAndTheAgentIsItsChild) {
  const auto out = run(spec(sh("echo $$; cat /proc/1/comm; echo ppid=$PPID")));
  ASSERT_TRUE(out.release.ok()) << out.release.error().toString();
  EXPECT_EQ(out.output, "2\nwarden-init\nppid=1\n");
  EXPECT_EQ(out.exit_code, 0);
}

TEST_F(LauncherTest, AgentSeesOnlyItsOwnProcesses) {
  const auto out = run(spec(sh("ls /proc")));
  ASSERT_TRUE(out.release.ok()) << out.release.error().toString();
  std::istringstream in(out.output);
  std::string entry;
  std::vector<long> pids;
  while (in >> entry) {
    if (entry.find_first_not_of("0123456789") == std::string::npos) pids.push_back(std::stol(entry));
  }
  EXPECT_FALSE(pids.empty()) << out.output;
  EXPECT_LE(pids.size(), 4u) << out.output;  // init, sh, ls
  for (long pid : pids) EXPECT_LT(pid, 10) << out.output;
  EXPECT_EQ(out.exit_code, 0);
}

TEST_F(LauncherTest, AgentRunsUnprivilegedWithNoNewPrivsAndSeccomp) {
  const auto out = run(spec({"/bin/cat", "/proc/self/status"}));
  ASSERT_TRUE(out.release.ok()) << out.release.error().toString();
  const std::string uid = std::to_string(user_.uid), gid = std::to_string(user_.gid);
  EXPECT_EQ(statusField(out.output, "Uid"), uid + "\t" + uid + "\t" + uid + "\t" + uid) << out.output;
  EXPECT_EQ(statusField(out.output, "Gid"), gid + "\t" + gid + "\t" + gid + "\t" + gid);
  EXPECT_EQ(statusField(out.output, "Groups"), "");
  for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
    EXPECT_EQ(statusField(out.output, set), "0000000000000000") << set;
  }
  EXPECT_EQ(statusField(out.output, "NoNewPrivs"), "1");
  EXPECT_EQ(statusField(out.output, "Seccomp"), "2");
  EXPECT_EQ(out.exit_code, 0);
}

TEST_F(LauncherTest, LandlockAllowsReadWritePathsAndDeniesTheRest) {
  // `outside` is not under /tmp: the private /tmp is read-write for Landlock, and what is mounted
  // beneath it is covered by that rule (read-only binds there are read-only by their mount flags).
  TempDir rw, ro;
  Workspace outside;
  for (const auto* d : {&rw, &ro}) giveToAgent(d->path());
  writeFile(outside / "secret", "host secret\n");
  ASSERT_EQ(::chmod((outside / "secret").c_str(), 0644), 0);
  // `outside` is in the view (bound) but not in Landlock's rules: Landlock alone refuses it.
  RootLayoutInput layout;
  layout.extra_read_only = {{outside.path().string(), outside.path().string()}};
  auto s = spec(sh("echo written > " + (rw / "f").string() + " && cat " + (rw / "f").string() +
                   "; (echo x > " + (ro / "f").string() + ") 2>/dev/null; echo ro=$?; cat " +
                   (outside / "secret").string() + " 2>/dev/null; echo outside=$?"),
                {rw.path().string()}, {ro.path().string()}, layout);
  const auto out = run(s);
  ASSERT_TRUE(out.release.ok()) << out.release.error().toString();
  EXPECT_EQ(out.output, "written\nro=2\noutside=1\n");
  EXPECT_FALSE(std::filesystem::exists(ro / "f"));
  EXPECT_EQ(warden::testing::readFile(rw / "f"), "written\n");  // the host's directory itself
}

TEST_F(LauncherTest, WithoutLandlockOnlyFilePermissionsDecide) {
  TempDir outside;
  giveToAgent(outside.path());
  writeFile(outside / "secret", "readable without Landlock\n");
  ASSERT_EQ(::chmod((outside / "secret").c_str(), 0644), 0);
  RootLayoutInput layout;
  layout.extra_read_only = {{outside.path().string(), outside.path().string()}};
  auto s = spec({"/bin/cat", (outside / "secret").string()}, {}, {}, layout);
  s.landlock.kernel_abi = 0;  // what a kernel without Landlock gets: the plan is not applied
  const auto out = run(s);
  ASSERT_TRUE(out.release.ok()) << out.release.error().toString();
  EXPECT_EQ(out.output, "readable without Landlock\n");  // so the denial above is Landlock's
}

TEST_F(LauncherTest, WhatThePolicyDoesNotNameIsNotInTheViewAtAll) {
  TempDir elsewhere;
  giveToAgent(elsewhere.path());
  writeFile(elsewhere / "file", "host file\n");
  const auto out = run(spec(sh("ls " + elsewhere.path().string() + " 2>/dev/null; echo ls=$?; ls -A /; "
                               "touch /new 2>/dev/null; echo touch=$?")));
  ASSERT_TRUE(out.release.ok()) << out.release.error().toString();
  EXPECT_NE(out.output.find("ls=2"), std::string::npos) << out.output;  // No such file or directory
  EXPECT_EQ(out.output.find("host file"), std::string::npos) << out.output;
  EXPECT_EQ(out.output.find("touch=0"), std::string::npos) << out.output;  // the skeleton is read-only
  for (const char* absent : {"root\n", "home\n", "var\n", "srv\n", "boot\n"}) {
    EXPECT_EQ(out.output.find(absent), std::string::npos) << absent << " in: " << out.output;
  }
}

TEST_F(LauncherTest, AHostUnixSocketIsNotReachableUnlessThePolicyNamesIt) {
  TempDir dir;
  giveToAgent(dir.path());
  const std::string path = (dir / "host.sock").string();
  const int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::chmod(path.c_str(), 0777), 0);
  ASSERT_EQ(::listen(listener, 4), 0);
  const std::string connect =
      "/usr/bin/python3 -c \"import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); "
      "s.send(b'x'); print('connected')\" " + path + " 2>/dev/null; echo rc=$?";
  const auto hidden = run(spec(sh(connect)));
  ASSERT_TRUE(hidden.release.ok()) << hidden.release.error().toString();
  EXPECT_EQ(hidden.output.find("connected"), std::string::npos) << hidden.output;
  // Named by the policy (read-write: connect needs write permission on the socket): reachable.
  const auto named = run(spec(sh(connect), {path}));
  ASSERT_TRUE(named.release.ok()) << named.release.error().toString();
  EXPECT_NE(named.output.find("connected"), std::string::npos) << named.output;
  ::close(listener);
}

TEST_F(LauncherTest, DevHoldsOnlyTheHarmlessDevicesAndItsOwnPtys) {
  const auto out = run(spec(sh("ls -A /dev | tr '\\n' ' '; echo; echo hi > /dev/null && echo null=ok; "
                               "head -c 4 /dev/urandom | wc -c; ls /run | wc -l")));
  ASSERT_TRUE(out.release.ok()) << out.release.error().toString();
  EXPECT_NE(out.output.find("fd full null ptmx pts random shm stderr stdin stdout tty urandom zero"),
            std::string::npos)
      << out.output;
  EXPECT_NE(out.output.find("null=ok"), std::string::npos) << out.output;
  EXPECT_NE(out.output.find("\n4\n0\n"), std::string::npos) << out.output;  // /run is private and empty
}

TEST_F(LauncherTest, HiddenPathsAreEmptyAndUnreadable) {
  TempDir hidden;
  giveToAgent(hidden.path());
  writeFile(hidden / "warden.log", "the audit record\n");
  ASSERT_EQ(::chmod((hidden / "warden.log").c_str(), 0644), 0);
  TempDir files;
  giveToAgent(files.path());
  writeFile(files / "token", "hidden file\n");
  ASSERT_EQ(::chmod((files / "token").c_str(), 0644), 0);
  RootLayoutInput layout;
  layout.hidden = {hidden.path().string(), (files / "token").string(), "/no/such/hidden/path"};
  auto s = spec(sh("ls -A " + hidden.path().string() + "; echo ls=$?; cat " + (hidden / "warden.log").string() +
                   "; echo cat=$?; cat " + (files / "token").string() + "; echo file=$?; touch " +
                   (hidden / "new").string() + "; echo touch=$?"),
                {}, {hidden.path().string(), files.path().string()}, layout);
  const auto out = run(s);
  ASSERT_TRUE(out.release.ok()) << out.release.error().toString();
  EXPECT_EQ(out.output.find("the audit record"), std::string::npos) << out.output;
  EXPECT_EQ(out.output.find("hidden file"), std::string::npos) << out.output;
  EXPECT_NE(out.output.find("ls=2"), std::string::npos) << out.output;
  EXPECT_NE(out.output.find("cat=1"), std::string::npos) << out.output;
  EXPECT_NE(out.output.find("file=0"), std::string::npos) << out.output;  // /dev/null: empty
  EXPECT_EQ(out.output.find("touch=0"), std::string::npos) << out.output;
  // The host's view is untouched.
  EXPECT_EQ(warden::testing::readFile(hidden / "warden.log"), "the audit record\n");
}

TEST_F(LauncherTest, ReadOnlyBindsReplaceAFileInTheAgentsViewOnly) {
  TempDir files;
  giveToAgent(files.path());
  writeFile(files / "resolv.conf", "nameserver 10.200.9.1\n");
  ASSERT_EQ(::chmod((files / "resolv.conf").c_str(), 0644), 0);
  writeFile(files / "target", "the host's copy\n");
  ASSERT_EQ(::chmod((files / "target").c_str(), 0666), 0);
  RootLayoutInput layout;
  layout.extra_read_only = {{(files / "resolv.conf").string(), (files / "target").string()}};
  auto s = spec(sh("cat " + (files / "target").string() + "; echo changed >> " + (files / "target").string() +
                   "; echo append=$?"),
                {files.path().string()}, {}, layout);
  const auto out = run(s);
  ASSERT_TRUE(out.release.ok()) << out.release.error().toString();
  EXPECT_NE(out.output.find("nameserver 10.200.9.1"), std::string::npos) << out.output;
  EXPECT_EQ(out.output.find("append=0"), std::string::npos) << out.output;
  EXPECT_EQ(warden::testing::readFile(files / "target"), "the host's copy\n");
}

TEST_F(LauncherTest, ABindOfAMissingSourceNamesTheStage) {
  RootLayoutInput layout;
  layout.extra_read_only = {{"/no/such/source", "/etc/x"}};
  const auto out = run(spec(sh("true"), {}, {}, layout));
  ASSERT_FALSE(out.release.ok());
  EXPECT_NE(out.release.error().message().find("mounting /no/such/source at /etc/x"), std::string::npos)
      << out.release.error().toString();
}

TEST_F(LauncherTest, AWorkspaceOfAnotherOwnerIsIdmappedToTheAgent) {
  TempDir dir;
  const auto workspace = dir / "project";
  std::filesystem::create_directory(workspace);
  ASSERT_EQ(::chown(workspace.c_str(), 1234, 1234), 0);
  ASSERT_EQ(::chmod(workspace.c_str(), 0755), 0);
  auto userns = makeIdmapUserNamespace(1234, 1234, user_.uid, user_.gid);
  if (!userns.ok()) GTEST_SKIP() << "no user namespaces for idmapping here: " << userns.error().toString();
  RootLayoutInput layout;
  layout.workspace = workspace.string();
  auto s = spec(sh("cd " + workspace.string() + " && echo hello > made && stat -c %u made"), {workspace.string()},
                {}, layout);
  s.workspace_userns = userns->get();
  const auto out = run(s);
  ASSERT_TRUE(out.release.ok()) << out.release.error().toString();
  if (out.output.find("Invalid argument") != std::string::npos) GTEST_SKIP() << "no idmapped mounts on /tmp's filesystem";
  EXPECT_EQ(out.output, std::to_string(user_.uid) + "\n");  // the agent owns what it made, in its view
  struct stat st {};
  ASSERT_EQ(::stat((workspace / "made").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1234u);  // and on disk the file is the workspace owner's
}

TEST_F(LauncherTest, PrivateTmpIsFreshAndWritable) {
  TempDir host_tmp;  // exists in the host's /tmp, must not be visible
  const std::string name = "/tmp/warden-private-" + std::to_string(::getpid());
  const auto out = run(spec(sh("ls -A /tmp; stat -c %a /tmp; touch " + name + " && echo ok")));
  ASSERT_TRUE(out.release.ok()) << out.release.error().toString();
  EXPECT_EQ(out.output, "1777\nok\n");
  EXPECT_FALSE(std::filesystem::exists(name));  // written to the agent's tmpfs, gone with it
}

TEST_F(LauncherTest, InitForwardsSigtermToAnAgentThatIgnoresNothing) {
  auto child = SandboxChild::spawn(spec({"/bin/sleep", "30"}));
  ASSERT_TRUE(child.ok()) << child.error().toString();
  ASSERT_TRUE((*child)->release().ok());
  ASSERT_TRUE(warden::testing::waitFor([&] { return (*child)->agentPid() > 0; }));
  const auto started = std::chrono::steady_clock::now();
  ASSERT_EQ(::syscall(SYS_pidfd_send_signal, (*child)->pidfd(), SIGTERM, nullptr, 0), 0);
  struct pollfd pfd {(*child)->pidfd(), POLLIN, 0};
  ASSERT_EQ(::poll(&pfd, 1, 20000), 1) << "init did not end after SIGTERM";
  siginfo_t info{};
  ASSERT_EQ(::waitid(kPidfd, static_cast<id_t>((*child)->pidfd()), &info, WEXITED), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  const auto agent = (*child)->agentWaitStatus();
  ASSERT_TRUE(agent.has_value());
  EXPECT_TRUE(WIFSIGNALED(*agent));
  EXPECT_EQ(WTERMSIG(*agent), SIGTERM);
  EXPECT_EQ(info.si_status, 128 + SIGTERM);
}

TEST_F(LauncherTest, InitReapsOrphansSoNoZombiesPileUp) {
  // Five background sleeps whose parent shell exits at once: orphans, re-parented to init. Their
  // pids are known at once ($!); the agent waits (bounded) until none of them is in /proc any more —
  // a zombie still is — then reports how many are left, and how many zombies there are.
  const auto out = run(spec(sh("orphans=$(sh -c 'for i in 1 2 3 4 5; do sleep 0.1 >/dev/null 2>&1 & echo $!; done'); "
                               "left() { n=0; for p in $orphans; do [ -e /proc/$p ] && n=$((n+1)); done; echo $n; }; "
                               "echo $orphans | wc -w; "
                               "for i in $(seq 100); do [ \"$(left)\" = 0 ] && break; sleep 0.1; done; "
                               "left; grep -ls '^State:.*Z' /proc/[0-9]*/status | wc -l")));
  ASSERT_TRUE(out.release.ok()) << out.release.error().toString();
  EXPECT_EQ(out.output, "5\n0\n0\n");
}

TEST_F(LauncherTest, SignalsTheAgentSendsToPidOneOnlyDecideItsOwnFate) {
  // SIGKILL to init from inside is ignored by the kernel; SIGTERM is forwarded to the agent's group.
  const auto out = run(spec(sh("kill -KILL 1; echo after-kill; trap 'echo got-term; exit 7' TERM; kill -TERM 1; "
                               "sleep 5 & wait")));
  ASSERT_TRUE(out.release.ok()) << out.release.error().toString();
  EXPECT_NE(out.output.find("after-kill"), std::string::npos) << out.output;
  EXPECT_NE(out.output.find("got-term"), std::string::npos) << out.output;
  EXPECT_EQ(out.exit_code, 7);
}

TEST_F(LauncherTest, EscapeHatchesAreClosed) {
  const auto out = run(spec(sh(
      "unshare -U true 2>/dev/null; echo unshare=$?; "
      "/usr/bin/python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_RAW, 1)' 2>/dev/null; "
      "echo raw=$?; mount -t tmpfs none /mnt 2>/dev/null; echo mount=$?")));
  ASSERT_TRUE(out.release.ok()) << out.release.error().toString();
  EXPECT_EQ(out.output.find("unshare=0"), std::string::npos) << out.output;
  EXPECT_EQ(out.output.find("raw=0"), std::string::npos) << out.output;
  EXPECT_EQ(out.output.find("mount=0"), std::string::npos) << out.output;
  EXPECT_NE(out.output.find("mount="), std::string::npos) << out.output;  // the script ran to the end
}

TEST_F(LauncherTest, NetworkNamespaceHasOnlyLoopbackAndItIsUp) {
  const auto out = run(spec(sh("ls /sys/class/net; cat /sys/class/net/lo/flags; "
                               "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '")));
  ASSERT_TRUE(out.release.ok()) << out.release.error().toString();
  EXPECT_EQ(out.output, "lo\n0x9\nlo\n");  // IFF_UP | IFF_LOOPBACK
}

TEST_F(LauncherTest, HostnameIsTheSessions) {
  const auto out = run(spec({"/bin/cat", "/proc/sys/kernel/hostname"}));
  ASSERT_TRUE(out.release.ok()) << out.release.error().toString();
  EXPECT_EQ(out.output, "warden-test\n");
}

TEST_F(LauncherTest, ExitStatusPassesThrough) {
  const auto out = run(spec(sh("exit 42")));
  ASSERT_TRUE(out.release.ok()) << out.release.error().toString();
  EXPECT_EQ(out.exit_code, 42);
}

TEST_F(LauncherTest, CommandIsSearchedInTheAgentsPath) {
  const auto out = run(spec({"echo", "found"}));
  ASSERT_TRUE(out.release.ok()) << out.release.error().toString();
  EXPECT_EQ(out.output, "found\n");
}

TEST_F(LauncherTest, MissingCommandIsNotFoundAndExits127) {
  const auto out = run(spec({"warden-no-such-command"}));
  ASSERT_FALSE(out.release.ok());
  EXPECT_EQ(out.release.error().code(), Code::kNotFound);
  EXPECT_EQ(out.release.error().message(), "warden-no-such-command: command not found");
  EXPECT_EQ(out.exit_code, 127);
}

TEST_F(LauncherTest, NonExecutableFileIsPermissionDeniedAndExits126) {
  TempDir dir;
  giveToAgent(dir.path());
  writeFile(dir / "script", "#!/bin/sh\necho no\n");
  ASSERT_EQ(::chmod((dir / "script").c_str(), 0644), 0);
  const auto out = run(spec({(dir / "script").string()}, {}, {dir.path().string()}));
  ASSERT_FALSE(out.release.ok());
  EXPECT_EQ(out.release.error().code(), Code::kPermissionDenied);
  EXPECT_EQ(out.release.error().message(), (dir / "script").string() + ": permission denied");
  EXPECT_EQ(out.exit_code, 126);
}

TEST_F(LauncherTest, MissingWorkingDirectoryNamesTheStageAndExits125) {
  auto s = spec({"/bin/true"});
  s.cwd = "/no/such/dir";
  const auto out = run(s);
  ASSERT_FALSE(out.release.ok());
  EXPECT_EQ(out.release.error().code(), Code::kNotFound);
  EXPECT_NE(out.release.error().message().find("setting up: changing to /no/such/dir"), std::string::npos)
      << out.release.error().toString();
  EXPECT_EQ(out.exit_code, 125);
}

TEST_F(LauncherTest, OnlyStdioFileDescriptorsReachTheAgent) {
  const int leak = ::open("/dev/null", O_RDONLY);  // not close-on-exec
  ASSERT_GE(leak, 0);
  ASSERT_EQ(::dup2(leak, 77), 77);
  ::close(leak);
  const auto out = run(spec(sh("[ -e /proc/$$/fd/77 ] && echo leaked || echo clean; ls /proc/$$/fd")));
  ::close(77);
  ASSERT_TRUE(out.release.ok()) << out.release.error().toString();
  EXPECT_EQ(out.output, "clean\n0\n1\n2\n") << out.output;
}

TEST_F(LauncherTest, ParkedChildIsInNewNamespacesAndDiesWithItsHandle) {
  auto child = SandboxChild::spawn(spec({"/bin/true"}));
  ASSERT_TRUE(child.ok()) << child.error().toString();
  const pid_t pid = (*child)->pid();
  EXPECT_GE((*child)->pidfd(), 0);
  for (const char* ns : {"pid", "mnt", "net", "uts", "ipc"}) {
    const auto mine = std::filesystem::read_symlink(std::string("/proc/self/ns/") + ns);
    const auto its = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/ns/" + ns);
    EXPECT_NE(mine, its) << ns;
  }
  child->reset();  // never released: killed and reaped
  EXPECT_EQ(::kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

TEST_F(LauncherTest, SpawnsFromAMultiThreadedParentWhileItsThreadsAllocate) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&stop] {
      while (!stop.load()) {
        std::vector<std::string> churn(64, std::string(100, 'x'));  // holds malloc's locks often
      }
    });
  }
  int ok = 0;
  for (int i = 0; i < 20; ++i) {
    const auto out = run(spec(sh("echo $$")));
    if (out.release.ok() && out.output == "2\n" && out.exit_code == 0) ++ok;
  }
  stop = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 20);
}

TEST_F(LauncherTest, ReleaseTwiceIsFailedPrecondition) {
  auto child = SandboxChild::spawn(spec({"/bin/true"}));
  ASSERT_TRUE(child.ok()) << child.error().toString();
  ASSERT_TRUE((*child)->release().ok());
  const auto again = (*child)->release();
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), Code::kFailedPrecondition);
  siginfo_t info{};
  ASSERT_EQ(::waitid(kPidfd, static_cast<id_t>((*child)->pidfd()), &info, WEXITED), 0);
  EXPECT_EQ(info.si_status, 0);
}

TEST_F(LauncherTest, InvalidSpecsAreRefusedBeforeClone) {
  auto empty = spec({});
  EXPECT_EQ(SandboxChild::spawn(empty).error().code(), Code::kInvalidArgument);
  auto root = spec({"/bin/true"});
  root.user.uid = 0;
  EXPECT_EQ(SandboxChild::spawn(root).error().code(), Code::kPermissionDenied);
  auto relative = spec({"/bin/true"});
  relative.cwd = "work";
  EXPECT_EQ(SandboxChild::spawn(relative).error().code(), Code::kInvalidArgument);
  auto nul = spec({std::string("/bin/tr\0ue", 10)});
  EXPECT_EQ(SandboxChild::spawn(nul).error().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace warden::sandbox
