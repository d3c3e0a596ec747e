#include "common/ip_address.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include "common/encoding.h"

namespace warden {
namespace {

using Bytes = std::array<uint8_t, 16>;

constexpr std::array<uint8_t, 12> kMappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

// Four decimal parts 0-255 without leading zeros, nothing before or after (inet_pton4's rule).
std::optional<uint32_t> parseV4(std::string_view s) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) {
    size_t len = 0;
    unsigned part = 0;
    while (len < s.size() && s[len] >= '0' && s[len] <= '9') {
      if (len == 3) return std::nullopt;
      part = part * 10 + static_cast<unsigned>(s[len] - '0');
      ++len;
    }
    if (len == 0 || part > 255 || (len > 1 && s[0] == '0')) return std::nullopt;
    value = (value << 8) | part;
    s.remove_prefix(len);
    if (i < 3) {
      if (s.empty() || s[0] != '.') return std::nullopt;
      s.remove_prefix(1);
    }
  }
  if (!s.empty()) return std::nullopt;
  return value;
}

// RFC 4291 text (inet_pton6's rules): up to 8 fields of 1-4 hex digits, one "::" standing for one or
// more zero fields, optionally a dotted quad in the last 32 bits.
std::optional<Bytes> parseV6(std::string_view s) {
  Bytes out{};
  size_t tp = 0;
  std::optional<size_t> colonp;
  size_t i = 0;
  if (s.empty()) return std::nullopt;
  if (s[0] == ':') {
    if (s.size() < 2 || s[1] != ':') return std::nullopt;
    i = 1;
  }
  size_t curtok = i;
  bool saw_xdigit = false;
  unsigned val = 0;
  int digits = 0;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    const int d = hexDigitValue(c);
    if (d >= 0) {
      if (++digits > 4) return std::nullopt;
      val = (val << 4) | static_cast<unsigned>(d);
      saw_xdigit = true;
      continue;
    }
    if (c == ':') {
      curtok = i + 1;
      if (!saw_xdigit) {
        if (colonp) return std::nullopt;
        colonp = tp;
        continue;
      }
      if (i + 1 == s.size()) return std::nullopt;
      if (tp + 2 > 16) return std::nullopt;
      out[tp++] = static_cast<uint8_t>(val >> 8);
      out[tp++] = static_cast<uint8_t>(val);
      saw_xdigit = false;
      val = 0;
      digits = 0;
      continue;
    }
    if (c == '.' && tp + 4 <= 16) {
      const auto v4 = parseV4(s.substr(curtok));
      if (!v4) return std::nullopt;
      out[tp++] = static_cast<uint8_t>(*v4 >> 24);
      out[tp++] = static_cast<uint8_t>(*v4 >> 16);
      out[tp++] = static_cast<uint8_t>(*v4 >> 8);
      out[tp++] = static_cast<uint8_t>(*v4);
      saw_xdigit = false;
      break;
    }
    return std::nullopt;
  }
  if (saw_xdigit) {
    if (tp + 2 > 16) return std::nullopt;
    out[tp++] = static_cast<uint8_t>(val >> 8);
    out[tp++] = static_cast<uint8_t>(val);
  }
  if (colonp) {
    if (tp == 16) return std::nullopt;  // "::" must stand for at least one field
    const size_t n = tp - *colonp;
    for (size_t k = 1; k <= n; ++k) {
      out[16 - k] = out[*colonp + n - k];
      out[*colonp + n - k] = 0;
    }
    tp = 16;
  }
  if (tp != 16) return std::nullopt;
  return out;
}

// True if the first `bits` bits of `a` and `b` are equal.
bool samePrefix(const Bytes& a, const Bytes& b, int bits) {
  for (size_t i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    const uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((a[i] & mask) != (b[i] & mask)) return false;
  }
  return true;
}

// Inputs are echoed in messages; keep a pasted novel out of diagnostics and events.
std::string_view echo(std::string_view text) {
  return text.substr(0, 64);
}

}  // namespace

IpAddress IpAddress::v4(uint32_t value) {
  Bytes b{};
  b[0] = static_cast<uint8_t>(value >> 24);
  b[1] = static_cast<uint8_t>(value >> 16);
  b[2] = static_cast<uint8_t>(value >> 8);
  b[3] = static_cast<uint8_t>(value);
  return IpAddress(Family::kV4, b);
}

