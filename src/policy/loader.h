#pragma once

#include <cstddef>
#include <filesystem>
#include <string_view>

#include "common/result.h"
#include "policy/diagnostics.h"
#include "policy/model.h"

namespace warden::policy {

// Loading a policy file: YAML -> validated Policy, or every problem found.
//
// The loader reads every section of the policy (version, process, resources, filesystem, audit,
// network), rejects unknown keys, and keeps going after a problem so that one run reports all of
// them, each with its 1-based line and column ("file:line:col: message"). YAML syntax errors are
// reported the same way (the parser stops at the first one). yaml-cpp throws; nothing thrown
// leaves these functions. Stateless and thread-safe; all work happens on the calling thread, so a
// reload runs off the hot path and only the finished Policy is swapped in (see PolicyStore).

// Larger files are rejected before parsing.
inline constexpr size_t kMaxPolicyBytes = 1 << 20;

// Loads a policy from `text`; `name` is the file name used in diagnostics and Policy::source.
// On failure returns InvalidArgument whose message is every diagnostic, one per line; the same
// problems are appended to `*diagnostics` when it is given. Policy::hash is SHA-256 of `text`.
Result<Policy> loadPolicyText(std::string_view text, std::string_view name,
                              Diagnostics* diagnostics = nullptr);

// Reads `path` and loads it as above (diagnostics name the file as `path` was given). A file that
// cannot be read is NotFound / PermissionDenied / InvalidArgument (a directory, too large), with
// one position-less diagnostic.
Result<Policy> loadPolicyFile(const std::filesystem::path& path, Diagnostics* diagnostics = nullptr);

}  // namespace warden::policy
