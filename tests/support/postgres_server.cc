#include "support/postgres_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>

#include "support/test_env.h"

namespace warden::testing {
namespace {

constexpr const char* kBin = "/usr/lib/postgresql/15/bin";

int freeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

bool waitExit(pid_t pid, std::chrono::milliseconds timeout) {
  return waitFor([&] {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    return r == pid || r < 0;
  }, timeout);
}

}  // namespace

std::unique_ptr<PostgresServer> PostgresServer::start(std::string* why) {
  if (geteuid() != 0) {
    *why = "needs root (runs PostgreSQL as the postgres user)";
    return nullptr;
  }
  if (access((std::string(kBin) + "/initdb").c_str(), X_OK) != 0 || access((std::string(kBin) + "/postgres").c_str(), X_OK) != 0) {
    *why = std::string("PostgreSQL 15 binaries not found in ") + kBin + " (apt-get install postgresql-15)";
    return nullptr;
  }
  if (runCommand("id -u postgres").status != 0) {
    *why = "no postgres user";
    return nullptr;
  }
  std::unique_ptr<PostgresServer> s(new PostgresServer());
  char tmpl[] = "/tmp/warden-pg-XXXXXX";
  if (!mkdtemp(tmpl)) {
    *why = "mkdtemp failed";
    return nullptr;
  }
  s->dir_ = tmpl;
  const std::string dir = s->dir_.string();
  auto init = runCommand("chown postgres: " + dir + " && runuser -u postgres -- " + kBin + "/initdb -D " + dir +
                         "/data -A trust -U postgres --no-sync -E UTF8 --locale=C.UTF-8");
  if (init.status != 0) {
    *why = "initdb failed: " + init.output;
    return nullptr;
  }
  if (!s->launch(why)) return nullptr;
  return s;
}

bool PostgresServer::launch(std::string* why) {
  port_ = freeLoopbackPort();
  if (port_ == 0) {
    *why = "no free loopback port";
    return false;
  }
  const std::string dir = dir_.string();
  const std::string data = dir + "/data";
  const std::string port = std::to_string(port_);
  const std::string log = dir + "/postgres.log";
  const passwd* pw = getpwnam("postgres");
  if (!pw) {
    *why = "no postgres user";
    return false;
  }
  const uid_t uid = pw->pw_uid;
  const gid_t gid = pw->pw_gid;
  const std::string postgres = std::string(kBin) + "/postgres";
  pid_ = fork();
  if (pid_ < 0) {
    *why = "fork failed";
    return false;
  }
  if (pid_ == 0) {
    // The postmaster itself, as postgres (it refuses to run as root), so SIGINT is a fast shutdown.
    setpgid(0, 0);
    const int log_fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (log_fd >= 0) {
      dup2(log_fd, 1);
      dup2(log_fd, 2);
    }
    if (setgroups(0, nullptr) != 0 || setgid(gid) != 0 || setuid(uid) != 0) _exit(126);
    execl(postgres.c_str(), "postgres", "-D", data.c_str(), "-p", port.c_str(), "-k", dir.c_str(), "-c", "listen_addresses=127.0.0.1", "-c",
          "fsync=off", "-c", "logging_collector=off", nullptr);
    _exit(127);
  }
  const std::string ready = std::string(kBin) + "/pg_isready -q -h 127.0.0.1 -p " + port;
  bool exited = false;
  if (!waitFor([&] {
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) exited = true;
        return exited || runCommand(ready).status == 0;
      }, std::chrono::seconds(30)) || exited) {
    if (exited) pid_ = -1;
    *why = "postgres did not become ready on 127.0.0.1:" + port + ": " + readFile(log);
    stop();
    return false;
  }
  return true;
}

bool PostgresServer::stop() {
  if (pid_ <= 0) return true;
  kill(pid_, SIGINT);  // fast shutdown: disconnects clients, then exits
  bool ok = waitExit(pid_, std::chrono::seconds(10));
  if (!ok) {
    kill(-pid_, SIGKILL);
    waitExit(pid_, std::chrono::seconds(5));
  }
  pid_ = -1;
  return ok;
}

bool PostgresServer::restart(std::string* why) {
  stop();
  return launch(why);
}

bool PostgresServer::createDatabase(const std::string& name, std::string* why) {
  auto r = runCommand("runuser -u postgres -- " + std::string(kBin) + "/createdb -h 127.0.0.1 -p " +
                      std::to_string(port_) + " " + name);
  if (r.status != 0) {
    *why = "createdb " + name + ": " + r.output;
    return false;
  }
  return true;
}

std::string PostgresServer::url(const std::string& database) const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

PostgresServer::~PostgresServer() {
  stop();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

}  // namespace warden::testing
