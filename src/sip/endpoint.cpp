#include "sip/endpoint.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

#include "sip/uri.hpp"
#include "util/ascii.hpp"

namespace imsflow::sip {

std::string_view transport_name(Transport t) {
  switch (t) {
    case Transport::Udp: return "UDP";
    case Transport::Tcp: return "TCP";
    case Transport::Tls: return "TLS";
  }
  return "UDP";
}

std::optional<Transport> transport_from_name(std::string_view name) {
  if (ascii::iequals(name, "UDP")) return Transport::Udp;
  if (ascii::iequals(name, "TCP")) return Transport::Tcp;
  if (ascii::iequals(name, "TLS")) return Transport::Tls;
  return std::nullopt;
}

IpAddress IpAddress::v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  IpAddress ip;
  ip.bytes[0] = a;
  ip.bytes[1] = b;
  ip.bytes[2] = c;
  ip.bytes[3] = d;
  return ip;
}

IpAddress IpAddress::loopback_v6() {
  IpAddress ip;
  ip.v6 = true;
  ip.bytes[15] = 1;
  return ip;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  char buf[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof buf) return std::nullopt;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress ip;
  if (inet_pton(AF_INET, buf, ip.bytes.data()) == 1) return ip;
  if (inet_pton(AF_INET6, buf, ip.bytes.data()) == 1) {
    ip.v6 = true;
    return ip;
  }
  return std::nullopt;
}

namespace {
/// Dotted-quad text of an IPv4 address into `out` (at least 15 bytes);
/// returns the length. Written by hand because inet_ntop goes through
/// sprintf, and every Via, Contact and response destination needs this.
std::size_t format_ipv4(const std::uint8_t* octets, char* out) {
  char* p = out;
  for (int i = 0; i < 4; ++i) {
    if (i != 0) *p++ = '.';
    const unsigned v = octets[i];
    if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
    if (v >= 10) *p++ = static_cast<char>('0' + v / 10 % 10);
    *p++ = static_cast<char>('0' + v % 10);
  }
  return static_cast<std::size_t>(p - out);
}
}  // namespace

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN];
  if (!v6) return std::string(buf, format_ipv4(bytes.data(), buf));
  inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
  return buf;
}

std::optional<Endpoint> Endpoint::parse(std::string_view text, Transport transport) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return std::nullopt;
    host = text.substr(0, close + 1);
    port = text.substr(close + 2);
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  auto ip = IpAddress::parse(host);
  auto p = ascii::parse_uint(port, 65535);
  if (!ip || !p) return std::nullopt;
  return Endpoint{transport, *ip, static_cast<std::uint16_t>(*p)};
}

std::string Endpoint::host_text() const { return address.v6 ? "[" + address.to_string() + "]" : address.to_string(); }

std::string Endpoint::to_string() const {
  if (address.v6) return host_text() + ":" + std::to_string(port);
  char buf[15 + 1 + 5];
  std::size_t n = format_ipv4(address.bytes.data(), buf);
  buf[n++] = ':';
  char* const end = std::to_chars(buf + n, buf + sizeof buf, port).ptr;
  return std::string(buf, end);
}

std::size_t EndpointHash::operator()(const Endpoint& e) const noexcept {
  // FNV-1a over the fields that make an endpoint.
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&](std::uint8_t b) { h = (h ^ b) * 1099511628211ull; };
  mix(static_cast<std::uint8_t>(e.transport));
  mix(e.address.v6);
  const std::size_t n = e.address.v6 ? 16 : 4;
  for (std::size_t i = 0; i < n; ++i) mix(e.address.bytes[i]);
  mix(static_cast<std::uint8_t>(e.port >> 8));
  mix(static_cast<std::uint8_t>(e.port));
  return static_cast<std::size_t>(h);
}

std::string_view uri_of(std::string_view name_addr) {
  const std::size_t open = name_addr.find('<');
  if (open == std::string_view::npos) return ascii::trim_lws(name_addr.substr(0, name_addr.find(';')));
  const std::size_t close = name_addr.find('>', open);
  return name_addr.substr(open + 1, close == std::string_view::npos ? std::string_view::npos : close - open - 1);
}

std::optional<Endpoint> endpoint_of(std::string_view uri_text, Transport fallback) {
  auto uri = parse_uri(uri_text);
  if (!uri || !uri->is_sip()) return std::nullopt;
  auto ip = IpAddress::parse(uri->host);
  if (!ip) return std::nullopt;
  Transport t = fallback;
  if (auto tp = uri->param("transport")) {
    if (auto named = transport_from_name(*tp)) t = *named;
  }
  return Endpoint{t, *ip, static_cast<std::uint16_t>(uri->has_port ? uri->port : 5060)};
}

}  // namespace imsflow::sip
