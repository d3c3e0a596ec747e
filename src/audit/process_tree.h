#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace warden::audit {

// "What did the agent run, in what order, as which process" (`warden audit tree`): a session's
// process tree rebuilt from its recorded events (canonical JSONL lines), socket-free.
//
// A process is a pid from its first PROC:LAUNCH (or the first event naming it) to its
// PROC:TERMINATE; each exec it made is one image (sh that execs python has two). Parents come from
// process.parent_process, or the nearest known pid in process.ancestry when the parent only forked
// (forks are not events). Beneath each process: its failed execs, the files it touched (FILE), the
// connections and lookups it made (NET, HTTP, DNS) and its tool and model calls (TOOL, MODEL) — every
// event whose actor.process.pid is that process at that time. Not thread-safe; a plain builder.

struct TreeItem {
  int64_t time_ms = 0;
  std::string kind;    // "FILE", "NET", "HTTP", "DNS", "TOOL", "MODEL", "EXEC FAILED"
  std::string what;    // "create /workspace/out.txt", "open api.example.com:443 allowed"
  bool denied = false;
};

struct TreeImage {
  int64_t time_ms = 0;
  std::string exe;
  std::vector<std::string> argv;
  std::string cmd_line;
  bool argv_truncated = false;
};

struct TreeProcess {
  int64_t pid = 0;
  int64_t ppid = 0;  // as recorded (0: unknown)
  std::string name;
  std::optional<int64_t> uid;
  int64_t start_ms = 0;
  std::optional<int64_t> end_ms;
  std::optional<int> exit_code;
  std::string signal;  // "SIGKILL" when it died of one
  std::vector<TreeImage> images;
  std::vector<TreeItem> items;
  std::vector<size_t> children;  // indexes into ProcessTree::processes, in start order
};

struct ProcessTree {
  std::vector<TreeProcess> processes;  // in order of first appearance
  std::vector<size_t> roots;           // in start order
  uint64_t events = 0;                 // lines read
  uint64_t unparsed = 0;               // lines that were not an OCSF JSON object
};

class ProcessTreeBuilder {
 public:
  // One canonical JSONL line (an OCSF event). Lines that do not parse are counted, not fatal.
  void add(std::string_view json_line);
  // The tree so far (children and roots sorted by start time).
  ProcessTree build() const;

 private:
  size_t processFor(int64_t pid, int64_t time_ms, bool new_image);
  std::optional<size_t> find(int64_t pid, int64_t time_ms) const;

  ProcessTree tree_;
  std::vector<std::vector<int64_t>> ancestry_;  // per process: ancestor pids, nearest first
};

// Text: one line per process, indented by depth —
// `<HH:MM:SS.mmm> <name>(<pid>) uid:<uid> exit:<code>|signal:<SIG>|running <cmd_line>` —
// and beneath it `  <HH:MM:SS.mmm> <KIND> <what>` per item and per further exec. Agent-controlled text
// is escaped as in the shorthand (one process, one line). UTC times.
std::string renderTreeText(const ProcessTree& tree);
// JSON: {"processes": [{pid, ppid, name, uid, start, end, exit_code, signal, execs: [{time, exe, argv,
// argv_truncated}], activity: [{time, kind, what, denied}], children: [...]}], "events": n, "unparsed": n}.
std::string renderTreeJson(const ProcessTree& tree);

}  // namespace warden::audit
