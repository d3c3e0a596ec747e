#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "audit/emitter.h"
#include "capture/capture_facts.h"
#include "capture/capture_options.h"
#include "capture/path_rules.h"
#include "capture/process_table.h"
#include "ocsf/builders.h"

namespace warden::capture {

// The kinds the capture accounts for separately (LOG:LOSS [kind:...], the final summary).
enum class RecordKind : int { kExec = 0, kArgv, kExecFail, kFork, kExit, kFile, kConnect, kCount };
// "exec", "argv", "exec_fail", "fork", "exit", "file", "connect"
std::string_view recordKindName(RecordKind kind);

// Per kind: what the kernel side meant to send, what it could not, and what the reader made of it.
struct KindAccount {
  uint64_t seen = 0;      // the kernel side's count (eBPF counters) or what the reader received
  uint64_t dropped = 0;   // refused by the ring buffer (kernel side), reported as LOG:LOSS
  uint64_t received = 0;  // records the reader parsed
  uint64_t malformed = 0; // records the reader could not parse (reported as LOG:LOSS)
  uint64_t recorded = 0;  // became (part of) an event
  uint64_t filtered = 0;  // deliberately not an event: excluded paths, forks, PATH-search misses
};
using Accounts = std::array<KindAccount, static_cast<size_t>(RecordKind::kCount)>;

// Turns what a kernel source observed (capture_facts.h) into PROC and FILE events: keeps the process
// table, names actors and ancestry, applies the path rules, folds a shell's or execvp's PATH search
// (ENOENT, ENOENT, ... then success) into nothing, and a PATH search that found nothing into one
// failed launch; reports loss (LOG:LOSS) and, at the end, the reconciliation summary.
//
// Not thread-safe: one source's reader thread calls it (the process table it feeds is thread-safe
// and shared). Borrows the Emitter and the SessionContext (they outlive it).
class Recorder {
 public:
  Recorder(const CaptureOptions& options, PathRules rules, audit::Emitter& emitter, const ocsf::SessionContext& ctx,
           std::shared_ptr<ProcessTable> table);

  void onExec(ExecFact&& fact);
  void onExecFailed(ExecFailFact&& fact);
  void onFork(const ForkFact& fact);
  void onExit(const ExitFact& fact);
  void onFile(FileFact&& fact);
  // A connect(2): into the process table (ProcessTable::connector), never an event.
  void onConnect(uint32_t pid, std::string_view comm, uint32_t uid, std::string ip, int port, int64_t time_ms);
  // A connect(2) that completed, with the socket's local end: into the process table
  // (ProcessTable::bySource), never an event.
  void onConnected(uint32_t pid, std::string_view comm, uint32_t uid, ProcessTable::SocketEnds ends, int64_t time_ms);
  // Emits failed launches held back for a possible PATH search once they are older than 500 ms.
  void tick(int64_t now_ms);
  // Emits everything held back (at stop).
  void flush();

  // LOG:LOSS [kind:<kind> count:<n> window:<from>-<to>] (High), the window in UTC HH:MM:SS.
  void reportLoss(RecordKind kind, uint64_t count, int64_t from_ms, int64_t to_ms, std::string_view why);
  // The final record: per kind seen / recorded / filtered / lost and whether seen = received +
  // dropped and received = recorded + filtered + malformed hold (EVENT "Capture Summary").
  // `kernel_skipped`: program runs the kernel skipped (eBPF recursion misses; their records are lost,
  // counted apart since no kind can be named).
  void summary(std::string_view backend, const Accounts& accounts, int64_t time_ms, uint64_t kernel_skipped = 0);
  // LOG:LOSS [kind:kernel_skipped count:<n> window:...]: program runs the kernel skipped.
  void reportSkipped(uint64_t count, int64_t from_ms, int64_t to_ms);

  KindAccount& account(RecordKind kind) { return accounts_[static_cast<size_t>(kind)]; }
  const Accounts& accounts() const { return accounts_; }
  const std::shared_ptr<ProcessTable>& table() const { return table_; }
  const PathRules& rules() const { return rules_; }

 private:
  bool isSupervisor(uint32_t pid) const;
  struct PendingFailure {
    ExecFailFact fact;
    int attempts = 1;
  };
  void emitFailure(PendingFailure&& pending);
  void flushFailure(uint32_t pid);
  ocsf::Process actorFor(uint32_t pid, uint32_t uid, std::string_view comm) const;

  const CaptureOptions& options_;
  const PathRules rules_;
  audit::Emitter& emitter_;
  const ocsf::SessionContext& ctx_;
  std::shared_ptr<ProcessTable> table_;
  std::map<uint32_t, PendingFailure> pending_;  // failed execs by pid, oldest first by time
  Accounts accounts_{};
};

}  // namespace warden::capture
