// Test helper: hex text to fixed-size octet arrays, so test vectors read as
// the specifications print them.
#pragma once

#include <array>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace imsflow::ims::test {

inline int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  std::abort();  // a typo in a test vector must not pass quietly
}

/// Exactly 2*N hex digits, or the test binary stops.
template <std::size_t N>
std::array<std::uint8_t, N> octets(std::string_view hex) {
  if (hex.size() != 2 * N) std::abort();
  std::array<std::uint8_t, N> out{};
  for (std::size_t i = 0; i < N; ++i)
    out[i] = static_cast<std::uint8_t>(hex_digit(hex[2 * i]) << 4 | hex_digit(hex[2 * i + 1]));
  return out;
}

inline std::vector<std::uint8_t> bytes(std::string_view text) { return {text.begin(), text.end()}; }

template <std::size_t N>
std::string to_hex(const std::array<std::uint8_t, N>& a) {
  constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (std::uint8_t b : a) {
    s.push_back(kDigits[b >> 4]);
    s.push_back(kDigits[b & 0xF]);
  }
  return s;
}

}  // namespace imsflow::ims::test
