#pragma once

// An in-process egress proxy for integration tests: real Server, real audit Pipeline writing to a
// temp log dir, real /proc caller identity, a policy from YAML text. Header-only, included by the
// proxy_*_test.cc files.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "audit/pipeline.h"
#include "common/clock.h"
#include "policy/loader.h"
#include "policy/snapshot.h"
#include "proxy/caller_identity.h"
#include "proxy/server/connection_caller.h"
#include "proxy/server/server.h"
#include "proxy/tls_ca.h"
#include "support/raw_upstream.h"
#include "support/test_env.h"

namespace warden::testing {

class ProxyHarness {
 public:
  // Short timeouts so timeout tests finish quickly; loopback upstreams allowed (where allowed_ips says).
  static proxy::ServerOptions defaultOptions() {
    proxy::ServerOptions o;
    o.listen_address = "127.0.0.1";
    o.listen_port = 0;
    o.threads = 2;
    o.max_connections = 256;
    o.targets.allow_loopback_upstream = true;
    o.timeouts.client_idle = std::chrono::milliseconds(5000);
    o.timeouts.request_head = std::chrono::milliseconds(2000);
    o.timeouts.body_idle = std::chrono::milliseconds(2000);
    o.timeouts.connect = std::chrono::milliseconds(2000);
    o.timeouts.response = std::chrono::milliseconds(3000);
    o.timeouts.write = std::chrono::milliseconds(3000);
    o.timeouts.tunnel_idle = std::chrono::milliseconds(5000);
    return o;
  }

  // Starts the proxy; fails the test (and returns false) when anything does not come up.
  // With TLS termination: a session CA under dir()/ca, trusting `upstream_ca` (a PEM file) for upstreams.
  bool startWithTls(const std::string& policy_yaml, const std::filesystem::path& upstream_ca,
                    proxy::ServerOptions options = defaultOptions()) {
    auto ca = proxy::CertificateAuthority::create(dir_ / "ca");
    if (!ca.ok()) {
      ADD_FAILURE() << "CA: " << ca.error().toString();
      return false;
    }
    ca_ = std::move(ca).value();
    if (!upstream_ca.empty()) {
      auto added = ca_->addTrustedCaFile(upstream_ca);
      if (!added.ok()) {
        ADD_FAILURE() << "trust: " << added.error().toString();
        return false;
      }
    }
    return start(policy_yaml, options);
  }
  const proxy::CertificateAuthority& ca() const { return *ca_; }

