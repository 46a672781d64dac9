#include "sip/header_values.hpp"

#include <array>

namespace imsflow::sip {

namespace {

std::uint32_t u32(std::size_t v) { return static_cast<std::uint32_t>(v); }

// Bytes that end the plain run of a param-value: ';', LWS, '"', controls and
// DEL, and ',' in list headers. Everything else is taken as it is.
constexpr std::uint8_t kValueStop = 1;
constexpr std::uint8_t kValueStopInList = 2;
constexpr std::array<std::uint8_t, 256> build_value_stops() {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = kValueStop;
  t[0x7F] = kValueStop;
  t[static_cast<unsigned char>(';')] = kValueStop;
  t[static_cast<unsigned char>(' ')] = kValueStop;
  t[static_cast<unsigned char>('"')] = kValueStop;
  t[static_cast<unsigned char>(',')] = kValueStopInList;
  return t;
}
constexpr std::array<std::uint8_t, 256> kValueStops = build_value_stops();

/// Reads an unbracketed addr-spec: it runs to LWS, ';' (header params) and,
/// in lists, ','. RFC 3261 §20.10: a URI holding ',', ';' or '?' must be in <>.
std::optional<SyntaxError> read_addr_spec(Scanner& s, bool in_list, Uri& uri) {
  const std::size_t start = s.pos();
  while (!s.at_end()) {
    const char c = s.peek();
    if (ascii::is_lws(c) || c == ';' || (in_list && c == ',')) break;
    if (c == '?') return s.error("'<' '>' around a URI that carries headers ('?')");
    if (c == '<' || c == '>' || c == '"') return s.error("a URI character (not '<', '>' or '\"')");
    s.advance();
  }
  if (s.pos() == start) return s.error("a URI");
  if (auto e = parse_uri(s.slice(start), uri)) return SyntaxError{u32(start + e->offset), e->expected};
  return std::nullopt;
}

std::optional<SyntaxError> read_bracketed_uri(Scanner& s, Uri& uri) {
  // s is just past '<'. The one-pass parser finds the '>' itself; when it
  // stops anywhere else, the checks below say why, in their order.
  {
    const char* p = s.text().data() + s.pos();
    const char* end = s.text().data() + s.text().size();
    const char* stop = internal::parse_uri_prefix(p, end, uri, s.limit());
    if (stop && stop < end && *stop == '>') {
      s.advance(static_cast<std::size_t>(stop - p) + 1);
      return std::nullopt;
    }
    uri = Uri{};
  }
  // RFC 3261: no whitespace inside the brackets.
  const std::size_t start = s.pos();
  std::string_view rest = s.rest();
  std::size_t i = 0;
  while (i < rest.size() && rest[i] != '>') {
    if (ascii::is_lws(rest[i])) {
      s.advance(i);
      return s.error("no whitespace inside '<' '>'");
    }
    ++i;
  }
  if (i == rest.size()) return SyntaxError{u32(start - 1), "a '>' closing this '<'"};
  if (auto e = internal::parse_uri_general(rest.substr(0, i), uri)) return SyntaxError{u32(start + e->offset), e->expected};
  s.advance(i + 1);
  return std::nullopt;
}

/// Reads a method token for CSeq and RAck.
Parsed<std::string_view> read_method(Scanner& s) {
  std::string_view m = s.token();
  if (m.empty()) return Unexpected{s.error("a method name")};
  return m;
}

Parsed<std::uint32_t> read_u32(Scanner& s, const char* what) {
  const std::size_t start = s.pos();
  std::string_view digits = s.take_while(ascii::kDigit);
  if (digits.empty()) return Unexpected{s.error(what)};
  auto v = ascii::parse_uint(digits, 0xFFFFFFFFull);
  if (!v) return Unexpected{SyntaxError{u32(start), "a number no larger than 4294967295"}};
  return static_cast<std::uint32_t>(*v);
}

}  // namespace

std::optional<SyntaxError> parse_name_addr(Scanner& s, bool in_list, NameAddr& na) {
  const HeaderId header = na.header;
  na = NameAddr{};
  na.header = header;
  return internal::parse_name_addr_fresh(s, in_list, na);
}

std::optional<SyntaxError> internal::parse_name_addr_fresh(Scanner& s, bool in_list, NameAddr& na) {
  s.skip_lws();
  const std::size_t start = s.pos();
  if (s.peek() == '<') {
    s.advance();
    na.bracketed = true;
  } else if (s.peek() == '"') {
    auto dn = s.quoted_string();
    if (!dn) return dn.error();
    na.display_name = *dn;
    na.display_quoted = true;
    s.skip_lws();
    if (!s.consume('<')) return s.error("'<' after the quoted display name");
    na.bracketed = true;
  } else {
    // Either *(token LWS) '<' (a display name; RFC 4475 §3.1.1.6 tolerates no
    // LWS before '<') or an addr-spec.
    std::size_t dn_end = start;
    std::size_t tokens = 0;
    while (true) {
      std::string_view t = s.token();
      if (t.empty()) break;
      ++tokens;
      dn_end = s.pos();
      s.skip_lws();
    }
    if (tokens > 0 && s.peek() == '<') {
      na.display_name = s.text().substr(start, dn_end - start);
      s.advance();
      na.bracketed = true;
    } else {
      const std::size_t stop = s.pos();
      s.set_pos(start);
      if (auto e = read_addr_spec(s, in_list, na.uri)) {
        // A token run followed by something that is neither a URI nor '<' is a
        // display name with characters a display name may only have when quoted.
        if (tokens > 0 && stop < s.text().size() && s.text()[stop] != ':')
          return SyntaxError{u32(stop), "a quoted display name (it has characters outside token) or '<'"};
        return e;
      }
    }
  }
  if (na.bracketed) {
    if (auto e = read_bracketed_uri(s, na.uri)) return e;
  }
  if (auto e = parse_header_params(s, na.params, [](std::string_view, std::string_view) {})) return e;
  na.raw = s.slice(start);
  return std::nullopt;
}

Parsed<NameAddr> parse_name_addr(Scanner& s, bool in_list) {
  NameAddr na;
  if (auto e = parse_name_addr(s, in_list, na)) return Unexpected{*e};
  return na;
}

std::optional<SyntaxError> parse_via(Scanner& s, Via& via) {
  via = Via{};
  return internal::parse_via_fresh(s, via);
}

std::optional<SyntaxError> internal::parse_via_fresh(Scanner& s, Via& via) {
  s.skip_lws();
  const std::size_t start = s.pos();
  via.protocol_name = s.token();
  if (via.protocol_name.empty()) return s.error("a protocol name ('SIP')");
  if (!s.consume_separator('/')) return s.error("'/' after the protocol name");
  via.protocol_version = s.token();
  if (via.protocol_version.empty()) return s.error("a protocol version ('2.0')");
  if (!s.consume_separator('/')) return s.error("'/' after the protocol version");
  via.transport = s.token();
  if (via.transport.empty()) return s.error("a transport (UDP, TCP, TLS, SCTP …)");
  if (!s.skip_lws()) return s.error("whitespace before sent-by");
  // sent-by = host [ COLON port ]
  const std::size_t host_start = s.pos();
  if (s.peek() == '[') {
    while (!s.at_end() && s.peek() != ']') s.advance();
    if (!s.consume(']')) return SyntaxError{u32(host_start), "a ']' closing the IPv6 reference"};
  } else {
    s.take_while(ascii::kHostname);
  }
  via.host = s.slice(host_start);
  auto kind = parse_host(via.host);
  if (!kind) return SyntaxError{u32(host_start + kind.error().offset), kind.error().expected};
  via.host_kind = *kind;
  if (s.consume_separator(':')) {
    const std::size_t port_start = s.pos();
    auto port = ascii::parse_uint(s.take_while(ascii::kDigit), 65535);
    if (!port) return SyntaxError{u32(port_start), "a port number from 0 to 65535"};
    via.port = static_cast<std::uint16_t>(*port);
    via.has_port = true;
  }
  // The parameters a transaction needs are checked in the same pass.
  std::optional<SyntaxError> bad;
  auto e = parse_header_params(s, via.params, [&](std::string_view name, std::string_view value) {
    if (bad) return;
    if (const char* expected = internal::take_via_param(via, name, value)) bad = s.error(expected);
  });
  if (e) return e;
  if (bad) return bad;
  via.raw = s.slice(start);
  return std::nullopt;
}

const char* internal::take_via_param(Via& via, std::string_view name, std::string_view value) {
  if (name.size() == 6 && ascii::iequals(name, "branch")) {
    if (via.branch.empty()) via.branch = value;
  } else if (name.size() == 8 && ascii::iequals(name, "received")) {
    if (!is_ip_address(value)) return "an IPv4 or IPv6 address in received";
  } else if (name.size() == 5 && ascii::iequals(name, "rport")) {
    if (!value.empty() && !ascii::parse_uint(value, 65535)) return "a port number in rport";
  }
  return nullptr;
}

Parsed<Via> parse_via(Scanner& s) {
  Via via;
  if (auto e = parse_via(s, via)) return Unexpected{*e};
  return via;
}

Parsed<CSeq> parse_cseq(std::string_view value) {
  Scanner s(value);
  s.skip_lws();
  CSeq c;
  auto n = read_u32(s, "a CSeq number");
  if (!n) return Unexpected{n.error()};
  c.number = *n;
  if (!s.skip_lws()) return Unexpected{s.error("whitespace between the CSeq number and the method")};
  auto m = read_method(s);
  if (!m) return Unexpected{m.error()};
  c.method_text = *m;
  c.method = method_from_token(c.method_text);
  s.skip_lws();
  if (!s.at_end()) return Unexpected{s.error("the end of the CSeq value")};
  return c;
}

Parsed<RAck> parse_rack(std::string_view value) {
  Scanner s(value);
  s.skip_lws();
  RAck r;
  auto rseq = read_u32(s, "the RSeq number being acknowledged");
  if (!rseq) return Unexpected{rseq.error()};
  if (!s.skip_lws()) return Unexpected{s.error("whitespace after the response number")};
  auto cseq = read_u32(s, "the CSeq number of the INVITE");
  if (!cseq) return Unexpected{cseq.error()};
  if (!s.skip_lws()) return Unexpected{s.error("whitespace before the method")};
  auto m = read_method(s);
  if (!m) return Unexpected{m.error()};
  s.skip_lws();
  if (!s.at_end()) return Unexpected{s.error("the end of the RAck value")};
  r.rseq = *rseq;
  r.cseq = *cseq;
  r.method_text = *m;
  r.method = method_from_token(*m);
  return r;
}

std::optional<SyntaxError> parse_param_value(Scanner& s, bool stop_at_comma, ParamValue& pv) {
  const HeaderId header = pv.header;
  pv = ParamValue{};
  pv.header = header;
  return internal::parse_param_value_fresh(s, stop_at_comma, pv);
}

std::optional<SyntaxError> internal::parse_param_value_fresh(Scanner& s, bool stop_at_comma, ParamValue& pv) {
  s.skip_lws();
  const std::size_t start = s.pos();
  if (s.peek() == '"') {
    auto q = s.quoted_string();
    if (!q) return q.error();
  } else if (s.peek() == '<') {
    while (!s.at_end() && s.peek() != '>') s.advance();
    if (!s.consume('>')) return SyntaxError{u32(start), "a '>' closing this '<'"};
  } else {
    // A run of non-separator characters; it stops at LWS, which the
    // parameters (or the end) may follow ("SIP ;cause=200").
    const std::uint8_t stops = stop_at_comma ? (kValueStop | kValueStopInList) : kValueStop;
    const char* const base = s.text().data();
    const char* const end = base + s.text().size();
    while (!s.at_end()) {
      // Plain value bytes first, in a tight loop; the checks below see the rest.
      const char* p = base + s.pos();
      p = scan::skip_common(p, end, s.limit(), scan::kCommonValue);
      while (p < end && !(kValueStops[static_cast<unsigned char>(*p)] & stops)) ++p;
      s.set_pos(static_cast<std::size_t>(p - base));
      if (s.at_end()) break;
      const char c = s.peek();
      if (c == ';' || ascii::is_lws(c) || (stop_at_comma && c == ',')) break;
      if (c == '"') {
        auto q = s.quoted_string();
        if (!q) return q.error();
        continue;
      }
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) return s.error("no control characters in the value");
      s.advance();
    }
  }
  pv.value = s.slice(start);
  if (pv.value.empty()) return s.error("a value before the parameters");
  if (auto e = parse_header_params(s, pv.params, [](std::string_view, std::string_view) {})) return e;
  pv.raw = s.slice(start);
  return std::nullopt;
}

