#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/clock.h"

namespace warden::capture {

// sandbox.md "Capture": the default `audit.sensitive_paths` ("~" is the agent's home).
std::vector<std::string> defaultSensitivePaths();

// What the kernel capture of one session records and how (docs/capture.md). The supervisor maps the
// policy's `audit` section and `warden run --capture all|processes|none` onto it. A plain value.
struct CaptureOptions {
  // The session's cgroup v2 directory (e.g. /sys/fs/cgroup/unified/warden/<id>): every process in it
  // or below it is recorded, nothing else.
  std::string cgroup_path;
  bool processes = true;    // PROC events (audit.processes)
  bool file_writes = true;  // FILE events: create, write, delete, rename, attributes, mounts, refusals,
                            // sensitive reads (audit.file_writes)
  std::vector<std::string> sensitive_paths = defaultSensitivePaths();
  std::vector<std::string> exclude_paths;  // globs; matching FILE events are not recorded (counted)
  std::string home;                        // the agent's home, for "~" in the globs above
  // Warden's own processes inside the session (its init, pid 1 of the sandbox): what they do is the
  // sandbox's set-up (mounts, the new root) and their exit is the session's end, not the agent's acts.
  // Their file records and exit are counted as filtered, never recorded.
  std::vector<uint32_t> supervisor_pids;
  // Appended to the errno of a refused operation in its reason: "EACCES (Landlock)" when the
  // supervisor applied Landlock. Empty: the errno alone.
  std::string denial_note;

  // eBPF: the ring buffer's size (a power of two, at least one page) and the argv bytes kept per exec.
  uint32_t ring_bytes = 16u << 20;
  uint32_t argv_max = 256u << 10;
  // How often the reader compares the kernel's drop counters (LOG:LOSS within a second).
  std::chrono::milliseconds loss_check{250};

  enum class Backend { kAuto, kEbpf, kFallback };
  Backend backend = Backend::kAuto;  // kFallback forces the proc connector + fanotify
  // Filesystems the fanotify fallback marks (FAN_MARK_FILESYSTEM); each path names one. Empty: "/".
  std::vector<std::string> fanotify_mounts;

  const Clock* clock = nullptr;  // event times where the kernel gives none; the real clock when null
};

}  // namespace warden::capture
