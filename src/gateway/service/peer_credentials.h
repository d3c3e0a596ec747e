#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace warden::gateway {

// Who is at the other end of a connected unix socket, as the kernel recorded it when the peer
// called connect(2): SO_PEERCRED (pid, uid, gid, translated into this process's namespaces) and
// SO_PEERGROUPS (its supplementary groups). The peer cannot forge these; the pid may since have
// exited or been reused, so it is recorded, never trusted for a decision.
struct PeerCredentials {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups at connect time

  // True when `gid` is the peer's primary group or one of its supplementary groups.
  bool inGroup(gid_t gid_wanted) const;
};

// Reads them from `fd` (a connected AF_UNIX stream socket). Errors: errnoError for a socket that is
// not a unix socket or a failed getsockopt; a kernel without SO_PEERGROUPS (before 4.13) yields the
// primary group only.
Result<PeerCredentials> readPeerCredentials(int fd);

// The login name of `uid` (getpwuid_r), or the number as text when it has none.
std::string userNameOf(uid_t uid);

// A group given by name (getgrnam_r) or number. NotFound for a name the system does not know,
// InvalidArgument for an empty text.
Result<gid_t> resolveGroup(std::string_view name_or_number);

}  // namespace warden::gateway
