#include "sandbox/netlink.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "common/unique_fd.h"

namespace warden::sandbox {
namespace {

// Large enough for any answer to the requests made here (an error echoes the request).
constexpr size_t kBufBytes = 16384;

bool validIfName(std::string_view name) {
  return !name.empty() && name.size() < IFNAMSIZ && name.find('/') == std::string_view::npos &&
         name.find('\0') == std::string_view::npos;
}

nlmsghdr* putHeader(char* buf, uint16_t type, uint16_t flags, uint32_t seq) {
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | NLM_F_ACK | flags);
  nlh->nlmsg_seq = seq;
  return nlh;
}

ifinfomsg* putIfinfo(nlmsghdr* nlh, int ifindex) {
  auto* ifm = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifm->ifi_family = AF_UNSPEC;
  ifm->ifi_index = ifindex;
  return ifm;
}

void putString(nlmsghdr* nlh, uint16_t type, std::string_view value) {
  // Attribute strings are NUL-terminated; std::string guarantees the terminator.
  const std::string s(value);
  mnl_attr_put_strz(nlh, type, s.c_str());
}

Result<uint32_t> parseIpv4(std::string_view text) {
  in_addr addr{};
  const std::string s(text);
  if (::inet_pton(AF_INET, s.c_str(), &addr) != 1) return invalidArgument("not an IPv4 address: " + s);
  return addr.s_addr;  // network order
}

}  // namespace

RtNetlink::RtNetlink(mnl_socket* socket) : socket_(socket) {
  port_id_ = mnl_socket_get_portid(socket);
}

RtNetlink::~RtNetlink() = default;

Result<RtNetlink> RtNetlink::open() {
  mnl_socket* s = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (s == nullptr) return errnoError("socket(NETLINK_ROUTE)");
  if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0) {
    const int err = errno;
    mnl_socket_close(s);
    return errnoError("bind(NETLINK_ROUTE)", err);
  }
  return RtNetlink(s);
}

Result<void> RtNetlink::transact(void* buf, std::string_view what) {
  auto* nlh = static_cast<nlmsghdr*>(buf);
  if (mnl_socket_sendto(socket_.get(), nlh, nlh->nlmsg_len) < 0)
    return errnoError(std::string(what) + ": send");
  std::vector<char> answer(kBufBytes);
  for (;;) {
    const ssize_t n = mnl_socket_recvfrom(socket_.get(), answer.data(), answer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errnoError(std::string(what) + ": receive");
    }
    const int r =
        mnl_cb_run(answer.data(), static_cast<size_t>(n), nlh->nlmsg_seq, port_id_, nullptr, nullptr);
    if (r == MNL_CB_ERROR) return errnoError(std::string(what));
    if (r == MNL_CB_STOP) return okResult();  // the ACK (an NLMSG_ERROR with error 0)
    // MNL_CB_OK: something other than our answer; keep reading.
  }
}

Result<int> RtNetlink::linkIndex(std::string_view name) {
  if (!validIfName(name)) return invalidArgument("bad interface name '" + std::string(name) + "'");
  const std::string s(name);
  const unsigned int index = ::if_nametoindex(s.c_str());
  if (index == 0) {
    if (errno == ENODEV || errno == ENXIO) return notFound("no link named " + s);
    return errnoError("if_nametoindex(" + s + ")");
  }
  return static_cast<int>(index);
}

Result<void> RtNetlink::createVethPair(std::string_view name, std::string_view peer_name, int peer_netns_fd) {
  if (!validIfName(name) || !validIfName(peer_name))
    return invalidArgument("bad interface name for a veth pair");
  std::vector<char> buf(kBufBytes);
  nlmsghdr* nlh = putHeader(buf.data(), RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, ++seq_);
  putIfinfo(nlh, 0);
  putString(nlh, IFLA_IFNAME, name);
  nlattr* linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
  nlattr* data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
  nlattr* peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
  // The peer's attributes follow its own ifinfomsg.
  auto* peer_ifm = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  peer_ifm->ifi_family = AF_UNSPEC;
  putString(nlh, IFLA_IFNAME, peer_name);
  mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, static_cast<uint32_t>(peer_netns_fd));
  mnl_attr_nest_end(nlh, peer);
  mnl_attr_nest_end(nlh, data);
  mnl_attr_nest_end(nlh, linkinfo);
  return transact(buf.data(), "create veth " + std::string(name) + " / " + std::string(peer_name));
}

