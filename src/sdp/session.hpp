// SDP session descriptions (RFC 4566, RFC 8866): a parsed Session is views
// into the body it came from; SdpWriter builds the text of a new one. The
// offer/answer and precondition rules live in their own files.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.hpp"
#include "util/small_vector.hpp"

namespace imsflow::sdp {

struct SdpError {
  std::uint32_t offset = 0;  // byte offset in the body
  std::uint32_t line = 0;    // 1-based line number
  const char* expected = "";
  std::string describe() const;
};

enum class AddressType : std::uint8_t { IP4, IP6, Other };

struct Connection {
  std::string_view net_type;   // "IN"
  std::string_view addr_type;  // "IP4" / "IP6"
  AddressType type = AddressType::Other;
  std::string_view address;    // without "/ttl"
};

struct Origin {
  std::string_view username, session_id, session_version, net_type, addr_type, address;
};

struct Bandwidth {
  std::string_view type;  // AS, CT, TIAS, RS, RR
  std::uint32_t value = 0;
};

struct Attribute {
  std::string_view name;
  std::string_view value;  // empty for a property attribute
  bool has_value = false;
};

enum class Direction : std::uint8_t { SendRecv, SendOnly, RecvOnly, Inactive };
std::string_view direction_name(Direction d);

/// a=rtpmap:<pt> <encoding>/<clock>[/<channels>]
struct RtpMap {
  int payload_type = -1;
  std::string_view encoding;
  std::uint32_t clock_rate = 0;  // 0 when the line omits it
  std::uint16_t channels = 1;
};

struct Media {
  // User-provided, so that value-initialisation (emplace_back()) does not
  // zero the kilobyte of inline table storage before constructing it.
  Media() noexcept {}

  std::string_view media;   // audio, video, application …
  std::uint16_t port = 0;
  std::uint16_t port_count = 1;
  std::string_view proto;   // RTP/AVP, RTP/AVPF, RTP/SAVP …
  SmallVector<std::string_view, 12> formats;
  std::optional<Connection> connection;
  SmallVector<Bandwidth, 3> bandwidths;
  SmallVector<Attribute, 16> attributes;

  /// First attribute with this name (case-sensitive, as RFC 4566 says).
  const Attribute* attribute(std::string_view name) const;
  std::optional<RtpMap> rtpmap(int payload_type) const;
  /// The fmtp parameters of a payload type ("mode-set=0,2;octet-align=1").
  std::optional<std::string_view> fmtp(int payload_type) const;
  std::optional<std::uint32_t> ptime() const;
  /// The media direction, falling back to the session's when the media has none.
  Direction direction(Direction session_default) const;
  bool has_direction() const;
};

struct Session {
  Session() noexcept {}  // as Media(): no zeroing of the 3 KB of inline tables first

  std::string_view raw;
  std::uint32_t version = 0;
  Origin origin;
  std::string_view session_name;
  std::optional<Connection> connection;
  SmallVector<Bandwidth, 2> bandwidths;
  std::string_view timing;  // "0 0"
  SmallVector<Attribute, 8> attributes;
  SmallVector<Media, 2> media;

  const Attribute* attribute(std::string_view name) const;
  Direction direction() const;  // session-level default: sendrecv
  /// The connection that applies to media i (its own, else the session's).
  const Connection* connection_for(std::size_t i) const;
};

/// Parses an SDP body (RFC 4566); CRLF or bare LF line ends are accepted, and
/// empty lines at the very end are ignored. The Session's views point into
/// `body` and stay valid as long as it does. An error names the 1-based line
/// and the byte offset of the fault: v=, o=, s= must open the body in that
/// order, t= must come before the first m=, an unknown line type is refused,
/// and a media section with no c= (and none at session level) is reported at
/// its m= line.
Result<Session, SdpError> parse(std::string_view body);

/// Builds SDP text line by line in the RFC 4566 order.
class SdpWriter {
 public:
  SdpWriter& origin(std::string_view username, std::uint64_t session_id, std::uint64_t version,
                    std::string_view address);
  SdpWriter& session_name(std::string_view name);
  SdpWriter& connection(std::string_view address);  // IP4 or IP6 chosen from the text
  SdpWriter& bandwidth(std::string_view type, std::uint32_t value);
  SdpWriter& timing(std::uint64_t start = 0, std::uint64_t stop = 0);
  /// m=<media> <port> <proto> <formats…>
  SdpWriter& media(std::string_view media, std::uint16_t port, std::string_view proto, std::string_view formats);
  SdpWriter& attribute(std::string_view name, std::string_view value = {});
  SdpWriter& direction(Direction d) { return attribute(direction_name(d)); }
  const std::string& text() const { return text_; }
  std::string take() { return std::move(text_); }

 private:
  SdpWriter& line(char type, std::string_view value);
  std::string text_ = "v=0\r\n";
};

}  // namespace imsflow::sdp
