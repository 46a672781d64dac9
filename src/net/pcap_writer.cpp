#include "net/pcap_writer.hpp"

#include <cerrno>
#include <cstring>

namespace imsflow::net {
namespace {

constexpr std::size_t kEthernetHeader = 14;
constexpr std::size_t kIpv4Header = 20;
constexpr std::size_t kIpv6Header = 40;
constexpr std::size_t kUdpHeader = 8;
constexpr std::size_t kTcpHeader = 20;
constexpr std::uint8_t kProtoTcp = 6;
constexpr std::uint8_t kProtoUdp = 17;
constexpr std::uint8_t kTcpPsh = 0x08;
constexpr std::uint8_t kTcpAck = 0x10;
constexpr std::uint32_t kSnapLength = 65535;  // above the largest frame we write

void put_le16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8);
}
void put_le32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
void put_be16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
void put_be32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
}

/// RFC 1071 one's-complement sum of 16-bit big-endian words, not yet folded.
std::uint64_t sum_words(const std::uint8_t* p, std::size_t n, std::uint64_t sum = 0) {
  for (; n >= 2; p += 2, n -= 2) sum += static_cast<std::uint64_t>(p[0] << 8 | p[1]);
  if (n) sum += static_cast<std::uint64_t>(p[0] << 8);  // odd length: pad with a zero byte
  return sum;
}

std::uint16_t fold(std::uint64_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xffff);
}

/// Sum of the IPv4 or IPv6 pseudo header that UDP and TCP checksums cover.
std::uint64_t pseudo_header_sum(const sip::IpAddress& src, const sip::IpAddress& dst, std::uint8_t proto,
                                std::uint32_t length) {
  const std::size_t n = src.v6 ? 16 : 4;
  std::uint64_t sum = sum_words(src.bytes.data(), n);
  sum = sum_words(dst.bytes.data(), n, sum);
  sum += proto;
  sum += length >> 16;
  sum += length & 0xffff;
  return sum;
}

void put_mac(std::uint8_t* p, const sip::IpAddress& ip) {
  // Locally administered unicast (02:…); the tail names the host.
  const std::size_t tail = ip.v6 ? 12 : 0;
  p[0] = 0x02;
  p[1] = 0x00;
  std::memcpy(p + 2, ip.bytes.data() + tail, 4);
}

}  // namespace

std::string PcapError::describe() const {
  switch (code) {
    case PcapErrorCode::OpenFailed: return "cannot open " + detail;
    case PcapErrorCode::WriteFailed: return "cannot write the capture: " + detail;
    case PcapErrorCode::NotOpen: return "no capture file is open";
    case PcapErrorCode::PayloadTooLarge: return "payload of " + detail + " bytes is above the 65000-byte limit";
    case PcapErrorCode::FamilyMismatch: return "source and destination differ in IP version: " + detail;
    case PcapErrorCode::TimestampOutOfRange: return "timestamp outside 1970..2106: " + detail;
  }
  return "pcap error";
}

PcapStatus PcapWriter::open(const std::filesystem::path& path) {
  file_.reset();
  next_seq_.clear();
  ipv4_id_ = 0;
  frames_ = 0;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return Unexpected{PcapError{PcapErrorCode::OpenFailed, path.string() + ": " + std::strerror(errno)}};
  file_.reset(f);
  path_ = path;

  std::uint8_t header[24];
  put_le32(header, 0xa1b2c3d4);  // microsecond timestamps
  put_le16(header + 4, 2);       // version 2.4
  put_le16(header + 6, 4);
  put_le32(header + 8, 0);       // thiszone: timestamps are UTC
  put_le32(header + 12, 0);      // sigfigs
  put_le32(header + 16, kSnapLength);
  put_le32(header + 20, kLinkType);
  if (std::fwrite(header, 1, sizeof header, f) != sizeof header) {
    file_.reset();
    return Unexpected{PcapError{PcapErrorCode::WriteFailed, path.string() + ": " + std::strerror(errno)}};
  }
  return std::monostate{};
}

PcapStatus PcapWriter::write(const sip::Endpoint& src, const sip::Endpoint& dst, std::string_view payload,
                             std::chrono::system_clock::time_point timestamp) {
  return write(src, dst, payload,
               std::chrono::duration_cast<std::chrono::nanoseconds>(timestamp.time_since_epoch()));
}

