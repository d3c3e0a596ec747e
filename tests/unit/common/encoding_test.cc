#include "common/encoding.h"

#include <gtest/gtest.h>

namespace warden {
namespace {

TEST(EncodingTest, HexRoundTripsAndRejectsBadDigits) {
  EXPECT_EQ(hexEncode(std::string("\x00\xff\x10", 3)), "00ff10");
  EXPECT_EQ(hexDecode("00FF10"), std::string("\x00\xff\x10", 3));
  EXPECT_FALSE(hexDecode("0g").has_value());
  EXPECT_FALSE(hexDecode("abc").has_value());
}

TEST(EncodingTest, Base64MatchesRfc4648VectorsAndRoundTrips) {
  EXPECT_EQ(base64Encode(""), "");
  EXPECT_EQ(base64Encode("f"), "Zg==");
  EXPECT_EQ(base64Encode("fo"), "Zm8=");
  EXPECT_EQ(base64Encode("foo"), "Zm9v");
  EXPECT_EQ(base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64Decode("Zm9vYg==").value_or("x"), "foob");
  EXPECT_EQ(base64Decode("Zm9vYg").value_or("x"), "foob");
  const std::string binary("\x00\xff\x10user:pass", 12);
  EXPECT_EQ(base64Decode(base64Encode(binary)).value_or("x"), binary);
  EXPECT_FALSE(base64Decode("Zm9v!").has_value());
  EXPECT_FALSE(base64Decode("Z").has_value());
}

TEST(EncodingTest, Sha256MatchesKnownVector) {
  EXPECT_EQ(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256Stream s;
  s.update("a");
  s.update("bc");
  EXPECT_EQ(s.finishHex(), sha256Hex("abc"));
}

TEST(EncodingTest, Utf8ValidationRejectsOverlongsSurrogatesAndTruncation) {
  EXPECT_TRUE(isValidUtf8("plain \xc3\xa9 \xf0\x9f\x98\x80"));
  EXPECT_FALSE(isValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(isValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(isValidUtf8("\xe2\x82"));          // truncated
  EXPECT_FALSE(isValidUtf8("\xff"));
}

TEST(EncodingTest, Utf8PrefixNeverSplitsASequence) {
  const std::string s = "ab\xc3\xa9";  // 4 bytes, é at 2..3
  EXPECT_EQ(utf8PrefixLength(s, 3), 2u);
  EXPECT_EQ(utf8PrefixLength(s, 4), 4u);
  EXPECT_EQ(utf8PrefixLength(s, 10), 4u);
}

TEST(EncodingTest, UuidV7CarriesTimeAndVersion) {
  const std::string u = uuidV7(0x0123456789ab);
  ASSERT_EQ(u.size(), 36u);
  EXPECT_EQ(u.substr(0, 13), "01234567-89ab");
  EXPECT_EQ(u[14], '7');
  EXPECT_NE(uuidV7(1), uuidV7(1));
}

TEST(EncodingTest, ParsesDurationsAndSizes) {
  EXPECT_EQ(parseDurationMillis("30s"), 30'000);
  EXPECT_EQ(parseDurationMillis("2h"), 7'200'000);
  EXPECT_EQ(parseDurationMillis("7d"), 604'800'000);
  EXPECT_EQ(parseDurationMillis("250ms"), 250);
  EXPECT_FALSE(parseDurationMillis("5").has_value());
  EXPECT_FALSE(parseDurationMillis("-5s").has_value());
  EXPECT_FALSE(parseDurationMillis("99999999999999999999s").has_value());
  EXPECT_EQ(parseByteSize("4GiB"), 4ull << 30);
  EXPECT_EQ(parseByteSize("512MiB"), 512ull << 20);
  EXPECT_EQ(parseByteSize("1024"), 1024u);
  EXPECT_FALSE(parseByteSize("4 GiB").has_value());
}

}  // namespace
}  // namespace warden
