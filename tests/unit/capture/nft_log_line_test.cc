// parseNftLogRecord: real nf_log lines as /dev/kmsg gives them, and the ways they can be wrong.

#include "capture/kmsg/nft_log_line.h"

#include <gtest/gtest.h>

#include <string>

namespace warden::capture {
namespace {

// As printed by Linux 6.x for a TCP SYN from the sandbox (flags skuid).
constexpr std::string_view kTcp =
    "4,394,10756140524,-;warden:bypass:sess-1: IN= OUT=eth0 SRC=10.200.7.2 DST=93.184.216.34 LEN=60 "
    "TOS=0x00 PREC=0x00 TTL=64 ID=63108 DF PROTO=TCP SPT=57506 DPT=443 WINDOW=64240 RES=0x00 SYN URGP=0 "
    "UID=64000 GID=64000 \n";

std::string withMessage(std::string_view message) {
  return "4,12,345,-;" + std::string(message);
}

TEST(NftLogLineTest, ParsesATcpSynWithUid) {
  auto r = parseNftLogRecord(kTcp);
  ASSERT_TRUE(r.ok()) << r.error().toString();
  EXPECT_EQ(r->prefix_tag, "sess-1");
  EXPECT_EQ(r->protocol, "tcp");
  EXPECT_EQ(r->src_ip, "10.200.7.2");
  EXPECT_EQ(r->dst_ip, "93.184.216.34");
  EXPECT_EQ(r->src_port, 57506);
  EXPECT_EQ(r->dst_port, 443);
  ASSERT_TRUE(r->uid.has_value());
  EXPECT_EQ(*r->uid, 64000u);
  EXPECT_EQ(r->kernel_time_us, 10756140524);
  EXPECT_EQ(r->sequence, 394u);
}

TEST(NftLogLineTest, UdpTakesTheFirstLenAndItsPorts) {
  auto r =
      parseNftLogRecord(withMessage("warden:bypass:s: IN= OUT=eth0 SRC=10.200.0.2 DST=10.200.0.1 LEN=29 "
                                    "TOS=0x00 PREC=0x00 TTL=64 ID=9073 DF "
                                    "PROTO=UDP SPT=51878 DPT=1234 LEN=9 UID=0 GID=0"));
  ASSERT_TRUE(r.ok()) << r.error().toString();
  EXPECT_EQ(r->protocol, "udp");
  EXPECT_EQ(r->dst_port, 1234);
  EXPECT_EQ(r->uid, 0u);
}

TEST(NftLogLineTest, IcmpHasNoPortsAndNoUidWhenTheKernelSentIt) {
  auto r = parseNftLogRecord(withMessage(
      "warden:bypass:s: IN= OUT=eth0 SRC=10.200.0.2 DST=10.200.0.1 LEN=84 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF "
      "PROTO=ICMP TYPE=8 CODE=0 ID=5 SEQ=1"));
  ASSERT_TRUE(r.ok()) << r.error().toString();
  EXPECT_EQ(r->protocol, "icmp");
  EXPECT_EQ(r->src_port, 0);
  EXPECT_EQ(r->dst_port, 0);
  EXPECT_FALSE(r->uid.has_value());
}

TEST(NftLogLineTest, IcmpErrorStopsAtTheQuotedPacket) {
  auto r = parseNftLogRecord(withMessage(
      "warden:bypass:s: IN= OUT=eth0 SRC=10.200.0.2 DST=10.200.0.1 LEN=56 PROTO=ICMP TYPE=3 CODE=3 "
      "[SRC=10.200.0.1 DST=10.200.0.2 LEN=28 PROTO=UDP SPT=53 DPT=4000 LEN=8 ] UID=5"));
  ASSERT_TRUE(r.ok()) << r.error().toString();
  EXPECT_EQ(r->src_ip, "10.200.0.2");
  EXPECT_EQ(r->protocol, "icmp");
  EXPECT_EQ(r->dst_port, 0);
  EXPECT_FALSE(r->uid.has_value());  // everything after '[' belongs to the quoted packet
}

TEST(NftLogLineTest, Ipv6AddressesAreCanonicalised) {
  auto r = parseNftLogRecord(
      withMessage("warden:bypass:s: IN= OUT=eth0 SRC=fd00:0000:0000:0000:0000:0000:0000:0002 "
                  "DST=2001:0db8:0000:0000:0000:0000:0000:0001 "
                  "LEN=80 TC=0 HOPLIMIT=64 FLOWLBL=1 PROTO=TCP SPT=1 DPT=443 WINDOW=1 RES=0x00 SYN URGP=0 "
                  "UID=1000 GID=1000"));
  ASSERT_TRUE(r.ok()) << r.error().toString();
  EXPECT_EQ(r->src_ip, "fd00::2");
  EXPECT_EQ(r->dst_ip, "2001:db8::1");
}

TEST(NftLogLineTest, NumericProtocolAndFragmentWithoutPortsAreAccepted) {
  auto gre = parseNftLogRecord(
      withMessage("warden:bypass:s: IN= OUT=eth0 SRC=10.0.0.2 DST=10.0.0.1 LEN=40 PROTO=47"));
  ASSERT_TRUE(gre.ok()) << gre.error().toString();
  EXPECT_EQ(gre->protocol, "47");
  auto frag =
      parseNftLogRecord(withMessage("warden:bypass:s: IN= OUT=eth0 SRC=10.0.0.2 DST=10.0.0.1 LEN=40 FRAG:185 "
                                    "PROTO=TCP INCOMPLETE [20 bytes]"));
  ASSERT_TRUE(frag.ok()) << frag.error().toString();
  EXPECT_EQ(frag->protocol, "tcp");
  EXPECT_EQ(frag->dst_port, 0);
}

TEST(NftLogLineTest, ContinuationLinesAndNewerHeaderFieldsAreIgnored) {
  auto r = parseNftLogRecord(
      "4,7,8,-,caller=T42;warden:bypass:s: IN= OUT=eth0 SRC=10.0.0.2 DST=10.0.0.1 PROTO=TCP SPT=1 DPT=2\n"
      " SUBSYSTEM=net\n DEVICE=n5\n");
  ASSERT_TRUE(r.ok()) << r.error().toString();
  EXPECT_EQ(r->dst_port, 2);
  EXPECT_EQ(r->sequence, 7u);
}

TEST(NftLogLineTest, OtherKernelRecordsAreNotFound) {
  for (std::string_view line : {
           std::string_view("6,100,200,-;eth0: renamed from wds7\n"),
           std::string_view("4,101,300,-;[UFW BLOCK] IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 PROTO=TCP\n"),
           std::string_view("4,102,300,c;warden:other: SRC=1.2.3.4\n"),
           std::string_view("4,103,300,-;\n"),
           std::string_view("4,104,300,-; warden:bypass:s: SRC=10.0.0.2 DST=10.0.0.1 PROTO=TCP\n"),
       }) {
    auto r = parseNftLogRecord(line);
    ASSERT_FALSE(r.ok()) << line;
    EXPECT_EQ(r.error().code(), Code::kNotFound) << line << " -> " << r.error().toString();
  }
}

TEST(NftLogLineTest, WhatIsNotAKmsgRecordIsInvalid) {
  for (std::string_view line : {
           std::string_view(""),
           std::string_view("warden:bypass:s: SRC=10.0.0.2"),
           std::string_view("4,5;warden:bypass:s: SRC=10.0.0.2"),
           std::string_view("x,5,6,-;warden:bypass:s: SRC=10.0.0.2"),
           std::string_view("4,-5,6,-;msg"),
           std::string_view("4,5,99999999999999999999999,-;msg"),
           std::string_view("4,5,6,;msg"),
       }) {
    auto r = parseNftLogRecord(line);
    ASSERT_FALSE(r.ok()) << line;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument) << line;
  }
}

struct Malformed {
  const char* message;
  const char* complaint;  // a piece of the error text
};

class NftLogLineMalformedTest : public ::testing::TestWithParam<Malformed> {};

TEST_P(NftLogLineMalformedTest, OursButMalformedSaysWhatIsWrong) {
  auto r = parseNftLogRecord(withMessage(GetParam().message));
  ASSERT_FALSE(r.ok()) << GetParam().message;
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  EXPECT_NE(r.error().message().find(GetParam().complaint), std::string::npos) << r.error().message();
}

INSTANTIATE_TEST_SUITE_P(
    Lines, NftLogLineMalformedTest,
    ::testing::Values(
        Malformed{"warden:bypass:", "no ': '"}, Malformed{"warden:bypass:s IN= OUT=eth0", "no ': '"},
        Malformed{"warden:bypass:: SRC=10.0.0.2 DST=10.0.0.1 PROTO=TCP", "empty tag"},
        Malformed{"warden:bypass:a\tb: SRC=10.0.0.2 DST=10.0.0.1 PROTO=TCP", "printable"},
        Malformed{"warden:bypass:s: DST=10.0.0.1 PROTO=TCP SPT=1 DPT=2", "no SRC="},
        Malformed{"warden:bypass:s: SRC=10.0.0.2 PROTO=TCP SPT=1 DPT=2", "no DST="},
        Malformed{"warden:bypass:s: SRC=10.0.0.2 DST=10.0.0.1 SPT=1 DPT=2", "no PROTO="},
        Malformed{"warden:bypass:s: SRC=10.0.0.256 DST=10.0.0.1 PROTO=TCP", "SRC is not an IP"},
        Malformed{"warden:bypass:s: SRC=10.0.0.2 DST=evil.example PROTO=TCP", "DST is not an IP"},
        Malformed{"warden:bypass:s: SRC= DST=10.0.0.1 PROTO=TCP", "SRC is not an IP"},
        Malformed{"warden:bypass:s: SRC=10.0.0.2 DST=10.0.0.1 PROTO=TCP SPT=1 DPT=65536",
                  "DPT is not a port"},
        Malformed{"warden:bypass:s: SRC=10.0.0.2 DST=10.0.0.1 PROTO=TCP SPT=-1 DPT=2", "SPT is not a port"},
        Malformed{"warden:bypass:s: SRC=10.0.0.2 DST=10.0.0.1 PROTO=TCP SPT=0x10 DPT=2", "SPT is not a port"},
        Malformed{"warden:bypass:s: SRC=10.0.0.2 DST=10.0.0.1 PROTO=TCP SPT=1", "only one of"},
        Malformed{"warden:bypass:s: SRC=10.0.0.2 DST=10.0.0.1 PROTO=T\\x22CP", "PROTO"},
        Malformed{"warden:bypass:s: SRC=10.0.0.2 DST=10.0.0.1 PROTO=", "PROTO"},
        Malformed{"warden:bypass:s: SRC=10.0.0.2 DST=10.0.0.1 PROTO=TCP SPT=1 DPT=2 UID=4294967296", "UID"},
        Malformed{"warden:bypass:s: SRC=10.0.0.2 DST=10.0.0.1 PROTO=TCP SPT=1 DPT=2 UID=root", "UID"}));

TEST(NftLogLineTest, AnOverlongTagIsRefused) {
  const std::string line =
      withMessage("warden:bypass:" + std::string(128, 'a') + ": SRC=10.0.0.2 DST=10.0.0.1 PROTO=TCP");
  auto r = parseNftLogRecord(line);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("exceeds 127"), std::string::npos) << r.error().message();
  auto ok = parseNftLogRecord(
      withMessage("warden:bypass:" + std::string(127, 'a') + ": SRC=10.0.0.2 DST=10.0.0.1 PROTO=TCP"));
  EXPECT_TRUE(ok.ok());
}

