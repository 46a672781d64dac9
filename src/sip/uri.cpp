#include "sip/uri.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace imsflow::sip {

namespace {

using ascii::kHeaderExtra;
using ascii::kParamExtra;
using ascii::kPasswordExtra;
using ascii::kUnreserved;
using ascii::kUserExtra;

/// Checks that s is made of `allowed` characters or %HH escapes. Returns the
/// offset of the first bad byte, or npos.
std::size_t find_bad_escaped(std::string_view s, std::uint16_t allowed) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (ascii::is(c, allowed)) continue;
    if (c != '%' || i + 2 >= s.size() || !ascii::is_hex(s[i + 1]) || !ascii::is_hex(s[i + 2])) return i;
    i += 2;
  }
  return std::string_view::npos;
}

using ascii::is_ipv4_address;

// RFC 5118 §4.10: tolerate the RFC 3261 ABNF's three-colon form, so the check
// is on characters and shape, not a strict RFC 4291 parse.
bool valid_ipv6(std::string_view s) {
  if (s.size() < 2) return false;
  int colons = 0;
  for (char c : s) {
    if (c == ':') {
      ++colons;
    } else if (!ascii::is_hex(c) && c != '.') {
      return false;
    }
  }
  return colons >= 2 && colons <= 8;
}

/// Parses "host[:port]" (host may be a bracketed IPv6 reference) into uri.
std::optional<SyntaxError> parse_hostport(std::string_view s, std::size_t at, Uri& uri) {
  auto fail = [at](std::size_t off, const char* what) { return SyntaxError{static_cast<std::uint32_t>(at + off), what}; };
  std::size_t host_end;
  if (!s.empty() && s[0] == '[') {
    host_end = s.find(']');
    if (host_end == std::string_view::npos) return fail(0, "a ']' closing the IPv6 reference");
    ++host_end;
  } else {
    host_end = 0;
    while (host_end < s.size() && s[host_end] != ':') ++host_end;
  }
  uri.host = s.substr(0, host_end);
  auto kind = parse_host(uri.host);
  if (!kind) return fail(kind.error().offset, kind.error().expected);
  uri.host_kind = *kind;
  if (host_end < s.size()) {
    auto port = ascii::parse_uint(s.substr(host_end + 1), 65535);
    if (!port) return fail(host_end + 1, "a port number from 0 to 65535");
    uri.port = static_cast<std::uint16_t>(*port);
    uri.has_port = true;
  }
  return std::nullopt;
}

/// Validates ";name[=value]" URI parameters (RFC 3261 §19.1.1: paramchar).
std::size_t find_bad_uri_params(std::string_view s) {
  constexpr std::uint16_t kParamChar = ascii::kUnreserved | ascii::kParamExtra;
  // s starts with ';'
  std::size_t i = 0;
  while (i < s.size()) {
    ++i;  // ';'
    const std::size_t name_start = i;
    while (i < s.size() && s[i] != ';' && s[i] != '=') ++i;
    if (i == name_start) return name_start;
    if (auto bad = find_bad_escaped(s.substr(name_start, i - name_start), kParamChar); bad != std::string_view::npos)
      return name_start + bad;
    if (i < s.size() && s[i] == '=') {
      const std::size_t value_start = ++i;
      while (i < s.size() && s[i] != ';') ++i;
      if (i == value_start) return value_start;
      if (auto bad = find_bad_escaped(s.substr(value_start, i - value_start), kParamChar); bad != std::string_view::npos)
        return value_start + bad;
    }
  }
  return std::string_view::npos;
}

