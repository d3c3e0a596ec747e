#include "proxy/server/dns_resolver.h"

#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <exception>
#include <fstream>
#include <sstream>

#include "common/clock.h"
#include "common/ip_address.h"
#include "policy/engine.h"

namespace warden::proxy {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr size_t kMaxMessageBytes = 65535;

// Runs a coroutine to completion without ever letting an exception reach io_context::run().
void spawn(asio::io_context& io, asio::awaitable<void> work) {
  asio::co_spawn(io, std::move(work), [](const std::exception_ptr&) {});
}

Error socketError(std::string_view what, const boost::system::error_code& ec) {
  if (ec.category() == boost::system::system_category()) return errnoError(what, ec.value());
  return unavailable(fmt::format("{}: {}", what, ec.message()));
}

// The query's id, name, type and class must come back in the answer (RFC 5452 section 9.1).
bool answers(const DnsMessage& query, const DnsMessage& reply) {
  if (!reply.is_response || reply.id != query.id || reply.opcode != query.opcode) return false;
  if (reply.questions.size() != 1) return false;
  const DnsQuestion& q = query.questions.front();
  const DnsQuestion& r = reply.questions.front();
  return q.name == r.name && q.type == r.type && q.klass == r.klass;
}

}  // namespace

// A caller lookup running on the pool; the io thread waits for it with a deadline. Touched on the io
// thread only (the pool thread holds a weak_ptr and posts back).
struct DnsResolver::PendingCaller {
  explicit PendingCaller(const asio::any_io_executor& executor) : timer(executor) {}
  asio::steady_timer timer;  // expires at the lookup's deadline; cancelled when the result arrives
  std::optional<ocsf::Process> result;
  bool done = false;
};

DnsResolver::DnsResolver(DnsResolverOptions options, audit::Emitter& emitter, const ocsf::SessionContext& session,
                         CallerLookup caller, const policy::PolicyStore* policies)
    : options_(std::move(options)),
      emitter_(emitter),
      session_(session),
      caller_(std::move(caller)),
      policies_(policies),
      tunnel_(options_.tunnel) {}

Result<std::unique_ptr<DnsResolver>> DnsResolver::create(DnsResolverOptions options, audit::Emitter& emitter,
                                                         const ocsf::SessionContext& session, CallerLookup caller,
                                                         const policy::PolicyStore* policies) {
  const auto listen = IpAddress::parse(options.listen_address);
  if (!listen) {
    return invalidArgument(fmt::format("dns resolver: listen address '{}' is not an IP address", options.listen_address));
  }
  if (options.max_in_flight == 0) return invalidArgument("dns resolver: max_in_flight must be positive");
  if (options.upstream_timeout.count() <= 0) return invalidArgument("dns resolver: upstream_timeout must be positive");
  std::vector<std::string> upstream_texts = options.upstreams;
  if (upstream_texts.empty()) {
    std::ifstream in(options.resolv_conf);
    if (!in) return notFound(fmt::format("dns resolver: no upstreams given and {} is unreadable", options.resolv_conf));
    std::stringstream text;
    text << in.rdbuf();
    upstream_texts = resolvConfNameservers(text.str());
    if (upstream_texts.empty()) {
      return failedPrecondition(
          fmt::format("dns resolver: no upstreams given and {} names no nameserver", options.resolv_conf));
    }
  }
  std::unique_ptr<DnsResolver> r(
      new DnsResolver(std::move(options), emitter, session, std::move(caller), policies));
  for (const auto& text : upstream_texts) {
    auto endpoint = parseDnsUpstream(text);
    if (!endpoint.ok()) return endpoint.error().withContext("dns resolver");
    r->upstreams_.push_back(*endpoint);
  }

  boost::system::error_code ec;
  const auto address = asio::ip::make_address(listen->toString(), ec);
  if (ec) return invalidArgument(fmt::format("dns resolver: listen address: {}", ec.message()));
  r->io_ = std::make_unique<asio::io_context>(1);
  const std::string where = fmt::format("{}:{}", r->options_.listen_address, r->options_.listen_port);

  r->udp_ = std::make_unique<udp::socket>(*r->io_);
  const udp::endpoint udp_at(address, r->options_.listen_port);
  if (r->udp_->open(udp_at.protocol(), ec); ec) return socketError("dns resolver: udp socket", ec);
  if (r->udp_->bind(udp_at, ec); ec) return socketError(fmt::format("dns resolver: bind udp {}", where), ec);
  r->udp_port_ = r->udp_->local_endpoint(ec).port();
  if (ec) return socketError("dns resolver: udp local_endpoint", ec);

  // TCP on the same port; with port 0 asked, the UDP port if it is free for TCP too, else any.
  auto bind_tcp = [&](uint16_t port) -> Result<void> {
    auto acceptor = std::make_unique<tcp::acceptor>(*r->io_);
    const tcp::endpoint at(address, port);
    boost::system::error_code bec;
    if (acceptor->open(at.protocol(), bec); bec) return socketError("dns resolver: tcp socket", bec);
    acceptor->set_option(asio::socket_base::reuse_address(true), bec);
    if (acceptor->bind(at, bec); bec) return socketError(fmt::format("dns resolver: bind tcp {}", where), bec);
    if (acceptor->listen(asio::socket_base::max_listen_connections, bec); bec) {
      return socketError("dns resolver: listen", bec);
    }
    r->tcp_port_ = acceptor->local_endpoint(bec).port();
    if (bec) return socketError("dns resolver: tcp local_endpoint", bec);
    r->tcp_ = std::move(acceptor);
    return okResult();
  };
  auto bound = bind_tcp(r->udp_port_);
  if (!bound.ok() && r->options_.listen_port == 0) bound = bind_tcp(0);
  if (!bound.ok()) return bound.error();

  for (const auto& upstream : r->upstreams_) {
    if (upstream.address() == address && (upstream.port() == r->udp_port_ || upstream.port() == r->tcp_port_)) {
      return invalidArgument(fmt::format("dns resolver: upstream {} is the resolver itself", formatDnsEndpoint(upstream)));
    }
  }
  r->self_.ip = listen->toString();
  r->self_.port = r->udp_port_;
  r->listen_udp_ = udp::endpoint(address, r->udp_port_);
  if (r->caller_ && r->options_.lookup_threads > 0) {
    r->lookup_pool_ = std::make_unique<asio::thread_pool>(static_cast<size_t>(r->options_.lookup_threads));
  }
  return r;
}

