#include "common/ip_address.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <array>
#include <random>
#include <string>
#include <vector>

namespace warden {
namespace {

IpAddress ip(std::string_view text) {
  auto a = IpAddress::parse(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a.value_or(IpAddress::v4(0xffffffff));
}

Cidr cidr(std::string_view text) {
  auto c = Cidr::parse(text);
  EXPECT_TRUE(c.ok()) << text << ": " << (c.ok() ? "" : c.error().message());
  return c.ok() ? *c : *Cidr::parse("255.255.255.255/32");
}

// What glibc's inet_pton says about `text`: 4 or 16 bytes, or nullopt.
std::optional<std::vector<uint8_t>> inetPton(const std::string& text) {
  std::array<uint8_t, 16> b{};
  if (::inet_pton(AF_INET, text.c_str(), b.data()) == 1) return std::vector<uint8_t>(b.begin(), b.begin() + 4);
  if (::inet_pton(AF_INET6, text.c_str(), b.data()) == 1) return std::vector<uint8_t>(b.begin(), b.end());
  return std::nullopt;
}

std::optional<std::vector<uint8_t>> ours(const std::string& text) {
  const auto a = IpAddress::parse(text);
  if (!a) return std::nullopt;
  const size_t n = a->isV4() ? 4 : 16;
  return std::vector<uint8_t>(a->bytes().begin(), a->bytes().begin() + static_cast<std::ptrdiff_t>(n));
}

TEST(IpAddressTest, ParsesDottedQuadAndNoOtherIpv4Spelling) {
  EXPECT_EQ(ip("10.0.0.1"), IpAddress::v4(0x0a000001));
  EXPECT_EQ(ip("255.255.255.255").v4Value(), 0xffffffffu);
  EXPECT_EQ(ip("0.0.0.0").v4Value(), 0u);
  for (std::string_view s : {"127.1", "2130706433", "0x7f000001", "0177.0.0.1", "010.0.0.1", "127.0.0.1.",
                             "256.0.0.1", "1.2.3.4.5", "1..2.3", " 1.2.3.4", "1.2.3.4 ", "1.2.3.-4", "1.2.3.+4",
                             "1.2.3.0004", "", ".", "1.2.3.4/32", "example.com"}) {
    EXPECT_FALSE(IpAddress::parse(s).has_value()) << s;
  }
  EXPECT_FALSE(IpAddress::parse(std::string_view("1.2.3.4\0", 8)).has_value());
}

TEST(IpAddressTest, ParsesIpv6TextAndRejectsBracketsZonesAndMalformed) {
  EXPECT_EQ(ip("0:0:0:0:0:0:0:1"), ip("::1"));
  EXPECT_EQ(ip("FD00:EC2:0::254"), ip("fd00:ec2::254"));
  EXPECT_EQ(ip("::ffff:10.0.0.1"), ip("::ffff:a00:1"));
  EXPECT_TRUE(ip("::").isV6());
  EXPECT_TRUE(ip("1:2:3:4:5:6:7::").isV6());
  for (std::string_view s : {"[::1]", "fe80::1%eth0", "fe80::1%25eth0", ":::1", "1::2::3", "1:2:3:4:5:6:7:8:9",
                             "12345::", "1:", ":1", "1:2:3:4:5:6:7:8::", "::ffff:127.1", "::ffff:0177.0.0.1",
                             "::ffff:1.2.3.4.5", "::1.2.3.4:5", "g::1", "::1/128", ":", ""}) {
    EXPECT_FALSE(IpAddress::parse(s).has_value()) << s;
  }
}

TEST(IpAddressTest, AcceptsExactlyWhatInetPtonAccepts) {
  const std::vector<std::string> seeds = {
      "10.0.0.1",      "255.255.255.255", "::",           "::1",           "1::",           "fe80::1",
      "::ffff:1.2.3.4", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:1.2.3.4", "::1.2.3.4", "2001:db8::ff00:42:8329",
      "0.0.0.0",       "1:2::3:4",        "ffff::ffff"};
  for (const auto& s : seeds) EXPECT_EQ(ours(s), inetPton(s)) << s;
  // Random edits of valid addresses: every near miss must be judged as inet_pton judges it.
  std::mt19937 rng(20240611);  // fixed seed: hermetic and reproducible
  const std::string alphabet = "0123456789abcdefABCDEF:.x%[] ";
  for (int i = 0; i < 200000; ++i) {
    std::string s = seeds[rng() % seeds.size()];
    for (int edits = 1 + static_cast<int>(rng() % 3); edits > 0; --edits) {
      const size_t at = s.empty() ? 0 : rng() % (s.size() + 1);
      const char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0:
          s.insert(s.begin() + static_cast<std::ptrdiff_t>(at), c);
          break;
        case 1:
          if (at < s.size()) s.erase(at, 1);
          break;
        default:
          if (at < s.size()) s[at] = c;
          break;
      }
    }
    ASSERT_EQ(ours(s), inetPton(s)) << "'" << s << "'";
  }
}

TEST(IpAddressTest, ToStringIsCanonicalRfc5952) {
  EXPECT_EQ(ip("10.0.0.1").toString(), "10.0.0.1");
  EXPECT_EQ(ip("2001:0DB8::0001").toString(), "2001:db8::1");                   // 4.1, 4.3
  EXPECT_EQ(ip("2001:db8:0:0:1:0:0:1").toString(), "2001:db8::1:0:0:1");        // 4.2.3: leftmost on a tie
  EXPECT_EQ(ip("2001:db8:0:0:0:1:0:0").toString(), "2001:db8::1:0:0");          // 4.2.3: longest run
  EXPECT_EQ(ip("2001:db8:0:1:1:1:1:1").toString(), "2001:db8:0:1:1:1:1:1");      // 4.2.2: no "::" for one field
  EXPECT_EQ(ip("0:0:0:0:0:0:0:0").toString(), "::");
  EXPECT_EQ(ip("1::").toString(), "1::");
  EXPECT_EQ(ip("::ffff:7f00:1").toString(), "::ffff:127.0.0.1");                // 5: mixed form
  for (std::string_view s : {"10.0.0.1", "::", "::1", "fd00:ec2::254", "::ffff:10.1.2.3", "1:2:3:4:5:6:7:8"}) {
    EXPECT_EQ(IpAddress::parse(ip(s).toString()), ip(s)) << s;
  }
}

TEST(IpAddressTest, MappedAddressesUnmapButStayDistinctValues) {
  const IpAddress mapped = ip("::ffff:10.1.2.3");
  EXPECT_TRUE(mapped.isV6());
  EXPECT_TRUE(mapped.isV4Mapped());
  EXPECT_EQ(mapped.unmapped(), ip("10.1.2.3"));
  EXPECT_NE(mapped, ip("10.1.2.3"));
  EXPECT_FALSE(ip("::10.1.2.3").isV4Mapped());  // IPv4-compatible is not the IPv4 address
  EXPECT_EQ(ip("::10.1.2.3").unmapped(), ip("::10.1.2.3"));
  EXPECT_FALSE(ip("10.1.2.3").isV4Mapped());
  EXPECT_EQ(ip("10.1.2.3").unmapped(), ip("10.1.2.3"));
}

TEST(IpAddressTest, ExposesBytesInNetworkOrderAndOrdersByFamilyThenBytes) {
  const IpAddress a = IpAddress::v4(0x7f000001);
  EXPECT_EQ(a.family(), IpAddress::Family::kV4);
  EXPECT_EQ(a.bytes()[0], 127);
  EXPECT_EQ(a.bytes()[3], 1);
  EXPECT_EQ(a.bytes()[4], 0);
  EXPECT_EQ(ip("::1").v4Value(), 0u);
  EXPECT_LT(ip("10.0.0.1"), ip("10.0.0.2"));
  EXPECT_LT(ip("255.255.255.255"), ip("::"));
  EXPECT_LT(ip("::1"), ip("fe80::"));
}

TEST(CidrTest, ParsesIpv4AndIpv6BlocksAndChecksMembership) {
  const Cidr v4 = cidr("10.30.1.0/24");
  EXPECT_TRUE(v4.contains(ip("10.30.1.77")));
  EXPECT_FALSE(v4.contains(ip("10.30.2.1")));
  EXPECT_FALSE(v4.contains(ip("fd00::1")));
  const Cidr v4b = cidr("172.16.0.0/12");
  EXPECT_TRUE(v4b.contains(ip("172.31.1.1")));
  EXPECT_FALSE(v4b.contains(ip("172.32.0.0")));
  const Cidr v6 = cidr("fd00::/8");
  EXPECT_TRUE(v6.contains(ip("fd12:3456::1")));
  EXPECT_FALSE(v6.contains(ip("fe80::1")));
  EXPECT_FALSE(v6.contains(ip("10.0.0.1")));
  const Cidr v6b = cidr("fc00::/7");
  EXPECT_TRUE(v6b.contains(ip("fdff::1")));
  EXPECT_FALSE(v6b.contains(ip("fe00::1")));
  EXPECT_TRUE(cidr("0.0.0.0/0").contains(ip("8.8.8.8")));
  EXPECT_TRUE(cidr("::/0").contains(ip("2606:4700::1111")));
  EXPECT_TRUE(cidr("10.30.1.5").contains(ip("10.30.1.5")));
  EXPECT_FALSE(cidr("10.30.1.5").contains(ip("10.30.1.6")));
}

TEST(CidrTest, BareAddressIsAHostBlockAndToStringRoundTrips) {
  EXPECT_EQ(cidr("10.30.1.5").toString(), "10.30.1.5/32");
  EXPECT_EQ(cidr("::1").prefixLength(), 128);
  EXPECT_EQ(cidr("FD00:0::/8").toString(), "fd00::/8");
  EXPECT_EQ(cidr("::ffff:10.0.0.0/104").toString(), "::ffff:10.0.0.0/104");
  EXPECT_EQ(cidr("10.30.0.0/16").network(), ip("10.30.0.0"));
  for (std::string_view s : {"10.30.1.0/24", "0.0.0.0/0", "fd00::/8", "::/0", "::1/128", "::ffff:0:0/96"}) {
    EXPECT_EQ(cidr(cidr(s).toString()), cidr(s)) << s;
  }
}

// An IPv4-mapped address is its IPv4 address; an IPv6 block reaches IPv4 only through the mapped range.
TEST(CidrTest, TreatsIpv4MappedAsIpv4AndNeverLetsNativeIpv6BlocksCoverIpv4) {
  EXPECT_TRUE(cidr("10.0.0.0/8").contains(ip("::ffff:10.1.2.3")));
  EXPECT_FALSE(cidr("10.0.0.0/8").contains(ip("::ffff:11.1.2.3")));
  EXPECT_FALSE(cidr("10.0.0.0/8").contains(ip("::10.1.2.3")));  // IPv4-compatible: not the same address
  EXPECT_TRUE(cidr("::ffff:10.0.0.0/104").contains(ip("10.1.2.3")));
  EXPECT_TRUE(cidr("::ffff:10.0.0.0/104").contains(ip("::ffff:10.1.2.3")));
  EXPECT_FALSE(cidr("::ffff:10.0.0.0/104").contains(ip("11.1.2.3")));
  EXPECT_TRUE(cidr("::ffff:0:0/96").contains(ip("192.0.2.1")));
  EXPECT_TRUE(cidr("::ffff:10.1.2.3").contains(ip("10.1.2.3")));
  // The deliberate edge: ::/0 is every IPv6 address, not every IPv4 one, in either spelling.
  EXPECT_FALSE(cidr("::/0").contains(ip("192.0.2.1")));
  EXPECT_FALSE(cidr("::/0").contains(ip("::ffff:192.0.2.1")));
  EXPECT_FALSE(cidr("::/80").contains(ip("10.1.2.3")));
  EXPECT_FALSE(cidr("::fffe:0:0/95").contains(ip("10.1.2.3")));
  EXPECT_TRUE(cidr("::/0").contains(ip("::10.1.2.3")));
  EXPECT_FALSE(cidr("0.0.0.0/0").contains(ip("fd00::1")));
}

TEST(CidrTest, RejectsBadAddressesAndPrefixes) {
  for (std::string_view s :
       {"300.1.1.1/8", "10.0.0.0/33", "::1/129", "fc00::/129", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/-0",
        "10.0.0.0/+8", "10.0.0.0/8x", "10.0.0.0/x", "10.0.0.0/0008", "10.0.0.0/8/8", "example.com/8",
        "010.0.0.0/8", "127.1/32", "0x7f000001", "[::1]/128", "fe80::1%eth0/64", "", "/8", " 10.0.0.0/8"}) {
    EXPECT_FALSE(Cidr::parse(s).ok()) << s;
  }
  EXPECT_NE(Cidr::parse("nonsense").error().message().find("'nonsense' is not an IP address or CIDR block"),
            std::string::npos);
  EXPECT_NE(Cidr::parse("10.0.0.0/33").error().message().find("invalid prefix length (0-32 for IPv4)"),
            std::string::npos);
  EXPECT_NE(Cidr::parse("::/129").error().message().find("invalid prefix length (0-128 for IPv6)"),
            std::string::npos);
  EXPECT_LE(Cidr::parse(std::string(10000, 'a')).error().message().size(), 200u);
}

TEST(CidrTest, HostBitsSetAreAnErrorThatSuggestsTheNetwork) {
  const auto v4 = Cidr::parse("10.30.1.5/24");
  ASSERT_FALSE(v4.ok());
  EXPECT_NE(v4.error().message().find("did you mean 10.30.1.0/24?"), std::string::npos);
  const auto v6 = Cidr::parse("fd00::1/8");
  ASSERT_FALSE(v6.ok());
  EXPECT_NE(v6.error().message().find("did you mean fd00::/8?"), std::string::npos);
  EXPECT_FALSE(Cidr::parse("::ffff:0:0/95").ok());
  EXPECT_TRUE(Cidr::parse("10.30.1.5/32").ok());
  EXPECT_TRUE(Cidr::parse("0.0.0.0/0").ok());
}

}  // namespace
}  // namespace warden