Result<void> RtNetlink::deleteLink(std::string_view name) {
  auto index = linkIndex(name);
  if (!index.ok()) return index.error();
  std::vector<char> buf(kBufBytes);
  nlmsghdr* nlh = putHeader(buf.data(), RTM_DELLINK, 0, ++seq_);
  putIfinfo(nlh, *index);
  return transact(buf.data(), "delete link " + std::string(name));
}

Result<void> RtNetlink::renameLink(int ifindex, std::string_view new_name) {
  if (!validIfName(new_name)) return invalidArgument("bad interface name '" + std::string(new_name) + "'");
  std::vector<char> buf(kBufBytes);
  nlmsghdr* nlh = putHeader(buf.data(), RTM_NEWLINK, 0, ++seq_);
  putIfinfo(nlh, ifindex);
  putString(nlh, IFLA_IFNAME, new_name);
  return transact(buf.data(), "rename link " + std::to_string(ifindex) + " to " + std::string(new_name));
}

Result<void> RtNetlink::setLinkUp(int ifindex) {
  std::vector<char> buf(kBufBytes);
  nlmsghdr* nlh = putHeader(buf.data(), RTM_NEWLINK, 0, ++seq_);
  ifinfomsg* ifm = putIfinfo(nlh, ifindex);
  ifm->ifi_flags = IFF_UP;
  ifm->ifi_change = IFF_UP;
  return transact(buf.data(), "set link " + std::to_string(ifindex) + " up");
}

Result<void> RtNetlink::addIpv4Address(int ifindex, std::string_view address, int prefix_len) {
  auto addr = parseIpv4(address);
  if (!addr.ok()) return addr.error();
  if (prefix_len < 0 || prefix_len > 32) return invalidArgument("bad IPv4 prefix length");
  std::vector<char> buf(kBufBytes);
  nlmsghdr* nlh = putHeader(buf.data(), RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, ++seq_);
  auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = static_cast<unsigned char>(prefix_len);
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = static_cast<uint32_t>(ifindex);
  mnl_attr_put_u32(nlh, IFA_LOCAL, *addr);
  mnl_attr_put_u32(nlh, IFA_ADDRESS, *addr);
  return transact(buf.data(), "add address " + std::string(address) + "/" + std::to_string(prefix_len) +
                                  " to link " + std::to_string(ifindex));
}

Result<void> RtNetlink::addIpv4DefaultRoute(std::string_view gateway, int ifindex) {
  auto gw = parseIpv4(gateway);
  if (!gw.ok()) return gw.error();
  std::vector<char> buf(kBufBytes);
  nlmsghdr* nlh = putHeader(buf.data(), RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, ++seq_);
  auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
  rtm->rtm_family = AF_INET;
  rtm->rtm_dst_len = 0;
  rtm->rtm_table = RT_TABLE_MAIN;
  rtm->rtm_protocol = RTPROT_STATIC;
  rtm->rtm_scope = RT_SCOPE_UNIVERSE;
  rtm->rtm_type = RTN_UNICAST;
  mnl_attr_put_u32(nlh, RTA_GATEWAY, *gw);
  mnl_attr_put_u32(nlh, RTA_OIF, static_cast<uint32_t>(ifindex));
  return transact(buf.data(), "add default route via " + std::string(gateway));
}

Result<void> disableIpv6(std::string_view ifname) {
  if (!validIfName(ifname)) return invalidArgument("bad interface name '" + std::string(ifname) + "'");
  const std::string path = "/proc/sys/net/ipv6/conf/" + std::string(ifname) + "/disable_ipv6";
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return okResult();  // no IPv6 in this kernel
    return errnoError("open " + path);
  }
  if (::write(fd.get(), "1\n", 2) != 2) return errnoError("write " + path);
  return okResult();
}

}  // namespace warden::sandbox
