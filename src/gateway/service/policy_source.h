#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/result.h"

namespace warden::gateway {

// What GetSandboxPolicy serves: the policy file's bytes, their SHA-256 and a version number.
struct ServedPolicy {
  std::string yaml;      // the file's exact bytes
  std::string hash;      // lower-case hex SHA-256 of `yaml`
  uint64_t version = 0;  // increases by 1 each time the served content changes
};

struct PolicySourceOptions {
  std::filesystem::path file;
  // The file is looked at (stat, then read and hash when the stat changed) at most this often.
  std::chrono::milliseconds check_interval{1000};
  const Clock* clock = nullptr;  // borrowed; nullptr: SystemClock
  // Called with the next policy (version already increased) before it is served, holding the lock
  // withServed() takes; an error abandons the change (the file is looked at again at the next
  // check). Must not call back into the PolicySource.
  std::function<Result<void>(const ServedPolicy& next)> on_change;
  // Called when the file changed into something that cannot be served — invalid for the policy
  // loader (`problems`: its file:line:col diagnostics, one per line) or unreadable — once per
  // distinct content or error. The last good policy stays served.
  std::function<void(const std::string& problems)> on_rejected;
};

// The gateway's served policy (`warden gateway --policy FILE`). The file is validated with the
// policy loader before it is ever served; a change is picked up lazily: maybeCheck() (called by
// GetSandboxPolicy) looks at the file at most once per check_interval — stat (device, inode, size,
// mtime, ctime), and only when that changed, read, hash and validate. A rewrite that keeps the
// bytes is no change; an invalid edit keeps the last good policy (on_rejected); a valid change gets
// version + 1 (on_change first). A rewrite within the same nanosecond timestamp and size goes
// unseen until the next stat change (documented limit).
//
// Thread-safe: maybeCheck() from any thread (one checks at a time; the others serve what is there);
// withServed()/current() read under a lock that a change holds across on_change and the swap.
class PolicySource {
 public:
  // Reads and validates `file` (the loader's diagnostics, one per line, in an InvalidArgument;
  // NotFound / PermissionDenied when it cannot be read). The result has version 0: the caller
  // numbers it.
  static Result<ServedPolicy> load(const std::filesystem::path& file);

  // Serves `initial` (from load(), with its version set).
  PolicySource(PolicySourceOptions options, ServedPolicy initial);

  // Looks at the file if check_interval has passed since the last look. True when the served
  // policy changed.
  bool maybeCheck();
  // Looks at the file now.
  bool checkNow();

  std::shared_ptr<const ServedPolicy> current() const;
  // Calls `read` with the served policy, under the lock a change holds while it calls on_change
  // and swaps: anything `read` reads that on_change changes (the config revision) belongs to the
  // policy it is given.
  void withServed(const std::function<void(const ServedPolicy&)>& read) const;

 private:
  struct FileStamp {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    int64_t mtime_ns = 0;
    int64_t ctime_ns = 0;
    bool operator==(const FileStamp&) const = default;
  };

  const PolicySourceOptions options_;
  const Clock& clock_;

  std::mutex check_mu_;  // one check at a time; guards the fields below it
  std::chrono::steady_clock::time_point next_check_{};
  std::optional<FileStamp> stamp_;  // of the last content looked at
  std::string rejected_;            // hash of the last invalid content, or the last read error

  mutable std::mutex mu_;
  std::shared_ptr<const ServedPolicy> served_;  // Guarded by mu_.
};

}  // namespace warden::gateway
