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
#include "audit/log_file.h"
#include "audit/signer.h"
#include "ocsf/jsonl_formatter.h"
#include "ocsf/shorthand.h"

namespace warden::audit {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using SteadyTime = std::chrono::steady_clock::time_point;

namespace {

constexpr std::string_view kLogName = "warden.log";
constexpr std::string_view kJsonlName = "warden-ocsf.log";
constexpr std::string_view kComponent = "audit";
constexpr std::string_view kShorthandSeparator = " OCSF ";  // between a log line's timestamp and shorthand
// A batch's buffers are written out once they reach this size, so one write() stays moderate
// and a size-rotated file overshoots its limit by at most about this much.
constexpr size_t kFlushBytes = 1u << 20;

// One thing in the queue: an event, a preformatted operational line, or a JSONL toggle.
struct Item {
  enum class Type : uint8_t { kEvent, kLine, kJsonl };
  Type type = Type::kEvent;
  bool enable = false;
  std::optional<uint64_t> revision;
  std::unique_ptr<ocsf::Event> event;
  std::string line;  // kLine: the whole line, no newline
};

milliseconds untilSteady(SteadyTime deadline, SteadyTime now) {
  return deadline <= now ? milliseconds(0) : std::chrono::ceil<milliseconds>(deadline - now);
}

std::string errnoText(int err) { return err == 0 ? std::string("unknown error") : std::string(std::strerror(err)); }

}  // namespace

struct Pipeline::Impl {
  explicit Impl(PipelineOptions o) : opt(std::move(o)), clock(opt.clock ? opt.clock : &SystemClock::instance()) {}

  PipelineOptions opt;
  const Clock* clock;
  std::string public_hex;
  std::string key_id;

  // ---- The queue. ----
  std::mutex mu;
  std::condition_variable work_cv;   // the writer waits here for items, close or a timer
  std::condition_variable space_cv;  // producers wait here for space (backpressure)
  std::vector<Item> queue;           // Guarded by mu.
  size_t bounded = 0;                // Guarded by mu. Events + lines in `queue` (toggles are not counted).
  bool closing = false;              // Guarded by mu.
  bool writer_idle = false;          // Guarded by mu. Producers notify work_cv only when set.
  size_t space_waiters = 0;          // Guarded by mu.
  uint64_t shed_total = 0;           // Guarded by mu. Reported as LOG:LOSS with the sequence window.
  uint64_t op_shed_total = 0;        // Guarded by mu. Operational lines shed; reported in LOG:LOSS too.

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
  std::optional<LogFile> log;
  std::optional<LogFile> jsonl;  // open while JSONL output is enabled
  std::string log_buf;           // warden.log lines of the current batch
  std::string json_buf;          // warden-ocsf.log lines of the current batch
  std::string scratch;           // canonical JSON while JSONL is off (the chain still hashes it)
  std::vector<SpooledEvent> tap;  // the batch's events for opt.on_events (empty when it is unset)
  bool human_ok = true;
  uint64_t next_seq = 1;
  Digest head{};
  uint64_t cp_first_seq = 1;     // first sequence the next checkpoint covers
  uint64_t events_since_cp = 0;  // sequenced events since the last checkpoint (checkpoints excluded)
  // Lines written to each live file since it was opened or rotated. A size rotation needs more
  // than the LOG:ROTATE line, so a limit smaller than that line cannot make rotation loop.
  uint64_t log_lines_since_rotate = 0;
  uint64_t jsonl_lines_since_rotate = 0;
  SteadyTime last_cp{};
  bool sync_due = false;         // a checkpoint was written: fdatasync once sync_interval allows
  std::optional<SteadyTime> last_sync;
  int64_t next_midnight = 0;
  uint64_t shed_seen = 0;
  uint64_t op_shed_seen = 0;
  std::optional<LossFacts> pending_loss;
  std::optional<SteadyTime> last_loss_report;
  uint64_t lines_lost_closed = 0;  // from failure episodes that ended, and closed JSONL files
  // Set once the final checkpoint is written: nothing may be sequenced after it, so flushes no
  // longer rotate and write problems are reported as operational lines and on_error only.
  bool sealed = false;
  Result<void> final_result;
  std::thread thread;

