#include "audit/pipeline.h"

#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <system_error>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "audit/chain.h"
#include "audit/file_sink.h"
#include "audit/human_sink.h"
#include "audit/prepared_event.h"
#include "audit/signer.h"
#include "common/encoding.h"

namespace warden::audit {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using SteadyTime = std::chrono::steady_clock::time_point;

namespace {

constexpr std::string_view kLogName = "warden.log";
constexpr std::string_view kJsonlName = "warden-ocsf.log";
constexpr std::string_view kComponent = "audit";
// A batch's buffers go to the sinks once they reach this size, so one write() stays moderate and
// a size-rotated file overshoots its limit by at most about this much.
constexpr size_t kFlushBytes = 1u << 20;
// Queue cells are reused; a cell whose strings grew past this (a huge event) is freed instead.
constexpr size_t kMaxPooledCells = 16384;
constexpr size_t kMaxPooledCellBytes = 16u << 10;
// Rounds of "sinks recorded something" handled per writer iteration (the rest waits one round).
constexpr int kMaxNoteRounds = 4;

// One thing in the queue: an event rendered by its producer, an event a sink recorded from
// another thread, an operational line, or a JSONL toggle. Pooled (Impl::takeCell).
struct Cell {
  enum class Type : uint8_t { kEvent, kNote, kLine, kJsonl };
  Type type = Type::kEvent;
  bool enable = false;
  std::optional<uint64_t> revision;
  PreparedEvent ev;  // kEvent, kNote; kLine uses ev.line
};
using CellPtr = std::unique_ptr<Cell>;

// Where one event of the batch being assembled lies in the batch buffers.
struct RecordPos {
  uint64_t sequence;
  int64_t time;
  size_t json_at, json_len;
  size_t short_at, short_len;
};

// Events that must always be recorded, whatever the log budget: the session's control events and
// the pipeline's own.
bool isControlEvent(const ocsf::Event& e) {
  switch (e.kind) {
    case ocsf::Kind::kSession:
    case ocsf::Kind::kLifecycle:
    case ocsf::Kind::kConfig:
    case ocsf::Kind::kFinding:
    case ocsf::Kind::kLimit:
    case ocsf::Kind::kLog:
      return true;
    default:
      return false;
  }
}

milliseconds untilSteady(SteadyTime deadline, SteadyTime now) {
  return deadline <= now ? milliseconds(0) : std::chrono::ceil<milliseconds>(deadline - now);
}

std::string errnoText(int err) { return err == 0 ? std::string("unknown error") : std::string(std::strerror(err)); }

// The Impl whose writer work runs on this thread (the writer, or start() before it exists).
thread_local const void* tls_writer = nullptr;

}  // namespace

struct Pipeline::Impl final : SinkContext {
  explicit Impl(PipelineOptions o)
      : opt(std::move(o)), clk(opt.clock ? opt.clock : &SystemClock::instance()), coalescer(opt.coalesce) {}

  PipelineOptions opt;
  const Clock* clk;
  Coalescer coalescer;
  std::string public_hex;
  std::string key_id;

  // ---- The queue. ----
  std::mutex mu;
  std::condition_variable work_cv;   // the writer waits here for items, close or a timer
  std::condition_variable space_cv;  // producers wait here for space (backpressure)
  std::vector<CellPtr> queue;        // Guarded by mu.
  size_t bounded = 0;                // Guarded by mu. Events + lines in `queue` (toggles and notes are not counted).
  bool closing = false;              // Guarded by mu.
  std::atomic<bool> closing_fast{false};  // `closing` for a lock-free early check in emit()
  bool writer_idle = false;          // Guarded by mu. Producers notify work_cv only when set.
  size_t space_waiters = 0;          // Guarded by mu.
  uint64_t shed_total = 0;           // Guarded by mu. Reported as LOG:LOSS with the sequence window.
  uint64_t op_shed_total = 0;        // Guarded by mu. Operational lines shed; reported in LOG:LOSS too.

  // ---- Cell pool. ----
  std::mutex pool_mu;
  std::vector<CellPtr> pool;  // Guarded by pool_mu.

  // ---- The log budget (emit() side). ----
  bool budget_on = false;
  std::atomic<uint64_t> budget_events{0};
  std::atomic<uint64_t> budget_bytes{0};
  std::atomic<bool> budget_reached{false};
  std::atomic<uint64_t> budget_events_at_reach{0};
  std::atomic<bool> budget_ceiling{false};
  std::atomic<uint64_t> refused{0};

