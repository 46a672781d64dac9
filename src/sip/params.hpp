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
  // Written on raw pointers (the scanner's position is written back before
  // each error and each on_param call, which may read it), because this runs
  // for every parameter of every header.
  const char* const base = s.text().data();
  const char* const end = base + s.text().size();
  const char* const limit = s.limit();
  auto skip_lws = [end](const char* q) {
    while (q < end && ascii::is_lws(*q)) ++q;
    return q;
  };
  const char* p = base + s.pos();
  const char* start = p;
  const char* last = p;
  bool any = false;
  while (true) {
    const char* q = skip_lws(p);
    if (q == end || *q != ';') break;  // the position stays before the LWS
    if (!any) {
      start = q;
      any = true;
    }
    q = skip_lws(q + 1);
    const char* const name = q;
    q = scan::skip_common(q, end, limit, scan::kCommonToken);
    while (q < end && ascii::is_token(*q)) ++q;
    if (q == name) {
      s.set_pos(static_cast<std::size_t>(q - base));
      return s.error("a parameter name after ';'");
    }
    const std::string_view param_name(name, static_cast<std::size_t>(q - name));
    last = q;
    std::string_view value;
    if (const char* r = skip_lws(q); r < end && *r == '=') {
      r = skip_lws(r + 1);
      const char* const v = r;
      if (r < end && *r == '"') {
        s.set_pos(static_cast<std::size_t>(r - base));
        auto quoted = s.quoted_string();
        if (!quoted) return quoted.error();
        r = base + s.pos();
      } else {
        r = scan::skip_common(r, end, limit, scan::kCommonToken);
        while (r < end && internal::is_gen_value_char(*r)) ++r;
        if (r == v) {
          s.set_pos(static_cast<std::size_t>(r - base));
          return s.error("a parameter value after '='");
        }
      }
      value = std::string_view(v, static_cast<std::size_t>(r - v));
      last = r;
      q = r;
    }
    s.set_pos(static_cast<std::size_t>(q - base));
    on_param(param_name, value);
    p = q;
  }
  s.set_pos(static_cast<std::size_t>(p - base));
  out = any ? Params(std::string_view(start, static_cast<std::size_t>(last - start))) : Params();
  return std::nullopt;
}

/// The same without a visitor.
Parsed<Params> parse_header_params(Scanner& s);

}  // namespace imsflow::sip