  // ---- Writer operations. ----
  void sequence(ocsf::Event& e);
  void writeEvent(ocsf::Event&& e, bool from_producer);
  void writeCheckpoint(bool final);
  void emitLoss();
  void noteLoss(uint64_t shed_events, uint64_t shed_lines, uint64_t batch_first_seq);
  void opLine(Level level, std::string_view message);
  void reportError(std::string_view message);
  void flush();
  void flushFile(LogFile& file, std::string& buf);
  void writeHuman(std::string_view data);
  void onOutcome(LogFile& file, LogFile::WriteOutcome outcome);
  void rotate(std::string_view reason, bool log_family, bool jsonl_family, std::string_view date);
  void maybeRotateDaily();
  void applyJsonl(bool enable, std::optional<uint64_t> revision);
  void process(Item& item);
  void onTimers();
  milliseconds nextWait() const;
  void updateLostCounter();
  void run();
  void finish();
};

void Pipeline::Impl::sequence(ocsf::Event& e) {
  if (e.time == 0) e.time = clock->nowMillis();
  fillMissingSessionFields(e, opt.session);
  e.metadata.sequence = next_seq++;
  e.integrity_prev = digestHex(head);
  std::string_view canonical;
  if (jsonl) {
    const size_t mark = json_buf.size();
    ocsf::appendJsonl(json_buf, e);
    canonical = std::string_view(json_buf).substr(mark);
    head = chainNext(head, canonical);
    ++jsonl_lines_since_rotate;
  } else {
    scratch.clear();
    ocsf::appendJsonl(scratch, e);
    canonical = scratch;
    head = chainNext(head, canonical);
  }
  if (opt.on_events) tap.push_back(SpooledEvent{.sequence = e.metadata.sequence, .json = std::string(canonical)});
  if (jsonl) json_buf.push_back('\n');
  const size_t mark = log_buf.size();
  ocsf::appendLogLine(log_buf, e);
  // The formatter promises one line; a newline slipping through would forge a second one.
  if (std::memchr(log_buf.data() + mark, '\n', log_buf.size() - mark) != nullptr) {
    std::string fixed;
    for (size_t i = mark; i < log_buf.size(); ++i) {
      if (log_buf[i] == '\n') {
        fixed.append("\\u{a}");
      } else {
        fixed.push_back(log_buf[i]);
      }
    }
    log_buf.resize(mark);
    log_buf.append(fixed);
  }
  if (opt.on_events) {
    const std::string_view line = std::string_view(log_buf).substr(mark);
    const size_t at = line.find(kShorthandSeparator);
    tap.back().shorthand = std::string(at == std::string_view::npos ? line : line.substr(at + kShorthandSeparator.size()));
  }
  log_buf.push_back('\n');
  ++log_lines_since_rotate;
  last_sequence.store(e.metadata.sequence, std::memory_order_relaxed);
}

void Pipeline::Impl::writeEvent(ocsf::Event&& e, bool from_producer) {
  sequence(e);
  ++events_since_cp;
  if (from_producer) written.fetch_add(1, std::memory_order_relaxed);
  if (next_seq - cp_first_seq >= opt.checkpoint_every_events) writeCheckpoint(false);
  if (log_buf.size() >= kFlushBytes || json_buf.size() >= kFlushBytes) flush();
}

void Pipeline::Impl::writeCheckpoint(bool final) {
  CheckpointFacts f;
  f.first_seq = cp_first_seq;
  f.last_seq = next_seq - 1;
  f.head_hex = digestHex(head);
  f.key_id = key_id;
  f.final = final;
  const int64_t now = clock->nowMillis();
  if (signer) {
    auto sig = signer->signHex(checkpointMessage(opt.session.session_id, f.last_seq, f.head_hex, now));
    if (sig.ok()) {
      f.signature_hex = std::move(sig).value();
    } else {
      reportError(fmt::format("checkpoint at seq {} is unsigned: {}", f.last_seq, sig.error().toString()));
    }
  }
  ocsf::Event e = checkpointEvent(opt.session, now, f);
  sequence(e);
  cp_first_seq = f.last_seq + 1;
  events_since_cp = 0;
  last_cp = clock->steadyNow();
  sync_due = true;
  checkpoints.fetch_add(1, std::memory_order_relaxed);
}

void Pipeline::Impl::emitLoss() {
  if (!pending_loss) return;
  LossFacts f = *pending_loss;
  f.last_seq = next_seq - 1;  // the window closes just before the LOSS event
  pending_loss.reset();
  last_loss_report = clock->steadyNow();
  opLine(Level::kWarn, fmt::format("audit queue full: {} events and {} log lines shed around seq {}-{}", f.count,
                                   f.operational_lines, f.first_seq, f.last_seq));
  writeEvent(lossEvent(opt.session, clock->nowMillis(), f), false);
}

void Pipeline::Impl::noteLoss(uint64_t shed_events, uint64_t shed_lines, uint64_t batch_first_seq) {
  const uint64_t last = next_seq - 1;
  if (!pending_loss) pending_loss = LossFacts{.count = 0, .first_seq = std::min(batch_first_seq, last),
                                              .last_seq = last, .operational_lines = 0};
  pending_loss->count += shed_events;
  pending_loss->operational_lines += shed_lines;
  if (!last_loss_report || clock->steadyNow() - *last_loss_report >= opt.loss_report_interval) emitLoss();
}

void Pipeline::Impl::opLine(Level level, std::string_view message) {
  appendOperationalLine(log_buf, clock->nowMillis(), level, kComponent, message);
  log_buf.push_back('\n');
}

void Pipeline::Impl::reportError(std::string_view message) {
  opLine(Level::kError, message);
  if (opt.on_error) opt.on_error(message);
}

void Pipeline::Impl::writeHuman(std::string_view data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(opt.human_fd, data.data() + done, data.size() - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      human_ok = false;
      reportError(fmt::format("human output (fd {}) stopped: {}", opt.human_fd, errnoText(n < 0 ? errno : EIO)));
      return;
    }
  }
}

