// SPDX-License-Identifier: GPL-2.0
/* Warden's kernel capture (docs/capture.md): exec, exit, fork and file operations of one session's
 * processes, written into one ring buffer as the records of wire.h.
 *
 * Tracepoints only (this project's hosts refuse fentry/fexit/LSM programs and have no kprobes):
 * tp_btf sched_process_{exec,fork,exit} and the raw syscall tracepoints tp_btf sys_{enter,exit},
 * which dispatch on the syscall number (x86-64). Every program first checks the current task's
 * cgroup v2 ancestor at the session cgroup's level: a task outside the session returns after one
 * helper call and is never recorded.
 *
 * Nothing is lost silently: each record kind counts what it meant to send (seen) and what the ring
 * refused (dropped) in the per-CPU `counters` array; userspace turns growth of `dropped` into
 * LOG:LOSS and reconciles seen = received + dropped at stop. */
#include <linux/bpf.h>
#include <linux/errno.h>

#include "kernel_types.bpf.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "wire.h"

char LICENSE[] SEC("license") = "GPL";

/* ----- Configuration, set by the loader before load (read-only to the programs) ----- */

/* The session's cgroup, written by userspace after the programs are loaded and before they are
 * attached: verifying them is most of a session's start-up, so that runs before the cgroup exists
 * (LoadedPrograms). Until written, 0 matches no cgroup. */
volatile __u64 session_cgroup_id = 0;
volatile __u32 session_cgroup_level = 0;
const volatile __u32 argv_max = 256 * 1024;      /* bytes of argv sent; the rest is cut */
const volatile __u32 capture_files = 1;          /* file operations other than sensitive reads */
const volatile __u32 capture_processes = 1;      /* exec, exit, fork, failed exec */
const volatile __u32 have_sensitive_inodes = 0;
const volatile __u32 have_sensitive_names = 0;
const volatile __u32 have_sensitive_dirnames = 0;

/* ----- Maps ----- */

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 16 * 1024 * 1024); /* resized by the loader */
} events SEC(".maps");

struct counter {
  __u64 seen;
  __u64 dropped;
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, WIRE_COUNTER_KINDS);
  __type(key, __u32);
  __type(value, struct counter);
} counters SEC(".maps");

/* Per-CPU scratch where a record is built before it is copied into the ring with its exact size. */
#define SCRATCH_SIZE (32 * 1024)
#define REC_MAX (16 * 1024)        /* a record never grows past this */
#define REC_MASK (REC_MAX - 1)
#define STR_MAX 4096               /* one path or string TLV */
#define NAME_MAX_1 256             /* one path component with its NUL */
#define WALK_DEPTH 64
#define ARG_MAX_FAILED 64          /* arguments of a failed exec */
#define ARG_BYTES_FAILED 1024      /* each */
#define CHUNK 16384                /* argv chunk */

struct scratch {
  char buf[SCRATCH_SIZE];
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 2); /* 0: syscall records, 1: sched records (never nested in each other) */
  __type(key, __u32);
  __type(value, struct scratch);
} scratch_map SEC(".maps");

struct chunk_scratch {
  struct wire_argv hdr;
  char data[CHUNK];
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct chunk_scratch);
} chunk_map SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} exec_ids SEC(".maps");

/* A syscall's number and arguments, read at sys_exit from the task's saved user registers (pt_regs
 * keeps the argument registers across the call on x86-64: no map between enter and exit). */
struct stash {
  __u64 id;
  __u64 args[6];
};

/* Files the session opened for writing, until their first write (one event per open that wrote). */
struct write_track {
  __u32 pid;
  __u8 written;
  __u8 created;
  __u8 pad[2];
};

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, __u64); /* struct file * */
  __type(value, struct write_track);
} writes SEC(".maps");

struct inode_key {
  __u64 ino;
  __u32 dev;
  __u32 pad;
};

#define SENS_DEPTH 4 /* the file and three directories above it */
#define SENS_SELF 1
#define SENS_SUBTREE 2

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, struct inode_key);
  __type(value, __u8);
} sensitive_inodes SEC(".maps");

struct name_key {
  char name[32];
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 256);
  __type(key, struct name_key);
  __type(value, __u8);
} sensitive_names SEC(".maps");

/* The last component of every literal sensitive path (".aws" for ~/.aws, "shadow" for /etc/shadow).
 * A file whose name, or one of whose SENS_DEPTH - 1 directories' names, is listed is sent as a guess
 * (WFF_SENSITIVE_GUESS) and the reader decides with the full path: this catches what the inode map
 * cannot — a sensitive path created after the capture started, or one inside the sandbox's private
 * /tmp or /run, which the supervisor cannot stat from its own mount namespace. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 256);
  __type(key, struct name_key);
  __type(value, __u8);
} sensitive_dirnames SEC(".maps");

/* ----- Small helpers ----- */

static __always_inline int in_session(void) {
  return bpf_get_current_ancestor_cgroup_id(session_cgroup_level) == session_cgroup_id;
}

static __always_inline void count(__u32 kind, int dropped) {
  struct counter *c = bpf_map_lookup_elem(&counters, &kind);
  if (!c) return;
  c->seen++;
  if (dropped) c->dropped++;
}

static __always_inline int send(void *data, __u32 size, __u32 kind) {
  if (size > REC_MAX || size < sizeof(struct wire_hdr)) return -1;
  __u64 sz = size;
  asm volatile("%0 &= %1" : "+r"(sz) : "i"(2 * REC_MAX - 1)); /* identity here; a bound the verifier sees */
  long err = bpf_ringbuf_output(&events, data, sz, 0);
  count(kind, err != 0);
  return err ? -1 : 0;
}

