// PcapWriter: every file is read back here, byte by byte (global header,
// record headers, Ethernet, IPv4/IPv6, UDP/TCP with their checksums), and,
// when tshark is installed, by Wireshark's own dissectors as well.
#include "net/pcap_writer.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace imsflow::net {
namespace {

namespace fs = std::filesystem;
using sip::Endpoint;
using sip::IpAddress;
using sip::Transport;

constexpr std::string_view kInvite =
    "INVITE sip:bob@ims.example.net SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK776asdhds\r\n"
    "Max-Forwards: 70\r\n"
    "To: <sip:bob@ims.example.net>\r\n"
    "From: <sip:alice@ims.example.net>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@10.0.0.1\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:alice@10.0.0.1:5060>\r\n"
    "Content-Length: 0\r\n"
    "\r\n";
// 0 body bytes and an odd total length, to exercise the checksum's pad byte.
constexpr std::string_view kOk =
    "SIP/2.0 200 OK\r\n"
    "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK776asdhds\r\n"
    "To: <sip:bob@ims.example.net>;tag=a6c85cf\r\n"
    "From: <sip:alice@ims.example.net>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@10.0.0.1\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Content-Length: 0\r\n"
    "\r\n!";

/// 2026-01-01 00:00:00 UTC, plus 1.234567891 s.
constexpr std::chrono::nanoseconds kWhen = std::chrono::seconds(1767225600) + std::chrono::nanoseconds(1234567891);

Endpoint ep(const char* text, Transport t = Transport::Udp) { return *Endpoint::parse(text, t); }

/// A file in the temporary folder named after the running test, removed at the end.
class TempPath {
 public:
  TempPath() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() /
            ("imsflow_pcap_" + std::string(info->name()) + "_" + std::to_string(::getpid()) + ".pcap");
  }
  ~TempPath() {
    std::error_code ignored;
    fs::remove(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::vector<std::uint8_t> read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::uint32_t le32(const std::uint8_t* p) {
  return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24;
}
std::uint16_t le16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] | p[1] << 8); }
std::uint16_t be16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
std::uint32_t be32(const std::uint8_t* p) {
  return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | std::uint32_t(p[3]);
}

/// The 16-bit one's-complement sum (RFC 1071), folded but not inverted.
/// Over data that includes a correct checksum it comes to 0xffff.
std::uint32_t ones_sum(const std::uint8_t* p, std::size_t n, std::uint32_t sum = 0) {
  for (std::size_t i = 0; i + 1 < n; i += 2) sum += std::uint32_t(p[i]) << 8 | p[i + 1];
  if (n % 2) sum += std::uint32_t(p[n - 1]) << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return sum;
}

struct Frame {
  std::uint32_t ts_sec = 0, ts_usec = 0, incl = 0, orig = 0;
  std::vector<std::uint8_t> bytes;  // from the Ethernet header on
};

struct Capture {
  std::uint32_t magic = 0, snaplen = 0, link_type = 0;
  std::uint16_t major = 0, minor = 0;
  std::vector<Frame> frames;
};

/// Reads a classic little-endian pcap; fails the test on any inconsistency.
Capture read_capture(const fs::path& p) {
  Capture c;
  const auto data = read_bytes(p);
  EXPECT_GE(data.size(), 24u);
  if (data.size() < 24) return c;
  c.magic = le32(&data[0]);
  c.major = le16(&data[4]);
  c.minor = le16(&data[6]);
  c.snaplen = le32(&data[16]);
  c.link_type = le32(&data[20]);
  std::size_t at = 24;
  while (at < data.size()) {
    EXPECT_LE(at + 16, data.size()) << "truncated record header";
    if (at + 16 > data.size()) break;
    Frame f;
    f.ts_sec = le32(&data[at]);
    f.ts_usec = le32(&data[at + 4]);
    f.incl = le32(&data[at + 8]);
    f.orig = le32(&data[at + 12]);
    at += 16;
    EXPECT_LE(at + f.incl, data.size()) << "truncated record";
    if (at + f.incl > data.size()) break;
    f.bytes.assign(data.begin() + static_cast<std::ptrdiff_t>(at), data.begin() + static_cast<std::ptrdiff_t>(at + f.incl));
    at += f.incl;
    c.frames.push_back(std::move(f));
  }
  return c;
}

