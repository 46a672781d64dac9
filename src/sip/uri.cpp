#include "sip/uri.hpp"

#include <array>

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
    if (c == '%') {
      if (i + 2 >= s.size()) return i;
      if (!ascii::is_hex(s[i + 1]) || !ascii::is_hex(s[i + 2])) return i;
      i += 2;
      continue;
    }
    if (!ascii::is(c, allowed)) return i;
  }
  return std::string_view::npos;
}

bool valid_ipv4(std::string_view s) {
  int parts = 0;
  std::size_t i = 0;
  while (i <= s.size()) {
    std::size_t j = i;
    while (j < s.size() && ascii::is_digit(s[j])) ++j;
    if (j == i || j - i > 3) return false;
    auto v = ascii::parse_uint(s.substr(i, j - i), 255);
    if (!v) return false;
    ++parts;
    if (j == s.size()) break;
    if (s[j] != '.') return false;
    i = j + 1;
  }
  return parts == 4;
}

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

bool valid_hostname(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!ascii::is(c, ascii::kHostname)) return false;
  }
  return s.front() != '.' && s.front() != '-';
}

/// Splits "host[:port]" where host may be a bracketed IPv6 reference.
struct HostPort {
  std::string_view host;
  HostKind kind = HostKind::None;
  std::uint16_t port = 0;
  bool has_port = false;
};

Parsed<HostPort> parse_hostport(std::string_view s) {
  HostPort hp;
  std::size_t host_end;
  if (!s.empty() && s[0] == '[') {
    host_end = s.find(']');
    if (host_end == std::string_view::npos) return Unexpected{SyntaxError{0, "a ']' closing the IPv6 reference"}};
    ++host_end;
  } else {
    host_end = s.find(':');
    if (host_end == std::string_view::npos) host_end = s.size();
  }
  hp.host = s.substr(0, host_end);
  auto kind = parse_host(hp.host);
  if (!kind) return Unexpected{kind.error()};
  hp.kind = *kind;
  if (host_end < s.size()) {
    if (s[host_end] != ':') return Unexpected{SyntaxError{static_cast<std::uint32_t>(host_end), "':' and a port after the host"}};
    auto port = ascii::parse_uint(s.substr(host_end + 1), 65535);
    if (!port) return Unexpected{SyntaxError{static_cast<std::uint32_t>(host_end + 1), "a port number from 0 to 65535"}};
    hp.port = static_cast<std::uint16_t>(*port);
    hp.has_port = true;
  }
  return hp;
}

/// Validates ";name[=value]" URI parameters (RFC 3261 §19.1.1: paramchar).
std::size_t find_bad_uri_params(std::string_view s) {
  // s starts with ';'
  std::size_t i = 0;
  while (i < s.size()) {
    if (s[i] != ';') return i;
    ++i;
    const std::size_t name_start = i;
    while (i < s.size() && s[i] != ';' && s[i] != '=') ++i;
    if (i == name_start) return name_start;
    if (auto bad = find_bad_escaped(s.substr(name_start, i - name_start), kUnreserved | kParamExtra);
        bad != std::string_view::npos)
      return name_start + bad;
    if (i < s.size() && s[i] == '=') {
      const std::size_t value_start = ++i;
      while (i < s.size() && s[i] != ';') ++i;
      if (i == value_start) return value_start;
      if (auto bad = find_bad_escaped(s.substr(value_start, i - value_start), kUnreserved | kParamExtra);
          bad != std::string_view::npos)
        return value_start + bad;
    }
  }
  return std::string_view::npos;
}

Parsed<Uri> parse_sip_uri(std::string_view text, Uri uri, std::size_t rest_at) {
  std::string_view rest = text.substr(rest_at);
  auto at = [rest_at](std::size_t off, const char* what) {
    return Unexpected{SyntaxError{static_cast<std::uint32_t>(rest_at + off), what}};
  };
  // Userinfo ends at the first '@': '@' is not allowed unescaped after it.
  std::size_t host_start = 0;
  if (const std::size_t amp = rest.find('@'); amp != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, amp);
    const std::size_t colon = userinfo.find(':');
    uri.user = userinfo.substr(0, colon);
    if (uri.user.empty()) return at(0, "a user name before '@'");
    if (auto bad = find_bad_escaped(uri.user, kUnreserved | kUserExtra); bad != std::string_view::npos)
      return at(bad, "user-part characters (unreserved, escaped, or & = + $ , ; ? /)");
    if (colon != std::string_view::npos) {
      uri.password = userinfo.substr(colon + 1);
      if (auto bad = find_bad_escaped(uri.password, kUnreserved | kPasswordExtra); bad != std::string_view::npos)
        return at(colon + 1 + bad, "password characters (unreserved, escaped, or & = + $ ,)");
    }
    host_start = amp + 1;
  }
  // hostport runs to ';' or '?' (outside an IPv6 reference).
  std::size_t i = host_start;
  if (i < rest.size() && rest[i] == '[') {
    const std::size_t close = rest.find(']', i);
    i = close == std::string_view::npos ? rest.size() : close + 1;
  }
  while (i < rest.size() && rest[i] != ';' && rest[i] != '?') ++i;
  auto hp = parse_hostport(rest.substr(host_start, i - host_start));
  if (!hp) return at(host_start + hp.error().offset, hp.error().expected);
  uri.host = hp->host;
  uri.host_kind = hp->kind;
  uri.port = hp->port;
  uri.has_port = hp->has_port;
  if (i < rest.size() && rest[i] == ';') {
    std::size_t params_end = rest.find('?', i);
    if (params_end == std::string_view::npos) params_end = rest.size();
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
      if (!ascii::is(c, kUnreserved | kHeaderExtra)) return at(i + 1 + k, "URI header characters (hnv-unreserved, unreserved or escaped)");
    }
  }
  return uri;
}

