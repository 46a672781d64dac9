#include "sip/parser.hpp"

#include <bitset>
#include <cstring>

#include "sip/fast_values.hpp"
#include "util/byte_scan.hpp"

namespace imsflow::sip {

namespace {
std::uint32_t u32(std::size_t v) { return static_cast<std::uint32_t>(v); }

/// What a single-value param-value header asks of its value beyond the
/// grammar: a number (Session-Expires, Min-SE) or a media type (Content-Type).
std::optional<SyntaxError> check_param_value(const ParamValue& pv) {
  if (pv.header == HeaderId::SessionExpires || pv.header == HeaderId::MinSE) {
    if (!ascii::parse_uint(pv.value, 0xFFFFFFFFull)) return SyntaxError{0, "delta-seconds (a number of seconds)"};
  } else if (pv.header == HeaderId::ContentType) {
    const std::size_t slash = pv.value.find('/');
    if (slash == std::string_view::npos || slash == 0 || slash + 1 == pv.value.size() ||
        !ascii::all_of(pv.value.substr(0, slash), ascii::kToken) ||
        !ascii::all_of(pv.value.substr(slash + 1), ascii::kToken))
      return SyntaxError{0, "a media type 'type/subtype'"};
  }
  return std::nullopt;
}

/// Reads a header value element by element: `read(p, entry)` fills a fresh
/// entry of `table` from p and returns where the element stopped (nullptr
/// for another shape); elements are joined by ',' in a list header. True when
/// the whole value was read; otherwise the table is put back as it was.
template <class Table, class Read>
bool take_elements(Table& table, const char* begin, const char* end, bool list, Read&& read) {
  const std::size_t before = table.size();
  for (const char* p = begin; p != nullptr;) {
    p = read(p, table.emplace_back());
    if (p == end) return true;
    p = list ? internal::fast_next_element(p, end) : nullptr;
  }
  table.truncate(before);
  return false;
}
}  // namespace

class MessageParser {
 public:
  MessageParser(std::string_view input, Message& msg, ParseMode mode, const ParseLimits& limits)
      : in_(input), msg_(msg), mode_(mode), limits_(limits) {}

  Result<std::size_t, ParseError> run();

 private:
  using Fail = Unexpected<ParseError>;

  ParseError error(ParseErrorCode code, std::size_t offset, const char* expected) const {
    ParseError e;
    e.code = code;
    e.offset = u32(offset);
    e.expected = expected;
    e.in_request = msg_.is_request_;
    e.method = msg_.method_;
    return e;
  }
  ParseError header_error(ParseErrorCode code, const HeaderField& f, std::size_t offset, const char* expected) const {
    ParseError e = error(code, offset, expected);
    e.header = f.id;
    e.header_name = f.name;
    return e;
  }

  /// Finds the end of the line starting at `pos`: returns the index of its LF
  /// and sets `content_end` to the first byte of the line terminator.
  [[gnu::always_inline]] std::size_t line_end(scan::LineFinder& lines, std::size_t pos, std::size_t& content_end) const {
    const char* nl = lines.next(in_.data() + pos);
    if (nl == in_.data() + in_.size()) return std::string_view::npos;
    const std::size_t lf = static_cast<std::size_t>(nl - in_.data());
    content_end = (lf > pos && in_[lf - 1] == '\r') ? lf - 1 : lf;
    return lf;
  }

  std::optional<ParseError> parse_start_line(std::string_view line, std::size_t at);
  std::optional<ParseError> parse_request_line(std::string_view line, std::size_t at);
  bool parse_request_line_fast(std::string_view line);
  std::optional<ParseError> parse_status_line(std::string_view line, std::size_t at);
  bool take_common_shape(const HeaderField& f);
  /// Stores a number header's value; false for an RSeq of 0.
  bool store_number(HeaderId id, std::uint32_t n);
  std::optional<ParseError> parse_value(HeaderField& f);
  std::optional<ParseError> check_required() const;

