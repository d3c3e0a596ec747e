// The /proc parsers added for UDP caller identity (the TCP ones are covered in caller_identity_test.cc).

#include "proxy/proc_parse.h"

#include <gtest/gtest.h>

#include <bit>

namespace warden::proxy {
namespace {

TcpEndpoint ep(const char* address, uint16_t port) { return *TcpEndpoint::parse(address, port); }

TEST(ProcParseUdpTest, ParsesAnUnconnectedUdpRowWithItsDropsColumn) {
  // As /proc/net/udp shows a socket bound to 127.0.0.1:53 on a little-endian host.
  const auto entry = parseUdpTableLine(
      "  512: 0100007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 31337 2 "
      "0000000000000000 0");
  ASSERT_TRUE(entry.has_value());
  if constexpr (std::endian::native == std::endian::little) {
    EXPECT_EQ(entry->local, ep("127.0.0.1", 53));
  }
  EXPECT_TRUE(isUnspecifiedAddress(entry->remote));
  EXPECT_EQ(entry->state, 7);
  EXPECT_EQ(entry->uid, 101u);
  EXPECT_EQ(entry->inode, 31337u);
}

TEST(ProcParseUdpTest, ParsesAUdp6Row) {
  const auto entry = parseUdpTableLine(
      "  100: 00000000000000000000000000000000:14E9 00000000000000000000000000000000:0000 07 00000000:00000000 "
      "00:00000000 00000000     0        0 4242 2 0000000000000000 0");
  ASSERT_TRUE(entry.has_value());
  EXPECT_TRUE(entry->local.v6);
  EXPECT_EQ(entry->local.port, 5353);
  EXPECT_TRUE(isUnspecifiedAddress(entry->local));
}

TEST(ProcParseUdpTest, RejectsTheHeaderAndMalformedRows) {
  EXPECT_FALSE(parseUdpTableLine("   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
                                 "timeout inode ref pointer drops"));
  EXPECT_FALSE(parseUdpTableLine(""));
  EXPECT_FALSE(parseUdpTableLine("  512: 0100007F:0035 00000000:0000 07"));
  EXPECT_FALSE(parseUdpTableLine("  512: 0100007F:0035 00000000000000000000000000000000:0000 07 0:0 0:0 0 0 0 1"));
}

TEST(ProcParseUdpTest, UnspecifiedAddressesAreTheWildcardsOfBothFamilies) {
  EXPECT_TRUE(isUnspecifiedAddress(ep("0.0.0.0", 1)));
  EXPECT_TRUE(isUnspecifiedAddress(ep("::", 1)));
  EXPECT_TRUE(isUnspecifiedAddress(ep("::ffff:0.0.0.0", 1)));
  EXPECT_FALSE(isUnspecifiedAddress(ep("127.0.0.1", 1)));
  EXPECT_FALSE(isUnspecifiedAddress(ep("::1", 1)));
  EXPECT_FALSE(isUnspecifiedAddress(ep("0.0.0.1", 0)));
}

}  // namespace
}  // namespace warden::proxy