static __always_inline void fill_hdr(struct wire_hdr *h, __u16 kind, struct task_struct *t) {
  h->kind = kind;
  h->version = WIRE_VERSION;
  h->size = 0;
  h->time_ns = bpf_ktime_get_ns();
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  h->pid = pid_tgid >> 32;
  h->tid = (__u32)pid_tgid;
  h->uid = (__u32)bpf_get_current_uid_gid();
  h->reserved = 0;
  bpf_get_current_comm(h->comm, sizeof(h->comm));
}

static __always_inline struct scratch *scratch(__u32 slot) {
  return bpf_map_lookup_elem(&scratch_map, &slot);
}

/* The struct file behind descriptor `fd` of the current task, or NULL. */
static __always_inline struct file *fd_file(struct task_struct *t, long fd) {
  if (fd < 0) return 0;
  struct files_struct *files = BPF_CORE_READ(t, files);
  if (!files) return 0;
  struct fdtable *fdt = BPF_CORE_READ(files, fdt);
  if (!fdt) return 0;
  unsigned int max = BPF_CORE_READ(fdt, max_fds);
  if ((unsigned long)fd >= max) return 0;
  struct file **fds = BPF_CORE_READ(fdt, fd);
  struct file *f = 0;
  bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
  return f;
}

/* `off & REC_MASK`, done in BPF assembly so the compiler cannot drop the mask after proving a range
 * the verifier does not track (it then sees an unbounded offset into the scratch buffer). */
static __always_inline __u32 masked(__u32 off) {
  __u64 x = off;
  asm volatile("%0 &= %1" : "+r"(x) : "i"(REC_MASK));
  return (__u32)x;
}

/* A TLV header at `off`; returns the offset of its value. */
static __always_inline __u32 tlv_open(char *buf, __u32 off, __u16 type) {
  __u16 *p = (__u16 *)(buf + masked(off));
  p[0] = type;
  p[1] = 0;
  return off + 4;
}

static __always_inline void tlv_close(char *buf, __u32 start, __u32 end) {
  __u32 hdr = start - 4;
  __u16 *p = (__u16 *)(buf + masked(hdr));
  p[1] = (__u16)(end - start);
}

/* A string TLV from user or kernel memory; returns the new end (unchanged when it could not be read). */
static __always_inline __u32 put_str(char *buf, __u32 off, __u16 type, const void *src, int user) {
  if (off > REC_MAX - STR_MAX - 8) return off;
  __u32 v = tlv_open(buf, off, type);
  long n = user ? bpf_probe_read_user_str(buf + masked(v), STR_MAX, src)
                : bpf_probe_read_kernel_str(buf + masked(v), STR_MAX, src);
  if (n <= 0) return off;
  tlv_close(buf, v, v + n);
  return v + n;
}

struct walk {
  char *buf;
  __u32 off;
  __u32 done;
  struct dentry *d;
  struct vfsmount *vm;
  struct mount *m;
  struct dentry *root_d;
  struct vfsmount *root_vm;
  __u8 flags;
};

static long walk_step(__u32 i, void *ctx) {
  struct walk *w = ctx;
  struct dentry *d = w->d;
  if (d == w->root_d && w->vm == w->root_vm) {
    w->done = 1;
    return 1;
  }
  struct vfsmount *vm = w->vm;
  struct mount *m = w->m;
  struct dentry *mnt_root = BPF_CORE_READ(vm, mnt_root);
  if (d == mnt_root) {
    struct mount *parent = BPF_CORE_READ(m, mnt_parent);
    if (parent == m) { /* the namespace's root mount, not the task's root: another view */
      if (w->root_d) w->flags |= WALK_UNREACHABLE;
      w->done = 1;
      return 1;
    }
    w->d = BPF_CORE_READ(m, mnt_mountpoint);
    w->m = parent;
    w->vm = (struct vfsmount *)((char *)parent + bpf_core_field_offset(struct mount, mnt));
    return 0;
  }
  struct dentry *up = BPF_CORE_READ(d, d_parent);
  if (up == d || !up) {
    w->done = 1;
    return 1;
  }
  __u32 off = w->off;
  if (off > REC_MAX - NAME_MAX_1 - 8) {
    w->flags |= WALK_TRUNCATED;
    w->done = 1;
    return 1;
  }
  const unsigned char *name = BPF_CORE_READ(d, d_name.name);
  long n = bpf_probe_read_kernel_str(w->buf + masked(off), NAME_MAX_1, name);
  if (n <= 0) {
    w->flags |= WALK_TRUNCATED;
    w->done = 1;
    return 1;
  }
  w->off = off + n;
  w->d = up;
  return 0;
}

/* A walk TLV for `path` as seen from `root` (the task's root); returns the new end. */
static __always_inline __u32 put_walk(char *buf, __u32 off, __u16 type, struct path *path, struct path *root) {
  if (off > REC_MAX - NAME_MAX_1 - 16) return off;
  __u32 v = tlv_open(buf, off, type);
  struct walk w = {};
  w.buf = buf;
  w.off = v + 1; /* after the flag byte */
  w.d = BPF_CORE_READ(path, dentry);
  w.vm = BPF_CORE_READ(path, mnt);
  if (!w.d || !w.vm) return off;
  w.m = (struct mount *)((char *)w.vm - bpf_core_field_offset(struct mount, mnt));
  if (root) {
    w.root_d = BPF_CORE_READ(root, dentry);
    w.root_vm = BPF_CORE_READ(root, mnt);
  }
  bpf_loop(WALK_DEPTH, walk_step, &w, 0);
  if (!w.done) w.flags |= WALK_TRUNCATED;
  buf[masked(v)] = w.flags;
  __u32 end = w.off;
  if (end > REC_MAX) return off;
  tlv_close(buf, v, end);
  return end;
}

