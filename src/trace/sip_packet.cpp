#include "trace/sip_packet.hpp"

namespace imsflow::trace {

std::string_view transport_name(Transport t) {
  switch (t) {
    case Transport::Udp: return "UDP";
    case Transport::Tcp: return "TCP";
    case Transport::Sctp: return "SCTP";
    case Transport::WebSocket: return "WS";
  }
  return "?";
}

std::string_view skip_reason_name(SkipReason r) {
  switch (r) {
    case SkipReason::UnsupportedLinkType: return "unsupported link type";
    case SkipReason::NotIp: return "not IP";
    case SkipReason::Truncated: return "truncated (snaplen)";
    case SkipReason::BadLinkHeader: return "bad link header";
    case SkipReason::BadIpHeader: return "bad IP header";
    case SkipReason::OtherIpProtocol: return "other IP protocol";
    case SkipReason::BadTransportHeader: return "bad transport header";
    case SkipReason::NonSipPayload: return "non-SIP payload";
    case SkipReason::SipKeepAlive: return "SIP keep-alive";
    case SkipReason::TcpNoPayload: return "TCP segment without payload";
    case SkipReason::TcpRetransmission: return "TCP retransmission";
    case SkipReason::TcpGap: return "TCP stream gap";
    case SkipReason::TcpNotFramable: return "TCP stream not framable";
    case SkipReason::TcpStreamLimit: return "TCP stream limit";
    case SkipReason::FragmentsIncomplete: return "IP fragments incomplete";
    case SkipReason::FragmentOverlap: return "IP fragment overlap";
    case SkipReason::EspNotNullEncrypted: return "ESP not null-encrypted";
    case SkipReason::GtpNotGpdu: return "GTP-U not G-PDU";
    case SkipReason::UnsupportedTunnel: return "unsupported tunnel payload";
    case SkipReason::TunnelTooDeep: return "tunnel nesting too deep";
    case SkipReason::SctpNoData: return "SCTP without DATA";
    case SkipReason::SctpIncomplete: return "SCTP message incomplete";
    case SkipReason::WebSocketControl: return "WebSocket control frame";
    case SkipReason::CaptureFileError: return "capture file error";
    case SkipReason::SipParseError: return "sip parse error";
    case SkipReason::kCount: break;
  }
  return "?";
}

std::string_view parse_error_name(sip::ParseErrorCode c) {
  using C = sip::ParseErrorCode;
  switch (c) {
    case C::Empty: return "Empty";
    case C::LineEnding: return "LineEnding";
    case C::StartLine: return "StartLine";
    case C::RequestUri: return "RequestUri";
    case C::Version: return "Version";
    case C::StatusCode: return "StatusCode";
    case C::HeaderName: return "HeaderName";
    case C::HeaderValue: return "HeaderValue";
    case C::DuplicateHeader: return "DuplicateHeader";
    case C::ContentLength: return "ContentLength";
    case C::BodyTruncated: return "BodyTruncated";
    case C::HeadersUnterminated: return "HeadersUnterminated";
    case C::MissingHeader: return "MissingHeader";
    case C::CSeqMethodMismatch: return "CSeqMethodMismatch";
    case C::TooManyHeaders: return "TooManyHeaders";
    case C::MessageTooLarge: return "MessageTooLarge";
  }
  return "Other";
}

void SkipCounters::add_parse_error(sip::ParseErrorCode c) {
  add(SkipReason::SipParseError);
  const auto i = static_cast<std::size_t>(c);
  ++parse_errors[i < parse_errors.size() ? i : parse_errors.size() - 1];
}

std::uint64_t SkipCounters::count(sip::ParseErrorCode c) const {
  const auto i = static_cast<std::size_t>(c);
  return i < parse_errors.size() ? parse_errors[i] : 0;
}

std::uint64_t SkipCounters::total() const {
  std::uint64_t n = 0;
  for (std::uint64_t v : by_reason) n += v;
  return n;
}

std::map<std::string, std::uint64_t> SkipCounters::by_name() const {
  std::map<std::string, std::uint64_t> out;
  for (std::size_t i = 0; i < by_reason.size(); ++i) {
    if (by_reason[i] == 0 || i == static_cast<std::size_t>(SkipReason::SipParseError)) continue;
    out[std::string(skip_reason_name(static_cast<SkipReason>(i)))] = by_reason[i];
  }
  for (std::size_t i = 0; i < parse_errors.size(); ++i) {
    if (parse_errors[i] == 0) continue;
    out["sip parse error: " + std::string(parse_error_name(static_cast<sip::ParseErrorCode>(i)))] = parse_errors[i];
  }
  return out;
}

}  // namespace imsflow::trace
