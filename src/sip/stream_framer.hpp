// Message framing on stream transports (TCP, TLS; RFC 3261 §18.3): finds where
// the next message ends using the header section and Content-Length, without
// parsing the message and without re-scanning bytes seen on an earlier call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace imsflow::sip {

struct StreamFrame {
  enum class Status : std::uint8_t {
    NeedMore,   // the next message is not complete yet; call again with more bytes
    Message,    // the first `length` bytes hold one whole message; consume them
    KeepAlive,  // `length` bytes of CR/LF keep-alive (RFC 5626 §3.5.1); consume them
    Corrupt,    // the stream cannot be framed any more: close the connection
  };
  Status status = Status::NeedMore;
  std::size_t length = 0;  // bytes to consume from the front of the buffer
  std::size_t offset = 0;  // Corrupt: where the problem is
  const char* reason = ""; // Corrupt: why
};

class StreamFramer {
 public:
  static constexpr std::size_t kDefaultMaxHeaderBytes = 64 * 1024;
  static constexpr std::size_t kDefaultMaxBodyBytes = 1024 * 1024;

  explicit StreamFramer(std::size_t max_header_bytes = kDefaultMaxHeaderBytes,
                        std::size_t max_body_bytes = kDefaultMaxBodyBytes)
      : max_header_bytes_(max_header_bytes), max_body_bytes_(max_body_bytes) {}

  /// `buffered` holds every unconsumed byte of the stream, starting where the
  /// previous message (or keep-alive) ended; each call may only append to it.
  /// After a Message or KeepAlive, drop `length` bytes; the framer resets itself.
  StreamFrame next(std::string_view buffered);

 private:
  void reset() { *this = StreamFramer(max_header_bytes_, max_body_bytes_); }
  StreamFrame corrupt(std::size_t offset, const char* reason);
  /// Reads the Content-Length value of the line starting at `line_start`.
  bool take_content_length(std::string_view buffered, std::size_t line_start, std::size_t line_end);

  std::size_t max_header_bytes_;
  std::size_t max_body_bytes_;
  std::size_t scanned_ = 0;         // bytes examined so far
  std::size_t line_start_ = 0;      // start of the line being scanned
  bool start_line_checked_ = false;
  bool has_content_length_ = false;
  std::size_t content_length_ = 0;
  std::size_t body_start_ = 0;      // set once the empty line is found
};

}  // namespace imsflow::sip
