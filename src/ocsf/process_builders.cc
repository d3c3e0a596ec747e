#include <cerrno>
#include <csignal>

#include "ocsf/builder_support.h"
#include "ocsf/builders.h"

// The Process Activity (PROC) and File System Activity (FILE) builders of builders.h.

namespace warden::ocsf {

using detail::applyDecision;
using detail::lower;
using detail::withFileName;
using detail::withName;

// ----- Process Activity -----

std::string signalName(int signal) {
  switch (signal) {
    case SIGHUP: return "SIGHUP";
    case SIGINT: return "SIGINT";
    case SIGQUIT: return "SIGQUIT";
    case SIGILL: return "SIGILL";
    case SIGTRAP: return "SIGTRAP";
    case SIGABRT: return "SIGABRT";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGKILL: return "SIGKILL";
    case SIGUSR1: return "SIGUSR1";
    case SIGSEGV: return "SIGSEGV";
    case SIGUSR2: return "SIGUSR2";
    case SIGPIPE: return "SIGPIPE";
    case SIGALRM: return "SIGALRM";
    case SIGTERM: return "SIGTERM";
    case SIGCHLD: return "SIGCHLD";
    case SIGCONT: return "SIGCONT";
    case SIGSTOP: return "SIGSTOP";
    case SIGTSTP: return "SIGTSTP";
    case SIGTTIN: return "SIGTTIN";
    case SIGTTOU: return "SIGTTOU";
    case SIGXCPU: return "SIGXCPU";
    case SIGXFSZ: return "SIGXFSZ";
    case SIGSYS: return "SIGSYS";
    default: return "SIG" + std::to_string(signal);
  }
}

Event procLaunch(const SessionContext& ctx, int64_t time, const Process& process,
                 const std::vector<std::string>& argv, LaunchType launch_type) {
  LaunchDetails details;
  details.argv = argv;
  details.launch_type = launch_type;
  return procLaunch(ctx, time, process, details);
}

Event procLaunch(const SessionContext& ctx, int64_t time, const Process& process, const LaunchDetails& d) {
  Event e = newEvent(ctx, Kind::kProc, ClassUid::kProcessActivity, 1, time);
  Process p = withFileName(process);
  if (p.cmd_line.empty()) {
    for (const auto& a : d.argv) {
      if (!p.cmd_line.empty()) p.cmd_line.push_back(' ');
      p.cmd_line += a;
    }
  }
  if (p.name.empty() && p.file) p.name = p.file->name;
  e.actor = p.parent_process ? withFileName(*p.parent_process) : p;
  e.process = std::move(p);
  if (!d.argv.empty()) e.unmapped.set("argv", Value(Value::Array(d.argv.begin(), d.argv.end())));
  if (d.argv_truncated) {
    e.unmapped.set("argv_truncated", true);
    e.unmapped.set("argv_length", d.argv_length);
  }
  if (d.argv_best_effort) e.unmapped.set("argv_source", "procfs");
  if (d.euid) e.unmapped.set("euid", *d.euid);
  if (d.gid) e.unmapped.set("gid", *d.gid);
  if (!d.exec_filename.empty()) e.unmapped.set("exec_filename", d.exec_filename);
  e.launch_type = d.launch_type;
  const std::string name = e.process->name.empty() ? std::string("-") : e.process->name;
  if (d.failure_errno) {
    e.status = Status::kFailure;
    e.status_detail = errnoName(*d.failure_errno);
    e.severity = Severity::kLow;
    if (d.attempts > 1) e.unmapped.set("attempts", static_cast<int64_t>(d.attempts));
    e.message = "exec failed in " + name + (e.process->pid ? " pid " + std::to_string(*e.process->pid) : "") +
                ": " + e.status_detail;
  } else {
    e.status = Status::kSuccess;
    e.message = "launched " + name + (e.process->pid ? " pid " + std::to_string(*e.process->pid) : "");
  }
  applyProfiles(e);
  return e;
}

std::string errnoName(int err) {
  switch (err) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EIO: return "EIO";
    case E2BIG: return "E2BIG";
    case ENOEXEC: return "ENOEXEC";
    case EBADF: return "EBADF";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case EXDEV: return "EXDEV";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    case ENFILE: return "ENFILE";
    case EMFILE: return "EMFILE";
    case ETXTBSY: return "ETXTBSY";
    case ENOSPC: return "ENOSPC";
    case EROFS: return "EROFS";
    case EMLINK: return "EMLINK";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ELOOP: return "ELOOP";
    case ENOTEMPTY: return "ENOTEMPTY";
    case ELIBBAD: return "ELIBBAD";
    default: return "E" + std::to_string(err);
  }
}

Event procTerminate(const SessionContext& ctx, int64_t time, const Process& process,
                    const ProcessExit& exit) {
  Event e = newEvent(ctx, Kind::kProc, ClassUid::kProcessActivity, 2, time);
  Process p = withFileName(process);
  e.actor = p;
  e.process = std::move(p);
  if (!exit.signal || exit.exit_code != 0) e.exit_code = exit.exit_code;  // a signal death has no code
  if (exit.signal) e.status_detail = signalName(*exit.signal);
  e.status = (exit.exit_code == 0 && !exit.signal) ? Status::kSuccess : Status::kFailure;
  if (exit.killed_by_limit) e.severity = Severity::kCritical;
  const std::string name = e.process->name.empty() ? std::string("-") : e.process->name;
  e.message = e.exit_code ? name + " exited " + std::to_string(*e.exit_code) +
                                (exit.signal ? " (" + e.status_detail + ")" : "")
                          : name + " killed by " + e.status_detail;
  applyProfiles(e);
  return e;
}

Event procSignal(const SessionContext& ctx, int64_t time, const Process& process, int signal,
                 const std::optional<Process>& sender) {
  Event e = newEvent(ctx, Kind::kProc, ClassUid::kProcessActivity, 99, time);
  e.activity_name = "Signal";
  Process p = withFileName(process);
  e.actor = sender ? withFileName(*sender) : p;
  e.process = std::move(p);
  e.status_detail = signalName(signal);
  e.status = Status::kSuccess;
  e.message = e.status_detail + " to " + (e.process->name.empty() ? std::string("-") : e.process->name);
  applyProfiles(e);
  return e;
}

// ----- File System Activity -----

Event fileActivity(const SessionContext& ctx, int64_t time, const FileAccess& access) {
  Event e =
      newEvent(ctx, Kind::kFile, ClassUid::kFileSystemActivity, static_cast<int>(access.activity), time);
  e.actor = withFileName(access.actor);
  e.file = withName(access.file);
  if (access.target) e.file_result = withName(*access.target);
  e.status = Status::kSuccess;
  if (access.decision) applyDecision(e, *access.decision);
  if (access.sensitive) e.unmapped.set("sensitive", true);
  if (!access.operation.empty()) e.unmapped.set("operation", access.operation);
  if (access.details.isObject()) {
    for (const auto& [k, v] : access.details.asObject()) e.unmapped.set(k, v);
  }
  e.message = lower(e.activityName()) + " " + (e.file->path.empty() ? e.file->name : e.file->path);
  applyProfiles(e);
  return e;
}

}  // namespace warden::ocsf
