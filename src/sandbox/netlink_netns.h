#pragma once

// Running code inside another network namespace without moving the process: setns(2) with
// CLONE_NEWNET changes only the calling thread, so the work runs on a short-lived thread that
// joins the namespace, does it and ends. Sockets opened there (rtnetlink, nftables) belong to that
// namespace for their whole life.

#include <sys/types.h>

#include <functional>

#include "common/result.h"
#include "common/unique_fd.h"

namespace warden::sandbox {

// An fd of /proc/<pid>/ns/net (O_RDONLY|O_CLOEXEC). Holding it keeps the namespace alive.
// NotFound when the process is gone.
Result<UniqueFd> openNetns(pid_t pid);

// Runs `work` on a new thread that has joined the network namespace `netns_fd`, waits for it and
// returns its result. Blocks the caller for the duration. The thread ends with `work`; nothing else
// runs in the namespace. Errors: setns's errno (PermissionDenied without CAP_SYS_ADMIN), or `work`'s.
Result<void> runInNetns(int netns_fd, const std::function<Result<void>()>& work);

}  // namespace warden::sandbox
