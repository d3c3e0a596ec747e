#pragma once

// Landlock's user-space ABI up to version 7, spelled out here because the C library headers of the
// build host may be older than the kernel (Debian bookworm's stop at ABI 2).

#include <cstdint>

namespace warden::sandbox::landlock_abi {

inline constexpr uint64_t kAccessFsExecute = 1ULL << 0;
inline constexpr uint64_t kAccessFsWriteFile = 1ULL << 1;
inline constexpr uint64_t kAccessFsReadFile = 1ULL << 2;
inline constexpr uint64_t kAccessFsReadDir = 1ULL << 3;
inline constexpr uint64_t kFsRightsAbi1 = (1ULL << 13) - 1;   // execute .. make_sym
inline constexpr uint64_t kAccessFsRefer = 1ULL << 13;        // ABI 2
inline constexpr uint64_t kAccessFsTruncate = 1ULL << 14;     // ABI 3
inline constexpr uint64_t kAccessFsIoctlDev = 1ULL << 15;     // ABI 5
inline constexpr uint64_t kAccessNetBindTcp = 1ULL << 0;      // ABI 4
inline constexpr uint64_t kAccessNetConnectTcp = 1ULL << 1;   // ABI 4
inline constexpr uint64_t kScopeAbstractUnixSocket = 1ULL << 0;  // ABI 6
inline constexpr uint64_t kScopeSignal = 1ULL << 1;              // ABI 6

inline constexpr int kRulePathBeneath = 1;
inline constexpr int kRuleNetPort = 2;

// struct landlock_ruleset_attr as of ABI 6 (the kernel accepts it from older ABIs' kernels as long as
// the fields they do not know are zero).
struct RulesetAttr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
  uint64_t scoped;
};

struct PathBeneathAttr {
  uint64_t allowed_access;
  int32_t parent_fd;
} __attribute__((packed));

struct NetPortAttr {
  uint64_t allowed_access;
  uint64_t port;
};

}  // namespace warden::sandbox::landlock_abi
