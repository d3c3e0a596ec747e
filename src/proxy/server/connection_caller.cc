#include "proxy/server/connection_caller.h"

#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>

namespace warden::proxy {

namespace asio = boost::asio;

namespace {

std::optional<CallerInfo> runLookup(const CallerLookup& lookup, const asio::ip::tcp::endpoint& peer,
                                    const asio::ip::tcp::endpoint& local) noexcept {
  try {
    return lookup(peer, local);
  } catch (const std::exception&) {
    return std::nullopt;  // a resolver must not throw; if one does, the caller is unknown
  }
}

// The awaiting connection's side of one off-thread lookup. Touched only on the connection's
// executor (the pool thread holds a weak_ptr and posts back), so it needs no lock.
struct PendingLookup {
  explicit PendingLookup(const asio::any_io_executor& executor) : timer(executor) {}
  asio::steady_timer timer;  // expires at the timeout; cancelled when the result arrives
  std::optional<CallerInfo> result;
  bool done = false;
};

TcpEndpoint toTcpEndpoint(const boost::asio::ip::tcp::endpoint& e) {
  const auto a = e.address();
  if (a.is_v4()) return TcpEndpoint::v4(a.to_v4().to_bytes(), e.port());
  return TcpEndpoint::v6addr(a.to_v6().to_bytes(), e.port());
}

}  // namespace

CallerInfo toCallerInfo(const CallerIdentity& id) {
  CallerInfo c;
  c.pid = id.pid;
  c.name = id.displayName();
  c.executable = id.exe;
  c.uid = id.uid;
  for (const auto& arg : id.cmdline) {
    if (!c.cmd_line.empty()) c.cmd_line.push_back(' ');
    c.cmd_line += arg;
  }
  for (const auto& a : id.ancestors) {
    if (!a.exe.empty()) c.ancestors.push_back(a.exe);
  }
  c.binary_changed = id.binary_changed;
  if (id.binary_changed) {
    c.binary_change_detail = fmt::format("{} changed since its first use in this session (sha256 {} -> {})", id.exe,
                                         id.first_seen_sha256.substr(0, 12), id.exe_sha256.substr(0, 12));
  }
  c.injection = id.injection;
  c.anonymous_exec_mappings = id.anonymous_exec_mappings;
  for (const auto& other : id.other_holders) c.other_holders.push_back(toCallerInfo(other));
  return c;
}

CallerLookup makeProcCallerLookup(std::shared_ptr<CallerIdentityResolver> resolver, CaptureAttribution capture) {
  return [resolver = std::move(resolver), capture = std::move(capture)](
             const boost::asio::ip::tcp::endpoint& peer,
             const boost::asio::ip::tcp::endpoint& local) -> std::optional<CallerInfo> {
    const TcpEndpoint client = toTcpEndpoint(peer);
    const TcpEndpoint server = toTcpEndpoint(local);
    if (resolver) {
      auto id = resolver->lookup(client, server);
      if (id.ok()) return toCallerInfo(id.value());
      if (id.error().code() != Code::kNotFound) return std::nullopt;  // bounds, permissions: not a miss
    }
    if (!capture) return std::nullopt;
    auto named = capture(SocketProtocol::kTcp, client, server);
    if (!named) return std::nullopt;
    return capturedCaller(capturedActor(std::move(*named)));
  };
}

CallerInfo capturedCaller(const ocsf::Process& actor) {
  CallerInfo c;
  c.pid = actor.pid.value_or(0);
  c.name = actor.name;
  if (actor.file) c.executable = actor.file->path;
  c.uid = actor.uid;
  c.cmd_line = actor.cmd_line;
  c.attribution = actor.attribution.empty() ? std::string(kCaptureAttribution) : actor.attribution;
  return c;
}

asio::awaitable<std::optional<CallerInfo>> lookupCallerOffThread(CallerLookup lookup, asio::thread_pool* pool,
                                                                  asio::ip::tcp::endpoint peer,
                                                                  asio::ip::tcp::endpoint local,
                                                                  std::chrono::milliseconds timeout) {
  if (!lookup) co_return std::nullopt;
  if (pool == nullptr) co_return runLookup(lookup, peer, local);
  const asio::any_io_executor executor = co_await asio::this_coro::executor;
  auto pending = std::make_shared<PendingLookup>(executor);
  pending->timer.expires_after(timeout);
  asio::post(*pool, [lookup = std::move(lookup), peer, local, executor, weak = std::weak_ptr(pending)]() {
    std::optional<CallerInfo> result = runLookup(lookup, peer, local);
    asio::post(executor, [weak, result = std::move(result)]() mutable {
      if (auto p = weak.lock()) {
        p->result = std::move(result);
        p->done = true;
        p->timer.cancel();
      }
    });
  });
  // Ends when the result arrives (cancel) or at the timeout, whichever is first.
  while (!pending->done) {
    auto [ec] = co_await pending->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (!ec) break;  // timed out
    // Cancelled from outside (the connection is being closed): give up, the result is dropped.
    if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none) break;
  }
  if (!pending->done) co_return std::nullopt;
  co_return std::move(pending->result);
}

}  // namespace warden::proxy
