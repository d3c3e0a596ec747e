#pragma once

// Internal to the launcher: what the cloned child reads (prepared by SandboxChild::spawn before
// clone) and what it reports. Only plain data: the child may not allocate.

#include <linux/filter.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace warden::sandbox::launcher_detail {

// Set-up steps, in order; reported as ChildStatus::stage. Keep stageName() in launcher.cc in step.
enum class Stage : int32_t {
  kPark = 1,
  kMountPrivate,
  kMountRoot,       // the new root's tmpfs
  kMount,           // index: mount action
  kPivotRoot,
  kHostname,
  kLoopback,
  kChdir,
  kStdio,
  kSetsid,
  kSetgroups,
  kSetresgid,
  kCapBounding,
  kCapAmbient,
  kSetresuid,
  kCapClear,
  kVerifyIds,
  kVerifyCaps,
  kParentDeath,
  kNoNewPrivs,
  kLandlockRuleset,
  kLandlockPath,    // index: Landlock path
  kLandlockPort,    // index: port
  kLandlockRestrict,
  kSeccomp,
  kSignals,
  kCloseFds,
  kInit,            // forking the agent from Warden's init
  kExec,            // index: exec candidate (the last one tried)
};

// Written once to the status pipe by a child that fails; smaller than PIPE_BUF, so atomic.
struct ChildStatus {
  int32_t stage = 0;
  int32_t err = 0;
  int32_t index = -1;
  int32_t exit_code = 0;
};

// Everything the child needs. Pointers refer to memory owned by SandboxChild::Plan in the parent;
// the child reads its own copy of that memory (clone without CLONE_VM).
struct ChildPlan {
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  const char* const* exec_paths = nullptr;
  size_t exec_path_count = 0;
  const char* cwd = nullptr;
  const char* hostname = nullptr;  // nullptr: keep
  size_t hostname_len = 0;
  // The new root (root_layout.h): a tmpfs at root_dir, the mount actions, then pivot_root.
  const char* root_dir = nullptr;
  const int* mount_kinds = nullptr;  // MountKind values
  const char* const* mount_sources = nullptr;
  const char* const* mount_targets = nullptr;
  const char* const* mount_data = nullptr;
  size_t mount_count = 0;
  int workspace_userns = -1;  // idmaps kBindWorkspace mounts when >= 0
  bool new_session = true;
  bool init = true;           // Warden's init stays pid 1 and forks the agent
  bool loopback_up = true;
  int stdio[3] = {-1, -1, -1};
  uid_t uid = 0;
  gid_t gid = 0;
  // Landlock (applied when landlock_abi > 0).
  int landlock_abi = 0;
  uint64_t handled_fs = 0;
  uint64_t handled_net = 0;
  uint64_t scoped = 0;
  const char* const* ll_paths = nullptr;
  const uint64_t* ll_dir_rights = nullptr;   // when the path is a directory
  const uint64_t* ll_file_rights = nullptr;  // when it is anything else
  size_t ll_count = 0;
  const uint16_t* ll_ports = nullptr;        // CONNECT_TCP allowed (when handled_net has it)
  size_t ll_port_count = 0;
  // seccomp (applied when filter_len > 0).
  const sock_filter* filter = nullptr;
  unsigned short filter_len = 0;
  // Control channels: the child's ends, and the parent's ends to close in the child.
  int go_read = -1;
  int status_write = -1;
  int exit_report_write = -1;  // init writes the agent's wait status (an int) here before it exits
  int parent_go_write = -1;
  int parent_status_read = -1;
};

// The child's entry point (clone(2)'s fn). Never returns: execs or _exits.
int childMain(void* plan);

}  // namespace warden::sandbox::launcher_detail
