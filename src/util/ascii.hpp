// Byte classification and small text helpers shared by the SIP and SDP
// grammars. Everything is table driven and locale independent.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace imsflow::ascii {

enum CharClass : std::uint16_t {
  kAlpha = 1 << 0,
  kDigit = 1 << 1,
  kHex = 1 << 2,
  kToken = 1 << 3,       // RFC 3261 token
  kWord = 1 << 4,        // RFC 3261 word (Call-ID)
  kUnreserved = 1 << 5,  // alphanum / mark
  kUserExtra = 1 << 6,   // user-unreserved: & = + $ , ; ? /
  kParamExtra = 1 << 7,  // param-unreserved: [ ] / : & + $
  kHeaderExtra = 1 << 8, // hnv-unreserved: [ ] / ? : + $
  kPasswordExtra = 1 << 9,  // & = + $ ,
  kHostname = 1 << 10,   // alphanum - . (and _ tolerated)
  kSpace = 1 << 11,      // SP HT
  kLws = 1 << 12,        // SP HT CR LF (folded whitespace inside a header value)
  kUriAny = 1 << 13,     // any byte allowed in an absolute URI (reserved/unreserved/escaped)
  kQdText = 1 << 14,     // printable ASCII inside a quoted string that needs no care: not '"' or '\\'
  kIpv4 = 1 << 15,       // digits and '.'
};

namespace internal {
constexpr std::array<std::uint16_t, 256> build_table() {
  std::array<std::uint16_t, 256> t{};
  auto add = [&t](std::string_view chars, std::uint16_t cls) {
    for (char c : chars) t[static_cast<unsigned char>(c)] |= cls;
  };
  for (int c = 'a'; c <= 'z'; ++c) t[c] |= kAlpha;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] |= kAlpha;
  for (int c = '0'; c <= '9'; ++c) t[c] |= kDigit | kHex;
  for (int c = 'a'; c <= 'f'; ++c) t[c] |= kHex;
  for (int c = 'A'; c <= 'F'; ++c) t[c] |= kHex;
  for (int c = 0; c < 256; ++c) {
    if (t[c] & (kAlpha | kDigit)) t[c] |= kToken | kWord | kUnreserved | kHostname | kUriAny;
  }
  add("-.!%*_+`'~", kToken | kWord);
  add("()<>:\\\"/[]?{}", kWord);
  add("-_.!~*'()", kUnreserved | kUriAny);
  add("&=+$,;?/", kUserExtra);
  add("[]/:&+$", kParamExtra);
  add("[]/?:+$", kHeaderExtra);
  add("&=+$,", kPasswordExtra);
  add("-._", kHostname);
  add(" \t", kSpace | kLws);
  add("\r\n", kLws);
  add(";/?:@&=+$,%#[]", kUriAny);
  for (int c = 0x20; c < 0x7F; ++c) t[c] |= kQdText;
  t['"'] &= static_cast<std::uint16_t>(~kQdText);
  t['\\'] &= static_cast<std::uint16_t>(~kQdText);
  t['\t'] |= kQdText;
  add("0123456789.", kIpv4);
  return t;
}
inline constexpr std::array<std::uint16_t, 256> kTable = build_table();
}  // namespace internal

constexpr bool is(char c, std::uint16_t cls) {
  return (internal::kTable[static_cast<unsigned char>(c)] & cls) != 0;
}
constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr bool is_alpha(char c) { return is(c, kAlpha); }
constexpr bool is_hex(char c) { return is(c, kHex); }
constexpr bool is_token(char c) { return is(c, kToken); }
constexpr bool is_space(char c) { return c == ' ' || c == '\t'; }
constexpr bool is_lws(char c) { return is(c, kLws); }

constexpr char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

constexpr bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  }
  return true;
}

/// True when every byte of s is in the class.
constexpr bool all_of(std::string_view s, std::uint16_t cls) {
  for (char c : s) {
    if (!is(c, cls)) return false;
  }
  return true;
}

constexpr int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// Removes SP/HT/CR/LF from both ends.
constexpr std::string_view trim_lws(std::string_view s) {
  while (!s.empty() && is_lws(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_lws(s.back())) s.remove_suffix(1);
  return s;
}

/// Parses 1*DIGIT into a value no greater than max. Leading zeros are allowed
/// (RFC 4475 §3.1.1.1). Returns nullopt on an empty string, a non-digit, or overflow.
constexpr std::optional<std::uint64_t> parse_uint(std::string_view s, std::uint64_t max) {
  if (s.empty()) return std::nullopt;
  std::uint64_t v = 0;
  if (s.size() <= 19) {
    // 19 digits cannot overflow 64 bits: accumulate, then compare once.
    for (char c : s) {
      if (!is_digit(c)) return std::nullopt;
      v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (v > max) return std::nullopt;
    return v;
  }
  for (char c : s) {
    if (!is_digit(c)) return std::nullopt;
    std::uint64_t d = static_cast<std::uint64_t>(c - '0');
    // Written so that no step can wrap, even when max is below 9.
    if (d > max || v > (max - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

/// A dotted-quad IPv4 address: four parts of one to three digits, each at
/// most 255, joined by dots (SIP hosts, Via received, SDP c= and o=).
bool is_ipv4_address(std::string_view s);
/// The same for a text inside a larger readable buffer ending at `limit`
/// (a parser's input): with 16 bytes readable from the text on, the digits
/// and dots are classified 16 at a time instead of byte by byte.
bool is_ipv4_address(std::string_view s, const char* limit);

/// Validates UTF-8 (RFC 3629: no overlongs, no surrogates, at most U+10FFFF).
/// Returns the offset of the first bad byte, or nullopt when the text is valid.
std::optional<std::size_t> find_invalid_utf8(std::string_view s);

}  // namespace imsflow::ascii
