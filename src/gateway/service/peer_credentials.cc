#include "gateway/service/peer_credentials.h"

#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>

#include "common/error.h"

namespace warden::gateway {

bool PeerCredentials::inGroup(gid_t wanted) const {
  return gid == wanted || std::find(groups.begin(), groups.end(), wanted) != groups.end();
}

Result<PeerCredentials> readPeerCredentials(int fd) {
  struct ucred cred {};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return errnoError("SO_PEERCRED");
  PeerCredentials out;
  out.pid = cred.pid;
  out.uid = cred.uid;
  out.gid = cred.gid;
  std::vector<gid_t> groups(64);
  for (int attempt = 0; attempt < 4; ++attempt) {
    socklen_t bytes = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &bytes) == 0) {
      groups.resize(bytes / sizeof(gid_t));
      out.groups = std::move(groups);
      return out;
    }
    if (errno == ERANGE) {  // `bytes` now says how much is needed
      groups.resize(bytes / sizeof(gid_t) + 1);
      continue;
    }
    if (errno == ENOPROTOOPT) return out;  // an old kernel: the primary group only
    return errnoError("SO_PEERGROUPS");
  }
  return internalError("SO_PEERGROUPS: the group list kept growing");
}

std::string userNameOf(uid_t uid) {
  struct passwd pw {};
  struct passwd* found = nullptr;
  std::vector<char> buffer(4096);
  if (::getpwuid_r(uid, &pw, buffer.data(), buffer.size(), &found) == 0 && found != nullptr &&
      found->pw_name != nullptr && found->pw_name[0] != '\0') {
    return found->pw_name;
  }
  return std::to_string(uid);
}

Result<gid_t> resolveGroup(std::string_view text) {
  if (text.empty()) return invalidArgument("an empty operator group");
  unsigned long number = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec == std::errc() && end == text.data() + text.size()) {
    if (number > 0xfffffffeUL) return invalidArgument("operator group " + std::string(text) + " is out of range");
    return static_cast<gid_t>(number);
  }
  struct group gr {};
  struct group* found = nullptr;
  std::vector<char> buffer(16384);
  const std::string name(text);
  const int rc = ::getgrnam_r(name.c_str(), &gr, buffer.data(), buffer.size(), &found);
  if (rc != 0) return errnoError("looking up the operator group " + name, rc);
  if (found == nullptr) return notFound("operator group '" + name + "' does not exist on this host");
  return found->gr_gid;
}

}  // namespace warden::gateway
