/* The records the capture BPF programs (capture.bpf.c) write into their ring buffer, shared with the
 * userspace parser (record_parser.h). C, so both the BPF object and C++ include it.
 *
 * Every record starts with a wire_hdr; `size` is the whole record's length. Variable parts are TLVs
 * after the fixed struct: {u16 type, u16 len, len bytes}, no padding. A "walk" TLV holds a path as
 * the kernel's dentry walk produced it: one flag byte (WALK_TRUNCATED, WALK_UNREACHABLE) then the
 * components leaf first, each NUL-terminated; a "string" TLV holds bytes as the process passed them
 * (NUL-terminated when it fitted). The userspace parser trusts none of this: every length is
 * checked against the record (record_parser.cc). */
#ifndef WARDEN_CAPTURE_EBPF_WIRE_H
#define WARDEN_CAPTURE_EBPF_WIRE_H

#ifdef __cplusplus
#include <cstdint>
#define W_U8 std::uint8_t
#define W_U16 std::uint16_t
#define W_U32 std::uint32_t
#define W_U64 std::uint64_t
#define W_S32 std::int32_t
#else
#define W_U8 __u8
#define W_U16 __u16
#define W_U32 __u32
#define W_U64 __u64
#define W_S32 __s32
#endif

#define WIRE_VERSION 1

enum wire_kind {
  WK_EXEC = 1,      /* a successful exec (sched_process_exec) */
  WK_ARGV = 2,      /* one chunk of an exec's argv; chunks follow their WK_EXEC record */
  WK_EXEC_FAIL = 3, /* an execve/execveat that returned an error */
  WK_FORK = 4,      /* a new thread group (sched_process_fork of a process, not a thread) */
  WK_EXIT = 5,      /* a thread group ended (sched_process_exit, group dead) */
  WK_FILE = 6,      /* a file operation */
  WK_CONNECT = 7,   /* a connect(2) to an IPv4/IPv6 address, and its local end once connected (attribution, not an event) */
  WK_MAX = 8,
};

/* Counter slots (the `counters` per-CPU array): one per kind, seen and dropped. */
#define WIRE_COUNTER_KINDS WK_MAX

enum wire_tlv {
  WT_EXE = 1,       /* walk: the executable as resolved (bprm->file) */
  WT_CWD = 2,       /* walk: the working directory */
  WT_FILENAME = 3,  /* string: the path the exec was asked for */
  WT_ARG = 4,       /* string: one argument (failed exec: argv as the caller passed it) */
  WT_PATH1 = 5,     /* walk: the file, resolved by the kernel */
  WT_PATH1_STR = 6, /* string: the file as the caller named it */
  WT_BASE1 = 7,     /* walk: the directory a relative WT_PATH1_STR is relative to */
  WT_PATH2 = 8,     /* walk: the second file (rename target, mount point) */
  WT_PATH2_STR = 9,
  WT_BASE2 = 10,
  WT_FSTYPE = 11,   /* string: mount's filesystem type */
};

#define WALK_TRUNCATED 1   /* deeper than the walk's bound or longer than its buffer */
#define WALK_UNREACHABLE 2 /* stopped at a root other than the task's (another mount namespace) */

enum wire_file_op {
  WF_OPEN_READ = 1,  /* a sensitive file opened for reading */
  WF_CREATE = 2,     /* open(O_CREAT) that created the file, mkdir */
  WF_WRITE = 3,      /* the first write through an open-for-write (or O_TRUNC at open) */
  WF_TRUNCATE = 4,   /* truncate(2)/ftruncate(2) */
  WF_DELETE = 5,     /* unlink, unlinkat, rmdir */
  WF_RENAME = 6,
  WF_CHMOD = 7,
  WF_CHOWN = 8,
  WF_MOUNT = 9,
  WF_UMOUNT = 10,
  WF_OPEN_DENIED = 11, /* an open that failed with EACCES or EPERM */
  WF_CONNECT = 12,     /* connect(2) to a pathname unix socket: done, refused, or EACCES/EPERM */
  WF_OP_MAX = 13,
};

/* wire_file.flags */
#define WFF_SENSITIVE 1 /* matched the kernel's sensitive-path filter */
#define WFF_DIRECTORY 2 /* the file is a directory (mkdir, rmdir, unlinkat AT_REMOVEDIR) */
#define WFF_TRUNCATED 4 /* WF_WRITE: the open truncated an existing file */
#define WFF_CREATED 8   /* WF_WRITE: the open created the file */
#define WFF_SENSITIVE_GUESS 16 /* a name on the path is a sensitive path's last component: the reader decides */