  // ---- Counters for stats(); written with relaxed atomics, read by anyone. ----
  std::atomic<uint64_t> emitted{0};
  std::atomic<uint64_t> written{0};
  std::atomic<uint64_t> shed{0};
  std::atomic<uint64_t> op_shed{0};
  std::atomic<uint64_t> rejected{0};
  std::atomic<uint64_t> checkpoints{0};
  std::atomic<uint64_t> last_sequence{0};
  std::atomic<uint64_t> rotations{0};
  std::atomic<uint64_t> write_failures{0};
  std::atomic<uint64_t> lines_lost{0};

  // ---- Writer state: touched by start() before the thread exists, then by the writer only. ----
  std::optional<Signer> signer;  // destroyed when the writer finishes
  ChainHasher hasher;
  std::shared_ptr<FileSink> log_sink;
  std::shared_ptr<FileSink> jsonl_sink;
  std::vector<std::shared_ptr<Sink>> sinks;  // log, jsonl, human, then opt.sinks
  bool jsonl_on = false;
  // The batch being assembled.
  std::string log_buf;   // warden.log lines
  std::string json_buf;  // every event's JSON line
  std::vector<RecordPos> recs;
  std::vector<SinkRecord> records;  // views handed to the sinks
  size_t batch_op_lines = 0;
  bool batch_checkpoint = false;
  bool batch_final = false;
  PreparedEvent scratch;  // the writer's own events
  // What sinks recorded or reported from the writer thread while a batch was being written.
  std::vector<ocsf::Event> notes;
  std::vector<std::string> note_lines;
  uint64_t next_seq = 1;
  Digest head{};
  uint64_t cp_first_seq = 1;     // first sequence the next checkpoint covers
  uint64_t events_since_cp = 0;  // sequenced events since the last checkpoint (checkpoints excluded)
  SteadyTime last_cp{};
  bool sync_due = false;         // a checkpoint was written: sync once sync_interval allows
  std::optional<SteadyTime> last_sync;
  int64_t next_midnight = 0;
  uint64_t shed_seen = 0;
  uint64_t op_shed_seen = 0;
  uint64_t refused_seen = 0;
  std::optional<LossFacts> pending_loss;
  std::optional<SteadyTime> last_loss_report;
  bool budget_recorded = false;
  // Set once the final checkpoint is written: nothing may be sequenced after it, so flushes no
  // longer rotate and what sinks record becomes operational lines only.
  bool sealed = false;
  Result<void> final_result;
  std::thread thread;

  // ---- SinkContext ----
  void record(ocsf::Event&& event) override;
  void report(Level level, std::string_view message) override;
  const ocsf::SessionContext& session() const override { return opt.session; }
  const Clock& clock() const override { return *clk; }

  // ---- Producer side. ----
  CellPtr takeCell();
  void returnCells(std::vector<CellPtr>& cells);
  // Appends a cell that is never shed (a toggle, a sink's note) and wakes the writer.
  bool pushUnbounded(CellPtr cell);
  void countBudget(size_t json_bytes);

