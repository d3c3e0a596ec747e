#include "proxy/ssrf.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace warden::proxy {
namespace {

IpAddress ip(std::string_view text) {
  auto a = parseIpLiteral(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a.value_or(IpAddress::v4(0xffffffff));
}

AddressCategory categoryOf(std::string_view text) {
  return classify(ip(text)).category;
}

TEST(SsrfTest, ParsesEveryLoopbackSpellingAsTheSameAddress) {
  const IpAddress loopback = IpAddress::v4(0x7f000001);
  for (std::string_view s :
       {"127.0.0.1", "127.1", "127.0.1", "2130706433", "017700000001", "0177.0.0.1", "0x7f000001",
        "0X7F000001", "0x7f.0.0.1", "0x7f.1", "0177.0.0x1", "127.0.0.1.", "0000000000000000000177.1"}) {
    EXPECT_EQ(parseIpLiteral(s), loopback) << s;
  }
}

TEST(SsrfTest, ClassifiesTheClassicSsrfListAsBlockedWithReason) {
  for (std::string_view s :
       {"127.0.0.1", "127.1", "0x7f000001", "2130706433", "017700000001", "[::ffff:127.0.0.1]", "[::1]",
        "0.0.0.0", "169.254.169.254", "::ffff:7f00:1", "[::]", "0", "0x0"}) {
    const AddressClass c = classify(ip(s));
    EXPECT_TRUE(isAlwaysBlocked(c.category)) << s << " -> " << c.reason;
    EXPECT_FALSE(c.reason.empty()) << s;
    const AddressDecision d = checkAddress(ip(s), {});
    EXPECT_FALSE(d.allowed) << s;
  }
}

TEST(SsrfTest, ReasonsNameTheAddressAndTheRange) {
  EXPECT_EQ(classify(ip("127.1")).reason, "127.0.0.1 is loopback (127.0.0.0/8)");
  EXPECT_EQ(classify(ip("169.254.1.1")).reason, "169.254.1.1 is link-local (169.254.0.0/16)");
  EXPECT_EQ(classify(ip("169.254.169.254")).category, AddressCategory::kCloudMetadata);
  EXPECT_NE(classify(ip("169.254.169.254")).reason.find("169.254.169.254 is a cloud metadata address"),
            std::string::npos);
  EXPECT_EQ(classify(ip("[::ffff:127.0.0.1]")).reason,
            "::ffff:127.0.0.1 embeds IPv4 127.0.0.1 (IPv4-mapped), which is loopback (127.0.0.0/8)");
}

TEST(SsrfTest, ClassifiesCategories) {
  EXPECT_EQ(categoryOf("10.1.2.3"), AddressCategory::kPrivate);
  EXPECT_EQ(categoryOf("172.16.0.1"), AddressCategory::kPrivate);
  EXPECT_EQ(categoryOf("172.31.255.255"), AddressCategory::kPrivate);
  EXPECT_EQ(categoryOf("172.32.0.1"), AddressCategory::kPublic);
  EXPECT_EQ(categoryOf("192.168.1.1"), AddressCategory::kPrivate);
  EXPECT_EQ(categoryOf("100.64.0.1"), AddressCategory::kPrivate);
  EXPECT_EQ(categoryOf("93.184.216.34"), AddressCategory::kPublic);
  EXPECT_EQ(categoryOf("8.8.8.8"), AddressCategory::kPublic);
  EXPECT_EQ(categoryOf("0.1.2.3"), AddressCategory::kUnspecified);
  EXPECT_EQ(categoryOf("::"), AddressCategory::kUnspecified);
  EXPECT_EQ(categoryOf("::1"), AddressCategory::kLoopback);
  EXPECT_EQ(categoryOf("fe80::1"), AddressCategory::kLinkLocal);
  EXPECT_EQ(categoryOf("fd12::1"), AddressCategory::kPrivate);
  EXPECT_EQ(categoryOf("fc00::1"), AddressCategory::kPrivate);
  EXPECT_EQ(categoryOf("224.0.0.1"), AddressCategory::kMulticast);
  EXPECT_EQ(categoryOf("ff02::1"), AddressCategory::kMulticast);
  EXPECT_EQ(categoryOf("255.255.255.255"), AddressCategory::kBroadcast);
  EXPECT_EQ(categoryOf("240.0.0.1"), AddressCategory::kReserved);
  EXPECT_EQ(categoryOf("192.0.2.1"), AddressCategory::kReserved);
  EXPECT_EQ(categoryOf("2001:db8::1"), AddressCategory::kReserved);
  EXPECT_EQ(categoryOf("2606:4700::1111"), AddressCategory::kPublic);
  EXPECT_EQ(categoryOf("4000::1"), AddressCategory::kReserved);
}

TEST(SsrfTest, ClassifiesCloudMetadataAddresses) {
  for (std::string_view s :
       {"169.254.169.254", "fd00:ec2::254", "[fd00:ec2::254]", "100.100.100.200", "168.63.129.16",
        "169.254.170.2", "0xa9fea9fe", "2852039166", "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe"}) {
    EXPECT_EQ(categoryOf(s), AddressCategory::kCloudMetadata) << s;
  }
}

TEST(SsrfTest, ClassifiesEmbeddedIpv4ByTheEmbeddedAddress) {
  EXPECT_EQ(categoryOf("::ffff:7f00:1"), AddressCategory::kLoopback);
  EXPECT_EQ(categoryOf("::ffff:10.0.0.1"), AddressCategory::kPrivate);
  EXPECT_EQ(categoryOf("::ffff:8.8.8.8"), AddressCategory::kPublic);
  EXPECT_EQ(categoryOf("::127.0.0.1"), AddressCategory::kLoopback);  // IPv4-compatible
  EXPECT_EQ(categoryOf("64:ff9b::127.0.0.1"), AddressCategory::kLoopback);
  EXPECT_EQ(categoryOf("64:ff9b::8.8.8.8"), AddressCategory::kPublic);
  EXPECT_EQ(categoryOf("2002:7f00:1::"), AddressCategory::kLoopback);  // 6to4
  EXPECT_EQ(categoryOf("::ffff:0:127.0.0.1"), AddressCategory::kLoopback);
}

TEST(SsrfTest, HostnamesAreNotLiterals) {
  for (std::string_view s : {"0x1g", "example.com", "api.github.com", "localhost", "127.0.0.1.nip.io",
                             "0x7f.example", "a-b_c.example.", "1e100.net"}) {
    EXPECT_FALSE(parseIpLiteral(s).has_value()) << s;
    EXPECT_EQ(parseHost(s).kind, HostKind::kHostname) << s;
  }
}

TEST(SsrfTest, RejectsNumericHostsThatAreNoValidAddress) {
  for (std::string_view s : {"1.2.3.4.5", "256.0.0.1", "08.0.0.1", "4294967296", "127.0.0.0x100", "1..1",
                             "example.123", "127.0.0.1..", "1.2.3.256"}) {
    EXPECT_EQ(parseHost(s).kind, HostKind::kInvalid) << s;
    EXPECT_FALSE(parseIpLiteral(s).has_value()) << s;
  }
}

TEST(SsrfTest, ParsesIpv6WithAndWithoutBrackets) {
  EXPECT_EQ(ip("[::1]"), ip("::1"));
  EXPECT_EQ(ip("0:0:0:0:0:0:0:1"), ip("::1"));
  EXPECT_EQ(ip("::ffff:127.0.0.1").toString(), "::ffff:127.0.0.1");
  EXPECT_EQ(ip("FD00:EC2:0::254").toString(), "fd00:ec2::254");
  EXPECT_EQ(ip("1::").toString(), "1::");
}

TEST(SsrfTest, RejectsMalformedIpv6AndZoneIds) {
  for (std::string_view s : {"[fe80::1%eth0]", "fe80::1%25eth0", "[::1", "::1]", ":::1", "1:2:3:4:5:6:7:8:9",
                             "12345::", "1::2::3", "[127.0.0.1]", "::ffff:127.1", "::ffff:0177.0.0.1",
                             "1:2:3:4:5:6:7::8", "1:", ":1", "[]", "[v1.x]", "g::1"}) {
    EXPECT_EQ(parseHost(s).kind, HostKind::kInvalid) << s;
  }
  EXPECT_NE(parseHost("[fe80::1%eth0]").reason.find("zone"), std::string::npos);
}

TEST(SsrfTest, PrivateAddressesNeedAllowedIps) {
  const auto cidr = Cidr::parse("10.30.1.5/32");
  ASSERT_TRUE(cidr.ok());
  const std::vector<Cidr> allowed{*cidr};
  EXPECT_TRUE(needsAllowedIps(AddressCategory::kPrivate));
  EXPECT_FALSE(checkAddress(ip("10.30.1.5"), {}).allowed);
  EXPECT_TRUE(checkAddress(ip("10.30.1.5"), allowed).allowed);
  EXPECT_TRUE(checkAddress(ip("::ffff:10.30.1.5"), allowed).allowed);
  EXPECT_FALSE(checkAddress(ip("10.30.1.6"), allowed).allowed);
  EXPECT_NE(checkAddress(ip("10.30.1.5"), allowed).reason.find("allowed_ips 10.30.1.5/32"),
            std::string::npos);
  SsrfOptions declared;
  declared.exact_host_declared = true;
  EXPECT_TRUE(checkAddress(ip("10.30.1.6"), {}, declared).allowed);
}

TEST(SsrfTest, AllowedIpsNeverUnblockAlwaysBlockedRanges) {
  const std::vector<Cidr> allowed{*Cidr::parse("0.0.0.0/0"), *Cidr::parse("::/0")};
  for (std::string_view s : {"127.0.0.1", "169.254.169.254", "0.0.0.0", "::1", "fe80::1", "fd00:ec2::254"}) {
    EXPECT_FALSE(checkAddress(ip(s), allowed).allowed) << s;
  }
}

TEST(SsrfTest, AllowLoopbackLetsOnlyLoopbackThrough) {
  SsrfOptions options;
  options.allow_loopback = true;
  EXPECT_TRUE(checkAddress(ip("127.0.0.1"), {}, options).allowed);
  EXPECT_TRUE(checkAddress(ip("::1"), {}, options).allowed);
  EXPECT_FALSE(checkAddress(ip("169.254.169.254"), {}, options).allowed);
  EXPECT_FALSE(checkAddress(ip("0.0.0.0"), {}, options).allowed);
}

TEST(SsrfTest, PublicAddressesAreAllowed) {
  EXPECT_TRUE(checkAddress(ip("93.184.216.34"), {}).allowed);
  EXPECT_TRUE(checkAddress(ip("2606:2800:220:1:248:1893:25c8:1946"), {}).allowed);
}

// The ::/0 decision where it matters: an IPv6 block in allowed_ips does not open private IPv4.
TEST(SsrfTest, Ipv6AllowedIpsReachPrivateIpv4OnlyThroughTheMappedRange) {
  const std::vector<Cidr> any_v6{*Cidr::parse("::/0")};
  EXPECT_FALSE(checkAddress(ip("10.1.2.3"), any_v6).allowed);
  EXPECT_FALSE(checkAddress(ip("::ffff:10.1.2.3"), any_v6).allowed);
  EXPECT_TRUE(checkAddress(ip("fd00::1"), any_v6).allowed);
  const std::vector<Cidr> mapped{*Cidr::parse("::ffff:10.0.0.0/104")};
  EXPECT_TRUE(checkAddress(ip("10.1.2.3"), mapped).allowed);
  EXPECT_TRUE(checkAddress(ip("::ffff:10.1.2.3"), mapped).allowed);
  EXPECT_FALSE(checkAddress(ip("192.168.1.1"), mapped).allowed);
}

TEST(SsrfTest, FindsTheFirstCoveringBlock) {
  const std::vector<Cidr> blocks{*Cidr::parse("10.0.0.0/8"), *Cidr::parse("10.30.0.0/16")};
  ASSERT_NE(findCoveringCidr(ip("10.30.1.1"), blocks), nullptr);
  EXPECT_EQ(findCoveringCidr(ip("10.30.1.1"), blocks)->toString(), "10.0.0.0/8");
  EXPECT_EQ(findCoveringCidr(ip("192.168.1.1"), blocks), nullptr);
  EXPECT_EQ(findCoveringCidr(ip("10.30.1.1"), {}), nullptr);
}

}  // namespace
}  // namespace warden::proxy