void Pipeline::Impl::onOutcome(LogFile& file, LogFile::WriteOutcome outcome) {
  switch (outcome) {
    case LogFile::WriteOutcome::kOk:
    case LogFile::WriteOutcome::kStillFailing:
      return;
    case LogFile::WriteOutcome::kFailed: {
      write_failures.fetch_add(1, std::memory_order_relaxed);
      const int64_t now = clock->nowMillis();
      file.setFailingSinceMs(now);
      const WriteFailureFacts f{.file = file.name(), .error = errnoText(file.lastError()), .since = now,
                                .lines_delayed = 0, .lines_lost = 0};
      reportError(fmt::format("{}: write failed: {}; the file keeps complete lines only, {} lines held in memory "
                              "and retried",
                              file.path().string(), f.error, file.pendingLines()));
      if (!sealed) writeEvent(writeFailureEvent(opt.session, now, f), false);
      return;
    }
    case LogFile::WriteOutcome::kRecovered: {
      const WriteFailureFacts f{.file = file.name(), .error = errnoText(file.lastError()),
                                .since = file.failingSinceMs(), .lines_delayed = file.linesDelayed(),
                                .lines_lost = file.linesLost()};
      lines_lost_closed += file.linesLost();
      file.clearFailureCounts();
      opLine(Level::kInfo, fmt::format("{}: writing works again; {} lines written late, {} lines lost", file.name(),
                                       f.lines_delayed, f.lines_lost));
      if (!sealed) writeEvent(writeRecoveredEvent(opt.session, clock->nowMillis(), f), false);
      return;
    }
  }
}

void Pipeline::Impl::updateLostCounter() {
  uint64_t n = lines_lost_closed;
  if (log) n += log->linesLost();
  if (jsonl) n += jsonl->linesLost();
  lines_lost.store(n, std::memory_order_relaxed);
}