std::optional<SyntaxError> parse_sip_uri(std::string_view text, std::size_t rest_at, Uri& uri) {
  std::string_view rest = text.substr(rest_at);
  auto at = [rest_at](std::size_t off, const char* what) {
    return SyntaxError{static_cast<std::uint32_t>(rest_at + off), what};
  };
  // Userinfo ends at the first '@': '@' is not allowed unescaped after it.
  std::size_t host_start = 0;
  if (const void* amp_ptr = std::memchr(rest.data(), '@', rest.size())) {
    const std::size_t amp = static_cast<const char*>(amp_ptr) - rest.data();
    // One pass over the userinfo: user chars, then after ':' password chars.
    constexpr std::uint16_t kUser = ascii::kUnreserved | ascii::kUserExtra;
    constexpr std::uint16_t kPassword = ascii::kUnreserved | ascii::kPasswordExtra;
    std::uint16_t allowed = kUser;
    std::size_t colon = std::string_view::npos;
    for (std::size_t i = 0; i < amp; ++i) {
      const char c = rest[i];
      if (ascii::is(c, allowed)) continue;
      if (c == ':' && colon == std::string_view::npos) {
        colon = i;
        allowed = kPassword;
        continue;
      }
      if (c == '%' && i + 2 < amp && ascii::is_hex(rest[i + 1]) && ascii::is_hex(rest[i + 2])) {
        i += 2;
        continue;
      }
      return at(i, colon == std::string_view::npos ? "user-part characters (unreserved, escaped, or & = + $ , ; ? /)"
                                                   : "password characters (unreserved, escaped, or & = + $ ,)");
    }
    uri.user = rest.substr(0, std::min(colon, amp));
    if (uri.user.empty()) return at(0, "a user name before '@'");
    if (colon != std::string_view::npos) uri.password = rest.substr(colon + 1, amp - colon - 1);
    host_start = amp + 1;
  }
  // hostport runs to ';' or '?' (outside an IPv6 reference).
  std::size_t i = host_start;
  if (i < rest.size() && rest[i] == '[') {
    const std::size_t close = rest.find(']', i);
    i = close == std::string_view::npos ? rest.size() : close + 1;
  }
  while (i < rest.size() && rest[i] != ';' && rest[i] != '?') ++i;
  if (auto e = parse_hostport(rest.substr(host_start, i - host_start), rest_at + host_start, uri)) return e;
  if (i < rest.size() && rest[i] == ';') {
    std::size_t params_end = i;
    while (params_end < rest.size() && rest[params_end] != '?') ++params_end;
    std::string_view params = rest.substr(i, params_end - i);
    if (auto bad = find_bad_uri_params(params); bad != std::string_view::npos)
      return at(i + bad, "a URI parameter ';name[=value]' of paramchars");
    uri.params = Params(params);
    i = params_end;
  }
  if (i < rest.size() && rest[i] == '?') {
    uri.headers = rest.substr(i + 1);
    if (uri.headers.empty()) return at(i + 1, "a header after '?'");
    for (std::size_t k = 0; k < uri.headers.size(); ++k) {
      const char c = uri.headers[k];
      if (c == '&' || c == '=') continue;
      if (c == '%') {
        if (k + 2 >= uri.headers.size() || !ascii::is_hex(uri.headers[k + 1]) || !ascii::is_hex(uri.headers[k + 2]))
          return at(i + 1 + k, "a %HH escape in the URI headers");
        k += 2;
        continue;
      }
      if (!ascii::is(c, ascii::kUnreserved | ascii::kHeaderExtra))
        return at(i + 1 + k, "URI header characters (hnv-unreserved, unreserved or escaped)");
    }
  }
  return std::nullopt;
}

std::optional<SyntaxError> parse_tel_uri(std::string_view text, std::size_t rest_at, Uri& uri) {
  std::string_view rest = text.substr(rest_at);
  std::size_t semi = rest.find(';');
  uri.user = rest.substr(0, semi);
  if (uri.user.empty()) return SyntaxError{static_cast<std::uint32_t>(rest_at), "a telephone number after 'tel:'"};
  for (std::size_t i = 0; i < uri.user.size(); ++i) {
    const char c = uri.user[i];
    if (!(ascii::is_hex(c) || c == '*' || c == '#' || c == '+' || c == '-' || c == '.' || c == '(' || c == ')' ||
          c == 'p' || c == 'P' || c == 'w' || c == 'W'))
      return SyntaxError{static_cast<std::uint32_t>(rest_at + i), "digits or visual separators in the telephone number"};
  }
  if (semi != std::string_view::npos) {
    std::string_view params = rest.substr(semi);
    if (auto bad = find_bad_uri_params(params); bad != std::string_view::npos)
      return SyntaxError{static_cast<std::uint32_t>(rest_at + semi + bad), "a tel URI parameter ';name[=value]'"};
    uri.params = Params(params);
  }
  return std::nullopt;
}


