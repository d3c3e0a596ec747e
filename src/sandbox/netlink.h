#pragma once

// A small rtnetlink client (libmnl) for what `warden run` does to links, addresses and routes.
// It works in the network namespace its socket was opened in: open it on a thread that has
// setns()ed into the sandbox's namespace (netlink_netns.h) to configure the sandbox side.

#include <libmnl/libmnl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace warden::sandbox {

// One NETLINK_ROUTE socket. Every request is sent with NLM_F_ACK and waits for its answer
// (the kernel answers synchronously), so a method returns only once the change is made or refused.
// Owns the socket; move-only; not thread-safe (one thread at a time). Errors carry the kernel's
// errno mapped to a canonical code (EPERM -> PermissionDenied, ENODEV/ENOENT -> NotFound,
// EEXIST -> AlreadyExists) and name the object.
class RtNetlink {
 public:
  static Result<RtNetlink> open();

  RtNetlink(RtNetlink&&) noexcept = default;
  RtNetlink& operator=(RtNetlink&&) noexcept = default;
  ~RtNetlink();

  // ifindex of `name`; NotFound when there is no such link in this namespace.
  Result<int> linkIndex(std::string_view name);
  // A veth pair: `name` here, `peer_name` created directly in the network namespace `peer_netns_fd`
  // refers to (an fd of /proc/<pid>/ns/net), both down.
  Result<void> createVethPair(std::string_view name, std::string_view peer_name, int peer_netns_fd);
  // Deletes a link (a veth takes its peer with it). NotFound when it is not there.
  Result<void> deleteLink(std::string_view name);
  // Renames a link (it must be down).
  Result<void> renameLink(int ifindex, std::string_view new_name);
  Result<void> setLinkUp(int ifindex);
  // Adds `address`/`prefix_len` (IPv4 dotted quad) to the link.
  Result<void> addIpv4Address(int ifindex, std::string_view address, int prefix_len);
  // The IPv4 default route via `gateway` on the link.
  Result<void> addIpv4DefaultRoute(std::string_view gateway, int ifindex);

 private:
  struct SocketCloser {
    void operator()(mnl_socket* s) const { mnl_socket_close(s); }
  };
  explicit RtNetlink(mnl_socket* socket);
  // Sends the message in `buf` and waits for its ACK (or error); `what` names it in errors.
  Result<void> transact(void* buf, std::string_view what);
  std::unique_ptr<mnl_socket, SocketCloser> socket_;
  uint32_t port_id_ = 0;
  uint32_t seq_ = 0;
};

// Sets /proc/sys/net/ipv6/conf/<ifname>/disable_ipv6 to 1 in the calling thread's network
// namespace, so the link never gets an IPv6 link-local address (and never sends router or
// neighbour solicitations the sandbox firewall would report as bypass attempts). A kernel without
// IPv6 (no such file) is success.
Result<void> disableIpv6(std::string_view ifname);

}  // namespace warden::sandbox
