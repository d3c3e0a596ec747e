#pragma once

// Small file helpers for cgroupfs (internal to the cgroup code): whole-file reads and single writes
// with errors that name the file. Stateless, thread-safe.

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace warden::sandbox::cgroupfs {

Result<std::string> readText(const std::string& path);           // the whole file (cgroup files are small)
Result<void> writeText(const std::string& path, std::string_view text);  // one write(2), no O_CREAT
// The same, returning 0 or the errno (for callers that act on EBUSY and the like).
int writeRaw(const std::string& path, std::string_view text);
bool exists(const std::string& path);
// The pids listed in <dir>/cgroup.procs; empty when it cannot be read.
std::vector<pid_t> readProcs(const std::string& dir);
// A single-number file ("123\n" / "max\n" = UINT64_MAX); nullopt when missing or malformed.
std::optional<uint64_t> readNumber(const std::string& path);
// One key of a flat-keyed file ("oom_kill 3"); nullopt when missing or malformed.
std::optional<uint64_t> readKey(const std::string& path, const std::string& key);

}  // namespace warden::sandbox::cgroupfs