static __always_inline __u32 put_file_walk(char *buf, __u32 off, __u16 type, struct file *f, struct task_struct *t) {
  struct fs_struct *fs = BPF_CORE_READ(t, fs);
  struct path *root = fs ? (struct path *)((char *)fs + bpf_core_field_offset(struct fs_struct, root)) : 0;
  struct path *p = (struct path *)((char *)f + bpf_core_field_offset(struct file, f_path));
  return put_walk(buf, off, type, p, root);
}

static __always_inline __u32 put_cwd(char *buf, __u32 off, __u16 type, struct task_struct *t) {
  struct fs_struct *fs = BPF_CORE_READ(t, fs);
  if (!fs) return off;
  struct path *root = (struct path *)((char *)fs + bpf_core_field_offset(struct fs_struct, root));
  struct path *pwd = (struct path *)((char *)fs + bpf_core_field_offset(struct fs_struct, pwd));
  return put_walk(buf, off, type, pwd, root);
}

#define AT_FDCWD_ (-100)
#define ECONNREFUSED_ 111

/* A path argument as the caller named it, and the directory it is relative to when relative. */
static __always_inline __u32 put_user_path(char *buf, __u32 off, __u16 str_type, __u16 base_type, long dfd,
                                           const char *upath, struct task_struct *t) {
  char first = 0;
  bpf_probe_read_user(&first, 1, upath);
  off = put_str(buf, off, str_type, upath, 1);
  if (first == '/') return off;
  if ((int)dfd == AT_FDCWD_) return put_cwd(buf, off, base_type, t);
  struct file *f = fd_file(t, (int)dfd);
  if (!f) return off;
  return put_file_walk(buf, off, base_type, f, t);
}

/* The sensitive-path filter: the file, an ancestor (within its mount) or its name is listed
 * (WFF_SENSITIVE); or a name on the way up is the last component of a literal sensitive path
 * (WFF_SENSITIVE_GUESS: the reader checks the path). 0 when neither. */
static __always_inline int is_sensitive(struct file *f) {
  struct dentry *d = BPF_CORE_READ(f, f_path.dentry);
  if (!d) return 0;
  if (have_sensitive_names) {
    struct name_key k = {};
    const unsigned char *name = BPF_CORE_READ(d, d_name.name);
    unsigned int len = BPF_CORE_READ(d, d_name.len);
    if (len < sizeof(k.name)) {
      bpf_probe_read_kernel_str(k.name, sizeof(k.name), name);
      if (bpf_map_lookup_elem(&sensitive_names, &k)) return WFF_SENSITIVE;
    }
  }
  if (!have_sensitive_inodes && !have_sensitive_dirnames) return 0;
  struct inode *inode = BPF_CORE_READ(d, d_inode);
  if (!inode) return 0;
  struct inode_key k = {};
  k.dev = BPF_CORE_READ(inode, i_sb, s_dev);
  int guess = 0;
#pragma unroll
  for (int level = 0; level < SENS_DEPTH; level++) {
    if (have_sensitive_inodes) {
      k.ino = BPF_CORE_READ(d, d_inode, i_ino);
      __u8 *v = bpf_map_lookup_elem(&sensitive_inodes, &k);
      if (v && (level == 0 || (*v & SENS_SUBTREE))) return WFF_SENSITIVE;
    }
    if (have_sensitive_dirnames && !guess) {
      struct name_key n = {};
      unsigned int len = BPF_CORE_READ(d, d_name.len);
      if (len < sizeof(n.name)) {
        bpf_probe_read_kernel_str(n.name, sizeof(n.name), BPF_CORE_READ(d, d_name.name));
        if (bpf_map_lookup_elem(&sensitive_dirnames, &n)) guess = WFF_SENSITIVE_GUESS;
      }
    }
    struct dentry *up = BPF_CORE_READ(d, d_parent);
    if (!up || up == d) return guess;
    d = up;
  }
  return guess;
}

/* ----- Processes ----- */

struct argv_ctx {
  __u64 exec_id;
  unsigned long start;
  __u32 total;
  __u32 sent;
  __u16 chunks;
  __u16 flags;
  __u32 uid;
  __u32 pid;
};

