#include "proxy/server/resolver.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <span>

namespace warden::proxy {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

std::string normalizeHost(std::string_view host) {
  std::string out(host);
  if (out.size() >= 2 && out.front() == '[' && out.back() == ']') out = out.substr(1, out.size() - 2);
  while (!out.empty() && out.back() == '.') out.pop_back();
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
  return out;
}

bool declaresExactHost(const policy::Endpoint* endpoint, std::string_view host) {
  return endpoint != nullptr && !endpoint->host.isWildcard() && endpoint->host.pattern() == normalizeHost(host);
}

}  // namespace

IpAddress fromAsio(const asio::ip::address& address) {
  if (address.is_v4()) return IpAddress::v4(address.to_v4().to_uint());
  return IpAddress::v6(address.to_v6().to_bytes());
}

asio::ip::address toAsio(const IpAddress& address) {
  if (address.isV4()) return asio::ip::address_v4(address.v4Value());
  return asio::ip::address_v6(address.bytes());
}

std::optional<std::string> alwaysBlockedReason(const IpAddress& address, const TargetPolicy& options) {
  const AddressClass c = classify(address);
  if (!isAlwaysBlocked(c.category, SsrfOptions{.allow_loopback = options.allow_loopback_upstream})) {
    return std::nullopt;
  }
  return c.reason;
}

AddressDecision checkUpstreamAddress(const IpAddress& address, const policy::Endpoint* endpoint,
                                     std::string_view host, const TargetPolicy& options) {
  const std::span<const Cidr> allowed_ips =
      endpoint != nullptr ? std::span<const Cidr>(endpoint->allowed_ips) : std::span<const Cidr>();
  // Loopback is refused here ("always blocked") unless --allow-loopback-upstream, handled below.
  AddressDecision d = checkAddress(address, allowed_ips,
                                   SsrfOptions{.exact_host_declared = declaresExactHost(endpoint, host)});
  if (d.category != AddressCategory::kLoopback || !options.allow_loopback_upstream) return d;
  // Stricter than checkAddress's allow_loopback: the flag alone is not enough, the endpoint must also
  // list the loopback address in allowed_ips (an exact declared host does not count).
  const AddressClass c = classify(address);
  if (const Cidr* allowed = findCoveringCidr(address, allowed_ips)) {
    return {true, c.category,
            fmt::format("{}; allowed by --allow-loopback-upstream and allowed_ips {}", c.reason, allowed->toString())};
  }
  return {false, c.category, c.reason + "; loopback upstreams need a matching allowed_ips entry"};
}

asio::awaitable<TargetCheck> resolveAndCheck(tcp::resolver& resolver, std::string host, uint16_t port,
                                             const policy::Endpoint* endpoint, TargetPolicy options) {
  TargetCheck out;
  std::vector<IpAddress> candidates;
  const ParsedHost parsed = parseHost(host);
  if (parsed.kind == HostKind::kInvalid) {
    out.blocked_address = host;
    out.reason = parsed.reason.empty() ? "invalid host" : parsed.reason;
    co_return out;
  }
  if (parsed.kind == HostKind::kIpAddress) {
    candidates.push_back(*parsed.address);
  } else {
    auto [ec, results] = co_await resolver.async_resolve(normalizeHost(host), std::to_string(port),
                                                         tcp::resolver::numeric_service,
                                                         asio::as_tuple(asio::use_awaitable));
    if (ec || results.empty()) {
      out.resolve_failed = true;
      out.blocked_address = host;
      out.reason = ec ? fmt::format("cannot resolve {}: {}", host, ec.message())
                      : fmt::format("cannot resolve {}: no addresses", host);
      co_return out;
    }
    for (const auto& entry : results) {
      IpAddress a = fromAsio(entry.endpoint().address());
      if (std::find(candidates.begin(), candidates.end(), a) == candidates.end()) candidates.push_back(a);
    }
  }
  // Every address must pass: a name that resolves to one public and one internal address is a
  // rebinding attempt, not a reason to pick the public one.
  for (const IpAddress& a : candidates) {
    AddressDecision d = checkUpstreamAddress(a, endpoint, host, options);
    if (!d.allowed) {
      out.blocked_address = a.toString();
      out.reason = std::move(d.reason);
      out.addresses.clear();
      co_return out;
    }
    out.addresses.emplace_back(toAsio(a), port);
  }
  out.allowed = true;
  co_return out;
}

}  // namespace warden::proxy
