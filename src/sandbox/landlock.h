#pragma once

// The Landlock part of the sandbox (sandbox.md "Isolation"): the policy's `filesystem` lists become a
// ruleset in which everything not listed is denied. The plan is built in the supervisor (it asks the
// kernel which ABI it offers and picks the rights that ABI knows); the launcher's child applies it
// after dropping privileges and setting no_new_privs (launcher.h).

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "policy/model.h"

namespace warden::sandbox {

// The newest Landlock ABI this code knows (7: Linux 6.15). A kernel offering less is "degraded".
inline constexpr int kLandlockKnownAbi = 7;

// What the child applies. A plain value; copy it freely.
struct LandlockPlan {
  int kernel_abi = 0;       // what landlock_create_ruleset(NULL, 0, VERSION) returned; 0 = none
  uint64_t handled_fs = 0;  // filesystem access rights handled for the ABI (everything else denied)
  // TCP bind/connect handled (ABI >= 4). 0 by decision: network confinement is the network
  // namespace's and nftables' job (they know addresses; Landlock only ports), and handling TCP here
  // would also forbid the agent's own loopback servers. A caller may set
  // LANDLOCK_ACCESS_NET_BIND_TCP|LANDLOCK_ACCESS_NET_CONNECT_TCP itself; then only the ports in
  // `connect_tcp_ports` may be connected to (e.g. the proxy port) and no port may be bound.
  uint64_t handled_net = 0;
  std::vector<uint16_t> connect_tcp_ports;
  // IPC scopes (ABI >= 6): abstract unix sockets and signals are confined to the agent's own
  // Landlock domain (it cannot signal or connect to anything outside it).
  uint64_t scoped = 0;
  // Absolute paths, as given (implicit ones included). read_only: read files, list directories,
  // execute; read_write: every handled right (on a file: the rights a file can have).
  std::vector<std::string> read_only, read_write;
  std::vector<std::string> missing;  // listed paths that do not exist (skipped, reported)

  // "abi 7: fs rights 0xffff, scoped 0x3, 12 paths (2 missing: /lib64, /workspace)"
  std::string describe() const;
  // True when kernel_abi < kLandlockKnownAbi (or 0: nothing is enforced).
  bool degraded() const;
};

// Paths every plan gets besides the policy's: /proc read-only; the harmless devices, the session's
// private /tmp and /dev/shm, and its own pseudo-terminals read-write (root_layout.h).
// /dev and /run are the sandbox's own minimal ones, so reading (listing) them shows nothing of the host.
inline constexpr const char* kLandlockImplicitReadOnly[] = {"/proc", "/dev", "/run"};
inline constexpr const char* kLandlockImplicitReadWrite[] = {
    "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty",
    "/dev/pts",  "/dev/shm",  "/tmp"};

// Builds the plan for the running kernel's ABI. Always adds the implicit paths above and
// `extra_read_only` (e.g. the session's CA files). Relative or empty paths -> InvalidArgument.
Result<LandlockPlan> planLandlock(const policy::FilesystemAccess& fs,
                                  const std::vector<std::string>& extra_read_only);
// The same for a given ABI (0 = Landlock unavailable); tests use it to see what older kernels get.
Result<LandlockPlan> planLandlockForAbi(int abi, const policy::FilesystemAccess& fs,
                                        const std::vector<std::string>& extra_read_only);

// What the kernel offers: landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION), 0 when
// Landlock is not built in or disabled at boot.
int landlockKernelAbi();

// The rights of each ABI (cumulative).
uint64_t landlockFsRightsForAbi(int abi);
uint64_t landlockNetRightsForAbi(int abi);
uint64_t landlockScopesForAbi(int abi);
// The subset of `rights` that may be granted on a non-directory (Landlock refuses directory rights
// on a file with EINVAL).
uint64_t landlockFileRights(uint64_t rights);
// Read-only grant: execute, read file, read directory.
uint64_t landlockReadOnlyRights(uint64_t handled_fs);

}  // namespace warden::sandbox
