#include "support/sandbox_fixtures.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>

#include "support/test_env.h"

namespace warden::testing {

Workspace::Workspace() {
  char tmpl[] = "/var/tmp/warden-ws.XXXXXX";
  const char* made = ::mkdtemp(tmpl);
  path_ = made ? made : "/var/tmp/warden-ws.failed";
  (void)!::chown(path_.c_str(), kAgentUid, kAgentUid);
  ::chmod(path_.c_str(), 0755);
}

Workspace::~Workspace() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::unique_ptr<UpstreamHost> UpstreamHost::create(std::string* why) {
  static std::atomic<int> counter{0};
  const int k = 100 + static_cast<int>((::getpid() + counter++) % 150);
  std::unique_ptr<UpstreamHost> host(new UpstreamHost());
  host->netns_ = "wtest-up" + std::to_string(k);
  host->veth_ = "wtu" + std::to_string(k);
  host->ip_ = "10.201." + std::to_string(k) + ".2";
  const std::string host_ip = "10.201." + std::to_string(k) + ".1";
  runCommand("ip netns del " + host->netns_ + " 2>/dev/null; ip link del " + host->veth_ + " 2>/dev/null");
  const auto setup = runCommand(
      "set -e; ip netns add " + host->netns_ + "; ip link add " + host->veth_ + " type veth peer name eth0 netns " +
      host->netns_ + "; ip addr add " + host_ip + "/30 dev " + host->veth_ + "; ip link set " + host->veth_ +
      " up; ip -n " + host->netns_ + " addr add " + host->ip_ + "/30 dev eth0; ip -n " + host->netns_ +
      " link set eth0 up; ip -n " + host->netns_ + " link set lo up");
  if (setup.status != 0) {
    if (why) *why = "creating the upstream namespace: " + setup.output;
    return nullptr;
  }
  char tmpl[] = "/var/tmp/warden-up.XXXXXX";
  const char* made = ::mkdtemp(tmpl);
  host->root_ = made ? made : "/var/tmp/warden-up.failed";
  writeFile(host->root_ / "status.json", "{\"status\":\"ok\"}\n");
  ChildProcess::Options options;
  options.argv = {"ip", "netns", "exec", host->netns_, "python3", "-u", "-m", "http.server", "8080", "--bind",
                  host->ip_, "--directory", host->root_.string()};
  host->server_ = ChildProcess::start(options, why);
  if (!host->server_ || host->server_->waitForLine("Serving HTTP").empty()) {
    if (why && why->empty()) *why = "python3 http.server did not start: " + (host->server_ ? host->server_->output() : "");
    return nullptr;
  }
  return host;
}

UpstreamHost::~UpstreamHost() {
  server_.reset();
  runCommand("ip netns del " + netns_ + " 2>/dev/null; ip link del " + veth_ + " 2>/dev/null");
  std::error_code ec;
  if (!root_.empty()) std::filesystem::remove_all(root_, ec);
}

std::string UpstreamHost::requestLog() { return server_ ? server_->output() : std::string(); }

std::string sandboxUnavailableReason() {
  if (::geteuid() != 0) return "needs root (namespaces, cgroups, nftables)";
  if (!std::filesystem::exists("/proc/self/ns/net")) return "no network namespaces";
  return "";
}

}  // namespace warden::testing