DnsResolver::~DnsResolver() { stop(); }

void DnsResolver::start() {
  std::lock_guard lock(lifecycle_mu_);
  if (started_ || stopped_) return;
  started_ = true;
  spawn(*io_, udpLoop());
  spawn(*io_, tcpAcceptLoop());
  spawn(*io_, flushLoop());
  thread_ = std::thread([this] {
    for (;;) {
      try {
        io_->run();
        return;
      } catch (...) {
        // Handlers never throw by construction; if a third-party one does, keep serving.
      }
    }
  });
}

void DnsResolver::stop() {
  std::lock_guard lock(lifecycle_mu_);
  if (stopped_) return;
  stopped_ = true;
  if (io_) {
    asio::post(*io_, [this] {
      boost::system::error_code ignored;
      if (udp_) udp_->close(ignored);
      if (tcp_) tcp_->close(ignored);
    });
    io_->stop();
  }
  if (thread_.joinable()) thread_.join();
  if (lookup_pool_) {
    lookup_pool_->stop();  // lookups not yet started are dropped; their queries are gone with io_
    lookup_pool_->join();  // a running one finishes; it posts to io_, which no longer runs
  }
  flushRefusals();  // the last second's counts (the io thread has ended: no one else touches them)
  // Sockets before their io_context; the io_context's destructor then destroys the suspended
  // coroutines (which hold their own sockets and reference only members still alive here).
  udp_.reset();
  tcp_.reset();
  io_.reset();
  lookup_pool_.reset();
}

// ----- UDP -----