Parsed<ParamValue> parse_param_value(Scanner& s, bool stop_at_comma) {
  ParamValue pv;
  if (auto e = parse_param_value(s, stop_at_comma, pv)) return Unexpected{*e};
  return pv;
}

Parsed<ParamValue> parse_retry_after(std::string_view value) {
  Scanner s(value);
  s.skip_lws();
  ParamValue pv;
  const std::size_t start = s.pos();
  auto seconds = read_u32(s, "delta-seconds");
  if (!seconds) return Unexpected{seconds.error()};
  pv.value = s.slice(start);
  s.skip_lws();
  if (s.peek() == '(') {
    // comment with nesting (RFC 3261 §25.1)
    const std::size_t open = s.pos();
    int depth = 0;
    while (!s.at_end()) {
      const char c = s.peek();
      if (c == '\\') {
        s.advance(2);
        continue;
      }
      if (c == '(') ++depth;
      if (c == ')' && --depth == 0) break;
      s.advance();
    }
    if (!s.consume(')')) return Unexpected{SyntaxError{u32(open), "a ')' closing this comment"}};
    pv.comment = value.substr(open + 1, s.pos() - open - 2);
  }
  if (auto e = parse_header_params(s, pv.params, [](std::string_view, std::string_view) {})) return Unexpected{*e};
  s.skip_lws();
  if (!s.at_end()) return Unexpected{s.error("';' parameters or the end of Retry-After")};
  pv.raw = s.slice(start);
  return pv;
}

