// Hand-built packets for the capture decoder tests: each function writes one
// header in front of a payload, in network byte order, checksums left zero
// (the decoder never checks them, as captures on the sender show them unset).
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace imsflow::trace::test {

inline void put16(std::string& s, std::uint16_t v) {
  s.push_back(static_cast<char>(v >> 8));
  s.push_back(static_cast<char>(v & 0xFF));
}
inline void put32(std::string& s, std::uint32_t v) {
  put16(s, static_cast<std::uint16_t>(v >> 16));
  put16(s, static_cast<std::uint16_t>(v & 0xFFFF));
}
inline std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int v : b) s.push_back(static_cast<char>(v));
  return s;
}

using V4 = std::array<std::uint8_t, 4>;
inline constexpr V4 kA{10, 0, 0, 1};
inline constexpr V4 kB{10, 0, 0, 2};

inline std::string v6(std::uint8_t last) {
  std::string s = bytes({0x20, 0x01, 0x0d, 0xb8});
  s.append(11, '\0');
  s.push_back(static_cast<char>(last));
  return s;
}

inline std::string ipv4(V4 src, V4 dst, std::uint8_t protocol, std::string_view payload, std::uint16_t id = 1,
                        std::uint32_t fragment_offset = 0, bool more = false) {
  std::string s = bytes({0x45, 0});
  put16(s, static_cast<std::uint16_t>(20 + payload.size()));
  put16(s, id);
  put16(s, static_cast<std::uint16_t>((more ? 0x2000 : 0) | (fragment_offset / 8)));
  s += bytes({64, protocol, 0, 0});
  for (auto b : src) s.push_back(static_cast<char>(b));
  for (auto b : dst) s.push_back(static_cast<char>(b));
  s.append(payload);
  return s;
}

/// `payload` starts with whatever `next` names (extension headers included).
inline std::string ipv6(std::uint8_t src_last, std::uint8_t dst_last, std::uint8_t next, std::string_view payload) {
  std::string s = bytes({0x60, 0, 0, 0});
  put16(s, static_cast<std::uint16_t>(payload.size()));
  s += bytes({next, 64});
  s += v6(src_last);
  s += v6(dst_last);
  s.append(payload);
  return s;
}

inline std::string ipv6_fragment_header(std::uint8_t next, std::uint32_t id, std::uint32_t offset, bool more) {
  std::string s = bytes({next, 0});
  put16(s, static_cast<std::uint16_t>(offset | (more ? 1 : 0)));
  put32(s, id);
  return s;
}

inline std::string udp(std::uint16_t sport, std::uint16_t dport, std::string_view payload) {
  std::string s;
  put16(s, sport);
  put16(s, dport);
  put16(s, static_cast<std::uint16_t>(8 + payload.size()));
  put16(s, 0);
  s.append(payload);
  return s;
}

enum TcpFlag : std::uint8_t { kFin = 1, kSyn = 2, kRst = 4, kPsh = 8, kAck = 16 };

inline std::string tcp(std::uint16_t sport, std::uint16_t dport, std::uint32_t seq, std::string_view payload,
                       std::uint8_t flags = kPsh | kAck) {
  std::string s;
  put16(s, sport);
  put16(s, dport);
  put32(s, seq);
  put32(s, 1);
  s += bytes({0x50, flags});
  put16(s, 65535);
  put32(s, 0);
  s.append(payload);
  return s;
}

inline std::string ethernet(std::uint16_t type, std::string_view payload) {
  std::string s = bytes({2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1});
  put16(s, type);
  s.append(payload);
  return s;
}

/// A VLAN tag's body (TCI, then the inner ethertype); the tag's own TPID is
/// the ethertype the enclosing header gives.
inline std::string vlan(std::uint16_t id, std::uint16_t inner_type, std::string_view payload) {
  std::string s;
  put16(s, id);
  put16(s, inner_type);
  s.append(payload);
  return s;
}

inline std::string gtpu(std::uint32_t teid, std::string_view inner, bool extension) {
  std::string body;
  if (extension) {
    // Sequence number, N-PDU number, next extension type = PDU session container (0x85).
    body += bytes({0, 0, 0, 0x85});
    body += bytes({1, 0x10, 0x09, 0});  // one 4-byte extension, next type 0
  }
  body.append(inner);
  std::string s = bytes({extension ? 0x34 : 0x30, 0xFF});
  put16(s, static_cast<std::uint16_t>(body.size()));
  put32(s, teid);
  return s + body;
}

/// ESP with null encryption: SPI, sequence, payload, RFC 4303 padding to 4
/// bytes, pad length, next header, then an ICV of `icv` bytes.
inline std::string esp_null(std::uint8_t next, std::string_view inner, std::size_t icv) {
  std::string s;
  put32(s, 0x1234);
  put32(s, 7);
  s.append(inner);
  const std::size_t pad = (4 - (inner.size() + 2) % 4) % 4;
  for (std::size_t i = 1; i <= pad; ++i) s.push_back(static_cast<char>(i));
  s.push_back(static_cast<char>(pad));
  s.push_back(static_cast<char>(next));
  s.append(icv, '\xAB');
  return s;
}

inline std::string sctp_data_chunk(std::uint32_t tsn, std::uint16_t stream, std::uint8_t flags,
                                   std::string_view data) {
  std::string s = bytes({0, flags});
  put16(s, static_cast<std::uint16_t>(16 + data.size()));
  put32(s, tsn);
  put16(s, stream);
  put16(s, 0);
  put32(s, 0);
  s.append(data);
  while (s.size() % 4) s.push_back('\0');
  return s;
}

inline std::string sctp(std::uint16_t sport, std::uint16_t dport, std::string_view chunks) {
  std::string s;
  put16(s, sport);
  put16(s, dport);
  put32(s, 0xCAFE);
  put32(s, 0);
  s.append(chunks);
  return s;
}

inline std::string sip_request(std::string_view method, int cseq, std::string_view call_id = "call-1@test") {
  std::string m;
  m += std::string(method) + " sip:bob@example.com SIP/2.0\r\n";
  m += "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-" + std::to_string(cseq) + "\r\n";
  m += "Max-Forwards: 70\r\n";
  m += "From: <sip:alice@example.com>;tag=a1\r\n";
  m += "To: <sip:bob@example.com>\r\n";
  m += "Call-ID: " + std::string(call_id) + "\r\n";
  m += "CSeq: " + std::to_string(cseq) + " " + std::string(method) + "\r\n";
  m += "Content-Length: 0\r\n\r\n";
  return m;
}

inline std::string sip_response(int code, int cseq, std::string_view method = "INVITE") {
  std::string m = "SIP/2.0 " + std::to_string(code) + " Whatever\r\n";
  m += "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-" + std::to_string(cseq) + "\r\n";
  m += "From: <sip:alice@example.com>;tag=a1\r\n";
  m += "To: <sip:bob@example.com>;tag=b1\r\n";
  m += "Call-ID: call-1@test\r\n";
  m += "CSeq: " + std::to_string(cseq) + " " + std::string(method) + "\r\n";
  m += "Content-Length: 0\r\n\r\n";
  return m;
}

}  // namespace imsflow::trace::test
