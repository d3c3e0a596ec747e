// cleanupStaleCgroups: removes session cgroups left behind by supervisors that crashed.

#include <dirent.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "common/unique_fd.h"
#include "sandbox/cgroup.h"
#include "sandbox/stale_sessions.h"
#include "sandbox/cgroup_fs.h"

namespace warden::sandbox {
namespace {

// True when something listens on the session's control socket: its supervisor is alive.
bool supervisorAnswers(const std::filesystem::path& socket_path) {
  const std::string p = socket_path.string();
  sockaddr_un addr{};
  if (p.size() >= sizeof(addr.sun_path)) return false;
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, p.c_str(), p.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return false;
  return ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
}

std::vector<std::string> sessionDirs(const std::string& parent) {
  std::vector<std::string> out;
  DIR* d = ::opendir(parent.c_str());
  if (d == nullptr) return out;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.size() > 7 && name.compare(0, 7, "warden-") == 0 && e->d_type == DT_DIR) out.push_back(name);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::vector<std::string> cleanupStaleCgroups(const CgroupLayout& layout, const std::filesystem::path& sockets_dir,
                                             const std::filesystem::path& state_dir) {
  std::set<std::string> parents;
  if (const std::string d = layout.ownDir(""); !d.empty()) parents.insert(d);
  for (const auto& [controller, mount] : layout.v1_mounts) {
    if (const std::string d = layout.ownDir(controller); !d.empty()) parents.insert(d);
  }
  std::vector<std::string> removed;
  for (const std::string& parent : parents) {
    for (const std::string& name : sessionDirs(parent)) {
      const std::string dir = parent + "/" + name;
      if (!cgroupfs::readProcs(dir).empty()) continue;
      if (sessionLockHeld(state_dir, name.substr(7))) continue;
      if (supervisorAnswers(sockets_dir / (name.substr(7) + ".sock"))) continue;
      if (::rmdir(dir.c_str()) == 0) removed.push_back(dir);
    }
  }
  return removed;
}

}  // namespace warden::sandbox
