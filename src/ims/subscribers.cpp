#include "ims/subscribers.hpp"

#include <charconv>

#include "sip/uri.hpp"
#include "util/ascii.hpp"

namespace imsflow::ims {

namespace {

template <std::size_t N>
bool parse_hex(std::string_view text, std::array<std::uint8_t, N>& out) {
  if (text.size() != 2 * N) return false;
  for (std::size_t i = 0; i < N; ++i) {
    unsigned v = 0;
    auto [end, ec] = std::from_chars(text.data() + 2 * i, text.data() + 2 * i + 2, v, 16);
    if (ec != std::errc{} || end != text.data() + 2 * i + 2) return false;
    out[i] = static_cast<std::uint8_t>(v);
  }
  return true;
}

std::vector<std::string_view> split(std::string_view text, char by) {
  std::vector<std::string_view> parts;
  while (!text.empty()) {
    const std::size_t at = text.find(by);
    const std::string_view part = text.substr(0, at);
    if (!part.empty()) parts.push_back(part);
    if (at == std::string_view::npos) break;
    text.remove_prefix(at + 1);
  }
  return parts;
}

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

}  // namespace

std::string SubscriberConfigError::describe(std::string_view file_name) const {
  return std::string(file_name) + " line " + std::to_string(line) + ": " + what;
}

std::string canonical_impu(std::string_view text) {
  auto uri = sip::parse_uri(text);
  if (!uri) return {};
  std::string out;
  if (uri->kind == sip::UriScheme::Tel) {
    out = "tel:";
    for (char c : uri->user)
      if (c != '-' && c != '.' && c != '(' && c != ')') out.push_back(c);
    return out;
  }
  if (!uri->is_sip()) return {};
  out = "sip:";
  out.append(uri->user).push_back('@');
  for (char c : uri->host) out.push_back(ascii::to_lower(c));
  return out;
}

Result<std::vector<Subscriber>, SubscriberConfigError> parse_subscribers(std::string_view text) {
  std::vector<Subscriber> out;
  std::size_t number = 0;
  while (!text.empty()) {
    ++number;
    const std::size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (const std::size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const auto w = words(line);
    if (w.empty()) continue;
    auto fail = [&](std::string what) { return Unexpected{SubscriberConfigError{number, std::move(what)}}; };
    if (w.size() < 4) return fail("expected IMPI, IMPUs, K and OPc, found " + std::to_string(w.size()) + " fields");
    Subscriber s;
    s.impi = std::string(w[0]);
    for (std::string_view impu : split(w[1], ',')) {
      if (canonical_impu(impu).empty())
        return fail("'" + std::string(impu) + "' is not a sip: or tel: public identity");
      s.impus.emplace_back(impu);
    }
    if (s.impus.empty()) return fail("no public identity (IMPU)");
    if (!parse_hex(w[2], s.k)) return fail("K must be 32 hex digits, not '" + std::string(w[2]) + "'");
    if (!parse_hex(w[3], s.opc)) return fail("OPc must be 32 hex digits, not '" + std::string(w[3]) + "'");
    for (std::size_t i = 4; i < w.size(); ++i) {
      const std::size_t eq = w[i].find('=');
      const std::string_view name = w[i].substr(0, eq);
      const std::string_view value = eq == std::string_view::npos ? std::string_view() : w[i].substr(eq + 1);
      if (name == "sqn") {
        auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), s.sqn);
        if (ec != std::errc{} || end != value.data() + value.size() || s.sqn > kSqnMax)
          return fail("sqn must be a number below 2^48, not '" + std::string(value) + "'");
      } else if (name == "amf") {
        if (!parse_hex(value, s.amf)) return fail("amf must be 4 hex digits, not '" + std::string(value) + "'");
      } else if (name == "password") {
        s.password = std::string(value);
      } else {
        return fail("unknown setting '" + std::string(w[i]) + "' (sqn=, amf=, password=)");
      }
    }
    for (const Subscriber& other : out)
      if (other.impi == s.impi) return fail("IMPI " + s.impi + " is listed twice");
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace imsflow::ims
