// SIP, SIPS and tel URIs (RFC 3261 §19.1, RFC 3966), IPv6 references per
// RFC 5118, and URI comparison per RFC 3261 §19.1.4. Other schemes are kept as
// opaque absolute URIs. A Uri is a set of views into the text it was parsed
// from and lives as long as that text.
#pragma once

#include <cstdint>
#include <string_view>

#include "sip/params.hpp"
#include "sip/syntax.hpp"

namespace imsflow::sip {

enum class UriScheme : std::uint8_t { Sip, Sips, Tel, Other };
enum class HostKind : std::uint8_t { None, Name, IPv4, IPv6 };

struct Uri {
  std::string_view raw;
  std::string_view scheme;    // as written
  UriScheme kind = UriScheme::Other;
  std::string_view user;      // sip/sips user part (escapes kept); tel: the number
  std::string_view password;
  std::string_view host;      // IPv6 keeps its brackets: "[2001:db8::1]"
  HostKind host_kind = HostKind::None;
  std::uint16_t port = 0;
  bool has_port = false;
  Params params;              // uri-parameters (sip/sips/tel)
  std::string_view headers;   // after '?', without it
  std::string_view opaque;    // everything after "scheme:" for other schemes

  bool is_sip() const { return kind == UriScheme::Sip || kind == UriScheme::Sips; }
  std::optional<std::string_view> param(std::string_view name) const { return params.get(name); }
  /// The host without IPv6 brackets.
  std::string_view host_address() const {
    if (host_kind == HostKind::IPv6 && host.size() >= 2) return host.substr(1, host.size() - 2);
    return host;
  }
};

/// Parses a complete URI. `text` must be exactly the URI (the caller has
/// delimited it). Errors carry offsets relative to `text`.
Parsed<Uri> parse_uri(std::string_view text);
/// The same, filling `out` (no copy of the result); nullopt on success.
std::optional<SyntaxError> parse_uri(std::string_view text, Uri& out);

namespace internal {
/// The one-pass fast path: parses the longest URI starting at `p` (and
/// before `end`) into `out`, which must be freshly constructed. Returns where
/// the URI stopped, or nullptr when it is malformed or of a rare shape
/// (IPv6, escapes cut short, long ports). A result equals parse_uri() of the
/// text [p, returned) whenever the returned pointer is the end the caller
/// expects (`end`, a '>', an SP); otherwise the caller uses parse_uri_general.
/// `limit` (at or after `end`, or nullptr for `end`) ends the readable
/// buffer: character runs may look ahead up to it, never deciding past `end`.
const char* parse_uri_prefix(const char* p, const char* end, Uri& out, const char* limit = nullptr);
/// Reads the digits of a port from p: returns where they end, or nullptr
/// when there are none or the number is above 65535 (the general grammar
/// then reports it).
inline const char* read_port(const char* p, const char* end, std::uint16_t& port) {
  const char* const digits = p;
  std::uint32_t value = 0;
  while (p < end && ascii::is_digit(*p)) {
    value = value * 10 + static_cast<std::uint32_t>(*p - '0');
    if (value > 65535) return nullptr;
    ++p;
  }
  if (p == digits) return nullptr;
  port = static_cast<std::uint16_t>(value);
  return p;
}
/// The general parser (delimit, then validate), which every error comes from.
std::optional<SyntaxError> parse_uri_general(std::string_view text, Uri& out);
}  // namespace internal

/// Parses a host (hostname, IPv4, or bracketed IPv6 reference). Returns its kind.
Parsed<HostKind> parse_host(std::string_view host);

/// An IPv4 address, or an IPv6 address with or without brackets (the Via
/// received parameter takes both, RFC 5118 §4.5).
bool is_ip_address(std::string_view text);

/// RFC 3261 §19.1.4 equivalence (sip/sips), RFC 3966 §4 for tel (visual
/// separators ignored), exact match after the scheme for other schemes.
bool uri_equal(const Uri& a, const Uri& b);

}  // namespace imsflow::sip