asio::awaitable<void> DnsResolver::udpLoop() {
  std::vector<uint8_t> buffer(kMaxMessageBytes);
  for (;;) {
    udp::endpoint client;
    auto [ec, n] = co_await udp_->async_receive_from(asio::buffer(buffer), client, kTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !udp_->is_open()) co_return;
      continue;  // a transient error (ICMP feedback, ENOBUFS): keep serving
    }
    queries_.fetch_add(1, std::memory_order_relaxed);
    std::vector<uint8_t> query(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n));
    if (in_flight_ >= options_.max_in_flight) {
      refuseQuery(client, query);  // counted before the client can see the answer
      const auto reply = buildErrorResponse(query, kDnsRefused);
      if (!reply.empty()) {
        boost::system::error_code send_ec;
        udp_->send_to(asio::buffer(reply), client, 0, send_ec);  // non-blocking in practice; a drop is fine
      }
      continue;
    }
    ++in_flight_;
    std::shared_ptr<PendingCaller> pending;
    if (caller_) pending = startCallerLookup(client, listen_udp_, false);
    spawn(*io_, [](DnsResolver* self, std::vector<uint8_t> q, udp::endpoint from,
                   std::shared_ptr<PendingCaller> caller) -> asio::awaitable<void> {
      struct Done {
        size_t& n;
        ~Done() { --n; }
      } done{self->in_flight_};
      const auto reply = co_await self->handle(std::move(q), from, false, caller);
      if (!reply.empty() && self->udp_->is_open()) {
        co_await self->udp_->async_send_to(asio::buffer(reply), from, kTuple);
      }
    }(this, std::move(query), client, std::move(pending)));
  }
}

// ----- TCP (RFC 7766) -----

asio::awaitable<void> DnsResolver::tcpAcceptLoop() {
  for (;;) {
    auto [ec, socket] = co_await tcp_->async_accept(kTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !tcp_->is_open()) co_return;
      continue;  // EMFILE, ECONNABORTED: keep accepting
    }
    if (tcp_sessions_ >= options_.max_in_flight) {
      boost::system::error_code ignored;
      const tcp::endpoint peer = socket.remote_endpoint(ignored);
      socket.close(ignored);  // bounded: an idle TCP connection holds an fd and a buffer
      refuseConnection(peer);
      continue;
    }
    spawn(*io_, tcpSession(std::move(socket)));
  }
}

asio::awaitable<void> DnsResolver::tcpSession(tcp::socket socket) {
  using namespace asio::experimental::awaitable_operators;
  ++tcp_sessions_;
  struct Done {
    size_t& n;
    ~Done() { --n; }
  } done{tcp_sessions_};
  boost::system::error_code ec;
  const tcp::endpoint peer = socket.remote_endpoint(ec);
  if (ec) co_return;
  const udp::endpoint client(peer.address(), peer.port());
  const tcp::endpoint local = socket.local_endpoint(ec);
  if (ec) co_return;
  // One caller lookup for the connection: every query on it has the same caller.
  std::shared_ptr<PendingCaller> caller;
  if (caller_) caller = startCallerLookup(client, udp::endpoint(local.address(), local.port()), true);
  asio::steady_timer timer(socket.get_executor());
  std::vector<uint8_t> query;
  for (;;) {
    // Length prefix, then the message; the whole read is bounded by the idle timeout.
    uint8_t prefix[2];
    timer.expires_after(options_.tcp_idle_timeout);
    auto got = co_await (asio::async_read(socket, asio::buffer(prefix), kTuple) || timer.async_wait(kTuple));
    if (got.index() != 0 || std::get<0>(std::get<0>(got))) co_return;  // idle, closed or reset
    const size_t length = (size_t{prefix[0]} << 8) | prefix[1];
    query.assign(length, 0);
    if (length > 0) {
      auto body = co_await (asio::async_read(socket, asio::buffer(query), kTuple) || timer.async_wait(kTuple));
      if (body.index() != 0 || std::get<0>(std::get<0>(body))) co_return;
    }
    queries_.fetch_add(1, std::memory_order_relaxed);
    std::vector<uint8_t> reply;
    if (in_flight_ >= options_.max_in_flight) {
      reply = buildErrorResponse(query, kDnsRefused);
      refuseQuery(client, query);
    } else {
      ++in_flight_;
      struct InFlight {
        size_t& n;
        ~InFlight() { --n; }
      } in_flight{in_flight_};
      reply = co_await handle(std::move(query), client, true, caller);
    }
    if (reply.empty()) co_return;  // nothing to answer (no header): close, as RFC 7766 allows
    if (reply.size() > kMaxMessageBytes) co_return;
    std::vector<uint8_t> framed;
    framed.reserve(reply.size() + 2);
    framed.push_back(static_cast<uint8_t>(reply.size() >> 8));
    framed.push_back(static_cast<uint8_t>(reply.size() & 0xFF));
    framed.insert(framed.end(), reply.begin(), reply.end());
    timer.expires_after(options_.tcp_idle_timeout);
    auto wrote = co_await (asio::async_write(socket, asio::buffer(framed), kTuple) || timer.async_wait(kTuple));
    if (wrote.index() != 0 || std::get<0>(std::get<0>(wrote))) co_return;
    query.clear();
  }
}

