#include "sandbox/workspace.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string_view>

#include "common/file_io.h"

namespace warden::sandbox {
namespace {

bool atOrUnder(std::string_view path, std::string_view dir) {
  if (dir == "/") return true;
  return path == dir || (path.starts_with(dir) && path.size() > dir.size() && path[dir.size()] == '/');
}

constexpr std::string_view kSystemDirs[] = {"/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
                                            "/boot", "/proc", "/sys", "/dev", "/run", "/var/run"};
// Private to the sandbox: a policy entry for them does not cover a host directory under them.
constexpr std::string_view kPrivate[] = {"/tmp", "/run", "/var/run", "/dev/shm"};

bool isPrivate(std::string_view path) {
  for (auto p : kPrivate) {
    if (path == p) return true;
  }
  return false;
}

Result<void> writeMap(pid_t pid, std::string_view file, std::string_view line) {
  const std::string path = fmt::format("/proc/{}/{}", pid, file);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errnoError("opening " + path);
  const ssize_t n = ::write(fd, line.data(), line.size());
  const int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(line.size())) return errnoError("writing " + path, err);
  return okResult();
}

}  // namespace

Result<WorkspacePlan> planWorkspace(const std::string& dir, bool from_flag, const policy::FilesystemAccess& fs,
                                    const std::vector<std::string>& protected_paths) {
  const std::string what = from_flag ? fmt::format("--workspace {}", dir)
                                     : fmt::format("the current directory {}", dir);
  const std::string todo = from_flag ? "pass another --workspace DIR"
                                     : "cd to a project directory or pass --workspace DIR";
  std::error_code ec;
  const std::filesystem::path canonical = std::filesystem::canonical(dir, ec);
  if (ec) return notFound(fmt::format("{}: {}; {}", what, ec.message(), todo));
  struct stat st {};
  if (::stat(canonical.c_str(), &st) != 0) return errnoError(fmt::format("{}: {}", what, todo));
  if (!S_ISDIR(st.st_mode)) return invalidArgument(fmt::format("{} is not a directory; {}", what, todo));
  const std::string path = canonical.string();
  if (path == "/") {
    return invalidArgument(fmt::format("{} is the whole filesystem; the workspace is bound read-write for the agent: {}",
                                       what, todo));
  }
  for (auto system : kSystemDirs) {
    if (atOrUnder(path, system) || atOrUnder(system, path)) {
      return invalidArgument(fmt::format("{} is {} {}: the agent may not write there; {}", what,
                                         atOrUnder(path, system) ? "inside" : "a parent of", system, todo));
    }
  }
  for (const auto& own : protected_paths) {
    if (own.empty()) continue;
    if (atOrUnder(path, own) || atOrUnder(own, path)) {
      return invalidArgument(fmt::format("{} {} Warden's own {} (the record the agent may not touch); {}", what,
                                         atOrUnder(path, own) ? "is inside" : "holds", own, todo));
    }
  }
  WorkspacePlan plan;
  plan.path = path;
  plan.owner_uid = st.st_uid;
  plan.owner_gid = st.st_gid;
  for (const auto* list : {&fs.read_only, &fs.read_write}) {
    for (const auto& p : *list) {
      if (!isPrivate(p) && atOrUnder(path, p)) plan.bind = false;
    }
  }
  return plan;
}

Result<UniqueFd> makeIdmapUserNamespace(uid_t from_uid, gid_t from_gid, uid_t to_uid, gid_t to_gid) {
  // A raw fork (no atfork handlers in a multi-threaded caller); the child only waits to be killed.
  const long pid = ::syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, nullptr, nullptr, 0);
  if (pid < 0) return errnoError("clone(CLONE_NEWUSER) for the workspace idmapping");
  if (pid == 0) {
    for (;;) ::pause();
  }
  const auto child = static_cast<pid_t>(pid);
  auto reap = [child] {
    ::kill(child, SIGKILL);
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
  };
  Result<void> mapped = writeMap(child, "uid_map", fmt::format("{} {} 1\n", from_uid, to_uid));
  if (mapped.ok()) mapped = writeMap(child, "gid_map", fmt::format("{} {} 1\n", from_gid, to_gid));
  if (!mapped.ok()) {
    reap();
    return mapped.error().withContext("workspace idmapping");
  }
  UniqueFd fd(::open(fmt::format("/proc/{}/ns/user", child).c_str(), O_RDONLY | O_CLOEXEC));
  const int err = errno;
  reap();
  if (!fd.valid()) return errnoError("opening the idmapping's user namespace", err);
  return fd;
}

}  // namespace warden::sandbox
