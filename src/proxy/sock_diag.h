#pragma once

// Finds one TCP socket by its exact 4-tuple through NETLINK_SOCK_DIAG (inet_diag,
// SOCK_DIAG_BY_FAMILY with INET_DIAG_REQ_V2, no dump): the kernel does one hash lookup instead of
// printing its whole TCP table as /proc/<pid>/net/tcp does. Caller identity (caller_identity.h) uses
// it for the socket inode and owner uid, and falls back to the /proc table when it is unavailable.
//
// The netlink socket answers for the network namespace of the thread that opens it: callers must
// only use it for sockets in their own namespace.
//
// Split in two: buildSockDiagRequest()/parseSockDiagReply() are pure (the reply is kernel input and
// is bounds-checked field by field; fuzzed by tests/fuzz/proc_parse_fuzz.cc), querySockDiag() does
// the syscalls. All functions are stateless and thread-safe.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/result.h"
#include "proxy/proc_parse.h"

namespace warden::proxy {

// What the kernel knows about the socket.
struct SockDiagSocket {
  uint64_t inode = 0;  // 0: no process holds it (TIME_WAIT, orphaned after close)
  uint32_t uid = 0;    // the socket's owner (the creator's fsuid)
  uint8_t state = 0;   // TCP_ESTABLISHED = 1, ...
  TcpEndpoint local;   // as the kernel reported it (IPv4-mapped for a dual-stack socket)
  TcpEndpoint remote;
};

enum class SockDiagStatus {
  kFound,      // `socket` is filled
  kNoSocket,   // the kernel answered ENOENT: no such socket — or no tcp_diag module, or a link-local
               // socket bound to its interface (the request carries no interface): not authoritative
  kError,      // the kernel answered another errno (`error`)
  kMalformed,  // nothing usable for this request in the datagram (short, wrong sequence, wrong tuple)
  kDone,       // NLMSG_DONE with nothing before it
};

struct SockDiagReply {
  SockDiagStatus status = SockDiagStatus::kMalformed;
  SockDiagSocket socket;
  int error = 0;  // positive errno for kNoSocket / kError
};

// The request for the socket whose local end is `local` and remote end is `remote` (for a proxy's
// client: local = the client's address, remote = the proxy's). An IPv4-mapped pair is asked as
// AF_INET with the IPv4 addresses (the kernel hashes such sockets by their IPv4 addresses).
std::vector<uint8_t> buildSockDiagRequest(const TcpEndpoint& local, const TcpEndpoint& remote, uint32_t seq);

// Parses one datagram received after that request. Only messages with `seq` count; an inet_diag_msg
// whose 4-tuple is not (local, remote) (compared normalized) is ignored. Never reads past `data`.
SockDiagReply parseSockDiagReply(std::span<const uint8_t> data, uint32_t seq, const TcpEndpoint& local,
                                 const TcpEndpoint& remote);

// Opens a NETLINK_SOCK_DIAG socket, sends the request and waits at most `timeout` for the answer.
// kNoSocket and kError are reported in the Result's value; the Error is for the transport (socket(),
// send, timeout: Unavailable/PermissionDenied — fall back to /proc).
Result<SockDiagReply> querySockDiag(const TcpEndpoint& local, const TcpEndpoint& remote,
                                    std::chrono::milliseconds timeout);

}  // namespace warden::proxy
