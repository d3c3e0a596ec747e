#include "sandbox/landlock.h"

#include <linux/landlock.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "sandbox/landlock_abi.h"

namespace warden::sandbox {

int landlockKernelAbi() {
  const long abi = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  return abi > 0 ? static_cast<int>(abi) : 0;
}

uint64_t landlockFsRightsForAbi(int abi) {
  using namespace landlock_abi;
  if (abi <= 0) return 0;
  uint64_t rights = kFsRightsAbi1;
  if (abi >= 2) rights |= kAccessFsRefer;
  if (abi >= 3) rights |= kAccessFsTruncate;
  if (abi >= 5) rights |= kAccessFsIoctlDev;
  return rights;
}

uint64_t landlockNetRightsForAbi(int abi) {
  return abi >= 4 ? (landlock_abi::kAccessNetBindTcp | landlock_abi::kAccessNetConnectTcp) : 0;
}

uint64_t landlockScopesForAbi(int abi) {
  return abi >= 6 ? (landlock_abi::kScopeAbstractUnixSocket | landlock_abi::kScopeSignal) : 0;
}

uint64_t landlockFileRights(uint64_t rights) {
  using namespace landlock_abi;
  return rights & (kAccessFsExecute | kAccessFsWriteFile | kAccessFsReadFile | kAccessFsTruncate |
                   kAccessFsIoctlDev);
}

uint64_t landlockReadOnlyRights(uint64_t handled_fs) {
  using namespace landlock_abi;
  return handled_fs & (kAccessFsExecute | kAccessFsReadFile | kAccessFsReadDir);
}

namespace {

Result<void> addPaths(const std::vector<std::string>& paths, std::string_view list,
                      std::vector<std::string>& out, std::vector<std::string>& missing) {
  for (const auto& path : paths) {
    if (path.empty() || path.front() != '/') {
      return invalidArgument(fmt::format("filesystem.{}: '{}' is not an absolute path", list, path));
    }
    if (path.find('\0') != std::string::npos) {
      return invalidArgument(fmt::format("filesystem.{}: a path contains a NUL byte", list));
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 && (errno == ENOENT || errno == ENOTDIR)) {
      bool seen = false;
      for (const auto& m : missing) seen = seen || m == path;
      if (!seen) missing.push_back(path);
    }
    out.push_back(path);
  }
  return okResult();
}

}  // namespace

Result<LandlockPlan> planLandlockForAbi(int abi, const policy::FilesystemAccess& fs,
                                        const std::vector<std::string>& extra_read_only) {
  LandlockPlan plan;
  plan.kernel_abi = abi > 0 ? abi : 0;
  plan.handled_fs = landlockFsRightsForAbi(abi);
  plan.handled_net = 0;  // by decision; see landlock.h
  plan.scoped = landlockScopesForAbi(abi);

  std::vector<std::string> implicit_ro(std::begin(kLandlockImplicitReadOnly), std::end(kLandlockImplicitReadOnly));
  std::vector<std::string> implicit_rw(std::begin(kLandlockImplicitReadWrite), std::end(kLandlockImplicitReadWrite));
  WARDEN_RETURN_IF_ERROR(addPaths(fs.read_only, "read_only", plan.read_only, plan.missing));
  WARDEN_RETURN_IF_ERROR(addPaths(extra_read_only, "read_only (implicit)", plan.read_only, plan.missing));
  WARDEN_RETURN_IF_ERROR(addPaths(implicit_ro, "read_only (implicit)", plan.read_only, plan.missing));
  WARDEN_RETURN_IF_ERROR(addPaths(fs.read_write, "read_write", plan.read_write, plan.missing));
  WARDEN_RETURN_IF_ERROR(addPaths(implicit_rw, "read_write (implicit)", plan.read_write, plan.missing));
  return plan;
}

Result<LandlockPlan> planLandlock(const policy::FilesystemAccess& fs,
                                  const std::vector<std::string>& extra_read_only) {
  return planLandlockForAbi(landlockKernelAbi(), fs, extra_read_only);
}

bool LandlockPlan::degraded() const { return kernel_abi < kLandlockKnownAbi; }

std::string LandlockPlan::describe() const {
  const size_t paths = read_only.size() + read_write.size();
  std::string out;
  if (kernel_abi <= 0) {
    out = fmt::format("abi 0: Landlock unavailable, {} paths not enforced", paths);
  } else {
    out = fmt::format("abi {}: fs rights {:#x}", kernel_abi, handled_fs);
    if (handled_net != 0) out += fmt::format(", net rights {:#x}", handled_net);
    if (scoped != 0) out += fmt::format(", scoped {:#x}", scoped);
    out += fmt::format(", {} paths", paths);
  }
  if (!missing.empty()) out += fmt::format(" ({} missing: {})", missing.size(), fmt::join(missing, ", "));
  return out;
}

}  // namespace warden::sandbox