// --- one-pass fast path -----------------------------------------------------
//
// The grammar above delimits first and validates after, so each byte of a URI
// is visited several times. The fast path below walks the URI once with one
// class table. It takes only the common, well-formed shapes; on anything else
// (an error, an IPv6 reference, a long port) it gives up and the general code
// decides, so verdicts, offsets and messages come from one place.

enum UriClass : std::uint8_t {
  kCUser = 1 << 0,    // unreserved / user-unreserved (& = + $ , ; ? /)
  kCPass = 1 << 1,    // unreserved / & = + $ ,
  kCHost = 1 << 2,    // alphanum - . _
  kCParam = 1 << 3,   // unreserved / param-unreserved ([ ] / : & + $)
  kCHeader = 1 << 4,  // unreserved / hnv-unreserved ([ ] / ? : + $) / & =
  kCTel = 1 << 5,     // hex digits and visual separators * # + - . ( ) p P w W
  kCAny = 1 << 6,     // ascii::kUriAny
  kCScheme = 1 << 7,  // alphanum + - .
};

constexpr std::array<std::uint8_t, 256> build_uri_classes() {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    const char ch = static_cast<char>(c);
    std::uint8_t v = 0;
    if (ascii::is(ch, kUnreserved | kUserExtra)) v |= kCUser;
    if (ascii::is(ch, kUnreserved | kPasswordExtra)) v |= kCPass;
    if (ascii::is(ch, ascii::kHostname)) v |= kCHost;
    if (ascii::is(ch, kUnreserved | kParamExtra)) v |= kCParam;
    if (ascii::is(ch, kUnreserved | kHeaderExtra) || ch == '&' || ch == '=') v |= kCHeader;
    if (ascii::is_hex(ch) || ch == '*' || ch == '#' || ch == '+' || ch == '-' || ch == '.' || ch == '(' ||
        ch == ')' || ch == 'p' || ch == 'P' || ch == 'w' || ch == 'W')
      v |= kCTel;
    if (ascii::is(ch, ascii::kUriAny)) v |= kCAny;
    if (ascii::is_alpha(ch) || ascii::is_digit(ch) || ch == '+' || ch == '-' || ch == '.') v |= kCScheme;
    t[c] = v;
  }
  return t;
}
constexpr std::array<std::uint8_t, 256> kUriClass = build_uri_classes();

inline bool in_class(char c, std::uint8_t cls) { return (kUriClass[static_cast<unsigned char>(c)] & cls) != 0; }

/// Skips a run of `cls` characters and %HH escapes. Returns nullptr on a '%'
/// that does not start a complete escape (the general code reports it).
inline const char* skip_escaped(const char* p, const char* end, const char* limit, std::uint8_t cls) {
  if (cls == kCUser) p = scan::skip_common(p, end, limit, scan::kCommonUriUser);
  else if (cls == kCParam) p = scan::skip_common(p, end, limit, scan::kCommonUriParam);
  while (p < end) {
    if (in_class(*p, cls)) {
      ++p;
    } else if (*p == '%') {
      if (end - p < 3 || !ascii::is_hex(p[1]) || !ascii::is_hex(p[2])) return nullptr;
      p += 3;
    } else {
      break;
    }
  }
  return p;
}

/// ";name[=value]" parameters from p (at ';'). `stop_at_query` ends them at
/// '?' (sip), else a '?' is left to the caller, which then gives up (tel).
inline const char* skip_uri_params(const char* p, const char* end, const char* limit) {
  while (p < end && *p == ';') {
    const char* name = p + 1;
    p = skip_escaped(name, end, limit, kCParam);
    if (!p || p == name) return nullptr;
    if (p < end && *p == '=') {
      const char* value = p + 1;
      p = skip_escaped(value, end, limit, kCParam);
      if (!p || p == value) return nullptr;
    }
  }
  return p;
}

