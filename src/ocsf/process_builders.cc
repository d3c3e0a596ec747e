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
  Event e = newEvent(ctx, Kind::kProc, ClassUid::kProcessActivity, 1, time);
  Process p = withFileName(process);
  if (p.cmd_line.empty()) {
    for (const auto& a : argv) {
      if (!p.cmd_line.empty()) p.cmd_line.push_back(' ');
      p.cmd_line += a;
    }
  }
  if (p.name.empty() && p.file) p.name = p.file->name;
  e.actor = p.parent_process ? withFileName(*p.parent_process) : p;
  e.process = std::move(p);
  if (!argv.empty()) e.unmapped.set("argv", Value(Value::Array(argv.begin(), argv.end())));
  e.launch_type = launch_type;
  e.status = Status::kSuccess;
  e.message = "launched " + (e.process->name.empty() ? std::string("-") : e.process->name) +
              (e.process->pid ? " pid " + std::to_string(*e.process->pid) : "");
  applyProfiles(e);
  return e;
}

Event procTerminate(const SessionContext& ctx, int64_t time, const Process& process,
                    const ProcessExit& exit) {
  Event e = newEvent(ctx, Kind::kProc, ClassUid::kProcessActivity, 2, time);
  Process p = withFileName(process);
  e.actor = p;
  e.process = std::move(p);
  e.exit_code = exit.exit_code;
  if (exit.signal) e.status_detail = signalName(*exit.signal);
  e.status = (exit.exit_code == 0 && !exit.signal) ? Status::kSuccess : Status::kFailure;
  if (exit.killed_by_limit) e.severity = Severity::kCritical;
  e.message = (e.process->name.empty() ? std::string("-") : e.process->name) + " exited " +
              std::to_string(exit.exit_code) + (exit.signal ? " (" + e.status_detail + ")" : "");
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
  e.message = lower(e.activityName()) + " " + (e.file->path.empty() ? e.file->name : e.file->path);
  applyProfiles(e);
  return e;
}

}  // namespace warden::ocsf
