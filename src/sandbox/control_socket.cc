// The supervisor's control socket (server) and `warden session ...` (client). docs/cgroups.md.

#include "sandbox/control_socket.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace warden::sandbox {
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr size_t kMaxLine = 256;
constexpr size_t kMaxReply = 4096;
constexpr auto kClientLineTimeout = std::chrono::seconds(2);
const char* const kCommands[] = {"pause", "resume", "stop", "status"};

Result<void> validateId(std::string_view id) {
  if (id.empty() || id.size() > 64) return invalidArgument("session id must be 1 to 64 bytes");
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '_' || c == '.';
    if (!ok) return invalidArgument(fmt::format("session id '{}' may hold only [A-Za-z0-9._-]", id));
  }
  if (id[0] == '.') return invalidArgument("session id may not start with '.'");
  return okResult();
}

// "FailedPrecondition" -> "failed_precondition".
std::string snakeCode(Code code) {
  std::string out;
  for (char c : codeName(code)) {
    if (c >= 'A' && c <= 'Z') {
      if (!out.empty()) out.push_back('_');
      out.push_back(static_cast<char>(c - 'A' + 'a'));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Code codeFromSnake(std::string_view s) {
  for (int i = 0; i <= static_cast<int>(Code::kUnauthenticated); ++i) {
    if (snakeCode(static_cast<Code>(i)) == s) return static_cast<Code>(i);
  }
  return Code::kUnknown;
}

// One line of printable text: control bytes become spaces, cut to kMaxReply.
std::string oneLine(std::string_view s) {
  std::string out(s.substr(0, kMaxReply));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

bool fillAddress(const std::filesystem::path& path, sockaddr_un& addr) {
  const std::string p = path.string();
  if (p.size() >= sizeof(addr.sun_path)) return false;
  addr = sockaddr_un{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, p.c_str(), p.size() + 1);
  return true;
}

// Reads up to and excluding '\n' (or to EOF) within `deadline`; nullopt on timeout or error.
std::optional<std::string> readLine(int fd, SteadyClock::time_point deadline, size_t max, bool& too_long) {
  std::string line;
  too_long = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return std::nullopt;
    char buf[512];
    const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) return line;  // EOF: what came is the line
    line.append(buf, static_cast<size_t>(n));
    if (const size_t nl = line.find('\n'); nl != std::string::npos) {
      line.resize(nl);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return line;
    }
    if (line.size() > max) {
      too_long = true;
      return line;
    }
  }
}

void sendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data.remove_prefix(static_cast<size_t>(n));
  }
}

std::string errorLine(const Error& e) { return fmt::format("error {}: {}\n", snakeCode(e.code()), oneLine(e.message())); }

}  // namespace

// ----- Server -----

