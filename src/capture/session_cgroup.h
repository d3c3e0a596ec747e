#pragma once

#include <cstdint>
#include <string>

namespace warden::capture {

// Whether a process belongs to the session, for the fallback sources (the eBPF programs check in the
// kernel): its /proc/<pid>/cgroup v2 line ("0::/path") names the session's cgroup or one below it.
// Racy by nature (the process may be gone): false when it cannot be read.
class SessionCgroup {
 public:
  // `cgroup_path`: the session's directory under the cgroup2 mount (e.g. /sys/fs/cgroup/unified/x).
  explicit SessionCgroup(const std::string& cgroup_path);
  bool contains(uint32_t pid) const;
  const std::string& relative() const { return relative_; }  // "/x"

 private:
  std::string relative_;
};

}  // namespace warden::capture