const char* parse_sip_uri_fast(const char* p, const char* end, const char* limit, Uri& uri) {
  const char* const rest = p;
  // Userinfo: user chars, then after one ':' password chars, up to '@'.
  const char* colon = nullptr;
  const char* q = skip_escaped(p, end, limit, kCUser);
  if (!q) return nullptr;
  if (q < end && *q == ':') {
    colon = q;
    q = skip_escaped(q + 1, end, limit, kCPass);
    if (!q) return nullptr;
  }
  const char* host = rest;
  if (q < end && *q == '@') {
    const char* user_end = colon ? colon : q;
    if (user_end == rest) return nullptr;
    uri.user = std::string_view(rest, static_cast<std::size_t>(user_end - rest));
    if (colon) uri.password = std::string_view(colon + 1, static_cast<std::size_t>(q - colon - 1));
    host = q + 1;
  }
  // hostname or IPv4 address (IPv6 references take the general path).
  const char* h = scan::skip_common(host, end, limit, scan::kCommonHostname);
  while (h < end && in_class(*h, kCHost)) ++h;
  if (h == host || *host == '.' || *host == '-') return nullptr;
  uri.host = std::string_view(host, static_cast<std::size_t>(h - host));
  uri.host_kind = HostKind::Name;
  // is_ipv4_address itself refuses anything but digits and dots.
  if (ascii::is_digit(*host) && is_ipv4_address(uri.host, limit))
    uri.host_kind = HostKind::IPv4;
  p = h;
  if (p < end && *p == ':') {
    p = internal::read_port(p + 1, end, uri.port);
    if (!p) return nullptr;
    uri.has_port = true;
  }
  if (p < end && *p == ';') {
    const char* params = p;
    p = skip_uri_params(p, end, limit);
    if (!p) return nullptr;
    uri.params = Params(std::string_view(params, static_cast<std::size_t>(p - params)));
  }
  if (p < end && *p == '?') {
    const char* headers = ++p;
    p = skip_escaped(p, end, limit, kCHeader);
    if (!p || p == headers) return nullptr;
    uri.headers = std::string_view(headers, static_cast<std::size_t>(p - headers));
  }
  // The general code takes userinfo up to the first '@' anywhere in the URI:
  // when the userinfo scan stopped early, there must be none after it.
  if (host == rest && q < p && std::memchr(q, '@', static_cast<std::size_t>(p - q))) return nullptr;
  return p;
}

const char* parse_tel_uri_fast(const char* p, const char* end, const char* limit, Uri& uri) {
  const char* q = scan::skip_common(p, end, limit, scan::kCommonTel);
  while (q < end && in_class(*q, kCTel)) ++q;
  if (q == p) return nullptr;
  uri.user = std::string_view(p, static_cast<std::size_t>(q - p));
  if (q < end && *q == ';') {
    const char* params = q;
    q = skip_uri_params(q, end, limit);
    if (!q) return nullptr;
    uri.params = Params(std::string_view(params, static_cast<std::size_t>(q - params)));
  }
  // tel parameters run to the end of the URI: a '?' there is an error.
  if (q < end && *q == '?') return nullptr;
  return q;
}

}  // namespace

namespace internal {

const char* parse_uri_prefix(const char* p, const char* end, Uri& uri, const char* limit) {
  if (limit == nullptr) limit = end;
  const char* const start = p;
  // "sip:" in any case, the scheme of nearly every URI, in one compare.
  if (end - p >= 4) {
    std::uint32_t word;
    std::memcpy(&word, p, 4);
    std::uint32_t sip;
    std::memcpy(&sip, "sip:", 4);
    std::uint32_t case_bits;  // the case bit of the three letters, in memory order (any endianness)
    std::memcpy(&case_bits, "\x20\x20\x20\x00", 4);
    if ((word | case_bits) == sip) {
      uri.scheme = std::string_view(start, 3);
      uri.kind = UriScheme::Sip;
      const char* stop = parse_sip_uri_fast(p + 4, end, limit, uri);
      if (stop) uri.raw = std::string_view(start, static_cast<std::size_t>(stop - start));
      return stop;
    }
  }
  if (p == end || !ascii::is_alpha(*p)) return nullptr;
  ++p;
  while (p < end && in_class(*p, kCScheme)) ++p;
  if (p == end || *p != ':') return nullptr;
  const std::size_t n = static_cast<std::size_t>(p - start);
  uri.scheme = std::string_view(start, n);
  ++p;
  const char* stop;
  auto lower = [start](std::size_t i) { return static_cast<char>(start[i] | 0x20); };
  if ((n == 3 || n == 4) && lower(0) == 's' && lower(1) == 'i' && lower(2) == 'p' && (n == 3 || lower(3) == 's')) {
    uri.kind = n == 3 ? UriScheme::Sip : UriScheme::Sips;
    stop = parse_sip_uri_fast(p, end, limit, uri);
  } else if (n == 3 && lower(0) == 't' && lower(1) == 'e' && lower(2) == 'l') {
    uri.kind = UriScheme::Tel;
    stop = parse_tel_uri_fast(p, end, limit, uri);
  } else {
    uri.kind = UriScheme::Other;
    stop = p;
    while (stop < end && in_class(*stop, kCAny)) ++stop;
    if (stop == p) return nullptr;
    uri.opaque = std::string_view(p, static_cast<std::size_t>(stop - p));
  }
  if (stop) uri.raw = std::string_view(start, static_cast<std::size_t>(stop - start));
  return stop;
}

}  // namespace internal

