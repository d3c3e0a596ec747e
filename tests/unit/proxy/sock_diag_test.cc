#include "proxy/sock_diag.h"

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include <gtest/gtest.h>

#include "common/unique_fd.h"

namespace warden::proxy {
namespace {

TcpEndpoint ep(const char* address, uint16_t port) { return *TcpEndpoint::parse(address, port); }

// ---- the pure parser ----

// One SOCK_DIAG_BY_FAMILY answer for local -> remote, as the kernel would send it.
std::vector<uint8_t> diagMessage(const TcpEndpoint& local, const TcpEndpoint& remote, uint32_t seq, uint64_t inode,
                                 uint32_t uid) {
  struct {
    nlmsghdr header;
    inet_diag_msg msg;
  } m{};
  m.header.nlmsg_len = sizeof(m);
  m.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  m.header.nlmsg_seq = seq;
  m.msg.idiag_family = local.v6 ? AF_INET6 : AF_INET;
  m.msg.idiag_state = 1;
  m.msg.id.idiag_sport = htons(local.port);
  m.msg.id.idiag_dport = htons(remote.port);
  std::memcpy(m.msg.id.idiag_src, local.address.data(), local.v6 ? 16 : 4);
  std::memcpy(m.msg.id.idiag_dst, remote.address.data(), remote.v6 ? 16 : 4);
  m.msg.idiag_inode = static_cast<uint32_t>(inode);
  m.msg.idiag_uid = uid;
  std::vector<uint8_t> bytes(sizeof(m));
  std::memcpy(bytes.data(), &m, sizeof(m));
  return bytes;
}

std::vector<uint8_t> errorMessage(uint32_t seq, int error) {
  struct {
    nlmsghdr header;
    nlmsgerr err;
  } m{};
  m.header.nlmsg_len = sizeof(m);
  m.header.nlmsg_type = NLMSG_ERROR;
  m.header.nlmsg_seq = seq;
  m.err.error = error;
  std::vector<uint8_t> bytes(sizeof(m));
  std::memcpy(bytes.data(), &m, sizeof(m));
  return bytes;
}

TEST(SockDiagParseTest, FindsTheAskedSocket) {
  const auto client = ep("127.0.0.1", 40000);
  const auto proxy = ep("127.0.0.1", 3128);
  const auto reply = parseSockDiagReply(diagMessage(client, proxy, 7, 4242, 1000), 7, client, proxy);
  ASSERT_EQ(reply.status, SockDiagStatus::kFound);
  EXPECT_EQ(reply.socket.inode, 4242u);
  EXPECT_EQ(reply.socket.uid, 1000u);
  EXPECT_EQ(reply.socket.local, client);
  EXPECT_EQ(reply.socket.remote, proxy);
}

TEST(SockDiagParseTest, DualStackSocketMatchesItsIpv4Tuple) {
  // Asked as AF_INET, answered by an AF_INET6 socket with IPv4-mapped addresses.
  const auto reply = parseSockDiagReply(diagMessage(ep("::ffff:127.0.0.1", 40000), ep("::ffff:127.0.0.1", 3128), 1, 9, 0),
                                        1, ep("127.0.0.1", 40000), ep("127.0.0.1", 3128));
  ASSERT_EQ(reply.status, SockDiagStatus::kFound);
  EXPECT_EQ(reply.socket.inode, 9u);
}

TEST(SockDiagParseTest, IgnoresOtherSequencesAndOtherTuples) {
  const auto client = ep("127.0.0.1", 40000);
  const auto proxy = ep("127.0.0.1", 3128);
  EXPECT_EQ(parseSockDiagReply(diagMessage(client, proxy, 8, 1, 0), 7, client, proxy).status,
            SockDiagStatus::kMalformed);
  EXPECT_EQ(parseSockDiagReply(diagMessage(ep("127.0.0.1", 40001), proxy, 7, 1, 0), 7, client, proxy).status,
            SockDiagStatus::kMalformed);
  // A stray message first, then the answer, in one datagram.
  auto both = diagMessage(ep("127.0.0.1", 40001), proxy, 7, 1, 0);
  const auto right = diagMessage(client, proxy, 7, 2, 0);
  both.insert(both.end(), right.begin(), right.end());
  const auto reply = parseSockDiagReply(both, 7, client, proxy);
  ASSERT_EQ(reply.status, SockDiagStatus::kFound);
  EXPECT_EQ(reply.socket.inode, 2u);
}

TEST(SockDiagParseTest, ErrorsAreReportedWithTheirErrno) {
  const auto client = ep("::1", 40000);
  const auto proxy = ep("::1", 3128);
  const auto missing = parseSockDiagReply(errorMessage(3, -ENOENT), 3, client, proxy);
  EXPECT_EQ(missing.status, SockDiagStatus::kNoSocket);
  EXPECT_EQ(missing.error, ENOENT);
  const auto denied = parseSockDiagReply(errorMessage(3, -EPERM), 3, client, proxy);
  EXPECT_EQ(denied.status, SockDiagStatus::kError);
  EXPECT_EQ(denied.error, EPERM);
  EXPECT_EQ(parseSockDiagReply(errorMessage(3, 5), 3, client, proxy).status, SockDiagStatus::kMalformed);
  EXPECT_EQ(parseSockDiagReply(errorMessage(3, INT32_MIN), 3, client, proxy).status, SockDiagStatus::kMalformed);
}

TEST(SockDiagParseTest, TruncatedAndLyingLengthsAreMalformed) {
  const auto client = ep("127.0.0.1", 40000);
  const auto proxy = ep("127.0.0.1", 3128);
  const auto good = diagMessage(client, proxy, 1, 5, 0);
  for (size_t n = 0; n < good.size(); ++n) {
    const std::vector<uint8_t> cut(good.begin(), good.begin() + static_cast<ptrdiff_t>(n));
    EXPECT_EQ(parseSockDiagReply(cut, 1, client, proxy).status, SockDiagStatus::kMalformed) << n;
  }
  auto lying = good;
  const uint32_t huge = 0xfffffff0u;
  std::memcpy(lying.data(), &huge, sizeof(huge));  // nlmsg_len past the end
  EXPECT_EQ(parseSockDiagReply(lying, 1, client, proxy).status, SockDiagStatus::kMalformed);
  const uint32_t tiny = 4;  // shorter than a header: would loop forever if trusted
  std::memcpy(lying.data(), &tiny, sizeof(tiny));
  EXPECT_EQ(parseSockDiagReply(lying, 1, client, proxy).status, SockDiagStatus::kMalformed);
}

TEST(SockDiagParseTest, RequestCarriesTheTupleInNetworkOrder) {
  const auto bytes = buildSockDiagRequest(ep("::ffff:10.0.0.1", 40000), ep("10.0.0.2", 3128), 9);
  struct {
    nlmsghdr header;
    inet_diag_req_v2 request;
  } m{};
  ASSERT_EQ(bytes.size(), sizeof(m));
  std::memcpy(&m, bytes.data(), sizeof(m));
  EXPECT_EQ(m.header.nlmsg_type, SOCK_DIAG_BY_FAMILY);
  EXPECT_EQ(m.header.nlmsg_seq, 9u);
  EXPECT_EQ(m.request.sdiag_family, AF_INET);  // the mapped address is asked as IPv4
  EXPECT_EQ(m.request.sdiag_protocol, IPPROTO_TCP);
  EXPECT_EQ(ntohs(m.request.id.idiag_sport), 40000);
  EXPECT_EQ(ntohs(m.request.id.idiag_dport), 3128);
  EXPECT_EQ(m.request.id.idiag_src[0], inet_addr("10.0.0.1"));
  EXPECT_EQ(m.request.id.idiag_dst[0], inet_addr("10.0.0.2"));
  EXPECT_EQ(m.request.id.idiag_cookie[0], INET_DIAG_NOCOOKIE);
}

// ---- the kernel ----

struct Pair {
  UniqueFd listener;
  UniqueFd client;
  UniqueFd accepted;
  TcpEndpoint client_end;  // getsockname(client)
  TcpEndpoint proxy_end;   // getsockname(accepted)
};

TcpEndpoint nameOf(int fd, bool peer) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (peer) {
    ::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  } else {
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  }
  return TcpEndpoint::fromSockaddr(reinterpret_cast<sockaddr*>(&addr), len).value_or(TcpEndpoint{});
}

// A loopback connection: listener of `listen_family` on `listen_address`, client of `client_family`
// connecting to `connect_address`. nullopt when the host lacks the family.
std::optional<Pair> connectPair(int listen_family, const char* listen_address, int client_family,
                                const char* connect_address) {
  Pair p;
  p.listener.reset(::socket(listen_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!p.listener.valid()) return std::nullopt;
  sockaddr_storage addr{};
  socklen_t len = 0;
  auto fill = [&](int family, const char* text, uint16_t port) {
    addr = {};
    if (family == AF_INET) {
      auto* a = reinterpret_cast<sockaddr_in*>(&addr);
      a->sin_family = AF_INET;
      a->sin_port = htons(port);
      ::inet_pton(AF_INET, text, &a->sin_addr);
      len = sizeof(sockaddr_in);
    } else {
      auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
      a->sin6_family = AF_INET6;
      a->sin6_port = htons(port);
      ::inet_pton(AF_INET6, text, &a->sin6_addr);
      len = sizeof(sockaddr_in6);
    }
  };
  if (listen_family == AF_INET6) {
    const int off = 0;
    ::setsockopt(p.listener.get(), IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
  }
  fill(listen_family, listen_address, 0);
  if (::bind(p.listener.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0) return std::nullopt;
  if (::listen(p.listener.get(), 4) != 0) return std::nullopt;
  const uint16_t port = nameOf(p.listener.get(), false).port;
  p.client.reset(::socket(client_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  fill(client_family, connect_address, port);
  if (::connect(p.client.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0) return std::nullopt;
  p.accepted.reset(::accept4(p.listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!p.accepted.valid()) return std::nullopt;
  // The proxy's view: its peer is the client, its own name the proxy end.
  p.client_end = nameOf(p.accepted.get(), true);
  p.proxy_end = nameOf(p.accepted.get(), false);
  return p;
}

uint64_t inodeOf(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 ? st.st_ino : 0;
}

void expectFoundThroughNetlink(const Pair& p) {
  auto reply = querySockDiag(p.client_end, p.proxy_end, std::chrono::milliseconds(2000));
  if (!reply.ok()) GTEST_SKIP() << "no NETLINK_SOCK_DIAG here: " << reply.error().toString();
  if (reply->status == SockDiagStatus::kNoSocket) GTEST_SKIP() << "no tcp_diag in this kernel";
  ASSERT_EQ(reply->status, SockDiagStatus::kFound) << static_cast<int>(reply->status) << " errno " << reply->error;
  EXPECT_EQ(reply->socket.inode, inodeOf(p.client.get()));
  EXPECT_EQ(reply->socket.uid, ::geteuid());
  EXPECT_EQ(reply->socket.state, 1);  // established
}

TEST(SockDiagKernelTest, FindsAnIpv4LoopbackClientSocket) {
  auto p = connectPair(AF_INET, "127.0.0.1", AF_INET, "127.0.0.1");
  ASSERT_TRUE(p.has_value());
  expectFoundThroughNetlink(*p);
}

TEST(SockDiagKernelTest, FindsAnIpv6LoopbackClientSocket) {
  auto p = connectPair(AF_INET6, "::1", AF_INET6, "::1");
  if (!p) GTEST_SKIP() << "no IPv6 loopback";
  expectFoundThroughNetlink(*p);
}

TEST(SockDiagKernelTest, FindsAnIpv4ClientOfADualStackListener) {
  // The proxy sees ::ffff:127.0.0.1 on its v6 listener; the client's socket is plain AF_INET.
  auto p = connectPair(AF_INET6, "::", AF_INET, "127.0.0.1");
  if (!p) GTEST_SKIP() << "no dual-stack IPv6";
  ASSERT_TRUE(p->client_end.v6);
  expectFoundThroughNetlink(*p);
}

TEST(SockDiagKernelTest, AnAbsentSocketIsNoSocket) {
  auto p = connectPair(AF_INET, "127.0.0.1", AF_INET, "127.0.0.1");
  ASSERT_TRUE(p.has_value());
  TcpEndpoint other = p->client_end;
  other.port = static_cast<uint16_t>(other.port == 1 ? 2 : 1);  // nobody connects from port 1 or 2 here
  auto reply = querySockDiag(other, p->proxy_end, std::chrono::milliseconds(2000));
  if (!reply.ok()) GTEST_SKIP() << "no NETLINK_SOCK_DIAG here: " << reply.error().toString();
  EXPECT_EQ(reply->status, SockDiagStatus::kNoSocket);
  EXPECT_EQ(reply->error, ENOENT);
}

}  // namespace
}  // namespace warden::proxy
