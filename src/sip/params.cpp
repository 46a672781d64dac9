#include "sip/params.hpp"

namespace imsflow::sip {

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
  Params p;
  if (auto e = parse_header_params(s, p, [](std::string_view, std::string_view) {})) return Unexpected{*e};
  return p;
}

}  // namespace imsflow::sip
