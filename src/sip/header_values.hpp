// Typed forms of SIP header values and the grammar that reads each one
// (RFC 3261 §20/§25 and the extensions named per type). Every struct is a set
// of views into the message buffer plus the HeaderId it came from, so a list
// of them can live in one table and be filtered by header.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "sip/header_id.hpp"
#include "sip/method.hpp"
#include "sip/params.hpp"
#include "sip/syntax.hpp"
#include "sip/uri.hpp"

namespace imsflow::sip {

/// From, To, Contact, Route, Record-Route, Path, Service-Route, P-Asserted-Identity …
struct NameAddr {
  HeaderId header = HeaderId::Other;
  std::string_view raw;
  std::string_view display_name;  // quoted: the inside of the quotes (escapes kept)
  bool display_quoted = false;
  bool bracketed = false;         // written as <uri> (name-addr) rather than addr-spec
  bool wildcard = false;          // Contact: *
  Uri uri;
  Params params;                  // header parameters (tag, expires, q, feature tags)

  std::optional<std::string_view> tag() const { return params.get("tag"); }
  std::optional<std::string_view> param(std::string_view name) const { return params.get(name); }
};

/// One via-parm (RFC 3261 §20.42, RFC 3581 rport).
struct Via {
  HeaderId header = HeaderId::Via;
  std::string_view raw;
  std::string_view protocol_name;     // "SIP"
  std::string_view protocol_version;  // "2.0"
  std::string_view transport;         // "UDP", "TCP", "TLS", "SCTP", "WS" …
  std::string_view host;              // sent-by host (IPv6 with brackets)
  HostKind host_kind = HostKind::None;
  std::uint16_t port = 0;
  bool has_port = false;
  std::string_view branch;            // empty when absent
  Params params;

  std::optional<std::string_view> received() const { return params.get("received"); }
  /// rport: nullopt when absent, an empty view when present without a value.
  std::optional<std::string_view> rport() const { return params.get("rport"); }
  /// RFC 3261 §8.1.1.7: the branch starts with the magic cookie "z9hG4bK".
  bool has_magic_cookie() const { return branch.size() >= 7 && branch.substr(0, 7) == "z9hG4bK"; }
};

struct CSeq {
  std::uint32_t number = 0;
  Method method = Method::Unknown;
  std::string_view method_text;
};

/// RFC 3262 §7.2: response-num CSeq-num Method.
struct RAck {
  std::uint32_t rseq = 0;
  std::uint32_t cseq = 0;
  Method method = Method::Unknown;
  std::string_view method_text;
};

/// An element of an option-tag or method list (Supported, Require, Allow …).
struct Token {
  HeaderId header = HeaderId::Other;
  std::string_view text;
};

/// "value *(;param)": Reason, Security-*, P-Access-Network-Info,
/// Accept-Contact, Content-Type, Session-Expires, P-Charging-Vector …
struct ParamValue {
  HeaderId header = HeaderId::Other;
  std::string_view raw;
  std::string_view value;   // as written (quoted strings keep their quotes)
  std::string_view comment; // Retry-After only: "(...)" without the parentheses
  Params params;

  std::optional<std::string_view> param(std::string_view name) const { return params.get(name); }
};

/// Warning: warn-code SP warn-agent SP warn-text (RFC 3261 §20.43).
struct Warning {
  HeaderId header = HeaderId::Warning;
  std::uint16_t code = 0;
  std::string_view agent;
  std::string_view text;  // inside the quotes
};

/// Authorization, Proxy-Authorization, WWW-Authenticate, Proxy-Authenticate:
/// a scheme followed by comma-separated auth-params.
struct Credentials {
  HeaderId header = HeaderId::Other;
  std::string_view scheme;
  std::string_view params;  // "name=value, name="quoted", ..."

  /// The value of an auth-param (quotes removed), nullopt when absent.
  std::optional<std::string_view> param(std::string_view name) const;
};

// --- grammars -------------------------------------------------------------
// Each reads from the scanner's position; list grammars consume one element.

/// name-addr / addr-spec followed by header params. `in_list` makes an
/// unbracketed addr-spec stop at ','.
Parsed<NameAddr> parse_name_addr(Scanner& s, bool in_list);
Parsed<Via> parse_via(Scanner& s);
/// Forms that fill `out` in place (the parser's tables) and return the error,
/// if any. `out.header` is kept.
std::optional<SyntaxError> parse_name_addr(Scanner& s, bool in_list, NameAddr& out);
std::optional<SyntaxError> parse_via(Scanner& s, Via& out);
std::optional<SyntaxError> parse_param_value(Scanner& s, bool stop_at_comma, ParamValue& out);
namespace internal {
/// The in-place forms for an entry that was just value-initialised (the
/// parser constructs each table entry once, in place): nothing is reset.
std::optional<SyntaxError> parse_name_addr_fresh(Scanner& s, bool in_list, NameAddr& out);
std::optional<SyntaxError> parse_via_fresh(Scanner& s, Via& out);
/// One via-parm parameter, as both Via readers take it: records the first
/// branch, checks received and rport. Returns what was expected when the
/// value is wrong, nullptr when it is fine.
const char* take_via_param(Via& via, std::string_view name, std::string_view value);
std::optional<SyntaxError> parse_param_value_fresh(Scanner& s, bool stop_at_comma, ParamValue& out);
}  // namespace internal
Parsed<CSeq> parse_cseq(std::string_view value);
Parsed<RAck> parse_rack(std::string_view value);
/// value *(;param); `stop_at_comma` for list headers.
Parsed<ParamValue> parse_param_value(Scanner& s, bool stop_at_comma);
Parsed<ParamValue> parse_retry_after(std::string_view value);
Parsed<Warning> parse_warning(Scanner& s);
Parsed<Credentials> parse_credentials(std::string_view value);
/// rfc1123-date in GMT (RFC 3261 §20.17).
std::optional<SyntaxError> check_date(std::string_view value);
/// Call-ID: word ["@" word].
std::optional<SyntaxError> check_call_id(std::string_view value);
/// Free text: no control characters but HT and folds, valid UTF-8.
std::optional<SyntaxError> check_text(std::string_view value);

/// Runs `element` for each comma-separated element of the scanner's text.
/// An empty element or a missing comma is an error. `allow_empty_list` lets a
/// header with no value at all pass (e.g. "Supported:").
template <class Element>
std::optional<SyntaxError> parse_comma_list(Scanner& s, bool allow_empty_list, Element&& element) {
  s.skip_lws();
  if (s.at_end()) {
    if (allow_empty_list) return std::nullopt;
    return s.error("a value");
  }
  while (true) {
    s.skip_lws();
    if (s.at_end() || s.peek() == ',') return s.error("an element (empty list element)");
    if (auto err = element(s)) return err;
    s.skip_lws();
    if (s.at_end()) return std::nullopt;
    if (!s.consume(',')) return s.error("',' or the end of the header value");
  }
}

}  // namespace imsflow::sip