namespace {

// --- comparison helpers ---------------------------------------------------

/// Decodes one character at s[i] (a %HH escape counts as one), advancing i.
int next_decoded(std::string_view s, std::size_t& i) {
  if (s[i] == '%' && i + 2 < s.size() && ascii::is_hex(s[i + 1]) && ascii::is_hex(s[i + 2])) {
    const int v = ascii::hex_value(s[i + 1]) * 16 + ascii::hex_value(s[i + 2]);
    i += 3;
    return v;
  }
  return static_cast<unsigned char>(s[i++]);
}

bool decoded_equal(std::string_view a, std::string_view b, bool ignore_case) {
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < a.size() && j < b.size()) {
    int ca = next_decoded(a, i);
    int cb = next_decoded(b, j);
    if (ignore_case) {
      ca = ascii::to_lower(static_cast<char>(ca));
      cb = ascii::to_lower(static_cast<char>(cb));
    }
    if (ca != cb) return false;
  }
  return i == a.size() && j == b.size();
}

bool params_equal_per_3261(const Params& a, const Params& b) {
  // Parameters present in both must match; user, ttl, method and maddr must
  // be present in both or neither.
  constexpr std::array<std::string_view, 4> kMustMatch = {"user", "ttl", "method", "maddr"};
  for (const Param& p : a) {
    // A repeated name counts by its first occurrence on both sides.
    auto mine = a.get(p.name);
    auto other = b.get(p.name);
    if (!other) continue;
    if (!decoded_equal(*mine, *other, true)) return false;
  }
  for (std::string_view name : kMustMatch) {
    if (a.has(name) != b.has(name)) return false;
  }
  return true;
}

/// Calls visit(name, value) for each "name=value" of a URI's headers part.
template <class Visit>
bool each_uri_header(std::string_view headers, Visit&& visit) {
  std::size_t i = 0;
  while (i < headers.size()) {
    std::size_t amp = headers.find('&', i);
    if (amp == std::string_view::npos) amp = headers.size();
    std::string_view item = headers.substr(i, amp - i);
    const std::size_t eq = item.find('=');
    if (!visit(item.substr(0, eq), eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1)))
      return false;
    i = amp + 1;
  }
  return true;
}

bool uri_headers_equal(std::string_view a, std::string_view b) {
  // Every header of each must appear in the other with an equal value.
  auto contains_all = [](std::string_view x, std::string_view y) {
    return each_uri_header(x, [y](std::string_view name, std::string_view value) {
      bool found = false;
      each_uri_header(y, [&](std::string_view name2, std::string_view value2) {
        found = decoded_equal(name, name2, true) && decoded_equal(value, value2, false);
        return !found;
      });
      return found;
    });
  };
  return contains_all(a, b) && contains_all(b, a);
}

bool tel_number_equal(std::string_view a, std::string_view b) {
  auto visual = [](char c) { return c == '-' || c == '.' || c == '(' || c == ')'; };
  std::size_t i = 0;
  std::size_t j = 0;
  while (true) {
    while (i < a.size() && visual(a[i])) ++i;
    while (j < b.size() && visual(b[j])) ++j;
    if (i == a.size() || j == b.size()) return i == a.size() && j == b.size();
    if (ascii::to_lower(a[i]) != ascii::to_lower(b[j])) return false;
    ++i, ++j;
  }
}

}  // namespace

