#include "util/ascii.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>

#include "util/byte_scan.hpp"

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

// The short form (up to 19 digits, one compare at the end) against the
// per-digit check for every maximum a caller uses and numbers around it.
TEST(Ascii, ParseUintShortFormAgreesWithADigitByDigitCheck) {
  auto reference = [](std::string_view s, std::uint64_t max) -> std::optional<std::uint64_t> {
    if (s.empty()) return std::nullopt;
    std::uint64_t v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return std::nullopt;
      const auto d = static_cast<std::uint64_t>(c - '0');
      if (d > max || v > (max - d) / 10) return std::nullopt;
      v = v * 10 + d;
    }
    return v;
  };
  std::mt19937_64 rng(9);
  for (std::uint64_t max : {0ull, 1ull, 9ull, 127ull, 255ull, 999ull, 65535ull, 0xFFFFFFFFull, ~0ull}) {
    for (int round = 0; round < 3000; ++round) {
      std::string s;
      if (round % 3 == 0) {
        s = std::to_string(max + static_cast<std::uint64_t>(round % 5) - 2);  // around the maximum
      } else {
        const std::size_t n = rng() % 23;
        for (std::size_t k = 0; k < n; ++k) s.push_back(rng() % 20 == 0 ? 'x' : static_cast<char>('0' + rng() % 10));
      }
      if (round % 7 == 0) s.insert(0, rng() % 4, '0');
      ASSERT_EQ(parse_uint(s, max), reference(s, max)) << s << " max " << max;
    }
  }
  EXPECT_EQ(parse_uint("18446744073709551615", ~0ull), ~0ull);
  EXPECT_FALSE(parse_uint("18446744073709551616", ~0ull));
  EXPECT_EQ(parse_uint("0000000000000000000000042", 255), 42u);
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

// The dotted-quad check against a byte-at-a-time reference (the way SIP
// first wrote it), on generated strings of digits and dots and on the edges.
bool reference_ipv4(std::string_view s) {
  if (s.size() < 7 || s.size() > 15) return false;
  int dots = 0;
  int digits = 0;
  unsigned value = 0;
  for (char c : s) {
    if (c == '.') {
      if (digits == 0 || ++dots > 3) return false;
      digits = 0;
      value = 0;
    } else if (c >= '0' && c <= '9' && ++digits <= 3) {
      value = value * 10 + static_cast<unsigned>(c - '0');
      if (value > 255) return false;
    } else {
      return false;
    }
  }
  return dots == 3 && digits > 0;
}

