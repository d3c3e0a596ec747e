#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>

namespace warden::testing {

// A throwaway PostgreSQL 15 server from Debian's package: initdb into a temp dir, `postgres` on
// 127.0.0.1 and a free port, run as the `postgres` user (runuser). start() returns nullptr and
// sets *why when the binaries are missing or the process is not root (tests then GTEST_SKIP with
// it). The destructor stops the server (SIGINT, fast shutdown; SIGKILL after 10 s) and removes the
// directory. Not thread-safe.
class PostgresServer {
 public:
  static std::unique_ptr<PostgresServer> start(std::string* why);
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  int port() const { return port_; }
  // Creates database `name` (owner postgres); false and *why on failure.
  bool createDatabase(const std::string& name, std::string* why);
  // postgresql://postgres@127.0.0.1:<port>/<database>
  std::string url(const std::string& database) const;
  // Stops the server (the data stays); start again with restart(). Returns false on a timeout.
  bool stop();
  bool restart(std::string* why);
  bool running() const { return pid_ > 0; }

 private:
  PostgresServer() = default;
  bool launch(std::string* why);

  std::filesystem::path dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace warden::testing