Parsed<HostKind> parse_host(std::string_view host) {
  if (host.empty()) return Unexpected{SyntaxError{0, "a host"}};
  if (host[0] == '[') {
    if (host.back() != ']' || !valid_ipv6(host.substr(1, host.size() - 2)))
      return Unexpected{SyntaxError{0, "a valid IPv6 reference '[...]'"}};
    return HostKind::IPv6;
  }
  // One pass: hostname characters, and whether it is all digits and dots.
  bool numeric = true;
  for (std::size_t i = 0; i < host.size(); ++i) {
    const char c = host[i];
    if (!ascii::is(c, ascii::kHostname))
      return Unexpected{SyntaxError{static_cast<std::uint32_t>(i), "hostname characters (letters, digits, '-', '.')"}};
    numeric &= ascii::is(c, ascii::kIpv4);
  }
  if (numeric && is_ipv4_address(host)) return HostKind::IPv4;
  if (host.front() == '.' || host.front() == '-')
    return Unexpected{SyntaxError{0, "a hostname that starts with a letter or digit"}};
  return HostKind::Name;
}

std::optional<SyntaxError> parse_uri(std::string_view text, Uri& uri) {
  uri = Uri{};
  if (!text.empty() && internal::parse_uri_prefix(text.data(), text.data() + text.size(), uri) == text.data() + text.size())
    return std::nullopt;
  return internal::parse_uri_general(text, uri);
}

std::optional<SyntaxError> internal::parse_uri_general(std::string_view text, Uri& uri) {
  uri = Uri{};
  uri.raw = text;
  std::size_t i = 0;
  if (text.empty() || !ascii::is_alpha(text[0])) return SyntaxError{0, "a URI scheme (a letter first)"};
  while (i < text.size() && (ascii::is_alpha(text[i]) || ascii::is_digit(text[i]) || text[i] == '+' ||
                             text[i] == '-' || text[i] == '.'))
    ++i;
  if (i >= text.size() || text[i] != ':') return SyntaxError{static_cast<std::uint32_t>(i), "':' after the URI scheme"};
  uri.scheme = text.substr(0, i);
  ++i;
  if (ascii::iequals(uri.scheme, "sip")) {
    uri.kind = UriScheme::Sip;
    return parse_sip_uri(text, i, uri);
  }
  if (ascii::iequals(uri.scheme, "sips")) {
    uri.kind = UriScheme::Sips;
    return parse_sip_uri(text, i, uri);
  }
  if (ascii::iequals(uri.scheme, "tel")) {
    uri.kind = UriScheme::Tel;
    return parse_tel_uri(text, i, uri);
  }
  uri.kind = UriScheme::Other;
  uri.opaque = text.substr(i);
  if (uri.opaque.empty()) return SyntaxError{static_cast<std::uint32_t>(i), "something after the URI scheme"};
  for (std::size_t k = i; k < text.size(); ++k) {
    if (!ascii::is(text[k], ascii::kUriAny))
      return SyntaxError{static_cast<std::uint32_t>(k), "URI characters (no spaces, quotes or angle brackets)"};
  }
  return std::nullopt;
}

Parsed<Uri> parse_uri(std::string_view text) {
  Uri uri;
  if (auto e = parse_uri(text, uri)) return Unexpected{*e};
  return uri;
}

bool is_ip_address(std::string_view text) {
  if (is_ipv4_address(text) || valid_ipv6(text)) return true;
  return text.size() > 2 && text.front() == '[' && text.back() == ']' && valid_ipv6(text.substr(1, text.size() - 2));
}

bool uri_equal(const Uri& a, const Uri& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case UriScheme::Sip:
    case UriScheme::Sips:
      return decoded_equal(a.user, b.user, false) && decoded_equal(a.password, b.password, false) &&
             ascii::iequals(a.host, b.host) && a.has_port == b.has_port && a.port == b.port &&
             params_equal_per_3261(a.params, b.params) && uri_headers_equal(a.headers, b.headers);
    case UriScheme::Tel:
      return tel_number_equal(a.user, b.user) && params_equal_per_3261(a.params, b.params);
    case UriScheme::Other:
      return ascii::iequals(a.scheme, b.scheme) && a.opaque == b.opaque;
  }
  return false;
}

}  // namespace imsflow::sip
