#include "sandbox/control_socket.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <vector>

#include "support/test_env.h"

namespace warden::sandbox {
namespace {

using warden::testing::TempDir;
using warden::testing::waitFor;

class ControlSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "the control socket is root-only; needs root";
  }
  std::filesystem::path dir() const { return tmp_.path() / "sessions"; }

  std::unique_ptr<ControlServer> serve(const std::string& id, const std::string& name) {
    auto s = ControlServer::create(
        id, name,
        [this](std::string_view cmd) -> Result<std::string> {
          std::lock_guard<std::mutex> lock(mu_);
          commands_.emplace_back(cmd);
          if (cmd == "resume") return failedPrecondition("session is not paused");
          return std::string(cmd) + " done";
        },
        [this](uid_t uid, pid_t pid) {
          refused_uid_ = static_cast<int>(uid);
          refused_pid_ = pid;
        },
        dir());
    EXPECT_TRUE(s.ok()) << s.error().toString();
    if (!s.ok()) return nullptr;
    (*s)->start();
    return std::move(s).value();
  }
  std::vector<std::string> commands() {
    std::lock_guard<std::mutex> lock(mu_);
    return commands_;
  }

  TempDir tmp_;
  std::mutex mu_;
  std::vector<std::string> commands_;
  std::atomic<int> refused_uid_{-1};
  std::atomic<pid_t> refused_pid_{-1};
};

TEST_F(ControlSocketTest, CommandsReachTheHandlerAndRepliesComeBack) {
  auto server = serve("0193a5b0-aaaa-7000-8000-000000000001", "agent-7");
  ASSERT_NE(server, nullptr);
  const auto reply = sendControlCommand("0193a5b0-aaaa-7000-8000-000000000001", "pause", std::chrono::seconds(5), dir());
  ASSERT_TRUE(reply.ok()) << reply.error().toString();
  EXPECT_EQ(*reply, "pause done");
  const auto status = sendControlCommand("agent-7", "status", std::chrono::seconds(5), dir());
  ASSERT_TRUE(status.ok()) << status.error().toString();
  EXPECT_EQ(*status, "status done");
  EXPECT_EQ(commands(), (std::vector<std::string>{"pause", "status"}));
}

TEST_F(ControlSocketTest, HandlerErrorsComeBackWithTheirCode) {
  auto server = serve("s1", "n1");
  ASSERT_NE(server, nullptr);
  const auto r = sendControlCommand("s1", "resume", std::chrono::seconds(5), dir());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kFailedPrecondition);
  EXPECT_NE(r.error().message().find("session is not paused"), std::string::npos) << r.error().message();
}

TEST_F(ControlSocketTest, UnknownCommandIsRefusedBeforeTheHandler) {
  auto server = serve("s1", "n1");
  ASSERT_NE(server, nullptr);
  const auto r = sendControlCommand("s1", "rm -rf /", std::chrono::seconds(5), dir());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  EXPECT_NE(r.error().message().find("unknown command"), std::string::npos);
  EXPECT_TRUE(commands().empty());
}

