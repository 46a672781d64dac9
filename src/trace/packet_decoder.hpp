// trace::Decoder: captured frames in, SIP messages out.
//
// Give it frames one by one (Decoder::decode) in capture order, each with its
// link type, time and frame number, then call finish() once at the end. Every
// SIP message found is handed to the sink as a SipPacket *before decode() or
// finish() returns*; the views in it (bytes, path, message) are valid only
// during that call: copy what you keep (DESIGN.md: own explicitly).
// Only messages sip::parse accepts are delivered; the rest are counted.
//
// Layers read (outermost first):
//   link: Ethernet (LINKTYPE 1), Linux cooked v1 (113) and v2 (276), raw IP
//         (101, and DLT_RAW 12; 228 IPv4, 229 IPv6), BSD null (0) and loop (108);
//         802.1Q / 802.1ad VLAN tags (nested), MPLS label stacks.
//   network: IPv4 (options), IPv6 (hop-by-hop, routing, destination options,
//         AH, fragment headers); fragment reassembly for both (ip_fragments.hpp).
//         Checksums are never checked: captures taken on the sender show
//         offloaded, not yet computed ones.
//   tunnels: GTP-U (UDP 2152, extension headers), IP-in-IP (4, 41), GRE
//         (IP, transparent Ethernet bridging, ERSPAN I/II/III), VXLAN (UDP 4789),
//         ESP with null encryption (see below), HEP v3 (any UDP port).
//   transport: UDP (one message per datagram), TCP (tcp_streams.hpp: stream
//         reassembly, framing, WebSocket), SCTP (each unfragmented DATA chunk
//         is one message, any PPID).
// SIP is found by content on any port: the first line must look like a SIP
// request or status line (wire.hpp); sip::parse then decides.
//
// Null-ESP (RFC 4303 with ENCR_NULL, RFC 2410), like Wireshark's heuristic
// option: no IV; an ICV of 12 bytes (HMAC-*-96), then of 16 (HMAC-SHA-256-128)
// is assumed, and the guess is taken when the trailer's pad bytes are
// 1, 2, 3 … (RFC 4303 §2.4), its next header is one this decoder reads, and
// the inner header's own length agrees.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "sip/message.hpp"
#include "trace/ip_fragments.hpp"
#include "trace/sip_packet.hpp"
#include "trace/tcp_streams.hpp"

namespace imsflow::trace {

/// Link-layer header types (tcpdump.org LINKTYPE_* values).
enum LinkType : std::uint32_t {
  kLinkNull = 0,
  kLinkEthernet = 1,
  kLinkRawDlt = 12,  // DLT_RAW as libpcap reports LINKTYPE_RAW on Linux
  kLinkRaw = 101,
  kLinkLoop = 108,
  kLinkLinuxSll = 113,
  kLinkIpv4 = 228,
  kLinkIpv6 = 229,
  kLinkLinuxSll2 = 276,
};

struct DecoderLimits {
  FragmentLimits fragments;
  TcpLimits tcp;
  std::size_t max_layers = 24;  // headers nested in one frame (tunnels in tunnels)
  std::size_t max_sctp_partials = 1024;          // fragmented SCTP messages held at once
  std::size_t max_sctp_message_bytes = 1u << 20;
  sip::ParseLimits parse;
};

/// One captured frame.
struct Frame {
  std::int64_t timestamp_ns = 0;   // since 1970-01-01 UTC
  std::uint64_t number = 0;        // 1-based; 0 means "the previous frame's number + 1"
  std::uint32_t link_type = kLinkEthernet;
  std::string_view bytes;          // the captured bytes (caplen)
  std::uint32_t original_length = 0;  // the length on the wire; 0 means bytes.size()
};

class Decoder final : private internal::MessageSink {
 public:
  using Sink = std::function<void(const SipPacket&)>;

  explicit Decoder(Sink sink, DecoderLimits limits = {});
  ~Decoder();
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  /// Decodes one frame; never throws on bad input, counts it instead.
  void decode(const Frame& frame);
  /// End of input: TCP streams with holes are resynchronised past them (counted
  /// as gaps) and their remaining messages delivered; incomplete fragment sets
  /// are counted; every buffer is freed. decode() may be called again afterwards.
  void finish();

  const SkipCounters& skipped() const { return skipped_; }
  /// For the reader: file-level problems (a truncated record …).
  void count_skipped(SkipReason r) { skipped_.add(r); }
  std::uint64_t frames() const { return frames_; }
  std::uint64_t messages() const { return messages_; }
  /// Memory in use now (for tests of the bounds).
  std::size_t held_fragment_sets() const { return fragments_.sets(); }
  std::size_t tcp_directions() const { return tcp_.directions(); }

 private:
  struct Context;

  void deliver(const internal::Origin& origin, std::string_view bytes, sip::ParseMode mode) override;

  void link(Context& c, std::uint32_t link_type, std::string_view b);
  void ethernet(Context& c, std::string_view b);
  void ethertype(Context& c, std::uint16_t type, std::string_view b);
  void mpls(Context& c, std::string_view b);
  void ip_by_version(Context& c, std::string_view b);
  void ipv4(Context& c, std::string_view b);
  void ipv6(Context& c, std::string_view b);
  void ipv6_chain(Context& c, std::uint8_t next, std::string_view b);
  void ip_payload(Context& c, std::uint8_t protocol, std::string_view b);
  void udp(Context& c, std::string_view b);
  void tcp(Context& c, std::string_view b);
  void sctp(Context& c, std::string_view b);
  void gre(Context& c, std::string_view b);
  void esp(Context& c, std::string_view b);
  void gtpu(Context& c, std::string_view b);
  bool hep3(Context& c, std::string_view b);
  bool push(Context& c, std::string_view layer);
  void short_header(const Context& c, SkipReason otherwise);

  // A fragmented SCTP user message (RFC 9260 §6.9) being put together, per
  // association direction and stream; pieces must come in TSN order.
  struct SctpKey {
    std::uint64_t tunnel = 0;
    std::array<std::uint8_t, 16> source{};
    std::array<std::uint8_t, 16> destination{};
    std::uint16_t source_port = 0;
    std::uint16_t destination_port = 0;
    std::uint16_t stream = 0;
    bool unordered = false;
    friend auto operator<=>(const SctpKey&, const SctpKey&) = default;
  };
  struct SctpPartial {
    std::string data;
    std::uint32_t next_tsn = 0;
  };
  void sctp_data(Context& c, std::uint8_t flags, std::string_view chunk);

  Sink sink_;
  DecoderLimits limits_;
  std::map<SctpKey, SctpPartial> sctp_partials_;
  SkipCounters skipped_;
  FragmentReassembler fragments_;
  TcpStreams tcp_;
  sip::Message message_;  // reused: parsing fills it in place
  std::uint64_t frames_ = 0;
  std::uint64_t messages_ = 0;
  std::uint64_t last_frame_number_ = 0;
};

}  // namespace imsflow::trace
