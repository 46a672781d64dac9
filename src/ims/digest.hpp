// HTTP Digest as SIP and IMS use it: RFC 2617 (qop=auth and the RFC 2069
// form without qop) and its AKA profile, RFC 3310 (AKAv1-MD5: the nonce
// carries RAND ‖ AUTN, the password is RES, a resync carries AUTS), with the
// TS 24.229 ik/ck parameters the S-CSCF gives the P-CSCF.
//
// parse_digest() reads a WWW-Authenticate, Proxy-Authenticate, Authorization
// or Proxy-Authorization value into views; the rest computes and checks the
// response and builds header values. Pure functions: no clock, no I/O.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ims/aka.hpp"
#include "util/result.hpp"

namespace imsflow::ims {

enum class DigestErrorCode : std::uint8_t {
  // parse_digest
  Empty,           // nothing but LWS
  Scheme,          // the scheme is not "Digest", or no parameter follows it
  ParamName,       // a parameter name (token) was expected
  ParamEquals,     // '=' was expected after the name
  ParamValue,      // a token or quoted string was expected after '='
  QuotedString,    // unterminated, a '\' at the end, or a control character inside
  Separator,       // ',' was expected between parameters
  DuplicateParam,  // a known parameter given twice (two responses are one too many)
  TooManyParams,   // more than kMaxOtherParams unknown parameters
  BadValue,        // nc not 8 hex digits, stale neither true nor false
  // verify_response
  MissingParam,          // a parameter the response needs is absent
  UnsupportedAlgorithm,  // only MD5 and AKAv1-MD5 are computed
  UnsupportedQop,        // only "auth" (and no qop) is computed
  // base64 / AKA nonce / auts
  Base64,       // not base64: bad character, length, padding or padding bits
  NonceLength,  // the AKA nonce decodes to fewer than 32 octets (RAND ‖ AUTN)
  AutsLength,   // auts does not decode to 14 octets
  // hashing
  Md5Unavailable,  // OpenSSL gave no MD5 (a FIPS-only provider)
};

struct DigestError {
  DigestErrorCode code = DigestErrorCode::Empty;
  /// Byte offset in the text the failing function was given (the header
  /// value for parse_digest, the nonce or auts text for the decoders).
  std::uint32_t offset = 0;
  /// The parameter at fault: a view into the input, or a static name.
  std::string_view param;
  /// What was wanted at `offset`: a static phrase.
  const char* expected = "";

  /// One sentence: "Digest nc: expected 8 hex digits at byte 57".
  std::string describe() const;
};

enum class DigestAlgorithm : std::uint8_t { Md5, Md5Sess, AkaV1Md5, AkaV2Md5, Other };
/// The wire name ("MD5", "MD5-sess", "AKAv1-MD5", "AKAv2-MD5"); empty for Other.
std::string_view algorithm_name(DigestAlgorithm a);
/// Case-insensitive (RFC 2617 §3.2.1 tokens are), Other when unknown.
DigestAlgorithm parse_algorithm(std::string_view name);

/// One parameter value as written.
struct DigestValue {
  /// A token, or a quoted string's contents without the quotes, quoted-pairs
  /// ('\x') left as written. A view into the parsed input.
  std::string_view text;
  bool present = false;
  bool quoted = false;
  bool escaped = false;  // text holds a quoted-pair: use unescaped() for its value

  explicit operator bool() const { return present; }
  /// The value with quoted-pairs resolved (RFC 2616 §2.2): what a hash covers.
  std::string unescaped() const;
};

struct DigestParam {
  std::string_view name;
  DigestValue value;
};

inline constexpr std::size_t kMaxOtherParams = 16;

/// A parsed Digest challenge or credentials. Every view points into the text
/// given to parse_digest and lives as long as it. A challenge uses realm,
/// nonce, algorithm, qop (a list), opaque, domain, stale (and ik/ck from an
/// S-CSCF); credentials use username, realm, nonce, uri, response,
/// algorithm, qop (one value), nc, cnonce, opaque, auts.
struct DigestHeader {
  std::string_view raw;     // the whole value given to parse_digest
  std::string_view scheme;  // "Digest" as written
  DigestValue realm, nonce, algorithm, qop, opaque, domain, stale;
  DigestValue username, uri, response, nc, cnonce, auts;
  DigestValue ik, ck;  // TS 24.229 §5.4.1.2.1: S-CSCF to P-CSCF only
  /// Unknown parameters in order of appearance (integrity-protected, …).
  std::array<DigestParam, kMaxOtherParams> other{};
  std::uint8_t other_count = 0;

