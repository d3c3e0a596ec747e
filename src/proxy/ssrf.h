#pragma once

// Address classification for SSRF defence (sandbox.md "SSRF"): parse every spelling of an IP
// address a libc or curl might accept, classify it, and decide whether the proxy may connect to it.
// Pure functions and value types: no DNS, no sockets, thread-safe. The address and block types are
// the project-wide warden::IpAddress and warden::Cidr (common/ip_address.h); only the lenient host
// parsing lives here.

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/ip_address.h"

namespace warden::proxy {

// What a host string is.
enum class HostKind {
  kHostname,   // a DNS name; resolve it and check every address
  kIpAddress,  // a literal in any accepted spelling; see ParsedHost::address
  kInvalid,    // neither: bad characters, a zone id, a numeric-looking host that is no valid IPv4
};

struct ParsedHost {
  HostKind kind = HostKind::kInvalid;
  std::optional<IpAddress> address;  // set for kIpAddress
  std::string reason;                // set for kInvalid
};

// Classifies a host as written in a URI, Host header or CONNECT target. IPv4 follows inet_aton and
// the WHATWG URL parser: 1-4 parts (a, a.b, a.b.c, a.b.c.d), each decimal, octal (leading 0) or hex
// (0x), one trailing dot allowed. A host whose last label is numeric (all digits, or 0x + hex) must
// be a valid IPv4 address, else kInvalid. IPv6 with or without brackets, embedded dotted quad
// allowed; zone ids ("%eth0", "%25eth0") are kInvalid.
ParsedHost parseHost(std::string_view host);

// The address `host` spells in any of the spellings above, or nullopt when it is a hostname (or
// invalid; parseHost tells which).
std::optional<IpAddress> parseIpLiteral(std::string_view host);

enum class AddressCategory {
  kPublic,
  kLoopback,       // 127.0.0.0/8, ::1
  kLinkLocal,      // 169.254.0.0/16, fe80::/10
  kUnspecified,    // "this network" 0.0.0.0/8, ::
  kCloudMetadata,  // 169.254.169.254, fd00:ec2::254, 100.100.100.200, 168.63.129.16, ...
  kPrivate,        // 10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7, fec0::/10
  kMulticast,      // 224.0.0.0/4, ff00::/8
  kBroadcast,      // 255.255.255.255
  kReserved,       // documentation, benchmarking, 240/4, Teredo, IPv6 outside 2000::/3, ...
};

// "public", "loopback", "link_local", "unspecified", "cloud_metadata", "private", ...
std::string_view addressCategoryName(AddressCategory category);

// An address's category and a sentence saying why, e.g. "169.254.169.254 is a cloud metadata
// address" or "::ffff:127.0.0.1 embeds IPv4 127.0.0.1 (IPv4-mapped), which is loopback (127.0.0.0/8)".
// IPv6 that embeds IPv4 (IPv4-mapped ::ffff:0:0/96, IPv4-compatible ::/96, NAT64 64:ff9b::/96, 6to4
// 2002::/16) is classified by the embedded address.
struct AddressClass {
  AddressCategory category = AddressCategory::kPublic;
  std::string reason;
};
AddressClass classify(const IpAddress& address);

struct SsrfOptions {
  bool allow_loopback = false;       // tests only: lets 127.0.0.0/8 and ::1 through
  bool exact_host_declared = false;  // the policy names this exact host: private ranges are allowed
};

// Loopback (unless allow_loopback), link-local, unspecified, cloud metadata, multicast, broadcast and
// reserved are blocked whatever allowed_ips says.
bool isAlwaysBlocked(AddressCategory category, const SsrfOptions& options = {});
// Private ranges need a matching allowed_ips CIDR (or an exact declared host).
bool needsAllowedIps(AddressCategory category);

// The first block in `blocks` that contains `address` (Cidr::contains: IPv4-mapped is IPv4), or null.
const Cidr* findCoveringCidr(const IpAddress& address, std::span<const Cidr> blocks);

// The SSRF decision for one resolved (or literal) address.
struct AddressDecision {
  bool allowed = false;
  AddressCategory category = AddressCategory::kPublic;
  std::string reason;  // why, in words fit for an event: the address, its category, the CIDR that matched
};
AddressDecision checkAddress(const IpAddress& address, std::span<const Cidr> allowed_ips,
                             const SsrfOptions& options = {});

}  // namespace warden::proxy