PcapStatus PcapWriter::write(const sip::Endpoint& src, const sip::Endpoint& dst, std::string_view payload,
                             std::chrono::nanoseconds since_epoch) {
  if (!file_) return Unexpected{PcapError{PcapErrorCode::NotOpen, {}}};
  if (payload.size() > kMaxPayload)
    return Unexpected{PcapError{PcapErrorCode::PayloadTooLarge, std::to_string(payload.size())}};
  if (src.address.v6 != dst.address.v6)
    return Unexpected{PcapError{PcapErrorCode::FamilyMismatch, src.to_string() + " -> " + dst.to_string()}};
  const auto micros = std::chrono::floor<std::chrono::microseconds>(since_epoch).count();
  constexpr std::int64_t kMaxMicros = (std::int64_t{1} << 32) * 1000000 - 1;
  if (micros < 0 || micros > kMaxMicros)
    return Unexpected{PcapError{PcapErrorCode::TimestampOutOfRange, std::to_string(since_epoch.count()) + " ns"}};

  const bool v6 = src.address.v6;
  const bool tcp = sip::is_reliable(dst.transport);
  const std::size_t ip_header = v6 ? kIpv6Header : kIpv4Header;
  const std::size_t l4_header = tcp ? kTcpHeader : kUdpHeader;
  const std::size_t l4_length = l4_header + payload.size();
  const std::size_t frame_length = kEthernetHeader + ip_header + l4_length;

  frame_.assign(16 + frame_length, 0);
  std::uint8_t* record = frame_.data();
  put_le32(record, static_cast<std::uint32_t>(micros / 1000000));
  put_le32(record + 4, static_cast<std::uint32_t>(micros % 1000000));
  put_le32(record + 8, static_cast<std::uint32_t>(frame_length));
  put_le32(record + 12, static_cast<std::uint32_t>(frame_length));

  std::uint8_t* eth = record + 16;
  put_mac(eth, dst.address);
  put_mac(eth + 6, src.address);
  put_be16(eth + 12, v6 ? 0x86dd : 0x0800);

  const std::uint8_t proto = tcp ? kProtoTcp : kProtoUdp;
  std::uint8_t* ip = eth + kEthernetHeader;
  if (v6) {
    ip[0] = 0x60;  // version 6, traffic class and flow label 0
    put_be16(ip + 4, static_cast<std::uint16_t>(l4_length));
    ip[6] = proto;
    ip[7] = 64;  // hop limit
    std::memcpy(ip + 8, src.address.bytes.data(), 16);
    std::memcpy(ip + 24, dst.address.bytes.data(), 16);
  } else {
    ip[0] = 0x45;  // version 4, 20-byte header
    put_be16(ip + 2, static_cast<std::uint16_t>(kIpv4Header + l4_length));
    put_be16(ip + 4, ipv4_id_);
    ip[8] = 64;  // TTL
    ip[9] = proto;
    std::memcpy(ip + 12, src.address.bytes.data(), 4);
    std::memcpy(ip + 16, dst.address.bytes.data(), 4);
    put_be16(ip + 10, fold(sum_words(ip, kIpv4Header)));
  }

  std::uint8_t* l4 = ip + ip_header;
  put_be16(l4, src.port);
  put_be16(l4 + 2, dst.port);
  std::uint8_t* checksum_at;
  std::uint32_t seq = 0;
  Direction forward, reverse;
  if (tcp) {
    forward = {v6, src.address.bytes, src.port, dst.address.bytes, dst.port};
    reverse = {v6, dst.address.bytes, dst.port, src.address.bytes, src.port};
    auto [it, fresh] = next_seq_.try_emplace(forward, 1u);
    seq = it->second;
    const auto back = next_seq_.find(reverse);
    put_be32(l4 + 4, seq);
    put_be32(l4 + 8, back == next_seq_.end() ? 1u : back->second);  // all the peer has sent so far
    l4[12] = 5 << 4;                                                 // 20-byte header, no options
    l4[13] = kTcpPsh | kTcpAck;
    put_be16(l4 + 14, 65535);  // window
    checksum_at = l4 + 16;
  } else {
    put_be16(l4 + 4, static_cast<std::uint16_t>(l4_length));
    checksum_at = l4 + 6;
  }
  std::memcpy(l4 + l4_header, payload.data(), payload.size());
  std::uint16_t checksum = fold(sum_words(
      l4, l4_length, pseudo_header_sum(src.address, dst.address, proto, static_cast<std::uint32_t>(l4_length))));
  if (!tcp && checksum == 0) checksum = 0xffff;  // 0 would mean "no checksum" for UDP (RFC 768)
  put_be16(checksum_at, checksum);

  if (std::fwrite(frame_.data(), 1, frame_.size(), file_.get()) != frame_.size())
    return Unexpected{PcapError{PcapErrorCode::WriteFailed, path_.string() + ": " + std::strerror(errno)}};
  // Counters move only once the frame is in the file.
  if (tcp) next_seq_[forward] = seq + static_cast<std::uint32_t>(payload.size());
  if (!v6) ++ipv4_id_;
  ++frames_;
  return std::monostate{};
}

PcapStatus PcapWriter::flush() {
  if (!file_) return Unexpected{PcapError{PcapErrorCode::NotOpen, {}}};
  if (std::fflush(file_.get()) != 0)
    return Unexpected{PcapError{PcapErrorCode::WriteFailed, path_.string() + ": " + std::strerror(errno)}};
  return std::monostate{};
}

PcapStatus PcapWriter::close() {
  if (!file_) return Unexpected{PcapError{PcapErrorCode::NotOpen, {}}};
  const int rc = std::fclose(file_.release());
  if (rc != 0) return Unexpected{PcapError{PcapErrorCode::WriteFailed, path_.string() + ": " + std::strerror(errno)}};
  return std::monostate{};
}

}  // namespace imsflow::net
