#include "capture/session_cgroup.h"

#include <fstream>
#include <sstream>

#include "common/file_io.h"

namespace warden::capture {

SessionCgroup::SessionCgroup(const std::string& cgroup_path) {
  std::ifstream mi("/proc/self/mountinfo");
  std::string line;
  size_t best = 0;
  while (std::getline(mi, line)) {
    const size_t dash = line.find(" - ");
    if (dash == std::string::npos || line.compare(dash + 3, 8, "cgroup2 ") != 0) continue;
    std::istringstream in(line.substr(0, dash));
    std::string id, parent, devno, root, point;
    in >> id >> parent >> devno >> root >> point;
    if (cgroup_path.compare(0, point.size(), point) == 0 && point.size() >= best) {
      best = point.size();
      relative_ = (root == "/" ? "" : root) + cgroup_path.substr(point.size());
    }
  }
  if (relative_.empty()) relative_ = "/";
}

bool SessionCgroup::contains(uint32_t pid) const {
  std::ifstream f("/proc/" + std::to_string(pid) + "/cgroup");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("0::", 0) != 0) continue;
    const std::string path = line.substr(3);
    return path == relative_ || (path.size() > relative_.size() && path.compare(0, relative_.size(), relative_) == 0 &&
                                 path[relative_.size()] == '/');
  }
  return false;
}

}  // namespace warden::capture
