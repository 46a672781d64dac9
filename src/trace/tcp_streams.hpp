// TCP stream reassembly for a capture reader (RFC 9293 sequence space), one
// state per direction of a connection, SIP messages cut with
// sip::StreamFramer (RFC 3261 §18.3) or taken from WebSocket messages
// (RFC 6455 framing, RFC 7118: one SIP message per WebSocket message).
//
// What it copes with: a capture that starts mid-connection (the first bytes
// are searched for a SIP start line), segments out of order (held until the
// hole fills), retransmitted and overlapping segments (the first copy wins),
// several messages in one segment and one message over many segments, and
// bytes never captured (a gap: the partial message is dropped and the stream
// resynchronises at the next SIP start line). A direction whose bytes are not
// SIP is marked so and its later segments are only counted.
//
// Memory is bounded: per-direction buffered and out-of-order bytes, the
// number of directions, and an idle time-out in capture time. A closed
// direction (FIN/RST) keeps only its sequence number until it times out, so
// a late retransmission is not mistaken for a new stream.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sip/parser.hpp"
#include "sip/stream_framer.hpp"
#include "trace/sip_packet.hpp"

namespace imsflow::trace {

struct TcpLimits {
  std::size_t max_directions = 65536;                 // stream directions tracked at once
  std::size_t max_buffered_bytes = 4u << 20;          // in-order bytes waiting for a message end
  std::size_t max_out_of_order_bytes = 1u << 20;      // bytes held beyond a hole
  std::size_t max_out_of_order_segments = 512;
  std::size_t resync_budget_bytes = 256u << 10;       // bytes searched for a start line before giving up
  std::int64_t idle_timeout_ns = 600'000'000'000;     // a direction silent this long is freed
};

namespace internal {

/// Where a message was found; the decoder fills it per frame.
struct Origin {
  std::int64_t timestamp_ns = 0;
  std::uint64_t frame = 0;
  sip::IpAddress source;
  sip::IpAddress destination;
  std::uint16_t source_port = 0;
  std::uint16_t destination_port = 0;
  Transport transport = Transport::Udp;
  std::string_view path;
  std::uint8_t flags = 0;
};

/// Receives the bytes of candidate SIP messages (implemented by the decoder,
/// which checks and parses them and counts what fails).
class MessageSink {
 public:
  virtual void deliver(const Origin& origin, std::string_view bytes, sip::ParseMode mode) = 0;

 protected:
  ~MessageSink() = default;
};

}  // namespace internal

class TcpStreams {
 public:
  TcpStreams(TcpLimits limits, internal::MessageSink& sink, SkipCounters& skipped);
  ~TcpStreams();
  TcpStreams(const TcpStreams&) = delete;
  TcpStreams& operator=(const TcpStreams&) = delete;

  struct Segment {
    std::uint64_t context = 0;  // the tunnel the segment came through (same 4-tuple, different hop)
    internal::Origin origin;    // addresses, ports, time, frame, path, flags so far
    std::uint32_t seq = 0;
    bool syn = false;
    bool fin = false;
    bool rst = false;
    std::string_view payload;
  };

  /// Takes one segment; messages it completes go to the sink before it returns.
  void segment(const Segment& s);
  /// End of capture: fills holes as gaps, delivers what then completes, frees everything.
  void finish();

  std::size_t directions() const { return directions_.size(); }
  std::size_t buffered_bytes() const;

 private:
  struct Key {
    std::uint64_t context = 0;
    std::array<std::uint8_t, 16> source{};
    std::array<std::uint8_t, 16> destination{};
    std::uint16_t source_port = 0;
    std::uint16_t destination_port = 0;
    bool v6 = false;
    friend bool operator==(const Key&, const Key&) = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept;
  };
  struct Direction;

  void process(Direction& d, const internal::Origin& origin);
  void append(Direction& d, std::string_view bytes);
  void drain_out_of_order(Direction& d);
  void skip_to_next_held(Direction& d);
  void close(Direction& d, const internal::Origin& origin);
  void sweep(std::int64_t now_ns);
  void emit(Direction& d, const internal::Origin& origin, std::uint64_t begin, std::uint64_t end,
            std::string_view bytes, Transport transport, sip::ParseMode mode);
  bool take_websocket_frame(Direction& d, const internal::Origin& origin);

  TcpLimits limits_;
  internal::MessageSink& sink_;
  SkipCounters& skipped_;
  std::unordered_map<Key, std::unique_ptr<Direction>, KeyHash> directions_;
  std::int64_t last_sweep_ns_ = 0;
};

}  // namespace imsflow::trace
