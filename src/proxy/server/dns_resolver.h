#pragma once

// The sandbox's DNS resolver (sandbox.md "Isolation"; docs/dns.md): a forwarder on the host side of
// the veth that the agent must use for DNS, recording every query as a DNS Activity event.

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "audit/emitter.h"
#include "common/result.h"
#include "ocsf/builders.h"
#include "policy/snapshot.h"
#include "proxy/caller_identity.h"
#include "proxy/capture_attribution.h"
#include "proxy/dns_message.h"
#include "proxy/dns_tunnel.h"

namespace warden::proxy {

struct DnsResolverOptions {
  std::string listen_address;              // an IP literal: the sandbox's host-side address
  uint16_t listen_port = 53;               // 0: any free port (tests)
  std::vector<std::string> upstreams;      // "ip" or "ip:port" ("[v6]:port"); empty: /etc/resolv.conf's nameservers
  std::chrono::milliseconds upstream_timeout{2000};  // per try; then the next upstream; then SERVFAIL
  size_t max_in_flight = 256;              // beyond: REFUSED + a Low event (never unbounded memory)
  // Caller identity (when a CallerLookup is given) runs on this many worker threads, never on the io
  // thread; an answer waits for its query's lookup at most this long (then the actor is unknown).
  int lookup_threads = 2;
  std::chrono::milliseconds caller_lookup_timeout{500};
  std::chrono::milliseconds tcp_idle_timeout{10'000};  // a TCP client's wait for its next query
  std::string resolv_conf = "/etc/resolv.conf";        // read when `upstreams` is empty
  // Refusals (queries over max_in_flight, TCP connections over the cap) recorded one by one per
  // second; the rest of each second are counted and recorded in one event when it ends.
  int refusal_events_per_second = 20;
  DnsTunnelOptions tunnel;  // what counts as a tunnelling shape (docs/dns.md)
};

// Listens on UDP and TCP (RFC 7766 length-prefixed) at listen_address:listen_port. With a PolicyStore,
// a name no rule could need (policy::resolvableName, on the store's current snapshot, so a reload
// applies at once) is answered NXDOMAIN without any upstream query and recorded DENIED with the name
// exactly as queried. Every other well-formed query is forwarded to the upstreams, relaying the
// answer unchanged (same id; TC bit preserved so the
// client retries over TCP). Records one DNS event per query: ocsf::dnsQuery with the answers and rcode
// when the upstream answered, Low with rcode SERVFAIL when none did; a malformed query gets FORMERR (if
// the header parsed) and an operational warning event (Low), never a crash. Actor: `caller` is asked
// for the process that owns the client's source address, when given; the lookup runs on a worker pool
// in parallel with the upstream exchange, and the answer is held until it finishes (at most
// caller_lookup_timeout) so the client cannot exit before it is identified. Names in the shape of DNS
// tunnelling (DnsTunnelDetector) are dual-emitted with a finding, High when the name went upstream.
// Refusals are recorded (rate-limited, the rest counted each second, the last second at stop()).
//
// Ownership: owns its sockets, io_context, io thread and lookup pool; borrows the Emitter (must
// outlive it); copies the SessionContext. Threads: one io thread runs every socket; start()/stop()
// from one thread; stop() is idempotent, also run by the destructor, and joins everything.
// Accessors are thread-safe.
class DnsResolver {
 public:
  // The process that sent from `client` to `server` (the resolver's own address), or nullopt when
  // unknown or ambiguous.
  using CallerLookup = std::function<std::optional<ocsf::Process>(
      const boost::asio::ip::udp::endpoint& client, const boost::asio::ip::udp::endpoint& server, bool tcp)>;

  // Binds UDP and TCP (errors: a bad address or upstream, no upstreams, address in use, permission).
  // `policies` (borrowed; must outlive the resolver) decides which names are resolved; without one
  // every name is forwarded (tools and tests; ProxyStack always passes its store).
  static Result<std::unique_ptr<DnsResolver>> create(DnsResolverOptions options, audit::Emitter& emitter,
                                                     const ocsf::SessionContext& session, CallerLookup caller = {},
                                                     const policy::PolicyStore* policies = nullptr);
  ~DnsResolver();
  DnsResolver(const DnsResolver&) = delete;
  DnsResolver& operator=(const DnsResolver&) = delete;

  void start();
  void stop();

  uint16_t udpPort() const { return udp_port_; }
  uint16_t tcpPort() const { return tcp_port_; }
  // Queries received (well-formed or not, refused or not), UDP and TCP.
  uint64_t queries() const { return queries_.load(std::memory_order_relaxed); }
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }
  // Queries answered NXDOMAIN because no rule could need the name.
  uint64_t denied() const { return denied_.load(std::memory_order_relaxed); }
  const std::vector<boost::asio::ip::udp::endpoint>& upstreams() const { return upstreams_; }

 private:
  struct PendingCaller;  // one caller lookup in flight (dns_resolver.cc)

  // Refusals of one kind in the current second: the first ones are recorded one by one.
  struct RefusalWindow {
    int recorded = 0;
    uint64_t unrecorded = 0;
  };

