#include "proxy/ssrf.h"

#include <fmt/format.h>

#include <vector>

#include "common/encoding.h"

namespace warden::proxy {

namespace {

using V6Bytes = std::array<uint8_t, 16>;

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

bool hasHexPrefix(std::string_view s) {
  return s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
}

// One inet_aton part: decimal, octal (leading 0) or hex (0x; "0x" alone is 0, as glibc accepts it).
std::optional<uint64_t> parseV4Part(std::string_view part) {
  if (part.empty()) return std::nullopt;
  unsigned base = 10;
  if (hasHexPrefix(part)) {
    base = 16;
    part.remove_prefix(2);
  } else if (part.size() > 1 && part[0] == '0') {
    base = 8;
    part.remove_prefix(1);
  }
  uint64_t value = 0;
  for (const char c : part) {
    const int d = hexDigitValue(c);
    if (d < 0 || static_cast<unsigned>(d) >= base) return std::nullopt;
    value = value * base + static_cast<unsigned>(d);
    if (value > 0xffffffffULL) return std::nullopt;
  }
  return value;
}

// inet_aton/WHATWG IPv4: 1-4 parts, the last filling the remaining bytes; one trailing dot allowed.
std::optional<uint32_t> parseV4Loose(std::string_view s) {
  if (s.size() > 1 && s.back() == '.') s.remove_suffix(1);
  if (s.empty()) return std::nullopt;
  uint64_t parts[4];
  size_t n = 0;
  while (true) {
    const size_t dot = s.find('.');
    if (n == 4) return std::nullopt;
    const auto v = parseV4Part(s.substr(0, dot));
    if (!v) return std::nullopt;
    parts[n++] = *v;
    if (dot == std::string_view::npos) break;
    s.remove_prefix(dot + 1);
  }
  uint32_t value = 0;
  for (size_t i = 0; i + 1 < n; ++i) {
    if (parts[i] > 0xff) return std::nullopt;
    value |= static_cast<uint32_t>(parts[i]) << (24 - 8 * i);
  }
  const unsigned last_bits = 32 - 8 * static_cast<unsigned>(n - 1);
  const uint64_t last_max = (last_bits == 32) ? 0xffffffffULL : ((1ULL << last_bits) - 1);
  if (parts[n - 1] > last_max) return std::nullopt;
  return value | static_cast<uint32_t>(parts[n - 1]);
}

// A constant IPv6 address for the tables below.
V6Bytes v6Constant(std::string_view text) {
  return IpAddress::parse(text).value().bytes();
}

// The WHATWG "ends in a number" test: the last label (after one trailing dot) is all digits or 0x-hex.
bool endsInNumber(std::string_view s) {
  if (s.size() > 1 && s.back() == '.') s.remove_suffix(1);
  const size_t dot = s.rfind('.');
  const std::string_view last = dot == std::string_view::npos ? s : s.substr(dot + 1);
  if (last.empty()) return false;
  bool all_digits = true;
  for (const char c : last) all_digits = all_digits && isDigit(c);
  if (all_digits) return true;
  if (!hasHexPrefix(last)) return false;
  for (const char c : last.substr(2)) {
    if (hexDigitValue(c) < 0) return false;
  }
  return true;
}

bool isHostnameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || isDigit(c) || c == '-' || c == '_';
}

std::optional<std::string> hostnameProblem(std::string_view s) {
  if (s.size() > 1 && s.back() == '.') s.remove_suffix(1);
  if (s.size() > 253) return "a hostname longer than 253 characters";
  while (true) {
    const size_t dot = s.find('.');
    const std::string_view label = s.substr(0, dot);
    if (label.empty()) return "an empty label";
    if (label.size() > 63) return "a label longer than 63 characters";
    for (const char c : label) {
      if (!isHostnameChar(c)) return "a character not allowed in a hostname";
    }
    if (dot == std::string_view::npos) break;
    s.remove_prefix(dot + 1);
  }
  return std::nullopt;
}

ParsedHost invalidHost(std::string reason) {
  return ParsedHost{HostKind::kInvalid, std::nullopt, std::move(reason)};
}

ParsedHost parseV6Host(std::string_view inner) {
  if (inner.find('%') != std::string_view::npos) return invalidHost("IPv6 zone ids are not accepted");
  const auto v6 = IpAddress::parse(inner);
  if (!v6 || !v6->isV6()) return invalidHost("not a valid IPv6 address");
  return ParsedHost{HostKind::kIpAddress, *v6, {}};
}

bool inPrefix(const V6Bytes& a, const V6Bytes& net, int prefix) {
  int bits = prefix;
  for (size_t i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    const uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((a[i] & mask) != (net[i] & mask)) return false;
  }
  return true;
}

bool inV4(uint32_t a, uint32_t net, int prefix) {
  if (prefix == 0) return true;
  const uint32_t mask = prefix >= 32 ? 0xffffffffU : ~(0xffffffffU >> prefix);
  return (a & mask) == (net & mask);
}

std::string v4Text(uint32_t v) {
  return fmt::format("{}.{}.{}.{}", v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff);
}

// A category and the words after "<address> <verb> ".
struct Description {
  AddressCategory category;
  std::string what;
  std::string_view verb = "is";
};

struct V4Entry {
  uint32_t net;
  int prefix;
  AddressCategory category;
  std::string_view what;
};

// Checked in order: exact metadata addresses first, then ranges (broadcast before 240/4).
constexpr V4Entry kV4Table[] = {
    {0xa9fea9fe, 32, AddressCategory::kCloudMetadata,
     "a cloud metadata address (AWS/GCP/Azure/OCI/OpenStack)"},
    {0xa9feaa02, 32, AddressCategory::kCloudMetadata, "a cloud metadata address (AWS ECS task metadata)"},
    {0xa9fea9fd, 32, AddressCategory::kCloudMetadata, "a cloud metadata address (AWS VPC DNS)"},
    {0xa9fea97b, 32, AddressCategory::kCloudMetadata, "a cloud metadata address (AWS time sync)"},
    {0xa9fe0017, 32, AddressCategory::kCloudMetadata, "a cloud metadata address (Tencent Cloud)"},
    {0x646464c8, 32, AddressCategory::kCloudMetadata, "a cloud metadata address (Alibaba Cloud)"},
    {0xa83f8110, 32, AddressCategory::kCloudMetadata, "a cloud metadata address (Azure WireServer)"},
    {0xc00000c0, 32, AddressCategory::kCloudMetadata, "a cloud metadata address (Oracle Cloud)"},
    {0x00000000, 8, AddressCategory::kUnspecified, "\"this network\" (0.0.0.0/8)"},
    {0x0a000000, 8, AddressCategory::kPrivate, "private (10.0.0.0/8)"},
    {0x64400000, 10, AddressCategory::kPrivate, "private shared address space (100.64.0.0/10)"},
    {0x7f000000, 8, AddressCategory::kLoopback, "loopback (127.0.0.0/8)"},
    {0xa9fe0000, 16, AddressCategory::kLinkLocal, "link-local (169.254.0.0/16)"},
    {0xac100000, 12, AddressCategory::kPrivate, "private (172.16.0.0/12)"},
    {0xc0000000, 24, AddressCategory::kReserved, "reserved for IETF protocol assignments (192.0.0.0/24)"},
    {0xc0000200, 24, AddressCategory::kReserved, "reserved for documentation (192.0.2.0/24)"},
    {0xc0586300, 24, AddressCategory::kReserved, "reserved (6to4 relay anycast, 192.88.99.0/24)"},
    {0xc0a80000, 16, AddressCategory::kPrivate, "private (192.168.0.0/16)"},
    {0xc6120000, 15, AddressCategory::kReserved, "reserved for benchmarking (198.18.0.0/15)"},
    {0xc6336400, 24, AddressCategory::kReserved, "reserved for documentation (198.51.100.0/24)"},
    {0xcb007100, 24, AddressCategory::kReserved, "reserved for documentation (203.0.113.0/24)"},
    {0xe0000000, 4, AddressCategory::kMulticast, "multicast (224.0.0.0/4)"},
    {0xffffffff, 32, AddressCategory::kBroadcast, "the limited broadcast address"},
    {0xf0000000, 4, AddressCategory::kReserved, "reserved (240.0.0.0/4)"},
};

Description describeV4(uint32_t v) {
  for (const auto& e : kV4Table) {
    if (inV4(v, e.net, e.prefix)) return {e.category, std::string(e.what)};
  }
  return {AddressCategory::kPublic, "a public address"};
}

struct V6Entry {
  std::string_view net;
  int prefix;
  AddressCategory category;
  std::string_view what;
};

constexpr V6Entry kV6Table[] = {
    {"fd00:ec2::254", 128, AddressCategory::kCloudMetadata, "a cloud metadata address (AWS IMDS)"},
    {"fd00:ec2::253", 128, AddressCategory::kCloudMetadata, "a cloud metadata address (AWS VPC DNS)"},
    {"fd00:ec2::123", 128, AddressCategory::kCloudMetadata, "a cloud metadata address (AWS time sync)"},
    {"fd20:ce::254", 128, AddressCategory::kCloudMetadata, "a cloud metadata address (GCP)"},
    {"::", 128, AddressCategory::kUnspecified, "the unspecified address (::)"},
    {"::1", 128, AddressCategory::kLoopback, "loopback (::1)"},
    {"64:ff9b:1::", 48, AddressCategory::kReserved, "reserved for local-use NAT64 (64:ff9b:1::/48)"},
    {"100::", 64, AddressCategory::kReserved, "reserved (discard-only, 100::/64)"},
    {"2001:2::", 48, AddressCategory::kReserved, "reserved for benchmarking (2001:2::/48)"},
    {"2001:10::", 28, AddressCategory::kReserved, "reserved (ORCHID, 2001:10::/28)"},
    {"2001:20::", 28, AddressCategory::kReserved, "reserved (ORCHIDv2, 2001:20::/28)"},
    {"2001::", 32, AddressCategory::kReserved, "reserved (Teredo, 2001::/32)"},
    {"2001:db8::", 32, AddressCategory::kReserved, "reserved for documentation (2001:db8::/32)"},
    {"3fff::", 20, AddressCategory::kReserved, "reserved for documentation (3fff::/20)"},
    {"5f00::", 16, AddressCategory::kReserved, "reserved (SRv6 SIDs, 5f00::/16)"},
    {"fe80::", 10, AddressCategory::kLinkLocal, "link-local (fe80::/10)"},
    {"fec0::", 10, AddressCategory::kPrivate, "private (deprecated site-local, fec0::/10)"},
    {"fc00::", 7, AddressCategory::kPrivate, "private (unique local, fc00::/7)"},
    {"ff00::", 8, AddressCategory::kMulticast, "multicast (ff00::/8)"},
};

struct V6Prefix {
  V6Bytes net;
  int prefix;
  AddressCategory category;
  std::string_view what;
};

const std::vector<V6Prefix>& v6Table() {
  static const std::vector<V6Prefix> table = [] {
    std::vector<V6Prefix> t;
    for (const auto& e : kV6Table) t.push_back({v6Constant(e.net), e.prefix, e.category, e.what});
    return t;
  }();
  return table;
}

uint32_t v4At(const V6Bytes& b, size_t offset) {
  return (uint32_t{b[offset]} << 24) | (uint32_t{b[offset + 1]} << 16) | (uint32_t{b[offset + 2]} << 8) |
         uint32_t{b[offset + 3]};
}

Description embedded(uint32_t v4, std::string_view how) {
  Description inner = describeV4(v4);
  return {inner.category, fmt::format("IPv4 {} ({}), which is {}", v4Text(v4), how, inner.what), "embeds"};
}

Description describeV6(const V6Bytes& b) {
  static const V6Bytes kMapped = v6Constant("::ffff:0:0");
  static const V6Bytes kTranslated = v6Constant("::ffff:0:0:0");
  static const V6Bytes kZero{};
  static const V6Bytes kNat64 = v6Constant("64:ff9b::");
  static const V6Bytes k6to4 = v6Constant("2002::");
  static const V6Bytes kGlobal = v6Constant("2000::");
  const auto& table = v6Table();
  // Exact addresses (metadata, ::, ::1) before the embedded-IPv4 forms that would swallow :: and ::1.
  for (const auto& e : table) {
    if (e.prefix == 128 && inPrefix(b, e.net, 128)) return {e.category, std::string(e.what)};
  }
  if (inPrefix(b, kMapped, 96)) return embedded(v4At(b, 12), "IPv4-mapped");
  if (inPrefix(b, kTranslated, 96)) return embedded(v4At(b, 12), "IPv4-translated");
  if (inPrefix(b, kZero, 96)) return embedded(v4At(b, 12), "IPv4-compatible");
  if (inPrefix(b, kNat64, 96)) return embedded(v4At(b, 12), "NAT64 64:ff9b::/96");
  if (inPrefix(b, k6to4, 16)) return embedded(v4At(b, 2), "6to4 2002::/16");
  for (const auto& e : table) {
    if (e.prefix != 128 && inPrefix(b, e.net, e.prefix)) return {e.category, std::string(e.what)};
  }
  if (!inPrefix(b, kGlobal, 3)) {
    return {AddressCategory::kReserved, "reserved (outside global unicast 2000::/3)"};
  }
  return {AddressCategory::kPublic, "a public address"};
}

}  // namespace

