#include "proxy/dns_message.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace warden::proxy {
namespace {

using ::testing::HasSubstr;

std::vector<uint8_t> fromHex(std::string_view hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// Real traffic, captured on loopback between dig 9.18 (`dig -p P @127.0.0.1 NAME TYPE`) and dnsmasq 2.90
// (`--address=/example.test/10.9.8.7 --host-record=www.other.test,10.1.2.3,2001:db8::7
//   --cname=alias.other.test,www.other.test --txt-record=txt.other.test,"hello world"
//   --mx-host=other.test,mail.other.test,10`). dig adds an EDNS OPT record with a cookie.
constexpr std::string_view kDigQueryA =
    "1f17012000010000000000010161076578616d706c650474657374000001000100002904d000000000000c000a0008c69ff8bb20075cc3";
constexpr std::string_view kDnsmasqAnswerA =
    "1f17858000010001000000010161076578616d706c6504746573740000010001c00c000100010000000000040a09080700002904d0000000"
    "000000";
constexpr std::string_view kDnsmasqAnswerAaaa =
    "d14d8580000100010000000103777777056f74686572047465737400001c0001c00c001c000100000000001020010db800000000000000"
    "000000000700002904d0000000000000";
constexpr std::string_view kDnsmasqAnswerCname =
    "29188580000100020000000105616c696173056f7468657204746573740000010001c00c0005000100000000001003777777056f746865"
    "72047465737400c02e000100010000000000040a01020300002904d0000000000000";
constexpr std::string_view kDnsmasqAnswerTxt =
    "0e188580000100010000000103747874056f7468657204746573740000100001c00c0010000100000000000c0b68656c6c6f20776f726c"
    "6400002904d0000000000000";
constexpr std::string_view kDnsmasqAnswerMx =
    "71a585800001000100000001056f74686572047465737400000f0001c00c000f0001000000000013000a046d61696c056f746865720474"
    "6573740000002904d0000000000000";
// REFUSED with an EDNS extended error option (dnsmasq has no upstream for the name).
constexpr std::string_view kDnsmasqRefused =
    "f23381850001000000000001046e6f7065056f746865720474657374000001000100002904d0000000000006000f0002000e";
constexpr std::string_view kDigQueryNoEdns = "b8a3012000010000000000000161076578616d706c6504746573740000010001";

// A hand-built message: header + body.
std::vector<uint8_t> message(uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar,
                             const std::vector<uint8_t>& body) {
  std::vector<uint8_t> m = {0x12, 0x34, static_cast<uint8_t>(flags >> 8), static_cast<uint8_t>(flags),
                            0, static_cast<uint8_t>(qd), 0, static_cast<uint8_t>(an), 0, static_cast<uint8_t>(ns),
                            0, static_cast<uint8_t>(ar)};
  m.insert(m.end(), body.begin(), body.end());
  return m;
}

// "a.test" A IN at offset 12.
const std::vector<uint8_t> kQuestion = {1, 'a', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1};

std::vector<uint8_t> concat(std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// An answer record named by a pointer to offset 12, with `type` and `rdata`.
std::vector<uint8_t> record(uint16_t type, const std::vector<uint8_t>& rdata) {
  std::vector<uint8_t> r = {0xC0, 12, static_cast<uint8_t>(type >> 8), static_cast<uint8_t>(type), 0, 1,
                            0, 0, 0x0e, 0x10, static_cast<uint8_t>(rdata.size() >> 8),
                            static_cast<uint8_t>(rdata.size())};
  r.insert(r.end(), rdata.begin(), rdata.end());
  return r;
}

std::string parseError(const std::vector<uint8_t>& bytes) {
  auto parsed = parseDnsMessage(bytes);
  if (parsed.ok()) return "(parsed)";
  EXPECT_EQ(parsed.error().code(), Code::kInvalidArgument);
  return parsed.error().message();
}

// ----- real traffic -----

TEST(DnsMessageTest, ParsesDigsQueryWithEdns) {
  auto m = parseDnsMessage(fromHex(kDigQueryA));
  ASSERT_TRUE(m.ok()) << m.error().toString();
  EXPECT_EQ(m->id, 0x1f17);
  EXPECT_FALSE(m->is_response);
  EXPECT_EQ(m->opcode, 0);
  EXPECT_FALSE(m->truncated);
  ASSERT_EQ(m->questions.size(), 1u);
  EXPECT_EQ(m->questions[0].name, "a.example.test");
  EXPECT_EQ(m->questions[0].type, 1);
  EXPECT_EQ(m->questions[0].klass, 1);
  EXPECT_TRUE(m->answers.empty());
}

TEST(DnsMessageTest, ParsesACompressedAAnswer) {
  auto m = parseDnsMessage(fromHex(kDnsmasqAnswerA));
  ASSERT_TRUE(m.ok()) << m.error().toString();
  EXPECT_TRUE(m->is_response);
  EXPECT_EQ(m->rcode, kDnsNoError);
  ASSERT_EQ(m->answers.size(), 1u);
  EXPECT_EQ(m->answers[0].name, "a.example.test");
  EXPECT_EQ(m->answers[0].type, 1);
  EXPECT_EQ(m->answers[0].rdata, "10.9.8.7");
}

TEST(DnsMessageTest, RendersAaaaAsCanonicalIpv6) {
  auto m = parseDnsMessage(fromHex(kDnsmasqAnswerAaaa));
  ASSERT_TRUE(m.ok()) << m.error().toString();
  ASSERT_EQ(m->answers.size(), 1u);
  EXPECT_EQ(m->answers[0].type, 28);
  EXPECT_EQ(m->answers[0].rdata, "2001:db8::7");
}

TEST(DnsMessageTest, FollowsPointersInsideCnameRdataAndRecordNames) {
  auto m = parseDnsMessage(fromHex(kDnsmasqAnswerCname));
  ASSERT_TRUE(m.ok()) << m.error().toString();
  ASSERT_EQ(m->answers.size(), 2u);
  EXPECT_EQ(m->answers[0].name, "alias.other.test");
  EXPECT_EQ(m->answers[0].type, 5);
  EXPECT_EQ(m->answers[0].rdata, "www.other.test");
  EXPECT_EQ(m->answers[1].name, "www.other.test");  // a pointer into the CNAME's rdata
  EXPECT_EQ(m->answers[1].rdata, "10.1.2.3");
}

TEST(DnsMessageTest, RendersTxtQuotedAndMxWithPreference) {
  auto txt = parseDnsMessage(fromHex(kDnsmasqAnswerTxt));
  ASSERT_TRUE(txt.ok()) << txt.error().toString();
  ASSERT_EQ(txt->answers.size(), 1u);
  EXPECT_EQ(txt->answers[0].rdata, "\"hello world\"");
  auto mx = parseDnsMessage(fromHex(kDnsmasqAnswerMx));
  ASSERT_TRUE(mx.ok()) << mx.error().toString();
  ASSERT_EQ(mx->answers.size(), 1u);
  EXPECT_EQ(mx->answers[0].rdata, "10 mail.other.test");
}

TEST(DnsMessageTest, ParsesAnErrorRcodeWithAnEdnsOption) {
  auto m = parseDnsMessage(fromHex(kDnsmasqRefused));
  ASSERT_TRUE(m.ok()) << m.error().toString();
  EXPECT_EQ(m->rcode, kDnsRefused);
  EXPECT_TRUE(m->answers.empty());
  EXPECT_EQ(m->questions[0].name, "nope.other.test");
}

// ----- presentation -----

TEST(DnsMessageTest, NamesAreLowerCasedAndOddBytesEscaped) {
  const std::vector<uint8_t> q = {3, 'W', '.', 'x', 2, 0x0a, 0xff, 0, 0, 16, 0, 1};
  auto m = parseDnsMessage(message(0x0100, 1, 0, 0, 0, q));
  ASSERT_TRUE(m.ok()) << m.error().toString();
  EXPECT_EQ(m->questions[0].name, "w\\046x.\\010\\255");
  EXPECT_EQ(m->questions[0].type, 16);
}

TEST(DnsMessageTest, RootNameIsADot) {
  auto m = parseDnsMessage(message(0x0100, 1, 0, 0, 0, {0, 0, 2, 0, 1}));
  ASSERT_TRUE(m.ok()) << m.error().toString();
  EXPECT_EQ(m->questions[0].name, ".");
}

TEST(DnsMessageTest, UnknownTypesUseRfc3597Form) {
  auto m = parseDnsMessage(message(0x8180, 1, 2, 0, 0, concat(concat(kQuestion, record(65, {1, 2, 0xab})), record(99, {}))));
  ASSERT_TRUE(m.ok()) << m.error().toString();
  ASSERT_EQ(m->answers.size(), 2u);
  EXPECT_EQ(m->answers[0].rdata, "\\# 3 0102ab");
  EXPECT_EQ(m->answers[1].rdata, "\\# 0");
  EXPECT_EQ(m->answers[0].ttl, 3600u);
}

TEST(DnsMessageTest, TypeAndRcodeNames) {
  EXPECT_EQ(dnsTypeName(1), "A");
  EXPECT_EQ(dnsTypeName(28), "AAAA");
  EXPECT_EQ(dnsTypeName(5), "CNAME");
  EXPECT_EQ(dnsTypeName(65), "HTTPS");
  EXPECT_EQ(dnsTypeName(0), "TYPE0");
  EXPECT_EQ(dnsTypeName(65534), "TYPE65534");
  EXPECT_EQ(dnsTypeName(65535), "TYPE65535");
  EXPECT_EQ(dnsRcodeName(3), "NXDOMAIN");
  EXPECT_EQ(dnsRcodeName(15), "RCODE15");
}

// ----- error responses -----

TEST(DnsMessageTest, ErrorResponseEchoesTheQuestionExactly) {
  const auto query = fromHex(kDigQueryA);
  const auto reply = buildErrorResponse(query, kDnsServFail);
  ASSERT_GE(reply.size(), kDnsHeaderBytes);
  auto m = parseDnsMessage(reply);
  ASSERT_TRUE(m.ok()) << m.error().toString();
  EXPECT_EQ(m->id, 0x1f17);
  EXPECT_TRUE(m->is_response);
  EXPECT_EQ(m->rcode, kDnsServFail);
  EXPECT_FALSE(m->truncated);
  ASSERT_EQ(m->questions.size(), 1u);
  EXPECT_EQ(m->questions[0].name, "a.example.test");
  // Header flags: QR, RD copied, RA; the question bytes are the query's; the OPT record is dropped.
  EXPECT_EQ(reply[2], 0x81);
  EXPECT_EQ(reply[3], 0x82);
  const size_t question_bytes = 16 + 4;  // \1a\7example\4test\0 + type + class
  ASSERT_EQ(reply.size(), kDnsHeaderBytes + question_bytes);
  EXPECT_TRUE(std::equal(reply.begin() + 12, reply.end(), query.begin() + 12));
  EXPECT_EQ(reply[10], 0);
  EXPECT_EQ(reply[11], 0);
}

TEST(DnsMessageTest, ErrorResponseToABrokenQuestionHasNoQuestion) {
  auto query = message(0x0100, 1, 0, 0, 0, {5, 'a', 'b'});  // label runs past the end
  const auto reply = buildErrorResponse(query, kDnsFormErr);
  ASSERT_EQ(reply.size(), kDnsHeaderBytes);
  auto m = parseDnsMessage(reply);
  ASSERT_TRUE(m.ok()) << m.error().toString();
  EXPECT_EQ(m->id, 0x1234);
  EXPECT_EQ(m->rcode, kDnsFormErr);
  EXPECT_TRUE(m->questions.empty());
}

TEST(DnsMessageTest, ErrorResponseNeedsAHeader) {
  EXPECT_TRUE(buildErrorResponse(std::vector<uint8_t>{1, 2, 3}, kDnsFormErr).empty());
  EXPECT_TRUE(buildErrorResponse({}, kDnsServFail).empty());
  const auto no_edns = fromHex(kDigQueryNoEdns);
  EXPECT_EQ(buildErrorResponse(no_edns, kDnsRefused).size(), no_edns.size());
}

// ----- malformed input: every way -----

TEST(DnsMessageTest, RejectsShortHeader) {
  EXPECT_THAT(parseError({0x12, 0x34, 1}), HasSubstr("shorter than the 12-byte header"));
}

TEST(DnsMessageTest, RejectsCountsTheBytesCannotHold) {
  std::vector<uint8_t> m = message(0x0100, 1, 0, 0, 0, kQuestion);
  m[6] = 0xff;  // 65280+ answers in 12 bytes
  m[7] = 0xff;
  EXPECT_THAT(parseError(m), HasSubstr("which need at least"));
}

TEST(DnsMessageTest, RejectsLabelPastTheEnd) {
  EXPECT_THAT(parseError(message(0x0100, 1, 0, 0, 0, {9, 'a', 'b', 'c', 0, 0})), HasSubstr("question 1: "));
}

TEST(DnsMessageTest, RejectsNameWithoutTerminator) {
  EXPECT_THAT(parseError(message(0x0100, 1, 0, 0, 0, {1, 'a', 1, 'b', 1})), HasSubstr("runs past the end"));
}

TEST(DnsMessageTest, RejectsNamesOver255Bytes) {
  std::vector<uint8_t> q;
  for (int i = 0; i < 5; ++i) {
    q.push_back(63);
    q.insert(q.end(), 63, 'x');
  }
  q.push_back(0);
  q.insert(q.end(), {0, 1, 0, 1});
  EXPECT_THAT(parseError(message(0x0100, 1, 0, 0, 0, q)), HasSubstr("name longer than 255 bytes"));
}

TEST(DnsMessageTest, Accepts255ByteNamesAnd63ByteLabels) {
  std::vector<uint8_t> q;
  for (int i = 0; i < 3; ++i) {  // 3 * 64 + 62 + 1 = 255
    q.push_back(63);
    q.insert(q.end(), 63, 'x');
  }
  q.push_back(61);
  q.insert(q.end(), 61, 'y');
  q.push_back(0);
  q.insert(q.end(), {0, 1, 0, 1});
  auto m = parseDnsMessage(message(0x0100, 1, 0, 0, 0, q));
  ASSERT_TRUE(m.ok()) << m.error().toString();
  EXPECT_EQ(m->questions[0].name.size(), 253u);
}

TEST(DnsMessageTest, Rejects64ByteLabelsAndReservedLabelTypes) {
  std::vector<uint8_t> q = {64};
  q.insert(q.end(), 64, 'x');
  q.insert(q.end(), {0, 0, 1, 0, 1});
  EXPECT_THAT(parseError(message(0x0100, 1, 0, 0, 0, q)), HasSubstr("labels are at most 63 bytes"));
  EXPECT_THAT(parseError(message(0x0100, 1, 0, 0, 0, {0x80, 1, 0, 0, 1, 0, 1})), HasSubstr("label length byte 0x80"));
}

TEST(DnsMessageTest, RejectsAPointerToItself) {
  EXPECT_EQ(parseError(message(0x8180, 1, 1, 0, 0, concat(kQuestion, {0xC0, 24, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4}))),
            "answer 1: compression pointer loops");
}

TEST(DnsMessageTest, RejectsForwardPointersSoMutualPointersCannotLoop) {
  // Question name at 12 points forward to 14, where a pointer points back to 12.
  EXPECT_THAT(parseError(message(0x0100, 1, 0, 0, 0, {0xC0, 14, 0xC0, 12, 0, 1, 0, 1})),
              HasSubstr("question 1: compression pointer at offset 12 points forward"));
}

TEST(DnsMessageTest, RejectsAPointerToANameThatContainsThePointer) {
  // "b" then a pointer back to the "b": b.b.b.b... if followed naively.
  EXPECT_EQ(parseError(message(0x8180, 1, 1, 0, 0,
                               concat(kQuestion, {1, 'b', 0xC0, 24, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4}))),
            "answer 1: name at offset 26 runs into the compression pointer at offset 26");
}

TEST(DnsMessageTest, RejectsAPointedToNameThatRunsPastItsPointer) {
  // Found by the fuzzer: the question's pointer targets a label whose bytes run past the pointer,
  // so the name was not a prior occurrence (and an echo of the question alone would not parse).
  // Question: \3abc at 12, then a pointer at 16 to 13, where 'a' (0x61 = 97) is a label length.
  EXPECT_THAT(parseError(message(0x0100, 1, 0, 0, 0, {3, 'a', 'b', 'c', 0xC0, 13, 0, 1, 0, 1})),
              HasSubstr("question 1: "));
  const std::vector<uint8_t> q = {2, 'x', 'y', 0, 0, 1, 0, 1, 0xC0, 12, 0, 1, 0, 1};  // 2 questions, 2nd points back
  auto m = parseDnsMessage(message(0x0100, 2, 0, 0, 0, q));
  ASSERT_TRUE(m.ok()) << m.error().toString();
  EXPECT_EQ(m->questions[1].name, "xy");
}

TEST(DnsMessageTest, RejectsPointersIntoTheHeaderAndTruncatedPointers) {
  EXPECT_THAT(parseError(message(0x0100, 1, 0, 0, 0, {0xC0, 2, 0, 1, 0, 1})), HasSubstr("points into the header"));
  EXPECT_EQ(parseError(message(0x0100, 1, 0, 0, 0, {1, 'a', 1, 'b', 0xC0})),
            "question 1: compression pointer at offset 16 runs past the end");
}

TEST(DnsMessageTest, NamesTheRecordThatIsBroken) {
  const auto good = record(1, {1, 2, 3, 4});
  const auto bad = record(1, {1, 2, 3});
  EXPECT_EQ(parseError(message(0x8180, 1, 2, 0, 0, concat(concat(kQuestion, good), bad))),
            "answer 2: A rdata of 3 bytes (must be 4)");
  EXPECT_EQ(parseError(message(0x8180, 1, 0, 1, 0, concat(kQuestion, record(28, {1, 2})))),
            "authority 1: AAAA rdata of 2 bytes (must be 16)");
}

TEST(DnsMessageTest, RejectsRdataPastTheEnd) {
  auto m = message(0x8180, 1, 1, 0, 0, concat(kQuestion, record(1, {1, 2, 3, 4})));
  m.resize(m.size() - 2);
  EXPECT_THAT(parseError(m), HasSubstr("answer 1: rdata of 4 bytes runs past the end"));
}

TEST(DnsMessageTest, RejectsTrailingBytes) {
  EXPECT_EQ(parseError(concat(message(0x0100, 1, 0, 0, 0, kQuestion), {0, 0, 0})),
            "3 trailing bytes after the last record");
}

TEST(DnsMessageTest, RejectsNameRdataThatDoesNotFillItsRdata) {
  EXPECT_THAT(parseError(message(0x8180, 1, 1, 0, 0, concat(kQuestion, record(5, {0xC0, 12, 7})))),
              HasSubstr("answer 1: 1 bytes after the name in rdata"));
  // A name in rdata may not run out of its rdata into the next record.
  EXPECT_THAT(parseError(message(0x8180, 1, 1, 0, 0, concat(kQuestion, record(12, {3, 'a', 'b'})))),
              HasSubstr("answer 1: "));
}

TEST(DnsMessageTest, RejectsTxtStringsPastTheirRdataAndEmptyTxt) {
  EXPECT_THAT(parseError(message(0x8180, 1, 1, 0, 0, concat(kQuestion, record(16, {5, 'a'})))),
              HasSubstr("TXT string runs past the rdata"));
  EXPECT_THAT(parseError(message(0x8180, 1, 1, 0, 0, concat(kQuestion, record(16, {})))), HasSubstr("TXT rdata is empty"));
}

TEST(DnsMessageTest, RejectsTruncatedQuestionAndRecordHeaders) {
  EXPECT_EQ(parseError(message(0x0100, 1, 0, 0, 0, {1, 'a', 0, 0, 1})),
            "question 1: type and class run past the end");
  EXPECT_THAT(parseError(message(0x8180, 1, 1, 0, 0, concat(kQuestion, {0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0}))),
              HasSubstr("answer 1: record header runs past the end"));
}

}  // namespace
}  // namespace warden::proxy
