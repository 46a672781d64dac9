// What the capture decoder hands on: one SipPacket per SIP message found in a
// capture, and counters of the input it skipped, by reason. See
// trace/packet_decoder.hpp for where these come from and how long the views
// inside a SipPacket stay valid.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "sip/endpoint.hpp"
#include "sip/message.hpp"
#include "sip/parser.hpp"

namespace imsflow::trace {

/// The transport a captured message travelled on. TLS is not listed: its
/// payload is encrypted, so no SIP message can be read from it.
enum class Transport : std::uint8_t {
  Udp,
  Tcp,
  Sctp,
  WebSocket,  // RFC 7118: one SIP message per WebSocket message, over TCP
};

/// "UDP", "TCP", "SCTP", "WS" (the Via spelling).
std::string_view transport_name(Transport t);

/// Bits of SipPacket::flags.
enum PacketFlag : std::uint8_t {
  kFromIpFragments = 1 << 0,    // the datagram was reassembled from IP fragments
  kFromTcpSegments = 1 << 1,    // the message spans more than one TCP segment
  kTcpRetransmission = 1 << 2,  // a retransmitted or overlapping TCP segment was seen on
                                // this stream direction since the previous message
  kFromEsp = 1 << 3,            // read out of a null-encrypted ESP packet
  kFromHep = 1 << 4,            // addresses and time come from a HEP v3 envelope
};

struct SipPacket {
  /// Capture time of the frame that completed the message (for a message cut
  /// from several TCP segments or IP fragments: the last one), in nanoseconds
  /// since 1970-01-01 UTC.
  std::int64_t timestamp_ns = 0;
  /// 1-based frame number in the capture (the frame that completed the message).
  std::uint64_t frame = 0;
  Transport transport = Transport::Udp;
  /// The innermost IP addresses and transport ports (inside any tunnel).
  sip::IpAddress source;
  std::uint16_t source_port = 0;
  sip::IpAddress destination;
  std::uint16_t destination_port = 0;
  /// The exact bytes of one SIP message (leading CRLF keep-alives excluded;
  /// for UDP, bytes after Content-Length excluded).
  std::string_view bytes;
  /// The layers the message was found under, outermost first, joined by '>':
  /// "eth>vlan>ipv4>udp", "sll>ipv4>udp>gtpu>ipv4>tcp", "eth>ipv4>esp>udp".
  std::string_view path;
  /// The message as sip::parse returned it; its views point into `bytes`.
  const sip::Message* message = nullptr;
  std::uint8_t flags = 0;  // PacketFlag bits

  bool has(PacketFlag f) const { return (flags & f) != 0; }
};

/// Why input was skipped. Frame-level reasons are counted once per frame;
/// stream-level ones (gaps, limits) once per event.
enum class SkipReason : std::uint8_t {
  UnsupportedLinkType,  // a link type the decoder does not read
  NotIp,                // ARP, LLDP, netlink … (no IP packet inside)
  Truncated,            // a header or payload cut short by the snap length
  BadLinkHeader,        // a link or VLAN/MPLS header too short or inconsistent
  BadIpHeader,          // IPv4/IPv6 header inconsistent (version, lengths, extension chain)
  OtherIpProtocol,      // ICMP, OSPF, IGMP …: nothing that can carry SIP
  BadTransportHeader,   // UDP/TCP/SCTP header too short or inconsistent
  NonSipPayload,        // a UDP datagram, SCTP chunk or TCP stream that is not SIP
  SipKeepAlive,         // CRLF (or NUL) keep-alives only
  TcpNoPayload,         // SYN, ACK, FIN … without data
  TcpRetransmission,    // a TCP segment whose data had been seen already
  TcpGap,               // bytes never captured in a TCP stream; it resynchronises
  TcpNotFramable,       // the framer gave up on a stream (no Content-Length …); it resynchronises
  TcpStreamLimit,       // a stream evicted (too many streams, too much out-of-order data)
  FragmentsIncomplete,  // an IP fragment set that never completed (timed out or evicted)
  FragmentOverlap,      // a fragment whose data contradicts bytes already held (first wins)
  EspNotNullEncrypted,  // ESP whose trailer is not that of null encryption
  GtpNotGpdu,           // GTP-U signalling (echo, error indication, end marker)
  UnsupportedTunnel,    // GRE with a protocol other than IP/Ethernet/ERSPAN, HEP other than SIP …
  TunnelTooDeep,        // more than DecoderLimits::max_layers nested headers
  SctpNoData,           // SCTP packets without a DATA chunk (INIT, SACK, HEARTBEAT …)
  SctpIncomplete,       // a fragmented SCTP user message with a piece missing (or too large)
  WebSocketControl,     // WebSocket ping/pong/close frames
  CaptureFileError,     // the capture file ended inside a record, or libpcap reported an error
  SipParseError,        // counted per ParseErrorCode instead (SkipCounters::parse_errors)
  kCount
};

/// "not IP", "truncated (snaplen)", "TCP stream gap" …
std::string_view skip_reason_name(SkipReason r);
/// "StartLine", "MissingHeader" … (the enumerator's name).
std::string_view parse_error_name(sip::ParseErrorCode c);

struct SkipCounters {
  std::array<std::uint64_t, static_cast<std::size_t>(SkipReason::kCount)> by_reason{};
  std::array<std::uint64_t, 32> parse_errors{};  // indexed by sip::ParseErrorCode

  void add(SkipReason r, std::uint64_t n = 1) { by_reason[static_cast<std::size_t>(r)] += n; }
  void add_parse_error(sip::ParseErrorCode c);
  std::uint64_t count(SkipReason r) const { return by_reason[static_cast<std::size_t>(r)]; }
  std::uint64_t count(sip::ParseErrorCode c) const;
  std::uint64_t total() const;
  /// Nonzero counters by name: "not IP" → 12, "sip parse error: MissingHeader" → 1.
  std::map<std::string, std::uint64_t> by_name() const;
};

}  // namespace imsflow::trace
