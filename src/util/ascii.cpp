#include "util/ascii.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace imsflow::ascii {

bool is_ipv4_address(std::string_view s) {
  if (s.size() < 7 || s.size() > 15) return false;
  const char* p = s.data();
  const char* const end = p + s.size();
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (p == end || *p != '.') return false;
      ++p;
    }
    const char* const digits = p;
    unsigned value = 0;
    while (p < end && p - digits < 3 && is_digit(*p)) value = value * 10 + static_cast<unsigned>(*p++ - '0');
    if (p == digits || value > 255) return false;
  }
  return p == end;
}

bool is_ipv4_address(std::string_view s, const char* limit) {
#if defined(__SSE2__)
  const std::size_t n = s.size();
  const char* const p = s.data();
  if (n < 7 || n > 15 || limit - p < 16) return is_ipv4_address(s);
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i d = _mm_sub_epi8(v, _mm_set1_epi8('0'));
  const unsigned in_text = (1u << n) - 1;
  const unsigned dots = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('.')))) & in_text;
  // A digit is a byte whose distance from '0', unsigned, is at most 9.
  const unsigned digits =
      static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d))) & in_text;
  if ((dots | digits) != in_text || __builtin_popcount(dots) != 3) return false;
  // Every part has a digit: no dot first, last, or next to another.
  if ((dots & 1u) != 0 || (dots >> (n - 1)) != 0 || (dots & (dots >> 1)) != 0) return false;
  // At most three digits a part; a three-digit part reads at most "255".
  if ((digits & (digits >> 1) & (digits >> 2) & (digits >> 3)) != 0) return false;
  for (unsigned three = digits & (digits >> 1) & (digits >> 2); three != 0; three &= three - 1) {
    const char* const part = p + __builtin_ctz(three);
    if (std::string_view(part, 3) > std::string_view("255", 3)) return false;
  }
  return true;
#else
  (void)limit;
  return is_ipv4_address(s);
#endif
}

std::optional<std::size_t> find_invalid_utf8(std::string_view s) {
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    std::uint32_t min_cp;
    std::uint32_t cp;
    if ((b0 & 0xE0) == 0xC0) {
      len = 2, min_cp = 0x80, cp = b0 & 0x1F;
    } else if ((b0 & 0xF0) == 0xE0) {
      len = 3, min_cp = 0x800, cp = b0 & 0x0F;
    } else if ((b0 & 0xF8) == 0xF0) {
      len = 4, min_cp = 0x10000, cp = b0 & 0x07;
    } else {
      return i;
    }
    if (i + len > n) return i;
    for (std::size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min_cp || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return std::nullopt;
}

}  // namespace imsflow::ascii
