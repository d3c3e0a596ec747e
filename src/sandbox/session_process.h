#pragma once

// The session's main process as its PROC events describe it: pid 1 of the sandbox's pid namespace
// (the pids Warden records for the agent are the ones the agent sees), the agent's uid, the
// executable found on the agent's PATH the way execvp(3) finds it, argv joined as cmd_line.

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "ocsf/event.h"

namespace warden::sandbox {

// The executable execvp would run for `command` with `env`'s PATH: `command` itself when it holds a
// '/', else the first "<dir>/<command>" on PATH that is an executable regular file. nullopt: none.
std::optional<std::string> findExecutable(const std::string& command, const std::vector<std::string>& env);

ocsf::Process mainProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                          const std::string& cwd, uid_t uid);

}  // namespace warden::sandbox
