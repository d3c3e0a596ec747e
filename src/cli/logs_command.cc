// `warden logs [SESSION] [--follow] [--since DUR|RFC3339] [--class NET,HTTP,...] [--level L] [--json]
// [--gateway URL | --log-dir DIR]`: a session's events as warden.log lines (`<UTC ts ms> OCSF
// <shorthand>`) or, with --json, as the canonical JSONL lines — from the gateway (GetLogs page by
// page, then FollowLogs) or from a session's log directory (docs/gateway-client.md).
// Exit 0 when everything asked for was shown (with --follow: on SIGINT/SIGTERM), 1 on a failure
// reported on stderr (gateway unreachable, unknown session, unreadable directory), 2 on a usage
// error (including: no SESSION while not exactly one session is running, the gateway's own audit
// trail not counted).

#include <fmt/format.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "audit/log_events.h"
#include "cli/dispatch.h"
#include "common/clock.h"
#include "common/unique_fd.h"
#include "cli/operator_flags.h"
#include "gateway/client/operator_args.h"
#include "gateway/client/operator_client.h"
#include "gateway/client/operator_log_dir.h"
#include "gateway/client/operator_stop_signals.h"

namespace warden::cli {
namespace {

struct LogsOptions {
  std::string session;
  bool follow = false;
  std::string since, classes, level;
  bool json = false;
  OperatorFlags gateway;
  std::string log_dir;
};

// The parsed filter: since_ms, classes, min_severity.
struct LogsFilter {
  int64_t since_ms = 0;
  std::vector<std::string> classes;
  int min_severity = 0;
};

int usage(std::string_view message) {
  fmt::print(stderr, "warden logs: {}\nRun 'warden logs --help' for the options.\n", message);
  return kExitUsage;
}

int failure(std::string_view message) {
  fmt::print(stderr, "warden logs: {}\n", message);
  return kExitFailure;
}

void printEvent(const gateway::LogEvent& e, bool json, bool flush) {
  if (json) {
    fmt::print(stdout, "{}\n", e.json);
  } else {
    fmt::print(stdout, "{} OCSF {}\n", formatUtcMillis(e.time_ms), e.shorthand);
  }
  if (flush) std::fflush(stdout);
}

// Cancels `cancel` when a stop signal arrives, until destroyed. The watcher thread waits on the
// signalfd and on its own eventfd (written by the destructor); nothing polls on a timer.
class CancelOnStopSignal {
 public:
  CancelOnStopSignal(const gateway::StopSignals& signals, gateway::FollowCancel& cancel)
      : wake_(::eventfd(0, EFD_CLOEXEC)) {
    if (!wake_.valid()) return;  // ok() tells; nothing to wait for
    thread_ = std::thread([this, fd = signals.fd(), &cancel] {
      pollfd fds[2] = {{fd, POLLIN, 0}, {wake_.get(), POLLIN, 0}};
      for (;;) {
        const int n = ::poll(fds, 2, -1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 || fds[0].revents != 0) cancel.cancel();
        return;
      }
    });
  }
  // False when the watcher could not start (no eventfd): the caller must not follow then.
  bool ok() const { return thread_.joinable(); }
  ~CancelOnStopSignal() {
    if (!thread_.joinable()) return;
    const uint64_t one = 1;
    while (::write(wake_.get(), &one, sizeof one) < 0 && errno == EINTR) {
    }
    thread_.join();
  }
  CancelOnStopSignal(const CancelOnStopSignal&) = delete;
  CancelOnStopSignal& operator=(const CancelOnStopSignal&) = delete;

