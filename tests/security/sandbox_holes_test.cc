// Attacks from inside a `warden run` sandbox (issue 12): each test makes the attempt a hostile agent
// made in the review, and asserts both that it is refused and that the session's record holds.
// Real sessions of build/warden, as root; nothing leaves this machine.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <algorithm>
#include <filesystem>
#include <regex>
#include <string>
#include <thread>

#include "support/sandbox_fixtures.h"
#include "support/test_env.h"

namespace warden::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A unix stream socket listening at `path` (mode 0777, as the review's root listener had it) that
// counts the bytes it receives on a thread of its own.
class HostSocket {
 public:
  explicit HostSocket(const std::filesystem::path& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    std::filesystem::remove(path);
    ok_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
          ::chmod(path.c_str(), 0777) == 0 && ::listen(fd_, 8) == 0;
    if (ok_) {
      thread_ = std::thread([this] {
        for (;;) {
          const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
          if (c < 0) return;
          char buf[256];
          ssize_t n;
          while ((n = ::read(c, buf, sizeof buf)) > 0) received_ += static_cast<size_t>(n);
          ::close(c);
        }
      });
    }
  }
  ~HostSocket() {
    if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
    std::filesystem::remove(path_);
  }
  bool ok() const { return ok_; }
  size_t received() const { return received_; }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  bool ok_ = false;
  std::atomic<size_t> received_{0};
  std::thread thread_;
};

class SandboxHoles : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string why = sandboxUnavailableReason();
    if (!why.empty()) GTEST_SKIP() << why;
    log_dir_ = tmp_ / "log";
  }

  // `warden run ARGS -- sh -c SCRIPT` in the workspace, with `env` before it.
  CommandResult run(const std::string& args, const std::string& script, const std::string& env = "") {
    return runCommand("cd " + ws_.path().string() + " && " + env + " " + wardenBinary().string() + " run --log-dir " +
                      log_dir_.string() + " --ocsf-json " + args + " -- sh -c " + shellQuote(script) + " 2>&1");
  }
  std::string log() const { return readFile(log_dir_ / "warden.log"); }
  // The JSONL record (whole messages; the shorthand cuts them at 120 bytes).
  std::string jsonl() const { return readFile(log_dir_ / "warden-ocsf.log"); }
  void expectSealedAndValid() {
    const auto verify = runCommand(wardenBinary().string() + " audit verify " +
                                   (log_dir_ / "warden-ocsf.log").string() + " 2>&1");
    EXPECT_EQ(verify.status, 0) << verify.output;
    const auto validate = runCommand(wardenBinary().string() + " ocsf validate " +
                                     (log_dir_ / "warden-ocsf.log").string() + " 2>&1");
    EXPECT_EQ(validate.status, 0) << validate.output;
  }

  TempDir tmp_;
  Workspace ws_;
  std::filesystem::path log_dir_;
};

const char* kConnect =
    "python3 -c \"import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b'leak'); "
    "print('connected')\" ";

TEST_F(SandboxHoles, AHostUnixSocketUnderRunIsNotInTheAgentsView) {
  const std::filesystem::path path = "/run/warden-holes-" + std::to_string(::getpid()) + ".sock";
  HostSocket listener(path);
  ASSERT_TRUE(listener.ok());
  int session = 0;
  for (const std::string& target : {path.string(), "/var/run/" + path.filename().string()}) {
    log_dir_ = tmp_ / ("log-" + std::to_string(++session));
    const auto r = run("", std::string(kConnect) + target + " 2>&1; ls -A /run | wc -l");
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_THAT(r.output, Not(HasSubstr("connected"))) << target;
    EXPECT_THAT(r.output, HasSubstr("No such file or directory")) << r.output;
    expectSealedAndValid();
  }
  EXPECT_EQ(listener.received(), 0u) << "the host's listener got the agent's bytes";
}

TEST_F(SandboxHoles, ASocketThePolicyNamesIsTheOnlyWayIn) {
  const std::filesystem::path path = "/run/warden-holes-named-" + std::to_string(::getpid()) + ".sock";
  HostSocket listener(path);
  ASSERT_TRUE(listener.ok());
  const auto policy = tmp_ / "policy.yaml";
  writeFile(policy, "version: 1\nfilesystem:\n  read_only: [/usr, /lib, /lib64, /bin, /sbin, /etc]\n  read_write: [" +
                        path.string() + "]\n");
  const auto r = run("--policy " + policy.string(), std::string(kConnect) + path.string());
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("connected"));
  EXPECT_TRUE(waitFor([&] { return listener.received() == 4; }));
  // ...and going in is recorded: the kernel capture's connect to the socket file, by python.
  EXPECT_THAT(log(), ::testing::ContainsRegex("FILE:OPEN \\[INFO\\] python3[.0-9]*\\([0-9]+\\) " + path.string() +
                                              " \\[connect\\]"));
  expectSealedAndValid();
}

