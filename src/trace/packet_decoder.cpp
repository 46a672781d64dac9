#include "trace/packet_decoder.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "sip/parser.hpp"
#include "trace/wire.hpp"

namespace imsflow::trace {

using internal::be16;
using internal::be32;
using internal::Bytes;
using internal::u8;

namespace {

enum IpProtocol : std::uint8_t {
  kHopByHop = 0,
  kIpInIp = 4,
  kTcp = 6,
  kUdp = 17,
  kIpv6InIp = 41,
  kRouting = 43,
  kFragment = 44,
  kGre = 47,
  kEsp = 50,
  kAh = 51,
  kNoNext = 59,
  kDestinationOptions = 60,
  kMobility = 135,
  kSctp = 132,
};

constexpr std::uint16_t kPortGtpu = 2152;
constexpr std::uint16_t kPortVxlan = 4789;

sip::IpAddress v4_address(Bytes b, std::size_t at) {
  sip::IpAddress a;
  for (std::size_t i = 0; i < 4; ++i) a.bytes[i] = u8(b, at + i);
  return a;
}

sip::IpAddress v6_address(Bytes b, std::size_t at) {
  sip::IpAddress a;
  a.v6 = true;
  for (std::size_t i = 0; i < 16; ++i) a.bytes[i] = u8(b, at + i);
  return a;
}

Bytes address_bytes(const sip::IpAddress& a) {
  return Bytes(reinterpret_cast<const char*>(a.bytes.data()), a.v6 ? 16 : 4);
}

}  // namespace

struct Decoder::Context {
  internal::Origin origin;
  bool snap_cut = false;          // the frame was captured shorter than it was on the wire
  std::uint64_t tunnel = internal::kMixSeed;  // the IP layers passed so far, folded
  std::size_t layers = 0;
  std::array<char, 256> path{};
  std::size_t path_len = 0;
};

Decoder::Decoder(Sink sink, DecoderLimits limits)
    : sink_(std::move(sink)),
      limits_(limits),
      fragments_(limits.fragments),
      tcp_(limits.tcp, *this, skipped_) {}

Decoder::~Decoder() = default;

bool Decoder::push(Context& c, Bytes layer) {
  if (++c.layers > limits_.max_layers) {
    skipped_.add(SkipReason::TunnelTooDeep);
    return false;
  }
  const std::size_t need = layer.size() + (c.path_len ? 1 : 0);
  if (c.path_len + need <= c.path.size()) {
    if (c.path_len) c.path[c.path_len++] = '>';
    std::memcpy(c.path.data() + c.path_len, layer.data(), layer.size());
    c.path_len += layer.size();
  }
  c.origin.path = Bytes(c.path.data(), c.path_len);
  return true;
}

void Decoder::short_header(const Context& c, SkipReason otherwise) {
  skipped_.add(c.snap_cut ? SkipReason::Truncated : otherwise);
}

void Decoder::decode(const Frame& frame) {
  ++frames_;
  last_frame_number_ = frame.number ? frame.number : last_frame_number_ + 1;
  Context c;
  c.origin.timestamp_ns = frame.timestamp_ns;
  c.origin.frame = last_frame_number_;
  c.snap_cut = frame.original_length > frame.bytes.size();
  link(c, frame.link_type, frame.bytes);
}

void Decoder::finish() {
  tcp_.finish();
  fragments_.clear(skipped_);
  skipped_.add(SkipReason::SctpIncomplete, sctp_partials_.size());
  sctp_partials_.clear();
}

void Decoder::deliver(const internal::Origin& origin, Bytes bytes, sip::ParseMode mode) {
  switch (internal::look_at_start_line(bytes)) {
    case internal::StartLineLook::KeepAlive:
      skipped_.add(SkipReason::SipKeepAlive);
      return;
    case internal::StartLineLook::NotSip:
    case internal::StartLineLook::Partial:
      skipped_.add(SkipReason::NonSipPayload);
      return;
    case internal::StartLineLook::Sip:
      break;
  }
  auto parsed = sip::parse(bytes, message_, mode, limits_.parse);
  if (!parsed) {
    skipped_.add_parse_error(parsed.error().code);
    return;
  }
  SipPacket p;
  p.timestamp_ns = origin.timestamp_ns;
  p.frame = origin.frame;
  p.transport = origin.transport;
  p.source = origin.source;
  p.source_port = origin.source_port;
  p.destination = origin.destination;
  p.destination_port = origin.destination_port;
  p.bytes = message_.bytes();
  p.path = origin.path;
  p.message = &message_;
  p.flags = origin.flags;
  ++messages_;
  if (sink_) sink_(p);
}

// --- link layer -------------------------------------------------------------

void Decoder::link(Context& c, std::uint32_t link_type, Bytes b) {
  switch (link_type) {
    case kLinkEthernet:
      ethernet(c, b);
      return;
    case kLinkLinuxSll: {
      if (!push(c, "sll")) return;
      if (b.size() < 16) return short_header(c, SkipReason::BadLinkHeader);
      // ARPHRD_NETLINK (824) frames carry netlink messages, not IP.
      if (be16(b, 2) == 824) return skipped_.add(SkipReason::NotIp);
      return ethertype(c, be16(b, 14), b.substr(16));
    }
    case kLinkLinuxSll2: {
      if (!push(c, "sll2")) return;
      if (b.size() < 20) return short_header(c, SkipReason::BadLinkHeader);
      if (be16(b, 8) == 824) return skipped_.add(SkipReason::NotIp);
      return ethertype(c, be16(b, 0), b.substr(20));
    }
    case kLinkRaw:
    case kLinkRawDlt:
      return ip_by_version(c, b);
    case kLinkIpv4:
      return ipv4(c, b);
    case kLinkIpv6:
      return ipv6(c, b);
    case kLinkNull:
    case kLinkLoop: {
      if (!push(c, link_type == kLinkNull ? "null" : "loop")) return;
      if (b.size() < 4) return short_header(c, SkipReason::BadLinkHeader);
      // Null: the family in the writer's byte order; loop: network order.
      std::uint32_t family = link_type == kLinkLoop ? be32(b, 0) : internal::le32(b, 0);
      if (link_type == kLinkNull && family > 0xFFFF) family = be32(b, 0);
      b.remove_prefix(4);
      if (family == 2) return ipv4(c, b);
      // AF_INET6 is 10 on Linux, 24 on NetBSD/OpenBSD, 28 on FreeBSD, 30 on macOS.
      if (family == 10 || family == 24 || family == 28 || family == 30) return ipv6(c, b);
      return skipped_.add(SkipReason::NotIp);
    }
    default:
      skipped_.add(SkipReason::UnsupportedLinkType);
  }
}

void Decoder::ethernet(Context& c, Bytes b) {
  if (!push(c, "eth")) return;
  if (b.size() < 14) return short_header(c, SkipReason::BadLinkHeader);
  const std::uint16_t type = be16(b, 12);
  // Below 1536 the field is an 802.3 length: LLC/SNAP frames (STP, CDP …), not IP here.
  if (type < 1536) return skipped_.add(SkipReason::NotIp);
  ethertype(c, type, b.substr(14));
}

void Decoder::ethertype(Context& c, std::uint16_t type, Bytes b) {
  switch (type) {
    case 0x0800:
      return ipv4(c, b);
    case 0x86DD:
      return ipv6(c, b);
    case 0x8100:  // 802.1Q
    case 0x88A8:  // 802.1ad
    case 0x9100:  // pre-standard QinQ
      if (!push(c, "vlan")) return;
      if (b.size() < 4) return short_header(c, SkipReason::BadLinkHeader);
      return ethertype(c, be16(b, 2), b.substr(4));
    case 0x8847:  // MPLS unicast
    case 0x8848:
      return mpls(c, b);
    default:
      skipped_.add(SkipReason::NotIp);
  }
}

void Decoder::mpls(Context& c, Bytes b) {
  if (!push(c, "mpls")) return;
  while (true) {
    if (b.size() < 4) return short_header(c, SkipReason::BadLinkHeader);
    const bool bottom = (u8(b, 2) & 0x01) != 0;
    b.remove_prefix(4);
    if (bottom) break;
  }
  // No protocol field below the stack: the first nibble tells IPv4 from IPv6.
  if (!b.empty() && ((u8(b, 0) >> 4) == 4 || (u8(b, 0) >> 4) == 6)) return ip_by_version(c, b);
  skipped_.add(SkipReason::NotIp);
}

// --- network layer ----------------------------------------------------------

void Decoder::ip_by_version(Context& c, Bytes b) {
  if (b.empty()) return short_header(c, SkipReason::BadIpHeader);
  const unsigned version = u8(b, 0) >> 4;
  if (version == 4) return ipv4(c, b);
  if (version == 6) return ipv6(c, b);
  skipped_.add(SkipReason::NotIp);
}

void Decoder::ipv4(Context& c, Bytes b) {
  if (!push(c, "ipv4")) return;
  if (b.size() < 20) return short_header(c, SkipReason::BadIpHeader);
  const std::size_t header = (u8(b, 0) & 0x0F) * 4u;
  if ((u8(b, 0) >> 4) != 4 || header < 20) return skipped_.add(SkipReason::BadIpHeader);
  if (b.size() < header) return short_header(c, SkipReason::BadIpHeader);
  std::size_t total = be16(b, 2);
  // Zero total length: a TSO super-packet captured before segmentation; take what is there.
  if (total == 0) total = b.size();
  if (total < header) return skipped_.add(SkipReason::BadIpHeader);
  if (total > b.size()) return short_header(c, SkipReason::BadIpHeader);
  b = b.substr(0, total);  // drop Ethernet padding

  const std::uint8_t protocol = u8(b, 9);
  const std::uint16_t fragment = be16(b, 6);
  const bool more = (fragment & 0x2000) != 0;
  const std::uint32_t offset = (fragment & 0x1FFFu) * 8u;
  c.origin.source = v4_address(b, 12);
  c.origin.destination = v4_address(b, 16);
  const std::uint64_t outer = c.tunnel;
  c.tunnel = internal::mix(c.tunnel, b.substr(12, 8));

  if (!more && offset == 0) return ip_payload(c, protocol, b.substr(header));

  FragmentKey key;
  key.context = outer;
  std::memcpy(key.source.data(), c.origin.source.bytes.data(), 4);
  std::memcpy(key.destination.data(), c.origin.destination.bytes.data(), 4);
  key.id = be16(b, 4);
  key.protocol = protocol;
  std::string whole;
  if (fragments_.add(key, c.origin.timestamp_ns, offset, more, b.substr(header), whole, skipped_) !=
      FragmentReassembler::Outcome::Complete) {
    return;
  }
  c.origin.flags |= kFromIpFragments;
  ip_payload(c, protocol, whole);
}

void Decoder::ipv6(Context& c, Bytes b) {
  if (!push(c, "ipv6")) return;
  if (b.size() < 40) return short_header(c, SkipReason::BadIpHeader);
  if ((u8(b, 0) >> 4) != 6) return skipped_.add(SkipReason::BadIpHeader);
  const std::size_t payload = be16(b, 4);
  // Zero payload length: a jumbogram (RFC 2675) or TSO; take what is there.
  const std::size_t total = payload == 0 ? b.size() : 40 + payload;
  if (total > b.size()) return short_header(c, SkipReason::BadIpHeader);
  b = b.substr(0, total);
  c.origin.source = v6_address(b, 8);
  c.origin.destination = v6_address(b, 24);
  ipv6_chain(c, u8(b, 6), b.substr(40));
}

void Decoder::ipv6_chain(Context& c, std::uint8_t next, Bytes b) {
  const std::uint64_t outer = c.tunnel;
  // Fold this header's addresses in once, before the extension headers.
  c.tunnel = internal::mix(c.tunnel, address_bytes(c.origin.source));
  c.tunnel = internal::mix(c.tunnel, address_bytes(c.origin.destination));
  for (int guard = 0; guard < 32; ++guard) {
    switch (next) {
      case kHopByHop:
      case kRouting:
      case kDestinationOptions:
      case kMobility:
      case 139:  // HIP
      case 140:  // Shim6
      case 253:
      case 254: {
        if (b.size() < 8) return short_header(c, SkipReason::BadIpHeader);
        const std::size_t len = (u8(b, 1) + 1u) * 8u;
        if (b.size() < len) return short_header(c, SkipReason::BadIpHeader);
        next = u8(b, 0);
        b.remove_prefix(len);
        continue;
      }
      case kAh: {
        if (b.size() < 8) return short_header(c, SkipReason::BadIpHeader);
        const std::size_t len = (u8(b, 1) + 2u) * 4u;
        if (b.size() < len) return short_header(c, SkipReason::BadIpHeader);
        next = u8(b, 0);
        b.remove_prefix(len);
        continue;
      }
      case kFragment: {
        if (b.size() < 8) return short_header(c, SkipReason::BadIpHeader);
        const std::uint8_t inner = u8(b, 0);
        const std::uint32_t offset = be16(b, 2) & 0xFFF8u;
        const bool more = (u8(b, 3) & 0x01) != 0;
        const std::uint32_t id = be32(b, 4);
        b.remove_prefix(8);
        if (offset == 0 && !more) {  // an atomic fragment (RFC 6946)
          next = inner;
          continue;
        }
        FragmentKey key;
        key.context = outer;
        key.v6 = true;
        key.source = c.origin.source.bytes;
        key.destination = c.origin.destination.bytes;
        key.id = id;
        std::string whole;
        if (fragments_.add(key, c.origin.timestamp_ns, offset, more, b, whole, skipped_) !=
            FragmentReassembler::Outcome::Complete) {
          return;
        }
        c.origin.flags |= kFromIpFragments;
        // The fragmentable part may begin with more extension headers.
        c.tunnel = outer;
        return ipv6_chain(c, inner, whole);
      }
      case kNoNext:
        return skipped_.add(SkipReason::OtherIpProtocol);
      default:
        return ip_payload(c, next, b);
    }
  }
  skipped_.add(SkipReason::BadIpHeader);
}

void Decoder::ip_payload(Context& c, std::uint8_t protocol, Bytes b) {
  switch (protocol) {
    case kUdp:
      return udp(c, b);
    case kTcp:
      return tcp(c, b);
    case kSctp:
      return sctp(c, b);
    case kIpInIp:
      return ipv4(c, b);
    case kIpv6InIp:
      return ipv6(c, b);
    case kGre:
      return gre(c, b);
    case kEsp:
      return esp(c, b);
    case kAh: {  // IPv4 AH (RFC 4302): skip it, read what it protects
      if (!push(c, "ah")) return;
      if (b.size() < 8) return short_header(c, SkipReason::BadIpHeader);
      const std::size_t len = (u8(b, 1) + 2u) * 4u;
      if (b.size() < len) return short_header(c, SkipReason::BadIpHeader);
      return ip_payload(c, u8(b, 0), b.substr(len));
    }
    default:
      skipped_.add(SkipReason::OtherIpProtocol);
  }
}

// --- transports -------------------------------------------------------------

void Decoder::udp(Context& c, Bytes b) {
  if (!push(c, "udp")) return;
  if (b.size() < 8) return short_header(c, SkipReason::BadTransportHeader);
  const std::size_t length = be16(b, 4);
  c.origin.source_port = be16(b, 0);
  c.origin.destination_port = be16(b, 2);
  c.origin.transport = Transport::Udp;
  Bytes payload;
  if (length == 0) {
    payload = b.substr(8);  // jumbo or TSO: the length field is left zero
  } else {
    if (length < 8) return skipped_.add(SkipReason::BadTransportHeader);
    if (length > b.size()) return short_header(c, SkipReason::BadTransportHeader);
    payload = b.substr(8, length - 8);
  }
  const bool gtp_port = c.origin.source_port == kPortGtpu || c.origin.destination_port == kPortGtpu;
  // GTPv1 with the protocol-type bit set (GTP' is PT = 0).
  if (gtp_port && !payload.empty() && (u8(payload, 0) >> 5) == 1 && (u8(payload, 0) & 0x10) != 0) {
    return gtpu(c, payload);
  }
  if (payload.size() >= 4 && payload.substr(0, 4) == "HEP3") {
    if (hep3(c, payload)) return;
  }
  if ((c.origin.source_port == kPortVxlan || c.origin.destination_port == kPortVxlan) && payload.size() >= 8 &&
      u8(payload, 0) == 0x08) {
    if (!push(c, "vxlan")) return;
    return ethernet(c, payload.substr(8));
  }
  deliver(c.origin, payload, sip::ParseMode::Datagram);
}

void Decoder::tcp(Context& c, Bytes b) {
  if (!push(c, "tcp")) return;
  if (b.size() < 20) return short_header(c, SkipReason::BadTransportHeader);
  const std::size_t header = (u8(b, 12) >> 4) * 4u;
  if (header < 20) return skipped_.add(SkipReason::BadTransportHeader);
  if (header > b.size()) return short_header(c, SkipReason::BadTransportHeader);
  c.origin.source_port = be16(b, 0);
  c.origin.destination_port = be16(b, 2);
  c.origin.transport = Transport::Tcp;
  TcpStreams::Segment s;
  s.context = c.tunnel;
  s.origin = c.origin;
  s.seq = be32(b, 4);
  const std::uint8_t flags = u8(b, 13);
  s.fin = (flags & 0x01) != 0;
  s.syn = (flags & 0x02) != 0;
  s.rst = (flags & 0x04) != 0;
  s.payload = b.substr(header);
  tcp_.segment(s);
}

void Decoder::sctp(Context& c, Bytes b) {
  if (!push(c, "sctp")) return;
  if (b.size() < 12) return short_header(c, SkipReason::BadTransportHeader);
  c.origin.source_port = be16(b, 0);
  c.origin.destination_port = be16(b, 2);
  c.origin.transport = Transport::Sctp;
  std::size_t at = 12;
  bool data = false;
  while (b.size() - at >= 4) {
    const std::uint8_t type = u8(b, at);
    const std::uint8_t flags = u8(b, at + 1);
    const std::size_t length = be16(b, at + 2);
    if (length < 4) return skipped_.add(SkipReason::BadTransportHeader);
    if (length > b.size() - at) return short_header(c, SkipReason::BadTransportHeader);
    if (type == 0 && length >= 16) {  // DATA (RFC 9260 §3.3.1)
      data = true;
      sctp_data(c, flags, b.substr(at, length));
    }
    at += (length + 3) & ~std::size_t{3};
    if (at > b.size()) break;
  }
  if (!data) skipped_.add(SkipReason::SctpNoData);
}

void Decoder::sctp_data(Context& c, std::uint8_t flags, Bytes chunk) {
  const bool begin = (flags & 0x02) != 0;
  const bool end = (flags & 0x01) != 0;
  const Bytes user = chunk.substr(16);
  if (begin && end) return deliver(c.origin, user, sip::ParseMode::Datagram);
  SctpKey key;
  key.tunnel = c.tunnel;
  key.source = c.origin.source.bytes;
  key.destination = c.origin.destination.bytes;
  key.source_port = c.origin.source_port;
  key.destination_port = c.origin.destination_port;
  key.stream = be16(chunk, 8);
  key.unordered = (flags & 0x04) != 0;
  const std::uint32_t tsn = be32(chunk, 4);
  if (begin) {
    if (sctp_partials_.size() >= limits_.max_sctp_partials && !sctp_partials_.contains(key)) {
      skipped_.add(SkipReason::SctpIncomplete);
      sctp_partials_.erase(sctp_partials_.begin());
    }
    SctpPartial& p = sctp_partials_[key];
    if (!p.data.empty()) skipped_.add(SkipReason::SctpIncomplete);  // the previous one never ended
    p.data.assign(user);
    p.next_tsn = tsn + 1;
    return;
  }
  auto it = sctp_partials_.find(key);
  if (it == sctp_partials_.end()) return skipped_.add(SkipReason::SctpIncomplete);
  if (it->second.next_tsn != tsn || it->second.data.size() + user.size() > limits_.max_sctp_message_bytes) {
    // A piece lost, repeated or reordered: this decoder does not hold pieces back.
    skipped_.add(SkipReason::SctpIncomplete);
    sctp_partials_.erase(it);
    return;
  }
  it->second.data.append(user);
  it->second.next_tsn = tsn + 1;
  if (!end) return;
  const std::string whole = std::move(it->second.data);
  sctp_partials_.erase(it);
  deliver(c.origin, whole, sip::ParseMode::Datagram);
}

// --- tunnels ----------------------------------------------------------------

void Decoder::gtpu(Context& c, Bytes b) {
  if (!push(c, "gtpu")) return;
  if (b.size() < 8) return short_header(c, SkipReason::BadTransportHeader);
  const std::uint8_t flags = u8(b, 0);
  if (u8(b, 1) != 0xFF) return skipped_.add(SkipReason::GtpNotGpdu);
  std::size_t end = 8 + be16(b, 2);
  if (end > b.size()) return short_header(c, SkipReason::BadTransportHeader);
  b = b.substr(0, end);
  std::size_t at = 8;
  if (flags & 0x07) {  // E, S or PN: sequence number, N-PDU number, next extension type follow
    if (b.size() < 12) return skipped_.add(SkipReason::BadTransportHeader);
    std::uint8_t next = (flags & 0x04) ? u8(b, 11) : 0;
    at = 12;
    while (next != 0) {  // extension headers (TS 29.281 §5.2), length in 4-byte units
      if (b.size() - at < 4) return skipped_.add(SkipReason::BadTransportHeader);
      const std::size_t len = u8(b, at) * 4u;
      if (len == 0 || len > b.size() - at) return skipped_.add(SkipReason::BadTransportHeader);
      next = u8(b, at + len - 1);
      at += len;
    }
  }
  const Bytes inner = b.substr(at);
  if (inner.empty()) return skipped_.add(SkipReason::UnsupportedTunnel);
  const unsigned version = u8(inner, 0) >> 4;
  if (version != 4 && version != 6) return skipped_.add(SkipReason::UnsupportedTunnel);
  ip_by_version(c, inner);
}

void Decoder::gre(Context& c, Bytes b) {
  if (!push(c, "gre")) return;
  if (b.size() < 4) return short_header(c, SkipReason::BadTransportHeader);
  const std::uint16_t flags = be16(b, 0);
  const std::uint16_t protocol = be16(b, 2);
  // Version 0 only (version 1 is PPTP's enhanced GRE); no source routing (R bit).
  if ((flags & 0x0007) != 0 || (flags & 0x4000) != 0) return skipped_.add(SkipReason::UnsupportedTunnel);
  std::size_t at = 4;
  if (flags & 0x8000) at += 4;  // checksum + reserved
  if (flags & 0x2000) at += 4;  // key
  const bool has_sequence = (flags & 0x1000) != 0;
  if (has_sequence) at += 4;
  if (b.size() < at) return short_header(c, SkipReason::BadTransportHeader);
  b.remove_prefix(at);
  switch (protocol) {
    case 0x0800:
    case 0x86DD:
      return ethertype(c, protocol, b);
    case 0x6558:  // transparent Ethernet bridging
      return ethernet(c, b);
    case 0x88BE: {  // ERSPAN type II (type I when there is no sequence number: no ERSPAN header)
      if (!push(c, "erspan")) return;
      if (has_sequence) {
        if (b.size() < 8) return short_header(c, SkipReason::BadTransportHeader);
        b.remove_prefix(8);
      }
      return ethernet(c, b);
    }
    case 0x22EB: {  // ERSPAN type III: 12 bytes, 8 more with the platform subheader (O bit)
      if (!push(c, "erspan")) return;
      if (b.size() < 12) return short_header(c, SkipReason::BadTransportHeader);
      const bool platform = (u8(b, 11) & 0x01) != 0;
      const unsigned frame_type = (u8(b, 10) >> 2) & 0x1F;
      const std::size_t skip = platform ? 20 : 12;
      if (b.size() < skip) return short_header(c, SkipReason::BadTransportHeader);
      b.remove_prefix(skip);
      if (frame_type == 0) return ethernet(c, b);
      return ip_by_version(c, b);
    }
    default:
      skipped_.add(SkipReason::UnsupportedTunnel);
  }
}

void Decoder::esp(Context& c, Bytes b) {
  if (!push(c, "esp")) return;
  // SPI, sequence number, then (null cipher, no IV) the payload, padding,
  // pad length, next header, and the ICV.
  for (std::size_t icv : {std::size_t{12}, std::size_t{16}}) {
    if (b.size() < 8 + 2 + icv) continue;
    const std::size_t trailer = b.size() - icv - 2;
    const std::size_t pad = u8(b, trailer);
    const std::uint8_t next = u8(b, trailer + 1);
    if (8 + pad > trailer) continue;
    bool pad_ok = true;
    for (std::size_t i = 0; i < pad && pad_ok; ++i) pad_ok = u8(b, trailer - pad + i) == i + 1;
    if (!pad_ok) continue;
    const Bytes inner = b.substr(8, trailer - pad - 8);
    // The inner header's own length must agree with what the trailer left.
    bool fits = false;
    switch (next) {
      case kUdp:
        fits = inner.size() >= 8 && be16(inner, 4) == inner.size();
        break;
      case kTcp:
        fits = inner.size() >= 20 && (u8(inner, 12) >> 4) >= 5 && (u8(inner, 12) >> 4) * 4u <= inner.size();
        break;
      case kSctp:
        fits = inner.size() >= 16 && (inner.size() % 4) == 0;
        break;
      case kIpInIp:
        fits = inner.size() >= 20 && (u8(inner, 0) >> 4) == 4 && be16(inner, 2) == inner.size();
        break;
      case kIpv6InIp:
        fits = inner.size() >= 40 && (u8(inner, 0) >> 4) == 6 && be16(inner, 4) + 40u == inner.size();
        break;
      default:
        break;
    }
    if (!fits) continue;
    c.origin.flags |= kFromEsp;
    return ip_payload(c, next, inner);
  }
  skipped_.add(SkipReason::EspNotNullEncrypted);
}

bool Decoder::hep3(Context& c, Bytes b) {
  // HEP v3 (sipcapture.org): "HEP3", total length, then chunks of
  // vendor(2) type(2) length(2, header included) value.
  if (b.size() < 6) return false;
  const std::size_t total = be16(b, 4);
  if (total < 6 || total > b.size()) return false;
  b = b.substr(0, total);
  internal::Origin o = c.origin;
  std::uint8_t ip_protocol = 0;
  std::uint8_t payload_type = 0;
  std::int64_t seconds = -1;
  std::int64_t micros = 0;
  Bytes payload;
  bool have_payload = false;
  for (std::size_t at = 6; b.size() - at >= 6;) {
    const std::uint16_t vendor = be16(b, at);
    const std::uint16_t type = be16(b, at + 2);
    const std::size_t length = be16(b, at + 4);
    if (length < 6 || length > b.size() - at) return false;
    const Bytes v = b.substr(at + 6, length - 6);
    at += length;
    if (vendor != 0) continue;
    switch (type) {
      case 2: if (v.size() == 1) ip_protocol = u8(v, 0); break;
      case 3: if (v.size() == 4) o.source = v4_address(v, 0); break;
      case 4: if (v.size() == 4) o.destination = v4_address(v, 0); break;
      case 5: if (v.size() == 16) o.source = v6_address(v, 0); break;
      case 6: if (v.size() == 16) o.destination = v6_address(v, 0); break;
      case 7: if (v.size() == 2) o.source_port = be16(v, 0); break;
      case 8: if (v.size() == 2) o.destination_port = be16(v, 0); break;
      case 9: if (v.size() == 4) seconds = be32(v, 0); break;
      case 10: if (v.size() == 4) micros = be32(v, 0); break;
      case 11: if (v.size() == 1) payload_type = u8(v, 0); break;
      case 15: payload = v; have_payload = true; break;
      default: break;
    }
  }
  if (!have_payload) return false;
  if (!push(c, "hep3")) return true;
  if (payload_type != 1) {  // 1 = SIP
    skipped_.add(SkipReason::UnsupportedTunnel);
    return true;
  }
  if (seconds >= 0) o.timestamp_ns = seconds * 1'000'000'000 + micros * 1'000;
  o.transport = ip_protocol == kTcp ? Transport::Tcp : ip_protocol == kSctp ? Transport::Sctp : Transport::Udp;
  o.flags |= kFromHep;
  o.path = c.origin.path;
  deliver(o, payload, sip::ParseMode::Datagram);
  return true;
}

}  // namespace imsflow::trace
