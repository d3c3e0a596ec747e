#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>

#include "common/result.h"
#include "common/unique_fd.h"
#include "gateway/service/peer_credentials.h"

namespace grpc {
class Server;
}

namespace warden::gateway {

inline constexpr std::string_view kDefaultOperatorSocket = "/run/warden/gateway.sock";

struct OperatorSocketOptions {
  std::filesystem::path path;  // created with its parent directories (0755)
  // The socket file's mode. Anyone who can connect is identified by SO_PEERCRED; the gateway then
  // decides per call (root or the operator group), and records who was refused, so the default
  // lets everyone in the door.
  mode_t mode = 0666;
};

// The gateway's local operator socket (docs/gateway.md "Authentication"): a unix stream socket
// whose connections are handed to the gRPC server (grpc::AddInsecureChannelFromFd) after the kernel's
// record of the peer (SO_PEERCRED, SO_PEERGROUPS) was taken. gRPC names such a connection's peer
// "fd:N"; credentialsOf("fd:N") answers who connected on it.
//
// An fd number could be reused by a later connection once gRPC closed the old one, so accepted
// connections are moved to fd numbers taken in rotation from [256, RLIMIT_NOFILE) (the soft limit is
// raised to the hard one): a number comes back only after the whole range went round. The service
// also refuses calls whose connection is already gone (ServerContext::IsCancelled) before trusting
// the answer.
//
// listen() binds (a stale socket file nobody serves is replaced; one another process serves is
// AlreadyExists; another kind of file is FailedPrecondition); serve() starts the accept thread;
// stop() (also the destructor) ends it and removes the socket file if it is still ours. Thread-safe:
// credentialsOf() may be called from any thread.
class OperatorSocket {
 public:
  static Result<std::unique_ptr<OperatorSocket>> listen(const OperatorSocketOptions& options);
  ~OperatorSocket();
  OperatorSocket(const OperatorSocket&) = delete;
  OperatorSocket& operator=(const OperatorSocket&) = delete;

  // Starts accepting; `server` must be started and outlive stop().
  void serve(grpc::Server* server);
  std::optional<PeerCredentials> credentialsOf(std::string_view peer) const;
  const std::filesystem::path& path() const { return path_; }
  // Connections closed at once because their credentials could not be read or no fd was left.
  uint64_t dropped() const { return dropped_.load(); }
  void stop();

 private:
  OperatorSocket() = default;
  void acceptLoop(grpc::Server* server);
  // Moves `fd` to the next number in rotation; -1 (fd closed) when none is free.
  int rotate(int fd);

  std::filesystem::path path_;
  dev_t dev_ = 0;  // the socket file we bound, so stop() removes only ours
  ino_t ino_ = 0;
  UniqueFd listen_fd_;
  UniqueFd wake_fd_;  // eventfd: stop() wakes the accept thread
  std::thread thread_;
  int fd_low_ = 256, fd_high_ = 1024, next_fd_ = 256;  // accept thread only
  std::atomic<uint64_t> dropped_{0};
  mutable std::mutex mu_;
  std::map<int, PeerCredentials> peers_;  // Guarded by mu_. fd -> who connected on it.
  bool stopped_ = false;                  // Guarded by mu_.
};

}  // namespace warden::gateway
