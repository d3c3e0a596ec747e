#pragma once

// Address classification for SSRF defence (sandbox.md "SSRF"): parse every spelling of an IP
// address a libc or curl might accept, classify it, and decide whether the proxy may connect to it.
// Pure functions and value types: no DNS, no sockets, thread-safe.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"

namespace warden::proxy {

// An IPv4 or IPv6 address. A value type; IPv4 is its own family, never stored IPv4-mapped.
class IpAddress {
 public:
  enum class Family { kV4, kV6 };

  static IpAddress v4(uint32_t value);  // host byte order: 127.0.0.1 is 0x7f000001
  static IpAddress v6(const std::array<uint8_t, 16>& bytes);

  Family family() const { return family_; }
  bool isV4() const { return family_ == Family::kV4; }
  // The IPv4 value in host byte order; only meaningful for kV4.
  uint32_t v4Value() const;
  // Network-order bytes: the first 4 for kV4, all 16 for kV6.
  const std::array<uint8_t, 16>& bytes() const { return bytes_; }
  // "127.0.0.1" or the RFC 5952 form ("::ffff:127.0.0.1", "fd00:ec2::254").
  std::string toString() const;

  bool operator==(const IpAddress&) const = default;

 private:
  IpAddress(Family family, const std::array<uint8_t, 16>& bytes) : family_(family), bytes_(bytes) {}

  Family family_;
  std::array<uint8_t, 16> bytes_;
};

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

// The address `host` spells, or nullopt when it is a hostname (or invalid; parseHost tells which).
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

// An address block, e.g. 10.30.1.5/32 or fc00::/7. A value type.
class Cidr {
 public:
  // "a.b.c.d/len", "v6/len", or a bare address (a /32 or /128). Strict: dotted-quad decimal IPv4,
  // no brackets, no zone; host bits beyond the prefix are an error (the message suggests the network).
  static Result<Cidr> parse(std::string_view text);

  // True if `address` lies in the block. An IPv4-mapped IPv6 address counts as its IPv4 address.
  bool contains(const IpAddress& address) const;
  const IpAddress& network() const { return network_; }
  int prefixLength() const { return prefix_; }
  std::string toString() const;

 private:
  Cidr(IpAddress network, int prefix) : network_(network), prefix_(prefix) {}

  IpAddress network_;
  int prefix_;
};

// The SSRF decision for one resolved (or literal) address.
struct AddressDecision {
  bool allowed = false;
  AddressCategory category = AddressCategory::kPublic;
  std::string reason;  // why, in words fit for an event: the address, its category, the CIDR that matched
};
AddressDecision checkAddress(const IpAddress& address, std::span<const Cidr> allowed_ips,
                             const SsrfOptions& options = {});

}  // namespace warden::proxy
