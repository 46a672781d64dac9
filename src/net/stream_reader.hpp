// The receiving half of a SIP stream connection (RFC 3261 §18.3): bytes as
// read() returns them go in, whole messages come out. Framing is
// sip::StreamFramer's; this class owns the buffer the framer looks at and
// remembers since when a message has been incomplete, so the loop can close a
// peer that stalls mid-message. No sockets here, so it is tested alone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sip/stream_framer.hpp"
#include "util/clock.hpp"

namespace imsflow::net {

struct StreamItem {
  enum class Kind : std::uint8_t {
    NeedMore,   // nothing complete is buffered; read more
    Message,    // `message` is one whole SIP message
    KeepAlive,  // CRLFs between messages (RFC 5626 §3.5.1), already consumed
    Corrupt,    // the stream cannot be framed: close the connection; `reason` says why
  };
  Kind kind = Kind::NeedMore;
  std::string_view message;  // Message: valid until the next append() or next()
  std::size_t offset = 0;    // Corrupt: stream offset of the fault
  const char* reason = "";
};

class StreamReader {
 public:
  /// Appends bytes just read. `now` starts the stall clock when they begin
  /// a message that is not complete yet.
  void append(std::string_view bytes) { buffer_.append(bytes); }
  /// Where append() may write up to `n` bytes directly (then call commit()).
  char* prepare(std::size_t n);
  void commit(std::size_t n) { buffer_.resize(prepared_from_ + n); }

  /// The next item. A Message is consumed by this call: its view stays valid
  /// until the next call of any non-const member. After Corrupt the reader
  /// answers Corrupt forever.
  StreamItem next(TimePoint now);

  /// Since when unconsumed bytes that do not make a message yet have been
  /// waiting; nullopt when the buffer is empty or holds only whole items.
  std::optional<TimePoint> incomplete_since() const { return incomplete_since_; }
  std::size_t buffered() const { return buffer_.size() - consumed_; }
  std::uint64_t stream_offset() const { return stream_offset_; }

 private:
  void compact();

  std::string buffer_;
  std::size_t consumed_ = 0;       // bytes at the front already handed out
  std::size_t prepared_from_ = 0;
  std::uint64_t stream_offset_ = 0;  // bytes consumed since the connection opened
  std::optional<TimePoint> incomplete_since_;
  bool corrupt_ = false;
  std::size_t corrupt_offset_ = 0;
  const char* corrupt_reason_ = "";
  sip::StreamFramer framer_;
};

}  // namespace imsflow::net
