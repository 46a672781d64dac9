#include "trace/tcp_streams.hpp"

#include <algorithm>
#include <cstring>

#include "trace/wire.hpp"
#include "util/ascii.hpp"

namespace imsflow::trace {

using internal::be16;
using internal::Origin;
using internal::StartLineLook;
using internal::u8;

namespace {
// Largest WebSocket message accepted (a SIP message is far smaller).
constexpr std::uint64_t kMaxWebSocketMessage = 1u << 20;
// An HTTP upgrade request or answer larger than this is not a WebSocket handshake.
constexpr std::size_t kMaxHttpHeader = 16u << 10;
}  // namespace

struct TcpStreams::Direction {
  enum class Mode : std::uint8_t {
    Detect,       // nothing seen yet: decide from the first line
    Sip,          // SIP messages back to back, cut by the framer
    Resync,       // after a gap or a mid-stream start: searching for a start line
    HttpHeaders,  // an HTTP request/answer: a WebSocket upgrade or not SIP
    WebSocket,    // WebSocket frames carrying SIP
    NotSip,       // skipped for good
    Closed,       // FIN or RST seen: only the sequence number is kept
  };
  Mode mode = Mode::Detect;
  bool started = false;
  std::uint32_t next_seq = 0;       // sequence number of the next in-order byte
  std::uint64_t next_offset = 0;    // the same, counted from the first byte seen
  std::string buffer;               // in-order bytes from stream offset `base`
  std::size_t consumed = 0;         // bytes of `buffer` already handled
  std::uint64_t base = 0;
  std::vector<std::uint64_t> boundaries;        // stream offsets where a segment started
  std::map<std::uint64_t, std::string> held;    // out-of-order data by stream offset
  std::size_t held_bytes = 0;
  sip::StreamFramer framer;
  std::size_t resync_searched = 0;
  bool retransmission_seen = false;
  std::int64_t last_seen_ns = 0;
  std::uint64_t last_frame = 0;    // for messages that complete only at the end of the capture
  std::string last_path;
  std::string ws_message;          // WebSocket message being assembled (unmasked)
  std::uint64_t ws_message_begin = 0;
  bool ws_in_message = false;
};

std::size_t TcpStreams::KeyHash::operator()(const Key& k) const noexcept {
  std::uint64_t h = internal::mix(internal::kMixSeed ^ k.context,
                                  std::string_view(reinterpret_cast<const char*>(k.source.data()), 16));
  h = internal::mix(h, std::string_view(reinterpret_cast<const char*>(k.destination.data()), 16));
  h ^= (static_cast<std::uint64_t>(k.source_port) << 16) | k.destination_port | (k.v6 ? 1ull << 40 : 0);
  h *= 0x9E3779B97F4A7C15ull;
  return static_cast<std::size_t>(h ^ (h >> 29));
}

TcpStreams::TcpStreams(TcpLimits limits, internal::MessageSink& sink, SkipCounters& skipped)
    : limits_(limits), sink_(sink), skipped_(skipped) {}

TcpStreams::~TcpStreams() = default;

std::size_t TcpStreams::buffered_bytes() const {
  std::size_t n = 0;
  for (const auto& [k, d] : directions_) n += d->buffer.size() + d->held_bytes + d->ws_message.size();
  return n;
}

void TcpStreams::segment(const Segment& s) {
  sweep(s.origin.timestamp_ns);
  Key key;
  key.context = s.context;
  key.v6 = s.origin.source.v6;
  key.source = s.origin.source.bytes;
  key.destination = s.origin.destination.bytes;
  key.source_port = s.origin.source_port;
  key.destination_port = s.origin.destination_port;

  auto it = directions_.find(key);
  if (it == directions_.end()) {
    if (s.payload.empty() && !s.syn) {
      skipped_.add(SkipReason::TcpNoPayload);
      return;
    }
    if (directions_.size() >= limits_.max_directions) {
      // Evict the direction silent the longest.
      auto victim = directions_.begin();
      for (auto i = directions_.begin(); i != directions_.end(); ++i) {
        if (i->second->last_seen_ns < victim->second->last_seen_ns) victim = i;
      }
      skipped_.add(SkipReason::TcpStreamLimit);
      directions_.erase(victim);
    }
    it = directions_.emplace(key, std::make_unique<Direction>()).first;
  }
  Direction& d = *it->second;
  d.last_seen_ns = s.origin.timestamp_ns;
  d.last_frame = s.origin.frame;
  if (d.last_path != s.origin.path) d.last_path.assign(s.origin.path);

  std::string_view payload = s.payload;
  std::uint32_t seq = s.seq;
  if (s.syn) {
    // A SYN starts the sequence space; on a closed or reused direction it starts a new stream.
    if (!d.started || d.mode == Direction::Mode::Closed || d.next_seq != seq + 1) {
      d = Direction();
      d.last_seen_ns = s.origin.timestamp_ns;
      d.started = true;
      d.next_seq = seq + 1;
    }
    seq += 1;
  }
  if (d.mode == Direction::Mode::Closed) {
    if (!payload.empty()) skipped_.add(SkipReason::TcpRetransmission);
    else if (!s.syn) skipped_.add(SkipReason::TcpNoPayload);
    return;
  }
  if (payload.empty()) {
    if (s.fin || s.rst) {
      close(d, s.origin);
    } else if (!s.syn) {
      skipped_.add(SkipReason::TcpNoPayload);
    }
    return;
  }
  if (!d.started) {
    d.started = true;
    d.next_seq = seq;
  }
  if (d.mode == Direction::Mode::NotSip) {
    skipped_.add(SkipReason::NonSipPayload);
    d.next_seq = seq + static_cast<std::uint32_t>(payload.size());
    if (s.fin || s.rst) close(d, s.origin);
    return;
  }

  const auto diff = static_cast<std::int32_t>(seq - d.next_seq);
  if (diff < 0) {
    const auto behind = static_cast<std::size_t>(-static_cast<std::int64_t>(diff));
    d.retransmission_seen = true;
    if (behind >= payload.size()) {
      skipped_.add(SkipReason::TcpRetransmission);
      if (s.fin || s.rst) close(d, s.origin);
      return;
    }
    payload.remove_prefix(behind);
    append(d, payload);
  } else if (diff > 0) {
    const std::uint64_t at = d.next_offset + static_cast<std::uint64_t>(diff);
    auto [h, inserted] = d.held.try_emplace(at);
    if (!inserted) d.retransmission_seen = true;
    if (h->second.size() < payload.size()) {
      d.held_bytes += payload.size() - h->second.size();
      h->second.assign(payload);
    }
    if (d.held_bytes > limits_.max_out_of_order_bytes || d.held.size() > limits_.max_out_of_order_segments) {
      skip_to_next_held(d);
    }
  } else {
    append(d, payload);
  }
  drain_out_of_order(d);
  process(d, s.origin);
  if (d.buffer.size() - d.consumed > limits_.max_buffered_bytes) {
    skipped_.add(SkipReason::TcpStreamLimit);
    d.base += d.buffer.size();
    d.buffer.clear();
    d.consumed = 0;
    d.boundaries.clear();
    d.framer = sip::StreamFramer();
    d.mode = Direction::Mode::Resync;
  }
  if (s.fin || s.rst) close(d, s.origin);
}

void TcpStreams::append(Direction& d, std::string_view bytes) {
  d.boundaries.push_back(d.base + d.buffer.size());
  d.buffer.append(bytes);
  d.next_offset += bytes.size();
  d.next_seq += static_cast<std::uint32_t>(bytes.size());
}

void TcpStreams::drain_out_of_order(Direction& d) {
  while (!d.held.empty() && d.held.begin()->first <= d.next_offset) {
    auto node = d.held.extract(d.held.begin());
    d.held_bytes -= node.mapped().size();
    const std::uint64_t end = node.key() + node.mapped().size();
    if (end <= d.next_offset) {
      d.retransmission_seen = true;
      continue;
    }
    if (node.key() < d.next_offset) d.retransmission_seen = true;
    append(d, std::string_view(node.mapped()).substr(static_cast<std::size_t>(d.next_offset - node.key())));
  }
}

void TcpStreams::skip_to_next_held(Direction& d) {
  if (d.held.empty()) return;
  skipped_.add(SkipReason::TcpGap);
  const std::uint64_t to = d.held.begin()->first;
  d.next_seq += static_cast<std::uint32_t>(to - d.next_offset);
  d.next_offset = to;
  // The bytes before the hole cannot complete a message any more.
  d.buffer.clear();
  d.consumed = 0;
  d.base = to;
  d.boundaries.clear();
  d.framer = sip::StreamFramer();
  d.ws_message.clear();
  d.ws_in_message = false;
  if (d.mode == Direction::Mode::Sip || d.mode == Direction::Mode::Detect) {
    d.mode = Direction::Mode::Resync;
    d.resync_searched = 0;
  }
  drain_out_of_order(d);
}

void TcpStreams::close(Direction& d, const Origin& origin) {
  while (!d.held.empty()) {
    skip_to_next_held(d);
    process(d, origin);
  }
  if (d.mode == Direction::Mode::Sip) {
    // A partial message left at the close: the rest was never captured.
    std::string_view rest = std::string_view(d.buffer).substr(d.consumed);
    if (internal::look_at_start_line(rest) != StartLineLook::KeepAlive) skipped_.add(SkipReason::TcpGap);
  }
  const std::uint32_t seq = d.next_seq;
  const std::int64_t seen = d.last_seen_ns;
  d = Direction();
  d.mode = Direction::Mode::Closed;
  d.started = true;
  d.next_seq = seq;
  d.last_seen_ns = seen;
}

void TcpStreams::emit(Direction& d, const Origin& origin, std::uint64_t begin, std::uint64_t end,
                      std::string_view bytes, Transport transport, sip::ParseMode mode) {
  Origin o = origin;
  o.transport = transport;
  for (std::uint64_t b : d.boundaries) {
    if (b > begin && b < end) {
      o.flags |= kFromTcpSegments;
      break;
    }
  }
  if (d.retransmission_seen) {
    o.flags |= kTcpRetransmission;
    d.retransmission_seen = false;
  }
  sink_.deliver(o, bytes, mode);
}

bool TcpStreams::take_websocket_frame(Direction& d, const Origin& origin) {
  const std::string_view v = std::string_view(d.buffer).substr(d.consumed);
  if (v.size() < 2) return false;
  const bool fin = (u8(v, 0) & 0x80) != 0;
  const unsigned opcode = u8(v, 0) & 0x0F;
  const bool masked = (u8(v, 1) & 0x80) != 0;
  std::uint64_t length = u8(v, 1) & 0x7F;
  std::size_t at = 2;
  if (length == 126) {
    if (v.size() < 4) return false;
    length = be16(v, 2);
    at = 4;
  } else if (length == 127) {
    if (v.size() < 10) return false;
    length = (static_cast<std::uint64_t>(internal::be32(v, 2)) << 32) | internal::be32(v, 6);
    at = 10;
  }
  if (length > kMaxWebSocketMessage || (u8(v, 0) & 0x70) != 0 || (opcode > 2 && opcode < 8) || opcode > 10) {
    d.mode = Direction::Mode::NotSip;
    skipped_.add(SkipReason::NonSipPayload);
    return false;
  }
  std::array<std::uint8_t, 4> key{};
  if (masked) {
    if (v.size() < at + 4) return false;
    for (std::size_t i = 0; i < 4; ++i) key[i] = u8(v, at + i);
    at += 4;
  }
  if (v.size() - at < length) return false;
  const std::uint64_t frame_begin = d.base + d.consumed;
  const std::size_t n = static_cast<std::size_t>(length);
  d.consumed += at + n;
  if (opcode >= 8) {
    skipped_.add(SkipReason::WebSocketControl);
    return true;
  }
  if (opcode == 0 && !d.ws_in_message) return true;  // a continuation without a start: lost in a gap
  if (opcode != 0) {
    d.ws_message.clear();
    d.ws_message_begin = frame_begin;
    d.ws_in_message = true;
  }
  if (d.ws_message.size() + n > kMaxWebSocketMessage) {
    d.mode = Direction::Mode::NotSip;
    skipped_.add(SkipReason::NonSipPayload);
    return false;
  }
  const std::size_t old = d.ws_message.size();
  d.ws_message.append(v.substr(at, n));
  if (masked) {
    for (std::size_t i = 0; i < n; ++i) d.ws_message[old + i] = static_cast<char>(d.ws_message[old + i] ^ key[i & 3]);
  }
  if (fin) {
    d.ws_in_message = false;
    emit(d, origin, d.ws_message_begin, d.base + d.consumed, d.ws_message, Transport::WebSocket,
         sip::ParseMode::Datagram);
    d.ws_message.clear();
  }
  return true;
}

void TcpStreams::process(Direction& d, const Origin& origin) {
  using Mode = Direction::Mode;
  bool progress = true;
  while (progress && d.consumed < d.buffer.size()) {
    progress = false;
    const std::string_view view = std::string_view(d.buffer).substr(d.consumed);
    switch (d.mode) {
      case Mode::Detect: {
        const StartLineLook look = internal::look_at_start_line(view);
        if (look == StartLineLook::Sip || look == StartLineLook::KeepAlive) {
          d.mode = Mode::Sip;
          progress = true;
        } else if (view.substr(0, 4) == "GET " || view.substr(0, 5) == "HTTP/") {
          d.mode = Mode::HttpHeaders;
          progress = true;
        } else if (look == StartLineLook::NotSip) {
          d.mode = Mode::Resync;  // perhaps the capture started inside a message
          progress = true;
        }
        break;
      }
      case Mode::Sip: {
        const sip::StreamFrame f = d.framer.next(view);
        if (f.status == sip::StreamFrame::Status::Message) {
          const std::uint64_t begin = d.base + d.consumed;
          d.consumed += f.length;
          emit(d, origin, begin, begin + f.length, view.substr(0, f.length), Transport::Tcp, sip::ParseMode::Stream);
          progress = true;
        } else if (f.status == sip::StreamFrame::Status::KeepAlive) {
          d.consumed += f.length;
          progress = true;
        } else if (f.status == sip::StreamFrame::Status::Corrupt) {
          skipped_.add(SkipReason::TcpNotFramable);
          d.framer = sip::StreamFramer();
          d.consumed += 1;  // the resync search starts past this start line
          d.mode = Mode::Resync;
          d.resync_searched = 0;
          progress = true;
        }
        break;
      }
      case Mode::Resync: {
        // Try every line start for a SIP start line.
        std::size_t pos = 0;
        std::size_t keep_from = view.size();
        bool found = false;
        while (pos < view.size()) {
          const StartLineLook look = internal::look_at_start_line(view.substr(pos));
          if (look == StartLineLook::Sip) {
            found = true;
            break;
          }
          if (look == StartLineLook::Partial) {
            keep_from = pos;
            break;
          }
          const std::size_t nl = view.find('\n', pos);
          if (nl == std::string_view::npos) break;
          pos = nl + 1;
        }
        if (found) {
          d.consumed += pos;
          d.mode = Mode::Sip;
          d.framer = sip::StreamFramer();
          progress = true;
        } else {
          // Keep an unfinished last line: it may become a start line.
          std::size_t drop = keep_from;
          if (keep_from == view.size()) {
            const std::size_t nl = view.rfind('\n');
            drop = nl == std::string_view::npos ? 0 : nl + 1;
            if (view.size() - drop > internal::kMaxStartLine) drop = view.size();
          }
          d.consumed += drop;
          d.resync_searched += drop;
          if (d.resync_searched > limits_.resync_budget_bytes) {
            d.mode = Mode::NotSip;
            skipped_.add(SkipReason::NonSipPayload);
          }
        }
        break;
      }
      case Mode::HttpHeaders: {
        const std::size_t end = view.find("\r\n\r\n");
        if (end == std::string_view::npos) {
          if (view.size() > kMaxHttpHeader) {
            d.mode = Mode::NotSip;
            skipped_.add(SkipReason::NonSipPayload);
          }
          break;
        }
        const std::string_view head = view.substr(0, end);
        bool websocket = false;
        for (std::size_t i = 0; i + 9 <= head.size(); ++i) {
          if (ascii::iequals(head.substr(i, 9), "websocket")) {
            websocket = true;
            break;
          }
        }
        d.consumed += end + 4;
        d.mode = websocket ? Mode::WebSocket : Mode::NotSip;
        if (!websocket) skipped_.add(SkipReason::NonSipPayload);
        progress = websocket;
        break;
      }
      case Mode::WebSocket:
        progress = take_websocket_frame(d, origin);
        break;
      case Mode::NotSip:
      case Mode::Closed:
        d.consumed = d.buffer.size();
        break;
    }
  }
  // Compact: drop handled bytes once they are all handled or make up most of the buffer.
  if (d.consumed > 0 && (d.consumed == d.buffer.size() || d.consumed > (64u << 10))) {
    d.buffer.erase(0, d.consumed);
    d.base += d.consumed;
    d.consumed = 0;
    const std::uint64_t base = d.base;
    std::erase_if(d.boundaries, [base](std::uint64_t b) { return b <= base; });
  }
}

void TcpStreams::sweep(std::int64_t now_ns) {
  if (now_ns >= last_sweep_ns_ && now_ns - last_sweep_ns_ < 10'000'000'000) return;
  last_sweep_ns_ = now_ns;
  for (auto it = directions_.begin(); it != directions_.end();) {
    const std::int64_t idle = now_ns - it->second->last_seen_ns;
    if (idle > limits_.idle_timeout_ns || idle < -limits_.idle_timeout_ns) {
      if (it->second->mode != Direction::Mode::Closed && !it->second->held.empty()) skipped_.add(SkipReason::TcpGap);
      it = directions_.erase(it);
    } else {
      ++it;
    }
  }
}

void TcpStreams::finish() {
  for (auto& [key, d] : directions_) {
    if (d->mode == Direction::Mode::Closed) continue;
    Origin origin;
    origin.source.v6 = origin.destination.v6 = key.v6;
    origin.source.bytes = key.source;
    origin.destination.bytes = key.destination;
    origin.source_port = key.source_port;
    origin.destination_port = key.destination_port;
    origin.timestamp_ns = d->last_seen_ns;
    origin.transport = Transport::Tcp;
    origin.frame = d->last_frame;
    const std::string path = d->last_path;
    origin.path = path;
    // Messages completed only by skipping holes carry the time and frame of the direction's last segment.
    close(*d, origin);
  }
  directions_.clear();
}

}  // namespace imsflow::trace
