// sip::parse: bytes in, a Message of views out, or a ParseError that says
// what was wrong, where (byte offset, header) and what was expected there.
// One pass: the start line, every header into its typed form, the body framed
// by Content-Length (RFC 3261 §7, §18.3, §20, §25).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sip/message.hpp"
#include "util/result.hpp"

namespace imsflow::sip {

enum class ParseErrorCode : std::uint8_t {
  Empty,                  // no bytes (or only CRLF keep-alives)
  LineEnding,             // a line that does not end in CRLF / LF, or a bare CR
  StartLine,              // request or status line malformed
  RequestUri,             // Request-URI malformed or enclosed in <>
  Version,                // SIP-Version other than SIP/2.0
  StatusCode,             // not three digits, or outside 100..699
  HeaderName,             // not a token followed by ':'
  HeaderValue,            // a typed header does not follow its grammar
  DuplicateHeader,        // a single-valued header given twice
  ContentLength,          // missing (stream), malformed, negative, or conflicting
  BodyTruncated,          // fewer body bytes than Content-Length
  HeadersUnterminated,    // no empty line closing the header section
  MissingHeader,          // Via, From, To, Call-ID or CSeq absent (RFC 3261 §8.1.1)
  CSeqMethodMismatch,     // request method differs from the CSeq method
  TooManyHeaders,
  MessageTooLarge,
};

struct ParseError {
  ParseErrorCode code = ParseErrorCode::Empty;
  std::uint32_t offset = 0;           // byte offset in the input
  HeaderId header = HeaderId::Other;  // the header at fault, if any
  std::string_view header_name;       // as written (a view into the input)
  const char* expected = "";          // what the grammar wanted at `offset`
  bool in_request = false;            // the start line looked like a request
  Method method = Method::Unknown;    // of that request, when known
  std::uint32_t declared = 0;         // BodyTruncated: the Content-Length value
  std::uint32_t available = 0;        // BodyTruncated: the bytes that followed

  /// One sentence: "Via: expected '/' after the protocol name at byte 212".
  std::string describe() const;
};

enum class ParseMode : std::uint8_t {
  /// A whole UDP datagram or file: without Content-Length the body runs to the
  /// end; bytes beyond Content-Length are ignored (RFC 3261 §18.3).
  Datagram,
  /// A message cut from a stream: Content-Length is mandatory.
  Stream,
};

struct ParseLimits {
  std::uint32_t max_headers = 1024;
  std::uint32_t max_message_bytes = 1u << 20;
};

/// Parses `input` into `out` (which is cleared first and then refers into
/// `input`). Returns the number of input bytes the message used, including
/// skipped leading CRLFs. `out` is unspecified after an error.
Result<std::size_t, ParseError> parse(std::string_view input, Message& out,
                                      ParseMode mode = ParseMode::Datagram, const ParseLimits& limits = {});

/// Convenience form that returns the message by value.
Result<Message, ParseError> parse(std::string_view input, ParseMode mode = ParseMode::Datagram);

}  // namespace imsflow::sip
