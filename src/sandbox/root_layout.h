#pragma once

// The agent's filesystem view (sandbox.md "Isolation", "Filesystem view"): a new root that holds only
// what the policy allows, so anything else on the host — a unix socket under /run, a database's
// socket directory, the supervisor's files — is simply not there. Planned here as an ordered list of
// mount actions (pure, testable); the launcher's child executes them inside its own mount namespace
// on a fresh tmpfs and pivots into it.
//
//   /                 a small tmpfs (the skeleton: directories and mount points only)
//   policy read_only  bound read-only (nosuid, nodev); a symlink on the host (/lib -> usr/lib) is
//                     recreated as the same symlink
//   policy read_write bound read-write (nosuid, nodev)
//   workspace         bound read-write (idmapped to the agent user when it belongs to someone else)
//   /proc             a new procfs of the session's pid namespace
//   /sys              sysfs, read-only
//   /dev              a tmpfs with null, zero, full, random, urandom, tty bound from the host, a new
//                     devpts instance (pts, ptmx), /dev/shm (tmpfs, size-limited), fd/stdin/stdout/stderr
//   /tmp              a private tmpfs, size-limited (charged to the session's memory cgroup)
//   /run              a private tmpfs; /var/run resolves to it
//   extra binds       read-only files placed over the view (the session's resolv.conf, its CA files)
//   hidden paths      an empty read-only tmpfs (or /dev/null) over anything of Warden's that a bind
//                     brought in (the log directory, /var/log/warden, /run/warden, the spool)
//
// A policy path at or under /proc, /sys, or exactly /dev, /tmp, /run, /var/run, /dev/shm is not
// bound (those are the sandbox's own); a path strictly under /tmp, /run or /dev is bound on top of
// the private mount (the workspace under /tmp; a unix socket the policy names explicitly).

#include <cstdint>
#include <string>
#include <vector>

namespace warden::sandbox {

enum class MountKind {
  kBindReadOnly,   // bind source at target, then remount read-only, nosuid, nodev
  kBindReadWrite,  // bind source at target, then remount nosuid, nodev
  kBindDevice,     // bind a device node (nosuid, noexec; device access allowed)
  kBindWorkspace,  // like kBindReadWrite, idmapped to the agent when the launcher has a mapping
  kTmpfs,          // tmpfs at target with `data` ("mode=1777,size=...")
  kProc,           // procfs (nosuid, nodev, noexec)
  kSysfs,          // sysfs, read-only
  kDevpts,         // a new devpts instance
  kSymlink,        // target -> source
  kHide,           // an empty read-only tmpfs over a directory, /dev/null over a file; skipped if absent
};

struct MountAction {
  MountKind kind = MountKind::kBindReadOnly;
  std::string source;  // the host path (binds) or the link text (symlinks); empty otherwise
  std::string target;  // absolute path in the agent's view
  std::string data;    // mount options for tmpfs, devpts
  bool operator==(const MountAction&) const = default;
};

struct RootLayoutInput {
  std::vector<std::string> read_only;   // absolute host paths, shown at the same path
  std::vector<std::string> read_write;  // absolute host paths, shown at the same path
  std::string workspace;                // bound read-write at the same path; empty: none
  struct Bind {
    std::string source;
    std::string target;
  };
  std::vector<Bind> extra_read_only;    // placed over the view (resolv.conf, the CA directory)
  std::vector<std::string> hidden;      // hidden if a bind brought them in
  uint64_t tmp_bytes = 0;               // /tmp size; 0: the kernel's default (half of RAM)
  uint64_t shm_bytes = 0;               // /dev/shm size; 0: the kernel's default
};

// The actions in execution order: every parent directory's mount before its children's, the
// sandbox's own mounts winning over a policy path at the same place, hidden paths last.
std::vector<MountAction> planRootLayout(const RootLayoutInput& input);

}  // namespace warden::sandbox
