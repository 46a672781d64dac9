// Lower-case hex digits of a 64-bit value, without printf (tags, branches
// and Call-IDs are made on every call, so this is on the hot path).
#pragma once

#include <cstdint>
#include <string>

namespace imsflow {

/// Appends the last `digits` (at most 16) hex digits of `v`, most significant first.
inline void append_hex(std::string& out, std::uint64_t v, int digits = 16) {
  constexpr char kDigits[] = "0123456789abcdef";
  char buf[16];
  for (int i = digits - 1; i >= 0; --i) {
    buf[i] = kDigits[v & 0xF];
    v >>= 4;
  }
  out.append(buf, static_cast<std::size_t>(digits));
}

}  // namespace imsflow
