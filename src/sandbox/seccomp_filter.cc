#include "sandbox/seccomp_filter.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <iterator>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "common/unique_fd.h"

namespace warden::sandbox {
namespace {

// System calls denied outright with EPERM. Each either changes what the sandbox is made of (mounts,
// namespaces, root directory), reaches the kernel in ways an agent never needs (modules, kexec, BPF,
// perf, keyrings, swap, reboot, the kernel log), inspects other processes (ptrace), or bypasses the
// per-call checks of this filter (io_uring executes its operations without seccomp seeing them).
constexpr const char* kDeniedCalls[] = {
    "ptrace",        "mount",           "umount2",         "fsopen",         "fsconfig",
    "fsmount",       "fspick",          "move_mount",      "open_tree",      "mount_setattr",
    "pivot_root",    "chroot",          "setns",           "kexec_load",     "kexec_file_load",
    "bpf",           "perf_event_open", "init_module",     "finit_module",   "delete_module",
    "keyctl",        "add_key",         "request_key",     "io_uring_setup", "io_uring_enter",
    "io_uring_register", "userfaultfd", "open_by_handle_at", "syslog",       "swapon",
    "swapoff",       "reboot",          "acct",            "iopl",           "ioperm",
    // Writing or reading another process's memory (another agent process's: an allowed binary's
    // identity means nothing if its memory can be rewritten), or taking its descriptors.
    "process_vm_writev", "process_vm_readv", "pidfd_getfd",
    // Kernel interfaces an agent never needs (clock and quota changes, obsolete calls).
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "quotactl", "quotactl_fd",
    "lookup_dcookie", "vhangup", "uselib", "nfsservctl", "_sysctl",
};

// Socket families the agent may use: unix, IPv4, IPv6 (to the proxy) and netlink (its own interfaces;
// getaddrinfo). Every other family — AF_VSOCK (a path around every control of a VM), AF_PACKET,
// AF_BLUETOOTH, AF_ALG, AF_XDP ... — is refused with EAFNOSUPPORT.
constexpr int kAllowedFamilies[] = {AF_UNIX, AF_INET, AF_INET6, AF_NETLINK};
constexpr int kMaxFamily = 64;  // above AF_MAX (46 in Linux 6.x), so future families are refused too

constexpr unsigned kSockTypeMask = 0xf;  // SOCK_NONBLOCK and SOCK_CLOEXEC live above it

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};

Error seccompError(std::string_view what, int rc) { return errnoError(fmt::format("seccomp: {}", what), -rc); }

}  // namespace

