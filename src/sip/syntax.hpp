// The lexer under every SIP header grammar: a cursor over a header value that
// knows RFC 3261 §25.1 LWS (including folded CRLF+WS, which the parser leaves
// in place because it never copies), tokens and quoted strings.
#pragma once

#include <cstdint>
#include <string_view>

#include "util/ascii.hpp"
#include "util/byte_scan.hpp"
#include "util/result.hpp"

namespace imsflow::sip {

/// Where a grammar stopped and what it wanted there. `offset` is relative to
/// the text the grammar was given; `expected` is a static phrase.
struct SyntaxError {
  std::uint32_t offset = 0;
  const char* expected = "";
};

template <class T>
using Parsed = Result<T, SyntaxError>;

class Scanner {
 public:
  explicit Scanner(std::string_view text, std::size_t pos = 0)
      : text_(text), pos_(pos), limit_(text.data() + text.size()) {}
  /// `limit` (at or after the text's end) ends the readable buffer the text
  /// lies in: class runs may look ahead up to it, never deciding past the text.
  Scanner(std::string_view text, std::size_t pos, const char* limit) : text_(text), pos_(pos), limit_(limit) {}

  std::string_view text() const { return text_; }
  const char* limit() const { return limit_; }
  std::size_t pos() const { return pos_; }
  void set_pos(std::size_t pos) { pos_ = pos; }
  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }
  char peek_at(std::size_t ahead) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  void advance(std::size_t n = 1) { pos_ += n; }
  std::string_view rest() const { return text_.substr(pos_); }
  std::string_view slice(std::size_t from) const { return text_.substr(from, pos_ - from); }

  /// Skips SP, HT and folded line breaks. Returns true when anything was skipped.
  bool skip_lws() {
    const std::size_t start = pos_;
    while (pos_ < text_.size() && ascii::is_lws(text_[pos_])) ++pos_;
    return pos_ != start;
  }

  bool consume(char c) {
    if (peek() != c || at_end()) return false;
    ++pos_;
    return true;
  }
  /// Consumes `c` with optional LWS on both sides (SEMI, COMMA, EQUAL, SLASH).
  bool consume_separator(char c) {
    const std::size_t save = pos_;
    skip_lws();
    if (consume(c)) {
      skip_lws();
      return true;
    }
    pos_ = save;
    return false;
  }

  std::string_view take_while(std::uint16_t cls) {
    const std::size_t start = pos_;
    while (pos_ < text_.size() && ascii::is(text_[pos_], cls)) ++pos_;
    return text_.substr(start, pos_ - start);
  }
  std::string_view token() {
    const std::size_t start = pos_;
    const char* const begin = text_.data();
    pos_ = static_cast<std::size_t>(scan::skip_common(begin + pos_, begin + text_.size(), limit_, scan::kCommonToken) - begin);
    take_while(ascii::kToken);  // the rare token characters, and where the run really ends
    return text_.substr(start, pos_ - start);
  }

  /// Reads a quoted-string starting at the opening DQUOTE; returns its contents
  /// without the quotes (quoted-pairs left as written). Non-ASCII must be UTF-8.
  Parsed<std::string_view> quoted_string() {
    if (!consume('"')) return Unexpected{error("'\"' opening a quoted string")};
    const std::size_t start = pos_;
    // Most quoted strings are plain printable ASCII: skip that 16 bytes at a
    // time, then let the loop below judge whatever stopped the skip.
    pos_ = static_cast<std::size_t>(
        scan::skip_plain_qdtext(text_.data() + pos_, text_.data() + text_.size()) - text_.data());
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (ascii::is(c, ascii::kQdText)) {  // the common case: plain printable ASCII
        ++pos_;
        continue;
      }
      if (c == '"') {
        std::string_view inner = text_.substr(start, pos_ - start);
        ++pos_;
        return inner;
      }
      if (c == '\\') {
        // quoted-pair: any octet but CR and LF (RFC 3261 §25.1).
        if (pos_ + 1 >= text_.size() || text_[pos_ + 1] == '\r' || text_[pos_ + 1] == '\n')
          return Unexpected{error("a character after '\\' in a quoted string")};
        pos_ += 2;
        continue;
      }
      const auto u = static_cast<unsigned char>(c);
      if (u >= 0x80) {
        std::size_t len = (u & 0xE0) == 0xC0 ? 2 : (u & 0xF0) == 0xE0 ? 3 : (u & 0xF8) == 0xF0 ? 4 : 0;
        if (len == 0 || pos_ + len > text_.size() ||
            ascii::find_invalid_utf8(text_.substr(pos_, len)).has_value())
          return Unexpected{error("valid UTF-8 in a quoted string")};
        pos_ += len;
        continue;
      }
      if ((u < 0x20 && c != '\t' && c != '\r' && c != '\n') || u == 0x7F)
        return Unexpected{error("no control characters in a quoted string")};
      ++pos_;
    }
    return Unexpected{SyntaxError{static_cast<std::uint32_t>(start - 1), "a closing '\"' for this quoted string"}};
  }

  SyntaxError error(const char* expected) const {
    return SyntaxError{static_cast<std::uint32_t>(pos_), expected};
  }

 private:
  std::string_view text_;
  std::size_t pos_;
  const char* limit_;
};

}  // namespace imsflow::sip
