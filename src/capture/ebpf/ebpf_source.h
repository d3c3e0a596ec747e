#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "audit/emitter.h"
#include "capture/capture_options.h"
#include "capture/ebpf/record_parser.h"
#include "capture/process_table.h"
#include "capture/recorder.h"
#include "capture/source.h"
#include "common/result.h"
#include "common/unique_fd.h"
#include "ocsf/builders.h"

struct capture;  // the bpftool skeleton (capture.skel.h)
struct ring_buffer;

namespace warden::capture {

// The capture's programs opened and verified, attached to nothing and bound to no cgroup. The
// kernel's verifier is most of a session's start-up (BENCHMARKS.md "Session start"), so the
// supervisor loads them on a thread of its own while it sets up the rest, and hands them to
// EbpfSource::create(). What the load depends on (which kinds are captured, the argv bound, the
// ring's size, whether sensitive paths and names are filtered) is kept; create() loads afresh when
// its options differ. Move-only; frees the programs unless create() took them. Thread: any one.
class LoadedPrograms {
 public:
  // Unavailable as EbpfSource::create() says (no BTF, BPF refused); InvalidArgument for the options.
  static Result<std::unique_ptr<LoadedPrograms>> load(const CaptureOptions& options);
  ~LoadedPrograms();
  LoadedPrograms(const LoadedPrograms&) = delete;
  LoadedPrograms& operator=(const LoadedPrograms&) = delete;

 private:
  friend class EbpfSource;
  struct Shape {
    uint32_t argv_max = 0;
    bool files = false;
    bool processes = false;
    uint32_t ring_bytes = 0;
    bool inodes = false;
    bool names = false;
    bool operator==(const Shape&) const = default;
  };
  static Shape shapeOf(const CaptureOptions& options, const PathRules& rules);
  static Result<struct capture*> openAndLoad(const Shape& shape);
  LoadedPrograms() = default;

  struct capture* skel_ = nullptr;
  Shape shape_;
};

// The eBPF capture (docs/capture.md): loads capture.bpf.c's programs with libbpf, filtered in the
// kernel to one cgroup v2 subtree, and turns their ring-buffer records into PROC and FILE events
// through a Recorder. Loss is counted in the kernel per kind; the reader compares the drop counters
// every `loss_check` and records growth as LOG:LOSS within a second; stop() detaches the programs,
// drains the ring, and emits the reconciliation summary (seen = received + dropped per kind).
//
// Lifecycle (capture::Source): create() loads (or takes preloaded programs), binds them to the
// cgroup, fills the sensitive-path maps and attaches (so nothing
// the session does after create() returns is missed); start() runs the reader thread; stop() detaches,
// drains, summarises and joins — idempotent, also run by the destructor. Borrows the Emitter and the
// SessionContext (they outlive it); shares the ProcessTable. start/stop from one thread; accounts()
// from any thread after stop().
class EbpfSource final : public Source {
 public:
  // Unavailable with what is missing ("no BTF at /sys/kernel/btf/vmlinux", "BPF programs cannot be
  // loaded: Operation not permitted (CAP_BPF, CAP_PERFMON?)", "attach tp_btf/sys_enter: ..."),
  // InvalidArgument for options (cgroup path not a cgroup v2 directory, a path pattern).
  // `preloaded` (may be null): programs LoadedPrograms::load() verified ahead; taken when their shape
  // fits `options`, else the programs are loaded here.
  static Result<std::unique_ptr<EbpfSource>> create(const CaptureOptions& options, audit::Emitter& emitter,
                                                    const ocsf::SessionContext& ctx,
                                                    std::shared_ptr<ProcessTable> table,
                                                    LoadedPrograms* preloaded = nullptr);
  ~EbpfSource() override;
  EbpfSource(const EbpfSource&) = delete;
  EbpfSource& operator=(const EbpfSource&) = delete;

  std::string_view name() const override { return "ebpf"; }
  Result<void> start() override;
  void stop() override;

  // Detaches (false) or re-attaches (true) the programs while the source runs: detached, they cost the
  // session and the host nothing and record nothing (bench/capture_bench toggles this to compare
  // capture on and off in the same process). Not for sessions: a detached window is not accounted.
  Result<void> setAttached(bool attached);

  // Per kind after stop() (the summary's figures); while running, a snapshot of the reader's side.
  Accounts accounts() const;
  // Kernel-side counters summed over CPUs: seen and dropped per kind (wire.h's kinds, index = kind).
  void kernelCounters(uint64_t seen[WK_MAX], uint64_t dropped[WK_MAX]) const;
  // Runs of the programs the kernel skipped (a program already running on that CPU: its
  // recursion_misses), summed: whatever they would have recorded is lost, and reported as such.
  uint64_t kernelSkipped() const;

 private:
  EbpfSource(const CaptureOptions& options, audit::Emitter& emitter, const ocsf::SessionContext& ctx,
             std::shared_ptr<ProcessTable> table, PathRules rules);
  Result<void> fillSensitiveMaps(const PathRules& rules);
  void run();
  static int onRecord(void* self, void* data, size_t size);
  void handle(std::span<const uint8_t> bytes);
  void checkLoss(bool final);
  int64_t epochMs(uint64_t mono_ns) const;

  const CaptureOptions options_;
  audit::Emitter& emitter_;
  const Clock& clock_;
  Recorder recorder_;           // reader thread (or the stopping thread after join)
  ArgvAssembler argv_;          // reader thread
  struct capture* skel_ = nullptr;
  struct ring_buffer* ring_ = nullptr;
  UniqueFd wake_;               // eventfd: stop() writes, the reader polls
  UniqueFd pass_;               // eventfd: ProcessTable::bySource asks the reader for a pass now
  std::thread thread_;
  bool started_ = false;
  bool stopped_ = false;
  uint64_t cgroup_id_ = 0;
  uint32_t cgroup_level_ = 0;
  int64_t mono_to_epoch_ns_ = 0;
  uint64_t last_dropped_[WK_MAX] = {};  // reader thread
  uint64_t last_skipped_ = 0;           // reader thread
  int64_t last_loss_check_ms_ = 0;      // reader thread
  mutable std::mutex accounts_mu_;
  Accounts final_accounts_{};           // Guarded by accounts_mu_; set by stop().
};

// The cgroup v2 id (the directory's inode) and depth below the v2 mount of `path`. InvalidArgument
// when it is not a directory of a cgroup2 filesystem.
struct CgroupRef {
  uint64_t id = 0;
  uint32_t level = 0;
};
Result<CgroupRef> cgroupRef(const std::string& path);

}  // namespace warden::capture