ParsedHost parseHost(std::string_view host) {
  if (host.empty()) return invalidHost("an empty host");
  if (host.front() == '[') {
    if (host.size() < 2 || host.back() != ']') return invalidHost("an unterminated IPv6 literal");
    return parseV6Host(host.substr(1, host.size() - 2));
  }
  if (host.find(':') != std::string_view::npos) return parseV6Host(host);
  if (endsInNumber(host)) {
    const auto v4 = parseV4Loose(host);
    if (!v4) return invalidHost("a numeric host that is not a valid IPv4 address");
    return ParsedHost{HostKind::kIpAddress, IpAddress::v4(*v4), {}};
  }
  if (auto problem = hostnameProblem(host)) return invalidHost(std::move(*problem));
  return ParsedHost{HostKind::kHostname, std::nullopt, {}};
}

std::optional<IpAddress> parseIpLiteral(std::string_view host) {
  return parseHost(host).address;
}

std::string_view addressCategoryName(AddressCategory category) {
  switch (category) {
    case AddressCategory::kPublic:
      return "public";
    case AddressCategory::kLoopback:
      return "loopback";
    case AddressCategory::kLinkLocal:
      return "link_local";
    case AddressCategory::kUnspecified:
      return "unspecified";
    case AddressCategory::kCloudMetadata:
      return "cloud_metadata";
    case AddressCategory::kPrivate:
      return "private";
    case AddressCategory::kMulticast:
      return "multicast";
    case AddressCategory::kBroadcast:
      return "broadcast";
    case AddressCategory::kReserved:
      return "reserved";
  }
  return "unknown";
}