TEST(Ascii, Ipv4AddressCheckAgreesWithAByteAtATimeReference) {
  for (std::string_view edge : {"0.0.0.0", "255.255.255.255", "256.1.1.1", "1.2.3", "1.2.3.4.", ".1.2.3.4", "1..2.3",
                                "1234.1.1.1", "01.02.003.4", "1.2.3.4a", "1.2.3.0004", ""}) {
    EXPECT_EQ(is_ipv4_address(edge), reference_ipv4(edge)) << edge;
    const std::string padded = std::string(edge) + "9.9.9.9.9.9.9.9.";
    EXPECT_EQ(is_ipv4_address(std::string_view(padded.data(), edge.size()), padded.data() + padded.size()),
              reference_ipv4(edge))
        << edge;
  }
  std::mt19937 rng(23);
  int valid = 0;
  for (int round = 0; round < 200000; ++round) {
    std::string s;
    if (round % 2 == 0) {  // three to five dot-joined parts of zero to four digits
      const int parts = 3 + static_cast<int>(rng() % 3);
      for (int k = 0; k < parts; ++k) {
        if (k > 0) s += '.';
        for (int d = static_cast<int>(rng() % 5); d > 0; --d) s += static_cast<char>('0' + rng() % 10);
      }
    } else {
      const int n = static_cast<int>(rng() % 17);
      for (int k = 0; k < n; ++k) s += "0123456789.2a"[rng() % 13 == 12 ? 12 : rng() % 11];
    }
    ASSERT_EQ(is_ipv4_address(s), reference_ipv4(s)) << s;
    // The 16-byte form, on the same text followed by bytes that must not
    // count (digits and dots, which would extend an address), and without
    // 16 readable bytes (the byte-wise fallback).
    const std::string padded = s + std::string(16, round % 4 == 1 ? '7' : '.');
    ASSERT_EQ(is_ipv4_address(std::string_view(padded.data(), s.size()), padded.data() + padded.size()),
              reference_ipv4(s))
        << s;
    ASSERT_EQ(is_ipv4_address(s, s.data() + s.size()), reference_ipv4(s)) << s;
    valid += reference_ipv4(s);
  }
  EXPECT_GT(valid, 1000);  // the generated strings do reach the accepting path
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

// --- byte_scan.hpp: the SIMD searches against plain loops -------------------

namespace imsflow::scan {
namespace {

std::string random_bytes(std::mt19937& rng, std::size_t n, std::string_view common) {
  std::string s(n, '\0');
  for (char& c : s) {
    // Mostly bytes from `common` so that matches are frequent, some anything.
    c = (rng() % 4 != 0) ? common[rng() % common.size()] : static_cast<char>(rng() % 256);
  }
  return s;
}

const char* reference_next_lf(const char* from, const char* end) {
  while (from < end && *from != '\n') ++from;
  return from;
}

TEST(ByteScan, LineFinderMatchesAPlainSearchOnRandomInput) {
  std::mt19937 rng(7);
  for (int round = 0; round < 3000; ++round) {
    const std::string s = random_bytes(rng, rng() % 400, "ab:\r\n \t");
    const char* begin = s.data();
    const char* end = begin + s.size();
    LineFinder lines(begin, end);
    // Line by line, as the parser walks, with an occasional jump ahead, and
    // a few back (the bits taken already must come back with the block).
    const char* from = begin;
    int jumps_back = 0;
    while (true) {
      const char* expect = reference_next_lf(from, end);
      ASSERT_EQ(lines.next(from), expect) << "round " << round << " at " << (from - begin);
      if (expect == end) break;
      from = expect + 1;
      if (rng() % 8 == 0) from += std::min<std::size_t>(rng() % 100, static_cast<std::size_t>(end - from));
      if (jumps_back < 3 && rng() % 8 == 0) {
        from -= std::min<std::size_t>(rng() % 100, static_cast<std::size_t>(from - begin));
        ++jumps_back;
      }
    }
  }
}

TEST(ByteScan, LineFinderFindsLfAtBlockEdgesAndAtTheEnd) {
  for (std::size_t n : {0u, 1u, 63u, 64u, 65u, 127u, 128u, 129u, 200u}) {
    for (std::size_t at = 0; at < n; ++at) {
      std::string s(n, 'x');
      s[at] = '\n';
      LineFinder lines(s.data(), s.data() + n);
      EXPECT_EQ(lines.next(s.data()), s.data() + at) << n << " " << at;
      EXPECT_EQ(lines.next(s.data() + at + 1), s.data() + n) << n << " " << at;
    }
    std::string none(n, 'y');
    LineFinder lines(none.data(), none.data() + n);
    EXPECT_EQ(lines.next(none.data()), none.data() + n);
  }
}

TEST(ByteScan, SkipPlainQdtextStopsWhereAPlainLoopStops) {
  std::mt19937 rng(11);
  auto reference = [](const char* p, const char* end) {
    while (p < end) {
      const auto u = static_cast<unsigned char>(*p);
      if (u < 0x20 || u > 0x7E || u == '"' || u == '\\') return p;
      ++p;
    }
    return end;
  };
  for (int round = 0; round < 5000; ++round) {
    std::string s = random_bytes(rng, rng() % 100, "abcdefgh<>:;=% ~");
    // Sometimes all plain, so the end is reached through the 16-byte steps.
    if (round % 3 == 0) {
      for (char& c : s) c = static_cast<char>(0x20 + rng() % 0x5F);
      for (char& c : s) {
        if (c == '"' || c == '\\') c = 'q';
      }
    }
    const char* b = s.data();
    const char* e = b + s.size();
    for (std::size_t start = 0; start <= s.size(); start += 1 + rng() % 7)
      ASSERT_EQ(skip_plain_qdtext(b + start, e), reference(b + start, e)) << round;
  }
  // Each boundary byte is reported.
  for (int c : {0x1F, 0x7F, 0x80, 0xFF, int{'"'}, int{'\\'}, int{'\t'}, int{'\r'}, int{'\n'}, 0}) {
    std::string s(40, 'a');
    s[21] = static_cast<char>(c);
    EXPECT_EQ(skip_plain_qdtext(s.data(), s.data() + s.size()), s.data() + 21) << c;
  }
  const std::string edge = std::string(1, ' ') + "~";
  EXPECT_EQ(skip_plain_qdtext(edge.data(), edge.data() + edge.size()), edge.data() + edge.size());
}

// Each common set with the class its callers finish with: skip_common() may
// only ever stop early, never run past a byte its class excludes.
struct CommonSetCase {
  const char* name;
  const CommonBytes* set;
  bool (*member)(unsigned char);
};
const CommonSetCase kCommonSets[] = {
    {"token", &kCommonToken, [](unsigned char c) { return ascii::is_token(static_cast<char>(c)); }},
    {"hostname", &kCommonHostname, [](unsigned char c) { return ascii::is(static_cast<char>(c), ascii::kHostname); }},
    {"uri user", &kCommonUriUser,
     [](unsigned char c) { return ascii::is(static_cast<char>(c), ascii::kUnreserved | ascii::kUserExtra); }},
    {"uri param", &kCommonUriParam,
     [](unsigned char c) { return ascii::is(static_cast<char>(c), ascii::kUnreserved | ascii::kParamExtra); }},
    {"value", &kCommonValue,
     [](unsigned char c) { return c >= 0x20 && c != 0x7F && c != ';' && c != ' ' && c != '"' && c != ','; }},
    {"tel", &kCommonTel,
     [](unsigned char c) {
       return ascii::is_hex(static_cast<char>(c)) || std::string_view("*#+-.()pPwW").find(static_cast<char>(c)) != std::string_view::npos;
     }},
    {"not space", &kCommonNotSpace, [](unsigned char c) { return c != ' '; }},
    {"not space or colon", &kCommonNotSpaceOrColon, [](unsigned char c) { return c != ' ' && c != ':'; }},
};

bool in_common_set(const CommonBytes& set, unsigned char c) {
  for (int i = 0; i + 1 < 16 && set.ranges[i] != '\0'; i += 2) {
    if (c >= static_cast<unsigned char>(set.ranges[i]) && c <= static_cast<unsigned char>(set.ranges[i + 1])) return true;
  }
  return false;
}

TEST(ByteScan, EveryCommonSetIsASubsetOfItsClass) {
  for (const auto& k : kCommonSets) {
    for (int c = 1; c < 256; ++c) {
      if (in_common_set(*k.set, static_cast<unsigned char>(c))) {
        EXPECT_TRUE(k.member(static_cast<unsigned char>(c))) << k.name << " " << c;
      }
    }
  }
}

TEST(ByteScan, SkipCommonStopsWhereAPlainLoopOverTheSetStops) {
  std::mt19937 rng(13);
  for (const auto& k : kCommonSets) {
    // The reference for what skip_common may do: stop at the first byte
    // outside the set, or anywhere before it within the last 15 bytes.
    for (int round = 0; round < 3000; ++round) {
      std::string s = random_bytes(rng, rng() % 120, "abcXYZ09-._!%*+:;=,\" <>@");
      if (round % 4 == 0) {
        // NUL, high and control bytes stop it like any byte outside the set.
        s.push_back(static_cast<char>(rng() % 2 ? 0 : 0x80 + rng() % 0x80));
        s += random_bytes(rng, rng() % 40, "abc");
      }
      const char* b = s.data();
      const char* e = b + s.size();
      for (std::size_t start = 0; start <= s.size(); start += 1 + rng() % 9) {
        const char* p = b + start;
        const char* first_out = p;
        while (first_out < e && in_common_set(*k.set, static_cast<unsigned char>(*first_out))) ++first_out;
        const char* got = skip_common(p, e, *k.set);
        ASSERT_GE(got, p) << k.name;
        ASSERT_LE(got, first_out) << k.name << " round " << round;
        // With SSE4.2 it stops short only where fewer than 16 bytes are left to read.
        if (got < first_out && internal::kHaveSse42) {
          ASSERT_LT(e - got, 16) << k.name << " round " << round;
        }
      }
    }
  }
}

// The look-ahead forms: a text inside a larger buffer, followed by bytes the
// set contains. They may read up to `limit` but never answer past `end`.
TEST(ByteScan, LookAheadFormsNeverAnswerPastTheTextEnd) {
  std::mt19937 rng(17);
  for (const auto& k : kCommonSets) {
    for (int round = 0; round < 3000; ++round) {
      const std::string text = random_bytes(rng, rng() % 40, "abcXYZ09-._!%*+:;=,\" <>@");
      const std::string buffer = text + random_bytes(rng, rng() % 40, "abcdefghXYZ0123-.");
      const char* b = buffer.data();
      const char* e = b + text.size();
      const char* limit = b + buffer.size();
      for (std::size_t start = 0; start <= text.size(); start += 1 + rng() % 5) {
        const char* p = b + start;
        const char* first_out = p;
        while (first_out < e && in_common_set(*k.set, static_cast<unsigned char>(*first_out))) ++first_out;
        const char* got = skip_common(p, e, limit, *k.set);
        ASSERT_GE(got, p) << k.name;
        ASSERT_LE(got, first_out) << k.name << " round " << round;
        if (got < first_out && internal::kHaveSse42) {
          ASSERT_LT(limit - got, 16) << k.name << " round " << round;
        }
        // The quoted-string form clamps the same way.
        const char* plain = skip_plain_qdtext(p, e, limit);
        ASSERT_LE(plain, e);
        ASSERT_EQ(plain, skip_plain_qdtext(p, e)) << round;
      }
    }
  }
}

TEST(ByteScan, FindByteMatchesMemchr) {
  std::mt19937 rng(19);
  for (int round = 0; round < 5000; ++round) {
    const std::string s = random_bytes(rng, rng() % 100, "abc=\r\n:");
    const char* b = s.data();
    const char* e = b + s.size();
    for (std::size_t start = 0; start <= s.size(); start += 1 + rng() % 7) {
      for (char c : {'\n', ':', 'z'}) {
        const void* m = std::memchr(b + start, c, s.size() - start);
        ASSERT_EQ(find_byte(b + start, e, c), m ? static_cast<const char*>(m) : e) << round;
      }
    }
  }
}

}  // namespace
}  // namespace imsflow::scan