void Pipeline::Impl::flushFile(LogFile& file, std::string& buf) {
  if (buf.empty() && !file.failing() && !file.hasPending()) return;
  std::string taken;
  taken.swap(buf);  // events the outcome handler adds go into a fresh buffer
  const auto outcome = file.append(taken);
  taken.clear();
  if (buf.empty()) buf.swap(taken);  // keep the capacity
  onOutcome(file, outcome);
}

void Pipeline::Impl::flush() {
  if (!tap.empty()) {
    opt.on_events(std::move(tap));
    tap.clear();
  }
  if (opt.stdout_human && human_ok && !log_buf.empty()) writeHuman(log_buf);
  flushFile(*log, log_buf);
  if (jsonl) {
    flushFile(*jsonl, json_buf);
  } else {
    json_buf.clear();
  }
  const SteadyTime now = clock->steadyNow();
  if (sync_due && (sealed || !last_sync || now - *last_sync >= opt.sync_interval)) {
    sync_due = false;
    last_sync = now;
    if (!log->failing() && !log->sync()) reportError(fmt::format("fdatasync {}: {}", kLogName, errnoText(log->lastError())));
    if (jsonl && !jsonl->failing() && !jsonl->sync()) {
      reportError(fmt::format("fdatasync {}: {}", kJsonlName, errnoText(jsonl->lastError())));
    }
  }
  updateLostCounter();
  if (opt.rotate_max_bytes > 0 && !sealed) {
    const bool log_full = log->size() >= opt.rotate_max_bytes && log_lines_since_rotate > 1;
    const bool jsonl_full = jsonl && jsonl->size() >= opt.rotate_max_bytes && jsonl_lines_since_rotate > 1;
    if (log_full || jsonl_full) rotate("size", log_full, jsonl_full, formatUtcDate(clock->nowMillis()));
  }
}

void Pipeline::Impl::rotate(std::string_view reason, bool log_family, bool jsonl_family, std::string_view date) {
  std::vector<RotatedFile> files;
  uint64_t deleted = 0;
  auto one = [&](LogFile& f) {
    auto r = f.rotate(date);
    if (!r.ok()) {
      reportError(fmt::format("rotating {}: {}", f.name(), r.error().toString()));
      return;
    }
    if (!r.value()) return;  // empty file: nothing to rotate
    files.push_back(RotatedFile{.file = f.name(), .rotated_to = *r.value()});
    (&f == &*log ? log_lines_since_rotate : jsonl_lines_since_rotate) = 0;
    deleted += f.prune(opt.keep_files);
  };
  if (log_family) one(*log);
  if (jsonl_family) {
    if (jsonl) {
      one(*jsonl);
    } else {
      // JSONL is off: yesterday's file still moves aside, so re-enabling starts a fresh day.
      std::error_code ec;
      if (fs::file_size(opt.log_dir / kJsonlName, ec) > 0 && !ec) {
        auto closed = LogFile::open(opt.log_dir, std::string(kJsonlName), 0);
        if (closed.ok()) one(*closed);
      }
    }
  }
  if (files.empty()) return;
  rotations.fetch_add(1, std::memory_order_relaxed);
  writeEvent(rotateEvent(opt.session, clock->nowMillis(), reason, files, deleted), false);
}

void Pipeline::Impl::maybeRotateDaily() {
  const int64_t now = clock->nowMillis();
  if (now < next_midnight) return;
  flush();  // everything so far belongs to the day that ended
  const std::string date = formatUtcDate(next_midnight - 1);
  next_midnight = nextUtcMidnight(now);
  rotate("daily", true, true, date);
}

