#include "proxy/sock_diag.h"

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "common/unique_fd.h"

namespace warden::proxy {
namespace {

constexpr size_t kReceiveBytes = 16 * 1024;
constexpr int kMaxDatagrams = 16;  // stray datagrams (another sequence) tolerated before giving up

// Reads a T from `data` at `offset` (unaligned-safe); false if it does not fit.
template <typename T>
bool readAt(std::span<const uint8_t> data, size_t offset, T* out) {
  if (offset > data.size() || data.size() - offset < sizeof(T)) return false;
  std::memcpy(out, data.data() + offset, sizeof(T));
  return true;
}

// The id's address words for an endpoint (network order, as the kernel keeps them). A v4 endpoint in a
// v6 request (a mixed pair, which no socket has) is written as its 16 stored bytes: the kernel finds nothing.
void putAddress(const TcpEndpoint& endpoint, bool v6, __be32 (&words)[4]) {
  std::memset(words, 0, sizeof(words));
  std::memcpy(words, endpoint.address.data(), v6 ? 16 : 4);
}

TcpEndpoint endpointOf(uint8_t family, const __be32 (&words)[4], __be16 port_be) {
  std::array<uint8_t, 16> bytes{};
  std::memcpy(bytes.data(), words, 16);
  const uint16_t port = ntohs(port_be);
  if (family == AF_INET) return TcpEndpoint::v4({bytes[0], bytes[1], bytes[2], bytes[3]}, port);
  return TcpEndpoint::v6addr(bytes, port);
}

}  // namespace

std::vector<uint8_t> buildSockDiagRequest(const TcpEndpoint& local, const TcpEndpoint& remote, uint32_t seq) {
  const TcpEndpoint l = local.normalized();
  const TcpEndpoint r = remote.normalized();
  // A v4 local with a v6 remote (or the reverse) cannot be one socket; ask with v6 and get ENOENT.
  const bool v6 = l.v6 || r.v6;
  struct {
    nlmsghdr header;
    inet_diag_req_v2 request;
  } message{};
  message.header.nlmsg_len = sizeof(message);
  message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  message.header.nlmsg_flags = NLM_F_REQUEST;
  message.header.nlmsg_seq = seq;
  message.request.sdiag_family = v6 ? AF_INET6 : AF_INET;
  message.request.sdiag_protocol = IPPROTO_TCP;
  message.request.idiag_states = ~0u;
  message.request.id.idiag_sport = htons(l.port);
  message.request.id.idiag_dport = htons(r.port);
  putAddress(l, v6, message.request.id.idiag_src);
  putAddress(r, v6, message.request.id.idiag_dst);
  message.request.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
  message.request.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
  std::vector<uint8_t> bytes(sizeof(message));
  std::memcpy(bytes.data(), &message, sizeof(message));
  return bytes;
}

SockDiagReply parseSockDiagReply(std::span<const uint8_t> data, uint32_t seq, const TcpEndpoint& local,
                                 const TcpEndpoint& remote) {
  const TcpEndpoint want_local = local.normalized();
  const TcpEndpoint want_remote = remote.normalized();
  SockDiagReply reply;
  size_t offset = 0;
  while (offset < data.size()) {
    nlmsghdr header{};
    if (!readAt(data, offset, &header)) break;
    const size_t remaining = data.size() - offset;
    if (header.nlmsg_len < sizeof(nlmsghdr) || header.nlmsg_len > remaining) break;
    const std::span<const uint8_t> payload = data.subspan(offset + sizeof(nlmsghdr), header.nlmsg_len - sizeof(nlmsghdr));
    // NLMSG_ALIGN, without overflowing: the aligned length may run past the datagram's end.
    const size_t advance = (static_cast<size_t>(header.nlmsg_len) + NLMSG_ALIGNTO - 1) & ~size_t{NLMSG_ALIGNTO - 1};
    offset = advance >= remaining ? data.size() : offset + advance;
    if (header.nlmsg_seq != seq) continue;
    if (header.nlmsg_type == NLMSG_DONE) {
      if (reply.status == SockDiagStatus::kMalformed) reply.status = SockDiagStatus::kDone;
      return reply;
    }
    if (header.nlmsg_type == NLMSG_ERROR) {
      nlmsgerr error{};
      if (!readAt(payload, 0, &error)) continue;
      if (error.error == 0) continue;  // an acknowledgement
      // error.error is a negative errno; refuse INT_MIN and positive nonsense.
      if (error.error > 0 || error.error < -4095) continue;
      reply.error = -error.error;
      reply.status = reply.error == ENOENT ? SockDiagStatus::kNoSocket : SockDiagStatus::kError;
      return reply;
    }
    if (header.nlmsg_type != SOCK_DIAG_BY_FAMILY) continue;
    inet_diag_msg msg{};
    if (!readAt(payload, 0, &msg)) continue;
    if (msg.idiag_family != AF_INET && msg.idiag_family != AF_INET6) continue;
    SockDiagSocket socket;
    socket.local = endpointOf(msg.idiag_family, msg.id.idiag_src, msg.id.idiag_sport);
    socket.remote = endpointOf(msg.idiag_family, msg.id.idiag_dst, msg.id.idiag_dport);
    // The kernel answers for the tuple asked; check anyway rather than trust a stray message.
    if (socket.local.normalized() != want_local || socket.remote.normalized() != want_remote) continue;
    socket.inode = msg.idiag_inode;
    socket.uid = msg.idiag_uid;
    socket.state = msg.idiag_state;
    reply.status = SockDiagStatus::kFound;
    reply.socket = socket;
    return reply;
  }
  return reply;
}

Result<SockDiagReply> querySockDiag(const TcpEndpoint& local, const TcpEndpoint& remote,
                                    std::chrono::milliseconds timeout) {
  UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
  if (!fd.valid()) return errnoError("sock_diag: socket(NETLINK_SOCK_DIAG)");
  // The sequence only has to be unique on this socket, which is ours alone.
  constexpr uint32_t kSeq = 1;
  const std::vector<uint8_t> request = buildSockDiagRequest(local, remote, kSeq);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  ssize_t sent;
  do {
    sent = ::sendto(fd.get(), request.data(), request.size(), 0, reinterpret_cast<const sockaddr*>(&kernel),
                    sizeof(kernel));
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) return errnoError("sock_diag: send");
  if (static_cast<size_t>(sent) != request.size()) return unavailable("sock_diag: short send");

  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<uint8_t> buffer(kReceiveBytes);
  for (int datagrams = 0; datagrams < kMaxDatagrams;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return deadlineExceeded("sock_diag: no answer from the kernel in time");
    pollfd p{.fd = fd.get(), .events = POLLIN, .revents = 0};
    const int ready = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 60'000)));
    if (ready < 0) {
      if (errno == EINTR) continue;
      return errnoError("sock_diag: poll");
    }
    if (ready == 0) continue;  // the deadline check above ends the loop
    sockaddr_nl from{};
    socklen_t from_len = sizeof(from);
    const ssize_t n = ::recvfrom(fd.get(), buffer.data(), buffer.size(), MSG_DONTWAIT,
                                 reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return errnoError("sock_diag: recv");
    }
    ++datagrams;
    if (from_len < sizeof(from) || from.nl_family != AF_NETLINK || from.nl_pid != 0) continue;  // not the kernel
    SockDiagReply reply =
        parseSockDiagReply(std::span<const uint8_t>(buffer.data(), static_cast<size_t>(n)), kSeq, local, remote);
    if (reply.status != SockDiagStatus::kMalformed) return reply;
  }
  return unavailable("sock_diag: no usable answer from the kernel");
}

}  // namespace warden::proxy
