#include "gateway/service/operator_socket.h"

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/server_posix.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <system_error>

#include "common/error.h"

namespace warden::gateway {

namespace {

constexpr int kFirstRotatedFd = 256;
constexpr rlim_t kMaxFdLimit = 1 << 20;

Result<sockaddr_un> unixAddress(const std::filesystem::path& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string& p = path.native();
  if (p.empty() || p.size() >= sizeof addr.sun_path) {
    return invalidArgument("operator socket path '" + p.substr(0, 200) + "' is empty or longer than " +
                           std::to_string(sizeof addr.sun_path - 1) + " bytes");
  }
  std::memcpy(addr.sun_path, p.c_str(), p.size() + 1);
  return addr;
}

// True when a process accepts connections on the socket file at `addr`.
bool someoneServes(const sockaddr_un& addr) {
  UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!probe.valid()) return false;
  return ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
}

}  // namespace

Result<std::unique_ptr<OperatorSocket>> OperatorSocket::listen(const OperatorSocketOptions& options) {
  auto addr = unixAddress(options.path);
  if (!addr.ok()) return addr.error();
  std::error_code ec;
  if (options.path.has_parent_path() && !std::filesystem::exists(options.path.parent_path(), ec)) {
    std::filesystem::create_directories(options.path.parent_path(), ec);
    if (ec) return errnoError("creating the directory of the operator socket " + options.path.string(), ec.value());
    ::chmod(options.path.parent_path().c_str(), 0755);
  }
  struct stat st {};
  if (::lstat(options.path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return failedPrecondition("operator socket " + options.path.string() +
                                " exists and is not a socket; remove it or give another --operator-socket");
    }
    if (someoneServes(*addr)) {
      return alreadyExists("operator socket " + options.path.string() +
                           " is served by another process (another gateway?); stop it or give another "
                           "--operator-socket");
    }
    if (::unlink(options.path.c_str()) != 0 && errno != ENOENT) {
      return errnoError("removing the stale operator socket " + options.path.string());
    }
  }
  std::unique_ptr<OperatorSocket> s(new OperatorSocket());
  s->path_ = options.path;
  s->listen_fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!s->listen_fd_.valid()) return errnoError("operator socket");
  if (::bind(s->listen_fd_.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr) != 0) {
    return errnoError("binding the operator socket " + options.path.string());
  }
  if (::chmod(options.path.c_str(), options.mode) != 0 || ::lstat(options.path.c_str(), &st) != 0) {
    const Error e = errnoError("setting the mode of the operator socket " + options.path.string());
    ::unlink(options.path.c_str());
    return e;
  }
  s->dev_ = st.st_dev;
  s->ino_ = st.st_ino;
  if (::listen(s->listen_fd_.get(), 128) != 0) {
    const Error e = errnoError("listening on the operator socket " + options.path.string());
    ::unlink(options.path.c_str());
    return e;
  }
  s->wake_fd_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!s->wake_fd_.valid()) {
    const Error e = errnoError("eventfd for the operator socket");
    ::unlink(options.path.c_str());
    return e;
  }
  // The range accepted connections rotate through (see the class comment).
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    const rlim_t want = limit.rlim_max == RLIM_INFINITY ? kMaxFdLimit : std::min(limit.rlim_max, kMaxFdLimit);
    if (limit.rlim_cur < want) {
      limit.rlim_cur = want;
      (void)::setrlimit(RLIMIT_NOFILE, &limit);
      (void)::getrlimit(RLIMIT_NOFILE, &limit);
    }
    const rlim_t soft = limit.rlim_cur == RLIM_INFINITY ? kMaxFdLimit : std::min(limit.rlim_cur, kMaxFdLimit);
    s->fd_high_ = static_cast<int>(soft);
  }
  s->fd_low_ = s->fd_high_ > 2 * kFirstRotatedFd ? kFirstRotatedFd : s->fd_high_ / 2;
  s->next_fd_ = s->fd_low_;
  return s;
}

OperatorSocket::~OperatorSocket() { stop(); }

void OperatorSocket::serve(grpc::Server* server) {
  thread_ = std::thread([this, server] { acceptLoop(server); });
}

std::optional<PeerCredentials> OperatorSocket::credentialsOf(std::string_view peer) const {
  constexpr std::string_view kPrefix = "fd:";
  if (peer.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  const std::string_view digits = peer.substr(kPrefix.size());
  int fd = -1;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), fd);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  std::lock_guard lock(mu_);
  const auto it = peers_.find(fd);
  if (it == peers_.end()) return std::nullopt;
  return it->second;
}

int OperatorSocket::rotate(int fd) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (next_fd_ >= fd_high_) next_fd_ = fd_low_;
    const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, next_fd_);
    if (moved >= 0) {
      ::close(fd);
      next_fd_ = moved + 1;
      return moved;
    }
    next_fd_ = fd_low_;  // nothing free above: start the round again
  }
  ::close(fd);
  return -1;
}

void OperatorSocket::acceptLoop(grpc::Server* server) {
  pollfd fds[2] = {{listen_fd_.get(), POLLIN, 0}, {wake_fd_.get(), POLLIN, 0}};
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopped_) return;
    }
    fds[0].revents = fds[1].revents = 0;
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    for (;;) {
      const int accepted = ::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (accepted < 0) break;  // EAGAIN: drained; anything else: poll again
      auto creds = readPeerCredentials(accepted);
      if (!creds.ok()) {
        ::close(accepted);
        ++dropped_;
        continue;
      }
      const int fd = rotate(accepted);
      if (fd < 0) {
        ++dropped_;
        continue;
      }
      {
        std::lock_guard lock(mu_);
        if (stopped_) {
          ::close(fd);
          return;
        }
        peers_[fd] = std::move(*creds);
      }
      grpc::AddInsecureChannelFromFd(server, fd);  // gRPC owns the fd from here
    }
  }
}

void OperatorSocket::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  if (wake_fd_.valid()) {
    const uint64_t one = 1;
    (void)!::write(wake_fd_.get(), &one, sizeof one);
  }
  if (thread_.joinable()) thread_.join();
  listen_fd_.reset();
  struct stat st {};
  if (!path_.empty() && ::lstat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_) {
    ::unlink(path_.c_str());
  }
}

}  // namespace warden::gateway
