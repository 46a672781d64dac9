// PcapWriter: writes SIP messages as a classic libpcap capture (not pcapng)
// that Wireshark, tshark and tcpdump open as is, without libpcap here.
//
// Format: pcap 2.4, microsecond timestamps, every header field little-endian
// (magic a1b2c3d4 read little-endian), so a file is byte-identical on any host.
// Link type Ethernet (1): each frame gets made-up, locally administered MAC
// addresses derived from the IP address (02:00:<last four address bytes>), so
// every host keeps one MAC across the capture.
//
// UDP (IPv4 and IPv6): one datagram per message, UDP checksum computed for
// both families (mandatory for IPv6, RFC 8200 §8.1). TCP and TLS: one PSH|ACK
// segment per message with a sequence number that continues per direction of
// the connection (the 4-tuple), starting at 1, so Wireshark reassembles a
// message split across segments and frames consecutive ones. No handshake is
// written; TLS is written as clear text, as a decrypted capture would show it.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <variant>
#include <vector>

#include "sip/endpoint.hpp"
#include "util/result.hpp"

namespace imsflow::net {

enum class PcapErrorCode : std::uint8_t {
  OpenFailed,        // fopen failed (detail has the OS reason)
  WriteFailed,       // fwrite/fflush failed (disk full, closed descriptor …)
  NotOpen,           // write() before a successful open()
  PayloadTooLarge,   // more than PcapWriter::kMaxPayload bytes
  FamilyMismatch,    // source IPv4 and destination IPv6, or the reverse
  TimestampOutOfRange,  // before 1970 or past 2106 (32-bit pcap seconds)
};

struct PcapError {
  PcapErrorCode code = PcapErrorCode::NotOpen;
  std::string detail;  // the path, the OS message, or the size at fault
  /// One sentence, e.g. "cannot open /x/y.pcap: No such file or directory".
  std::string describe() const;
};

/// Success carries nothing; failures carry a PcapError.
using PcapStatus = Result<std::monostate, PcapError>;

class PcapWriter {
 public:
  /// Ethernet; the frames carry IPv4 or IPv6 as their ethertype says.
  static constexpr std::uint32_t kLinkType = 1;
  /// A SIP message is far smaller; the cap keeps IPv4 total length in 16 bits
  /// with room for headers (UDP's own limit over IPv4 is 65,507).
  static constexpr std::size_t kMaxPayload = 65000;

  PcapWriter() = default;
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;
  PcapWriter(PcapWriter&&) noexcept = default;
  PcapWriter& operator=(PcapWriter&&) noexcept = default;
  ~PcapWriter() = default;  // the file handle closes itself (buffer flushed)

  /// Creates or truncates `path` and writes the global header. Reopening
  /// closes the previous file and forgets the TCP sequence numbers.
  PcapStatus open(const std::filesystem::path& path);
  bool is_open() const noexcept { return file_ != nullptr; }

  /// Appends one frame carrying `payload` from `src` to `dst` over
  /// `dst.transport`. `timestamp` is cut to microseconds. Nothing is written
  /// when an error is returned.
  PcapStatus write(const sip::Endpoint& src, const sip::Endpoint& dst, std::string_view payload,
                   std::chrono::system_clock::time_point timestamp);
  /// The same with the timestamp in nanoseconds since 1970-01-01 UTC.
  PcapStatus write(const sip::Endpoint& src, const sip::Endpoint& dst, std::string_view payload,
                   std::chrono::nanoseconds since_epoch);

  /// Pushes buffered frames to the OS, so a reader sees them while writing goes on.
  PcapStatus flush();
  /// Flushes and closes; further writes fail with NotOpen.
  PcapStatus close();

  std::uint64_t frames_written() const noexcept { return frames_; }

 private:
  struct FileCloser {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
  };
  // One direction of a TCP connection: source and destination address and port.
  using Direction = std::tuple<bool, std::array<std::uint8_t, 16>, std::uint16_t, std::array<std::uint8_t, 16>,
                               std::uint16_t>;

  std::unique_ptr<std::FILE, FileCloser> file_;
  std::filesystem::path path_;
  std::map<Direction, std::uint32_t> next_seq_;  // the next TCP sequence number per direction
  std::uint16_t ipv4_id_ = 0;                    // IPv4 identification, one per frame
  std::uint64_t frames_ = 0;
  std::vector<std::uint8_t> frame_;  // reused for every record
};

}  // namespace imsflow::net
