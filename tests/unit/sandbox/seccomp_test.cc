#include "sandbox/seccomp_filter.h"

#include <linux/sched.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/seccomp.h>

#include <cerrno>
#include <functional>

#include <gtest/gtest.h>

namespace warden::sandbox {
namespace {

// Runs `body` in a forked child with the filter loaded; the child exits with body's return value
// (an errno, 0 for success). Returns the raw wait status.
int runFiltered(const SeccompProgram& program, const std::function<int()>& body) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ::_exit(200);
    struct sock_fprog prog {};
    prog.len = static_cast<unsigned short>(program.filter.size());
    prog.filter = const_cast<sock_filter*>(program.filter.data());
    if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) ::_exit(201);
    ::_exit(body());
  }
  int status = -1;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

// The errno of a failing call, 0 when it succeeded.
int errnoOf(long rc) { return rc < 0 ? errno : 0; }

class SeccompTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto built = buildSeccompProgram();
    ASSERT_TRUE(built.ok()) << built.error().toString();
    program_ = std::move(*built);
  }
  // Expects the body to end with exit code `expected` (an errno).
  void expectErrno(const std::function<int()>& body, int expected, const char* what) {
    const int status = runFiltered(program_, body);
    ASSERT_TRUE(WIFEXITED(status)) << what << ": wait status " << status;
    EXPECT_EQ(WEXITSTATUS(status), expected) << what;
  }
  SeccompProgram program_;
};

TEST_F(SeccompTest, BuildsANonEmptyProgramAndNamesWhatItDenies) {
  EXPECT_GT(program_.filter.size(), 10u);
  const std::string d = program_.describe();
  for (const char* name : {"ptrace", "mount", "bpf", "kexec_load", "unshare(CLONE_NEWUSER)", "clone3 (ENOSYS)",
                           "socket(SOCK_RAW)", "families other than AF_UNIX", "init_module", "keyctl",
                           "process_vm_writev", "pidfd_getfd"}) {
    EXPECT_NE(d.find(name), std::string::npos) << name << " missing from: " << d;
  }
}

TEST_F(SeccompTest, MountIsEpermEvenForRoot) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to show the filter, not a missing capability, refuses";
  expectErrno([] { return errnoOf(::mount("none", "/nonexistent-mountpoint", "tmpfs", 0, nullptr)); }, EPERM,
              "mount");
  expectErrno([] { return errnoOf(::syscall(SYS_umount2, "/nonexistent-mountpoint", 0)); }, EPERM, "umount2");
}

TEST_F(SeccompTest, NewUserNamespacesAreEpermOtherNamespacesAreNot) {
  expectErrno([] { return errnoOf(::unshare(CLONE_NEWUSER)); }, EPERM, "unshare(CLONE_NEWUSER)");
  expectErrno([] { return errnoOf(::syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0)); }, EPERM,
              "clone(CLONE_NEWUSER)");
  if (::geteuid() == 0) {
    expectErrno([] { return errnoOf(::unshare(CLONE_NEWUTS)); }, 0, "unshare(CLONE_NEWUTS) as root");
  }
}

TEST_F(SeccompTest, Clone3IsEnosysSoLibcFallsBackToClone) {
  expectErrno(
      [] {
        struct clone_args args {};
        args.exit_signal = SIGCHLD;
        const long rc = ::syscall(SYS_clone3, &args, sizeof args);
        if (rc == 0) ::_exit(0);  // should not happen; the child leaves at once
        return errnoOf(rc);
      },
      ENOSYS, "clone3");
  // fork() still works (glibc uses clone3 first, then clone).
  expectErrno(
      [] {
        const pid_t child = ::fork();
        if (child == 0) ::_exit(0);
        if (child < 0) return errno;
        int st = 0;
        ::waitpid(child, &st, 0);
        return 0;
      },
      0, "fork");
}

TEST_F(SeccompTest, RawSocketsAreEperm) {
  expectErrno([] { return errnoOf(::socket(AF_INET, SOCK_RAW, 1)); }, EPERM, "AF_INET SOCK_RAW");
  expectErrno([] { return errnoOf(::socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, 58)); }, EPERM, "AF_INET6 SOCK_RAW");
}

