#pragma once

// The agent's workspace (sandbox.md "Isolation", "Workspace"): the directory `warden run` is started
// in (or --workspace DIR) is the agent's working directory and is read-write inside the sandbox, also
// under /tmp (it is bound on top of the private /tmp). A policy whose `filesystem` section lists the
// workspace or a parent of it rules instead (read-only there means read-only). When the directory
// belongs to someone other than the agent user, it is bound idmapped: its owner's files appear as
// the agent's and what the agent writes is stored as the owner's, so "read-write" holds without
// changing anything on disk.

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"
#include "policy/model.h"

namespace warden::sandbox {

struct WorkspacePlan {
  std::string path;          // absolute, symlinks resolved; the agent's working directory
  bool bind = true;          // bound read-write (false: the policy's filesystem section covers it)
  uid_t owner_uid = 0;       // the directory's owner and group
  gid_t owner_gid = 0;
};

// Checks `dir` (the invoking directory, or --workspace's): it must exist and be a directory, and it
// may not be "/", a system directory (/usr, /etc, /bin, /sbin, /lib*, /boot), a kernel filesystem
// (/proc, /sys, /dev, /run), one of Warden's own (`protected_paths`: the log directory, the state
// and spool directories) or a parent of any of these. Errors are InvalidArgument / NotFound with
// the reason and what to do ("cd to a project directory or pass --workspace DIR"). `from_flag`
// only changes the wording.
Result<WorkspacePlan> planWorkspace(const std::string& dir, bool from_flag, const policy::FilesystemAccess& fs,
                                    const std::vector<std::string>& protected_paths);

// A user namespace mapping uid `from_uid` to `to_uid` and gid `from_gid` to `to_gid` (one id each),
// for idmapping the workspace mount. Made by a short-lived child that is killed and reaped before
// this returns; the descriptor keeps the namespace alive.
Result<UniqueFd> makeIdmapUserNamespace(uid_t from_uid, gid_t from_gid, uid_t to_uid, gid_t to_gid);

}  // namespace warden::sandbox