Result<std::unique_ptr<ControlServer>> ControlServer::create(const std::string& session_id, const std::string& name,
                                                             Handler handler,
                                                             std::function<void(uid_t, pid_t)> on_refused,
                                                             const std::filesystem::path& dir) {
  WARDEN_RETURN_IF_ERROR(validateId(session_id));
  if (!handler) return invalidArgument("control server needs a handler");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return errnoError("create " + dir.string(), ec.value());
  if (::chmod(dir.c_str(), 0700) != 0) return errnoError("chmod 0700 " + dir.string());
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return errnoError("stat " + dir.string());
  if (st.st_uid != ::geteuid()) {
    return permissionDenied(fmt::format("{} is owned by uid {}, not by this supervisor (uid {})", dir.string(),
                                        st.st_uid, ::geteuid()));
  }
  std::unique_ptr<ControlServer> s(new ControlServer());
  s->stopped_ = true;  // until set up: the destructor must not unlink another supervisor's files
  s->socket_path_ = dir / (session_id + ".sock");
  s->name_path_ = dir / (session_id + ".name");
  s->handler_ = std::move(handler);
  s->on_refused_ = std::move(on_refused);
  sockaddr_un addr;
  if (!fillAddress(s->socket_path_, addr)) {
    return invalidArgument(fmt::format("control socket path {} is too long", s->socket_path_.string()));
  }
  // A socket file already there: a live supervisor (refuse) or a stale one from a crash (replace).
  if (std::filesystem::exists(std::filesystem::symlink_status(s->socket_path_))) {
    UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (probe.valid() && ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
      return alreadyExists(fmt::format("a supervisor already listens on {}", s->socket_path_.string()));
    }
    ::unlink(s->socket_path_.c_str());
  }
  s->listen_fd_ = UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!s->listen_fd_.valid()) return errnoError("socket(AF_UNIX)");
  if (::bind(s->listen_fd_.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    return errnoError("bind " + s->socket_path_.string());
  }
  if (::chmod(s->socket_path_.c_str(), 0600) != 0 || ::listen(s->listen_fd_.get(), 16) != 0) {
    const Error e = errnoError("chmod/listen " + s->socket_path_.string());
    ::unlink(s->socket_path_.c_str());
    return e;
  }
  // The name file, written whole then renamed so a client never reads half of it.
  const std::filesystem::path tmp = dir / (session_id + ".name.tmp");
  {
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    const std::string text = oneLine(name) + "\n";
    if (!fd.valid() || ::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
        ::rename(tmp.c_str(), s->name_path_.c_str()) != 0) {
      const Error e = errnoError("write " + s->name_path_.string());
      ::unlink(tmp.c_str());
      ::unlink(s->socket_path_.c_str());
      return e;
    }
  }
  s->stop_fd_ = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!s->stop_fd_.valid()) {
    const Error e = errnoError("eventfd (control server)");
    ::unlink(s->socket_path_.c_str());
    ::unlink(s->name_path_.c_str());
    return e;
  }
  s->stopped_ = false;
  return s;
}

ControlServer::~ControlServer() { stop(); }

void ControlServer::start() {
  if (started_ || stopped_) return;
  started_ = true;
  thread_ = std::thread([this] { run(); });
}

void ControlServer::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (thread_.joinable()) {
    const uint64_t one = 1;
    (void)!::write(stop_fd_.get(), &one, sizeof one);
    thread_.join();
  }
  ::unlink(socket_path_.c_str());
  ::unlink(name_path_.c_str());
  listen_fd_.reset();
}

void ControlServer::run() {
  for (;;) {
    pollfd fds[2] = {{stop_fd_.get(), POLLIN, 0}, {listen_fd_.get(), POLLIN, 0}};
    const int r = ::poll(fds, 2, -1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 || (fds[0].revents & POLLIN)) return;
    if (fds[1].revents & POLLIN) {
      UniqueFd conn(::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (conn.valid()) serve(conn.get());
    }
  }
}

void ControlServer::serve(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    sendAll(fd, errorLine(internalError("cannot read the peer's credentials")));
    return;
  }
  if (cred.uid != 0) {
    sendAll(fd, errorLine(permissionDenied("the control socket is root-only")));
    if (on_refused_) on_refused_(cred.uid, cred.pid);
    return;
  }
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  bool too_long = false;
  const auto line = readLine(fd, SteadyClock::now() + kClientLineTimeout, kMaxLine, too_long);
  if (!line || (line->empty() && !too_long)) return;  // nothing asked (or a liveness probe)
  if (too_long) {
    sendAll(fd, errorLine(invalidArgument(fmt::format("request longer than {} bytes", kMaxLine))));
    return;
  }
  const std::string& command = *line;
  if (std::find(std::begin(kCommands), std::end(kCommands), command) == std::end(kCommands)) {
    sendAll(fd, errorLine(invalidArgument(
                    fmt::format("unknown command '{}' (pause, resume, stop, status)", oneLine(command.substr(0, 32))))));
    return;
  }
  const Result<std::string> reply = handler_(command);
  sendAll(fd, reply.ok() ? fmt::format("ok {}\n", oneLine(*reply)) : errorLine(reply.error()));
}

// ----- Client -----