TEST(NftLogLineTest, AnOverlongRecordIsRefusedNotScanned) {
  std::string line = withMessage("warden:bypass:s: SRC=10.0.0.2 DST=10.0.0.1 PROTO=TCP SPT=1 DPT=2 ");
  line += std::string(kMaxKmsgRecordBytes, 'A');
  auto r = parseNftLogRecord(line);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  EXPECT_NE(r.error().message().find("exceeds"), std::string::npos);
}

TEST(NftLogLineTest, TooManyFieldsIsRefused) {
  std::string line = withMessage("warden:bypass:s: SRC=10.0.0.2 DST=10.0.0.1 PROTO=TCP");
  for (int i = 0; i < 70; ++i) line += " F=1";
  auto r = parseNftLogRecord(line);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("more than 64 fields"), std::string::npos);
}

TEST(NftLogLineTest, ErrorsNeverEchoControlBytes) {
  auto r = parseNftLogRecord(withMessage("warden:bypass:s: SRC=10.0.0.\n2 DST=1"));
  // The newline ends the first line, so SRC is "10.0.0." — malformed, and quoted safely.
  ASSERT_FALSE(r.ok());
  auto r2 = parseNftLogRecord(
      withMessage(std::string("warden:bypass:s: SRC=10.0.0.2\x1b[31m DST=10.0.0.1 PROTO=TCP")));
  ASSERT_FALSE(r2.ok());
  for (char c : r2.error().message()) EXPECT_GE(static_cast<unsigned char>(c), 0x20);
}

TEST(NftLogLineTest, SequenceOfAnyRecord) {
  EXPECT_EQ(kmsgSequence("6,100,200,-;eth0: renamed from wds7\n"), 100u);
  EXPECT_EQ(kmsgSequence(kTcp), 394u);
  EXPECT_FALSE(kmsgSequence("no header").has_value());
  EXPECT_FALSE(kmsgSequence("6,x,200,-;m").has_value());
}

}  // namespace
}  // namespace warden::capture
