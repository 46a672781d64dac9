// Parameter lists: ";name=value;flag" after a URI or a header value. A Params
// is a view of the already validated text; lookups scan it (lists are short,
// and scanning costs less than building a table nobody reads).
#pragma once

#include <array>
#include <optional>
#include <string_view>

#include "sip/syntax.hpp"

namespace imsflow::sip {

struct Param {
  std::string_view name;
  std::string_view value;  // as written (quotes kept); empty for a flag
  bool has_value = false;
};

class Params {
 public:
  constexpr Params() = default;
  /// `raw` is a validated list, with or without a leading ';'.
  explicit constexpr Params(std::string_view raw) : raw_(raw) {}

  std::string_view raw() const { return raw_; }
  bool empty() const { return raw_.empty(); }

  /// The value of the first parameter named `name` (case-insensitive), quotes
  /// kept; an empty view for a flag. nullopt when absent.
  std::optional<std::string_view> get(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }

  class Iterator {
   public:
    explicit Iterator(std::string_view rest) : rest_(rest) { next(); }
    const Param& operator*() const { return current_; }
    const Param* operator->() const { return &current_; }
    Iterator& operator++() {
      next();
      return *this;
    }
    bool operator==(const Iterator& o) const { return done_ == o.done_ && (done_ || rest_.data() == o.rest_.data()); }

   private:
    void next();
    std::string_view rest_;
    Param current_{};
    bool done_ = false;
  };
  Iterator begin() const { return Iterator(raw_); }
  Iterator end() const { return Iterator(std::string_view()); }

 private:
  std::string_view raw_;
};

/// Removes the surrounding quotes of a quoted-string value, if any.
constexpr std::string_view unquote(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') return v.substr(1, v.size() - 2);
  return v;
}

namespace internal {
// token, plus ':' '[' ']' so that host values pass (IPv6 references, and
// RFC 5118 §4.5's bare received=2001:db8::1). One table, one load per byte.
constexpr std::array<bool, 256> build_gen_value_chars() {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) {
    const char ch = static_cast<char>(c);
    t[c] = ascii::is_token(ch) || ch == ':' || ch == '[' || ch == ']';
  }
  return t;
}
inline constexpr std::array<bool, 256> kGenValueChars = build_gen_value_chars();
inline bool is_gen_value_char(char c) { return kGenValueChars[static_cast<unsigned char>(c)]; }
}  // namespace internal

/// Parses `*(SEMI generic-param)` from the scanner's position (RFC 3261 §25.1:
/// gen-value = token / host / quoted-string) into `out`, calling
/// `on_param(name, value)` for each (value empty for a flag, quotes kept).
/// Stops before anything that is not a ';' (after optional LWS). Empty names
/// or values are errors.
template <class OnParam>
std::optional<SyntaxError> parse_header_params(Scanner& s, Params& out, OnParam&& on_param) {
  std::size_t start = s.pos();
  std::size_t end = start;
  bool any = false;
  while (true) {
    const std::size_t before = s.pos();
    s.skip_lws();
    if (!s.consume(';')) {
      s.set_pos(before);
      break;
    }
    if (!any) {
      start = s.pos() - 1;
      any = true;
    }
    s.skip_lws();
    const std::string_view name = s.token();
    if (name.empty()) return s.error("a parameter name after ';'");
    end = s.pos();
    std::string_view value;
    if (s.consume_separator('=')) {
      const std::size_t v = s.pos();
      if (s.peek() == '"') {
        auto q = s.quoted_string();
        if (!q) return q.error();
      } else {
        while (!s.at_end() && internal::is_gen_value_char(s.peek())) s.advance();
        if (s.pos() == v) return s.error("a parameter value after '='");
      }
      value = s.slice(v);
      end = s.pos();
    }
    on_param(name, value);
  }
  out = any ? Params(s.text().substr(start, end - start)) : Params();
  return std::nullopt;
}

/// The same without a visitor.
Parsed<Params> parse_header_params(Scanner& s);

}  // namespace imsflow::sip
