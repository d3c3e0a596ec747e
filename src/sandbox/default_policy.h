#pragma once

// The policy `warden run` uses without --policy (product.md: "fully standalone (embedded
// default)"): no egress at all and the default filesystem view. docs/sandbox.md prints it.

#include <string_view>

namespace warden::sandbox {

inline constexpr std::string_view kDefaultPolicyName = "<embedded default policy>";
inline constexpr std::string_view kDefaultPolicy = "version: 1\n";

// The filesystem view of a policy without a `filesystem` section (sandbox.md: "A policy without
// `filesystem` gets the default view"): the system directories read-only; the workspace, the private
// /tmp and /dev/shm read-write (root_layout.h, workspace.h).
inline constexpr const char* kDefaultReadOnly[] = {"/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc", "/opt"};

}  // namespace warden::sandbox
