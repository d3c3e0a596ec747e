#pragma once

// The egress proxy's listener: accepts agent connections and hands each to its own coroutine
// (connection.h) on one of N single-threaded io_contexts.

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "audit/emitter.h"
#include "common/clock.h"
#include "common/result.h"
#include "ocsf/builders.h"
#include "policy/snapshot.h"
#include "proxy/server/connection.h"
#include "proxy/server/connection_registry.h"
#include "proxy/inspect/credentials.h"

namespace warden::proxy {

struct ServerOptions {
  std::string listen_address = "127.0.0.1";  // an IP literal
  uint16_t listen_port = 3128;               // 0: any free port (see localEndpoint())
  size_t max_connections = 4096;             // beyond it: 503 JSON and a NET:OPEN DENIED event
  int threads = 0;                           // io threads; 0: hardware concurrency, at most 4
  int lookup_threads = 2;                    // caller-lookup workers (blocking /proc reads); 0: inline
  ProxyTimeouts timeouts;
  TargetPolicy targets;
  // stop() waits this long for the connections it closes to record their NET:CLOSE; connections
  // still running after it are destroyed without one (an operational line counts them).
  std::chrono::milliseconds stop_grace{3000};
  // Credentials the agent never holds (proxy/inspect/credentials.h); null or empty: none.
  std::shared_ptr<const inspect::CredentialVault> credentials;
};

// Owns the acceptor, the io_contexts and their threads, and the caller-lookup pool (lookups block on
// /proc, so they never run on an io thread). Each io_context is run by exactly one thread,
// so a connection (which lives on one io_context) is single-threaded and needs no strand; the
// acceptor spreads connections round-robin. Borrows the PolicyStore, Emitter and Clock (they must
// outlive the Server); keeps its own copy of the SessionContext with `proxy` set to the bound address.
//
// Every live connection is in a ConnectionRegistry. While started, the Server listens to the
// PolicyStore: on each swap (on the swapping thread) it re-decides every connection against the new
// policy and closes those no longer allowed — raw tunnels and upgraded relays too — each with a
// NET:CLOSE that says why.
//
// Lifecycle: create() binds and listens (errors: address in use, permission); start() emits
// NET:LISTEN and starts the threads; stop() (idempotent, also run by the destructor) closes the
// acceptor, closes every connection and waits (at most stop_grace) until each has recorded its
// NET:CLOSE, then joins the threads. Public methods are thread-safe.
class Server {
 public:
  static Result<std::unique_ptr<Server>> create(ServerOptions options, policy::PolicyStore& policies,
                                                audit::Emitter& emitter, const ocsf::SessionContext& session,
                                                CallerLookup caller_lookup = {},
                                                std::shared_ptr<CertificateAuthority> tls = nullptr,
                                                const Clock* clock = nullptr);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  void start();
  void stop();

  boost::asio::ip::tcp::endpoint localEndpoint() const { return local_; }
  // "127.0.0.1:3128" / "[::1]:3128".
  std::string localAddress() const;
  size_t activeConnections() const { return active_.load(std::memory_order_relaxed); }
  // Connections in the registry (accepted and not yet ended).
  size_t registeredConnections() const { return registry_.size(); }
  uint64_t refusedConnections() const { return refused_.load(std::memory_order_relaxed); }
  const ocsf::SessionContext& session() const { return session_; }

 private:
  Server(ServerOptions options, const ocsf::SessionContext& session);
  boost::asio::awaitable<void> acceptLoop();
  boost::asio::awaitable<void> refuse(boost::asio::ip::tcp::socket socket);

  void connectionEnded();

  ServerOptions options_;
  ocsf::SessionContext session_;
  ConnectionRegistry registry_;  // outlives the contexts (and so every connection's Handle)
  ProxyServices services_;
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;  // [0] also runs the acceptor
  std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guards_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  boost::asio::ip::tcp::endpoint local_;
  std::vector<std::thread> threads_;
  std::unique_ptr<boost::asio::thread_pool> lookup_pool_;  // null with lookup_threads 0 or no lookup
  size_t next_context_ = 0;  // used by the accept loop only
  std::atomic<size_t> active_{0};
  std::atomic<uint64_t> refused_{0};
  std::mutex drain_mu_;                // with drained_: stop() waits for active_ to reach 0
  std::condition_variable drained_;
  std::mutex lifecycle_mu_;
  bool started_ = false;  // Guarded by lifecycle_mu_.
  bool stopped_ = false;  // Guarded by lifecycle_mu_.
  uint64_t policy_listener_ = 0;  // Guarded by lifecycle_mu_; 0: none
};

}  // namespace warden::proxy
