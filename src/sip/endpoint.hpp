// Transport addresses: where a SIP message comes from or goes to
// (RFC 3261 §18: transport, IP address, port).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace imsflow::sip {

enum class Transport : std::uint8_t { Udp, Tcp, Tls };

/// "UDP", "TCP", "TLS" (the Via spelling).
std::string_view transport_name(Transport t);
/// From a Via transport token, case-insensitively; nullopt for others (SCTP, WS …).
std::optional<Transport> transport_from_name(std::string_view name);
/// TCP and TLS deliver in order and retransmit by themselves (RFC 3261 §17: no Timer A/E).
constexpr bool is_reliable(Transport t) { return t != Transport::Udp; }

/// An IPv4 or IPv6 address, stored in network byte order.
struct IpAddress {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};  // IPv4 uses the first four

  static IpAddress v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d);
  static IpAddress loopback_v4() { return v4(127, 0, 0, 1); }
  static IpAddress loopback_v6();
  /// Dotted quad, or IPv6 text with or without brackets.
  static std::optional<IpAddress> parse(std::string_view text);
  /// "192.0.2.1" or "2001:db8::1" (RFC 5952 form, no brackets).
  std::string to_string() const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

struct Endpoint {
  Transport transport = Transport::Udp;
  IpAddress address;
  std::uint16_t port = 0;

  /// "127.0.0.1:5060", "[::1]:5060"; the transport is given apart.
  static std::optional<Endpoint> parse(std::string_view text, Transport transport = Transport::Udp);
  /// The host as a Via sent-by or URI host wants it ("[::1]" for IPv6).
  std::string host_text() const;
  /// "127.0.0.1:5060" or "[::1]:5060".
  std::string to_string() const;

  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

/// The URI inside a name-addr value ("<sip:p1;lr>" → "sip:p1;lr"); an
/// addr-spec without brackets ends at its first ';'.
std::string_view uri_of(std::string_view name_addr);

/// The endpoint a URI with an IP host names (its transport parameter, or
/// `fallback`'s transport; port 5060 when none); nullopt for host names,
/// which need DNS (RFC 3263), and for URIs that are not sip/sips.
std::optional<Endpoint> endpoint_of(std::string_view uri_text, Transport fallback);

struct EndpointHash {
  std::size_t operator()(const Endpoint& e) const noexcept;
};

}  // namespace imsflow::sip