TEST_F(SandboxHoles, TheSupervisorsEnvironmentDoesNotLeakIntoTheAgent) {
  const auto r = run("", "env", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI-holes GITHUB_TOKEN=ghp_holes");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, Not(HasSubstr("wJalrXUtnFEMI-holes")));
  EXPECT_THAT(r.output, Not(HasSubstr("ghp_holes")));
  EXPECT_THAT(r.output, HasSubstr("PATH="));
  // Asked for by name, it is passed; and the record never holds the value.
  const auto asked = run("--env GITHUB_TOKEN", "echo token=$GITHUB_TOKEN", "GITHUB_TOKEN=ghp_holes");
  EXPECT_THAT(asked.output, HasSubstr("token=ghp_holes"));
  EXPECT_THAT(log(), Not(HasSubstr("ghp_holes")));
  // Loader variables cannot be smuggled in through --env: nothing starts.
  const auto preload = run("--env LD_PRELOAD=/tmp/x.so", "true");
  EXPECT_EQ(preload.status, 125) << preload.output;
  EXPECT_THAT(preload.output, HasSubstr("LD_PRELOAD"));
}

TEST_F(SandboxHoles, ASessionWithoutAPolicyHasLimitsAndADefaultView) {
  const auto r = run("", "df -B1 --output=size /tmp | tail -1; ls /usr/bin/env >/dev/null && echo view-ok");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("view-ok"));  // a policy without `filesystem` gets the default view
  // The defaults of sandbox/run_options.h: memory 4 GiB or half the machine's, /tmp at most half of it.
  const uint64_t physical = static_cast<uint64_t>(::sysconf(_SC_PHYS_PAGES)) * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  const uint64_t memory = std::min<uint64_t>(uint64_t{4} << 30, physical / 2);
  const uint64_t tmp = std::min<uint64_t>(uint64_t{2} << 30, memory / 2);
  EXPECT_THAT(r.output, HasSubstr(std::to_string(tmp) + "\n")) << "the private /tmp's size";
  const std::string text = jsonl();
  EXPECT_THAT(text, HasSubstr("pids 2048 (default)"));
  EXPECT_THAT(text, ::testing::ContainsRegex("memory [0-9]+[GM]iB \\(default\\)"));
  EXPECT_THAT(text, HasSubstr("(default, charged to the memory limit)"));
  expectSealedAndValid();
}

TEST_F(SandboxHoles, AForkStormStopsAtTheDefaultPidsLimit) {
  // 3,000 sleepers wanted; the default limit (2048 tasks) refuses the rest, the host is untouched.
  const std::string storm =
      "import os, time\n"
      "ok = failed = 0\n"
      "for _ in range(3000):\n"
      "    try:\n"
      "        if os.fork() == 0:\n"
      "            time.sleep(30)\n"
      "            os._exit(0)\n"
      "        ok += 1\n"
      "    except OSError:\n"
      "        failed += 1\n"
      "print('started', ok, 'refused', failed, flush=True)\n"
      "os._exit(0)\n";
  writeFile(ws_ / "storm.py", storm);
  const auto r = run("--timeout 60s", "python3 storm.py");
  EXPECT_THAT(r.output, HasSubstr("refused"));
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.output, m, std::regex("started (\\d+) refused (\\d+)"))) << r.output;
  EXPECT_LT(std::stoi(m[1]), 2048);
  EXPECT_GT(std::stoi(m[2]), 900);
  EXPECT_THAT(log(), HasSubstr(" OCSF LIMIT:PIDS"));
}

TEST_F(SandboxHoles, VsockAndOtherSocketFamiliesAreRefused) {
  const auto r = run("", "python3 -c \"import socket\n"
                         "for fam in (socket.AF_VSOCK, socket.AF_PACKET, socket.AF_ALG):\n"
                         "    try:\n"
                         "        socket.socket(fam, socket.SOCK_STREAM if fam == socket.AF_VSOCK else socket.SOCK_DGRAM)\n"
                         "        print('opened', fam)\n"
                         "    except OSError as e:\n"
                         "        print('refused', fam, e.errno)\"");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, Not(HasSubstr("opened")));
  EXPECT_THAT(r.output, HasSubstr("refused 40 97"));  // AF_VSOCK, EAFNOSUPPORT
}

TEST_F(SandboxHoles, OneAgentProcessCannotWriteAnothersMemory) {
  const auto r = run("", "sleep 30 & python3 -c \"import ctypes, os, sys\n"
                         "libc = ctypes.CDLL(None, use_errno=True)\n"
                         "class iov(ctypes.Structure): _fields_ = [('base', ctypes.c_void_p), ('len', ctypes.c_size_t)]\n"
                         "buf = ctypes.create_string_buffer(8)\n"
                         "l = iov(ctypes.cast(buf, ctypes.c_void_p), 8); r = iov(0x400000, 8)\n"
                         "rc = libc.process_vm_writev(int(sys.argv[1]), ctypes.byref(l), 1, ctypes.byref(r), 1, 0)\n"
                         "print('rc', rc, 'errno', ctypes.get_errno())\" $!; kill %1");
  EXPECT_THAT(r.output, HasSubstr("rc -1 errno 1")) << r.output;  // EPERM from seccomp
}

}  // namespace
}  // namespace warden::testing