// ----- One query -----

std::shared_ptr<DnsResolver::PendingCaller> DnsResolver::startCallerLookup(const udp::endpoint& client,
                                                                            const udp::endpoint& server, bool tcp) {
  auto pending = std::make_shared<PendingCaller>(io_->get_executor());
  pending->timer.expires_after(options_.caller_lookup_timeout);
  auto run = [lookup = caller_, client, server, tcp]() noexcept -> std::optional<ocsf::Process> {
    try {
      return lookup(client, server, tcp);
    } catch (...) {
      return std::nullopt;  // a lookup must not throw; if one does, the caller is unknown
    }
  };
  if (!lookup_pool_) {
    pending->result = run();
    pending->done = true;
    return pending;
  }
  asio::post(*lookup_pool_, [run, executor = pending->timer.get_executor(), weak = std::weak_ptr(pending)]() {
    std::optional<ocsf::Process> result = run();
    asio::post(executor, [weak, result = std::move(result)]() mutable {
      if (auto p = weak.lock()) {
        p->result = std::move(result);
        p->done = true;
        p->timer.cancel();
      }
    });
  });
  return pending;
}

asio::awaitable<std::optional<ocsf::Process>> DnsResolver::awaitCaller(std::shared_ptr<PendingCaller> pending) {
  if (!pending) co_return std::nullopt;
  while (!pending->done) {
    auto [ec] = co_await pending->timer.async_wait(kTuple);
    if (!ec) break;  // the deadline passed
  }
  if (!pending->done) co_return std::nullopt;
  co_return pending->result;
}

asio::awaitable<std::vector<uint8_t>> DnsResolver::handle(std::vector<uint8_t> query, udp::endpoint client, bool tcp,
                                                          std::shared_ptr<PendingCaller> caller) {
  auto parsed = parseDnsMessage(query);
  if (!parsed.ok()) {
    // Answer FORMERR when there is a header to answer to and it is a query (never answer a response:
    // that is how reflection loops start).
    const bool answerable = query.size() >= kDnsHeaderBytes && (query[2] & 0x80) == 0;
    recordMalformed(client, tcp, parsed.error().message(), answerable);
    co_return answerable ? buildErrorResponse(query, kDnsFormErr) : std::vector<uint8_t>{};
  }
  if (parsed->is_response) {
    recordMalformed(client, tcp, "a response where a query was expected", false);
    co_return std::vector<uint8_t>{};
  }
  if (parsed->questions.size() != 1) {
    recordMalformed(client, tcp, fmt::format("{} questions (exactly 1 is supported)", parsed->questions.size()), true);
    co_return buildErrorResponse(query, kDnsFormErr);
  }
  const DnsQuestion& question = parsed->questions.front();
  if (parsed->opcode != 0) {  // NOTIFY, UPDATE, IQUERY, STATUS: not for an agent to send upstream
    auto actor = co_await awaitCaller(caller);
    recordQuery(client, question, std::nullopt, kDnsNotImp, std::move(actor));
    co_return buildErrorResponse(query, kDnsNotImp);
  }
  // Only names some rule could need go upstream: any other name is a channel to whoever runs its
  // domain (its labels can carry data), so it never leaves.
  if (policies_ != nullptr && !policy::resolvableName(*policies_->current(), question.name)) {
    denied_.fetch_add(1, std::memory_order_relaxed);
    auto actor = co_await awaitCaller(caller);
    recordQuery(client, question, std::nullopt, kDnsNxDomain, std::move(actor),
                ocsf::Decision{ocsf::Action::kDenied, "-", "dns",
                               "no rule could allow this name; answered NXDOMAIN without asking upstream"});
    co_return buildErrorResponse(query, kDnsNxDomain);
  }

  std::optional<std::vector<uint8_t>> reply;
  std::optional<DnsMessage> reply_message;
  for (const auto& upstream : upstreams_) {
    auto got = co_await askUpstream(upstream, query, *parsed, tcp);
    if (got) {
      reply_message = parseDnsMessage(*got).value();  // askUpstream only returns messages that parse
      reply = std::move(got);
      break;
    }
  }
  auto actor = co_await awaitCaller(caller);
  if (!reply) {
    recordQuery(client, question, std::nullopt, kDnsServFail, std::move(actor), std::nullopt, true);
    co_return buildErrorResponse(query, kDnsServFail);
  }
  recordQuery(client, question, reply_message, reply_message->rcode, std::move(actor), std::nullopt, true);
  co_return std::move(*reply);
}

