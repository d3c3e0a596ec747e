#include "policy/address.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <charconv>

namespace warden::policy {
namespace {

constexpr std::array<uint8_t, 12> kMappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool prefixEqual(const uint8_t* a, const uint8_t* b, int bits) {
  const int whole = bits / 8;
  for (int i = 0; i < whole; ++i) {
    if (a[i] != b[i]) return false;
  }
  const int rest = bits % 8;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

}  // namespace

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.empty() || text.size() > INET6_ADDRSTRLEN) return std::nullopt;
  const std::string s(text);  // inet_pton needs a NUL-terminated string
  if (s.find('\0') != std::string::npos) return std::nullopt;
  IpAddress a;
  if (s.find(':') == std::string::npos) {
    a.family = Family::kV4;
    if (::inet_pton(AF_INET, s.c_str(), a.bytes.data()) != 1) return std::nullopt;
    return a;
  }
  a.family = Family::kV6;
  if (::inet_pton(AF_INET6, s.c_str(), a.bytes.data()) != 1) return std::nullopt;
  return a;
}

std::string IpAddress::toString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  const int af = family == Family::kV4 ? AF_INET : AF_INET6;
  if (::inet_ntop(af, bytes.data(), buf, sizeof buf) == nullptr) return {};
  return buf;
}

IpAddress IpAddress::unmapped() const {
  if (family != Family::kV6) return *this;
  for (size_t i = 0; i < kMappedPrefix.size(); ++i) {
    if (bytes[i] != kMappedPrefix[i]) return *this;
  }
  IpAddress v4;
  v4.family = Family::kV4;
  for (int i = 0; i < 4; ++i) v4.bytes[i] = bytes[12 + i];
  return v4;
}

Result<Cidr> Cidr::parse(std::string_view text) {
  const size_t slash = text.find('/');
  const std::string_view addr_text = text.substr(0, slash);
  const auto addr = IpAddress::parse(addr_text);
  if (!addr) {
    return invalidArgument(
        fmt::format("'{}' is not an IP address or CIDR block (e.g. 10.30.1.0/24, fd00::/8)", text));
  }
  const int max = addr->family == IpAddress::Family::kV4 ? 32 : 128;
  int prefix = max;
  if (slash != std::string_view::npos) {
    const std::string_view len = text.substr(slash + 1);
    const auto* end = len.data() + len.size();
    const auto [p, ec] = std::from_chars(len.data(), end, prefix);
    if (len.empty() || len.size() > 3 || ec != std::errc() || p != end || prefix < 0 || prefix > max) {
      return invalidArgument(fmt::format("'{}' has an invalid prefix length (0-{} for {})", text, max,
                                         max == 32 ? "IPv4" : "IPv6"));
    }
  }
  IpAddress network = *addr;
  for (int bit = prefix; bit < max; ++bit) {
    network.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
  }
  if (network != *addr) {
    return invalidArgument(fmt::format("'{}' has host bits set below the prefix; did you mean {}/{}?", text,
                                       network.toString(), prefix));
  }
  return Cidr(network, prefix);
}

bool Cidr::contains(const IpAddress& address) const {
  if (network_.family == IpAddress::Family::kV4) {
    const IpAddress a = address.unmapped();
    return a.family == IpAddress::Family::kV4 && prefixEqual(a.bytes.data(), network_.bytes.data(), prefix_);
  }
  IpAddress a = address;
  if (a.family == IpAddress::Family::kV4) {  // compare as ::ffff:a.b.c.d
    a.family = IpAddress::Family::kV6;
    for (int i = 0; i < 4; ++i) a.bytes[12 + i] = address.bytes[i];
    for (size_t i = 0; i < kMappedPrefix.size(); ++i) a.bytes[i] = kMappedPrefix[i];
  }
  return prefixEqual(a.bytes.data(), network_.bytes.data(), prefix_);
}

std::string Cidr::toString() const {
  return fmt::format("{}/{}", network_.toString(), prefix_);
}

}  // namespace warden::policy
