#pragma once

// One client connection of the egress proxy: the services every connection borrows, and the
// coroutine that serves a connection from accept to NET:CLOSE.

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "audit/emitter.h"
#include "common/clock.h"
#include "ocsf/builders.h"
#include "policy/engine.h"
#include "policy/snapshot.h"
#include "proxy/server/resolver.h"

namespace warden::proxy {

class ConnectionRegistry;    // proxy/server/connection_registry.h
namespace inspect {
class Inspection;  // proxy/inspect/inspection.h: packages, MCP, model calls, credentials
}
class CertificateAuthority;  // proxy/tls_ca.h: TLS termination (absent: TLS to L7 endpoints fails closed)

// Who is on the other end of an accepted socket (sandbox.md "Caller identity"). Filled by a
// CallerLookup: the /proc lookup in production, a fake in tests.
struct CallerInfo {
  int64_t pid = 0;
  // The executable's basename (comm only when the executable is unknown: comm is the process's own
  // label, and `python3` may call itself `git`).
  std::string name;
  std::string executable;              // /proc/<pid>/exe target
  std::optional<int64_t> uid;
  std::string cmd_line;
  std::vector<std::string> ancestors;  // ancestors' executables, nearest first
  bool binary_changed = false;         // the executable's SHA-256 differs from its first use
  std::string binary_change_detail;
  std::vector<std::string> injection;  // signs of injected code (LD_PRELOAD, fileless code...); empty: none
  size_t anonymous_exec_mappings = 0;  // executable memory without a file (JIT runtimes): recorded only
  std::vector<CallerInfo> other_holders;  // every other process holding the socket, oldest first
  // Set when /proc missed and the kernel capture named the caller (proxy/capture_attribution.h): for
  // the record only; connectRequestFor() then gives the policy no caller at all.
  std::string attribution;
};

// The policy's view of a connection's callers: the caller and every other holder of its socket. A
// caller named only by the kernel capture (`attribution` set) is no caller: no binary rule matches it.
policy::ConnectRequest connectRequestFor(std::string host, uint16_t port, const std::optional<CallerInfo>& caller);

// Looks up the caller of a connection from its 4-tuple. May block (it reads /proc); called once per
// connection, on ProxyServices::lookup_pool when there is one (else on the connection's thread).
// Must be thread-safe. nullopt when unknown.
using CallerLookup = std::function<std::optional<CallerInfo>(const boost::asio::ip::tcp::endpoint& peer,
                                                             const boost::asio::ip::tcp::endpoint& local)>;

// Every wait a connection makes is bounded by one of these.
struct ProxyTimeouts {
  std::chrono::milliseconds client_idle{60'000};    // before a request's first byte (keep-alive idle)
  std::chrono::milliseconds request_head{10'000};   // first byte to the end of the head (slowloris)
  std::chrono::milliseconds body_idle{30'000};      // a request body stalls
  std::chrono::milliseconds resolve{5'000};
  std::chrono::milliseconds connect{10'000};
  std::chrono::milliseconds response{60'000};       // request sent -> response head; body stalls
  std::chrono::milliseconds write{30'000};          // a peer does not read
  std::chrono::milliseconds tls_handshake{10'000};
  std::chrono::milliseconds tunnel_idle{600'000};   // raw tunnels and upgraded connections
};

// What every connection of one proxy shares. Owned by the Server, borrowed by connections; it
// outlives them. Thread-safe: connections on every io thread read it at once (PolicyStore and the
// Emitter are thread-safe; the rest is immutable after start).
struct ProxyServices {
  ProxyTimeouts timeouts;
  TargetPolicy targets;
  policy::PolicyStore* policies = nullptr;
  audit::Emitter* emitter = nullptr;
  const ocsf::SessionContext* session = nullptr;
  const Clock* clock = nullptr;
  CallerLookup caller_lookup;     // may be empty: callers are unknown (no binary rule can match)
  boost::asio::thread_pool* lookup_pool = nullptr;  // runs caller_lookup off the io threads; may be null
  std::shared_ptr<CertificateAuthority> tls;  // may be null: no TLS termination
  std::shared_ptr<inspect::Inspection> inspection;  // what the proxy understands above HTTP; may be null
  // Live connections, for closing on reload and stop; may be null (nothing is registered).
  ConnectionRegistry* registry = nullptr;
  std::atomic<uint64_t> connections_served{0};
};

// Serves one accepted client connection: the first request head decides CONNECT (tunnel) or forward
// proxying; ends with NET:CLOSE. Runs on the socket's executor; owns `client` and everything it opens.
// Never throws (a stray exception from a third-party call is caught and logged).
boost::asio::awaitable<void> serveConnection(ProxyServices& services, boost::asio::ip::tcp::socket client);

}  // namespace warden::proxy
