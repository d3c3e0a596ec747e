#include "capture/recorder.h"

#include <fmt/format.h>

#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <ctime>

#include "audit/log_events.h"
#include "common/encoding.h"
#include "common/secret_shape.h"

namespace warden::capture {

namespace {

constexpr int64_t kPathSearchHoldMs = 500;
constexpr size_t kMaxCmdLine = 4096;
constexpr size_t kMaxPending = 1024;

std::string joinArgv(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out.push_back(' ');
    out += a;
    if (out.size() > kMaxCmdLine) break;
  }
  if (out.size() > kMaxCmdLine) out.resize(utf8PrefixLength(out, kMaxCmdLine));
  return out;
}

std::string clockOf(int64_t ms) {
  const time_t secs = static_cast<time_t>(ms / 1000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  return fmt::format("{:02}:{:02}:{:02}", tm.tm_hour, tm.tm_min, tm.tm_sec);
}

// Arguments that look like secrets (`curl -H "Authorization: Bearer ..."`, `--password=...`, a
// token) with the secret replaced by "[redacted]" (common/secret_shape.h): the record keeps the
// command, never the credential. True when anything was replaced (unmapped.argv_redacted).
bool redactArgv(std::vector<std::string>& argv) {
  bool any = false;
  for (auto& arg : argv) {
    std::string safe = looksLikeSecret(arg) ? std::string(kRedacted) : redactSecrets(arg);
    if (safe != arg) {
      arg = std::move(safe);
      any = true;
    }
  }
  return any;
}

// unmapped.argv_hex {"<index>": hex} for arguments that are not valid UTF-8: JSON strings cannot
// hold their bytes, so unmapped.argv has U+FFFD there and this keeps them exactly.
void addRawArgs(ocsf::Event& e, const std::vector<std::string>& argv) {
  ocsf::Value raw;
  for (size_t i = 0; i < argv.size(); ++i) {
    if (!isValidUtf8(argv[i])) raw.set(std::to_string(i), hexEncode(argv[i]));
  }
  if (!raw.isNull()) e.unmapped.set("argv_hex", std::move(raw));
}

}  // namespace

std::string_view recordKindName(RecordKind kind) {
  switch (kind) {
    case RecordKind::kExec: return "exec";
    case RecordKind::kArgv: return "argv";
    case RecordKind::kExecFail: return "exec_fail";
    case RecordKind::kFork: return "fork";
    case RecordKind::kExit: return "exit";
    case RecordKind::kFile: return "file";
    case RecordKind::kConnect: return "connect";
    default: return "unknown";
  }
}

Recorder::Recorder(const CaptureOptions& options, PathRules rules, audit::Emitter& emitter,
                   const ocsf::SessionContext& ctx, std::shared_ptr<ProcessTable> table)
    : options_(options), rules_(std::move(rules)), emitter_(emitter), ctx_(ctx), table_(std::move(table)) {}

ocsf::Process Recorder::actorFor(uint32_t pid, uint32_t uid, std::string_view comm) const {
  if (auto known = table_->actor(pid)) {
    known->uid = uid;
    return *known;
  }
  ocsf::Process p;
  p.name = std::string(comm);
  p.pid = pid;
  p.uid = uid;
  return p;
}

void Recorder::onExec(ExecFact&& f) {
  if (auto it = pending_.find(f.pid); it != pending_.end()) {
    if (baseName(it->second.fact.path) == baseName(f.filename)) {
      account(RecordKind::kExecFail).filtered += static_cast<uint64_t>(it->second.attempts);
      pending_.erase(it);  // a PATH search that found it
    } else {
      flushFailure(f.pid);
    }
  }
  ProcessInfo info;
  info.pid = f.pid;
  info.ppid = f.ppid;
  info.ns_pid = f.ns_pid;
  info.uid = f.uid;
  info.euid = f.euid;
  info.gid = f.gid;
  info.start_ns = f.start_ns;
  info.start_ms = 0;
  info.name = f.exe.empty() ? f.comm : baseName(f.exe);
  info.exe = f.exe;
  info.cwd = f.cwd;
  const bool redacted = redactArgv(f.argv);
  info.cmd_line = joinArgv(f.argv);
  if (auto before = table_->find(f.pid); before && !before->exited) info.start_ms = before->start_ms;
  if (info.start_ms == 0) info.start_ms = f.time_ms;
  table_->exec(info);

  if (!options_.processes) {
    account(RecordKind::kExec).filtered++;
    return;
  }
  ocsf::Process p;
  p.name = info.name;
  p.pid = f.pid;
  p.uid = f.uid;
  p.cmd_line = info.cmd_line;
  if (!f.exe.empty()) {
    ocsf::File exe;
    exe.path = f.exe;
    p.file = std::move(exe);
  }
  p.working_directory = f.cwd;
  if (f.ns_pid != 0) p.namespace_pid = f.ns_pid;
  p.created_time = info.start_ms;
  if (auto parent = table_->actor(f.ppid)) p.parent_process = std::make_shared<const ocsf::Process>(std::move(*parent));
  for (const auto& a : table_->ancestors(f.pid)) {
    p.ancestry.push_back(ocsf::ProcessEntity{a.name, static_cast<int64_t>(a.pid), a.exe});
  }
  ocsf::LaunchDetails d;
  d.argv = std::move(f.argv);
  d.argv_truncated = f.argv_truncated;
  d.argv_length = f.argv_length;
  d.argv_best_effort = f.best_effort;
  d.euid = f.euid;
  d.gid = f.gid;
  if (!f.filename.empty() && f.filename != f.exe) d.exec_filename = f.filename;
  ocsf::Event e = ocsf::procLaunch(ctx_, f.time_ms, p, d);
  addRawArgs(e, d.argv);
  if (f.argv_incomplete) e.unmapped.set("argv_incomplete", true);
  if (redacted) e.unmapped.set("argv_redacted", true);
  emitter_.emit(std::move(e));
  account(RecordKind::kExec).recorded++;
}

void Recorder::onExecFailed(ExecFailFact&& f) {
  auto it = pending_.find(f.pid);
  if (f.err == ENOENT) {
    if (it != pending_.end() && baseName(it->second.fact.path) == baseName(f.path)) {
      it->second.attempts++;
      it->second.fact = std::move(f);  // the last place tried
      return;
    }
    if (it != pending_.end()) flushFailure(f.pid);
    if (pending_.size() >= kMaxPending) flushFailure(pending_.begin()->first);
    const uint32_t pid = f.pid;
    pending_.emplace(pid, PendingFailure{std::move(f), 1});
    return;
  }
  if (it != pending_.end()) flushFailure(f.pid);
  emitFailure(PendingFailure{std::move(f), 1});
}

void Recorder::flushFailure(uint32_t pid) {
  auto it = pending_.find(pid);
  if (it == pending_.end()) return;
  PendingFailure p = std::move(it->second);
  pending_.erase(it);
  emitFailure(std::move(p));
}

void Recorder::emitFailure(PendingFailure&& pending) {
  ExecFailFact& f = pending.fact;
  if (!options_.processes) {
    account(RecordKind::kExecFail).filtered += static_cast<uint64_t>(pending.attempts);
    return;
  }
  ocsf::Process p = actorFor(f.pid, f.uid, f.comm);
  ocsf::Process target = p;  // the process that tried to exec (its image unchanged)
  const bool redacted = redactArgv(f.argv);
  target.cmd_line = joinArgv(f.argv);
  ocsf::LaunchDetails d;
  d.argv = std::move(f.argv);
  d.argv_truncated = f.argv_truncated;
  d.failure_errno = f.err;
  d.euid = f.euid;
  d.gid = f.gid;
  d.exec_filename = f.path;
  d.attempts = pending.attempts;
  ocsf::Event e = ocsf::procLaunch(ctx_, f.time_ms, target, d);
  addRawArgs(e, d.argv);
  if (redacted) e.unmapped.set("argv_redacted", true);
  emitter_.emit(std::move(e));
  account(RecordKind::kExecFail).recorded += static_cast<uint64_t>(pending.attempts);
}

void Recorder::onFork(const ForkFact& f) {
  table_->fork(f.pid, f.ppid, f.start_ns, f.time_ms, f.comm, f.uid);
  account(RecordKind::kFork).filtered++;  // lineage only, never an event
}

void Recorder::onExit(const ExitFact& f) {
  flushFailure(f.pid);
  const auto known = table_->find(f.pid);
  table_->exit(f.pid, f.start_ns, f.time_ms, f.status);
  if (!options_.processes || isSupervisor(f.pid)) {
    account(RecordKind::kExit).filtered++;
    return;
  }
  ocsf::Process p;
  if (auto a = table_->actor(f.pid)) p = std::move(*a);
  if (p.name.empty()) p.name = f.comm;
  p.pid = f.pid;
  p.terminated_time = f.time_ms;
  ocsf::ProcessExit x;
  if (WIFSIGNALED(f.status)) {
    x.signal = WTERMSIG(f.status);
    x.exit_code = 0;
  } else {
    x.exit_code = WEXITSTATUS(f.status);
  }
  ocsf::Event e = ocsf::procTerminate(ctx_, f.time_ms, p, x);
  if (known && known->start_ms != 0 && f.time_ms >= known->start_ms) e.duration = f.time_ms - known->start_ms;
  if (WIFSIGNALED(f.status) && WCOREDUMP(f.status)) e.unmapped.set("core_dumped", true);
  emitter_.emit(std::move(e));
  account(RecordKind::kExit).recorded++;
}

bool Recorder::isSupervisor(uint32_t pid) const {
  return std::find(options_.supervisor_pids.begin(), options_.supervisor_pids.end(), pid) !=
         options_.supervisor_pids.end();
}

void Recorder::onFile(FileFact&& f) {
  if (!options_.file_writes || isSupervisor(f.pid) || rules_.excluded(f.path)) {
    account(RecordKind::kFile).filtered++;
    return;
  }
  const bool sensitive =
      f.sensitive_hint || rules_.sensitive(f.path) || (!f.path2.empty() && rules_.sensitive(f.path2));
  if (f.op == FileOp::kOpenRead && !sensitive) {  // the kernel's guess (a name on the path) was wrong
    account(RecordKind::kFile).filtered++;
    return;
  }
  ocsf::FileAccess a;
  a.actor = actorFor(f.pid, f.uid, f.comm);
  a.file.path = f.path;
  if (f.directory) a.file.type_id = ocsf::FileType::kFolder;
  a.sensitive = sensitive;
  ocsf::Value details;
  switch (f.op) {
    case FileOp::kOpenRead: a.activity = ocsf::FileActivity::kRead; break;
    case FileOp::kCreate:
      a.activity = ocsf::FileActivity::kCreate;
      if (f.directory) a.operation = "mkdir";
      break;
    case FileOp::kWrite:
      a.activity = ocsf::FileActivity::kUpdate;
      a.operation = f.truncated ? "truncate" : "write";
      break;
    case FileOp::kTruncate:
      a.activity = ocsf::FileActivity::kUpdate;
      a.operation = "truncate";
      break;
    case FileOp::kDelete:
      a.activity = ocsf::FileActivity::kDelete;
      if (f.directory) a.operation = "rmdir";
      break;
    case FileOp::kRename: {
      a.activity = ocsf::FileActivity::kRename;
      ocsf::File target;
      target.path = f.path2;
      a.target = std::move(target);
      break;
    }
    case FileOp::kChmod:
      a.activity = ocsf::FileActivity::kSetSecurity;
      a.operation = "chmod";
      details.set("mode", fmt::format("{:04o}", f.mode & 07777));
      break;
    case FileOp::kChown:
      a.activity = ocsf::FileActivity::kSetSecurity;
      a.operation = "chown";
      if (f.owner_uid >= 0 && f.owner_uid != 0xffffffffLL) details.set("owner_uid", f.owner_uid);
      if (f.owner_gid >= 0 && f.owner_gid != 0xffffffffLL) details.set("owner_gid", f.owner_gid);
      break;
    case FileOp::kMount: {
      a.activity = ocsf::FileActivity::kMount;
      a.file.type_id = ocsf::FileType::kUnknown;
      ocsf::File point;
      point.path = f.path2;
      point.type_id = ocsf::FileType::kFolder;
      a.target = std::move(point);
      if (!f.fstype.empty()) details.set("fstype", f.fstype);
      if (f.mount_flags != 0) details.set("mount_flags", static_cast<int64_t>(f.mount_flags));
      break;
    }
    case FileOp::kUnmount:
      a.activity = ocsf::FileActivity::kUnmount;
      a.file.type_id = ocsf::FileType::kFolder;
      break;
    case FileOp::kOpenDenied: a.activity = ocsf::FileActivity::kOpen; break;
    case FileOp::kAttrib:
      a.activity = ocsf::FileActivity::kSetAttributes;
      break;
    case FileOp::kConnect:  // opening a connection through the socket file
      a.activity = ocsf::FileActivity::kOpen;
      a.operation = "connect";
      a.file.type_id = ocsf::FileType::kLocalSocket;
      break;
  }
  if (f.path_truncated) details.set("path_truncated", true);
  if (f.err == EACCES || f.err == EPERM) {
    ocsf::Decision d;
    d.action = ocsf::Action::kDenied;
    d.rule = "-";
    d.engine = "kernel";
    d.reason = ocsf::errnoName(f.err) + (options_.denial_note.empty() ? "" : " (" + options_.denial_note + ")");
    a.decision = std::move(d);
  }
  a.details = std::move(details);
  ocsf::Event e = ocsf::fileActivity(ctx_, f.time_ms, a);
  if (f.err != 0 && !a.decision) {
    e.status = ocsf::Status::kFailure;
    e.status_detail = ocsf::errnoName(f.err);
    e.severity = std::max(e.severity, ocsf::Severity::kLow);
  }
  emitter_.emit(std::move(e));
  account(RecordKind::kFile).recorded++;
}

void Recorder::onConnect(uint32_t pid, std::string_view comm, uint32_t uid, std::string ip, int port,
                         int64_t time_ms) {
  table_->connect(pid, comm, uid, std::move(ip), port, time_ms);
  account(RecordKind::kConnect).filtered++;  // attribution only
}

void Recorder::onConnected(uint32_t pid, std::string_view comm, uint32_t uid, ProcessTable::SocketEnds ends,
                           int64_t time_ms) {
  table_->connected(pid, comm, uid, std::move(ends), time_ms);
  account(RecordKind::kConnect).filtered++;  // attribution only
}

void Recorder::tick(int64_t now_ms) {
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (now_ms - it->second.fact.time_ms >= kPathSearchHoldMs) {
      PendingFailure p = std::move(it->second);
      it = pending_.erase(it);
      emitFailure(std::move(p));
    } else {
      ++it;
    }
  }
}

