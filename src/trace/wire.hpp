// Private helpers of the capture decoder: network-order loads over a byte
// view that never read past its end, and the test that says whether bytes
// start like a SIP message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace imsflow::trace::internal {

using Bytes = std::string_view;

inline std::uint8_t u8(Bytes b, std::size_t at) { return static_cast<std::uint8_t>(b[at]); }
inline std::uint16_t be16(Bytes b, std::size_t at) {
  return static_cast<std::uint16_t>((u8(b, at) << 8) | u8(b, at + 1));
}
inline std::uint32_t be32(Bytes b, std::size_t at) {
  return (static_cast<std::uint32_t>(be16(b, at)) << 16) | be16(b, at + 2);
}
inline std::uint32_t le32(Bytes b, std::size_t at) {
  return static_cast<std::uint32_t>(u8(b, at)) | (static_cast<std::uint32_t>(u8(b, at + 1)) << 8) |
         (static_cast<std::uint32_t>(u8(b, at + 2)) << 16) | (static_cast<std::uint32_t>(u8(b, at + 3)) << 24);
}

/// How the first line of `b` (after leading CR/LF) looks.
enum class StartLineLook : std::uint8_t {
  Sip,       // "SIP/2.0 NNN ..." or "METHOD uri SIP/2.0"
  NotSip,    // a complete first line that is neither
  Partial,   // no line end yet and what is there could still become a SIP start line
  KeepAlive, // only CR/LF bytes
};

/// Looks at no more than kMaxStartLine bytes. Case-sensitive on "SIP/2.0",
/// as RFC 3261 §7.1 writes it; the parser decides the rest.
inline constexpr std::size_t kMaxStartLine = 2048;

inline bool is_method_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '!' || c == '%' || c == '*' || c == '_' || c == '+' || c == '`' || c == '\'' || c == '~';
}

inline StartLineLook look_at_start_line(Bytes b) {
  std::size_t i = 0;
  while (i < b.size() && (b[i] == '\r' || b[i] == '\n')) ++i;
  if (i == b.size()) return StartLineLook::KeepAlive;
  const Bytes rest = b.substr(i, kMaxStartLine);
  // A response: "SIP/2.0 " then three digits.
  constexpr Bytes kVersion = "SIP/2.0";
  const std::size_t cmp = rest.size() < 8 ? rest.size() : 8;
  if (rest.substr(0, cmp) == Bytes("SIP/2.0 ").substr(0, cmp)) {
    if (rest.size() < 12) return StartLineLook::Partial;
    for (std::size_t k = 8; k < 11; ++k) {
      if (rest[k] < '0' || rest[k] > '9') return StartLineLook::NotSip;
    }
    return StartLineLook::Sip;
  }
  // A request: token SP ... SP "SIP/2.0" CRLF.
  std::size_t k = 0;
  while (k < rest.size() && is_method_char(rest[k])) ++k;
  if (k == rest.size()) return k < 32 ? StartLineLook::Partial : StartLineLook::NotSip;
  if (k == 0 || rest[k] != ' ') return StartLineLook::NotSip;
  const std::size_t eol = rest.find('\n', k);
  if (eol == Bytes::npos) {
    if (rest.size() == kMaxStartLine) return StartLineLook::NotSip;
    // Reject early what can no longer end in SIP/2.0: control bytes in the line.
    for (std::size_t j = k; j < rest.size(); ++j) {
      const auto c = static_cast<unsigned char>(rest[j]);
      if (c < 0x20 && c != '\r') return StartLineLook::NotSip;
    }
    return StartLineLook::Partial;
  }
  std::size_t end = eol;
  if (end > k && rest[end - 1] == '\r') --end;
  if (end < k + 1 + kVersion.size() + 1) return StartLineLook::NotSip;
  if (rest.substr(end - kVersion.size(), kVersion.size()) != kVersion) return StartLineLook::NotSip;
  if (rest[end - kVersion.size() - 1] != ' ') return StartLineLook::NotSip;
  return StartLineLook::Sip;
}

/// FNV-1a step, used to fold the outer layers of a tunnel into one key.
inline std::uint64_t mix(std::uint64_t h, Bytes b) {
  for (char c : b) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}
inline constexpr std::uint64_t kMixSeed = 0xcbf29ce484222325ull;

}  // namespace imsflow::trace::internal