/// One frame taken apart down to the transport payload.
struct Decoded {
  bool v6 = false;
  std::uint8_t proto = 0;
  std::array<std::uint8_t, 16> src{}, dst{};
  std::uint16_t sport = 0, dport = 0;
  std::uint16_t ip_id = 0;
  std::uint8_t ttl = 0;
  bool ip_checksum_ok = true;  // IPv6 has none
  bool l4_checksum_ok = false;
  std::uint16_t l4_checksum = 0;
  std::uint16_t udp_length = 0;
  std::uint32_t seq = 0, ack = 0;
  std::uint8_t tcp_flags = 0, tcp_offset = 0;
  std::string payload;
};

Decoded decode(const Frame& f) {
  Decoded d;
  const std::uint8_t* p = f.bytes.data();
  const std::size_t n = f.bytes.size();
  EXPECT_GE(n, 14u + 20u + 8u);
  const std::uint16_t ethertype = be16(p + 12);
  const std::uint8_t* ip = p + 14;
  std::size_t ip_len;
  std::size_t l4_len;
  std::uint32_t pseudo;
  if (ethertype == 0x86dd) {
    d.v6 = true;
    EXPECT_EQ(ip[0] >> 4, 6);
    ip_len = 40;
    l4_len = be16(ip + 4);
    d.proto = ip[6];
    d.ttl = ip[7];
    std::copy_n(ip + 8, 16, d.src.begin());
    std::copy_n(ip + 24, 16, d.dst.begin());
    pseudo = ones_sum(ip + 8, 32);
    pseudo += static_cast<std::uint32_t>(l4_len) + d.proto;
  } else {
    EXPECT_EQ(ethertype, 0x0800);
    EXPECT_EQ(ip[0], 0x45);
    ip_len = 20;
    const std::uint16_t total = be16(ip + 2);
    EXPECT_EQ(total, n - 14) << "IPv4 total length";
    l4_len = total - ip_len;
    d.ip_id = be16(ip + 4);
    d.ttl = ip[8];
    d.proto = ip[9];
    d.ip_checksum_ok = ones_sum(ip, 20) == 0xffff;
    std::copy_n(ip + 12, 4, d.src.begin());
    std::copy_n(ip + 16, 4, d.dst.begin());
    pseudo = ones_sum(ip + 12, 8);
    pseudo += static_cast<std::uint32_t>(l4_len) + d.proto;
  }
  EXPECT_EQ(14 + ip_len + l4_len, n) << "IP length against the record length";
  const std::uint8_t* l4 = ip + ip_len;
  d.sport = be16(l4);
  d.dport = be16(l4 + 2);
  std::size_t header;
  if (d.proto == 17) {
    d.udp_length = be16(l4 + 4);
    d.l4_checksum = be16(l4 + 6);
    header = 8;
  } else {
    EXPECT_EQ(d.proto, 6);
    d.seq = be32(l4 + 4);
    d.ack = be32(l4 + 8);
    d.tcp_offset = l4[12] >> 4;
    d.tcp_flags = l4[13];
    d.l4_checksum = be16(l4 + 16);
    header = 20;
  }
  d.l4_checksum_ok = ones_sum(l4, l4_len, pseudo) == 0xffff;
  d.payload.assign(reinterpret_cast<const char*>(l4 + header), l4_len - header);
  return d;
}

std::array<std::uint8_t, 16> bytes_of(const char* ip) { return IpAddress::parse(ip)->bytes; }

TEST(PcapWriter, GlobalHeaderIsClassicLittleEndianEthernet) {
  TempPath tmp;
  PcapWriter w;
  ASSERT_TRUE(w.open(tmp.path()));
  ASSERT_TRUE(w.close());
  const auto data = read_bytes(tmp.path());
  ASSERT_EQ(data.size(), 24u);
  EXPECT_EQ(data[0], 0xd4);
  EXPECT_EQ(data[1], 0xc3);
  EXPECT_EQ(data[2], 0xb2);
  EXPECT_EQ(data[3], 0xa1);
  const Capture c = read_capture(tmp.path());
  EXPECT_EQ(c.magic, 0xa1b2c3d4u);
  EXPECT_EQ(c.major, 2);
  EXPECT_EQ(c.minor, 4);
  EXPECT_EQ(c.link_type, 1u);
  EXPECT_GE(c.snaplen, 14u + 40u + 20u + PcapWriter::kMaxPayload);
  EXPECT_TRUE(c.frames.empty());
}

