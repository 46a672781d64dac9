#include "util/ascii.hpp"

#include <gtest/gtest.h>

namespace imsflow::ascii {
namespace {

TEST(Ascii, TokenCharactersFollowRfc3261) {
  for (char c : std::string_view("abcXYZ019-.!%*_+`'~")) EXPECT_TRUE(is_token(c)) << c;
  for (char c : std::string_view(" \t\r\n\"(),/:;<=>?@[\\]{}")) EXPECT_FALSE(is_token(c)) << c;
}

TEST(Ascii, WordAddsCallIdCharacters) {
  for (char c : std::string_view("()<>:\\\"/[]?{}")) EXPECT_TRUE(is(c, kWord)) << c;
  EXPECT_FALSE(is('@', kWord));
  EXPECT_FALSE(is(' ', kWord));
}

TEST(Ascii, CaseInsensitiveCompare) {
  EXPECT_TRUE(iequals("Content-Length", "content-LENGTH"));
  EXPECT_FALSE(iequals("Via", "Vias"));
  EXPECT_FALSE(iequals("a", "b"));
}

TEST(Ascii, ParseUintAcceptsLeadingZerosAndRejectsOverflow) {
  EXPECT_EQ(parse_uint("0068", 255), 68u);
  EXPECT_EQ(parse_uint("255", 255), 255u);
  EXPECT_FALSE(parse_uint("256", 255));
  EXPECT_EQ(parse_uint("4294967295", 0xFFFFFFFFull), 4294967295u);
  EXPECT_FALSE(parse_uint("4294967296", 0xFFFFFFFFull));
  EXPECT_FALSE(parse_uint("36893488147419103232", ~0ull));
  EXPECT_FALSE(parse_uint("", 10));
  EXPECT_FALSE(parse_uint("-1", 10));
  EXPECT_FALSE(parse_uint("1a", 10));
}

// A maximum below 9 once made (max - digit) wrap around and accept anything.
TEST(Ascii, ParseUintHonoursSmallMaximum) {
  EXPECT_EQ(parse_uint("1", 1), 1u);
  EXPECT_EQ(parse_uint("0", 0), 0u);
  EXPECT_FALSE(parse_uint("2", 1));
  EXPECT_FALSE(parse_uint("9", 5));
  EXPECT_FALSE(parse_uint("19", 5));
  EXPECT_FALSE(parse_uint("1", 0));
}

TEST(Ascii, TrimLwsRemovesFoldsAndSpaces) {
  EXPECT_EQ(trim_lws(" \t\r\n value \r\n "), "value");
  EXPECT_EQ(trim_lws(""), "");
}

TEST(Ascii, Utf8Validation) {
  EXPECT_FALSE(find_invalid_utf8("plain"));
  EXPECT_FALSE(find_invalid_utf8("\xd1\x80\xd0\xb0\xd0\xb1"));      // Cyrillic
  EXPECT_FALSE(find_invalid_utf8("\xef\xbb\xbf\xe5\xa4\xa7"));      // BOM + CJK
  EXPECT_FALSE(find_invalid_utf8("\xf0\x9f\x93\x9e"));              // 4-byte
  EXPECT_EQ(find_invalid_utf8("ab\xc0\xafz"), 2u);                  // overlong
  EXPECT_EQ(find_invalid_utf8("ab\xed\xa0\x80"), 2u);               // surrogate
  EXPECT_EQ(find_invalid_utf8("\xe5\xa4"), 0u);                     // truncated
  EXPECT_EQ(find_invalid_utf8("x\xff"), 1u);                        // invalid lead
  EXPECT_EQ(find_invalid_utf8("\xf4\x90\x80\x80"), 0u);             // > U+10FFFF
}

}  // namespace
}  // namespace imsflow::ascii
