#pragma once

// The files a crashed supervisor leaves behind besides its cgroup and network (cgroup.h, subnet.h):
// its control socket and name file (/run/warden/sessions/<id>.sock, .name), the agent-readable CA
// and resolv.conf directory (/var/lib/warden/sessions/<id>/) and the empty mount point of the agent's
// root (/run/warden/roots/<id>, beside sessions_dir). A live supervisor holds an flock on
// /var/lib/warden/sessions/<id>.lock from before it creates any of them until after it removed them,
// so a session whose lock is free is not running and everything of it can go.

#include <filesystem>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"

namespace warden::sandbox {

// Creates state_dir (0755) and takes the session's lock; keep the fd for the session's life.
Result<UniqueFd> lockSessionState(const std::filesystem::path& state_dir, const std::string& session_id);

// True while a supervisor holds the session's lock (the session is being set up, runs, or is being
// torn down). A missing lock file: false.
bool sessionLockHeld(const std::filesystem::path& state_dir, const std::string& session_id);

// Removes the files of every session whose lock is free. Returns one line per session cleaned
// ("session <id>: control socket, state directory"). Never fails: what cannot be removed is left for
// the next sweep.
std::vector<std::string> sweepStaleSessionFiles(const std::filesystem::path& sessions_dir,
                                                const std::filesystem::path& state_dir);

}  // namespace warden::sandbox
