/* The kernel types capture.bpf.c reads, hand-written and minimal (docs/capture.md, "Kernel types").
 * Every struct carries preserve_access_index: the compiler records each field access as a CO-RE
 * relocation and libbpf rewrites the offsets at load time from the running kernel's BTF
 * (/sys/kernel/btf/vmlinux), so the layout written here only has to name the fields, not match
 * any kernel's layout. A field renamed by a later kernel (file->f_count became f_ref in 6.13) is
 * declared under both names and chosen with bpf_core_field_exists(). */
#ifndef WARDEN_CAPTURE_KERNEL_TYPES_BPF_H
#define WARDEN_CAPTURE_KERNEL_TYPES_BPF_H

#include <linux/types.h>

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

struct pt_regs {
  unsigned long r10;
  unsigned long r8;
  unsigned long r9;
  unsigned long dx;
  unsigned long si;
  unsigned long di;
  unsigned long orig_ax;
};

typedef struct {
  int counter;
} atomic_t;

typedef struct {
  long counter;
} atomic_long_t;

typedef struct {
  long long counter;
} atomic64_t;

typedef struct {
  atomic64_t refcnt;
} file_ref_t;

typedef struct {
  unsigned int val;
} kuid_t;

typedef struct {
  unsigned int val;
} kgid_t;

struct qstr {
  union {
    struct {
      unsigned int hash;
      unsigned int len;
    };
    unsigned long long hash_len;
  };
  const unsigned char *name;
};

struct super_block {
  unsigned int s_dev;
};

struct inode {
  unsigned short i_mode;
  unsigned long i_ino;
  struct super_block *i_sb;
};

struct dentry {
  struct dentry *d_parent;
  struct qstr d_name;
  struct inode *d_inode;
};

struct vfsmount {
  struct dentry *mnt_root;
};

struct mount {
  struct mount *mnt_parent;
  struct dentry *mnt_mountpoint;
  struct vfsmount mnt;
};

struct path {
  struct vfsmount *mnt;
  struct dentry *dentry;
};

struct file {
  struct path f_path;
  struct inode *f_inode;
  unsigned int f_mode;
  file_ref_t f_ref;        /* 6.13 and later: references - 1 */
  atomic_long_t f_count;   /* before 6.13: references */
  void *private_data;      /* a socket's file: its struct socket */
};

/* A connected socket's two ends (include/net/sock.h). The kernel nests the IPv4 addresses and the
 * ports in anonymous unions (skc_addrpair, skc_portpair); libbpf finds a field by name through the
 * target's anonymous members, so they are flat here. */
struct in6_addr {
  union {
    __u8 u6_addr8[16];
  } in6_u;
};

struct sock_common {
  __be32 skc_daddr;
  __be32 skc_rcv_saddr;
  __be16 skc_dport;
  __u16 skc_num; /* the local port, host order */
  unsigned short skc_family;
  struct in6_addr skc_v6_daddr;
  struct in6_addr skc_v6_rcv_saddr;
};

struct sock {
  struct sock_common __sk_common;
};

struct socket {
  short type; /* SOCK_STREAM, SOCK_DGRAM, ... */
  struct sock *sk;
};

struct fdtable {
  unsigned int max_fds;
  struct file **fd;
};

struct files_struct {
  struct fdtable *fdt;
};

struct fs_struct {
  struct path root;
  struct path pwd;
};

struct cred {
  kuid_t uid;
  kgid_t gid;
  kuid_t euid;
  kgid_t egid;
};

struct mm_struct {
  unsigned long arg_start;
  unsigned long arg_end;
};

struct upid {
  int nr;
  void *ns;
};

struct pid {
  unsigned int level;
  struct upid numbers[1];
};

struct signal_struct {
  atomic_t live;
  unsigned int flags;
  int group_exit_code;
};

struct task_struct {
  int pid;
  int tgid;
  struct task_struct *real_parent;
  struct task_struct *group_leader;
  struct pid *thread_pid;
  const struct cred *real_cred;
  const struct cred *cred;
  struct fs_struct *fs;
  struct files_struct *files;
  struct mm_struct *mm;
  struct signal_struct *signal;
  unsigned long long start_time;
  int exit_code;
  char comm[16];
};

struct linux_binprm {
  struct file *file;
  int argc;
  const char *filename;
};

#pragma clang attribute pop

#endif
