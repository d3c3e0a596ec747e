#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace warden::policy {

// An IPv4 or IPv6 address as a value. IPv4 uses bytes[0..3]. Immutable, cheap to copy.
struct IpAddress {
  enum class Family { kV4, kV6 };

  Family family = Family::kV4;
  std::array<uint8_t, 16> bytes{};

  // Strict textual forms only: dotted quad without leading zeros ("10.0.0.1"), or RFC 4291 IPv6
  // without brackets or zone ("fe80::1", "::ffff:10.0.0.1"). Decimal/octal/hex IPv4 spellings
  // are not addresses here (the SSRF guard deals with those).
  static std::optional<IpAddress> parse(std::string_view text);

  // Canonical text (inet_ntop): "10.0.0.1", "2001:db8::1".
  std::string toString() const;
  // For ::ffff:a.b.c.d returns a.b.c.d; every other address unchanged.
  IpAddress unmapped() const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

// An address block ("10.30.1.0/24", "fd00::/8"), as written in `allowed_ips`. Immutable value.
class Cidr {
 public:
  // Accepts "ADDR/LEN" and a bare address (a /32 or /128). Rejects a prefix longer than the
  // family allows and host bits set below the prefix ("10.30.1.5/24": did you mean 10.30.1.0/24?).
  static Result<Cidr> parse(std::string_view text);

  // True if `address` is inside the block. An IPv4 address and its IPv4-mapped IPv6 form
  // (::ffff:a.b.c.d) are the same address: 10.0.0.0/8 contains ::ffff:10.1.2.3, and ::/0 or
  // ::ffff:0:0/96 contain 10.1.2.3. An IPv4 block never contains a native IPv6 address.
  bool contains(const IpAddress& address) const;

  const IpAddress& network() const { return network_; }
  int prefixLength() const { return prefix_; }
  // "10.30.1.0/24".
  std::string toString() const;

 private:
  Cidr(IpAddress network, int prefix) : network_(network), prefix_(prefix) {}

  IpAddress network_;
  int prefix_ = 0;
};

}  // namespace warden::policy