static long argv_chunk(__u32 i, void *ctx) {
  struct argv_ctx *a = ctx;
  __u32 off = i * CHUNK;
  if (off >= a->total) return 1;
  __u32 len = a->total - off;
  if (len > CHUNK) len = CHUNK;
  __u32 zero = 0;
  struct chunk_scratch *c = bpf_map_lookup_elem(&chunk_map, &zero);
  if (!c) return 1;
  fill_hdr(&c->hdr.h, WK_ARGV, 0);
  c->hdr.exec_id = a->exec_id;
  c->hdr.offset = off;
  if (len == 0) return 1;
  len = ((len - 1) & (CHUNK - 1)) + 1; /* 1..CHUNK, in a form the verifier can bound */
  if (bpf_probe_read_user(c->data, len, (const void *)(a->start + off))) {
    a->flags |= WEF_ARGV_INCOMPLETE;
    return 1;
  }
  c->hdr.len = len;
  __u64 size = sizeof(struct wire_argv) + len;
  c->hdr.h.size = size;
  long err = bpf_ringbuf_output(&events, c, size, 0);
  count(WK_ARGV, err != 0);
  if (err) {
    a->flags |= WEF_ARGV_INCOMPLETE;
    return 1;
  }
  a->sent += len;
  a->chunks++;
  return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, int old_pid, struct linux_binprm *bprm) {
  if (!capture_processes || !in_session()) return 0;
  struct scratch *s = scratch(1);
  if (!s) return 0;
  char *buf = s->buf;
  struct wire_exec *e = (struct wire_exec *)buf;
  fill_hdr(&e->h, WK_EXEC, p);

  __u32 zero = 0;
  __u64 *ids = bpf_map_lookup_elem(&exec_ids, &zero);
  e->exec_id = ids ? __sync_fetch_and_add(ids, 1) + 1 : 0;
  struct task_struct *leader = BPF_CORE_READ(p, group_leader);
  e->start_ns = BPF_CORE_READ(leader, start_time);
  e->ppid = BPF_CORE_READ(p, real_parent, tgid);
  struct pid *tp = BPF_CORE_READ(leader, thread_pid);
  unsigned int level = BPF_CORE_READ(tp, level);
  int ns_pid = 0;
  if (level < 32) {
    struct upid *u = (struct upid *)((char *)tp + bpf_core_field_offset(struct pid, numbers) +
                                     level * bpf_core_type_size(struct upid));
    bpf_probe_read_kernel(&ns_pid, sizeof(ns_pid), &u->nr);
  }
  e->ns_pid = ns_pid;
  const struct cred *cred = BPF_CORE_READ(p, cred);
  e->euid = BPF_CORE_READ(cred, euid.val);
  e->gid = BPF_CORE_READ(cred, gid.val);
  e->egid = BPF_CORE_READ(cred, egid.val);
  e->argc = BPF_CORE_READ(bprm, argc);
  e->flags = 0;
  e->reserved = 0;

  struct mm_struct *mm = BPF_CORE_READ(p, mm);
  unsigned long start = BPF_CORE_READ(mm, arg_start);
  unsigned long end = BPF_CORE_READ(mm, arg_end);
  __u32 total = end > start ? (__u32)(end - start) : 0;
  if (end - start > 0x7fffffff) total = 0x7fffffff;
  e->argv_len = total;
  __u32 cap = argv_max;
  if (cap > 256 * 1024) cap = 256 * 1024;
  struct argv_ctx a = {};
  a.exec_id = e->exec_id;
  a.start = start;
  a.total = total < cap ? total : cap;
  if (total > cap) a.flags |= WEF_ARGV_TRUNCATED;
  /* The chunks go first: the header's counts then say exactly what was sent. */
  bpf_loop((256 * 1024) / CHUNK, argv_chunk, &a, 0);
  if (a.sent < a.total) a.flags |= WEF_ARGV_INCOMPLETE;
  e->argv_sent = a.sent;
  e->argv_chunks = a.chunks;
  e->flags = a.flags;

  __u32 off = sizeof(struct wire_exec);
  struct file *exe = BPF_CORE_READ(bprm, file);
  if (exe) off = put_file_walk(buf, off, WT_EXE, exe, p);
  off = put_cwd(buf, off, WT_CWD, p);
  off = put_str(buf, off, WT_FILENAME, BPF_CORE_READ(bprm, filename), 0);
  e->h.size = off;
  send(buf, off, WK_EXEC);
  return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child) {
  if (!capture_processes || !in_session()) return 0;
  int pid = BPF_CORE_READ(child, pid);
  int tgid = BPF_CORE_READ(child, tgid);
  if (pid != tgid) return 0; /* a thread */
  struct wire_fork f = {};
  fill_hdr(&f.h, WK_FORK, parent);
  f.h.pid = tgid;
  f.h.tid = pid;
  f.h.size = sizeof(f);
  f.ppid = BPF_CORE_READ(parent, tgid);
  f.start_ns = BPF_CORE_READ(child, start_time);
  send(&f, sizeof(f), WK_FORK);
  return 0;
}

#define SIGNAL_GROUP_EXIT_ 0x00000004

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p) {
  if (!capture_processes || !in_session()) return 0;
  /* The thread group is dead when its last thread exits: do_exit() has already decremented
   * signal->live (6.16 and later also pass that as a second argument; reading the counter works on
   * every kernel). */
  if (BPF_CORE_READ(p, signal, live.counter) != 0) return 0;
  struct wire_exit x = {};
  fill_hdr(&x.h, WK_EXIT, p);
  x.h.size = sizeof(x);
  struct signal_struct *sig = BPF_CORE_READ(p, signal);
  unsigned int flags = BPF_CORE_READ(sig, flags);
  x.status = (flags & SIGNAL_GROUP_EXIT_) ? BPF_CORE_READ(sig, group_exit_code) : BPF_CORE_READ(p, exit_code);
  x.start_ns = BPF_CORE_READ(p, group_leader, start_time);
  send(&x, sizeof(x), WK_EXIT);
  return 0;
}

/* ----- Syscalls (x86-64 numbers) ----- */

#define NR_connect 42
#define NR_write 1
#define NR_open 2
#define NR_close 3
#define NR_pwrite64 18
#define NR_writev 20
#define NR_execve 59
#define NR_truncate 76
#define NR_ftruncate 77
#define NR_rename 82
#define NR_mkdir 83
#define NR_rmdir 84
#define NR_creat 85
#define NR_unlink 87
#define NR_chmod 90
#define NR_fchmod 91
#define NR_chown 92
#define NR_fchown 93
#define NR_lchown 94
#define NR_mount 165
#define NR_umount2 166
#define NR_openat 257
#define NR_mkdirat 258
#define NR_fchownat 260
#define NR_unlinkat 263
#define NR_renameat 264
#define NR_fchmodat 268
#define NR_pwritev 296
#define NR_renameat2 316
#define NR_execveat 322
#define NR_pwritev2 328
#define NR_openat2 437
#define NR_fchmodat2 452

