#include "sandbox/netlink_netns.h"

#include <fcntl.h>
#include <sched.h>

#include <cerrno>
#include <string>
#include <thread>

namespace warden::sandbox {

Result<UniqueFd> openNetns(pid_t pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/ns/net";
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return errnoError("open " + path);
  return fd;
}

Result<void> runInNetns(int netns_fd, const std::function<Result<void>()>& work) {
  Result<void> result = internalError("network namespace thread did not run");
  std::thread worker([&] {
    if (::setns(netns_fd, CLONE_NEWNET) != 0) {
      result = errnoError("setns(CLONE_NEWNET)");
      return;
    }
    result = work();
  });
  worker.join();
  return result;
}

}  // namespace warden::sandbox
