// CgroupLayout::detect: where the cgroup hierarchies are mounted and where this process sits in them.

#include <fmt/format.h>

#include <set>
#include <vector>

#include "sandbox/cgroup.h"
#include "sandbox/cgroup_fs.h"

namespace warden::sandbox {
namespace {

// The v1 controllers the kernel knows; other super options (rw, xattr, name=…) are mount options.
const std::set<std::string, std::less<>> kV1Controllers = {
    "cpu",  "cpuacct",   "cpuset",  "memory",  "devices", "freezer", "net_cls",
    "blkio", "perf_event", "net_prio", "hugetlb", "pids",    "rdma",    "misc"};

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t p = s.find(sep, start);
    out.emplace_back(s.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start));
    if (p == std::string_view::npos) break;
    start = p + 1;
  }
  return out;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescapeOctal(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' &&
        s[i + 3] <= '7') {
      out.push_back(static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

struct Mount {
  std::string root;
  std::string point;
};

// The path of a process's cgroup relative to a mount whose root is `root`; "" when it is not below.
std::string relativeTo(const std::string& own, const std::string& root) {
  if (root == "/" || root.empty()) return own;
  if (own == root) return "/";
  if (own.size() > root.size() && own.compare(0, root.size(), root) == 0 && own[root.size()] == '/') {
    return own.substr(root.size());
  }
  return "";
}

}  // namespace

Result<CgroupLayout> CgroupLayout::detect(const std::string& proc_self) {
  auto mountinfo = cgroupfs::readText(proc_self + "/mountinfo");
  if (!mountinfo.ok()) return mountinfo.error().withContext("cgroup layout");
  auto cgroup = cgroupfs::readText(proc_self + "/cgroup");
  if (!cgroup.ok()) return cgroup.error().withContext("cgroup layout");

  // controller ("" = v2) -> this process's path, from /proc/self/cgroup.
  std::map<std::string, std::string> own;
  for (const std::string& line : split(*cgroup, '\n')) {
    if (line.empty()) continue;
    const size_t a = line.find(':');
    const size_t b = a == std::string::npos ? std::string::npos : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    const std::string controllers = line.substr(a + 1, b - a - 1);
    const std::string path = line.substr(b + 1);
    if (path.empty() || path[0] != '/') continue;
    if (line.compare(0, a, "0") == 0 && controllers.empty()) {
      own[""] = path;
      continue;
    }
    for (const std::string& c : split(controllers, ',')) {
      if (kV1Controllers.count(c) != 0) own[c] = path;
    }
  }

  CgroupLayout layout;
  std::map<std::string, Mount> v1;  // controller -> its first mount
  std::optional<Mount> v2;
  for (const std::string& line : split(*mountinfo, '\n')) {
    const size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    const auto left = split(line.substr(0, dash), ' ');
    const auto right = split(line.substr(dash + 3), ' ');
    if (left.size() < 5 || right.size() < 3) continue;
    const std::string& fstype = right[0];
    Mount m{unescapeOctal(left[3]), unescapeOctal(left[4])};
    if (fstype == "cgroup2") {
      if (!v2) v2 = m;
    } else if (fstype == "cgroup") {
      for (const std::string& opt : split(right[2], ',')) {
        if (kV1Controllers.count(opt) != 0 && v1.count(opt) == 0) v1.emplace(opt, m);
      }
    }
  }
  if (v2) {
    layout.v2_mount = v2->point;
    if (auto it = own.find(""); it != own.end()) {
      const std::string rel = relativeTo(it->second, v2->root);
      if (!rel.empty()) layout.own_paths[""] = rel;
    }
  }
  for (const auto& [controller, m] : v1) {
    layout.v1_mounts[controller] = m.point;
    if (auto it = own.find(controller); it != own.end()) {
      const std::string rel = relativeTo(it->second, m.root);
      if (!rel.empty()) layout.own_paths[controller] = rel;
    }
  }
  return layout;
}

std::string CgroupLayout::ownDir(const std::string& controller) const {
  std::string mount;
  if (controller.empty()) {
    mount = v2_mount;
  } else if (auto it = v1_mounts.find(controller); it != v1_mounts.end()) {
    mount = it->second;
  }
  if (mount.empty()) return "";
  auto it = own_paths.find(controller);
  if (it == own_paths.end()) return "";
  if (it->second == "/") return mount;
  return mount + it->second;
}

}  // namespace warden::sandbox