#define O_WRONLY_ 01
#define O_RDWR_ 02
#define O_CREAT_ 0100
#define O_TRUNC_ 01000
#define FMODE_CREATED_ 0x100000
#define S_IFMT_ 0170000
#define S_IFREG_ 0100000
#define S_IFSOCK_ 0140000
#define AT_REMOVEDIR_ 0x200

static __always_inline int is_last_ref(struct file *f) {
  if (bpf_core_field_exists(f->f_ref)) return BPF_CORE_READ(f, f_ref.refcnt.counter) == 0;
  return BPF_CORE_READ(f, f_count.counter) == 1;
}

/* The first write through a file the session opened for writing: one WF_WRITE. */
static __always_inline void on_write(long fd) {
  struct task_struct *t = (struct task_struct *)bpf_get_current_task();
  struct file *f = fd_file(t, fd);
  if (!f) return;
  __u64 key = (__u64)f;
  struct write_track *w = bpf_map_lookup_elem(&writes, &key);
  if (!w || w->written) return;
  w->written = 1;
  struct scratch *s = scratch(0);
  if (!s) return;
  char *buf = s->buf;
  struct wire_file *r = (struct wire_file *)buf;
  fill_hdr(&r->h, WK_FILE, t);
  r->op = WF_WRITE;
  r->flags = (w->created ? WFF_CREATED : 0) | is_sensitive(f);
  r->err = 0;
  r->mode = 0;
  r->owner_uid = 0;
  r->owner_gid = 0;
  r->open_flags = 0;
  r->file_id = key;
  __u32 off = put_file_walk(buf, sizeof(struct wire_file), WT_PATH1, f, t);
  r->h.size = off;
  send(buf, off, WK_FILE);
}

static __always_inline void on_close(long fd) {
  struct task_struct *t = (struct task_struct *)bpf_get_current_task();
  struct file *f = fd_file(t, fd);
  if (!f) return;
  __u64 key = (__u64)f;
  if (!bpf_map_lookup_elem(&writes, &key)) return;
  if (is_last_ref(f)) bpf_map_delete_elem(&writes, &key);
}

/* Who connected where: the process table names the actor of a refused connection (NET:REFUSE from
 * the kernel log, read after the socket is gone). Not an event. */
