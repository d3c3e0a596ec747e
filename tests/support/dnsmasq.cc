#include "support/dnsmasq.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace warden::testing {
namespace {

// Binds 127.0.0.1:port with `type`; returns the fd (-1 on failure) and the bound port.
int bindLoopback(int type, uint16_t port, uint16_t* bound) {
  const int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  if (bound != nullptr) *bound = ntohs(addr.sin_port);
  return fd;
}

// A loopback port that is free for both UDP and TCP at the time of the call (0 if none was found).
uint16_t freeUdpAndTcpPort() {
  for (int attempt = 0; attempt < 20; ++attempt) {
    uint16_t port = 0;
    const int udp = bindLoopback(SOCK_DGRAM, 0, &port);
    if (udp < 0) continue;
    const int tcp = bindLoopback(SOCK_STREAM, port, nullptr);
    ::close(udp);
    if (tcp >= 0) {
      ::close(tcp);
      return port;
    }
  }
  return 0;
}

}  // namespace

Dnsmasq::~Dnsmasq() {
  if (!process_) return;
  // dnsmasq forks a child per TCP connection; it would be reparented to init when the parent exits.
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    const size_t close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 1));
    char state = 0;
    int ppid = 0;
    rest >> state >> ppid;
    if (ppid == process_->pid()) ::kill(std::stoi(entry.path().filename().string()), SIGKILL);
  }
  process_->terminate(std::chrono::seconds(5));
}

std::string Dnsmasq::address() const { return "127.0.0.1:" + std::to_string(port_); }

bool Dnsmasq::queried(const std::string& name) {
  auto lower = [](std::string s) {
    for (char& c : s) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    return s;
  };
  // "query[A] name from 127.0.0.1"
  return lower(process_->output()).find("] " + lower(name) + " from ") != std::string::npos;
}

std::unique_ptr<Dnsmasq> Dnsmasq::start(const std::vector<std::string>& records, std::string* why) {
  if (realExecutable("dnsmasq").empty()) {
    if (why != nullptr) *why = "dnsmasq is not installed (Debian: dnsmasq-base)";
    return nullptr;
  }
  std::unique_ptr<Dnsmasq> d(new Dnsmasq());
  std::string last_output;
  for (int attempt = 0; attempt < 5; ++attempt) {
    d->port_ = freeUdpAndTcpPort();
    if (d->port_ == 0) continue;
    ChildProcess::Options options;
    options.argv = {"dnsmasq",
                    "--keep-in-foreground",
                    "--no-daemon",
                    "--conf-file=/dev/null",
                    "--pid-file=" + (d->dir_ / "dnsmasq.pid").string(),
                    "--port=" + std::to_string(d->port_),
                    "--listen-address=127.0.0.1",
                    "--bind-interfaces",
                    "--no-resolv",
                    "--no-hosts",
                    "--log-queries",
                    "--log-facility=-"};
    options.argv.insert(options.argv.end(), records.begin(), records.end());
    d->process_ = ChildProcess::start(options, why);
    if (!d->process_) return nullptr;
    // dnsmasq logs "started" after binding its sockets (and exits on a bind failure).
    if (!d->process_->waitForLine("started, version", std::chrono::seconds(5)).empty()) return d;
    last_output = d->process_->output();
    d->process_->terminate(std::chrono::seconds(2));
    d->process_.reset();
  }
  if (why != nullptr) *why = "dnsmasq did not start: " + last_output;
  return nullptr;
}

}  // namespace warden::testing
