#pragma once

// The project's one IP address and one address block. Policy (`allowed_ips`, IP-literal hosts) and
// the proxy's SSRF guard (resolved and literal upstream addresses) use these same types, so a block
// means the same thing wherever it is checked.
//
// Parsing here is strict: only the textual forms inet_pton(3) accepts. The many other spellings a
// libc or browser accepts as a host ("127.1", "0x7f000001", "017700000001") are the SSRF guard's
// business (proxy::parseHost), which returns these same values.

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace warden {

// An IPv4 or IPv6 address. An immutable value: cheap to copy, thread-safe, no default (there is no
// meaningful "no address"; use std::optional). IPv4 is its own family and is never stored
// IPv4-mapped; an IPv6 address that happens to be IPv4-mapped (::ffff:a.b.c.d) stays IPv6 until a
// caller asks for unmapped(). Equality and ordering are by family (IPv4 first), then bytes, so
// 10.0.0.1 != ::ffff:10.0.0.1 as values; Cidr::contains() is where they are the same address.
class IpAddress {
 public:
  enum class Family { kV4, kV6 };

  static IpAddress v4(uint32_t value);  // host byte order: 127.0.0.1 is 0x7f000001
  static IpAddress v6(const std::array<uint8_t, 16>& bytes);
  // The inverse of bytes(): network order, the first 4 bytes for IPv4 (the rest ignored).
  static IpAddress fromBytes(Family family, const std::array<uint8_t, 16>& bytes);

  // The canonical textual forms and nothing else, i.e. exactly what inet_pton accepts:
  //  - IPv4: a dotted quad of four decimal parts 0-255, no leading zeros ("10.0.0.1"; not "010.0.0.1",
  //    "10.1", "0x0a000001", "10.0.0.1.");
  //  - IPv6: RFC 4291 section 2.2 text, hex in either case, at most one "::", optionally ending in a
  //    strict dotted quad ("fe80::1", "::ffff:10.0.0.1", "2001:DB8:0:0:0:0:0:1").
  // No brackets ("[::1]" is URI host syntax, not an address: callers that parse hosts strip them),
  // no zone ids ("fe80::1%eth0"), no surrounding whitespace, no prefix length.
  static std::optional<IpAddress> parse(std::string_view text);

  Family family() const { return family_; }
  bool isV4() const { return family_ == Family::kV4; }
  bool isV6() const { return family_ == Family::kV6; }
  // The IPv4 value in host byte order; 0 for an IPv6 address.
  uint32_t v4Value() const;
  // Network-order bytes: the first 4 for IPv4 (the other 12 are zero), all 16 for IPv6.
  const std::array<uint8_t, 16>& bytes() const { return bytes_; }

  // True for ::ffff:a.b.c.d (::ffff:0:0/96), the form in which an AF_INET6 socket sees IPv4 peers.
  bool isV4Mapped() const;
  // For ::ffff:a.b.c.d returns a.b.c.d; every other address unchanged.
  IpAddress unmapped() const;

  // Canonical text: "10.0.0.1", or RFC 5952 for IPv6 (lower case, no leading zeros, the longest
  // run of two or more zero fields as "::", leftmost on a tie), with a trailing dotted quad for
  // IPv4-mapped and IPv4-compatible addresses ("::ffff:127.0.0.1"). parse(toString()) == *this.
  std::string toString() const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
  friend std::strong_ordering operator<=>(const IpAddress&, const IpAddress&) = default;

 private:
  IpAddress(Family family, const std::array<uint8_t, 16>& bytes) : family_(family), bytes_(bytes) {}

  Family family_;
  std::array<uint8_t, 16> bytes_;  // Invariant: bytes_[4..15] are zero for kV4.
};

// An address block ("10.30.1.0/24", "fd00::/8"), e.g. an `allowed_ips` entry. An immutable value,
// thread-safe. The network address has no bits set below the prefix.
//
// Which addresses a block contains: an IPv4-mapped address (::ffff:a.b.c.d) is the IPv4 address
// a.b.c.d, on both sides. So 10.0.0.0/8 contains 10.1.2.3 and ::ffff:10.1.2.3, and a block written in
// the mapped range (::ffff:10.0.0.0/104, ::ffff:0:0/96) is the IPv4 block it spells (10.0.0.0/8,
// 0.0.0.0/0). Any other IPv6 block contains IPv6 addresses only: ::/0 is "every IPv6 address" and
// does NOT contain 10.1.2.3 or ::ffff:10.1.2.3.
//
// Why not let ::/0 (or ::/80) contain all of IPv4 because it contains ::ffff:0:0/96 bit-wise? These
// blocks grant access (allowed_ips lets a host reach private addresses the SSRF guard would refuse).
// Whoever writes ::/0 means "any IPv6 address"; that it would also open 10/8, 172.16/12, 192.168/16
// through an address family the author never wrote is the kind of surprise an allowlist must not
// have. Granting IPv4 takes an IPv4 block (0.0.0.0/0) or an explicit mapped one (::ffff:0:0/96).
class Cidr {
 public:
  // "ADDR/LEN" with ADDR as IpAddress::parse takes it and LEN 0-32 (IPv4) or 0-128 (IPv6) in decimal,
  // or a bare address (a /32 or /128). Host bits set below the prefix are an error that suggests the
  // network ("'10.30.1.5/24' has host bits set below the prefix; did you mean 10.30.1.0/24?").
  static Result<Cidr> parse(std::string_view text);

  // True if `address` is inside the block; see the class comment for IPv4-mapped addresses.
  bool contains(const IpAddress& address) const;

  // As written: ::ffff:10.0.0.0/104 keeps its IPv6 spelling here and in toString().
  const IpAddress& network() const { return network_; }
  int prefixLength() const { return prefix_; }
  // "10.30.1.0/24", "fd00::/8"; parse(toString()) gives the same block.
  std::string toString() const;

  friend bool operator==(const Cidr&, const Cidr&) = default;

 private:
  Cidr(IpAddress network, int prefix) : network_(network), prefix_(prefix) {}

  IpAddress network_;
  int prefix_;
};

}  // namespace warden
