#pragma once

// Shared helpers for the proxy server unit tests (not a test file itself): an Emitter that collects
// events, a fake caller lookup, a policy from YAML text, and an in-process Server on 127.0.0.1:0.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "audit/emitter.h"
#include "ocsf/jsonl_formatter.h"
#include "ocsf/schema.h"
#include "ocsf/shorthand.h"
#include "ocsf/validator.h"
#include "policy/loader.h"
#include "policy/snapshot.h"
#include "proxy/server/server.h"
#include "support/raw_upstream.h"
#include "support/test_env.h"

namespace warden::proxy::testutil {

// Collects every event (thread-safe); the shorthand of each is what warden.log would show.
class CollectingEmitter final : public audit::Emitter {
 public:
  void emit(ocsf::Event&& event) override {
    std::lock_guard lock(mu_);
    event.metadata.sequence = events_.size() + 1;
    event.integrity_prev = std::string(64, '0');
    events_.push_back(std::move(event));
  }
  void operational(audit::Level, std::string_view component, std::string_view message) override {
    std::lock_guard lock(mu_);
    operational_.push_back(fmt::format("{}: {}", component, message));
  }
  std::vector<ocsf::Event> events() const {
    std::lock_guard lock(mu_);
    return events_;
  }
  std::vector<std::string> shorthand() const {
    std::vector<std::string> out;
    for (const auto& e : events()) out.push_back(ocsf::toShorthand(e));
    return out;
  }
  std::string allShorthand() const {
    std::string out;
    for (const auto& line : shorthand()) out += line + "\n";
    return out;
  }
  // The first event whose shorthand contains every part; nullopt if none (yet).
  std::optional<ocsf::Event> find(const std::vector<std::string>& parts) const {
    for (const auto& e : events()) {
      const std::string line = ocsf::toShorthand(e);
      bool all = true;
      for (const auto& p : parts) all = all && line.find(p) != std::string::npos;
      if (all) return e;
    }
    return std::nullopt;
  }
  std::optional<ocsf::Event> waitFor(const std::vector<std::string>& parts,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
    std::optional<ocsf::Event> found;
    warden::testing::waitFor([&] { return (found = find(parts)).has_value(); }, timeout);
    return found;
  }

 private:
  mutable std::mutex mu_;
  std::vector<ocsf::Event> events_;        // Guarded by mu_.
  std::vector<std::string> operational_;   // Guarded by mu_.
};

// Problems the OCSF 1.7.0 schema finds in `event` ("" when it validates).
inline std::string schemaProblems(const ocsf::Event& event) {
  static const auto schema = [] {
    auto loaded = ocsf::Schema::load(warden::testing::schemaPath());
    EXPECT_TRUE(loaded.ok()) << loaded.error().toString();
    return loaded.ok() ? std::make_shared<ocsf::Schema>(std::move(loaded).value()) : nullptr;
  }();
  if (!schema) return "schema not loaded";
  const ocsf::Validator validator(*schema);
  std::string report;
  for (const auto& p : validator.validateLine(ocsf::toJsonl(event))) report += p.path + ": " + p.message + "\n";
  return report;
}

inline std::shared_ptr<const policy::Policy> policyFrom(const std::string& yaml) {
  policy::Diagnostics d;
  auto p = policy::loadPolicyText(yaml, "test.yaml", &d);
  EXPECT_TRUE(p.ok()) << d.toString();
  return std::make_shared<const policy::Policy>(p.ok() ? std::move(p).value() : policy::Policy{});
}

// One rule `rule` allowing 127.0.0.1:`port` (L4 only unless `extra` adds e.g. protocol/access) for
// /usr/bin/curl.
inline std::string loopbackPolicy(uint16_t port, const std::string& rule = "local", const std::string& extra = "") {
  return fmt::format(
      "version: 1\nnetwork:\n  {}:\n    endpoints:\n      - {{ host: 127.0.0.1, ports: [{}], allowed_ips: "
      "[127.0.0.0/8]{} }}\n    binaries: [ {{ path: /usr/bin/curl }} ]\n",
      rule, port, extra);
}

// Every caller is /usr/bin/curl (pid 4242).
inline CallerLookup fakeCurl() {
  return [](const boost::asio::ip::tcp::endpoint&, const boost::asio::ip::tcp::endpoint&) -> std::optional<CallerInfo> {
    CallerInfo c;
    c.pid = 4242;
    c.name = "curl";
    c.executable = "/usr/bin/curl";
    c.ancestors = {"/usr/bin/bash"};
    return c;
  };
}

inline ServerOptions testOptions() {
  ServerOptions o;
  o.listen_address = "127.0.0.1";
  o.listen_port = 0;
  o.threads = 2;
  o.lookup_threads = 0;
  o.max_connections = 64;
  o.targets.allow_loopback_upstream = true;
  o.timeouts.client_idle = std::chrono::milliseconds(5000);
  o.timeouts.request_head = std::chrono::milliseconds(2000);
  o.timeouts.body_idle = std::chrono::milliseconds(2000);
  o.timeouts.connect = std::chrono::milliseconds(2000);
  o.timeouts.response = std::chrono::milliseconds(3000);
  o.timeouts.tunnel_idle = std::chrono::milliseconds(10000);
  o.stop_grace = std::chrono::milliseconds(3000);
  return o;
}

// An in-process proxy with a collecting emitter; stopped by the destructor.
struct TestProxy {
  explicit TestProxy(const std::string& policy_yaml, ServerOptions options = testOptions())
      : store(policyFrom(policy_yaml)) {
    session.hostname = "test-host";
    session.session_id = "proxy-server-unit";
    auto created = Server::create(options, store, emitter, session, fakeCurl());
    EXPECT_TRUE(created.ok()) << created.error().toString();
    if (created.ok()) {
      server = std::move(created).value();
      server->start();
    }
  }
  ~TestProxy() {
    if (server) server->stop();
  }
  uint16_t port() const { return server->localEndpoint().port(); }

  policy::PolicyStore store;
  CollectingEmitter emitter;
  ocsf::SessionContext session;
  std::unique_ptr<Server> server;
};

}  // namespace warden::proxy::testutil