static __always_inline void on_connect(const void *uaddr, unsigned long len) {
  struct wire_connect c = {};
  __u16 family = 0;
  if (!uaddr || len < 8 || bpf_probe_read_user(&family, sizeof(family), uaddr)) return;
  __u16 port_be = 0;
  bpf_probe_read_user(&port_be, sizeof(port_be), (const char *)uaddr + 2);
  if (family == 2) {
    bpf_probe_read_user(c.addr, 4, (const char *)uaddr + 4);
  } else if (family == 10 && len >= 24) {
    bpf_probe_read_user(c.addr, 16, (const char *)uaddr + 8);
  } else {
    return;
  }
  fill_hdr(&c.h, WK_CONNECT, 0);
  c.h.size = sizeof(c);
  c.family = family;
  c.port = (__u16)((port_be >> 8) | (port_be << 8));
  c.phase = WCP_ATTEMPT;
  send(&c, sizeof(c), WK_CONNECT);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(on_sys_enter, struct pt_regs *regs, long id) {
  switch (id) {
    case NR_write:
    case NR_pwrite64:
    case NR_writev:
    case NR_pwritev:
    case NR_pwritev2:
      if (!capture_files || !in_session()) return 0;
      on_write(regs->di);
      return 0;
    case NR_close:
      if (!capture_files || !in_session()) return 0;
      on_close(regs->di);
      return 0;
    case NR_connect:
      if (!capture_processes || !in_session()) return 0;
      on_connect((const void *)regs->si, regs->dx);
      return 0;
    default:
      return 0;
  }
}

/* A failed execve/execveat: the path and argv as the caller passed them. */
static __always_inline void exec_failed(struct stash *st, long ret, struct task_struct *t) {
  struct scratch *s = scratch(0);
  if (!s) return;
  char *buf = s->buf;
  struct wire_exec_fail *r = (struct wire_exec_fail *)buf;
  fill_hdr(&r->h, WK_EXEC_FAIL, t);
  r->err = (int)-ret;
  r->ppid = BPF_CORE_READ(t, real_parent, tgid);
  const struct cred *cred = BPF_CORE_READ(t, cred);
  r->euid = BPF_CORE_READ(cred, euid.val);
  r->gid = BPF_CORE_READ(cred, gid.val);
  r->flags = 0;
  __u32 off = sizeof(struct wire_exec_fail);
  const char *path;
  const char *const *argv;
  long dfd = AT_FDCWD_;
  if (st->id == NR_execveat) {
    dfd = (long)st->args[0];
    path = (const char *)st->args[1];
    argv = (const char *const *)st->args[2];
  } else {
    path = (const char *)st->args[0];
    argv = (const char *const *)st->args[1];
  }
  off = put_user_path(buf, off, WT_FILENAME, WT_BASE1, dfd, path, t);
  off = put_cwd(buf, off, WT_CWD, t);
  __u32 n = 0;
#pragma unroll
  for (int i = 0; i < 16; i++) {
    const char *arg = 0;
    if (!argv || bpf_probe_read_user(&arg, sizeof(arg), &argv[i]) || !arg) break;
    if (off > REC_MAX - ARG_BYTES_FAILED - 8) {
      r->flags |= WEF_ARGV_TRUNCATED;
      break;
    }
    __u32 v = tlv_open(buf, off, WT_ARG);
    long len = bpf_probe_read_user_str(buf + masked(v), ARG_BYTES_FAILED, arg);
    if (len <= 0) break;
    tlv_close(buf, v, v + len);
    off = v + len;
    n++;
    if (i == 15) {
      const char *more = 0;
      if (!bpf_probe_read_user(&more, sizeof(more), &argv[16]) && more) r->flags |= WEF_ARGV_TRUNCATED;
    }
  }
  r->argc_sent = n;
  r->h.size = off;
  send(buf, off, WK_EXEC_FAIL);
}

static __always_inline int denied(long ret) {
  return ret == -EACCES || ret == -EPERM;
}

static __always_inline struct wire_file *file_rec(char *buf, struct task_struct *t, __u16 op, long ret) {
  struct wire_file *r = (struct wire_file *)buf;
  fill_hdr(&r->h, WK_FILE, t);
  r->op = op;
  r->flags = 0;
  r->err = ret < 0 ? (int)-ret : 0;
  r->mode = 0;
  r->owner_uid = 0;
  r->owner_gid = 0;
  r->open_flags = 0;
  r->file_id = 0;
  return r;
}

static __always_inline void open_done(struct stash *st, long ret, struct task_struct *t) {
  long dfd = AT_FDCWD_;
  const char *path;
  __u64 flags = 0;
  __u32 mode = 0;
  switch (st->id) {
    case NR_open:
      path = (const char *)st->args[0];
      flags = st->args[1];
      mode = st->args[2];
      break;
    case NR_creat:
      path = (const char *)st->args[0];
      flags = O_CREAT_ | O_WRONLY_ | O_TRUNC_;
      mode = st->args[1];
      break;
    case NR_openat:
      dfd = (long)st->args[0];
      path = (const char *)st->args[1];
      flags = st->args[2];
      mode = st->args[3];
      break;
    default: /* openat2: struct open_how {flags, mode, resolve} */
      dfd = (long)st->args[0];
      path = (const char *)st->args[1];
      bpf_probe_read_user(&flags, sizeof(flags), (const void *)st->args[2]);
      bpf_probe_read_user(&mode, sizeof(mode), (const char *)st->args[2] + 8);
      break;
  }
  if (ret < 0) {
    if (!denied(ret)) return;
    struct scratch *s = scratch(0);
    if (!s) return;
    char *buf = s->buf;
    struct wire_file *r = file_rec(buf, t, WF_OPEN_DENIED, ret);
    r->open_flags = (__u32)flags;
    r->mode = mode;
    __u32 off = put_user_path(buf, sizeof(struct wire_file), WT_PATH1_STR, WT_BASE1, dfd, path, t);
    r->h.size = off;
    send(buf, off, WK_FILE);
    return;
  }
  struct file *f = fd_file(t, ret);
  if (!f) return;
  int writable = (flags & (O_WRONLY_ | O_RDWR_)) != 0;
  if (writable && capture_files) {
    unsigned short imode = BPF_CORE_READ(f, f_inode, i_mode);
    if ((imode & S_IFMT_) != S_IFREG_) return;
    unsigned int fmode = BPF_CORE_READ(f, f_mode);
    int created = (fmode & FMODE_CREATED_) != 0;
    int truncated = !created && (flags & O_TRUNC_);
    struct write_track w = {};
    w.pid = BPF_CORE_READ(t, tgid);
    w.created = created;
    w.written = truncated; /* an O_TRUNC of an existing file is its write */
    __u64 key = (__u64)f;
    bpf_map_update_elem(&writes, &key, &w, BPF_ANY);
    if (!created && !truncated) return;
    struct scratch *s = scratch(0);
    if (!s) return;
    char *buf = s->buf;
    struct wire_file *r = file_rec(buf, t, created ? WF_CREATE : WF_WRITE, 0);
    r->flags = (truncated ? WFF_TRUNCATED : 0) | is_sensitive(f);
    r->open_flags = (__u32)flags;
    r->mode = mode;
    r->file_id = key;
    __u32 off = put_file_walk(buf, sizeof(struct wire_file), WT_PATH1, f, t);
    r->h.size = off;
    send(buf, off, WK_FILE);
    return;
  }
  if (writable) return;
  if (!have_sensitive_inodes && !have_sensitive_names && !have_sensitive_dirnames) return;
  const int sensitive = is_sensitive(f);
  if (!sensitive) return;
  struct scratch *s = scratch(0);
  if (!s) return;
  char *buf = s->buf;
  struct wire_file *r = file_rec(buf, t, WF_OPEN_READ, 0);
  r->flags = (__u16)sensitive;
  r->open_flags = (__u32)flags;
  __u32 off = put_file_walk(buf, sizeof(struct wire_file), WT_PATH1, f, t);
  r->h.size = off;
  send(buf, off, WK_FILE);
}

/* Every other file operation: recorded when it succeeded or was refused (EACCES/EPERM); mount and
 * umount attempts whatever their result. */
static __always_inline void path_op_done(struct stash *st, long ret, struct task_struct *t) {
  int is_mount = st->id == NR_mount || st->id == NR_umount2;
  if (ret < 0 && !denied(ret) && !is_mount) return;
  struct scratch *s = scratch(0);
  if (!s) return;
  char *buf = s->buf;
  __u32 off = sizeof(struct wire_file);
  struct wire_file *r;
  __u64 *a = st->args;
  switch (st->id) {
    case NR_truncate:
      r = file_rec(buf, t, WF_TRUNCATE, ret);
      off = put_user_path(buf, off, WT_PATH1_STR, WT_BASE1, AT_FDCWD_, (const char *)a[0], t);
      break;
    case NR_ftruncate: {
      r = file_rec(buf, t, WF_TRUNCATE, ret);
      struct file *f = fd_file(t, (long)a[0]);
      if (!f) return;
      off = put_file_walk(buf, off, WT_PATH1, f, t);
      break;
    }
    case NR_rename:
      r = file_rec(buf, t, WF_RENAME, ret);
      off = put_user_path(buf, off, WT_PATH1_STR, WT_BASE1, AT_FDCWD_, (const char *)a[0], t);
      off = put_user_path(buf, off, WT_PATH2_STR, WT_BASE2, AT_FDCWD_, (const char *)a[1], t);
      break;
    case NR_renameat:
    case NR_renameat2:
      r = file_rec(buf, t, WF_RENAME, ret);
      off = put_user_path(buf, off, WT_PATH1_STR, WT_BASE1, (long)a[0], (const char *)a[1], t);
      off = put_user_path(buf, off, WT_PATH2_STR, WT_BASE2, (long)a[2], (const char *)a[3], t);
      break;
    case NR_mkdir:
      r = file_rec(buf, t, WF_CREATE, ret);
      r->flags = WFF_DIRECTORY;
      r->mode = a[1];
      off = put_user_path(buf, off, WT_PATH1_STR, WT_BASE1, AT_FDCWD_, (const char *)a[0], t);
      break;
    case NR_mkdirat:
      r = file_rec(buf, t, WF_CREATE, ret);
      r->flags = WFF_DIRECTORY;
      r->mode = a[2];
      off = put_user_path(buf, off, WT_PATH1_STR, WT_BASE1, (long)a[0], (const char *)a[1], t);
      break;
    case NR_rmdir:
      r = file_rec(buf, t, WF_DELETE, ret);
      r->flags = WFF_DIRECTORY;
      off = put_user_path(buf, off, WT_PATH1_STR, WT_BASE1, AT_FDCWD_, (const char *)a[0], t);
      break;
    case NR_unlink:
      r = file_rec(buf, t, WF_DELETE, ret);
      off = put_user_path(buf, off, WT_PATH1_STR, WT_BASE1, AT_FDCWD_, (const char *)a[0], t);
      break;
    case NR_unlinkat:
      r = file_rec(buf, t, WF_DELETE, ret);
      if (a[2] & AT_REMOVEDIR_) r->flags = WFF_DIRECTORY;
      off = put_user_path(buf, off, WT_PATH1_STR, WT_BASE1, (long)a[0], (const char *)a[1], t);
      break;
    case NR_chmod:
      r = file_rec(buf, t, WF_CHMOD, ret);
      r->mode = a[1];
      off = put_user_path(buf, off, WT_PATH1_STR, WT_BASE1, AT_FDCWD_, (const char *)a[0], t);
      break;
    case NR_fchmod: {
      r = file_rec(buf, t, WF_CHMOD, ret);
      r->mode = a[1];
      struct file *f = fd_file(t, (long)a[0]);
      if (!f) return;
      off = put_file_walk(buf, off, WT_PATH1, f, t);
      break;
    }
    case NR_fchmodat:
    case NR_fchmodat2:
      r = file_rec(buf, t, WF_CHMOD, ret);
      r->mode = a[2];
      off = put_user_path(buf, off, WT_PATH1_STR, WT_BASE1, (long)a[0], (const char *)a[1], t);
      break;
    case NR_chown:
    case NR_lchown:
      r = file_rec(buf, t, WF_CHOWN, ret);
      r->owner_uid = a[1];
      r->owner_gid = a[2];
      off = put_user_path(buf, off, WT_PATH1_STR, WT_BASE1, AT_FDCWD_, (const char *)a[0], t);
      break;
    case NR_fchown: {
      r = file_rec(buf, t, WF_CHOWN, ret);
      r->owner_uid = a[1];
      r->owner_gid = a[2];
      struct file *f = fd_file(t, (long)a[0]);
      if (!f) return;
      off = put_file_walk(buf, off, WT_PATH1, f, t);
      break;
    }
    case NR_fchownat:
      r = file_rec(buf, t, WF_CHOWN, ret);
      r->owner_uid = a[2];
      r->owner_gid = a[3];
      off = put_user_path(buf, off, WT_PATH1_STR, WT_BASE1, (long)a[0], (const char *)a[1], t);
      break;
    case NR_mount:
      r = file_rec(buf, t, WF_MOUNT, ret);
      r->open_flags = a[3];
      if (a[0]) off = put_str(buf, off, WT_PATH1_STR, (const char *)a[0], 1);
      off = put_user_path(buf, off, WT_PATH2_STR, WT_BASE2, AT_FDCWD_, (const char *)a[1], t);
      if (a[2]) off = put_str(buf, off, WT_FSTYPE, (const char *)a[2], 1);
      break;
    case NR_umount2:
      r = file_rec(buf, t, WF_UMOUNT, ret);
      r->open_flags = a[1];
      off = put_user_path(buf, off, WT_PATH1_STR, WT_BASE1, AT_FDCWD_, (const char *)a[0], t);
      break;
    default:
      return;
  }
  r->h.size = off;
  send(buf, off, WK_FILE);
}

#define AF_INET_ 2
#define AF_INET6_ 10
#define EINPROGRESS_ 115

/* A connect(2) of an IPv4/IPv6 socket that succeeded or is under way (EINPROGRESS): both ends as the
 * kernel socket now holds them — the local port was bound by the connect itself — so the process
 * table can name the client of a connection by its source address once the client is gone (the
 * proxy's and the DNS resolver's /proc lookup missed). TCP and connected UDP; a UDP socket that only
 * ever uses sendto(2) is not seen. Not an event. */
static __always_inline void inet_connect_done(struct stash *st, long ret, struct task_struct *t) {
  if (ret != 0 && ret != -EINPROGRESS_) return;
  struct file *f = fd_file(t, (long)st->args[0]);
  if (!f) return;
  unsigned short imode = BPF_CORE_READ(f, f_inode, i_mode);
  if ((imode & S_IFMT_) != S_IFSOCK_) return;
  struct socket *sock = (struct socket *)BPF_CORE_READ(f, private_data);
  if (!sock) return;
  struct sock *sk = BPF_CORE_READ(sock, sk);
  if (!sk) return;
  unsigned short family = BPF_CORE_READ(sk, __sk_common.skc_family);
  if (family != AF_INET_ && family != AF_INET6_) return;
  struct wire_connect c = {};
  fill_hdr(&c.h, WK_CONNECT, 0);
  c.h.size = sizeof(c);
  c.phase = WCP_CONNECTED;
  c.family = family;
  c.sock_type = (__u8)BPF_CORE_READ(sock, type);
  c.local_port = BPF_CORE_READ(sk, __sk_common.skc_num);
  __u16 dport_be = BPF_CORE_READ(sk, __sk_common.skc_dport);
  c.port = (__u16)((dport_be >> 8) | (dport_be << 8));
  if (family == AF_INET_) {
    __be32 a = BPF_CORE_READ(sk, __sk_common.skc_daddr);
    __be32 l = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
    __builtin_memcpy(c.addr, &a, 4);
    __builtin_memcpy(c.local_addr, &l, 4);
  } else {
    bpf_core_read(c.addr, 16, &sk->__sk_common.skc_v6_daddr);
    bpf_core_read(c.local_addr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
  }
  send(&c, sizeof(c), WK_CONNECT);
}

/* connect(2) to a pathname unix socket: the sandbox's view holds only the sockets the policy names
 * (a host socket is simply not there), so each connection to one is recorded, as are the refused
 * ones (ECONNREFUSED: nobody listens; EACCES/EPERM). Abstract and unnamed addresses are not files;
 * ENOENT (no such socket, e.g. glibc looking for nscd) is noise. */
static __always_inline void unix_connect_done(struct stash *st, long ret, struct task_struct *t) {
  const char *ua = (const char *)st->args[1];
  unsigned long len = st->args[2];
  __u16 family = 0;
  char first = 0;
  if (!ua || len <= 2 || bpf_probe_read_user(&family, sizeof(family), ua) || family != 1) return;
  if (bpf_probe_read_user(&first, 1, ua + 2) || first == 0) return;
  if (ret < 0 && !denied(ret) && ret != -ECONNREFUSED_) return;
  struct scratch *s = scratch(0);
  if (!s) return;
  char *buf = s->buf;
  struct wire_file *r = file_rec(buf, t, WF_CONNECT, ret);
  __u32 off = put_user_path(buf, sizeof(struct wire_file), WT_PATH1_STR, WT_BASE1, AT_FDCWD_, ua + 2, t);
  r->h.size = off;
  send(buf, off, WK_FILE);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(on_sys_exit, struct pt_regs *regs, long ret) {
  long id = regs->orig_ax;
  switch (id) {
    case NR_execve:
    case NR_execveat:
    case NR_open:
    case NR_openat:
    case NR_openat2:
    case NR_creat:
    case NR_truncate:
    case NR_ftruncate:
    case NR_rename:
    case NR_renameat:
    case NR_renameat2:
    case NR_mkdir:
    case NR_mkdirat:
    case NR_rmdir:
    case NR_unlink:
    case NR_unlinkat:
    case NR_chmod:
    case NR_fchmod:
    case NR_fchmodat:
    case NR_fchmodat2:
    case NR_chown:
    case NR_fchown:
    case NR_lchown:
    case NR_fchownat:
    case NR_mount:
    case NR_umount2:
    case NR_connect:
      break;
    default:
      return 0;
  }
  if (!in_session()) return 0;
  struct stash st;
  st.id = id;
  st.args[0] = regs->di;
  st.args[1] = regs->si;
  st.args[2] = regs->dx;
  st.args[3] = regs->r10;
  st.args[4] = regs->r8;
  st.args[5] = regs->r9;
  struct task_struct *t = (struct task_struct *)bpf_get_current_task();
  switch (id) {
    case NR_execve:
    case NR_execveat:
      if (capture_processes && ret < 0) exec_failed(&st, ret, t);
      return 0;
    case NR_open:
    case NR_openat:
    case NR_openat2:
    case NR_creat:
      if (capture_files) open_done(&st, ret, t);
      return 0;
    case NR_connect:
      if (capture_files) unix_connect_done(&st, ret, t);
      if (capture_processes) inet_connect_done(&st, ret, t);
      return 0;
    default:
      if (!capture_files) return 0;
      path_op_done(&st, ret, t);
      return 0;
  }
}
