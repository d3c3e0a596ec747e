#pragma once

// The policy `warden run` uses without --policy (product.md: "fully standalone (embedded
// default)"): no egress at all, the system directories read-only, /tmp (private to the sandbox)
// read-write. docs/sandbox.md prints it.

#include <string_view>

namespace warden::sandbox {

inline constexpr std::string_view kDefaultPolicyName = "<embedded default policy>";
inline constexpr std::string_view kDefaultPolicy = R"(version: 1
filesystem:
  read_only: [/usr, /lib, /lib64, /lib32, /bin, /sbin, /etc, /opt]
  read_write: [/tmp]
)";

}  // namespace warden::sandbox