Parsed<Warning> parse_warning(Scanner& s) {
  Warning w;
  s.skip_lws();
  const std::size_t code_start = s.pos();
  std::string_view code = s.take_while(ascii::kDigit);
  if (code.size() != 3) return Unexpected{SyntaxError{u32(code_start), "a three-digit warn-code"}};
  w.code = static_cast<std::uint16_t>(*ascii::parse_uint(code, 999));
  if (!s.consume(' ')) return Unexpected{s.error("SP after the warn-code")};
  const std::size_t agent_start = s.pos();
  while (!s.at_end() && !ascii::is_lws(s.peek())) s.advance();
  w.agent = s.slice(agent_start);
  if (w.agent.empty()) return Unexpected{s.error("a warn-agent")};
  if (!s.consume(' ')) return Unexpected{s.error("SP after the warn-agent")};
  auto text = s.quoted_string();
  if (!text) return Unexpected{text.error()};
  w.text = *text;
  return w;
}

Parsed<Credentials> parse_credentials(std::string_view value) {
  Scanner s(value);
  s.skip_lws();
  Credentials c;
  c.scheme = s.token();
  if (c.scheme.empty()) return Unexpected{s.error("an authentication scheme")};
  if (!s.skip_lws()) {
    if (s.at_end()) return c;
    return Unexpected{s.error("whitespace after the authentication scheme")};
  }
  const std::size_t params_start = s.pos();
  auto err = parse_comma_list(s, true, [](Scanner& sc) -> std::optional<SyntaxError> {
    if (sc.token().empty()) return sc.error("an auth-param name");
    if (!sc.consume_separator('=')) return sc.error("'=' after the auth-param name");
    if (sc.peek() == '"') {
      auto q = sc.quoted_string();
      if (!q) return q.error();
    } else if (sc.token().empty()) {
      return sc.error("a token or quoted-string auth-param value");
    }
    return std::nullopt;
  });
  if (err) return Unexpected{*err};
  c.params = ascii::trim_lws(value.substr(params_start));
  return c;
}

