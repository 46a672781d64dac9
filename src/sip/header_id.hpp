// Header names the core knows by type. Names compare case-insensitively and
// the compact forms of RFC 3261 §7.3.3 (and their extensions) map to the same
// id. Anything else is HeaderId::Other and is kept verbatim.
#pragma once

#if defined(__SSE2__) && defined(__x86_64__)
#include <emmintrin.h>
#define IMSFLOW_HEADER_PROBE 1
#else
#define IMSFLOW_HEADER_PROBE 0
#endif

#include <array>
#include <cstring>
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

/// The tables of the one-probe lookup below (built in header_id.cpp). A name
/// of 2 to 31 bytes is read as two 16-byte vectors with the case bit set and
/// the bytes past its end cleared: equal to its id's padded lower-case name
/// exactly when the names match. The id is found by a hash of the name's
/// first and last 8 bytes and its length, with a multiplier chosen at compile
/// time so that no two canonical names share a bucket.
struct HeaderNameHash {
  static constexpr unsigned kBits = 11;  // 2,048 buckets for about 80 names
  struct alignas(16) Padded {
    char bytes[32];
  };
  std::uint64_t multiplier;
  std::array<HeaderId, std::size_t{1} << kBits> buckets;    // Other when empty
  std::array<Padded, static_cast<std::size_t>(HeaderId::kCount)> lower_names;  // Other: all zero
  std::array<Padded, 33> length_masks;                      // bytes 0 … n-1 set

  static constexpr std::size_t bucket(std::uint64_t first, std::uint64_t last, std::size_t n, std::uint64_t m) {
    return static_cast<std::size_t>(((first ^ (last * 0x9E3779B97F4A7C15ull) ^ n) * m) >> (64 - kBits));
  }
};
extern const HeaderNameHash kHeaderNameHash;
}  // namespace internal

/// Identifies a header by name (any case, long or compact form).
HeaderId header_id_from_name(std::string_view name) noexcept;

/// The same for a name inside a larger readable buffer ending at `limit`
/// (the parser's input): with 32 bytes readable from the name on, one hash
/// probe and one 32-byte compare, inline, with no search.
inline HeaderId header_id_from_name(std::string_view name, const char* limit) noexcept {
#if IMSFLOW_HEADER_PROBE  // 64-bit x86: _mm_cvtsi128_si64
  const std::size_t n = name.size();
  const char* const p = name.data();
  if (n < 2 || n > 31 || limit - p < 32) return header_id_from_name(name);
  const internal::HeaderNameHash& h = internal::kHeaderNameHash;
  const __m128i lower_bit = _mm_set1_epi8(0x20);
  const auto* mask = reinterpret_cast<const __m128i*>(h.length_masks[n].bytes);
  const __m128i lo = _mm_and_si128(_mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), lower_bit),
                                   _mm_load_si128(mask));
  const __m128i hi = _mm_and_si128(_mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16)), lower_bit),
                                   _mm_load_si128(mask + 1));
  const auto first = static_cast<std::uint64_t>(_mm_cvtsi128_si64(lo));
  std::uint64_t last = first;
  if (n >= 8) {
    std::memcpy(&last, p + n - 8, 8);
    last |= 0x2020202020202020ull;
  }
  const HeaderId id = h.buckets[internal::HeaderNameHash::bucket(first, last, n, h.multiplier)];
  // An empty bucket holds Other, whose padded name is all zeros: no name matches it.
  const auto* want = reinterpret_cast<const __m128i*>(h.lower_names[static_cast<std::size_t>(id)].bytes);
  const __m128i eq = _mm_and_si128(_mm_cmpeq_epi8(lo, _mm_load_si128(want)), _mm_cmpeq_epi8(hi, _mm_load_si128(want + 1)));
  return _mm_movemask_epi8(eq) == 0xFFFF ? id : HeaderId::Other;
#else
  (void)limit;
  return header_id_from_name(name);
#endif
}
inline const HeaderInfo& header_info(HeaderId id) noexcept {
  return internal::kHeaderTable[static_cast<std::size_t>(id)];
}
inline std::string_view canonical_name(HeaderId id) noexcept { return header_info(id).name; }

}  // namespace imsflow::sip