Result<std::string> resolveSession(std::string_view id_or_name, const std::filesystem::path& dir) {
  const std::string want(id_or_name);
  const Error not_found = notFound(fmt::format("no running session '{}'", oneLine(want)));
  if (want.empty() || want.find('/') != std::string::npos) return not_found;
  std::vector<std::string> ids;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (const dirent* e = ::readdir(d)) {
      const std::string n = e->d_name;
      if (n.size() > 5 && n.compare(n.size() - 5, 5, ".sock") == 0) ids.push_back(n.substr(0, n.size() - 5));
    }
    ::closedir(d);
  } else if (errno == EACCES) {
    return permissionDenied(fmt::format("{} is root-only: run as root", dir.string()));
  }
  std::sort(ids.begin(), ids.end());
  if (std::find(ids.begin(), ids.end(), want) != ids.end()) return want;
  auto join = [](const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
    return out;
  };
  std::vector<std::string> by_name;
  for (const auto& id : ids) {
    UniqueFd fd(::open((dir / (id + ".name")).c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) continue;
    char buf[kMaxLine + 2];
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n <= 0) continue;
    std::string name(buf, static_cast<size_t>(n));
    if (!name.empty() && name.back() == '\n') name.pop_back();
    if (name == want) by_name.push_back(id);
  }
  if (by_name.size() == 1) return by_name.front();
  if (by_name.size() > 1) {
    return failedPrecondition(fmt::format("name '{}' is used by sessions {}: give an id", want, join(by_name)));
  }
  std::vector<std::string> by_prefix;
  for (const auto& id : ids) {
    if (id.compare(0, want.size(), want) == 0) by_prefix.push_back(id);
  }
  if (by_prefix.size() == 1) return by_prefix.front();
  if (by_prefix.size() > 1) {
    return failedPrecondition(fmt::format("'{}' matches sessions {}: give more of the id", want, join(by_prefix)));
  }
  return not_found;
}

Result<std::string> sendControlCommand(std::string_view id_or_name, std::string_view command,
                                       std::chrono::milliseconds timeout, const std::filesystem::path& dir) {
  if (command.empty() || command.size() > kMaxLine || command.find('\n') != std::string_view::npos) {
    return invalidArgument("a control command is one short line");
  }
  auto id = resolveSession(id_or_name, dir);
  if (!id.ok()) return id.error();
  const std::filesystem::path path = dir / (*id + ".sock");
  sockaddr_un addr;
  if (!fillAddress(path, addr)) return invalidArgument("control socket path too long: " + path.string());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return errnoError("socket(AF_UNIX)");
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    if (err == EACCES || err == EPERM) {
      return permissionDenied(fmt::format("the control socket {} is root-only: run as root", path.string()));
    }
    if (err == ECONNREFUSED || err == ENOENT) {
      return unavailable(fmt::format("session {} does not answer: {} is stale (its supervisor is gone)", *id,
                                     path.string()));
    }
    return errnoError("connect " + path.string(), err);
  }
  const auto deadline = SteadyClock::now() + timeout;
  timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  const std::string request = std::string(command) + "\n";
  // A refusal can arrive (and the server close) before the request is sent: read the reply anyway.
  const bool sent =
      ::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size());
  const int send_errno = errno;
  bool too_long = false;
  const auto reply = readLine(fd.get(), deadline, kMaxReply + 64, too_long);
  if (!sent && (!reply || reply->empty())) {
    return unavailable(fmt::format("session {}: could not send '{}': {}", *id, command, std::strerror(send_errno)));
  }
  if (!reply) return unavailable(fmt::format("session {} did not answer within {} ms", *id, timeout.count()));
  if (reply->empty()) return unavailable(fmt::format("session {} closed the connection without an answer", *id));
  if (*reply == "ok") return std::string();
  if (reply->compare(0, 3, "ok ") == 0) return reply->substr(3);
  if (reply->compare(0, 6, "error ") == 0) {
    const std::string rest = reply->substr(6);
    const size_t colon = rest.find(':');
    const std::string code = rest.substr(0, colon);
    std::string message = colon == std::string::npos ? rest : rest.substr(colon + 1);
    if (!message.empty() && message[0] == ' ') message.erase(0, 1);
    return Error(codeFromSnake(code), fmt::format("session {}: {}", *id, message));
  }
  return internalError(fmt::format("session {}: malformed reply '{}'", *id, oneLine(reply->substr(0, 64))));
}

}  // namespace warden::sandbox
