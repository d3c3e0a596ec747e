#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace warden::capture {

// What a kernel source observed, normalised: the eBPF reader and the proc connector / fanotify
// fallback both produce these and hand them to a Recorder (recorder.h). Plain values. Times are
// epoch milliseconds; `start_ns` is the kernel's monotonic start time of the thread group (it tells a
// reused pid from its predecessor); pids are host pids.

struct ExecFact {
  int64_t time_ms = 0;
  uint32_t pid = 0;
  uint32_t ppid = 0;
  uint32_t ns_pid = 0;  // 0: unknown
  uint32_t uid = 0;
  uint32_t euid = 0;
  uint32_t gid = 0;
  uint64_t start_ns = 0;
  std::string comm;
  std::string exe;       // the executable as resolved
  std::string cwd;
  std::string filename;  // the path the exec asked for
  std::vector<std::string> argv;
  bool argv_truncated = false;   // longer than the capture keeps
  uint64_t argv_length = 0;      // the whole argv, bytes
  bool argv_incomplete = false;  // a piece was lost (counted as loss)
  bool best_effort = false;      // read from /proc after the fact (fallback)
};

struct ExecFailFact {
  int64_t time_ms = 0;
  uint32_t pid = 0;
  uint32_t ppid = 0;
  uint32_t uid = 0;
  uint32_t euid = 0;
  uint32_t gid = 0;
  std::string comm;
  int err = 0;       // positive errno
  std::string path;  // absolute, resolved lexically against the cwd or dirfd
  std::vector<std::string> argv;
  bool argv_truncated = false;
};

struct ForkFact {
  int64_t time_ms = 0;
  uint32_t pid = 0;
  uint32_t ppid = 0;
  uint32_t uid = 0;
  uint64_t start_ns = 0;
  std::string comm;
};

struct ExitFact {
  int64_t time_ms = 0;
  uint32_t pid = 0;
  int status = 0;  // wait(2) status
  uint64_t start_ns = 0;
  std::string comm;
};

enum class FileOp {
  kOpenRead,    // a sensitive file read
  kCreate,      // file created (open O_CREAT) or directory (mkdir)
  kWrite,       // an open-for-write that wrote (or truncated at open)
  kTruncate,    // truncate(2)/ftruncate(2)
  kDelete,
  kRename,
  kChmod,
  kChown,
  kMount,
  kUnmount,
  kOpenDenied,  // an open refused with EACCES/EPERM
  kAttrib,      // fallback: an attribute change fanotify cannot name further
  kConnect,     // connect(2) to a pathname unix socket (done, refused, or EACCES/EPERM)
};

struct FileFact {
  int64_t time_ms = 0;
  uint32_t pid = 0;  // 0: unknown (fanotify may not say)
  uint32_t uid = 0;
  std::string comm;
  FileOp op = FileOp::kWrite;
  int err = 0;                  // positive errno of a failed or refused operation
  std::string path;             // absolute
  std::string path2;            // rename target, mount point
  bool path_truncated = false;  // deeper or longer than the capture's bound
  std::string fstype;           // mount
  bool sensitive_hint = false;  // the kernel's sensitive-path filter matched
  bool sensitive_guess = false;  // the kernel sent it because a name on its path may be sensitive
  bool directory = false;
  bool truncated = false;  // kWrite: the open truncated the file
  bool created = false;    // kWrite: the same open created it
  uint32_t mode = 0;       // chmod, mkdir
  int64_t owner_uid = -1;  // chown; -1 unchanged
  int64_t owner_gid = -1;
  uint32_t mount_flags = 0;
};

}  // namespace warden::capture