void Recorder::flush() {
  while (!pending_.empty()) flushFailure(pending_.begin()->first);
}

namespace {

ocsf::Event captureLoss(const ocsf::SessionContext& ctx, std::string_view kind, uint64_t count, int64_t from_ms,
                        int64_t to_ms, std::string message) {
  audit::LossFacts facts;
  facts.count = count;
  ocsf::Event e = audit::lossEvent(ctx, to_ms, facts);
  ocsf::Value loss;
  loss.set("kind", std::string(kind));
  loss.set("count", count);
  loss.set("window", clockOf(from_ms) + "-" + clockOf(to_ms));
  loss.set("source", "kernel capture");
  e.unmapped.set("loss", std::move(loss));
  e.message = std::move(message);
  return e;
}

}  // namespace

void Recorder::reportLoss(RecordKind kind, uint64_t count, int64_t from_ms, int64_t to_ms, std::string_view why) {
  if (count == 0) return;
  emitter_.emit(captureLoss(ctx_, recordKindName(kind), count, from_ms, to_ms,
                            fmt::format("kernel capture lost {} {} records ({})", count, recordKindName(kind), why)));
}

void Recorder::reportSkipped(uint64_t count, int64_t from_ms, int64_t to_ms) {
  if (count == 0) return;
  emitter_.emit(captureLoss(ctx_, "kernel_skipped", count, from_ms, to_ms,
                            fmt::format("the kernel skipped {} capture program runs (recursion on a CPU): what "
                                        "they would have recorded is lost",
                                        count)));
}