asio::awaitable<std::optional<std::vector<uint8_t>>> DnsResolver::askUpstream(const udp::endpoint& upstream,
                                                                              std::span<const uint8_t> query,
                                                                              const DnsMessage& question, bool tcp) {
  using namespace asio::experimental::awaitable_operators;
  const auto executor = co_await asio::this_coro::executor;
  asio::steady_timer deadline(executor);
  deadline.expires_after(options_.upstream_timeout);
  std::vector<uint8_t> buffer(kMaxMessageBytes);

  if (!tcp) {
    udp::socket socket(executor);
    boost::system::error_code ec;
    if (socket.open(upstream.protocol(), ec); ec) co_return std::nullopt;
    if (socket.connect(upstream, ec); ec) co_return std::nullopt;  // a fresh random source port per query
    auto [send_ec, sent] = co_await socket.async_send(asio::buffer(query.data(), query.size()), kTuple);
    if (send_ec || sent != query.size()) co_return std::nullopt;
    for (;;) {
      auto got = co_await (socket.async_receive(asio::buffer(buffer), kTuple) || deadline.async_wait(kTuple));
      if (got.index() != 0) co_return std::nullopt;  // timed out
      auto [recv_ec, n] = std::get<0>(got);
      if (recv_ec) co_return std::nullopt;  // ECONNREFUSED: nobody listens there
      const std::span<const uint8_t> bytes(buffer.data(), n);
      auto message = parseDnsMessage(bytes);
      if (!message.ok()) co_return std::nullopt;  // a broken upstream: try the next
      if (!answers(question, *message)) continue;  // not the answer to this query: keep waiting
      co_return std::vector<uint8_t>(bytes.begin(), bytes.end());
    }
  }

  tcp::socket socket(executor);
  const tcp::endpoint at(upstream.address(), upstream.port());
  auto exchange = [&]() -> asio::awaitable<std::optional<std::vector<uint8_t>>> {
    auto [connect_ec] = co_await socket.async_connect(at, kTuple);
    if (connect_ec) co_return std::nullopt;
    std::vector<uint8_t> framed;
    framed.reserve(query.size() + 2);
    framed.push_back(static_cast<uint8_t>(query.size() >> 8));
    framed.push_back(static_cast<uint8_t>(query.size() & 0xFF));
    framed.insert(framed.end(), query.begin(), query.end());
    auto [write_ec, written] = co_await asio::async_write(socket, asio::buffer(framed), kTuple);
    if (write_ec) co_return std::nullopt;
    for (;;) {
      uint8_t prefix[2];
      auto [prefix_ec, got_prefix] = co_await asio::async_read(socket, asio::buffer(prefix), kTuple);
      if (prefix_ec) co_return std::nullopt;
      const size_t length = (size_t{prefix[0]} << 8) | prefix[1];
      auto [body_ec, got] = co_await asio::async_read(socket, asio::buffer(buffer.data(), length), kTuple);
      if (body_ec) co_return std::nullopt;
      const std::span<const uint8_t> bytes(buffer.data(), length);
      auto message = parseDnsMessage(bytes);
      if (!message.ok()) co_return std::nullopt;
      if (!answers(question, *message)) continue;
      co_return std::vector<uint8_t>(bytes.begin(), bytes.end());
    }
  };
  auto result = co_await (exchange() || deadline.async_wait(kTuple));
  if (result.index() != 0) co_return std::nullopt;
  co_return std::move(std::get<0>(result));
}

asio::awaitable<void> DnsResolver::flushLoop() {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_after(std::chrono::seconds(1));
    auto [ec] = co_await timer.async_wait(kTuple);
    if (ec) co_return;
    flushRefusals();
  }
}

}  // namespace warden::proxy
