#pragma once

// The unprivileged user the agent runs as (sandbox.md "Isolation": never root).

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>

#include "common/result.h"

namespace warden::sandbox {

struct AgentUser {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string name;
  std::string home;
};

// The user the agent runs as when the policy names none and /etc/passwd has no "warden-agent".
inline constexpr uid_t kDefaultAgentUid = 64000;
inline constexpr gid_t kDefaultAgentGid = 64000;
inline constexpr const char* kDefaultAgentName = "warden-agent";

// Resolves policy `process.run_as_user`:
// - a user name from /etc/passwd (its uid, primary gid and home);
// - "UID" or "UID:GID" numbers (name and home from /etc/passwd when it has that uid; otherwise the
//   name is the number, the gid defaults to the uid and the home is "/tmp");
// - none: the user "warden-agent" when /etc/passwd has it, else uid 64000 gid 64000 named
//   "warden-agent" with home "/tmp".
// Errors: uid 0 or gid 0 -> PermissionDenied; an unknown name -> NotFound; an empty value, a
// malformed number or the reserved id 4294967295 -> InvalidArgument; an unreadable /etc/passwd ->
// the errno's code. Reads the file on every call; thread-safe.
Result<AgentUser> resolveAgentUser(const std::optional<std::string>& run_as_user);

// The same against another passwd-format file (tests).
Result<AgentUser> resolveAgentUser(const std::optional<std::string>& run_as_user,
                                   const std::filesystem::path& passwd_file);

}  // namespace warden::sandbox