void Pipeline::Impl::applyJsonl(bool enable, std::optional<uint64_t> revision) {
  if (enable == jsonl.has_value()) return;
  const int64_t now = clock->nowMillis();
  if (enable) {
    auto f = LogFile::open(opt.log_dir, std::string(kJsonlName), opt.max_pending_bytes);
    if (!f.ok()) {
      reportError(fmt::format("cannot enable OCSF JSONL output: {}", f.error().toString()));
      writeEvent(jsonlConfigEvent(opt.session, now, true, revision, f.error().message()), false);
      return;
    }
    json_buf.clear();
    jsonl = std::move(f).value();
    jsonl_lines_since_rotate = 0;
    writeEvent(jsonlConfigEvent(opt.session, now, true, revision), false);  // the first line after the gap
    return;
  }
  // The CONFIG:UPDATED is the file's last line: sequence it, write the JSONL buffer, close.
  ocsf::Event e = jsonlConfigEvent(opt.session, now, false, revision);
  sequence(e);
  ++events_since_cp;
  flushFile(*jsonl, json_buf);
  json_buf.clear();  // anything the flush's own events added stays out of the closed file
  if (jsonl->hasPending()) {
    const uint64_t n = jsonl->discardPending();
    reportError(fmt::format("{}: {} lines could not be written before JSONL output was disabled", kJsonlName, n));
  }
  lines_lost_closed += jsonl->linesLost();
  jsonl.reset();
  if (next_seq - cp_first_seq >= opt.checkpoint_every_events) writeCheckpoint(false);
}

void Pipeline::Impl::process(Item& item) {
  switch (item.type) {
    case Item::Type::kEvent:
      writeEvent(std::move(*item.event), true);
      item.event.reset();
      return;
    case Item::Type::kLine:
      log_buf.append(item.line);
      log_buf.push_back('\n');
      return;
    case Item::Type::kJsonl:
      applyJsonl(item.enable, item.revision);
      return;
  }
}

void Pipeline::Impl::onTimers() {
  const SteadyTime now = clock->steadyNow();
  if (pending_loss && (!last_loss_report || now - *last_loss_report >= opt.loss_report_interval)) emitLoss();
  if (events_since_cp > 0 && now - last_cp >= opt.checkpoint_interval) writeCheckpoint(false);
  maybeRotateDaily();
}

milliseconds Pipeline::Impl::nextWait() const {
  if (!log_buf.empty() || !json_buf.empty()) return milliseconds(0);
  const SteadyTime now = clock->steadyNow();
  milliseconds w = opt.idle_poll;
  if (events_since_cp > 0) w = std::min(w, untilSteady(last_cp + opt.checkpoint_interval, now));
  if (sync_due && last_sync) w = std::min(w, untilSteady(*last_sync + opt.sync_interval, now));
  if (pending_loss && last_loss_report) w = std::min(w, untilSteady(*last_loss_report + opt.loss_report_interval, now));
  w = std::min(w, milliseconds(std::max<int64_t>(0, next_midnight - clock->nowMillis())));
  return w;
}

void Pipeline::Impl::run() {
  // A human output pipe whose reader went away must give EPIPE here, not kill the process.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  std::vector<Item> batch;
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
          work_cv.wait_for(lk, wait, [&] { return !queue.empty() || closing; });
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
    maybeRotateDaily();
    const uint64_t batch_first = next_seq;
    for (Item& item : batch) process(item);
    batch.clear();
    if (new_shed > 0 || new_op_shed > 0) noteLoss(new_shed, new_op_shed, batch_first);
    onTimers();
    flush();
    if (closing_now) break;
  }
  finish();
}

