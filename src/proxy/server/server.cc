#include "proxy/server/server.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "proxy/inspect/inspection.h"
#include "proxy/server/responses.h"

namespace warden::proxy {

namespace asio = boost::asio;
using asio::ip::tcp;

Server::Server(ServerOptions options, const ocsf::SessionContext& session)
    : options_(std::move(options)), session_(session) {}

Server::~Server() { stop(); }

Result<std::unique_ptr<Server>> Server::create(ServerOptions options, policy::PolicyStore& policies,
                                               audit::Emitter& emitter, const ocsf::SessionContext& session,
                                               CallerLookup caller_lookup, std::shared_ptr<CertificateAuthority> tls,
                                               const Clock* clock) {
  boost::system::error_code ec;
  const asio::ip::address address = asio::ip::make_address(options.listen_address, ec);
  if (ec) return invalidArgument(fmt::format("listen address '{}' is not an IP address", options.listen_address));
  if (options.max_connections == 0) return invalidArgument("max connections must be at least 1");
  int threads = options.threads;
  if (threads <= 0) threads = static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 4u));

  std::unique_ptr<Server> server(new Server(std::move(options), session));
  for (int i = 0; i < threads; ++i) {
    server->contexts_.push_back(std::make_unique<asio::io_context>(1));
    server->guards_.push_back(asio::make_work_guard(*server->contexts_.back()));
  }
  auto acceptor = std::make_unique<tcp::acceptor>(*server->contexts_.front());
  const tcp::endpoint endpoint(address, server->options_.listen_port);
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return errnoError(fmt::format("listen on {}:{}", server->options_.listen_address, server->options_.listen_port),
                      ec.value());
  }
  server->local_ = acceptor->local_endpoint(ec);
  server->acceptor_ = std::move(acceptor);

  server->session_.proxy.ip = server->local_.address().to_string();
  server->session_.proxy.port = server->local_.port();
  ProxyServices& s = server->services_;
  s.timeouts = server->options_.timeouts;
  s.targets = server->options_.targets;
  s.policies = &policies;
  s.emitter = &emitter;
  s.session = &server->session_;
  s.clock = clock != nullptr ? clock : &SystemClock::instance();
  s.caller_lookup = std::move(caller_lookup);
  if (s.caller_lookup && server->options_.lookup_threads > 0) {
    server->lookup_pool_ = std::make_unique<asio::thread_pool>(static_cast<size_t>(server->options_.lookup_threads));
    s.lookup_pool = server->lookup_pool_.get();
  }
  s.tls = std::move(tls);
  s.registry = &server->registry_;
  s.inspection = std::make_shared<inspect::Inspection>(inspect::Recorder{&emitter, &server->session_, s.clock},
                                                       server->options_.credentials);
  return server;
}

std::string Server::localAddress() const {
  if (local_.address().is_v6()) return fmt::format("[{}]:{}", local_.address().to_string(), local_.port());
  return fmt::format("{}:{}", local_.address().to_string(), local_.port());
}

void Server::start() {
  std::lock_guard lock(lifecycle_mu_);
  if (started_ || stopped_) return;
  started_ = true;
  ocsf::Endpoint listen{.ip = local_.address().to_string(), .port = local_.port()};
  services_.emitter->emit(ocsf::netListen(session_, services_.clock->nowMillis(), listen));
  policy_listener_ = services_.policies->addListener([this](const std::shared_ptr<const policy::Policy>& p, uint64_t) {
    const size_t closed = registry_.recheck(*p);
    if (closed > 0) {
      services_.emitter->operational(audit::Level::kInfo, "proxy",
                                     fmt::format("policy reload: closing {} connection{} no longer allowed", closed,
                                                 closed == 1 ? "" : "s"));
    }
  });
  asio::co_spawn(*contexts_.front(), acceptLoop(), asio::detached);
  for (auto& context : contexts_) {
    threads_.emplace_back([ctx = context.get()] { ctx->run(); });
  }
}