  bool start(const std::string& policy_yaml, proxy::ServerOptions options = defaultOptions()) {
    policy_path_ = dir_ / "policy.yaml";
    writeFile(policy_path_, policy_yaml);
    auto loaded = policy::loadPolicyFile(policy_path_);
    if (!loaded.ok()) {
      ADD_FAILURE() << "policy: " << loaded.error().toString();
      return false;
    }
    store_ = std::make_unique<policy::PolicyStore>(std::make_shared<const policy::Policy>(std::move(loaded).value()));
    audit::PipelineOptions po;
    po.log_dir = dir_ / "logs";
    po.session.hostname = "test-host";
    po.session.session_id = "proxy-test-session";
    po.jsonl_enabled = true;
    po.checkpoint_interval = std::chrono::milliseconds(60'000);
    auto pipeline = audit::Pipeline::start(std::move(po));
    if (!pipeline.ok()) {
      ADD_FAILURE() << "pipeline: " << pipeline.error().toString();
      return false;
    }
    pipeline_ = std::move(pipeline).value();
    session_.hostname = "test-host";
    session_.session_id = "proxy-test-session";
    auto resolver = proxy::CallerIdentityResolver::create({});
    proxy::CallerLookup lookup;
    if (resolver.ok()) {
      lookup = proxy::makeProcCallerLookup(std::shared_ptr<proxy::CallerIdentityResolver>(std::move(resolver).value()));
    }
    auto server = proxy::Server::create(options, *store_, *pipeline_, session_, std::move(lookup), ca_);
    if (!server.ok()) {
      ADD_FAILURE() << "server: " << server.error().toString();
      return false;
    }
    server_ = std::move(server).value();
    server_->start();
    return true;
  }

  ~ProxyHarness() {
    if (server_) server_->stop();
    if (pipeline_) (void)pipeline_->close();
  }

  uint16_t port() const { return server_->localEndpoint().port(); }
  std::string url() const { return fmt::format("http://127.0.0.1:{}", port()); }
  proxy::Server& server() { return *server_; }
  policy::PolicyStore& store() { return *store_; }
  audit::Pipeline& pipeline() { return *pipeline_; }
  const ocsf::SessionContext& session() const { return server_->session(); }
  const std::filesystem::path& policyPath() const { return policy_path_; }
  const TempDir& dir() const { return dir_; }

  // warden.log (shorthand + operational lines).
  std::string shorthand() const { return readFileOrEmpty(dir_ / "logs" / "warden.log"); }
  // Waits until warden.log has a line containing every one of `parts`; returns that line ("" if none).
  std::string waitForLine(const std::vector<std::string>& parts,
                          std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
    std::string found;
    waitFor(
        [&] {
          std::istringstream lines(shorthand());
          std::string line;
          while (std::getline(lines, line)) {
            bool all = true;
            for (const auto& p : parts) all = all && line.find(p) != std::string::npos;
            if (all) {
              found = line;
              return true;
            }
          }
          return false;
        },
        timeout);
    return found;
  }
  size_t countLines(const std::vector<std::string>& parts) const {
    std::istringstream lines(shorthand());
    std::string line;
    size_t n = 0;
    while (std::getline(lines, line)) {
      bool all = true;
      for (const auto& p : parts) all = all && line.find(p) != std::string::npos;
      n += all ? 1 : 0;
    }
    return n;
  }
  // warden-ocsf.log, parsed.
  std::vector<nlohmann::json> events() const {
    std::vector<nlohmann::json> out;
    std::istringstream lines(readFileOrEmpty(dir_ / "logs" / "warden-ocsf.log"));
    std::string line;
    while (std::getline(lines, line)) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_discarded()) out.push_back(std::move(j));
    }
    return out;
  }
  nlohmann::json waitForEvent(const std::function<bool(const nlohmann::json&)>& match,
                              std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
    nlohmann::json found;
    waitFor(
        [&] {
          for (auto& e : events()) {
            if (match(e)) {
              found = e;
              return true;
            }
          }
          return false;
        },
        timeout);
    return found;
  }

 private:
  static std::string readFileOrEmpty(const std::filesystem::path& p) {
    std::error_code ec;
    if (!std::filesystem::exists(p, ec)) return "";
    return readFile(p);
  }

  TempDir dir_;
  std::filesystem::path policy_path_;
  std::unique_ptr<policy::PolicyStore> store_;
  std::unique_ptr<audit::Pipeline> pipeline_;
  ocsf::SessionContext session_;
  std::shared_ptr<proxy::CertificateAuthority> ca_;
  std::unique_ptr<proxy::Server> server_;
};

// One raw exchange through the proxy: connect, send `request`, read the answer.
inline std::string exchangeVia(uint16_t proxy_port, const std::string& request,
                               std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const int fd = connectLoopback(proxy_port);
  if (fd < 0) return "";
  sendAll(fd, request);
  std::string out = readResponse(fd, timeout);
  ::close(fd);
  return out;
}

// A CONNECT tunnel through the proxy; returns the fd after "200 Connection Established" (or -1 and
// the answer in *answer).
inline int openTunnel(uint16_t proxy_port, const std::string& target, std::string* answer = nullptr) {
  const int fd = connectLoopback(proxy_port);
  if (fd < 0) return -1;
  sendAll(fd, fmt::format("CONNECT {} HTTP/1.1\r\nHost: {}\r\n\r\n", target, target));
  std::string head = readHead(fd);
  if (statusOf(head) != 200) {
    head += readResponse(fd, std::chrono::seconds(5), false);  // error answers close the connection
    if (answer) *answer = head;
    ::close(fd);
    return -1;
  }
  if (answer) *answer = head;
  return fd;
}

// A single-rule policy: `endpoints_yaml` is the YAML list of endpoints (each line indented 6).
inline std::string policyWith(const std::string& endpoints_yaml, const std::string& rule = "local") {
  return fmt::format("version: 1\nnetwork:\n  {}:\n    endpoints:\n{}    binaries: [ {{ path: \"/**\" }} ]\n", rule,
                     endpoints_yaml);
}

}  // namespace warden::testing
