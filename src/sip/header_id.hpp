// Header names the core knows by type. Names compare case-insensitively and
// the compact forms of RFC 3261 §7.3.3 (and their extensions) map to the same
// id. Anything else is HeaderId::Other and is kept verbatim.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace imsflow::sip {

/// How a header's value is parsed into its typed form.
enum class HeaderGrammar : std::uint8_t {
  Text,          // free text (UTF-8), kept raw
  NameAddr,      // one name-addr / addr-spec with params
  NameAddrList,  // comma-separated name-addrs
  Via,           // comma-separated via-parms
  TokenList,     // comma-separated tokens (option tags, methods)
  ParamValue,    // one value *(;param)
  ParamValueList,  // comma-separated value *(;param)
  CallId,
  CSeq,
  Number,        // 1*DIGIT, 32-bit
  SmallNumber,   // 1*DIGIT, 0..255 (Max-Forwards)
  RAck,
  Warning,
  Credentials,   // Authorization and challenges: scheme auth-params
  Date,
};

enum class HeaderId : std::uint8_t {
  Other,
  Accept,
  AcceptContact,
  AcceptEncoding,
  AcceptLanguage,
  AlertInfo,
  Allow,
  AllowEvents,
  AuthenticationInfo,
  Authorization,
  CallId,
  CallInfo,
  Contact,
  ContentDisposition,
  ContentEncoding,
  ContentLanguage,
  ContentLength,
  ContentType,
  CSeq,
  Date,
  ErrorInfo,
  Event,
  Expires,
  From,
  Identity,
  InReplyTo,
  MaxForwards,
  MimeVersion,
  MinExpires,
  MinSE,
  Organization,
  PAccessNetworkInfo,
  PAssertedIdentity,
  PAssertedService,
  PAssociatedUri,
  PCalledPartyId,
  PChargingFunctionAddresses,
  PChargingVector,
  PEarlyMedia,
  PPreferredIdentity,
  PPreferredService,
  PVisitedNetworkId,
  Path,
  Priority,
  Privacy,
  ProxyAuthenticate,
  ProxyAuthorization,
  ProxyRequire,
  RAck,
  Reason,
  RecordRoute,
  ReferTo,
  ReferredBy,
  RejectContact,
  ReplyTo,
  RequestDisposition,
  Require,
  RetryAfter,
  Route,
  RSeq,
  SecurityClient,
  SecurityServer,
  SecurityVerify,
  Server,
  ServiceRoute,
  SessionExpires,
  Subject,
  SubscriptionState,
  Supported,
  Timestamp,
  To,
  Unsupported,
  UserAgent,
  Via,
  Warning,
  WwwAuthenticate,
  kCount,
};

struct HeaderInfo {
  HeaderId id;
  std::string_view name;  // canonical spelling
  char compact;           // compact form, or 0
  HeaderGrammar grammar;
  bool single;            // at most one value allowed (RFC 3261 §7.3 and §20)

  /// The 3GPP/IETF private P- headers (RFC 3325, RFC 7315): a malformed value
  /// is recorded as a defect and kept as text instead of failing the message,
  /// because real IMS cores emit broken ones (e.g. "<sip:123@<null>>") and the
  /// element that needs them (a P-CSCF) replaces or ignores them anyway.
  constexpr bool tolerated_when_malformed() const {
    return name.size() > 2 && name[0] == 'P' && name[1] == '-';
  }
};

namespace internal {
/// One row per HeaderId, in enum order (header_id.cpp).
extern const std::array<HeaderInfo, static_cast<std::size_t>(HeaderId::kCount)> kHeaderTable;
}  // namespace internal

/// Identifies a header by name (any case, long or compact form).
HeaderId header_id_from_name(std::string_view name) noexcept;
inline const HeaderInfo& header_info(HeaderId id) noexcept {
  return internal::kHeaderTable[static_cast<std::size_t>(id)];
}
inline std::string_view canonical_name(HeaderId id) noexcept { return header_info(id).name; }

}  // namespace imsflow::sip