Result<SeccompProgram> buildSeccompProgram() {
  std::unique_ptr<void, CtxDeleter> ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (!ctx) return internalError("seccomp: seccomp_init failed");
  int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
  if (rc < 0) return seccompError("setting the bad-architecture action", rc);
  // The filter is loaded by the launcher's child after it set no_new_privs itself.
  rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0);
  if (rc < 0) return seccompError("clearing the no_new_privs attribute", rc);

  SeccompProgram program;
  const uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
  auto add = [&](const char* name, uint32_t action, std::string label, unsigned count,
                 const scmp_arg_cmp* args) -> Result<void> {
    const int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) return okResult();  // not a system call on this architecture
    const int r = seccomp_rule_add_array(ctx.get(), action, nr, count, args);
    if (r < 0) return seccompError(fmt::format("rule for {}", label), r);
    if (!label.empty()) program.denied.push_back(std::move(label));
    return okResult();
  };

  for (const char* name : kDeniedCalls) WARDEN_RETURN_IF_ERROR(add(name, eperm, name, 0, nullptr));

  // New user namespaces: they give back every capability inside them and expose far more kernel code.
  const scmp_arg_cmp newuser[] = {SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER)};
  WARDEN_RETURN_IF_ERROR(add("unshare", eperm, "unshare(CLONE_NEWUSER)", 1, newuser));
  WARDEN_RETURN_IF_ERROR(add("clone", eperm, "clone(CLONE_NEWUSER)", 1, newuser));
  WARDEN_RETURN_IF_ERROR(add("clone3", SCMP_ACT_ERRNO(ENOSYS), "clone3 (ENOSYS)", 0, nullptr));

  for (int family = 0; family < kMaxFamily; ++family) {
    if (std::find(std::begin(kAllowedFamilies), std::end(kAllowedFamilies), family) != std::end(kAllowedFamilies)) {
      continue;
    }
    const scmp_arg_cmp other[] = {SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(family))};
    const std::string label = family == 0 ? "socket and socketpair of families other than AF_UNIX, AF_INET, AF_INET6, "
                                            "AF_NETLINK (EAFNOSUPPORT)"
                                          : "";
    WARDEN_RETURN_IF_ERROR(add("socket", SCMP_ACT_ERRNO(EAFNOSUPPORT), label, 1, other));
    WARDEN_RETURN_IF_ERROR(add("socketpair", SCMP_ACT_ERRNO(EAFNOSUPPORT), "", 1, other));
  }
  // Raw and packet sockets: they would let the agent forge or sniff traffic around the proxy. Netlink
  // sockets are SOCK_RAW too and stay allowed (the C library's getaddrinfo uses them; the agent's
  // network namespace holds nothing but its own interfaces).
  const scmp_arg_cmp raw[] = {SCMP_A0(SCMP_CMP_NE, AF_NETLINK),
                              SCMP_A1(SCMP_CMP_MASKED_EQ, kSockTypeMask, SOCK_RAW)};
  WARDEN_RETURN_IF_ERROR(add("socket", eperm, "socket(SOCK_RAW)", 2, raw));
  const scmp_arg_cmp sockpacket[] = {SCMP_A0(SCMP_CMP_NE, AF_NETLINK),
                                     SCMP_A1(SCMP_CMP_MASKED_EQ, kSockTypeMask, SOCK_PACKET)};
  WARDEN_RETURN_IF_ERROR(add("socket", eperm, "socket(SOCK_PACKET)", 2, sockpacket));

  // Terminal input injection into whatever shares the agent's terminal (CVE-2017-5226 in bubblewrap).
  const scmp_arg_cmp tiocsti[] = {SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCSTI)};
  WARDEN_RETURN_IF_ERROR(add("ioctl", eperm, "ioctl(TIOCSTI)", 1, tiocsti));
  const scmp_arg_cmp tioclinux[] = {SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCLINUX)};
  WARDEN_RETURN_IF_ERROR(add("ioctl", eperm, "ioctl(TIOCLINUX)", 1, tioclinux));

  // Export the classic BPF through a memfd and read it back.
  UniqueFd memfd(::memfd_create("warden-seccomp", MFD_CLOEXEC));
  if (!memfd.valid()) return errnoError("seccomp: memfd_create");
  rc = seccomp_export_bpf(ctx.get(), memfd.get());
  if (rc < 0) return seccompError("seccomp_export_bpf", rc);
  const off_t size = ::lseek(memfd.get(), 0, SEEK_END);
  if (size < 0) return errnoError("seccomp: lseek");
  if (size == 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0) {
    return internalError(fmt::format("seccomp: exported program has {} bytes, not whole instructions", size));
  }
  program.filter.resize(static_cast<size_t>(size) / sizeof(sock_filter));
  size_t done = 0;
  auto* bytes = reinterpret_cast<char*>(program.filter.data());
  while (done < static_cast<size_t>(size)) {
    const ssize_t n = ::pread(memfd.get(), bytes + done, static_cast<size_t>(size) - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errnoError("seccomp: reading the exported program");
    if (n == 0) return internalError("seccomp: exported program shrank while read");
    done += static_cast<size_t>(n);
  }
  if (program.filter.size() > BPF_MAXINSNS) {
    return internalError(fmt::format("seccomp: program has {} instructions (max {})", program.filter.size(),
                                     BPF_MAXINSNS));
  }
  return program;
}

std::string SeccompProgram::describe() const {
  if (filter.empty()) return "seccomp: no filter";
  return fmt::format("seccomp: {} instructions; denied: {}; other architectures: killed", filter.size(),
                     fmt::join(denied, ", "));
}

}  // namespace warden::sandbox
