#include "util/ascii.hpp"

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