TEST(PcapWriter, UdpOverIpv4HasCorrectHeadersAndChecksums) {
  TempPath tmp;
  PcapWriter w;
  ASSERT_TRUE(w.open(tmp.path()));
  ASSERT_TRUE(w.write(ep("10.0.0.1:5060"), ep("10.0.0.2:5070"), kInvite, kWhen));
  ASSERT_TRUE(w.write(ep("10.0.0.2:5070"), ep("10.0.0.1:5060"), kOk, kWhen + std::chrono::milliseconds(20)));
  EXPECT_EQ(w.frames_written(), 2u);
  ASSERT_TRUE(w.flush());

  const Capture c = read_capture(tmp.path());
  ASSERT_EQ(c.frames.size(), 2u);
  const Frame& f = c.frames[0];
  EXPECT_EQ(f.ts_sec, 1767225601u);
  EXPECT_EQ(f.ts_usec, 234567u);  // cut, not rounded, to microseconds
  EXPECT_EQ(f.incl, 14 + 20 + 8 + kInvite.size());
  EXPECT_EQ(f.orig, f.incl);
  // Made-up MACs name the hosts: 02:00 + the IPv4 address.
  const std::array<std::uint8_t, 6> dst_mac{0x02, 0x00, 10, 0, 0, 2}, src_mac{0x02, 0x00, 10, 0, 0, 1};
  EXPECT_TRUE(std::equal(dst_mac.begin(), dst_mac.end(), f.bytes.begin()));
  EXPECT_TRUE(std::equal(src_mac.begin(), src_mac.end(), f.bytes.begin() + 6));

  const Decoded d = decode(f);
  EXPECT_FALSE(d.v6);
  EXPECT_EQ(d.proto, 17);
  EXPECT_EQ(d.ttl, 64);
  EXPECT_TRUE(d.ip_checksum_ok);
  EXPECT_TRUE(std::equal(d.src.begin(), d.src.begin() + 4, bytes_of("10.0.0.1").begin()));
  EXPECT_TRUE(std::equal(d.dst.begin(), d.dst.begin() + 4, bytes_of("10.0.0.2").begin()));
  EXPECT_EQ(d.sport, 5060);
  EXPECT_EQ(d.dport, 5070);
  EXPECT_EQ(d.udp_length, 8 + kInvite.size());
  EXPECT_NE(d.l4_checksum, 0);
  EXPECT_TRUE(d.l4_checksum_ok);
  EXPECT_EQ(d.payload, kInvite);

  const Frame& g = c.frames[1];
  EXPECT_EQ(g.ts_sec, 1767225601u);
  EXPECT_EQ(g.ts_usec, 254567u);
  const Decoded e = decode(g);
  EXPECT_TRUE(e.ip_checksum_ok);
  EXPECT_TRUE(e.l4_checksum_ok);  // odd payload length: padded sum
  EXPECT_EQ(e.sport, 5070);
  EXPECT_EQ(e.payload, kOk);
  EXPECT_EQ(e.ip_id, d.ip_id + 1);  // one identification per datagram
}

TEST(PcapWriter, UdpOverIpv6HasMandatoryChecksum) {
  TempPath tmp;
  PcapWriter w;
  ASSERT_TRUE(w.open(tmp.path()));
  ASSERT_TRUE(w.write(ep("[2001:db8::1]:5060"), ep("[2001:db8:0:1::20]:5060"), kOk, kWhen));
  ASSERT_TRUE(w.close());

  const Capture c = read_capture(tmp.path());
  ASSERT_EQ(c.frames.size(), 1u);
  EXPECT_EQ(c.frames[0].incl, 14 + 40 + 8 + kOk.size());
  EXPECT_EQ(be16(c.frames[0].bytes.data() + 12), 0x86dd);
  const Decoded d = decode(c.frames[0]);
  EXPECT_TRUE(d.v6);
  EXPECT_EQ(d.proto, 17);
  EXPECT_EQ(d.ttl, 64);
  EXPECT_EQ(d.src, bytes_of("2001:db8::1"));
  EXPECT_EQ(d.dst, bytes_of("2001:db8:0:1::20"));
  EXPECT_EQ(d.udp_length, 8 + kOk.size());
  EXPECT_NE(d.l4_checksum, 0);
  EXPECT_TRUE(d.l4_checksum_ok);
  EXPECT_EQ(d.payload, kOk);
}