  std::span<const DigestParam> other_params() const { return {other.data(), other_count}; }
  /// A parameter by name (case-insensitive), known or not; nullptr when absent.
  const DigestValue* find(std::string_view name) const;
  /// MD5 when absent (RFC 2617 §3.2.1).
  DigestAlgorithm algorithm_kind() const {
    return algorithm ? parse_algorithm(algorithm.text) : DigestAlgorithm::Md5;
  }
  /// A challenge's qop list holds `option` ("auth"), case-insensitive.
  bool offers_qop(std::string_view option) const;
  /// stale=true (validated by the parser to be true or false).
  bool is_stale() const;
  /// nc as a number (validated by the parser to be 8 hex digits).
  std::optional<std::uint32_t> nonce_count() const;
};

/// Parses `value`: "Digest" then comma-separated name=value parameters in
/// any order, LWS (folded lines too) around every token, values as tokens
/// or quoted strings with escapes. Unknown parameters are kept in `other`.
/// Errors give the byte offset in `value`, the parameter and what was expected.
Result<DigestHeader, DigestError> parse_digest(std::string_view value);

// ---- the response (RFC 2617 §3.2.2) ----

/// An MD5 as 32 lower-case hex digits.
struct DigestHash {
  std::array<char, 32> hex{};
  std::string_view view() const { return {hex.data(), hex.size()}; }
  friend bool operator==(const DigestHash&, const DigestHash&) = default;
};

/// HA1 = MD5(username:realm:password). For AKAv1-MD5 the password is RES as
/// raw octets (RFC 3310 §3.3), and empty in a resync request (§3.4).
Result<DigestHash, DigestError> digest_ha1(std::string_view username, std::string_view realm,
                                           std::span<const std::uint8_t> password);
Result<DigestHash, DigestError> digest_ha1(std::string_view username, std::string_view realm,
                                           std::string_view password);

/// What the response covers besides HA1.
struct DigestResponseInput {
  std::string_view method;  // the SIP method: "REGISTER"
  std::string_view uri;     // the uri parameter as sent (the Request-URI)
  std::string_view nonce;
  std::string_view qop;     // "auth", or empty for the RFC 2069 form
  std::string_view nc;      // 8 hex digits, with qop
  std::string_view cnonce;  // with qop
};

/// response = MD5(HA1:nonce:nc:cnonce:qop:HA2) with qop, MD5(HA1:nonce:HA2)
/// without, HA2 = MD5(method:uri). Values are used as given (unescaped).
Result<DigestHash, DigestError> digest_response(const DigestHash& ha1, const DigestResponseInput& in);

/// Registrar side: recomputes the response of a parsed Authorization for
/// `method` and `password` (XRES for AKAv1-MD5, empty when it carries auts)
/// and compares it with the one sent, in constant time, hex case ignored.
/// true: it matches; false: it does not (a wrong password or response).
/// Errors: MissingParam (username, realm, nonce, uri, response; nc and
/// cnonce with qop), UnsupportedAlgorithm, UnsupportedQop, Md5Unavailable.
/// The caller still checks that realm, nonce and nc are the ones it issued.
Result<bool, DigestError> verify_response(const DigestHeader& authorization, std::string_view method,
                                          std::span<const std::uint8_t> password);

/// The 8 hex digits of a nonce count: 1 → "00000001".
std::string nonce_count_text(std::uint32_t nc);

// ---- building header values ----

/// A WWW-Authenticate value to build (for the 401 to REGISTER).
struct DigestChallenge {
  std::string_view realm;
  std::string_view nonce;
  DigestAlgorithm algorithm = DigestAlgorithm::AkaV1Md5;  // Other: omitted
  bool qop_auth = true;                                   // qop="auth"
  std::string_view opaque;                                // omitted when empty
  bool stale = false;
  std::string_view ik, ck;  // hex; S-CSCF to P-CSCF only, omitted when empty
};
/// `Digest realm="…", nonce="…", algorithm=AKAv1-MD5, qop="auth"…`
std::string build_challenge(const DigestChallenge& c);

/// An Authorization value to build. Values are plain (the builder escapes).
struct DigestCredentials {
  std::string_view username;  // the IMPI
  std::string_view realm;
  std::string_view nonce;
  std::string_view uri;
  std::string_view response;  // may be empty: TS 24.229 initial REGISTER
  DigestAlgorithm algorithm = DigestAlgorithm::AkaV1Md5;  // Other: omitted
  std::string_view qop;       // "auth" or empty (then nc and cnonce are left out)
  std::string_view nc;
  std::string_view cnonce;
  std::string_view opaque;    // omitted when empty
  std::string_view auts;      // base64, RFC 3310 §3.4; omitted when empty
};
/// `Digest username="…", realm="…", nonce="…", uri="…", response="…", …`
std::string build_authorization(const DigestCredentials& c);

// ---- base64 (RFC 4648 §4) and the AKA nonce ----

std::string base64_encode(std::span<const std::uint8_t> octets);
/// Strict: the standard alphabet, length a multiple of 4, '=' only as the
/// last one or two characters, zero bits under the padding, no whitespace.
Result<std::vector<std::uint8_t>, DigestError> base64_decode(std::string_view text);

/// nonce = base64(RAND ‖ AUTN) (RFC 3310 §3.2, without server data).
std::string aka_nonce(const Rand& rand, const Autn& autn);

struct AkaNonce {
  Rand rand{};
  Autn autn{};
  std::size_t server_data_octets = 0;  // octets after AUTN (RFC 3310 §3.2 allows them)
};
/// Decodes an AKA nonce. Errors: Base64 (offset in `nonce`), NonceLength.
Result<AkaNonce, DigestError> parse_aka_nonce(std::string_view nonce);

/// The auts directive's value: base64(AUTS) (RFC 3310 §3.4).
std::string auts_text(const Auts& auts);
/// Decodes an auts directive. Errors: Base64, AutsLength.
Result<Auts, DigestError> parse_auts(std::string_view text);

}  // namespace imsflow::ims
