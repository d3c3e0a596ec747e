#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "capture/argv_area.h"
#include "capture/ebpf/wire.h"
#include "common/result.h"

namespace warden::capture {

// The userspace side of wire.h: one ring-buffer record in, a typed record out. Socket-free and
// defensive: the bytes come from the kernel programs but are checked as if they came from anyone
// (every length against the record, every TLV against its end, versions and kinds known); a record
// that fails is an InvalidArgument naming what was wrong, never a crash (tests/fuzz/ebpf_record_fuzz).

// A path as the kernel's dentry walk gave it, made absolute.
struct WalkPath {
  std::string path;          // "/workspace/a.txt"; "/" for the root
  bool truncated = false;    // deeper or longer than the walk's bound: `path` is its tail
  bool unreachable = false;  // outside the task's root (seen from the mount namespace's root)
};

struct ExecRecord {
  wire_exec fixed{};
  WalkPath exe;
  WalkPath cwd;
  std::string filename;
};

struct ArgvRecord {
  wire_hdr hdr{};
  uint64_t exec_id = 0;
  uint32_t offset = 0;
  std::string data;
};

struct ExecFailRecord {
  wire_exec_fail fixed{};
  std::string filename;  // as passed
  WalkPath base;         // the directory a relative filename is relative to
  WalkPath cwd;
  std::vector<std::string> argv;
};

struct ForkRecord {
  wire_fork fixed{};
};

struct ExitRecord {
  wire_exit fixed{};
};

struct ConnectRecord {
  wire_connect fixed{};
};

struct FileRecord {
  wire_file fixed{};
  WalkPath path1;  // resolved (WT_PATH1), or path1_str resolved against base1
  std::string path1_str;
  WalkPath base1;
  bool has_path1_walk = false;
  bool has_base1 = false;
  WalkPath path2;
  std::string path2_str;
  WalkPath base2;
  bool has_path2_walk = false;
  bool has_base2 = false;
  std::string fstype;
};

using Record = std::variant<ExecRecord, ArgvRecord, ExecFailRecord, ForkRecord, ExitRecord, FileRecord, ConnectRecord>;

// Parses one record. InvalidArgument for anything that does not hold together.
Result<Record> parseRecord(std::span<const uint8_t> bytes);
// The kind a record claims (its first two bytes), or 0 when too short: for loss accounting of a
// record that does not parse.
uint16_t recordKindOf(std::span<const uint8_t> bytes);

// A path from a walk TLV's value (flag byte, then components leaf first, each NUL-terminated).
WalkPath decodeWalk(std::string_view value);

// Collects WK_ARGV chunks until their WK_EXEC arrives (chunks come first: wire.h). Bounded: at most
// `max_bytes` held; chunks older than `max_age_ms` whose exec never came (its record was dropped)
// are discarded by expire(). Not thread-safe (the reader thread's).
class ArgvAssembler {
 public:
  explicit ArgvAssembler(size_t max_bytes = 64u << 20) : max_bytes_(max_bytes) {}
  // False when the chunk was refused (over the bound, or out of order): the exec is then incomplete.
  bool add(ArgvRecord&& chunk, int64_t now_ms);
  // The argv bytes of `exec_id` (chunks in order, `complete` false on a gap) and forgets them.
  std::string take(uint64_t exec_id, uint32_t expected_chunks, bool& complete);
  // Drops chunk sets older than `max_age_ms`; returns how many chunks were dropped.
  size_t expire(int64_t now_ms, int64_t max_age_ms = 2000);
  size_t bytesHeld() const { return held_; }

 private:
  struct Pending {
    std::string data;
    uint32_t chunks = 0;
    int64_t first_ms = 0;
  };
  const size_t max_bytes_;
  size_t held_ = 0;
  std::map<uint64_t, Pending> pending_;
};

}  // namespace warden::capture