TEST(PcapWriter, TcpSequenceNumbersContinuePerDirection) {
  TempPath tmp;
  PcapWriter w;
  ASSERT_TRUE(w.open(tmp.path()));
  const Endpoint ue = ep("10.0.0.1:40000", Transport::Tcp);
  const Endpoint pcscf = ep("10.0.0.2:5060", Transport::Tcp);
  const Endpoint other = ep("10.0.0.1:40001", Transport::Tcp);  // another connection from the same host
  ASSERT_TRUE(w.write(ue, pcscf, kInvite, kWhen));
  ASSERT_TRUE(w.write(pcscf, ue, kOk, kWhen + std::chrono::milliseconds(1)));
  ASSERT_TRUE(w.write(ue, pcscf, kOk, kWhen + std::chrono::milliseconds(2)));
  ASSERT_TRUE(w.write(other, pcscf, kInvite, kWhen + std::chrono::milliseconds(3)));
  ASSERT_TRUE(w.close());

  const Capture c = read_capture(tmp.path());
  ASSERT_EQ(c.frames.size(), 4u);
  std::vector<Decoded> d;
  for (const Frame& f : c.frames) d.push_back(decode(f));
  for (const Decoded& s : d) {
    EXPECT_EQ(s.proto, 6);
    EXPECT_EQ(s.tcp_offset, 5);
    EXPECT_EQ(s.tcp_flags, 0x18) << "PSH|ACK";
    EXPECT_TRUE(s.ip_checksum_ok);
    EXPECT_TRUE(s.l4_checksum_ok);
  }
  EXPECT_EQ(d[0].seq, 1u);
  EXPECT_EQ(d[0].ack, 1u);
  EXPECT_EQ(d[1].seq, 1u);  // the other direction starts on its own
  EXPECT_EQ(d[1].ack, 1u + kInvite.size());
  EXPECT_EQ(d[2].seq, 1u + kInvite.size());  // continues where the INVITE ended
  EXPECT_EQ(d[2].ack, 1u + kOk.size());
  EXPECT_EQ(d[3].seq, 1u);  // a different 4-tuple
  EXPECT_EQ(d[3].sport, 40001);
  EXPECT_EQ(d[0].payload, kInvite);
  EXPECT_EQ(d[1].payload, kOk);
}

TEST(PcapWriter, TcpOverIpv6) {
  TempPath tmp;
  PcapWriter w;
  ASSERT_TRUE(w.open(tmp.path()));
  ASSERT_TRUE(w.write(ep("[::1]:40000", Transport::Tcp), ep("[::1]:5060", Transport::Tcp), kInvite, kWhen));
  ASSERT_TRUE(w.write(ep("[::1]:40000", Transport::Tcp), ep("[::1]:5060", Transport::Tcp), kOk, kWhen));
  ASSERT_TRUE(w.close());
  const Capture c = read_capture(tmp.path());
  ASSERT_EQ(c.frames.size(), 2u);
  const Decoded a = decode(c.frames[0]);
  const Decoded b = decode(c.frames[1]);
  EXPECT_TRUE(a.v6);
  EXPECT_EQ(a.proto, 6);
  EXPECT_TRUE(a.l4_checksum_ok);
  EXPECT_TRUE(b.l4_checksum_ok);
  EXPECT_EQ(b.seq, 1u + kInvite.size());
}

TEST(PcapWriter, RejectsOversizePayloadWithoutWriting) {
  TempPath tmp;
  PcapWriter w;
  ASSERT_TRUE(w.open(tmp.path()));
  const std::string big(PcapWriter::kMaxPayload + 1, 'x');
  auto r = w.write(ep("10.0.0.1:5060"), ep("10.0.0.2:5060"), big, kWhen);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, PcapErrorCode::PayloadTooLarge);
  EXPECT_NE(r.error().describe().find("65001"), std::string::npos) << r.error().describe();
  // The largest allowed payload still fits, over TCP/IPv6 (the biggest headers) too.
  const std::string max(PcapWriter::kMaxPayload, 'y');
  ASSERT_TRUE(w.write(ep("[::1]:1", Transport::Tcp), ep("[::1]:2", Transport::Tcp), max, kWhen));
  ASSERT_TRUE(w.close());
  const Capture c = read_capture(tmp.path());
  ASSERT_EQ(c.frames.size(), 1u);
  EXPECT_LE(c.frames[0].incl, c.snaplen);
  EXPECT_TRUE(decode(c.frames[0]).l4_checksum_ok);
}