TEST_F(ControlSocketTest, FilesAreRootOnlyAndNameFileHoldsTheName) {
  auto server = serve("s1", "agent-7");
  ASSERT_NE(server, nullptr);
  struct stat st;
  ASSERT_EQ(::stat(dir().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_EQ(st.st_uid, 0u);
  ASSERT_EQ(::stat(server->path().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(warden::testing::readFile(dir() / "s1.name"), "agent-7\n");
}

// A child that drops to uid 65534 and asks; writes what it got (or the connect errno) to `out_fd`.
pid_t nonRootAsk(const std::filesystem::path& socket_path, int out_fd) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(2);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket_path.c_str(), sizeof(addr.sun_path) - 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const char* msg = errno == EACCES ? "EACCES" : "connect-failed";
    (void)!::write(out_fd, msg, std::strlen(msg));
    ::_exit(0);
  }
  (void)!::send(fd, "stop\n", 5, MSG_NOSIGNAL);  // the refusal may come (and the server close) first
  char buf[256];
  const ssize_t n = ::read(fd, buf, sizeof buf);
  if (n > 0) (void)!::write(out_fd, buf, static_cast<size_t>(n));
  ::_exit(0);
}

std::string runNonRoot(const std::filesystem::path& socket_path) {
  int p[2];
  if (::pipe(p) != 0) return "pipe failed";
  const pid_t pid = nonRootAsk(socket_path, p[1]);
  ::close(p[1]);
  std::string got;
  char buf[256];
  ssize_t n;
  while ((n = ::read(p[0], buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
  ::close(p[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return got;
}

TEST_F(ControlSocketTest, NonRootCannotEvenReachTheSocket) {
  auto server = serve("s1", "n1");
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(runNonRoot(server->path()), "EACCES");
  EXPECT_TRUE(commands().empty());
}

TEST_F(ControlSocketTest, NonRootPeerIsRefusedByCredentialsEvenIfTheFileModesAreLoosened) {
  auto server = serve("s1", "n1");
  ASSERT_NE(server, nullptr);
  // Defence in depth: with the directory and socket opened up, SO_PEERCRED still refuses.
  ASSERT_EQ(::chmod(tmp_.path().c_str(), 0755), 0);
  ASSERT_EQ(::chmod(dir().c_str(), 0755), 0);
  ASSERT_EQ(::chmod(server->path().c_str(), 0666), 0);
  const std::string got = runNonRoot(server->path());
  EXPECT_EQ(got, "error permission_denied: the control socket is root-only\n");
  ASSERT_TRUE(waitFor([&] { return refused_uid_.load() == 65534; }));
  EXPECT_GT(refused_pid_.load(), 0);
  EXPECT_TRUE(commands().empty());
}

TEST_F(ControlSocketTest, FindsSessionsByIdPrefixAndName) {
  auto a = serve("0193aaaa-1111", "alpha");
  auto b = serve("0193bbbb-2222", "beta");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(*resolveSession("0193aaaa-1111", dir()), "0193aaaa-1111");
  EXPECT_EQ(*resolveSession("0193b", dir()), "0193bbbb-2222");
  EXPECT_EQ(*resolveSession("alpha", dir()), "0193aaaa-1111");
  const auto r = sendControlCommand("0193bb", "stop", std::chrono::seconds(5), dir());
  ASSERT_TRUE(r.ok()) << r.error().toString();
  EXPECT_EQ(*r, "stop done");
}

TEST_F(ControlSocketTest, AmbiguousPrefixAndUnknownSessionAreErrors) {
  auto a = serve("0193aaaa-1111", "alpha");
  auto b = serve("0193bbbb-2222", "beta");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  const auto ambiguous = sendControlCommand("0193", "stop", std::chrono::seconds(5), dir());
  ASSERT_FALSE(ambiguous.ok());
  EXPECT_EQ(ambiguous.error().code(), Code::kFailedPrecondition);
  EXPECT_NE(ambiguous.error().message().find("0193aaaa-1111, 0193bbbb-2222"), std::string::npos);
  const auto missing = sendControlCommand("gamma", "stop", std::chrono::seconds(5), dir());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), Code::kNotFound);
  EXPECT_EQ(missing.error().message(), "no running session 'gamma'");
  EXPECT_TRUE(commands().empty());
}

TEST_F(ControlSocketTest, StaleSocketFileIsUnavailableAndReplacedByANewServer) {
  std::filesystem::create_directories(dir());
  // A socket bound and closed without unlink: what a crashed supervisor leaves.
  {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string p = (dir() / "dead.sock").string();
    std::strncpy(addr.sun_path, p.c_str(), sizeof(addr.sun_path) - 1);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::close(fd);
  }
  const auto r = sendControlCommand("dead", "status", std::chrono::seconds(2), dir());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
  EXPECT_NE(r.error().message().find("stale"), std::string::npos);
  auto server = serve("dead", "reborn");
  ASSERT_NE(server, nullptr);
  EXPECT_TRUE(sendControlCommand("dead", "status", std::chrono::seconds(5), dir()).ok());
}

TEST_F(ControlSocketTest, SecondServerForALiveSessionIsRefused) {
  auto first = serve("s1", "n1");
  ASSERT_NE(first, nullptr);
  auto second = ControlServer::create("s1", "n1", [](std::string_view) -> Result<std::string> { return std::string(); },
                                      {}, dir());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code(), Code::kAlreadyExists);
  EXPECT_TRUE(std::filesystem::exists(first->path()));  // the failed one did not unlink it
  EXPECT_TRUE(sendControlCommand("s1", "status", std::chrono::seconds(5), dir()).ok());
}

TEST_F(ControlSocketTest, SilentServerTimesOutAsUnavailable) {
  std::filesystem::create_directories(dir());
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string p = (dir() / "mute.sock").string();
  std::strncpy(addr.sun_path, p.c_str(), sizeof(addr.sun_path) - 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 4), 0);  // listens, never accepts or answers
  const auto r = sendControlCommand("mute", "status", std::chrono::milliseconds(200), dir());
  ::close(fd);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
  EXPECT_NE(r.error().message().find("did not answer within 200 ms"), std::string::npos);
}

TEST_F(ControlSocketTest, StopRemovesSocketAndNameFiles) {
  auto server = serve("s1", "n1");
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(std::filesystem::exists(dir() / "s1.sock"));
  ASSERT_TRUE(std::filesystem::exists(dir() / "s1.name"));
  server->stop();
  EXPECT_FALSE(std::filesystem::exists(dir() / "s1.sock"));
  EXPECT_FALSE(std::filesystem::exists(dir() / "s1.name"));
  server->stop();  // idempotent
  const auto r = sendControlCommand("s1", "status", std::chrono::seconds(1), dir());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kNotFound);
}

TEST_F(ControlSocketTest, RejectsSessionIdsThatAreNotFileNames) {
  for (const char* id : {"", "../x", "a/b", ".hidden"}) {
    auto s = ControlServer::create(id, "n", [](std::string_view) -> Result<std::string> { return std::string(); },
                                   {}, dir());
    ASSERT_FALSE(s.ok()) << id;
    EXPECT_EQ(s.error().code(), Code::kInvalidArgument) << id;
  }
}

}  // namespace
}  // namespace warden::sandbox
