#pragma once

// The supervisor's root-only control socket and its client (`warden session pause|resume|stop ID`).
// Protocol and security: docs/cgroups.md "Control socket".

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "common/result.h"
#include "common/unique_fd.h"

namespace warden::sandbox {

// The supervisor's control socket: /run/warden/sessions/<session id>.sock (directory 0700, socket 0600,
// both root-owned) — SOCK_STREAM unix socket; a connecting peer must be uid 0 (SO_PEERCRED; others get
// "error permission_denied: ..." and the supervisor is told through on_refused so it can record it).
// One request line per connection: "pause", "resume", "stop", "status"; one reply line: "ok <text>" or
// "error <code>: <message>" (code = the canonical code in snake_case, e.g. failed_precondition).
// A name file /run/warden/sessions/<session id>.name holds the session name so clients can address a
// session by id, unique id prefix or name.
//
// Threads: one thread the server owns (poll on the listening fd + an eventfd to stop); the handler and
// on_refused run on it, one connection at a time (a client gets 2 s to send its line). Owns the socket
// and name files: stop() (idempotent, also the destructor) joins the thread and removes both.
class ControlServer {
 public:
  using Handler = std::function<Result<std::string>(std::string_view command)>;
  static Result<std::unique_ptr<ControlServer>> create(const std::string& session_id, const std::string& name,
                                                       Handler handler,
                                                       std::function<void(uid_t uid, pid_t pid)> on_refused = {},
                                                       const std::filesystem::path& dir = "/run/warden/sessions");
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;
  ~ControlServer();

  void start();
  void stop();  // removes the socket and name files
  const std::filesystem::path& path() const { return socket_path_; }

 private:
  ControlServer() = default;
  void run();
  void serve(int fd);  // one connection

  std::filesystem::path socket_path_;
  std::filesystem::path name_path_;
  Handler handler_;
  std::function<void(uid_t, pid_t)> on_refused_;
  UniqueFd listen_fd_;
  UniqueFd stop_fd_;  // eventfd
  std::thread thread_;
  bool started_ = false;  // start/stop thread only
  bool stopped_ = false;  // Likewise.
};

// Client side (`warden session pause|resume|stop ID`): finds the socket by id / unique prefix / name,
// sends the command, returns the reply text or the error (NotFound: "no running session 'x'",
// FailedPrecondition for an ambiguous prefix or name, Unavailable when the supervisor does not answer
// within `timeout` or its socket is stale, PermissionDenied when the caller is not root, and the
// server's own error code when it answers "error ...").
Result<std::string> sendControlCommand(std::string_view id_or_name, std::string_view command,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(5),
                                       const std::filesystem::path& dir = "/run/warden/sessions");

// The session id `id_or_name` designates among the sockets in `dir` (exact id, then exact name, then
// unique id prefix). Errors as sendControlCommand.
Result<std::string> resolveSession(std::string_view id_or_name,
                                   const std::filesystem::path& dir = "/run/warden/sessions");

}  // namespace warden::sandbox