/* wire_exec.flags */
#define WEF_ARGV_TRUNCATED 1  /* argv longer than the capture's limit: cut */
#define WEF_ARGV_INCOMPLETE 2 /* a chunk could not be read or sent (counted as argv loss) */

struct wire_hdr {
  W_U16 kind;
  W_U16 version;
  W_U32 size;    /* the whole record, header included */
  W_U64 time_ns; /* CLOCK_MONOTONIC */
  W_U32 pid;     /* thread group id (host pid namespace) */
  W_U32 tid;
  W_U32 uid;     /* real uid */
  W_U32 reserved;
  char comm[16];
};

struct wire_exec {
  struct wire_hdr h;
  W_U64 exec_id;  /* ties WK_ARGV chunks to their exec */
  W_U64 start_ns; /* the thread group leader's start (CLOCK_MONOTONIC) */
  W_U32 ppid;
  W_U32 ns_pid;   /* pid in the task's own pid namespace */
  W_U32 euid;
  W_U32 gid;
  W_U32 egid;
  W_U32 argc;
  W_U32 argv_len;  /* the whole argv area (mm->arg_end - arg_start) */
  W_U32 argv_sent; /* bytes sent in WK_ARGV chunks */
  W_U16 argv_chunks;
  W_U16 flags;
  W_U32 reserved;
  /* TLVs: WT_EXE, WT_CWD, WT_FILENAME */
};

struct wire_argv {
  struct wire_hdr h;
  W_U64 exec_id;
  W_U32 offset; /* of this chunk in argv */
  W_U32 len;
  /* len bytes */
};

struct wire_exec_fail {
  struct wire_hdr h;
  W_S32 err;    /* positive errno */
  W_U32 ppid;
  W_U32 euid;
  W_U32 gid;
  W_U32 argc_sent; /* WT_ARG TLVs that follow (at most the capture's bound) */
  W_U32 flags;     /* WEF_ARGV_TRUNCATED when argv had more than was sent */
  /* TLVs: WT_FILENAME, WT_BASE1 (when relative), WT_CWD, WT_ARG... */
};

struct wire_fork {
  struct wire_hdr h; /* pid = the child's tgid */
  W_U32 ppid;
  W_U32 reserved;
  W_U64 start_ns;
};

struct wire_exit {
  struct wire_hdr h;
  W_S32 status; /* wait(2) status: code << 8, or the signal (| 0x80 on a core dump) */
  W_U32 reserved;
  W_U64 start_ns;
};

struct wire_file {
  struct wire_hdr h;
  W_U16 op;
  W_U16 flags;
  W_S32 err;  /* 0, or the positive errno of a failed operation */
  W_U32 mode; /* chmod mode, open/mkdir mode */
  W_U32 owner_uid;
  W_U32 owner_gid;
  W_U32 open_flags;
  W_U64 file_id; /* the open file (write tracking) */
  /* TLVs: WT_PATH1 | WT_PATH1_STR [+ WT_BASE1], WT_PATH2 | WT_PATH2_STR [+ WT_BASE2], WT_FSTYPE */
};

/* wire_connect.phase */
#define WCP_ATTEMPT 0   /* sys_enter: the destination as the caller passed it (NET:REFUSE attribution) */
#define WCP_CONNECTED 1 /* sys_exit, returned 0 or EINPROGRESS: both ends as the kernel socket holds them */

struct wire_connect {
  struct wire_hdr h;
  W_U16 family;     /* AF_INET 2, AF_INET6 10 (WCP_CONNECTED: the socket's family) */
  W_U16 port;       /* the remote port, host order */
  W_U16 local_port; /* WCP_CONNECTED: the socket's local port, host order; else 0 */
  W_U8 phase;       /* WCP_ATTEMPT or WCP_CONNECTED */
  W_U8 sock_type;   /* WCP_CONNECTED: the socket's type (SOCK_STREAM 1, SOCK_DGRAM 2); else 0 */
  W_U8 addr[16];    /* the remote address; 4 bytes for IPv4 */
  W_U8 local_addr[16]; /* WCP_CONNECTED: the local address (4 bytes for IPv4); else zero */
};

#undef W_U8
#undef W_U16
#undef W_U32
#undef W_U64
#undef W_S32

#endif