std::optional<std::string_view> Credentials::param(std::string_view name) const {
  Scanner s(params);
  while (true) {
    s.skip_lws();
    if (s.at_end()) return std::nullopt;
    std::string_view n = s.token();
    s.consume_separator('=');
    std::string_view v;
    if (s.peek() == '"') {
      auto q = s.quoted_string();
      if (!q) return std::nullopt;
      v = *q;
    } else {
      v = s.token();
    }
    if (ascii::iequals(n, name)) return v;
    s.skip_lws();
    if (!s.consume(',')) return std::nullopt;
  }
}

std::optional<SyntaxError> check_date(std::string_view value) {
  // wkday "," SP 2DIGIT SP month SP 4DIGIT SP 2DIGIT ":" 2DIGIT ":" 2DIGIT SP "GMT"
  static constexpr std::string_view kDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::string_view v = ascii::trim_lws(value);
  const std::uint32_t lead = u32(value.find_first_not_of(" \t"));
  auto in = [](std::string_view x, const std::string_view* list, int n) {
    for (int i = 0; i < n; ++i) {
      if (list[i] == x) return true;
    }
    return false;
  };
  auto digits = [&v](std::size_t at, std::size_t n) {
    if (at + n > v.size()) return false;
    for (std::size_t i = at; i < at + n; ++i) {
      if (!ascii::is_digit(v[i])) return false;
    }
    return true;
  };
  if (v.size() != 29) return SyntaxError{lead, "an RFC 1123 date like 'Sat, 13 Nov 2010 23:29:00 GMT'"};
  if (!in(v.substr(0, 3), kDays, 7) || v.substr(3, 2) != ", ") return SyntaxError{lead, "a weekday such as 'Mon,'"};
  if (!digits(5, 2) || v[7] != ' ' || !in(v.substr(8, 3), kMonths, 12) || v[11] != ' ' || !digits(12, 4) ||
      v[16] != ' ')
    return SyntaxError{lead + 5, "a date 'DD Mon YYYY'"};
  if (!digits(17, 2) || v[19] != ':' || !digits(20, 2) || v[22] != ':' || !digits(23, 2) || v[25] != ' ')
    return SyntaxError{lead + 17, "a time 'HH:MM:SS'"};
  if (v.substr(26) != "GMT") return SyntaxError{lead + 26, "the time zone 'GMT' (the only one SIP allows)"};
  return std::nullopt;
}

std::optional<SyntaxError> check_call_id(std::string_view value) {
  Scanner s(value);
  s.skip_lws();
  if (s.take_while(ascii::kWord).empty()) return s.error("a Call-ID word");
  if (s.consume('@') && s.take_while(ascii::kWord).empty()) return s.error("a word after '@' in the Call-ID");
  s.skip_lws();
  if (!s.at_end()) return s.error("Call-ID characters (word [\"@\" word])");
  return std::nullopt;
}

std::optional<SyntaxError> check_text(std::string_view value) {
  for (std::size_t i = 0; i < value.size(); ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7F)
      return SyntaxError{u32(i), "text without control characters"};
  }
  if (auto bad = ascii::find_invalid_utf8(value)) return SyntaxError{u32(*bad), "valid UTF-8 text"};
  return std::nullopt;
}

}  // namespace imsflow::sip