  // ---- Writer operations. ----
  void sequencePrepared(PreparedEvent& p);
  void writePrepared(PreparedEvent& p, bool from_producer);
  void writeEvent(ocsf::Event&& e, bool from_producer);
  void writeCheckpoint(bool final);
  void emitLoss();
  void noteLoss(uint64_t shed_events, uint64_t shed_lines, uint64_t refused_events, uint64_t batch_first_seq);
  void opLine(Level level, std::string_view message);
  void flush();
  void deliver();
  void takeNotes();
  void rotate(std::string_view reason, bool log_family, bool jsonl_family, std::string_view date);
  void maybeRotateDaily();
  void applyJsonl(bool enable, std::optional<uint64_t> revision);
  void process(Cell& cell);
  void onTimers();
  void checkBudget();
  milliseconds nextWait() const;
  void updateLostCounter();
  void run();
  void finish();
};

// ---- SinkContext ----

void Pipeline::Impl::record(ocsf::Event&& event) {
  if (tls_writer == this) {
    if (sealed) {  // nothing is sequenced after the final checkpoint: keep its message
      std::string line;
      appendOperationalLine(line, clk->nowMillis(), Level::kWarn, kComponent, event.message);
      note_lines.push_back(std::move(line));
      return;
    }
    notes.push_back(std::move(event));
    return;
  }
  CellPtr cell = takeCell();
  cell->type = Cell::Type::kNote;
  prepareEvent(cell->ev, event, opt.session, *clk);
  if (!pushUnbounded(std::move(cell)) && opt.on_error) {
    opt.on_error(fmt::format("after close: not recorded: {}", event.message));
  }
}

void Pipeline::Impl::report(Level level, std::string_view message) {
  if (level == Level::kError && opt.on_error) opt.on_error(message);
  if (tls_writer == this) {
    std::string line;
    appendOperationalLine(line, clk->nowMillis(), level, kComponent, message);
    note_lines.push_back(std::move(line));
    return;
  }
  CellPtr cell = takeCell();
  cell->type = Cell::Type::kLine;
  cell->ev.line.clear();
  appendOperationalLine(cell->ev.line, clk->nowMillis(), level, kComponent, message);
  (void)pushUnbounded(std::move(cell));
}

// ---- Producer side ----

CellPtr Pipeline::Impl::takeCell() {
  {
    std::lock_guard lk(pool_mu);
    if (!pool.empty()) {
      CellPtr c = std::move(pool.back());
      pool.pop_back();
      return c;
    }
  }
  return std::make_unique<Cell>();
}

void Pipeline::Impl::returnCells(std::vector<CellPtr>& cells) {
  {
    std::lock_guard lk(pool_mu);
    for (CellPtr& c : cells) {
      if (pool.size() >= kMaxPooledCells || c->ev.json.capacity() > kMaxPooledCellBytes ||
          c->ev.line.capacity() > kMaxPooledCellBytes) {
        continue;  // freed below, outside the lock
      }
      pool.push_back(std::move(c));
    }
  }
  cells.clear();
}

bool Pipeline::Impl::pushUnbounded(CellPtr cell) {
  std::unique_lock lk(mu);
  if (closing) return false;
  queue.push_back(std::move(cell));
  const bool wake = writer_idle;
  writer_idle = false;
  lk.unlock();
  if (wake) work_cv.notify_one();
  return true;
}

void Pipeline::Impl::countBudget(size_t json_bytes) {
  const LogBudget& b = opt.budget;
  const uint64_t events = budget_events.fetch_add(1, std::memory_order_relaxed) + 1;
  const uint64_t bytes = budget_bytes.fetch_add(json_bytes, std::memory_order_relaxed) + json_bytes;
  if (!budget_reached.load(std::memory_order_relaxed)) {
    if ((b.max_events > 0 && events >= b.max_events) || (b.max_bytes > 0 && bytes >= b.max_bytes)) {
      if (!budget_reached.exchange(true)) {
        budget_events_at_reach.store(events, std::memory_order_relaxed);
        std::lock_guard lk(mu);
        if (writer_idle) {
          writer_idle = false;
          work_cv.notify_one();
        }
      }
    }
    return;
  }
  if (events > budget_events_at_reach.load(std::memory_order_relaxed) + b.grace_events) {
    budget_ceiling.store(true, std::memory_order_relaxed);
  }
}

// ---- Writer ----

void Pipeline::Impl::sequencePrepared(PreparedEvent& p) {
  const uint64_t seq = next_seq++;
  const size_t at = json_buf.size();
  appendSequencedJson(json_buf, p, seq, head);
  const size_t len = json_buf.size() - at;
  head = hasher.next(head, std::string_view(json_buf).substr(at, len));
  json_buf.push_back('\n');
  const size_t line_at = log_buf.size();
  log_buf.append(p.line);
  log_buf.push_back('\n');
  recs.push_back(RecordPos{.sequence = seq, .time = p.time, .json_at = at, .json_len = len,
                           .short_at = line_at + p.shorthand_at, .short_len = p.line.size() - p.shorthand_at});
  last_sequence.store(seq, std::memory_order_relaxed);
}

void Pipeline::Impl::writePrepared(PreparedEvent& p, bool from_producer) {
  sequencePrepared(p);
  ++events_since_cp;
  if (from_producer) written.fetch_add(1, std::memory_order_relaxed);
  if (next_seq - cp_first_seq >= opt.checkpoint_every_events) writeCheckpoint(false);
  if (log_buf.size() >= kFlushBytes || json_buf.size() >= kFlushBytes) flush();
}

void Pipeline::Impl::writeEvent(ocsf::Event&& e, bool from_producer) {
  prepareEvent(scratch, e, opt.session, *clk);
  writePrepared(scratch, from_producer);
}

void Pipeline::Impl::writeCheckpoint(bool final) {
  CheckpointFacts f;
  f.first_seq = cp_first_seq;
  f.last_seq = next_seq - 1;
  f.head_hex = digestHex(head);
  f.key_id = key_id;
  f.final = final;
  const int64_t now = clk->nowMillis();
  if (signer) {
    auto sig = signer->signHex(checkpointMessage(opt.session.session_id, f.last_seq, f.head_hex, now));
    if (sig.ok()) {
      f.signature_hex = std::move(sig).value();
    } else {
      const std::string m = fmt::format("checkpoint at seq {} is unsigned: {}", f.last_seq, sig.error().toString());
      opLine(Level::kError, m);
      if (opt.on_error) opt.on_error(m);
    }
  }
  ocsf::Event e = checkpointEvent(opt.session, now, f);
  prepareEvent(scratch, e, opt.session, *clk);
  sequencePrepared(scratch);
  cp_first_seq = f.last_seq + 1;
  events_since_cp = 0;
  last_cp = clk->steadyNow();
  sync_due = true;
  batch_checkpoint = true;
  if (final) batch_final = true;
  checkpoints.fetch_add(1, std::memory_order_relaxed);
}

void Pipeline::Impl::emitLoss() {
  if (!pending_loss) return;
  LossFacts f = *pending_loss;
  f.last_seq = next_seq - 1;  // the window closes just before the LOSS event
  pending_loss.reset();
  last_loss_report = clk->steadyNow();
  if (f.count > 0 || f.operational_lines > 0) {
    opLine(Level::kWarn, fmt::format("audit queue full: {} events and {} log lines shed around seq {}-{}", f.count,
                                     f.operational_lines, f.first_seq, f.last_seq));
  }
  if (f.refused_over_budget > 0) {
    opLine(Level::kWarn, fmt::format("log budget: {} activity events refused around seq {}-{}", f.refused_over_budget,
                                     f.first_seq, f.last_seq));
  }
  writeEvent(lossEvent(opt.session, clk->nowMillis(), f), false);
}

void Pipeline::Impl::noteLoss(uint64_t shed_events, uint64_t shed_lines, uint64_t refused_events,
                              uint64_t batch_first_seq) {
  const uint64_t last = next_seq - 1;
  if (!pending_loss) {
    pending_loss = LossFacts{.count = 0, .first_seq = std::min(batch_first_seq, last), .last_seq = last,
                             .operational_lines = 0, .refused_over_budget = 0};
  }
  pending_loss->count += shed_events;
  pending_loss->operational_lines += shed_lines;
  pending_loss->refused_over_budget += refused_events;
  if (!last_loss_report || clk->steadyNow() - *last_loss_report >= opt.loss_report_interval) emitLoss();
}

void Pipeline::Impl::opLine(Level level, std::string_view message) {
  appendOperationalLine(log_buf, clk->nowMillis(), level, kComponent, message);
  log_buf.push_back('\n');
  ++batch_op_lines;
}

void Pipeline::Impl::updateLostCounter() {
  lines_lost.store(log_sink->linesLost() + jsonl_sink->linesLost(), std::memory_order_relaxed);
  write_failures.store(log_sink->failureEpisodes() + jsonl_sink->failureEpisodes(), std::memory_order_relaxed);
}

void Pipeline::Impl::deliver() {
  if (recs.empty() && log_buf.empty()) return;
  records.clear();
  for (const RecordPos& r : recs) {
    records.push_back(SinkRecord{.sequence = r.sequence, .time = r.time,
                                 .json = std::string_view(json_buf).substr(r.json_at, r.json_len),
                                 .shorthand = std::string_view(log_buf).substr(r.short_at, r.short_len)});
  }
  const SinkBatch batch{.events = records, .log_lines = log_buf, .json_lines = json_buf,
                        .operational_lines = batch_op_lines, .jsonl_enabled = jsonl_on,
                        .has_checkpoint = batch_checkpoint, .final = batch_final};
  for (const auto& sink : sinks) sink->write(batch);
  records.clear();
  recs.clear();
  log_buf.clear();
  json_buf.clear();
  batch_op_lines = 0;
  batch_checkpoint = false;
  batch_final = false;
}

void Pipeline::Impl::flush() {
  deliver();
  const SteadyTime now = clk->steadyNow();
  if (sync_due && (sealed || !last_sync || now - *last_sync >= opt.sync_interval)) {
    sync_due = false;
    last_sync = now;
    for (const auto& sink : sinks) sink->sync();
  }
  updateLostCounter();
  if (opt.rotate_max_bytes > 0 && !sealed) {
    const bool log_full = log_sink->wantsSizeRotation(opt.rotate_max_bytes);
    const bool jsonl_full = jsonl_on && jsonl_sink->wantsSizeRotation(opt.rotate_max_bytes);
    if (log_full || jsonl_full) rotate("size", log_full, jsonl_full, formatUtcDate(clk->nowMillis()));
  }
  takeNotes();
}

// What sinks recorded while the batch was written goes into the next batch.
void Pipeline::Impl::takeNotes() {
  for (int round = 0; round < kMaxNoteRounds && (!notes.empty() || !note_lines.empty()); ++round) {
    std::vector<std::string> lines;
    lines.swap(note_lines);
    for (const std::string& l : lines) {
      log_buf.append(l);
      log_buf.push_back('\n');
      ++batch_op_lines;
    }
    std::vector<ocsf::Event> events;
    events.swap(notes);
    for (ocsf::Event& e : events) {
      if (!sealed) writeEvent(std::move(e), false);
    }
    if (!sealed || !note_lines.empty()) break;  // the next flush delivers them
  }
}

void Pipeline::Impl::rotate(std::string_view reason, bool log_family, bool jsonl_family, std::string_view date) {
  std::vector<RotatedFile> files;
  uint64_t deleted = 0;
  auto one = [&](FileSink& f) {
    auto r = f.rotate(date);
    if (!r.ok()) {
      const std::string m = fmt::format("rotating {}: {}", f.name(), r.error().toString());
      opLine(Level::kError, m);
      if (opt.on_error) opt.on_error(m);
      return;
    }
    if (!r.value()) return;  // empty file: nothing to rotate
    files.push_back(RotatedFile{.file = std::string(f.name()), .rotated_to = *r.value()});
    deleted += f.prune(opt.keep_files);
  };
  if (log_family) one(*log_sink);
  if (jsonl_family) one(*jsonl_sink);
  if (files.empty()) return;
  rotations.fetch_add(1, std::memory_order_relaxed);
  writeEvent(rotateEvent(opt.session, clk->nowMillis(), reason, files, deleted), false);
}

void Pipeline::Impl::maybeRotateDaily() {
  const int64_t now = clk->nowMillis();
  if (now < next_midnight) return;
  flush();  // everything so far belongs to the day that ended
  const std::string date = formatUtcDate(next_midnight - 1);
  next_midnight = nextUtcMidnight(now);
  rotate("daily", true, true, date);
}

void Pipeline::Impl::applyJsonl(bool enable, std::optional<uint64_t> revision) {
  if (enable == jsonl_on) return;
  const int64_t now = clk->nowMillis();
  if (enable) {
    flush();  // what came before has no JSONL lines: a batch is on or off as a whole
    if (auto opened = jsonl_sink->openFile(); !opened.ok()) {
      const std::string m = fmt::format("cannot enable OCSF JSONL output: {}", opened.error().toString());
      opLine(Level::kError, m);
      if (opt.on_error) opt.on_error(m);
      writeEvent(jsonlConfigEvent(opt.session, now, true, revision, opened.error().message()), false);
      return;
    }
    jsonl_on = true;
    writeEvent(jsonlConfigEvent(opt.session, now, true, revision), false);  // the first line after the gap
    return;
  }
  // The CONFIG:UPDATED is the file's last line: sequence it, write the batch, close.
  ocsf::Event e = jsonlConfigEvent(opt.session, now, false, revision);
  prepareEvent(scratch, e, opt.session, *clk);
  sequencePrepared(scratch);
  ++events_since_cp;
  deliver();
  jsonl_sink->closeFile();
  jsonl_on = false;
  if (next_seq - cp_first_seq >= opt.checkpoint_every_events) writeCheckpoint(false);
}

void Pipeline::Impl::process(Cell& cell) {
  switch (cell.type) {
    case Cell::Type::kEvent:
      writePrepared(cell.ev, true);
      return;
    case Cell::Type::kNote:
      writePrepared(cell.ev, false);
      return;
    case Cell::Type::kLine:
      log_buf.append(cell.ev.line);
      log_buf.push_back('\n');
      ++batch_op_lines;
      return;
    case Cell::Type::kJsonl:
      applyJsonl(cell.enable, cell.revision);
      return;
  }
}

void Pipeline::Impl::checkBudget() {
  if (!budget_on || budget_recorded || !budget_reached.load(std::memory_order_relaxed)) return;
  budget_recorded = true;
  const BudgetFacts f{.max_events = opt.budget.max_events, .max_bytes = opt.budget.max_bytes,
                      .events = budget_events.load(std::memory_order_relaxed),
                      .bytes = budget_bytes.load(std::memory_order_relaxed), .action = opt.budget.action};
  opLine(Level::kError, fmt::format("session log budget reached: {} events, {} bytes; action: {}", f.events, f.bytes,
                                    f.action));
  writeEvent(budgetExhaustedEvent(opt.session, clk->nowMillis(), f), false);
  flush();  // recorded before anything acts on it
  if (opt.budget.on_exhausted) opt.budget.on_exhausted(f);
}

void Pipeline::Impl::onTimers() {
  const SteadyTime now = clk->steadyNow();
  if (coalescer.enabled()) {
    for (ocsf::Event& s : coalescer.due(now, false)) writeEvent(std::move(s), false);
  }
  checkBudget();
  if (pending_loss && (!last_loss_report || now - *last_loss_report >= opt.loss_report_interval)) emitLoss();
  if (events_since_cp > 0 && now - last_cp >= opt.checkpoint_interval) writeCheckpoint(false);
  for (const auto& sink : sinks) sink->tick();
  maybeRotateDaily();
}

milliseconds Pipeline::Impl::nextWait() const {
  if (!log_buf.empty() || !json_buf.empty() || !notes.empty() || !note_lines.empty()) return milliseconds(0);
  const SteadyTime now = clk->steadyNow();
  milliseconds w = opt.idle_poll;
  if (events_since_cp > 0) w = std::min(w, untilSteady(last_cp + opt.checkpoint_interval, now));
  if (sync_due && last_sync) w = std::min(w, untilSteady(*last_sync + opt.sync_interval, now));
  if (pending_loss && last_loss_report) w = std::min(w, untilSteady(*last_loss_report + opt.loss_report_interval, now));
  if (coalescer.enabled()) {
    if (const auto due = coalescer.nextDue()) w = std::min(w, untilSteady(*due, now));
  }
  w = std::min(w, milliseconds(std::max<int64_t>(0, next_midnight - clk->nowMillis())));
  return w;
}

void Pipeline::Impl::run() {
  tls_writer = this;
  std::vector<CellPtr> batch;
  while (true) {
    bool closing_now = false;
    uint64_t new_shed = 0;
    uint64_t new_op_shed = 0;
    {
      std::unique_lock lk(mu);
      if (queue.empty() && !closing) {
        const milliseconds wait = nextWait();
        if (wait.count() > 0) {
          writer_idle = true;
          work_cv.wait_for(lk, wait, [&] {
            return !queue.empty() || closing || (budget_reached.load(std::memory_order_relaxed) && !budget_recorded);
          });
          writer_idle = false;
        }
      }
      batch.swap(queue);
      bounded = 0;
      // Sheds counted since the last swap happened while this batch's events were accepted.
      new_shed = shed_total - shed_seen;
      shed_seen = shed_total;
      new_op_shed = op_shed_total - op_shed_seen;
      op_shed_seen = op_shed_total;
      closing_now = closing;
      if (space_waiters > 0) space_cv.notify_all();
    }
    const uint64_t refused_now = refused.load(std::memory_order_relaxed);
    const uint64_t new_refused = refused_now - refused_seen;
    refused_seen = refused_now;
    maybeRotateDaily();
    const uint64_t batch_first = next_seq;
    for (CellPtr& cell : batch) process(*cell);
    returnCells(batch);
    if (new_shed > 0 || new_op_shed > 0 || new_refused > 0) noteLoss(new_shed, new_op_shed, new_refused, batch_first);
    onTimers();
    flush();
    if (closing_now) break;
  }
  finish();
  tls_writer = nullptr;
}

void Pipeline::Impl::finish() {
  // Nothing is dropped at the end: open coalescing windows are summarised, refusals reported.
  if (coalescer.enabled()) {
    for (ocsf::Event& s : coalescer.due(clk->steadyNow(), true)) writeEvent(std::move(s), false);
  }
  checkBudget();
  emitLoss();
  flush();  // may still rotate by size; the final checkpoint must come after that
  emitLoss();  // anything the flush's own events raised
  writeCheckpoint(true);
  sealed = true;
  flush();
  // Sinks other than the files stop first, so what they report still reaches warden.log.
  for (size_t i = 2; i < sinks.size(); ++i) (void)sinks[i]->close();
  takeNotes();
  // Operational lines the final flush raised (a write failure or recovery) get one more chance.
  if (!log_buf.empty()) flush();
  std::string lost;
  for (FileSink* f : {log_sink.get(), jsonl_sink.get()}) {
    const auto dropped = f->discardPending();
    if (!dropped) continue;
    lost.append(fmt::format("{}{}: {} lines could not be written ({})", lost.empty() ? "" : "; ", f->name(),
                            dropped->first, errnoText(dropped->second)));
  }
  updateLostCounter();
  if (!lost.empty()) {
    if (opt.on_error) opt.on_error(lost);
    final_result = dataLoss(lost + "; the files hold complete lines only");
  }
  (void)log_sink->close();
  jsonl_sink->closeFile();
  signer.reset();  // the private key dies with the session
}

// ---- Pipeline ----

Pipeline::Pipeline(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Pipeline::~Pipeline() { (void)close(); }

Result<std::unique_ptr<Pipeline>> Pipeline::start(PipelineOptions options) {
  if (options.session.session_id.empty()) return invalidArgument("audit pipeline: a session id is required");
  if (options.log_dir.empty()) return invalidArgument("audit pipeline: a log directory is required");
  if (options.queue_capacity == 0) return invalidArgument("audit pipeline: queue_capacity must be at least 1");
  if (options.checkpoint_every_events == 0) {
    return invalidArgument("audit pipeline: checkpoint_every_events must be at least 1");
  }
  if (options.checkpoint_interval.count() <= 0 || options.idle_poll.count() <= 0 ||
      options.sync_interval.count() < 0) {
    return invalidArgument(
        "audit pipeline: checkpoint_interval and idle_poll must be positive, sync_interval not negative");
  }
  for (const auto& sink : options.sinks) {
    if (!sink) return invalidArgument("audit pipeline: a sink is null");
  }
  if (options.backpressure_timeout.count() < 0) options.backpressure_timeout = milliseconds(0);
  if (options.coalesce.window.count() < 0) options.coalesce.window = milliseconds(0);
  if (!options.on_error) {
    options.on_error = [](std::string_view m) { fmt::print(stderr, "warden: audit: {}\n", m); };
  }

  std::error_code ec;
  if (!fs::exists(options.log_dir, ec)) {
    fs::create_directories(options.log_dir, ec);
    if (ec) return errnoError(fmt::format("create log directory {}", options.log_dir.string()), ec.value());
    fs::permissions(options.log_dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  }

  auto impl = std::make_unique<Impl>(std::move(options));
  Impl& s = *impl;
  s.budget_on = s.opt.budget.max_events > 0 || s.opt.budget.max_bytes > 0;
  auto log = FileSink::create(s.opt.log_dir, std::string(kLogName), FileSink::Content::kLogLines,
                              s.opt.max_pending_bytes, true);
  if (!log.ok()) return log.error().withContext("audit pipeline");
  s.log_sink = std::move(log).value();
  auto jsonl = FileSink::create(s.opt.log_dir, std::string(kJsonlName), FileSink::Content::kJsonLines,
                                s.opt.max_pending_bytes, s.opt.jsonl_enabled);
  if (!jsonl.ok()) return jsonl.error().withContext("audit pipeline");
  s.jsonl_sink = std::move(jsonl).value();
  s.jsonl_on = s.opt.jsonl_enabled;
  s.sinks.push_back(s.log_sink);
  s.sinks.push_back(s.jsonl_sink);
  if (s.opt.stdout_human) s.sinks.push_back(std::make_shared<HumanSink>(HumanSink::Options{.fd = s.opt.human_fd}));
  for (const auto& sink : s.opt.sinks) s.sinks.push_back(sink);

  auto signer = Signer::generate();
  if (!signer.ok()) return signer.error().withContext("audit pipeline");
  s.signer.emplace(std::move(signer).value());
  s.public_hex = s.signer->publicKeyHex();
  s.key_id = s.signer->keyId();

  for (size_t i = 0; i < s.sinks.size(); ++i) {
    if (auto opened = s.sinks[i]->open(s); !opened.ok()) {
      for (size_t j = 0; j < i; ++j) (void)s.sinks[j]->close();
      return opened.error().withContext(fmt::format("audit pipeline: sink {}", s.sinks[i]->name()));
    }
  }

  s.head = chainSeed(s.opt.session.session_id);
  const int64_t now = s.clk->nowMillis();
  s.next_midnight = nextUtcMidnight(now);
  s.last_cp = s.clk->steadyNow();
  tls_writer = &s;
  s.writeEvent(logStartEvent(s.opt.session, now, s.public_hex, s.key_id), false);
  s.flush();
  tls_writer = nullptr;
  if (s.log_sink->failing()) {
    const int err = s.log_sink->lastError();
    for (const auto& sink : s.sinks) (void)sink->close();
    return errnoError(fmt::format("audit pipeline: write {}", s.log_sink->path().string()), err);
  }

  try {
    s.thread = std::thread([p = impl.get()] { p->run(); });
  } catch (const std::system_error& e) {
    for (const auto& sink : s.sinks) (void)sink->close();
    return internalError(fmt::format("audit pipeline: cannot start the writer thread: {}", e.what()));
  }
  return std::unique_ptr<Pipeline>(new Pipeline(std::move(impl)));
}

void Pipeline::emit(ocsf::Event&& event) {
  Impl& s = *impl_;
  if (s.closing_fast.load(std::memory_order_relaxed)) {
    s.rejected.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (s.coalescer.enabled() && Coalescer::coalescible(event)) {
    // The window remembers the first event's uid and time: fill them now.
    if (event.time == 0) event.time = s.clk->nowMillis();
    if (event.metadata.uid.empty()) event.metadata.uid = uuidV7(event.time);
    if (s.coalescer.admit(event, s.clk->steadyNow()) == Coalescer::Verdict::kSuppressed) {
      s.emitted.fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
  if (s.budget_on && s.budget_ceiling.load(std::memory_order_relaxed) && !isControlEvent(event)) {
    s.refused.fetch_add(1, std::memory_order_relaxed);
    s.emitted.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  CellPtr cell = s.takeCell();
  cell->type = Cell::Type::kEvent;
  prepareEvent(cell->ev, event, s.opt.session, *s.clk);
  const size_t json_bytes = cell->ev.json.size();

  std::unique_lock lk(s.mu);
  if (s.closing) {
    lk.unlock();
    s.rejected.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (s.bounded >= s.opt.queue_capacity) {
    if (s.opt.backpressure_timeout.count() > 0) {
      ++s.space_waiters;
      s.space_cv.wait_for(lk, s.opt.backpressure_timeout,
                          [&] { return s.bounded < s.opt.queue_capacity || s.closing; });
      --s.space_waiters;
    }
    if (s.closing) {
      lk.unlock();
      s.rejected.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (s.bounded >= s.opt.queue_capacity) {
      ++s.shed_total;
      lk.unlock();
      s.shed.fetch_add(1, std::memory_order_relaxed);
      s.emitted.fetch_add(1, std::memory_order_relaxed);
      std::vector<CellPtr> back;
      back.push_back(std::move(cell));
      s.returnCells(back);
      return;
    }
  }
  s.queue.push_back(std::move(cell));
  ++s.bounded;
  const bool wake = s.writer_idle;
  s.writer_idle = false;
  lk.unlock();
  s.emitted.fetch_add(1, std::memory_order_relaxed);
  if (wake) s.work_cv.notify_one();
  if (s.budget_on) s.countBudget(json_bytes);
}

void Pipeline::operational(Level level, std::string_view component, std::string_view message) {
  Impl& s = *impl_;
  if (s.closing_fast.load(std::memory_order_relaxed)) return;
  CellPtr cell = s.takeCell();
  cell->type = Cell::Type::kLine;
  cell->ev.line.clear();
  appendOperationalLine(cell->ev.line, s.clk->nowMillis(), level, component, message);
  std::unique_lock lk(s.mu);
  if (s.closing) return;
  if (s.bounded >= s.opt.queue_capacity) {
    ++s.op_shed_total;
    lk.unlock();
    s.op_shed.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  s.queue.push_back(std::move(cell));
  ++s.bounded;
  const bool wake = s.writer_idle;
  s.writer_idle = false;
  lk.unlock();
  if (wake) s.work_cv.notify_one();
}

void Pipeline::setJsonlEnabled(bool enabled, std::optional<uint64_t> config_revision) {
  Impl& s = *impl_;
  // Not counted against the capacity: a configuration change is never shed.
  CellPtr cell = s.takeCell();
  cell->type = Cell::Type::kJsonl;
  cell->enable = enabled;
  cell->revision = config_revision;
  (void)s.pushUnbounded(std::move(cell));
}

Result<void> Pipeline::close() {
  std::lock_guard cl(close_mu_);
  if (close_result_) return *close_result_;
  Impl& s = *impl_;
  {
    std::lock_guard lk(s.mu);
    s.closing = true;
    s.closing_fast.store(true, std::memory_order_relaxed);
  }
  s.work_cv.notify_one();
  s.space_cv.notify_all();
  if (s.thread.joinable()) s.thread.join();
  close_result_ = s.final_result;
  return *close_result_;
}

PipelineStats Pipeline::stats() const {
  const Impl& s = *impl_;
  constexpr auto r = std::memory_order_relaxed;
  return PipelineStats{.emitted = s.emitted.load(r),
                       .written = s.written.load(r),
                       .shed = s.shed.load(r),
                       .operational_shed = s.op_shed.load(r),
                       .rejected_after_close = s.rejected.load(r),
                       .checkpoints = s.checkpoints.load(r),
                       .last_sequence = s.last_sequence.load(r),
                       .rotations = s.rotations.load(r),
                       .write_failures = s.write_failures.load(r),
                       .lines_lost = s.lines_lost.load(r),
                       .coalesced = s.coalescer.suppressed(),
                       .summaries = s.coalescer.summaries(),
                       .refused_over_budget = s.refused.load(r),
                       .budget_exhausted = s.budget_reached.load(r)};
}

const std::string& Pipeline::publicKeyHex() const { return impl_->public_hex; }
const std::string& Pipeline::keyId() const { return impl_->key_id; }

}  // namespace warden::audit
