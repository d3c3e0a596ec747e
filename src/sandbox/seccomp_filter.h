#pragma once

// The seccomp part of the sandbox (sandbox.md "Isolation"): a deny-list of system calls that would
// let the agent leave or blind the sandbox. Built in the supervisor with libseccomp and exported as
// classic BPF; the launcher's child loads the instructions with seccomp(SECCOMP_SET_MODE_FILTER) after
// no_new_privs, so it needs no library code (and no allocation) after clone.

#include <linux/filter.h>

#include <string>
#include <vector>

#include "common/result.h"

namespace warden::sandbox {

// A ready-to-load filter. A plain value; copy it freely.
struct SeccompProgram {
  std::vector<sock_filter> filter;   // empty: nothing to apply
  std::vector<std::string> denied;   // what the filter denies, one entry per rule, for describe()
  // "seccomp: 143 instructions; denied: ptrace, mount, ..., clone3 (ENOSYS), ...; other architectures: killed"
  std::string describe() const;
};

// Builds the filter for the native architecture. Default action: allow. Denied with EPERM (the
// caller sees a clean failure instead of dying, so tools fall back or report it): ptrace, mount,
// umount2, the new mount API (fsopen, fsconfig, fsmount, fspick, move_mount, open_tree,
// mount_setattr), pivot_root, chroot, setns, kexec_load, kexec_file_load, bpf, perf_event_open,
// init_module, finit_module, delete_module, keyctl, add_key, request_key, io_uring_* (its operations
// bypass seccomp), userfaultfd, open_by_handle_at, syslog, swapon, swapoff, reboot, acct, iopl,
// ioperm, unshare/clone with CLONE_NEWUSER, ioctl TIOCSTI/TIOCLINUX (terminal input injection),
// socket(AF_PACKET, *), socket(non-netlink, SOCK_RAW|SOCK_PACKET). clone3 fails with ENOSYS (its
// flags live in memory a filter cannot read; libc then falls back to clone, whose flags are checked).
// System calls of another architecture (i386, x32 on x86_64) kill the process.
Result<SeccompProgram> buildSeccompProgram();

}  // namespace warden::sandbox