void Recorder::summary(std::string_view backend, const Accounts& accounts, int64_t time_ms,
                       uint64_t kernel_skipped) {
  bool reconciled = true;
  uint64_t lost = kernel_skipped;
  uint64_t recorded = 0;
  ocsf::OperationalInput in;
  in.name = "Capture Summary";
  in.unmapped.set("backend", std::string(backend));
  for (size_t i = 0; i < accounts.size(); ++i) {
    const KindAccount& k = accounts[i];
    const std::string name(recordKindName(static_cast<RecordKind>(i)));
    if (k.seen != k.received + k.dropped) reconciled = false;
    if (k.received != k.recorded + k.filtered + k.malformed) reconciled = false;
    lost += k.dropped + k.malformed;
    recorded += k.recorded;
    in.unmapped.set(name + "_seen", k.seen);
    in.unmapped.set(name + "_recorded", k.recorded);
    in.unmapped.set(name + "_filtered", k.filtered);
    in.unmapped.set(name + "_lost", k.dropped + k.malformed);
  }
  in.unmapped.set("kernel_skipped", kernel_skipped);
  in.unmapped.set("reconciled", reconciled);
  in.severity = reconciled && lost == 0 ? ocsf::Severity::kInformational : ocsf::Severity::kHigh;
  in.message = fmt::format("kernel capture ({}): {} records recorded, {} lost (reported), counts {}", backend,
                           recorded, lost, reconciled ? "reconcile" : "do NOT reconcile");
  emitter_.emit(ocsf::operationalEvent(ctx_, time_ms, in));
}

}  // namespace warden::capture