void Pipeline::Impl::finish() {
  emitLoss();
  flush();  // may still rotate by size; the final checkpoint must come after that
  writeCheckpoint(true);
  sealed = true;
  flush();
  // Operational lines the final flush raised (a write failure or recovery) get one more chance.
  if (!log_buf.empty()) flush();
  std::string lost;
  for (LogFile* f : {log ? &*log : nullptr, jsonl ? &*jsonl : nullptr}) {
    if (f == nullptr || !f->hasPending()) continue;
    const uint64_t n = f->discardPending();
    lost.append(fmt::format("{}{}: {} lines could not be written ({})", lost.empty() ? "" : "; ", f->name(), n,
                            errnoText(f->lastError())));
  }
  updateLostCounter();
  if (!lost.empty()) {
    if (opt.on_error) opt.on_error(lost);
    final_result = dataLoss(lost + "; the files hold complete lines only");
  }
  log.reset();
  jsonl.reset();
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
  if (options.backpressure_timeout.count() < 0) options.backpressure_timeout = milliseconds(0);
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
  auto log = LogFile::open(s.opt.log_dir, std::string(kLogName), s.opt.max_pending_bytes);
  if (!log.ok()) return log.error().withContext("audit pipeline");
  s.log = std::move(log).value();
  if (s.opt.jsonl_enabled) {
    auto jsonl = LogFile::open(s.opt.log_dir, std::string(kJsonlName), s.opt.max_pending_bytes);
    if (!jsonl.ok()) return jsonl.error().withContext("audit pipeline");
    s.jsonl = std::move(jsonl).value();
  }
  auto signer = Signer::generate();
  if (!signer.ok()) return signer.error().withContext("audit pipeline");
  s.signer.emplace(std::move(signer).value());
  s.public_hex = s.signer->publicKeyHex();
  s.key_id = s.signer->keyId();

  s.head = chainSeed(s.opt.session.session_id);
  const int64_t now = s.clock->nowMillis();
  s.next_midnight = nextUtcMidnight(now);
  s.last_cp = s.clock->steadyNow();
  s.writeEvent(logStartEvent(s.opt.session, now, s.public_hex, s.key_id), false);
  s.flush();
  if (s.log->failing()) {
    return errnoError(fmt::format("audit pipeline: write {}", s.log->path().string()), s.log->lastError());
  }

  try {
    s.thread = std::thread([p = impl.get()] { p->run(); });
  } catch (const std::system_error& e) {
    return internalError(fmt::format("audit pipeline: cannot start the writer thread: {}", e.what()));
  }
  return std::unique_ptr<Pipeline>(new Pipeline(std::move(impl)));
}

void Pipeline::emit(ocsf::Event&& event) {
  Impl& s = *impl_;
  auto owned = std::make_unique<ocsf::Event>(std::move(event));
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
      return;
    }
  }
  s.queue.push_back(Item{.type = Item::Type::kEvent, .enable = false, .revision = {}, .event = std::move(owned),
                         .line = {}});
  ++s.bounded;
  const bool wake = s.writer_idle;
  s.writer_idle = false;
  lk.unlock();
  s.emitted.fetch_add(1, std::memory_order_relaxed);
  if (wake) s.work_cv.notify_one();
}

void Pipeline::operational(Level level, std::string_view component, std::string_view message) {
  Impl& s = *impl_;
  std::string line;
  appendOperationalLine(line, s.clock->nowMillis(), level, component, message);
  std::unique_lock lk(s.mu);
  if (s.closing) return;
  if (s.bounded >= s.opt.queue_capacity) {
    ++s.op_shed_total;
    lk.unlock();
    s.op_shed.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  s.queue.push_back(Item{.type = Item::Type::kLine, .enable = false, .revision = {}, .event = nullptr,
                         .line = std::move(line)});
  ++s.bounded;
  const bool wake = s.writer_idle;
  s.writer_idle = false;
  lk.unlock();
  if (wake) s.work_cv.notify_one();
}

void Pipeline::setJsonlEnabled(bool enabled, std::optional<uint64_t> config_revision) {
  Impl& s = *impl_;
  std::unique_lock lk(s.mu);
  if (s.closing) return;
  // Not counted against the capacity: a configuration change is never shed.
  s.queue.push_back(Item{.type = Item::Type::kJsonl, .enable = enabled, .revision = config_revision,
                         .event = nullptr, .line = {}});
  const bool wake = s.writer_idle;
  s.writer_idle = false;
  lk.unlock();
  if (wake) s.work_cv.notify_one();
}

Result<void> Pipeline::close() {
  std::lock_guard cl(close_mu_);
  if (close_result_) return *close_result_;
  Impl& s = *impl_;
  {
    std::lock_guard lk(s.mu);
    s.closing = true;
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
                       .lines_lost = s.lines_lost.load(r)};
}

const std::string& Pipeline::publicKeyHex() const { return impl_->public_hex; }
const std::string& Pipeline::keyId() const { return impl_->key_id; }

}  // namespace warden::audit