TEST_F(SeccompTest, SocketFamiliesOutsideUnixInetAndNetlinkAreRefused) {
  // AF_VSOCK would reach the VM's host around the netns, nftables and the proxy.
  expectErrno([] { return errnoOf(::socket(AF_VSOCK, SOCK_STREAM, 0)); }, EAFNOSUPPORT, "AF_VSOCK");
  expectErrno([] { return errnoOf(::socket(AF_PACKET, SOCK_DGRAM, 0)); }, EAFNOSUPPORT, "AF_PACKET");
  expectErrno([] { return errnoOf(::socket(AF_ALG, SOCK_SEQPACKET, 0)); }, EAFNOSUPPORT, "AF_ALG");
  expectErrno([] { return errnoOf(::socket(AF_BLUETOOTH, SOCK_STREAM, 0)); }, EAFNOSUPPORT, "AF_BLUETOOTH");
  expectErrno(
      [] {
        int sv[2];
        return errnoOf(::socketpair(AF_VSOCK, SOCK_STREAM, 0, sv));
      },
      EAFNOSUPPORT, "socketpair(AF_VSOCK)");
}

TEST_F(SeccompTest, AnotherProcesssMemoryCannotBeWrittenOrRead) {
  expectErrno(
      [] {
        char buf[8] = {};
        struct iovec local {buf, sizeof buf};
        struct iovec remote {buf, sizeof buf};
        return errnoOf(::syscall(SYS_process_vm_writev, ::getppid(), &local, 1, &remote, 1, 0));
      },
      EPERM, "process_vm_writev");
  expectErrno(
      [] {
        char buf[8] = {};
        struct iovec local {buf, sizeof buf};
        struct iovec remote {buf, sizeof buf};
        return errnoOf(::syscall(SYS_process_vm_readv, ::getppid(), &local, 1, &remote, 1, 0));
      },
      EPERM, "process_vm_readv");
  expectErrno([] { return errnoOf(::syscall(SYS_pidfd_getfd, 0, 0, 0)); }, EPERM, "pidfd_getfd");
}

TEST_F(SeccompTest, OrdinaryAndNetlinkSocketsStillWork) {
  expectErrno([] { return errnoOf(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)); }, 0, "tcp");
  expectErrno([] { return errnoOf(::socket(AF_UNIX, SOCK_DGRAM, 0)); }, 0, "unix");
  expectErrno([] { return errnoOf(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0)); }, 0, "netlink route");
}

TEST_F(SeccompTest, KernelFacingCallsAreEperm) {
  expectErrno([] { return errnoOf(::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr)); }, EPERM, "ptrace");
  expectErrno([] { return errnoOf(::syscall(SYS_bpf, 0, nullptr, 0)); }, EPERM, "bpf");
  expectErrno([] { return errnoOf(::syscall(SYS_perf_event_open, nullptr, 0, -1, -1, 0)); }, EPERM, "perf_event_open");
  expectErrno([] { return errnoOf(::syscall(SYS_kexec_load, 0, 0, nullptr, 0)); }, EPERM, "kexec_load");
  expectErrno([] { return errnoOf(::syscall(SYS_init_module, nullptr, 0, "")); }, EPERM, "init_module");
  expectErrno([] { return errnoOf(::syscall(SYS_io_uring_setup, 1, nullptr)); }, EPERM, "io_uring_setup");
  expectErrno([] { return errnoOf(::syscall(SYS_setns, -1, 0)); }, EPERM, "setns");
  expectErrno([] { return errnoOf(::syscall(SYS_chroot, "/")); }, EPERM, "chroot");
}

TEST_F(SeccompTest, OrdinaryCallsAreUntouched) {
  expectErrno([] { return ::getpid() > 0 ? 0 : 1; }, 0, "getpid");
  expectErrno([] { return errnoOf(::access("/", R_OK)); }, 0, "access");
}

#if defined(__x86_64__)
TEST_F(SeccompTest, X32SystemCallsKillTheProcess) {
  const int status = runFiltered(program_, [] {
    ::syscall(0x40000000 | SYS_getpid);
    return 0;
  });
  ASSERT_TRUE(WIFSIGNALED(status)) << "wait status " << status;
  EXPECT_EQ(WTERMSIG(status), SIGSYS);
}
#endif

}  // namespace
}  // namespace warden::sandbox
