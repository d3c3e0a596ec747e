// OperatorSocket: binding the path (stale, live, foreign files), and who connected.

#include "gateway/service/operator_socket.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cstring>

#include "support/test_env.h"

namespace warden::gateway {
namespace {

using warden::testing::TempDir;
using warden::testing::writeFile;

TEST(OperatorSocket, BindsWithItsModeAndRemovesItsFileAtStop) {
  TempDir dir;
  const auto path = dir / "sub" / "gw.sock";
  auto s = OperatorSocket::listen({.path = path});
  ASSERT_TRUE(s.ok()) << s.error().toString();
  struct stat st {};
  ASSERT_EQ(::lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0666u);
  (*s)->stop();
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(OperatorSocket, AStaleSocketIsReplacedALiveOneIsNot) {
  TempDir dir;
  const auto path = dir / "gw.sock";
  {  // A socket file nobody listens on any more (a gateway that was killed).
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strcpy(a.sun_path, path.c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ::close(fd);
  }
  auto first = OperatorSocket::listen({.path = path});
  ASSERT_TRUE(first.ok()) << first.error().toString();
  auto second = OperatorSocket::listen({.path = path});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code(), Code::kAlreadyExists);
  EXPECT_TRUE(std::filesystem::exists(path)) << "the live gateway's socket is left alone";
}

TEST(OperatorSocket, AnotherKindOfFileAtThePathIsRefused) {
  TempDir dir;
  writeFile(dir / "gw.sock", "not a socket");
  auto s = OperatorSocket::listen({.path = dir / "gw.sock"});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), Code::kFailedPrecondition);
  EXPECT_EQ(warden::testing::readFile(dir / "gw.sock"), "not a socket");
}

TEST(OperatorSocket, KnowsNoCredentialsForPeersItDidNotAccept) {
  TempDir dir;
  auto s = OperatorSocket::listen({.path = dir / "gw.sock"});
  ASSERT_TRUE(s.ok());
  for (const char* peer : {"fd:3", "fd:", "fd:x", "ipv4:127.0.0.1:1", "unix:" , ""}) {
    EXPECT_FALSE((*s)->credentialsOf(peer).has_value()) << peer;
  }
}

TEST(PeerCredentials, ReadsTheKernelsRecordOfAConnectedPeer) {
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
  auto c = readPeerCredentials(pair[0]);
  ::close(pair[0]);
  ::close(pair[1]);
  ASSERT_TRUE(c.ok()) << c.error().toString();
  EXPECT_EQ(c->pid, ::getpid());
  EXPECT_EQ(c->uid, ::geteuid());
  EXPECT_EQ(c->gid, ::getegid());
  EXPECT_TRUE(c->inGroup(::getegid()));
}

TEST(ResolveGroup, TakesANameOrANumber) {
  auto root = resolveGroup("root");
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(*root, 0u);
  EXPECT_EQ(*resolveGroup("4242"), 4242u);
  auto none = resolveGroup("no-such-group-warden");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code(), Code::kNotFound);
}

}  // namespace
}  // namespace warden::gateway
