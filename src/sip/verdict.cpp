#include "sip/verdict.hpp"

#include <algorithm>

namespace imsflow::sip {

namespace {

bool contains_ci(const std::vector<std::string>& list, std::string_view item) {
  return std::any_of(list.begin(), list.end(), [&](const std::string& s) { return ascii::iequals(s, item); });
}

}  // namespace

const ElementProfile& ElementProfile::ims_default() {
  static const ElementProfile profile{
      {"sip", "sips", "tel"},
      {"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "PRACK", "UPDATE", "INFO", "MESSAGE",
       "SUBSCRIBE", "NOTIFY", "REFER", "PUBLISH"},
      {"100rel", "precondition", "timer", "path", "sec-agree", "gruu", "outbound", "replaces", "norefersub",
       "histinfo", "tdialog", "199", "from-change", "recipient-list-invite", "early-session"},
      {"application/sdp", "multipart/mixed", "multipart/related", "text/plain", "message/sipfrag",
       "application/reginfo+xml", "application/3gpp-ims+xml", "application/pidf+xml",
       "application/vnd.3gpp.sms", "application/vnd.3gpp.state-and-location-info+xml"},
      true,
  };
  return profile;
}

std::optional<int> response_for(const ParseError& e) {
  if (!e.in_request) return std::nullopt;
  switch (e.code) {
    case ParseErrorCode::Version:
      return 505;
    case ParseErrorCode::CSeqMethodMismatch:
      // RFC 4475 §3.1.2.18: an unknown method is answered 501 before the mismatch.
      return e.method == Method::Unknown ? 501 : 400;
    case ParseErrorCode::TooManyHeaders:
    case ParseErrorCode::MessageTooLarge:
      return 513;
    default:
      return 400;
  }
}

std::optional<RequiredResponse> check_request(const Message& req, const ElementProfile& profile) {
  if (!req.is_request() || req.method() == Method::Ack) return std::nullopt;  // ACK gets no response
  // §16.3 step 3: a proxy does not forward a request with Max-Forwards 0.
  if (profile.forwards_requests && req.max_forwards() && *req.max_forwards() == 0)
    return RequiredResponse{483, "Max-Forwards is 0: the request must not be forwarded (RFC 3261 §16.3)", {}};
  // §8.2.1: method inspection.
  if (!contains_ci(profile.methods, req.method_text()) || req.method() == Method::Unknown)
    return RequiredResponse{501, "the method '" + std::string(req.method_text()) + "' is not implemented (RFC 3261 §8.2.1)", {}};
  // §8.2.2.1: Request-URI scheme.
  if (!contains_ci(profile.schemes, req.request_uri().scheme))
    return RequiredResponse{416, "the Request-URI scheme '" + std::string(req.request_uri().scheme) +
                                     "' is not supported (RFC 3261 §8.2.2.1)", {}};
  // §8.2.2: REGISTER addresses-of-record must be SIP or SIPS (RFC 3261 §10.3 step 3).
  if (req.method() == Method::Register && req.to() && !req.to()->uri.is_sip())
    return RequiredResponse{400, "the REGISTER To header is not a SIP or SIPS address-of-record (RFC 3261 §10.2)", {}};
  // §8.2.2.3 and §16.3 step 5: Require and Proxy-Require option tags.
  RequiredResponse bad_extension{420, "", {}};
  for (HeaderId h : {HeaderId::Require, HeaderId::ProxyRequire}) {
    if (h == HeaderId::Require && req.method() == Method::Cancel) continue;  // ignored in CANCEL (§8.2.2.3)
    for (const Token& t : req.tokens(h)) {
      if (!contains_ci(profile.option_tags, t.text) && !contains_ci(bad_extension.unsupported, t.text))
        bad_extension.unsupported.emplace_back(t.text);
    }
  }
  if (!bad_extension.unsupported.empty()) {
    std::string tags;
    for (const std::string& t : bad_extension.unsupported) tags += (tags.empty() ? "" : ", ") + t;
    bad_extension.reason = "unsupported option tags required: " + tags + " (RFC 3261 §8.2.2.3)";
    return bad_extension;
  }
  // §8.2.3: content processing.
  if (const ParamValue* ct = req.content_type(); ct && !req.body().empty() && !contains_ci(profile.body_types, ct->value))
    return RequiredResponse{415, "the body type '" + std::string(ct->value) + "' is not supported (RFC 3261 §8.2.3)", {}};
  // §8.2.3 / RFC 4475 §3.3.15: an INVITE whose Accept excludes SDP cannot be answered.
  if (req.method() == Method::Invite && req.find(HeaderId::Accept)) {
    bool sdp_ok = false;
    for (const ParamValue& a : req.param_values(HeaderId::Accept)) {
      sdp_ok |= ascii::iequals(a.value, "application/sdp") || a.value == "*/*" || ascii::iequals(a.value, "application/*");
    }
    if (!sdp_ok)
      return RequiredResponse{406, "the Accept header excludes application/sdp, so no answer can be sent (RFC 3261 §8.2.3)", {}};
  }
  return std::nullopt;
}

}  // namespace imsflow::sip