IpAddress IpAddress::v6(const std::array<uint8_t, 16>& bytes) {
  return IpAddress(Family::kV6, bytes);
}

IpAddress IpAddress::fromBytes(Family family, const std::array<uint8_t, 16>& bytes) {
  if (family == Family::kV6) return v6(bytes);
  return v4((uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) | bytes[3]);
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.find(':') != std::string_view::npos) {
    if (const auto b = parseV6(text)) return v6(*b);
    return std::nullopt;
  }
  if (const auto v = parseV4(text)) return v4(*v);
  return std::nullopt;
}

uint32_t IpAddress::v4Value() const {
  if (!isV4()) return 0;
  return (uint32_t{bytes_[0]} << 24) | (uint32_t{bytes_[1]} << 16) | (uint32_t{bytes_[2]} << 8) |
         uint32_t{bytes_[3]};
}

bool IpAddress::isV4Mapped() const {
  if (!isV6()) return false;
  for (size_t i = 0; i < kMappedPrefix.size(); ++i) {
    if (bytes_[i] != kMappedPrefix[i]) return false;
  }
  return true;
}

IpAddress IpAddress::unmapped() const {
  if (!isV4Mapped()) return *this;
  Bytes b{};
  for (size_t i = 0; i < 4; ++i) b[i] = bytes_[12 + i];
  return IpAddress(Family::kV4, b);
}

std::string IpAddress::toString() const {
  if (isV4()) return fmt::format("{}.{}.{}.{}", bytes_[0], bytes_[1], bytes_[2], bytes_[3]);
  // glibc's inet_ntop implements RFC 5952 section 4 and the mixed form of section 5; the
  // parse(toString()) round trip is fuzzed (ssrf_fuzz) and the RFC's examples are unit-tested.
  char buf[INET6_ADDRSTRLEN] = {};
  if (::inet_ntop(AF_INET6, bytes_.data(), buf, sizeof buf) == nullptr) return "?";  // cannot happen: buf fits
  return buf;
}

Result<Cidr> Cidr::parse(std::string_view text) {
  const size_t slash = text.find('/');
  const auto address = IpAddress::parse(text.substr(0, slash));
  if (!address) {
    return invalidArgument(fmt::format("'{}' is not an IP address or CIDR block (e.g. 10.30.1.0/24, fd00::/8)",
                                       echo(text)));
  }
  const int max = address->isV4() ? 32 : 128;
  int prefix = max;
  if (slash != std::string_view::npos) {
    const std::string_view len = text.substr(slash + 1);
    bool digits = !len.empty() && len.size() <= 3;
    prefix = 0;
    for (const char c : len) {
      if (c < '0' || c > '9') {
        digits = false;
        break;
      }
      prefix = prefix * 10 + (c - '0');
    }
    if (!digits || prefix > max) {
      return invalidArgument(fmt::format("'{}' has an invalid prefix length (0-{} for {})", echo(text), max,
                                         address->isV4() ? "IPv4" : "IPv6"));
    }
  }
  Bytes network = address->bytes();
  for (int bit = prefix; bit < max; ++bit) {
    network[static_cast<size_t>(bit / 8)] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
  }
  const IpAddress masked = IpAddress::fromBytes(address->family(), network);
  if (masked != *address) {
    return invalidArgument(fmt::format("'{}' has host bits set below the prefix; did you mean {}/{}?", echo(text),
                                       masked.toString(), prefix));
  }
  return Cidr(masked, prefix);
}

bool Cidr::contains(const IpAddress& address) const {
  // Both sides unmapped (see the header for why an IPv6 block outside ::ffff:0:0/96 never contains
  // IPv4). A valid block whose network is IPv4-mapped has a prefix of at least 96: ::ffff:0:0 has bit
  // 95 set, so any shorter prefix would have host bits set and not have parsed.
  const IpAddress a = address.unmapped();
  const IpAddress net = network_.unmapped();
  if (a.family() != net.family()) return false;
  const int prefix = net.family() == network_.family() ? prefix_ : prefix_ - 96;
  return samePrefix(a.bytes(), net.bytes(), prefix);
}

std::string Cidr::toString() const {
  return fmt::format("{}/{}", network_.toString(), prefix_);
}

}  // namespace warden