void Server::stop() {
  std::lock_guard lock(lifecycle_mu_);
  if (stopped_) return;
  stopped_ = true;
  if (policy_listener_ != 0) {
    services_.policies->removeListener(policy_listener_);
    policy_listener_ = 0;
  }
  if (!contexts_.empty()) {
    // Close the acceptor on its own thread, then let every context finish.
    asio::post(*contexts_.front(), [this] {
      boost::system::error_code ignored;
      if (acceptor_) acceptor_->close(ignored);
    });
  }
  if (started_) {
    // Close every connection (and any accepted meanwhile) while the threads still run, so each
    // records its NET:CLOSE; wait for them, bounded.
    registry_.closeAll("the proxy is stopping");
    std::unique_lock drain(drain_mu_);
    const bool drained = drained_.wait_for(drain, options_.stop_grace, [this] {
      return active_.load(std::memory_order_acquire) == 0;
    });
    if (!drained) {
      services_.emitter->operational(
          audit::Level::kWarn, "proxy",
          fmt::format("stop: {} connection(s) did not end within {} ms; they are dropped without NET:CLOSE",
                      active_.load(), options_.stop_grace.count()));
    }
  }
  for (auto& guard : guards_) guard.reset();
  for (auto& context : contexts_) context->stop();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
  // Lookups in flight finish (they post their results to the stopped contexts, where they are
  // dropped); queued ones are abandoned. Before the contexts go: the work holds their executors.
  if (lookup_pool_) {
    lookup_pool_->stop();
    lookup_pool_->join();
    services_.lookup_pool = nullptr;
    lookup_pool_.reset();
  }
  // Destroying the contexts destroys the connections' coroutine frames (and closes their sockets)
  // before the services they borrow go away.
  acceptor_.reset();
  contexts_.clear();
}

asio::awaitable<void> Server::acceptLoop() {
  for (;;) {
    asio::io_context& context = *contexts_[next_context_];
    next_context_ = (next_context_ + 1) % contexts_.size();
    auto [ec, socket] = co_await acceptor_->async_accept(context, asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_->is_open()) co_return;
      // EMFILE/ENFILE and the like: say so, back off briefly, keep serving.
      services_.emitter->operational(audit::Level::kWarn, "proxy", fmt::format("accept failed: {}", ec.message()));
      asio::steady_timer backoff(co_await asio::this_coro::executor, std::chrono::milliseconds(50));
      co_await backoff.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    if (active_.load(std::memory_order_relaxed) >= options_.max_connections) {
      refused_.fetch_add(1, std::memory_order_relaxed);
      asio::co_spawn(context, refuse(std::move(socket)), asio::detached);
      continue;
    }
    active_.fetch_add(1, std::memory_order_relaxed);
    asio::co_spawn(
        context,
        [this, s = std::move(socket)]() mutable -> asio::awaitable<void> {
          struct Release {
            Server& server;
            ~Release() { server.connectionEnded(); }
          } release{*this};
          co_await serveConnection(services_, std::move(s));
        },
        asio::detached);
  }
}

void Server::connectionEnded() {
  {
    std::lock_guard lock(drain_mu_);
    active_.fetch_sub(1, std::memory_order_acq_rel);
  }
  drained_.notify_all();
}

asio::awaitable<void> Server::refuse(tcp::socket socket) {
  using namespace asio::experimental::awaitable_operators;
  boost::system::error_code ec;
  const tcp::endpoint peer = socket.remote_endpoint(ec);
  const std::string detail = fmt::format("the proxy is at its connection limit ({}); retry later",
                                         options_.max_connections);
  ocsf::Connection conn;
  conn.src.ip = peer.address().to_string();
  conn.src.port = peer.port();
  services_.emitter->emit(ocsf::netOpen(session_, services_.clock->nowMillis(), conn,
                                        ocsf::Decision{ocsf::Action::kDenied, "-", "limit",
                                                       fmt::format("connection limit {} reached", options_.max_connections)}));
  const std::string response =
      errorResponse(503, ErrorBody{"connection_limit", detail, "connection_limit", ""});
  asio::steady_timer timer(socket.get_executor(), std::chrono::seconds(2));
  co_await (asio::async_write(socket, asio::buffer(response), asio::as_tuple(asio::use_awaitable)) ||
            timer.async_wait(asio::as_tuple(asio::use_awaitable)));
  socket.shutdown(tcp::socket::shutdown_send, ec);
  socket.close(ec);
}

}  // namespace warden::proxy
