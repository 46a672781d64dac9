#include "sip/params.hpp"

namespace imsflow::sip {

namespace {
// Characters of a gen-value outside quotes: token, plus ':' '[' ']' so that
// host values (IPv6 references, RFC 5118 §4.5 received=2001:db8::1) pass.
constexpr std::uint16_t kGenValue = ascii::kToken;
bool is_gen_value_char(char c) { return ascii::is(c, kGenValue) || c == ':' || c == '[' || c == ']'; }
}  // namespace

void Params::Iterator::next() {
  // Skip separators and whitespace; the text is known to be well formed.
  std::size_t i = 0;
  while (i < rest_.size() && (rest_[i] == ';' || ascii::is_lws(rest_[i]))) ++i;
  if (i >= rest_.size()) {
    done_ = true;
    rest_ = {};
    return;
  }
  const std::size_t name_start = i;
  while (i < rest_.size() && rest_[i] != '=' && rest_[i] != ';' && !ascii::is_lws(rest_[i])) ++i;
  current_.name = rest_.substr(name_start, i - name_start);
  current_.value = {};
  current_.has_value = false;
  std::size_t j = i;
  while (j < rest_.size() && ascii::is_lws(rest_[j])) ++j;
  if (j < rest_.size() && rest_[j] == '=') {
    ++j;
    while (j < rest_.size() && ascii::is_lws(rest_[j])) ++j;
    const std::size_t value_start = j;
    if (j < rest_.size() && rest_[j] == '"') {
      ++j;
      while (j < rest_.size() && rest_[j] != '"') j += (rest_[j] == '\\') ? 2 : 1;
      if (j < rest_.size()) ++j;
    } else {
      while (j < rest_.size() && rest_[j] != ';' && !ascii::is_lws(rest_[j])) ++j;
    }
    if (j > rest_.size()) j = rest_.size();
    current_.value = rest_.substr(value_start, j - value_start);
    current_.has_value = true;
    i = j;
  }
  rest_ = rest_.substr(i);
}

std::optional<std::string_view> Params::get(std::string_view name) const {
  for (const Param& p : *this) {
    if (ascii::iequals(p.name, name)) return p.value;
  }
  return std::nullopt;
}

Parsed<Params> parse_header_params(Scanner& s) {
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
    if (s.token().empty()) return Unexpected{s.error("a parameter name after ';'")};
    end = s.pos();
    if (s.consume_separator('=')) {
      if (s.peek() == '"') {
        auto q = s.quoted_string();
        if (!q) return Unexpected{q.error()};
      } else {
        const std::size_t v = s.pos();
        while (!s.at_end() && is_gen_value_char(s.peek())) s.advance();
        if (s.pos() == v) return Unexpected{s.error("a parameter value after '='")};
      }
      end = s.pos();
    }
  }
  if (!any) return Params();
  return Params(s.text().substr(start, end - start));
}

}  // namespace imsflow::sip
