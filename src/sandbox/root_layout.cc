#include "sandbox/root_layout.h"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>

namespace warden::sandbox {
namespace {

bool atOrUnder(std::string_view path, std::string_view dir) {
  if (dir == "/") return true;
  return path == dir || (path.starts_with(dir) && path.size() > dir.size() && path[dir.size()] == '/');
}

// A policy path the sandbox provides itself (not bound from the host).
bool sandboxOwned(std::string_view path) {
  for (std::string_view special : {"/proc", "/sys", "/dev/shm", "/dev/pts"}) {
    if (atOrUnder(path, special)) return true;
  }
  for (std::string_view exact : {"/dev", "/tmp", "/run", "/var/run"}) {
    if (path == exact) return true;
  }
  // /var/run is /run on the host: what lies under it is bound as under /run.
  return false;
}

// Lower is stronger when two actions want the same target.
int rank(MountKind kind) {
  switch (kind) {
    case MountKind::kProc:
    case MountKind::kSysfs:
    case MountKind::kTmpfs:
    case MountKind::kDevpts:
    case MountKind::kBindDevice:
    case MountKind::kSymlink:
      return 0;
    case MountKind::kBindWorkspace:
      return 1;
    case MountKind::kBindReadWrite:
      return 2;
    case MountKind::kBindReadOnly:
      return 3;
    case MountKind::kHide:
      return 4;
  }
  return 4;
}

}  // namespace

std::vector<MountAction> planRootLayout(const RootLayoutInput& input) {
  std::vector<MountAction> actions;
  const std::string tmp_data =
      input.tmp_bytes ? fmt::format("mode=1777,size={}", input.tmp_bytes) : std::string("mode=1777");
  const std::string shm_data =
      input.shm_bytes ? fmt::format("mode=1777,size={}", input.shm_bytes) : std::string("mode=1777");
  actions.push_back({MountKind::kProc, "", "/proc", ""});
  actions.push_back({MountKind::kSysfs, "", "/sys", ""});
  actions.push_back({MountKind::kTmpfs, "", "/dev", "mode=0755,size=65536,nr_inodes=1024"});
  for (const char* device : {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"}) {
    actions.push_back({MountKind::kBindDevice, device, device, ""});
  }
  actions.push_back({MountKind::kDevpts, "", "/dev/pts", "newinstance,ptmxmode=0666,mode=0620"});
  actions.push_back({MountKind::kSymlink, "pts/ptmx", "/dev/ptmx", ""});
  actions.push_back({MountKind::kTmpfs, "", "/dev/shm", shm_data});
  actions.push_back({MountKind::kSymlink, "/proc/self/fd", "/dev/fd", ""});
  actions.push_back({MountKind::kSymlink, "/proc/self/fd/0", "/dev/stdin", ""});
  actions.push_back({MountKind::kSymlink, "/proc/self/fd/1", "/dev/stdout", ""});
  actions.push_back({MountKind::kSymlink, "/proc/self/fd/2", "/dev/stderr", ""});
  actions.push_back({MountKind::kTmpfs, "", "/tmp", tmp_data});
  actions.push_back({MountKind::kTmpfs, "", "/run", "mode=0755,size=16777216"});
  // /var/run: a symlink to /run (where a bound /var already has one, this changes nothing).
  actions.push_back({MountKind::kSymlink, "/run", "/var/run", ""});

  auto bind = [&](MountKind kind, const std::string& source, const std::string& target) {
    if (target.empty() || target.front() != '/' || sandboxOwned(target)) return;
    actions.push_back({kind, source, target, ""});
  };
  for (const auto& p : input.read_only) bind(MountKind::kBindReadOnly, p, p);
  for (const auto& p : input.read_write) bind(MountKind::kBindReadWrite, p, p);
  if (!input.workspace.empty()) bind(MountKind::kBindWorkspace, input.workspace, input.workspace);
  // Parents before children: plain byte order puts "/a" before "/a/b" ('/' sorts before any name
  // byte that could follow it), and the strongest action first among equal targets.
  std::stable_sort(actions.begin(), actions.end(), [](const MountAction& a, const MountAction& b) {
    if (a.target != b.target) return a.target < b.target;
    return rank(a.kind) < rank(b.kind);
  });
  actions.erase(std::unique(actions.begin(), actions.end(),
                            [](const MountAction& a, const MountAction& b) { return a.target == b.target; }),
                actions.end());
  // Placed over the view once it is built; then what must stay hidden.
  for (const auto& extra : input.extra_read_only) {
    if (!extra.target.empty() && extra.target.front() == '/') {
      actions.push_back({MountKind::kBindReadOnly, extra.source, extra.target, ""});
    }
  }
  for (const auto& h : input.hidden) {
    if (!h.empty() && h.front() == '/') actions.push_back({MountKind::kHide, "", h, ""});
  }
  return actions;
}

}  // namespace warden::sandbox