  DnsResolver(DnsResolverOptions options, audit::Emitter& emitter, const ocsf::SessionContext& session,
              CallerLookup caller, const policy::PolicyStore* policies);
  boost::asio::awaitable<void> udpLoop();
  boost::asio::awaitable<void> tcpAcceptLoop();
  boost::asio::awaitable<void> tcpSession(boost::asio::ip::tcp::socket socket);
  // Decides, forwards and records one query; returns the bytes to answer with (empty: no answer).
  boost::asio::awaitable<std::vector<uint8_t>> handle(std::vector<uint8_t> query,
                                                      boost::asio::ip::udp::endpoint client, bool tcp,
                                                      std::shared_ptr<PendingCaller> caller);
  boost::asio::awaitable<std::optional<std::vector<uint8_t>>> askUpstream(
      const boost::asio::ip::udp::endpoint& upstream, std::span<const uint8_t> query, const DnsMessage& question,
      bool tcp);
  // Posts the caller lookup to the pool (or runs it inline without one); the result is awaited with
  // awaitCaller() once the answer is ready, at most caller_lookup_timeout after this call.
  std::shared_ptr<PendingCaller> startCallerLookup(const boost::asio::ip::udp::endpoint& client,
                                                   const boost::asio::ip::udp::endpoint& server, bool tcp);
  boost::asio::awaitable<std::optional<ocsf::Process>> awaitCaller(std::shared_ptr<PendingCaller> pending);
  // DNS:QUERY (with `decision` when policy answered), then a tunnelling finding when the name has
  // the shape of one (`forwarded`: the name went upstream).
  void recordQuery(const boost::asio::ip::udp::endpoint& client, const DnsQuestion& question,
                   const std::optional<DnsMessage>& answer, uint8_t rcode, std::optional<ocsf::Process> actor,
                   const std::optional<ocsf::Decision>& decision = std::nullopt, bool forwarded = false);
  void recordMalformed(const boost::asio::ip::udp::endpoint& client, bool tcp, const std::string& why,
                       bool answered);
  // A query over max_in_flight: answered REFUSED by the caller; recorded one by one or counted.
  void refuseQuery(const boost::asio::ip::udp::endpoint& client, std::span<const uint8_t> query);
  // A TCP connection over the cap: closed by the caller; recorded one by one or counted.
  void refuseConnection(const boost::asio::ip::tcp::endpoint& client);
  // Records the counts of the second that ended (and resets the windows). io thread, or after it ended.
  void flushRefusals();
  boost::asio::awaitable<void> flushLoop();

  DnsResolverOptions options_;
  audit::Emitter& emitter_;
  ocsf::SessionContext session_;
  CallerLookup caller_;
  const policy::PolicyStore* policies_;
  std::vector<boost::asio::ip::udp::endpoint> upstreams_;
  boost::asio::ip::udp::endpoint listen_udp_;  // the resolver's own UDP address (caller lookups' server end)
  ocsf::Endpoint self_;  // the resolver as recorded in events (dst_endpoint)

  std::unique_ptr<boost::asio::io_context> io_;
  std::unique_ptr<boost::asio::ip::udp::socket> udp_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> tcp_;
  std::unique_ptr<boost::asio::thread_pool> lookup_pool_;  // null without a CallerLookup
  std::thread thread_;
  uint16_t udp_port_ = 0;
  uint16_t tcp_port_ = 0;

  // Touched on the io thread only.
  size_t in_flight_ = 0;     // queries being answered, UDP and TCP; capped at max_in_flight
  size_t tcp_sessions_ = 0;  // open TCP client connections; capped at max_in_flight
  RefusalWindow refused_queries_;
  RefusalWindow refused_connections_;
  DnsTunnelDetector tunnel_;

  std::atomic<uint64_t> queries_{0};
  std::atomic<uint64_t> refused_{0};
  std::atomic<uint64_t> denied_{0};
  std::mutex lifecycle_mu_;
  bool started_ = false;  // Guarded by lifecycle_mu_.
  bool stopped_ = false;  // Guarded by lifecycle_mu_.
};

// Parses "ip", "ip:port", "[v6]" or "[v6]:port" (default port 53). InvalidArgument otherwise.
Result<boost::asio::ip::udp::endpoint> parseDnsUpstream(std::string_view text);
// The inverse: "ip:port", "[v6]:port".
std::string formatDnsEndpoint(const boost::asio::ip::udp::endpoint& endpoint);
// The `nameserver` lines of resolv.conf text, in order (addresses only; zone ids dropped). Loopback
// stub resolvers (127.0.0.53) are kept: the caller decides whether they are reachable.
std::vector<std::string> resolvConfNameservers(std::string_view text);

// A DnsResolver::CallerLookup backed by `resolver` (shared: the lookup keeps it alive): a TCP client by
// its connection's 4-tuple (CallerIdentityResolver::lookup), a UDP client by the one socket that can
// have sent from its address to `server` (CallerIdentityResolver::lookupUdpSender: the exact local
// address and port, connected to `server` or not connected; a wildcard-bound socket only when no
// exact one exists), then the owning process as the proxy records it (name = the executable's
// basename, pid, uid, cmd_line, executable). Failed or ambiguous lookups give nullopt (the actor is
// left out of the event rather than guessed). It blocks on /proc: DnsResolver runs it on its lookup pool.
// The supervisor creates the resolver with proc_root=/proc/<sandbox pid>/root/proc and net_pid "1".
// With `capture`, a lookup that found no socket or holder left (NotFound; or no resolver) asks the
// kernel capture who connected from the client's address: the actor is then named for the record
// (unmapped.actor_source, proxy/capture_attribution.h).
DnsResolver::CallerLookup makeDnsCallerLookup(std::shared_ptr<CallerIdentityResolver> resolver,
                                              CaptureAttribution capture = {});

}  // namespace warden::proxy
