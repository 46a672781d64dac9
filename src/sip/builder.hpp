// Building and editing SIP messages. A MessageBuilder owns its text (one
// arena string) so it can outlive whatever it was built from. Fields copied
// from a parsed message keep their exact bytes (name spelling, folding), so
// an unedited copy serializes to the bytes it was parsed from.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/header_id.hpp"
#include "sip/message.hpp"

namespace imsflow::sip {

/// The usual reason phrase of a status code (RFC 3261 §21 and extensions).
std::string_view default_reason_phrase(int status);

class MessageBuilder {
 public:
  /// A request with the given start line and no headers yet.
  static MessageBuilder request(std::string_view method, std::string_view request_uri);
  /// A response with the given status line and no headers yet.
  static MessageBuilder response(int status, std::string_view reason = {});
  /// RFC 3261 §8.2.6.2: copies every Via (in order), From, To, Call-ID and
  /// CSeq from `request`; adds `;tag=to_tag` to To when it has no tag and the
  /// status is not 100; copies Timestamp into a 100 (§8.2.6.1) and, for 18x
  /// and 2xx to INVITE, Record-Route (§12.1.1).
  static MessageBuilder response_to(const Message& request, int status, std::string_view to_tag = {},
                                    std::string_view reason = {});
  /// Every field and the body of `m`, byte for byte.
  static MessageBuilder copy_of(const Message& m);

  /// Appends a header after the existing ones.
  MessageBuilder& add(HeaderId id, std::string_view value) { return insert(fields_.size(), id, canonical_name(id), value); }
  MessageBuilder& add(std::string_view name, std::string_view value) {
    return insert(fields_.size(), header_id_from_name(name), name, value);
  }
  /// Inserts a header before every existing one (a new top Via, Record-Route).
  MessageBuilder& add_first(HeaderId id, std::string_view value) { return insert(0, id, canonical_name(id), value); }
  /// Removes every header with this id (or, for HeaderId::Other, this name).
  std::size_t remove(HeaderId id);
  std::size_t remove(std::string_view name);
  /// Replaces every header with this id by one with `value`, at the place of
  /// the first (or at the end when there was none).
  MessageBuilder& replace(HeaderId id, std::string_view value);
  /// Replaces the start line (a proxy's new Request-URI, RFC 3261 §16.6
  /// step 2). `line` has no CRLF.
  MessageBuilder& set_start_line(std::string_view line) {
    start_line_ = store(line);
    return *this;
  }
  /// Sets the body and its Content-Type; Content-Length follows the body.
  MessageBuilder& set_body(std::string_view content_type, std::string_view body);

  std::size_t header_count() const { return fields_.size(); }
  /// The value of the first header with this id, if any.
  std::optional<std::string_view> value(HeaderId id) const;

  void serialize_to(std::string& out) const;
  std::string serialize() const {
    std::string out;
    serialize_to(out);
    return out;
  }

 private:
  struct Span {
    std::uint32_t offset = 0;
    std::uint32_t length = 0;
  };
  struct Field {
    HeaderId id = HeaderId::Other;
    Span name;
    Span value;
    Span raw;  // when set, the exact bytes of the field (CRLF included)
  };

  Span store(std::string_view text);
  std::string_view text(Span s) const { return std::string_view(arena_).substr(s.offset, s.length); }
  MessageBuilder& insert(std::size_t at, HeaderId id, std::string_view name, std::string_view value);
  bool matches(const Field& f, HeaderId id, std::string_view name) const;

  std::string arena_;
  Span start_line_;
  Span start_line_end_;  // the start line's terminator as written (copy_of), else CRLF
  std::vector<Field> fields_;
  Span separator_;       // the empty line as written (copy_of), else CRLF
  Span body_;
  // A new message always states its Content-Length; an unedited copy of one
  // that had none (RFC 2543 style, over UDP) must stay as it was.
  bool ensure_content_length_ = true;
};

}  // namespace imsflow::sip
