// Unit tests of the capture decoder with hand-built packets: every link
// type, VLAN, IP fragments (v4 and v6, any order, overlaps, missing pieces),
// TCP reassembly cases, tunnels (GTP-U, IP-in-IP, GRE/ERSPAN, null ESP,
// HEP), SCTP and WebSocket, bounds and garbage.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "trace/packet_builder.hpp"
#include "trace/packet_decoder.hpp"

namespace imsflow::trace {
namespace {

using namespace test;

/// What a test keeps of a delivered packet (the views die with the callback).
struct Seen {
  std::string bytes;
  std::string path;
  std::string first_line;
  Transport transport;
  std::string source;
  std::uint16_t source_port;
  std::string destination;
  std::uint16_t destination_port;
  std::uint8_t flags;
  std::uint64_t frame;
  std::int64_t timestamp_ns;
};

class Harness {
 public:
  explicit Harness(DecoderLimits limits = {})
      : decoder_(
            [this](const SipPacket& p) {
              seen.push_back({std::string(p.bytes), std::string(p.path), std::string(p.message->start_line()),
                              p.transport, p.source.to_string(), p.source_port, p.destination.to_string(),
                              p.destination_port, p.flags, p.frame, p.timestamp_ns});
            },
            limits) {}

  void feed(std::uint32_t link, std::string_view bytes, std::int64_t t_ns = 1'000'000'000,
            std::uint32_t original_length = 0) {
    Frame f;
    f.timestamp_ns = t_ns;
    f.link_type = link;
    f.bytes = bytes;
    f.original_length = original_length;
    decoder_.decode(f);
  }
  void eth_v4(std::string_view ip, std::int64_t t_ns = 1'000'000'000) { feed(kLinkEthernet, ethernet(0x0800, ip), t_ns); }

  std::uint64_t skipped(SkipReason r) const { return decoder_.skipped().count(r); }
  Decoder& decoder() { return decoder_; }

  std::vector<Seen> seen;

 private:
  Decoder decoder_;
};

const std::string kInvite = sip_request("INVITE", 1);
const std::string kUdpInvite = udp(5060, 5060, kInvite);

// --- link types --------------------------------------------------------------

TEST(TraceLinkTypes, EveryLinkTypeReachesTheSipMessage) {
  const std::string v4 = ipv4(kA, kB, 17, kUdpInvite);
  const std::string v6p = ipv6(1, 2, 17, kUdpInvite);
  std::string sll = bytes({0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00}) + v4;
  std::string sll2 = bytes({0x86, 0xDD, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0}) + v6p;
  std::string null_le = bytes({2, 0, 0, 0}) + v4;
  std::string null_v6 = bytes({30, 0, 0, 0}) + v6p;  // macOS AF_INET6
  std::string loop = bytes({0, 0, 0, 2}) + v4;
  struct Case {
    std::uint32_t link;
    std::string frame;
    const char* path;
  } cases[] = {
      {kLinkEthernet, ethernet(0x0800, v4), "eth>ipv4>udp"},
      {kLinkEthernet, ethernet(0x86DD, v6p), "eth>ipv6>udp"},
      {kLinkLinuxSll, sll, "sll>ipv4>udp"},
      {kLinkLinuxSll2, sll2, "sll2>ipv6>udp"},
      {kLinkRaw, v4, "ipv4>udp"},
      {kLinkRaw, v6p, "ipv6>udp"},
      {kLinkRawDlt, v4, "ipv4>udp"},
      {kLinkIpv4, v4, "ipv4>udp"},
      {kLinkIpv6, v6p, "ipv6>udp"},
      {kLinkNull, null_le, "null>ipv4>udp"},
      {kLinkNull, null_v6, "null>ipv6>udp"},
      {kLinkLoop, loop, "loop>ipv4>udp"},
  };
  for (const Case& c : cases) {
    Harness h;
    h.feed(c.link, c.frame);
    ASSERT_EQ(h.seen.size(), 1u) << c.path;
    EXPECT_EQ(h.seen[0].path, c.path);
    EXPECT_EQ(h.seen[0].bytes, kInvite);
    EXPECT_EQ(h.seen[0].transport, Transport::Udp);
    EXPECT_EQ(h.seen[0].source_port, 5060);
  }
}

TEST(TraceLinkTypes, AddressesAndTimeAreReported) {
  Harness h;
  h.eth_v4(ipv4(kA, kB, 17, udp(40000, 5062, kInvite)), 1'700'000'000'123'456'789);
  ASSERT_EQ(h.seen.size(), 1u);
  EXPECT_EQ(h.seen[0].source, "10.0.0.1");
  EXPECT_EQ(h.seen[0].source_port, 40000);
  EXPECT_EQ(h.seen[0].destination, "10.0.0.2");
  EXPECT_EQ(h.seen[0].destination_port, 5062);
  EXPECT_EQ(h.seen[0].timestamp_ns, 1'700'000'000'123'456'789);
  EXPECT_EQ(h.seen[0].frame, 1u);
  EXPECT_EQ(h.seen[0].first_line, "INVITE sip:bob@example.com SIP/2.0");
}

TEST(TraceLinkTypes, NestedVlanTags) {
  Harness h;
  const std::string v4 = ipv4(kA, kB, 17, kUdpInvite);
  // 802.1ad outer tag, 802.1Q inner tag.
  h.feed(kLinkEthernet, ethernet(0x88A8, vlan(100, 0x8100, vlan(200, 0x0800, v4))));
  ASSERT_EQ(h.seen.size(), 1u);
  EXPECT_EQ(h.seen[0].path, "eth>vlan>vlan>ipv4>udp");
}

TEST(TraceLinkTypes, NonIpAndUnknownLinkAreCounted) {
  Harness h;
  h.feed(kLinkEthernet, ethernet(0x0806, std::string(28, '\0')));  // ARP
  h.feed(kLinkEthernet, ethernet(0x0026, std::string(38, '\0')));  // 802.3 length field
  h.feed(9999, "whatever");
  EXPECT_EQ(h.skipped(SkipReason::NotIp), 2u);
  EXPECT_EQ(h.skipped(SkipReason::UnsupportedLinkType), 1u);
  EXPECT_TRUE(h.seen.empty());
}

TEST(TraceLinkTypes, SnapLengthCutIsCountedAsTruncated) {
  Harness h;
  const std::string frame = ethernet(0x0800, ipv4(kA, kB, 17, kUdpInvite));
  h.feed(kLinkEthernet, std::string_view(frame).substr(0, 60), 1, static_cast<std::uint32_t>(frame.size()));
  EXPECT_EQ(h.skipped(SkipReason::Truncated), 1u);
  EXPECT_TRUE(h.seen.empty());
}

TEST(TraceLinkTypes, EthernetPaddingIsIgnored) {
  Harness h;
  h.feed(kLinkEthernet, ethernet(0x0800, ipv4(kA, kB, 17, kUdpInvite)) + std::string(6, '\0'));
  ASSERT_EQ(h.seen.size(), 1u);
  EXPECT_EQ(h.seen[0].bytes, kInvite);
}

// --- SIP detection --------------------------------------------------------------

TEST(TraceSip, NonSipKeepAliveAndParseErrorsAreCounted) {
  Harness h;
  h.eth_v4(ipv4(kA, kB, 17, udp(10000, 20000, std::string("\x80\x00\x12\x34 rtp", 9))));
  h.eth_v4(ipv4(kA, kB, 17, udp(5060, 5060, "\r\n\r\n")));
  std::string no_call_id = kInvite;
  no_call_id.erase(no_call_id.find("Call-ID"), std::string("Call-ID: call-1@test\r\n").size());
  h.eth_v4(ipv4(kA, kB, 17, udp(5060, 5060, no_call_id)));
  h.eth_v4(ipv4(kA, kB, 1, "icmp"));
  EXPECT_TRUE(h.seen.empty());
  EXPECT_EQ(h.skipped(SkipReason::NonSipPayload), 1u);
  EXPECT_EQ(h.skipped(SkipReason::SipKeepAlive), 1u);
  EXPECT_EQ(h.skipped(SkipReason::OtherIpProtocol), 1u);
  EXPECT_EQ(h.decoder().skipped().count(sip::ParseErrorCode::MissingHeader), 1u);
  const auto names = h.decoder().skipped().by_name();
  EXPECT_EQ(names.at("sip parse error: MissingHeader"), 1u);
  EXPECT_EQ(names.at("non-SIP payload"), 1u);
}

TEST(TraceSip, SipOnAnyPortIsFoundByContent) {
  Harness h;
  h.eth_v4(ipv4(kA, kB, 17, udp(12345, 33333, sip_response(180, 1))));
  ASSERT_EQ(h.seen.size(), 1u);
  EXPECT_EQ(h.seen[0].first_line, "SIP/2.0 180 Whatever");
}

// --- IP fragments --------------------------------------------------------------

std::vector<std::string> v4_fragments(const std::string& datagram, std::uint16_t id, std::size_t piece) {
  std::vector<std::string> out;
  for (std::size_t off = 0; off < datagram.size(); off += piece) {
    const bool more = off + piece < datagram.size();
    out.push_back(ipv4(kA, kB, 17, datagram.substr(off, piece), id, static_cast<std::uint32_t>(off), more));
  }
  return out;
}

TEST(TraceFragments, Ipv4InEveryOrder) {
  const auto pieces = v4_fragments(kUdpInvite, 77, 64);
  ASSERT_GE(pieces.size(), 3u);
  std::vector<std::size_t> order(pieces.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  int permutations = 0;
  do {
    Harness h;
    for (std::size_t i : order) h.eth_v4(pieces[i]);
    ASSERT_EQ(h.seen.size(), 1u);
    EXPECT_EQ(h.seen[0].bytes, kInvite);
    EXPECT_TRUE(h.seen[0].flags & kFromIpFragments);
    EXPECT_EQ(h.seen[0].frame, pieces.size());  // the frame that completed it
    EXPECT_EQ(h.decoder().held_fragment_sets(), 0u);
    ++permutations;
  } while (std::next_permutation(order.begin(), order.end()) && permutations < 120);
}

TEST(TraceFragments, Ipv4DuplicatesAndOverlapsFirstBytesWin) {
  Harness h;
  const auto pieces = v4_fragments(kUdpInvite, 5, 64);
  h.eth_v4(pieces[0]);
  h.eth_v4(pieces[0]);  // duplicate
  // An overlapping fragment covering bytes 32..96 with the same bytes.
  h.eth_v4(ipv4(kA, kB, 17, kUdpInvite.substr(32, 64), 5, 32, true));
  // An overlapping fragment with contradicting bytes at 64..96: counted, ignored.
  h.eth_v4(ipv4(kA, kB, 17, std::string(32, 'X'), 5, 64, true));
  for (std::size_t i = 1; i < pieces.size(); ++i) h.eth_v4(pieces[i]);
  ASSERT_EQ(h.seen.size(), 1u);
  EXPECT_EQ(h.seen[0].bytes, kInvite);
  EXPECT_EQ(h.skipped(SkipReason::FragmentOverlap), 1u);
}

TEST(TraceFragments, MissingPieceTimesOutAndIsFreed) {
  FragmentLimits fl;
  fl.timeout_ns = 5'000'000'000;
  DecoderLimits limits;
  limits.fragments = fl;
  Harness h(limits);
  const auto pieces = v4_fragments(kUdpInvite, 9, 64);
  h.eth_v4(pieces[0], 1'000'000'000);
  h.eth_v4(pieces[2], 1'100'000'000);
  EXPECT_EQ(h.decoder().held_fragment_sets(), 1u);
  // Ten seconds later any fragment sweeps the stale set.
  h.eth_v4(v4_fragments(sip_request("OPTIONS", 2), 10, 64)[0], 11'000'000'000);
  EXPECT_EQ(h.skipped(SkipReason::FragmentsIncomplete), 1u);
  EXPECT_EQ(h.decoder().held_fragment_sets(), 1u);
  h.decoder().finish();
  EXPECT_EQ(h.skipped(SkipReason::FragmentsIncomplete), 2u);
  EXPECT_EQ(h.decoder().held_fragment_sets(), 0u);
  EXPECT_TRUE(h.seen.empty());
}

TEST(TraceFragments, SetsAreBounded) {
  DecoderLimits limits;
  limits.fragments.max_sets = 8;
  Harness h(limits);
  for (std::uint16_t id = 0; id < 100; ++id) h.eth_v4(v4_fragments(kUdpInvite, id, 64)[0]);
  EXPECT_LE(h.decoder().held_fragment_sets(), 8u);
  EXPECT_EQ(h.skipped(SkipReason::FragmentsIncomplete), 92u);
}

TEST(TraceFragments, InconsistentEndIsDropped) {
  Harness h;
  h.eth_v4(ipv4(kA, kB, 17, std::string(64, 'a'), 3, 0, false));  // says: ends at 64 (but is a whole datagram)
  h.eth_v4(ipv4(kA, kB, 17, std::string(16, 'a'), 4, 64, false));
  h.eth_v4(ipv4(kA, kB, 17, std::string(16, 'a'), 4, 32, false));  // a second, different end
  EXPECT_EQ(h.skipped(SkipReason::BadIpHeader), 1u);
  EXPECT_EQ(h.decoder().held_fragment_sets(), 0u);
}

TEST(TraceFragments, Ipv6WithExtensionHeadersInReverseOrder) {
  // Hop-by-hop options, then the fragment header; the reassembled part starts
  // with a destination options header before UDP.
  const std::string dest_opts = bytes({17, 0, 1, 4, 0, 0, 0, 0});
  const std::string fragmentable = dest_opts + kUdpInvite;
  std::vector<std::string> frames;
  const std::size_t piece = 96;
  for (std::size_t off = 0; off < fragmentable.size(); off += piece) {
    const bool more = off + piece < fragmentable.size();
    std::string ext = bytes({44, 0, 1, 4, 0, 0, 0, 0});  // hop-by-hop, next = fragment
    ext += ipv6_fragment_header(60, 0xABCD, static_cast<std::uint32_t>(off), more);
    frames.push_back(ethernet(0x86DD, ipv6(1, 2, 0, ext + fragmentable.substr(off, piece))));
  }
  std::reverse(frames.begin(), frames.end());
  Harness h;
  for (const auto& f : frames) h.feed(kLinkEthernet, f);
  ASSERT_EQ(h.seen.size(), 1u);
  EXPECT_EQ(h.seen[0].bytes, kInvite);
  EXPECT_EQ(h.seen[0].path, "eth>ipv6>udp");
  EXPECT_EQ(h.seen[0].source, "2001:db8::1");
  EXPECT_TRUE(h.seen[0].flags & kFromIpFragments);
}

// --- TCP ---------------------------------------------------------------------------

struct TcpFeeder {
  Harness& h;
  std::uint16_t sport = 40000;
  std::uint16_t dport = 5060;
  void send(std::uint32_t seq, std::string_view data, std::uint8_t flags = kPsh | kAck) {
    h.eth_v4(ipv4(kA, kB, 6, tcp(sport, dport, seq, data, flags)));
  }
};

TEST(TraceTcp, TwoMessagesInOneSegment) {
  Harness h;
  TcpFeeder t{h};
  t.send(100, "", kSyn);
  t.send(101, kInvite + sip_request("ACK", 1));
  ASSERT_EQ(h.seen.size(), 2u);
  EXPECT_EQ(h.seen[0].bytes, kInvite);
  EXPECT_EQ(h.seen[1].first_line, "ACK sip:bob@example.com SIP/2.0");
  EXPECT_EQ(h.seen[0].transport, Transport::Tcp);
  EXPECT_FALSE(h.seen[0].flags & kFromTcpSegments);
}

TEST(TraceTcp, OneMessageOverThreeSegments) {
  Harness h;
  TcpFeeder t{h};
  const std::size_t a = 50, b = 200;
  t.send(1000, kInvite.substr(0, a));
  t.send(1000 + a, kInvite.substr(a, b - a));
  EXPECT_TRUE(h.seen.empty());
  t.send(1000 + b, kInvite.substr(b));
  ASSERT_EQ(h.seen.size(), 1u);
  EXPECT_EQ(h.seen[0].bytes, kInvite);
  EXPECT_TRUE(h.seen[0].flags & kFromTcpSegments);
  EXPECT_EQ(h.seen[0].frame, 3u);
}

TEST(TraceTcp, OutOfOrderSegmentsAreHeldUntilTheHoleFills) {
  Harness h;
  TcpFeeder t{h};
  const std::string two = kInvite + sip_request("BYE", 2);
  t.send(0xFFFFFF00u, "", kSyn);  // sequence numbers wrap inside the stream
  const std::uint32_t s = 0xFFFFFF01u;
  t.send(s + 300, two.substr(300));
  t.send(s + 100, two.substr(100, 200));
  EXPECT_TRUE(h.seen.empty());
  t.send(s, two.substr(0, 100));
  ASSERT_EQ(h.seen.size(), 2u);
  EXPECT_EQ(h.seen[0].bytes, kInvite);
  EXPECT_EQ(h.seen[1].first_line, "BYE sip:bob@example.com SIP/2.0");
}

TEST(TraceTcp, RetransmissionsAndOverlapsAreNotDeliveredTwice) {
  Harness h;
  TcpFeeder t{h};
  t.send(1, kInvite.substr(0, 120));
  t.send(1, kInvite.substr(0, 120));   // a plain retransmission
  t.send(61, kInvite.substr(60, 120));  // overlaps the first, adds 60 new bytes
  t.send(181, kInvite.substr(180));
  t.send(1, kInvite);                   // the whole message again
  ASSERT_EQ(h.seen.size(), 1u);
  EXPECT_EQ(h.seen[0].bytes, kInvite);
  EXPECT_TRUE(h.seen[0].flags & kTcpRetransmission);
  EXPECT_EQ(h.skipped(SkipReason::TcpRetransmission), 2u);
}

TEST(TraceTcp, GapResynchronisesAtTheNextStartLine) {
  Harness h;
  TcpFeeder t{h};
  const std::string first = sip_request("INVITE", 1);
  const std::string second = sip_request("OPTIONS", 2);
  const std::string third = sip_request("BYE", 3);
  const std::uint32_t s = 1;
  t.send(s, first.substr(0, 100));
  // first.substr(100) is never captured.
  const std::uint32_t s2 = s + static_cast<std::uint32_t>(first.size());
  t.send(s2, second);
  t.send(s2 + static_cast<std::uint32_t>(second.size()), third, kPsh | kAck | kFin);
  ASSERT_EQ(h.seen.size(), 2u);
  EXPECT_EQ(h.seen[0].first_line, "OPTIONS sip:bob@example.com SIP/2.0");
  EXPECT_EQ(h.seen[1].first_line, "BYE sip:bob@example.com SIP/2.0");
  EXPECT_EQ(h.skipped(SkipReason::TcpGap), 1u);
  EXPECT_EQ(h.decoder().tcp_directions(), 1u);  // a closed direction keeps only its sequence number
}

TEST(TraceTcp, GapIsResolvedAtTheEndOfTheCapture) {
  Harness h;
  TcpFeeder t{h};
  const std::string second = sip_request("OPTIONS", 2);
  t.send(1, kInvite.substr(0, 10));
  t.send(1 + static_cast<std::uint32_t>(kInvite.size()), second);
  EXPECT_TRUE(h.seen.empty());
  h.decoder().finish();
  ASSERT_EQ(h.seen.size(), 1u);
  EXPECT_EQ(h.seen[0].first_line, "OPTIONS sip:bob@example.com SIP/2.0");
  EXPECT_EQ(h.decoder().tcp_directions(), 0u);
}

TEST(TraceTcp, CaptureStartingInsideAMessage) {
  Harness h;
  TcpFeeder t{h};
  const std::string stream = kInvite + sip_request("ACK", 1);
  t.send(5000, std::string_view(stream).substr(40));
  ASSERT_EQ(h.seen.size(), 1u);
  EXPECT_EQ(h.seen[0].first_line, "ACK sip:bob@example.com SIP/2.0");
}

TEST(TraceTcp, NonSipStreamIsSkipped) {
  Harness h;
  TcpFeeder t{h};
  t.dport = 443;
  std::string tls = bytes({0x16, 0x03, 0x01, 0x02, 0x00});
  tls += std::string(500, '\x42');
  std::uint32_t seq = 1;
  for (int i = 0; i < 800; ++i) {
    t.send(seq, tls);
    seq += static_cast<std::uint32_t>(tls.size());
  }
  EXPECT_TRUE(h.seen.empty());
  EXPECT_GT(h.skipped(SkipReason::NonSipPayload), 0u);
  EXPECT_LT(h.decoder().tcp_directions(), 2u);
}

TEST(TraceTcp, DirectionsAreBounded) {
  DecoderLimits limits;
  limits.tcp.max_directions = 16;
  Harness h(limits);
  for (std::uint16_t port = 1; port <= 100; ++port) {
    h.eth_v4(ipv4(kA, kB, 6, tcp(port, 5060, 1, kInvite.substr(0, 30))));
  }
  EXPECT_LE(h.decoder().tcp_directions(), 16u);
  EXPECT_EQ(h.skipped(SkipReason::TcpStreamLimit), 84u);
}

TEST(TraceTcp, WebSocketFramesMaskedOrNot) {
  Harness h;
  TcpFeeder client{h, 50000, 8080};
  TcpFeeder server{h, 8080, 50000};
  const std::string upgrade =
      "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Protocol: sip\r\n\r\n";
  const std::string answer = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
  client.send(1, upgrade);
  server.send(1, answer);
  // Client to server: masked, in two fragments (text + continuation).
  const std::array<std::uint8_t, 4> key{0x11, 0x22, 0x33, 0x44};
  auto frame = [&](std::uint8_t first, std::string_view payload, bool masked) {
    std::string f(1, static_cast<char>(first));
    if (payload.size() < 126) {
      f.push_back(static_cast<char>((masked ? 0x80 : 0) | payload.size()));
    } else {
      f.push_back(static_cast<char>((masked ? 0x80 : 0) | 126));
      put16(f, static_cast<std::uint16_t>(payload.size()));
    }
    if (masked) {
      for (auto k : key) f.push_back(static_cast<char>(k));
      for (std::size_t i = 0; i < payload.size(); ++i) f.push_back(static_cast<char>(payload[i] ^ key[i & 3]));
    } else {
      f.append(payload);
    }
    return f;
  };
  const std::string frames = frame(0x01, std::string_view(kInvite).substr(0, 100), true) +
                             frame(0x80, std::string_view(kInvite).substr(100), true) + frame(0x89, "", true);
  client.send(1 + static_cast<std::uint32_t>(upgrade.size()), frames);
  server.send(1 + static_cast<std::uint32_t>(answer.size()), frame(0x81, sip_response(200, 1), false));
  ASSERT_EQ(h.seen.size(), 2u);
  EXPECT_EQ(h.seen[0].bytes, kInvite);
  EXPECT_EQ(h.seen[0].transport, Transport::WebSocket);
  EXPECT_EQ(h.seen[1].first_line, "SIP/2.0 200 Whatever");
  EXPECT_EQ(h.skipped(SkipReason::WebSocketControl), 1u);
}

// --- tunnels --------------------------------------------------------------------

TEST(TraceTunnels, GtpuWithAndWithoutExtensionHeaders) {
  for (bool ext : {false, true}) {
    Harness h;
    const std::string inner = ipv4({192, 168, 1, 5}, {10, 4, 0, 1}, 17, kUdpInvite);
    h.eth_v4(ipv4(kA, kB, 17, udp(2152, 2152, gtpu(0x1f, inner, ext))));
    ASSERT_EQ(h.seen.size(), 1u) << ext;
    EXPECT_EQ(h.seen[0].path, "eth>ipv4>udp>gtpu>ipv4>udp");
    EXPECT_EQ(h.seen[0].source, "192.168.1.5");
  }
  Harness echo;
  std::string gtp_echo = bytes({0x32, 0x01, 0, 4, 0, 0, 0, 0, 0, 1, 0, 0});
  echo.eth_v4(ipv4(kA, kB, 17, udp(2152, 2152, gtp_echo)));
  EXPECT_EQ(echo.skipped(SkipReason::GtpNotGpdu), 1u);
}

TEST(TraceTunnels, TcpInsideGtpuOnTwoHopsGivesTwoCopies) {
  // The same inner TCP segment captured on two GTP-U legs is one message per hop.
  Harness h;
  const std::string inner = ipv4({192, 168, 1, 5}, {10, 4, 0, 1}, 6, tcp(40762, 5060, 1, kInvite));
  h.eth_v4(ipv4({172, 24, 0, 45}, {10, 4, 0, 21}, 17, udp(2152, 2152, gtpu(1, inner, false))));
  h.eth_v4(ipv4({10, 4, 0, 21}, {127, 0, 0, 3}, 17, udp(2152, 2152, gtpu(2, inner, false))));
  ASSERT_EQ(h.seen.size(), 2u);
  EXPECT_EQ(h.seen[0].path, "eth>ipv4>udp>gtpu>ipv4>tcp");
}

TEST(TraceTunnels, IpInIpBothFamilies) {
  Harness h;
  h.eth_v4(ipv4(kA, kB, 4, ipv4({1, 1, 1, 1}, {2, 2, 2, 2}, 17, kUdpInvite)));
  h.eth_v4(ipv4(kA, kB, 41, ipv6(3, 4, 17, kUdpInvite)));
  h.feed(kLinkEthernet, ethernet(0x86DD, ipv6(5, 6, 4, ipv4({1, 1, 1, 1}, {2, 2, 2, 2}, 17, kUdpInvite))));
  ASSERT_EQ(h.seen.size(), 3u);
  EXPECT_EQ(h.seen[0].path, "eth>ipv4>ipv4>udp");
  EXPECT_EQ(h.seen[0].source, "1.1.1.1");
  EXPECT_EQ(h.seen[1].path, "eth>ipv4>ipv6>udp");
  EXPECT_EQ(h.seen[2].path, "eth>ipv6>ipv4>udp");
}

TEST(TraceTunnels, NullEspWithBothIcvLengths) {
  for (std::size_t icv : {12u, 16u}) {
    Harness h;
    h.eth_v4(ipv4(kA, kB, 50, esp_null(17, udp(5064, 6100, kInvite), icv)));
    h.eth_v4(ipv4(kA, kB, 50, esp_null(6, tcp(5064, 6100, 1, sip_response(200, 1)), icv)));
    ASSERT_EQ(h.seen.size(), 2u) << icv;
    EXPECT_EQ(h.seen[0].path, "eth>ipv4>esp>udp");
    EXPECT_TRUE(h.seen[0].flags & kFromEsp);
    EXPECT_EQ(h.seen[1].path, "eth>ipv4>esp>tcp");
  }
  Harness enc;
  std::mt19937 rng(7);
  std::string random(300, '\0');
  for (char& c : random) c = static_cast<char>(rng());
  random[random.size() - 14] = 0x33;  // an implausible pad length
  enc.eth_v4(ipv4(kA, kB, 50, random));
  EXPECT_EQ(enc.skipped(SkipReason::EspNotNullEncrypted), 1u);
}

TEST(TraceTunnels, GreWithErspanAndIp) {
  const std::string inner_frame = ethernet(0x0800, ipv4({1, 1, 1, 1}, {2, 2, 2, 2}, 17, kUdpInvite));
  // ERSPAN II: GRE with sequence number, 8-byte ERSPAN header.
  std::string gre2 = bytes({0x10, 0x00, 0x88, 0xBE, 0, 0, 0, 1});
  gre2 += bytes({0x10, 0x01, 0, 0, 0, 0, 0, 0}) + inner_frame;
  // ERSPAN III with the platform subheader (O bit), frame type Ethernet.
  std::string gre3 = bytes({0x10, 0x00, 0x22, 0xEB, 0, 0, 0, 1});
  gre3 += bytes({0x20, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01}) + std::string(8, '\0') + inner_frame;
  std::string gre_ip = bytes({0x00, 0x00, 0x08, 0x00}) + ipv4({1, 1, 1, 1}, {2, 2, 2, 2}, 17, kUdpInvite);
  Harness h;
  h.eth_v4(ipv4(kA, kB, 47, gre2));
  h.eth_v4(ipv4(kA, kB, 47, gre3));
  h.eth_v4(ipv4(kA, kB, 47, gre_ip));
  ASSERT_EQ(h.seen.size(), 3u);
  EXPECT_EQ(h.seen[0].path, "eth>ipv4>gre>erspan>eth>ipv4>udp");
  EXPECT_EQ(h.seen[1].path, "eth>ipv4>gre>erspan>eth>ipv4>udp");
  EXPECT_EQ(h.seen[2].path, "eth>ipv4>gre>ipv4>udp");
}

TEST(TraceTunnels, Hep3CarriesItsOwnAddressesAndTime) {
  auto chunk = [](std::uint16_t type, std::string_view value) {
    std::string c;
    put16(c, 0);
    put16(c, type);
    put16(c, static_cast<std::uint16_t>(6 + value.size()));
    c.append(value);
    return c;
  };
  std::string port_a, port_b, sec, usec;
  put16(port_a, 5070);
  put16(port_b, 5080);
  put32(sec, 1'600'000'000);
  put32(usec, 250'000);
  std::string body = chunk(1, bytes({2})) + chunk(2, bytes({17})) + chunk(3, bytes({9, 9, 9, 9})) +
                     chunk(4, bytes({8, 8, 8, 8})) + chunk(7, port_a) + chunk(8, port_b) + chunk(9, sec) +
                     chunk(10, usec) + chunk(11, bytes({1})) + chunk(15, kInvite);
  std::string hep = "HEP3";
  put16(hep, static_cast<std::uint16_t>(6 + body.size()));
  hep += body;
  Harness h;
  h.eth_v4(ipv4(kA, kB, 17, udp(40000, 9060, hep)));
  ASSERT_EQ(h.seen.size(), 1u);
  EXPECT_EQ(h.seen[0].source, "9.9.9.9");
  EXPECT_EQ(h.seen[0].destination_port, 5080);
  EXPECT_EQ(h.seen[0].timestamp_ns, 1'600'000'000'250'000'000);
  EXPECT_EQ(h.seen[0].path, "eth>ipv4>udp>hep3");
  EXPECT_TRUE(h.seen[0].flags & kFromHep);
}

// --- SCTP ---------------------------------------------------------------------------

TEST(TraceSctp, DataChunksAreMessages) {
  Harness h;
  const std::string two = sctp_data_chunk(10, 0, 0x03, kInvite) + sctp_data_chunk(11, 1, 0x03, sip_response(100, 1));
  h.eth_v4(ipv4(kA, kB, 132, sctp(5060, 5060, two)));
  // A message in three pieces (B, middle, E).
  const std::string bye = sip_request("BYE", 2);
  h.eth_v4(ipv4(kA, kB, 132, sctp(5060, 5060, sctp_data_chunk(20, 0, 0x02, bye.substr(0, 50)))));
  h.eth_v4(ipv4(kA, kB, 132, sctp(5060, 5060, sctp_data_chunk(21, 0, 0x00, bye.substr(50, 50)))));
  h.eth_v4(ipv4(kA, kB, 132, sctp(5060, 5060, sctp_data_chunk(22, 0, 0x01, bye.substr(100)))));
  // SACK only.
  h.eth_v4(ipv4(kA, kB, 132, sctp(5060, 5060, bytes({3, 0, 0, 16, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0}))));
  ASSERT_EQ(h.seen.size(), 3u);
  EXPECT_EQ(h.seen[0].transport, Transport::Sctp);
  EXPECT_EQ(h.seen[1].first_line, "SIP/2.0 100 Whatever");
  EXPECT_EQ(h.seen[2].bytes, bye);
  EXPECT_EQ(h.skipped(SkipReason::SctpNoData), 1u);
}

// --- garbage ------------------------------------------------------------------------

TEST(TraceGarbage, RandomFramesNeverCrashAndAreCounted) {
  std::mt19937 rng(1234);
  Harness h;
  const std::uint32_t links[] = {0, 1, 12, 101, 108, 113, 228, 229, 276};
  const std::string good = ethernet(0x0800, ipv4(kA, kB, 17, kUdpInvite));
  for (int i = 0; i < 20000; ++i) {
    std::string frame;
    if (i % 2 == 0) {
      frame.resize(rng() % 200);
      for (char& c : frame) c = static_cast<char>(rng());
    } else {
      // Flip a few bytes of a good frame: headers that almost parse.
      frame = good.substr(0, rng() % (good.size() + 1));
      for (int k = 0; k < 3 && !frame.empty(); ++k) frame[rng() % frame.size()] = static_cast<char>(rng());
    }
    h.feed(links[rng() % std::size(links)], frame, std::int64_t{i} * 1'000'000);
  }
  h.decoder().finish();
  EXPECT_EQ(h.decoder().frames(), 20000u);
  EXPECT_GT(h.decoder().skipped().total(), 10000u);
}

}  // namespace
}  // namespace imsflow::trace