 private:
  UniqueFd wake_;
  std::thread thread_;
};

int runFromLogDir(const LogsOptions& o, const LogsFilter& f, std::optional<gateway::StopSignals>& signals) {
  gateway::LogDirFilter filter{f.since_ms, f.classes, f.min_severity};
  auto reader = gateway::LogDirReader::open(
      o.log_dir, o.json ? gateway::LogDirFormat::kJson : gateway::LogDirFormat::kShorthand,
      std::move(filter));
  if (!reader.ok()) return failure(reader.error().message());
  if (!o.follow && !reader->hasFiles()) {
    return failure(fmt::format("{} has no {}{}", o.log_dir, reader->liveName(),
                               o.json ? " (OCSF JSONL output was never on for this session)" : ""));
  }
  auto print = [&](std::string_view line) {
    fmt::print(stdout, "{}\n", line);
    if (o.follow) std::fflush(stdout);
  };
  if (auto r = reader->readAll(print); !r.ok()) return failure(r.error().message());
  std::fflush(stdout);
  if (!o.follow) return kExitOk;
  if (auto r = reader->follow(print, signals->fd()); !r.ok()) return failure(r.error().message());
  return kExitOk;
}

// SESSION resolved on the gateway, or with none given, the one running session.
Result<std::string> pickSession(gateway::OperatorClient& client, const std::string& given,
                                bool* usage_error) {
  if (!given.empty()) {
    auto s = client.resolveSession(given);
    if (!s.ok()) return s.error();
    return s->id;
  }
  auto all = client.listSessions();
  if (!all.ok()) return all.error();
  // The gateway's own audit trail is always running; it is never the session meant by default.
  std::vector<const gateway::SessionInfo*> running;
  for (const auto& s : *all) {
    if (s.state == "running" && s.name != audit::kGatewaySessionName) running.push_back(&s);
  }
  if (running.size() == 1) return running.front()->id;
  *usage_error = true;
  if (all->empty())
    return invalidArgument("name a SESSION: the gateway " + client.address() + " has no sessions");
  auto listing = [](const std::vector<const gateway::SessionInfo*>& sessions) {
    std::string text;
    for (const auto* s : sessions) {
      text += fmt::format("\n  {}  {}  {}", s->id, s->name.empty() ? "-" : s->name, s->state);
    }
    return text;
  };
  if (!running.empty()) {
    return invalidArgument(
        fmt::format("name a SESSION: {} sessions are running:{}", running.size(), listing(running)));
  }
  std::vector<const gateway::SessionInfo*> every;
  for (const auto& s : *all) every.push_back(&s);
  return invalidArgument(
      "name a SESSION: no session is running (besides the gateway's own); the gateway's sessions:" +
      listing(every));
}

int runFromGateway(const LogsOptions& o, const LogsFilter& f, std::optional<gateway::StopSignals>& signals) {
  auto client = gateway::OperatorClient::forCommand(o.gateway.connection());
  if (!client.ok()) {
    return client.error().code() == Code::kInvalidArgument ? usage(client.error().message())
                                                           : failure(client.error().message());
  }
  bool usage_error = false;
  auto session = pickSession(*client, o.session, &usage_error);
  if (!session.ok())
    return usage_error ? usage(session.error().message()) : failure(session.error().message());

  gateway::LogsRequest request;
  request.session_id = *session;
  request.since_ms = f.since_ms;
  request.classes = f.classes;
  request.min_severity = f.min_severity;
  auto last =
      client->forEachLog(request, [&](const gateway::LogEvent& e) { printEvent(e, o.json, o.follow); });
  std::fflush(stdout);
  if (!last.ok()) return failure(last.error().message());
  if (!o.follow) return kExitOk;

  request.after_sequence = *last;
  gateway::FollowCancel cancel;
  Result<void> followed = okResult();
  {
    CancelOnStopSignal watcher(*signals, cancel);
    if (!watcher.ok()) return failure(errnoError("eventfd").message());
    followed = client->followLogs(
        request,
        [&](const gateway::LogEvent& e) {
          printEvent(e, o.json, true);
          return true;
        },
        &cancel);
  }
  if (!followed.ok()) return failure(followed.error().message());
  if (!cancel.cancelled()) {
    return failure("gateway " + client->address() + " closed the log stream (is it stopping?)");
  }
  return kExitOk;
}

int runLogs(const LogsOptions& o) {
  if (!o.log_dir.empty() && !o.session.empty()) {
    return usage("SESSION names a session on a gateway; with --log-dir the directory is the session");
  }
  LogsFilter f;
  if (!o.since.empty()) {
    auto since = gateway::parseTimeArg(o.since, SystemClock::instance().nowMillis());
    if (!since.ok()) return usage("--since: " + since.error().message());
    f.since_ms = *since;
  }
  if (!o.classes.empty()) {
    auto classes = gateway::parseClassList(o.classes);
    if (!classes.ok()) return usage("--class: " + classes.error().message());
    f.classes = std::move(*classes);
  }
  if (!o.level.empty()) {
    auto level = gateway::parseLevel(o.level);
    if (!level.ok()) return usage("--level: " + level.error().message());
    f.min_severity = *level;
  }
  // Before any thread starts (gRPC's included), so that only the signalfd sees SIGINT/SIGTERM.
  std::optional<gateway::StopSignals> signals;
  if (o.follow) {
    auto s = gateway::StopSignals::start();
    if (!s.ok()) return failure(s.error().message());
    signals.emplace(std::move(*s));
  }
  return o.log_dir.empty() ? runFromGateway(o, f, signals) : runFromLogDir(o, f, signals);
}

}  // namespace

int logsCommand(int argc, char** argv) {
  CLI::App app{
      "Shows a session's events as warden.log lines (or JSON), from the gateway or from a log directory.",
      "warden logs"};
  LogsOptions o;
  app.add_option("SESSION", o.session,
                 "session id, name or id prefix on the gateway (default: the one running session)");
  app.add_flag("-f,--follow", o.follow, "keep printing new events until interrupted (SIGINT/SIGTERM)");
  app.add_option("--since", o.since,
                 "only events from this time on: a duration back from now (30s, 5m, 2h, 7d) "
                 "or an RFC 3339 time (2026-11-23T13:27:09Z)");
  app.add_option("--class", o.classes, "only these event classes, comma-separated (NET,HTTP,DNS,...)");
  app.add_option("--level", o.level,
                 "only events at least this severe: INFO, LOW, MED, HIGH, CRIT, FATAL or 0..6");
  app.add_flag("--json", o.json, "print the canonical OCSF JSONL lines instead of warden.log lines");
  auto* gw = addOperatorFlags(&app, &o.gateway);
  auto* dir =
      app.add_option("--log-dir", o.log_dir,
                     "read the session's log directory (warden.log; warden-ocsf.log with --json) instead "
                     "of a gateway");
  gw->excludes(dir);
  dir->excludes(gw);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  try {
    return runLogs(o);
  } catch (const std::exception& e) {  // the edge: nothing escapes a command
    fmt::print(stderr, "warden logs: internal error: {}\n", e.what());
    return kExitFailure;
  }
}

}  // namespace warden::cli