Parsed<Uri> parse_tel_uri(std::string_view text, Uri uri, std::size_t rest_at) {
  std::string_view rest = text.substr(rest_at);
  std::size_t semi = rest.find(';');
  uri.user = rest.substr(0, semi);
  if (uri.user.empty()) return Unexpected{SyntaxError{static_cast<std::uint32_t>(rest_at), "a telephone number after 'tel:'"}};
  for (std::size_t i = 0; i < uri.user.size(); ++i) {
    const char c = uri.user[i];
    if (!(ascii::is_hex(c) || c == '*' || c == '#' || c == '+' || c == '-' || c == '.' || c == '(' || c == ')' ||
          c == 'p' || c == 'P' || c == 'w' || c == 'W'))
      return Unexpected{SyntaxError{static_cast<std::uint32_t>(rest_at + i), "digits or visual separators in the telephone number"}};
  }
  if (semi != std::string_view::npos) {
    std::string_view params = rest.substr(semi);
    if (auto bad = find_bad_uri_params(params); bad != std::string_view::npos)
      return Unexpected{SyntaxError{static_cast<std::uint32_t>(rest_at + semi + bad), "a tel URI parameter ';name[=value]'"}};
    uri.params = Params(params);
  }
  return uri;
}

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

bool uri_headers_equal(std::string_view a, std::string_view b) {
  // Every header of each must appear in the other with an equal value.
  auto contains_all = [](std::string_view x, std::string_view y) {
    std::size_t i = 0;
    while (i < x.size()) {
      std::size_t amp = x.find('&', i);
      if (amp == std::string_view::npos) amp = x.size();
      std::string_view item = x.substr(i, amp - i);
      const std::size_t eq = item.find('=');
      std::string_view name = item.substr(0, eq);
      std::string_view value = eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1);
      bool found = false;
      std::size_t k = 0;
      while (k < y.size() && !found) {
        std::size_t amp2 = y.find('&', k);
        if (amp2 == std::string_view::npos) amp2 = y.size();
        std::string_view item2 = y.substr(k, amp2 - k);
        const std::size_t eq2 = item2.find('=');
        std::string_view name2 = item2.substr(0, eq2);
        std::string_view value2 = eq2 == std::string_view::npos ? std::string_view() : item2.substr(eq2 + 1);
        found = decoded_equal(name, name2, true) && decoded_equal(value, value2, false);
        k = amp2 + 1;
      }
      if (!found) return false;
      i = amp + 1;
    }
    return true;
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
  if (valid_ipv4(host)) return HostKind::IPv4;
  if (!valid_hostname(host)) {
    for (std::size_t i = 0; i < host.size(); ++i) {
      if (!ascii::is(host[i], ascii::kHostname)) return Unexpected{SyntaxError{static_cast<std::uint32_t>(i), "hostname characters (letters, digits, '-', '.')"}};
    }
    return Unexpected{SyntaxError{0, "a hostname that starts with a letter or digit"}};
  }
  return HostKind::Name;
}

Parsed<Uri> parse_uri(std::string_view text) {
  Uri uri;
  uri.raw = text;
  std::size_t i = 0;
  if (text.empty() || !ascii::is_alpha(text[0])) return Unexpected{SyntaxError{0, "a URI scheme (a letter first)"}};
  while (i < text.size() && (ascii::is_alpha(text[i]) || ascii::is_digit(text[i]) || text[i] == '+' ||
                             text[i] == '-' || text[i] == '.'))
    ++i;
  if (i >= text.size() || text[i] != ':') return Unexpected{SyntaxError{static_cast<std::uint32_t>(i), "':' after the URI scheme"}};
  uri.scheme = text.substr(0, i);
  ++i;
  if (ascii::iequals(uri.scheme, "sip")) {
    uri.kind = UriScheme::Sip;
    return parse_sip_uri(text, uri, i);
  }
  if (ascii::iequals(uri.scheme, "sips")) {
    uri.kind = UriScheme::Sips;
    return parse_sip_uri(text, uri, i);
  }
  if (ascii::iequals(uri.scheme, "tel")) {
    uri.kind = UriScheme::Tel;
    return parse_tel_uri(text, uri, i);
  }
  uri.kind = UriScheme::Other;
  uri.opaque = text.substr(i);
  if (uri.opaque.empty()) return Unexpected{SyntaxError{static_cast<std::uint32_t>(i), "something after the URI scheme"}};
  for (std::size_t k = i; k < text.size(); ++k) {
    if (!ascii::is(text[k], ascii::kUriAny)) return Unexpected{SyntaxError{static_cast<std::uint32_t>(k), "URI characters (no spaces, quotes or angle brackets)"}};
  }
  return uri;
}

bool is_ip_address(std::string_view text) {
  if (valid_ipv4(text) || valid_ipv6(text)) return true;
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