  // Sizes of the typed tables, to undo a partly parsed tolerated header.
  struct Tables {
    std::size_t name_addrs, tokens, param_values;
  };
  Tables table_sizes() const { return {msg_.name_addrs_.size(), msg_.tokens_.size(), msg_.param_values_.size()}; }
  void restore(const Tables& t) {
    msg_.name_addrs_.truncate(t.name_addrs);
    msg_.tokens_.truncate(t.tokens);
    msg_.param_values_.truncate(t.param_values);
  }

  std::string_view in_;
  Message& msg_;
  ParseMode mode_;
  const ParseLimits& limits_;
  std::size_t base_ = 0;  // offset of the message in the input
  std::bitset<static_cast<std::size_t>(HeaderId::kCount)> seen_single_;  // single-value headers met so far
};

std::optional<ParseError> MessageParser::parse_start_line(std::string_view line, std::size_t at) {
  if (line.size() >= 4 && ascii::iequals(line.substr(0, 4), "SIP/")) return parse_status_line(line, at);
  msg_.is_request_ = true;
  return parse_request_line(line, at);
}

bool MessageParser::parse_request_line_fast(std::string_view line) {
  // The common shape "Method SP Request-URI SP SIP/2.0", the URI parsed in
  // place in one pass. Anything else goes to the checks below, which decide.
  const char* const begin = line.data();
  const char* const end = begin + line.size();
  const char* p = begin;
  while (p < end && ascii::is_token(*p)) ++p;
  if (p == begin || end - p < 10 || *p != ' ') return false;
  if (std::memcmp(end - 8, " SIP/2.0", 8) != 0) return false;
  const char* uri_end = end - 8;
  const char* stop = internal::parse_uri_prefix(p + 1, uri_end, msg_.request_uri_, in_.data() + in_.size());
  if (stop != uri_end || !msg_.request_uri_.headers.empty()) return false;
  msg_.method_text_ = std::string_view(begin, static_cast<std::size_t>(p - begin));
  msg_.method_ = method_from_token(msg_.method_text_);
  msg_.version_ = std::string_view(end - 7, 7);
  return true;
}

std::optional<ParseError> MessageParser::parse_request_line(std::string_view line, std::size_t at) {
  if (parse_request_line_fast(line)) return std::nullopt;
  msg_.request_uri_ = Uri{};
  // Method SP Request-URI SP SIP-Version
  std::size_t i = 0;
  while (i < line.size() && ascii::is_token(line[i])) ++i;
  if (i == 0) return error(ParseErrorCode::StartLine, at, "a method token at the start of the request line");
  msg_.method_text_ = line.substr(0, i);
  msg_.method_ = method_from_token(msg_.method_text_);
  if (i >= line.size() || line[i] != ' ') return error(ParseErrorCode::StartLine, at + i, "SP after the method");
  ++i;
  if (i < line.size() && ascii::is_space(line[i]))
    return error(ParseErrorCode::StartLine, at + i, "a single SP between request-line elements (RFC 4475 §3.1.2.9)");
  if (!line.empty() && ascii::is_space(line.back()))
    return error(ParseErrorCode::StartLine, at + line.size() - 1, "CRLF right after SIP-Version, without trailing whitespace");
  const std::size_t last_sp = line.rfind(' ');
  if (last_sp < i) return error(ParseErrorCode::StartLine, at + line.size(), "SP and SIP-Version after the Request-URI");
  std::string_view uri_text = line.substr(i, last_sp - i);
  std::string_view version = line.substr(last_sp + 1);
  if (uri_text.empty()) return error(ParseErrorCode::RequestUri, at + i, "a Request-URI");
  if (uri_text.front() == '<')
    return error(ParseErrorCode::RequestUri, at + i, "a Request-URI without enclosing '<' '>' (RFC 4475 §3.1.2.7)");
  for (std::size_t k = 0; k < uri_text.size(); ++k) {
    if (ascii::is_space(uri_text[k]))
      return error(ParseErrorCode::RequestUri, at + i + k, "a Request-URI without embedded whitespace");
  }
  auto uri = parse_uri(uri_text);
  if (!uri) return error(ParseErrorCode::RequestUri, at + i + uri.error().offset, uri.error().expected);
  if (!uri->headers.empty())
    return error(ParseErrorCode::RequestUri, at + i + (uri_text.find('?')),
                 "a Request-URI without headers ('?' is not allowed there, RFC 3261 §19.1.1)");
  msg_.request_uri_ = *uri;
  msg_.version_ = version;
  if (version.size() < 5 || !ascii::iequals(version.substr(0, 4), "SIP/"))
    return error(ParseErrorCode::StartLine, at + last_sp + 1, "SIP-Version 'SIP/2.0' at the end of the request line");
  if (version.substr(4) != "2.0") {
    const std::string_view v = version.substr(4);
    const std::size_t dot = v.find('.');
    if (dot == std::string_view::npos || dot == 0 || dot + 1 == v.size() ||
        !ascii::all_of(v.substr(0, dot), ascii::kDigit) || !ascii::all_of(v.substr(dot + 1), ascii::kDigit))
      return error(ParseErrorCode::StartLine, at + last_sp + 5, "a version number 'major.minor'");
    return error(ParseErrorCode::Version, at + last_sp + 1, "SIP/2.0 (the only version supported)");
  }
  return std::nullopt;
}

std::optional<ParseError> MessageParser::parse_status_line(std::string_view line, std::size_t at) {
  // SIP-Version SP Status-Code SP Reason-Phrase
  const std::size_t sp = line.find(' ');
  msg_.version_ = line.substr(0, sp);
  if (sp == std::string_view::npos) return error(ParseErrorCode::StartLine, at + line.size(), "SP after SIP-Version");
  if (msg_.version_ != "SIP/2.0") return error(ParseErrorCode::Version, at, "SIP/2.0 (the only version supported)");
  std::size_t i = sp + 1;
  const std::size_t code_start = i;
  while (i < line.size() && ascii::is_digit(line[i])) ++i;
  auto code = ascii::parse_uint(line.substr(code_start, i - code_start), 999);
  if (i - code_start != 3 || !code || *code < 100 || *code > 699)
    return error(ParseErrorCode::StatusCode, at + code_start, "a three-digit status code from 100 to 699");
  msg_.status_code_ = static_cast<int>(*code);
  if (i < line.size()) {
    if (line[i] != ' ') return error(ParseErrorCode::StartLine, at + i, "SP after the status code");
    msg_.reason_phrase_ = line.substr(i + 1);
    if (auto bad = check_text(msg_.reason_phrase_))
      return error(ParseErrorCode::StartLine, at + i + 1 + bad->offset, "a reason phrase of UTF-8 text");
  }
  return std::nullopt;
}

bool MessageParser::store_number(HeaderId id, std::uint32_t n) {
  switch (id) {
    case HeaderId::ContentLength: msg_.content_length_ = n; break;
    case HeaderId::Expires: msg_.expires_ = n; break;
    case HeaderId::MinExpires: msg_.min_expires_ = n; break;
    case HeaderId::RSeq:
      if (n == 0) return false;  // RFC 3262 §7.1: 1 to 2**32 - 1
      msg_.rseq_ = n;
      break;
    case HeaderId::MaxForwards: msg_.max_forwards_ = n; break;
    default: break;
  }
  return true;
}

bool MessageParser::take_common_shape(const HeaderField& f) {
  // The one-pass readers (fast_values.hpp) in a function of their own: it
  // needs few registers, and most headers end here. On false the tables are
  // as they were, and parse_value() reads the header with the general grammar.
  const char* const begin = f.value.data();
  const char* const end = begin + f.value.size();
  const char* const limit = in_.data() + in_.size();  // the value lies inside the input
  const HeaderGrammar grammar = header_info(f.id).grammar;
  switch (grammar) {
    case HeaderGrammar::NameAddr:
    case HeaderGrammar::NameAddrList:
      return take_elements(msg_.name_addrs_, begin, end, grammar == HeaderGrammar::NameAddrList,
                           [&](const char* p, NameAddr& na) {
                             na.header = f.id;
                             return internal::fast_name_addr(p, end, limit, na);
                           });
    case HeaderGrammar::Via:
      return take_elements(msg_.vias_, begin, end, true,
                           [&](const char* p, Via& via) { return internal::fast_via(p, end, limit, via); });
    case HeaderGrammar::ParamValue:
      if (f.id == HeaderId::RetryAfter) return false;
      return take_elements(msg_.param_values_, begin, end, false, [&](const char* p, ParamValue& pv) {
        pv.header = f.id;
        p = internal::fast_param_value(p, end, limit, false, pv);
        return p == end && check_param_value(pv) ? nullptr : p;  // a failed check is parse_value's to report
      });
    case HeaderGrammar::ParamValueList:
      return take_elements(msg_.param_values_, begin, end, true, [&](const char* p, ParamValue& pv) {
        pv.header = f.id;
        return internal::fast_param_value(p, end, limit, true, pv);
      });
    case HeaderGrammar::TokenList: {
      if (internal::fast_token_list(begin, end, limit, [&](std::string_view t) { msg_.tokens_.push_back(Token{f.id, t}); }))
        return true;
      const std::size_t before = msg_.tokens_.size();
      for (const char* p = begin; p != nullptr;) {
        const char* q = internal::fast_token(p, end, limit);
        if (q == p) break;
        msg_.tokens_.push_back(Token{f.id, std::string_view(p, static_cast<std::size_t>(q - p))});
        if (q == end) return true;
        p = internal::fast_next_element(q, end);
      }
      msg_.tokens_.truncate(before);
      return false;
    }
    case HeaderGrammar::CallId:
      if (!internal::fast_call_id(begin, end, limit)) return false;
      msg_.call_id_ = f.value;
      return true;
    case HeaderGrammar::CSeq:
      // Read into its place: a CSeq built aside was copied with 16-byte
      // loads that had to wait for its 4- and 8-byte stores to land.
      if (internal::fast_cseq(begin, end, limit, msg_.cseq_.emplace())) return true;
      msg_.cseq_.reset();
      return false;
    case HeaderGrammar::Number:
    case HeaderGrammar::SmallNumber: {
      // Up to ten digits, within the header's range; the rest (signs,
      // overflow, RSeq 0) is for parse_value to report.
      if (begin == end || end - begin > 10) return false;
      std::uint64_t n = 0;
      for (const char* p = begin; p < end; ++p) {
        if (!ascii::is_digit(*p)) return false;
        n = n * 10 + static_cast<unsigned>(*p - '0');
      }
      if (n > (grammar == HeaderGrammar::SmallNumber ? 255u : 0xFFFFFFFFu)) return false;
      return store_number(f.id, static_cast<std::uint32_t>(n));
    }
    default:
      return false;
  }
}

std::optional<ParseError> MessageParser::parse_value(HeaderField& f) {
  const HeaderInfo& info = header_info(f.id);
  // The value lies inside the input: class runs may look ahead to its end.
  const char* const limit = in_.data() + in_.size();
  auto at = [&](const SyntaxError& e) {
    const std::size_t value_at = base_ + (f.value.data() - msg_.bytes_.data());
    return header_error(ParseErrorCode::HeaderValue, f, value_at + e.offset, e.expected);
  };
  auto finish = [&](Scanner& s) -> std::optional<ParseError> {
    s.skip_lws();
    if (!s.at_end()) return at(s.error("the end of the header value"));
    return std::nullopt;
  };
  switch (info.grammar) {
    case HeaderGrammar::Text:
      if (auto e = check_text(f.value)) return at(*e);
      return std::nullopt;
    case HeaderGrammar::NameAddr: {
      Scanner s(f.value, 0, limit);
      NameAddr& na = msg_.name_addrs_.emplace_back();
      na.header = f.id;
      if (auto e = internal::parse_name_addr_fresh(s, false, na)) return at(*e);
      return finish(s);
    }
    case HeaderGrammar::NameAddrList: {
      if (f.id == HeaderId::Contact && f.value == "*") {
        NameAddr star;
        star.header = f.id;
        star.raw = f.value;
        star.wildcard = true;
        msg_.name_addrs_.push_back(star);
        return std::nullopt;
      }
      Scanner s(f.value, 0, limit);
      auto err = parse_comma_list(s, false, [&](Scanner& sc) -> std::optional<SyntaxError> {
        NameAddr& na = msg_.name_addrs_.emplace_back();
        na.header = f.id;
        return internal::parse_name_addr_fresh(sc, true, na);
      });
      if (err) return at(*err);
      return std::nullopt;
    }
    case HeaderGrammar::Via: {
      Scanner s(f.value, 0, limit);
      auto err = parse_comma_list(s, false, [&](Scanner& sc) -> std::optional<SyntaxError> {
        return internal::parse_via_fresh(sc, msg_.vias_.emplace_back());
      });
      if (err) return at(*err);
      return std::nullopt;
    }
    case HeaderGrammar::TokenList: {
      Scanner s(f.value, 0, limit);
      auto err = parse_comma_list(s, true, [&](Scanner& sc) -> std::optional<SyntaxError> {
        std::string_view t = sc.token();
        if (t.empty()) return sc.error("a token");
        msg_.tokens_.push_back(Token{f.id, t});
        return std::nullopt;
      });
      if (err) return at(*err);
      return std::nullopt;
    }
    case HeaderGrammar::ParamValue: {
      if (f.id == HeaderId::RetryAfter) {
        auto ra = parse_retry_after(f.value);
        if (!ra) return at(ra.error());
        ra->header = f.id;
        msg_.param_values_.push_back(*ra);
        return std::nullopt;
      }
      Scanner s(f.value, 0, limit);
      ParamValue& pv = msg_.param_values_.emplace_back();
      pv.header = f.id;
      if (auto e = internal::parse_param_value_fresh(s, false, pv)) return at(*e);
      if (auto e = check_param_value(pv)) return at(*e);
      return finish(s);
    }
    case HeaderGrammar::ParamValueList: {
      Scanner s(f.value, 0, limit);
      // "Accept:" with nothing means no body is acceptable (RFC 3261 §20.1).
      const bool may_be_empty =
          f.id == HeaderId::Accept || f.id == HeaderId::AcceptEncoding || f.id == HeaderId::AcceptLanguage;
      auto err = parse_comma_list(s, may_be_empty, [&](Scanner& sc) -> std::optional<SyntaxError> {
        ParamValue& pv = msg_.param_values_.emplace_back();
        pv.header = f.id;
        return internal::parse_param_value_fresh(sc, true, pv);
      });
      if (err) return at(*err);
      return std::nullopt;
    }
    case HeaderGrammar::CallId:
      if (auto e = check_call_id(f.value)) return at(*e);
      msg_.call_id_ = f.value;
      return std::nullopt;
    case HeaderGrammar::CSeq: {
      auto c = parse_cseq(f.value);
      if (!c) return at(c.error());
      msg_.cseq_ = *c;
      return std::nullopt;
    }
    case HeaderGrammar::Number:
    case HeaderGrammar::SmallNumber: {
      const bool small = info.grammar == HeaderGrammar::SmallNumber;
      if (!f.value.empty() && f.value[0] == '-') return at(SyntaxError{0, "a non-negative number"});
      if (!ascii::all_of(f.value, ascii::kDigit) || f.value.empty()) return at(SyntaxError{0, "a decimal number"});
      auto v = ascii::parse_uint(f.value, small ? 255 : 0xFFFFFFFFull);
      if (!v) return at(SyntaxError{0, small ? "a number from 0 to 255" : "a number no larger than 4294967295"});
      if (!store_number(f.id, static_cast<std::uint32_t>(*v))) return at(SyntaxError{0, "an RSeq from 1 to 4294967295"});
      return std::nullopt;
    }
    case HeaderGrammar::RAck: {
      auto r = parse_rack(f.value);
      if (!r) return at(r.error());
      msg_.rack_ = *r;
      return std::nullopt;
    }
    case HeaderGrammar::Warning: {
      Scanner s(f.value, 0, limit);
      auto err = parse_comma_list(s, false, [&](Scanner& sc) -> std::optional<SyntaxError> {
        auto w = parse_warning(sc);
        if (!w) return w.error();
        msg_.warnings_.push_back(*w);
        return std::nullopt;
      });
      if (err) return at(*err);
      return std::nullopt;
    }
    case HeaderGrammar::Credentials: {
      auto c = parse_credentials(f.value);
      if (!c) return at(c.error());
      c->header = f.id;
      msg_.credentials_.push_back(*c);
      return std::nullopt;
    }
    case HeaderGrammar::Date:
      if (auto e = check_date(f.value)) return at(*e);
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<ParseError> MessageParser::check_required() const {
  const std::size_t end_of_headers = base_ + (msg_.body_.data() - msg_.bytes_.data());
  auto missing = [&](HeaderId id, const char* what) {
    ParseError e = error(ParseErrorCode::MissingHeader, end_of_headers, what);
    e.header = id;
    e.header_name = canonical_name(id);
    return e;
  };
  if (msg_.vias_.empty()) return missing(HeaderId::Via, "a Via header (mandatory, RFC 3261 §8.1.1.7)");
  if (!msg_.from()) return missing(HeaderId::From, "a From header (mandatory, RFC 3261 §8.1.1.3)");
  if (!msg_.to()) return missing(HeaderId::To, "a To header (mandatory, RFC 3261 §8.1.1.2)");
  if (msg_.call_id_.empty()) return missing(HeaderId::CallId, "a Call-ID header (mandatory, RFC 3261 §8.1.1.4)");
  if (!msg_.cseq_) return missing(HeaderId::CSeq, "a CSeq header (mandatory, RFC 3261 §8.1.1.5)");
  if (msg_.is_request_ && msg_.cseq_->method_text != msg_.method_text_) {
    const HeaderField* f = msg_.find(HeaderId::CSeq);
    ParseError e = header_error(ParseErrorCode::CSeqMethodMismatch, *f, base_ + f->offset,
                                "the CSeq method to equal the request method (RFC 3261 §8.1.1.5)");
    return e;
  }
  return std::nullopt;
}

Result<std::size_t, ParseError> MessageParser::run() {
  msg_.reset();
  std::size_t pos = 0;
  // RFC 3261 §7.5: CRLFs before the start line are ignored (keep-alives).
  while (pos < in_.size() && (in_[pos] == '\r' || in_[pos] == '\n')) ++pos;
  if (pos == in_.size()) return Fail{error(ParseErrorCode::Empty, pos, "a SIP message (the input is empty)")};
  if (in_.size() - pos > limits_.max_message_bytes)
    return Fail{error(ParseErrorCode::MessageTooLarge, limits_.max_message_bytes, "a message within the size limit")};
  base_ = pos;
  msg_.offset_in_input_ = u32(pos);
  msg_.bytes_ = in_.substr(pos);  // narrowed once the body is framed

  // One LineFinder walks the header section: each line end is a bit in a
  // 64-byte mask instead of a memchr call per line.
  scan::LineFinder lines(in_.data() + pos, in_.data() + in_.size());
  std::size_t content_end = 0;
  std::size_t lf = line_end(lines, pos, content_end);
  if (lf == std::string_view::npos)
    return Fail{error(ParseErrorCode::HeadersUnterminated, in_.size(), "CRLF ending the start line")};
  msg_.start_line_ = in_.substr(pos, content_end - pos);
  if (auto e = parse_start_line(msg_.start_line_, pos)) return Fail{*e};
  pos = lf + 1;

  // Header fields, up to the empty line.
  while (true) {
    if (pos >= in_.size())
      return Fail{error(ParseErrorCode::HeadersUnterminated, pos,
                        "an empty line (CRLF) closing the header section")};
    if (const char c = in_[pos]; !ascii::is_token(c)) {  // not a header name: the end, or an error
      if (c == '\n' || (c == '\r' && pos + 1 < in_.size() && in_[pos + 1] == '\n')) {
        pos += (c == '\n') ? 1 : 2;
        break;
      }
      if (ascii::is_space(c))
        return Fail{error(ParseErrorCode::HeaderName, pos, "a header name (a continuation line needs a header before it)")};
    }
    const std::size_t field_start = pos;
    lf = line_end(lines, pos, content_end);
    if (lf == std::string_view::npos)
      return Fail{error(ParseErrorCode::HeadersUnterminated, in_.size(),
                        "CRLF ending this header line and an empty line closing the header section")};
    // Folded continuation lines (RFC 3261 §7.3.1) extend the field.
    while (lf + 1 < in_.size() && ascii::is_space(in_[lf + 1])) {
      const std::size_t next = line_end(lines, lf + 1, content_end);
      if (next == std::string_view::npos)
        return Fail{error(ParseErrorCode::HeadersUnterminated, in_.size(), "CRLF ending this folded header line")};
      lf = next;
    }
    // The name stops at the latest at the line end: CR and LF are not tokens.
    std::size_t i = static_cast<std::size_t>(
        scan::skip_common(in_.data() + field_start, in_.data() + in_.size(), scan::kCommonToken) - in_.data());
    while (ascii::is_token(in_[i])) ++i;
    // Views built directly: the bounds are known, and substr() checks them again per header.
    const std::string_view name(in_.data() + field_start, i - field_start);
    if (name.empty())
      return Fail{error(ParseErrorCode::HeaderName, field_start, "a header name (token characters) at the start of the line")};
    if (in_[i] != ':') {  // LWS before the colon is allowed, anything else is not
      while (i < content_end && ascii::is_lws(in_[i])) ++i;
      if (i >= content_end || in_[i] != ':') {
        ParseError e = error(ParseErrorCode::HeaderName, i, "':' after the header name");
        e.header_name = name;
        return Fail{e};
      }
    }
    if (msg_.fields_.size() >= limits_.max_headers)
      return Fail{error(ParseErrorCode::TooManyHeaders, field_start, "no more header fields than the limit")};
    // Written once, in its table slot (a copy of a field built on the stack
    // cost more than the rest of this loop). An error below leaves the
    // Message unspecified anyway.
    HeaderField& f = msg_.fields_.emplace_back();
    f.name = name;
    f.offset = u32(field_start - base_);
    f.length = u32(lf + 1 - field_start);
    // The value without the LWS around it (on pointers: the view-based trim
    // cost a dozen instructions per header for its one leading space).
    const char* value_begin = in_.data() + i + 1;
    const char* value_end = in_.data() + content_end;
    value_begin += value_begin < value_end && *value_begin == ' ';  // the usual single space
    while (value_begin < value_end && ascii::is_lws(*value_begin)) ++value_begin;
    while (value_end > value_begin && ascii::is_lws(value_end[-1])) --value_end;
    f.value = std::string_view(value_begin, static_cast<std::size_t>(value_end - value_begin));
    f.id = header_id_from_name(f.name, in_.data() + in_.size());
    if (f.id != HeaderId::Other) {
      if (header_info(f.id).single) {
        const auto bit = static_cast<std::size_t>(f.id);  // in range: f.id < kCount
        if (seen_single_[bit])
          return Fail{header_error(ParseErrorCode::DuplicateHeader, f, field_start,
                                   "at most one header of this name (it takes a single value)")};
        seen_single_[bit] = true;
      }
      if (take_common_shape(f)) {
        // done: a one-pass reader took it
      } else if (header_info(f.id).tolerated_when_malformed()) {
        const Tables before = table_sizes();
        if (auto e = parse_value(f)) {
          restore(before);
          msg_.defects_.push_back(HeaderDefect{f.id, e->offset, e->expected});
        }
      } else if (auto e = parse_value(f)) {
        return Fail{*e};
      }
    } else if (auto e = check_text(f.value)) {
      return Fail{header_error(ParseErrorCode::HeaderValue, f, base_ + (f.value.data() - msg_.bytes_.data()) + e->offset, e->expected)};
    }
    pos = lf + 1;
  }

  // Body framing (RFC 3261 §18.3, §20.14).
  const std::size_t available = in_.size() - pos;
  std::size_t body_len = available;
  if (msg_.content_length_) {
    body_len = *msg_.content_length_;
    if (body_len > available) {
      const HeaderField* cl = msg_.find(HeaderId::ContentLength);
      ParseError e = header_error(ParseErrorCode::BodyTruncated, *cl, base_ + cl->offset,
                                  "as many body bytes as Content-Length declares");
      e.declared = static_cast<std::uint32_t>(body_len);
      e.available = static_cast<std::uint32_t>(available);
      return Fail{e};
    }
  } else if (mode_ == ParseMode::Stream) {
    return Fail{error(ParseErrorCode::ContentLength, pos,
                      "a Content-Length header (mandatory on stream transports, RFC 3261 §18.3)")};
  }
  msg_.body_ = in_.substr(pos, body_len);
  msg_.bytes_ = in_.substr(base_, pos + body_len - base_);
  msg_.trailing_bytes_ = u32(available - body_len);
  if (auto e = check_required()) return Fail{*e};
  return pos + body_len;
}

std::string ParseError::describe() const {
  std::string out;
  if (!header_name.empty()) {
    out.append(header_name);
    out.append(": ");
  } else if (code == ParseErrorCode::StartLine || code == ParseErrorCode::RequestUri ||
             code == ParseErrorCode::Version || code == ParseErrorCode::StatusCode) {
    out.append(in_request ? "request line: " : "status line: ");
  }
  if (code == ParseErrorCode::BodyTruncated) {
    out.append("declares " + std::to_string(declared) + " body bytes but only " + std::to_string(available) +
               " follow the header section (Content-Length is at byte " + std::to_string(offset) + ")");
    return out;
  }
  out.append("expected ");
  out.append(expected);
  out.append(" at byte ");
  out.append(std::to_string(offset));
  return out;
}

Result<std::size_t, ParseError> parse(std::string_view input, Message& out, ParseMode mode, const ParseLimits& limits) {
  return MessageParser(input, out, mode, limits).run();
}

Result<Message, ParseError> parse(std::string_view input, ParseMode mode) {
  Message m;
  auto r = parse(input, m, mode);
  if (!r) return Unexpected{r.error()};
  return m;
}

// --- Message members that need the tables ----------------------------------

void Message::reset() {
  is_request_ = false;
  method_ = Method::Unknown;
  status_code_ = 0;
  method_text_ = reason_phrase_ = version_ = start_line_ = {};
  request_uri_ = Uri{};
  bytes_ = body_ = {};
  offset_in_input_ = trailing_bytes_ = 0;
  fields_.clear();
  name_addrs_.clear();
  vias_.clear();
  tokens_.clear();
  param_values_.clear();
  warnings_.clear();
  credentials_.clear();
  defects_.clear();
  call_id_ = {};
  cseq_.reset();
  rack_.reset();
  max_forwards_.reset();
  content_length_.reset();
  expires_.reset();
  min_expires_.reset();
  rseq_.reset();
}

const HeaderField* Message::find(HeaderId id) const {
  for (const HeaderField& f : fields_) {
    if (f.id == id) return &f;
  }
  return nullptr;
}

const HeaderField* Message::find(std::string_view name) const {
  const HeaderId id = header_id_from_name(name);
  if (id != HeaderId::Other) return find(id);
  for (const HeaderField& f : fields_) {
    if (f.id == HeaderId::Other && ascii::iequals(f.name, name)) return &f;
  }
  return nullptr;
}

std::size_t Message::count(HeaderId id) const {
  std::size_t n = 0;
  for (const HeaderField& f : fields_) n += (f.id == id);
  return n;
}

bool Message::lists(HeaderId header, std::string_view tag) const {
  for (const Token& t : tokens(header)) {
    if (ascii::iequals(t.text, tag)) return true;
  }
  return false;
}

std::optional<std::string_view> Message::icid_value() const {
  const ParamValue* pcv = p_charging_vector();
  if (!pcv) return std::nullopt;
  // The value is "icid-value=X" (the first parameter written without ';').
  constexpr std::string_view kKey = "icid-value";
  std::string_view v = pcv->value;
  if (v.size() > kKey.size() && ascii::iequals(v.substr(0, kKey.size()), kKey)) {
    std::string_view rest = ascii::trim_lws(v.substr(kKey.size()));
    if (!rest.empty() && rest[0] == '=') return unquote(ascii::trim_lws(rest.substr(1)));
  }
  if (auto p = pcv->params.get(kKey)) return unquote(*p);
  return std::nullopt;
}

}  // namespace imsflow::sip
