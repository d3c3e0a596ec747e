#pragma once

// Where a connection may go: the SSRF half of the CONNECT/forward decision (sandbox.md "SSRF").
// Resolve once, check every address, connect only to the checked addresses.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/model.h"
#include "proxy/server/connection_deadline.h"
#include "proxy/ssrf.h"

namespace warden::proxy {

// The outcome of checking one target. When `allowed`, `addresses` are the only addresses the proxy
// may connect to, in resolver order. When not, `blocked_address`/`reason` say which address and why
// (for the NET:OPEN DENIED [engine:ssrf] event and the 403 body).
struct TargetCheck {
  bool allowed = false;
  bool resolve_failed = false;  // DNS said no (or timed out): a 502/504, not an SSRF denial
  std::vector<boost::asio::ip::tcp::endpoint> addresses;
  std::string blocked_address;
  std::string reason;
};

struct TargetPolicy {
  bool allow_loopback_upstream = false;  // --allow-loopback-upstream (tests, local development)
};

// Checks an address literal before any policy lookup: the always-blocked categories (loopback
// unless allow_loopback_upstream, link-local, unspecified, metadata, multicast, broadcast, reserved),
// whatever the policy says. nullopt when `address` passes this first gate.
std::optional<std::string> alwaysBlockedReason(const IpAddress& address, const TargetPolicy& options);

// Checks one address against the endpoint that allowed the connection: private ranges need a matching
// `allowed_ips` entry or an exact declared host; loopback needs allow_loopback_upstream AND a matching
// `allowed_ips` entry. `endpoint` may be null (no L7 endpoint known): then only public addresses pass.
AddressDecision checkUpstreamAddress(const IpAddress& address, const policy::Endpoint* endpoint,
                                     std::string_view host, const TargetPolicy& options);

// Converts between the SSRF and Asio representations.
IpAddress fromAsio(const boost::asio::ip::address& address);
boost::asio::ip::address toAsio(const IpAddress& address);

// Resolves `host` (unless it is a literal), checks every address, and returns the target check.
// The wait is bounded by `deadline` (the caller sets it, phase kResolve); the resolver is cancelled
// by the deadline's on_expire through `resolver`. Never throws.
boost::asio::awaitable<TargetCheck> resolveAndCheck(boost::asio::ip::tcp::resolver& resolver, std::string host,
                                                    uint16_t port, const policy::Endpoint* endpoint,
                                                    TargetPolicy options);

}  // namespace warden::proxy