TEST(PcapWriter, ReportsErrorsAsValues) {
  PcapWriter w;
  auto not_open = w.write(ep("10.0.0.1:5060"), ep("10.0.0.2:5060"), kOk, kWhen);
  ASSERT_FALSE(not_open);
  EXPECT_EQ(not_open.error().code, PcapErrorCode::NotOpen);
  EXPECT_FALSE(w.flush());

  auto bad_path = w.open("/nonexistent-dir-for-imsflow/x.pcap");
  ASSERT_FALSE(bad_path);
  EXPECT_EQ(bad_path.error().code, PcapErrorCode::OpenFailed);
  EXPECT_NE(bad_path.error().describe().find("/nonexistent-dir-for-imsflow/x.pcap"), std::string::npos);
  EXPECT_FALSE(w.is_open());

  TempPath tmp;
  ASSERT_TRUE(w.open(tmp.path()));
  auto mixed = w.write(ep("10.0.0.1:5060"), ep("[::1]:5060"), kOk, kWhen);
  ASSERT_FALSE(mixed);
  EXPECT_EQ(mixed.error().code, PcapErrorCode::FamilyMismatch);
  auto early = w.write(ep("10.0.0.1:5060"), ep("10.0.0.2:5060"), kOk, std::chrono::nanoseconds(-1));
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().code, PcapErrorCode::TimestampOutOfRange);
  ASSERT_TRUE(w.close());
  EXPECT_EQ(read_bytes(tmp.path()).size(), 24u) << "a rejected frame must leave nothing behind";
}

TEST(PcapWriter, SystemClockTimestampOverload) {
  TempPath tmp;
  PcapWriter w;
  ASSERT_TRUE(w.open(tmp.path()));
  const std::chrono::system_clock::time_point t{std::chrono::duration_cast<std::chrono::system_clock::duration>(kWhen)};
  ASSERT_TRUE(w.write(ep("10.0.0.1:5060"), ep("10.0.0.2:5060"), kOk, t));
  ASSERT_TRUE(w.close());
  const Capture c = read_capture(tmp.path());
  ASSERT_EQ(c.frames.size(), 1u);
  EXPECT_EQ(c.frames[0].ts_sec, 1767225601u);
  EXPECT_EQ(c.frames[0].ts_usec, 234567u);
}

/// Runs a shell command and returns its standard output.
std::string run(const std::string& command) {
  std::string out;
  std::FILE* p = ::popen(command.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

TEST(PcapWriter, TsharkReadsTheFields) {
  if (std::system("command -v tshark >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "tshark is not installed; the byte-level tests above still check the file "
                    "(apt-get install tshark to run this cross-check)";
  TempPath tmp;
  PcapWriter w;
  ASSERT_TRUE(w.open(tmp.path()));
  ASSERT_TRUE(w.write(ep("10.0.0.1:5060"), ep("10.0.0.2:5060"), kInvite, kWhen));
  ASSERT_TRUE(w.write(ep("[2001:db8::1]:5060"), ep("[2001:db8::2]:5060"), kInvite, kWhen));
  ASSERT_TRUE(w.write(ep("10.0.0.1:40000", Transport::Tcp), ep("10.0.0.2:5060", Transport::Tcp), kInvite, kWhen));
  ASSERT_TRUE(w.write(ep("10.0.0.2:5060", Transport::Tcp), ep("10.0.0.1:40000", Transport::Tcp), kOk, kWhen));
  ASSERT_TRUE(w.close());

  // Checksum validation is off by default in Wireshark; turn it on so a bad
  // checksum shows up as "bad" (status 0) rather than "unverified" (2).
  const std::string out = run(
      "tshark -n -r '" + tmp.path().string() +
      "' -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -o tcp.check_checksum:TRUE"
      " -T fields -E separator='|' -e ip.src -e ipv6.src -e udp.srcport -e tcp.srcport -e sip.Method"
      " -e sip.Status-Code -e ip.checksum.status -e udp.checksum.status -e tcp.checksum.status -e tcp.seq_raw"
      " 2>/dev/null");
  std::istringstream lines(out);
  std::vector<std::string> rows;
  for (std::string line; std::getline(lines, line);) rows.push_back(line);
  ASSERT_EQ(rows.size(), 4u) << out;
  EXPECT_EQ(rows[0], "10.0.0.1||5060||INVITE||1|1||") << out;
  EXPECT_EQ(rows[1], "|2001:db8::1|5060||INVITE|||1||") << out;
  EXPECT_EQ(rows[2], "10.0.0.1|||40000|INVITE||1||1|1") << out;
  EXPECT_EQ(rows[3], "10.0.0.2|||5060||200|1||1|1") << out;
}

}  // namespace
}  // namespace imsflow::net