AddressClass classify(const IpAddress& address) {
  Description d = address.isV4() ? describeV4(address.v4Value()) : describeV6(address.bytes());
  return AddressClass{d.category, fmt::format("{} {} {}", address.toString(), d.verb, d.what)};
}

bool isAlwaysBlocked(AddressCategory category, const SsrfOptions& options) {
  switch (category) {
    case AddressCategory::kPublic:
    case AddressCategory::kPrivate:
      return false;
    case AddressCategory::kLoopback:
      return !options.allow_loopback;
    case AddressCategory::kLinkLocal:
    case AddressCategory::kUnspecified:
    case AddressCategory::kCloudMetadata:
    case AddressCategory::kMulticast:
    case AddressCategory::kBroadcast:
    case AddressCategory::kReserved:
      return true;
  }
  return true;
}

bool needsAllowedIps(AddressCategory category) {
  return category == AddressCategory::kPrivate;
}

const Cidr* findCoveringCidr(const IpAddress& address, std::span<const Cidr> blocks) {
  for (const Cidr& cidr : blocks) {
    if (cidr.contains(address)) return &cidr;
  }
  return nullptr;
}

AddressDecision checkAddress(const IpAddress& address, std::span<const Cidr> allowed_ips,
                             const SsrfOptions& options) {
  AddressClass c = classify(address);
  if (isAlwaysBlocked(c.category, options)) {
    return {false, c.category, c.reason + "; always blocked"};
  }
  if (c.category == AddressCategory::kLoopback) {
    return {true, c.category, c.reason + "; allowed by allow_loopback (tests only)"};
  }
  if (needsAllowedIps(c.category)) {
    if (const Cidr* cidr = findCoveringCidr(address, allowed_ips)) {
      return {true, c.category, fmt::format("{}; allowed by allowed_ips {}", c.reason, cidr->toString())};
    }
    if (options.exact_host_declared) {
      return {true, c.category, c.reason + "; allowed: the policy declares this exact host"};
    }
    return {false, c.category, c.reason + "; private addresses need a matching allowed_ips entry"};
  }
  return {true, c.category, c.reason};
}

}  // namespace warden::proxy
