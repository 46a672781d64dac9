#include "ims/digest.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <initializer_list>
#include <memory>

#include "util/ascii.hpp"
#include "util/byte_scan.hpp"

namespace imsflow::ims {

// ---- errors and names ----

std::string DigestError::describe() const {
  std::string out = "Digest";
  switch (code) {
    case DigestErrorCode::MissingParam:
      out.append(": no ");
      out.append(param);
      out.append(" parameter");
      return out;
    case DigestErrorCode::Md5Unavailable:
      return "Digest: MD5 unavailable in OpenSSL";
    default:
      break;
  }
  if (!param.empty()) {
    out.push_back(' ');
    out.append(param);
  }
  out.append(": expected ");
  out.append(expected);
  out.append(" at byte ");
  out.append(std::to_string(offset));
  return out;
}

std::string_view algorithm_name(DigestAlgorithm a) {
  switch (a) {
    case DigestAlgorithm::Md5: return "MD5";
    case DigestAlgorithm::Md5Sess: return "MD5-sess";
    case DigestAlgorithm::AkaV1Md5: return "AKAv1-MD5";
    case DigestAlgorithm::AkaV2Md5: return "AKAv2-MD5";
    case DigestAlgorithm::Other: break;
  }
  return {};
}

DigestAlgorithm parse_algorithm(std::string_view name) {
  for (auto a : {DigestAlgorithm::Md5, DigestAlgorithm::Md5Sess, DigestAlgorithm::AkaV1Md5, DigestAlgorithm::AkaV2Md5}) {
    if (ascii::iequals(name, algorithm_name(a))) return a;
  }
  return DigestAlgorithm::Other;
}

std::string DigestValue::unescaped() const {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    // The parser guarantees a '\' is never last.
    if (text[i] == '\\' && i + 1 < text.size()) ++i;
    out.push_back(text[i]);
  }
  return out;
}

// ---- known parameters ----

namespace {

struct KnownParam {
  std::string_view name;
  DigestValue DigestHeader::*member;
};

constexpr KnownParam kKnownParams[] = {
    {"realm", &DigestHeader::realm},       {"nonce", &DigestHeader::nonce},
    {"algorithm", &DigestHeader::algorithm}, {"qop", &DigestHeader::qop},
    {"opaque", &DigestHeader::opaque},     {"domain", &DigestHeader::domain},
    {"stale", &DigestHeader::stale},       {"username", &DigestHeader::username},
    {"uri", &DigestHeader::uri},           {"response", &DigestHeader::response},
    {"nc", &DigestHeader::nc},             {"cnonce", &DigestHeader::cnonce},
    {"auts", &DigestHeader::auts},         {"ik", &DigestHeader::ik},
    {"ck", &DigestHeader::ck},
};

const KnownParam* known_param(std::string_view name) {
  for (const KnownParam& k : kKnownParams) {
    if (ascii::iequals(name, k.name)) return &k;
  }
  return nullptr;
}

/// Calls `f` for each comma-separated element of a list, LWS trimmed, empty
/// elements skipped; stops when `f` returns true.
template <class F>
bool any_list_element(std::string_view list, F&& f) {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    const std::string_view item = ascii::trim_lws(list.substr(0, comma));
    if (!item.empty() && f(item)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

bool is_hex8(std::string_view s) { return s.size() == 8 && ascii::all_of(s, ascii::kHex); }

}  // namespace

const DigestValue* DigestHeader::find(std::string_view name) const {
  if (const KnownParam* k = known_param(name)) {
    const DigestValue& v = this->*(k->member);
    return v ? &v : nullptr;
  }
  for (const DigestParam& p : other_params()) {
    if (ascii::iequals(p.name, name)) return &p.value;
  }
  return nullptr;
}

bool DigestHeader::offers_qop(std::string_view option) const {
  if (!qop) return false;
  return any_list_element(qop.text, [&](std::string_view item) { return ascii::iequals(item, option); });
}

bool DigestHeader::is_stale() const { return stale && ascii::iequals(stale.text, "true"); }

std::optional<std::uint32_t> DigestHeader::nonce_count() const {
  if (!nc || !is_hex8(nc.text)) return std::nullopt;
  std::uint32_t v = 0;
  for (char c : nc.text) v = (v << 4) | static_cast<std::uint32_t>(ascii::hex_value(c));
  return v;
}

// ---- parser ----

namespace {

/// Bytes allowed in an unquoted value. Wider than a token on purpose: peers
/// send uri=sip:host and algorithm values unquoted; anything printable that
/// cannot end the value (',', LWS) or start a quoted string is taken.
constexpr bool is_bare_value_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u != 0x7F && c != ',' && c != '"';
}

class DigestParser {
 public:
  explicit DigestParser(std::string_view text) : s_(text) {}

  Result<DigestHeader, DigestError> run() {
    DigestHeader h;
    h.raw = s_;
    skip_lws();
    if (at_end()) return fail(DigestErrorCode::Empty, {}, "the scheme Digest");
    const std::size_t scheme_at = pos_;
    const std::string_view scheme = take_token();
    if (!ascii::iequals(scheme, "Digest")) {
      pos_ = scheme_at;
      return fail(DigestErrorCode::Scheme, {}, "the scheme Digest");
    }
    h.scheme = scheme;
    // "Digest" 1*LWS digest-challenge: at least one parameter follows.
    if (!skip_lws() || at_end()) return fail(DigestErrorCode::Scheme, {}, "a parameter after Digest");

    bool any = false;
    while (true) {
      skip_lws();
      if (at_end()) break;
      // RFC 2616 §2.1 #rule: null elements (",,", a leading or trailing ',') are allowed.
      if (s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      const std::size_t name_at = pos_;
      const std::string_view name = take_token();
      if (name.empty()) return fail(DigestErrorCode::ParamName, {}, "a parameter name");
      skip_lws();
      if (at_end() || s_[pos_] != '=') return fail(DigestErrorCode::ParamEquals, name, "'=' after the parameter name");
      ++pos_;
      skip_lws();
      DigestValue value;
      if (auto err = take_value(name, value)) return Unexpected{*err};

      if (const KnownParam* known = known_param(name)) {
        DigestValue& slot = h.*(known->member);
        if (slot) {
          pos_ = name_at;
          return fail(DigestErrorCode::DuplicateParam, name, "each parameter once");
        }
        slot = value;
        if (auto err = check_value(*known, name, value)) return Unexpected{*err};
      } else {
        if (h.other_count == kMaxOtherParams) {
          pos_ = name_at;
          return fail(DigestErrorCode::TooManyParams, name, "at most 16 unknown parameters");
        }
        h.other[h.other_count++] = DigestParam{name, value};
      }
      any = true;

      skip_lws();
      if (at_end()) break;
      if (s_[pos_] != ',') return fail(DigestErrorCode::Separator, name, "',' between parameters");
      ++pos_;
    }
    if (!any) return fail(DigestErrorCode::ParamName, {}, "a parameter after Digest");
    return h;
  }

 private:
  bool at_end() const { return pos_ >= s_.size(); }
  bool skip_lws() {
    const std::size_t start = pos_;
    while (pos_ < s_.size() && ascii::is_lws(s_[pos_])) ++pos_;
    return pos_ != start;
  }
  std::string_view take_token() {
    const std::size_t start = pos_;
    while (pos_ < s_.size() && ascii::is_token(s_[pos_])) ++pos_;
    return s_.substr(start, pos_ - start);
  }

  Unexpected<DigestError> fail(DigestErrorCode code, std::string_view param, const char* expected) const {
    return Unexpected{error(code, param, expected)};
  }
  DigestError error(DigestErrorCode code, std::string_view param, const char* expected) const {
    return DigestError{code, static_cast<std::uint32_t>(pos_), param, expected};
  }

  std::optional<DigestError> take_value(std::string_view name, DigestValue& out) {
    if (at_end()) return error(DigestErrorCode::ParamValue, name, "a token or quoted string after '='");
    if (s_[pos_] != '"') {
      const std::size_t start = pos_;
      while (pos_ < s_.size() && is_bare_value_char(s_[pos_])) ++pos_;
      if (pos_ == start) return error(DigestErrorCode::ParamValue, name, "a token or quoted string after '='");
      out = DigestValue{s_.substr(start, pos_ - start), true, false, false};
      return std::nullopt;
    }
    const std::size_t open = pos_;
    const std::size_t start = ++pos_;
    const char* const end = s_.data() + s_.size();
    bool escaped = false;
    while (true) {
      pos_ = static_cast<std::size_t>(scan::skip_plain_qdtext(s_.data() + pos_, end) - s_.data());
      if (at_end()) {
        pos_ = open;
        return error(DigestErrorCode::QuotedString, name, "a closing '\"' for this quoted string");
      }
      const char c = s_[pos_];
      const auto u = static_cast<unsigned char>(c);
      if (c == '"') break;
      if (c == '\\') {
        // quoted-pair: any octet but CR and LF (RFC 3261 §25.1).
        if (pos_ + 1 >= s_.size() || s_[pos_ + 1] == '\r' || s_[pos_ + 1] == '\n')
          return error(DigestErrorCode::QuotedString, name, "a character after '\\' in a quoted string");
        escaped = true;
        pos_ += 2;
        continue;
      }
      // HT and folded line breaks are LWS inside qdtext; UTF-8 passes through.
      if ((u < 0x20 && c != '\t' && c != '\r' && c != '\n') || u == 0x7F)
        return error(DigestErrorCode::QuotedString, name, "no control characters in a quoted string");
      ++pos_;
    }
    out = DigestValue{s_.substr(start, pos_ - start), true, true, escaped};
    ++pos_;  // the closing quote
    return std::nullopt;
  }

  /// The two values whose grammar the helpers above rely on.
  std::optional<DigestError> check_value(const KnownParam& known, std::string_view name, const DigestValue& v) {
    const auto at = static_cast<std::uint32_t>(v.text.data() - s_.data());
    if (known.member == &DigestHeader::nc && !is_hex8(v.text))
      return DigestError{DigestErrorCode::BadValue, at, name, "8 hex digits for nc"};
    if (known.member == &DigestHeader::stale && !ascii::iequals(v.text, "true") && !ascii::iequals(v.text, "false"))
      return DigestError{DigestErrorCode::BadValue, at, name, "true or false for stale"};
    return std::nullopt;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

}  // namespace

Result<DigestHeader, DigestError> parse_digest(std::string_view value) { return DigestParser(value).run(); }

// ---- MD5 and the response ----

namespace {

/// MD5 fetched once (an implicit fetch per digest costs a provider lookup).
const EVP_MD* md5() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "MD5", nullptr);
  return md;
}

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

Unexpected<DigestError> md5_unavailable() {
  return Unexpected{DigestError{DigestErrorCode::Md5Unavailable, 0, {}, "MD5"}};
}

/// MD5 of the parts joined by ':', as lower-case hex. One context per
/// thread, re-initialised per call: no allocation on the registrar's path.
Result<DigestHash, DigestError> md5_joined(std::initializer_list<std::string_view> parts) {
  const EVP_MD* md = md5();
  if (md == nullptr) return md5_unavailable();
  thread_local std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx;
  if (!ctx) ctx.reset(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex2(ctx.get(), md, nullptr) != 1) return md5_unavailable();
  bool first = true;
  for (std::string_view p : parts) {
    if (!first && EVP_DigestUpdate(ctx.get(), ":", 1) != 1) return md5_unavailable();
    first = false;
    if (!p.empty() && EVP_DigestUpdate(ctx.get(), p.data(), p.size()) != 1) return md5_unavailable();
  }
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx.get(), out, &len) != 1 || len != 16) return md5_unavailable();
  constexpr char kDigits[] = "0123456789abcdef";
  DigestHash h;
  for (unsigned int i = 0; i < 16; ++i) {
    h.hex[2 * i] = kDigits[out[i] >> 4];
    h.hex[2 * i + 1] = kDigits[out[i] & 0xF];
  }
  return h;
}

std::string_view as_text(std::span<const std::uint8_t> octets) {
  return {reinterpret_cast<const char*>(octets.data()), octets.size()};
}

}  // namespace

Result<DigestHash, DigestError> digest_ha1(std::string_view username, std::string_view realm,
                                           std::span<const std::uint8_t> password) {
  return md5_joined({username, realm, as_text(password)});
}

Result<DigestHash, DigestError> digest_ha1(std::string_view username, std::string_view realm,
                                           std::string_view password) {
  return md5_joined({username, realm, password});
}

Result<DigestHash, DigestError> digest_response(const DigestHash& ha1, const DigestResponseInput& in) {
  auto ha2 = md5_joined({in.method, in.uri});
  if (!ha2) return ha2;
  if (in.qop.empty()) return md5_joined({ha1.view(), in.nonce, ha2->view()});  // RFC 2069 form
  return md5_joined({ha1.view(), in.nonce, in.nc, in.cnonce, in.qop, ha2->view()});
}

namespace {

/// A parameter's value for hashing: the view itself, or its unescaped copy
/// kept in `store` (only when it holds quoted-pairs).
std::string_view plain(const DigestValue& v, std::string& store) {
  if (!v.escaped) return v.text;
  store = v.unescaped();
  return store;
}

}  // namespace

Result<bool, DigestError> verify_response(const DigestHeader& a, std::string_view method,
                                          std::span<const std::uint8_t> password) {
  // Offsets only for a header parse_digest filled; a hand-built one has no raw text.
  auto offset_of = [&a](const DigestValue& v) -> std::uint32_t {
    const auto at = reinterpret_cast<std::uintptr_t>(v.text.data());
    const auto base = reinterpret_cast<std::uintptr_t>(a.raw.data());
    return at >= base && at <= base + a.raw.size() ? static_cast<std::uint32_t>(at - base) : 0;
  };
  struct Needed {
    const DigestValue& value;
    std::string_view name;
  };
  for (const Needed& n : {Needed{a.username, "username"}, Needed{a.realm, "realm"}, Needed{a.nonce, "nonce"},
                          Needed{a.uri, "uri"}, Needed{a.response, "response"}}) {
    if (!n.value) return Unexpected{DigestError{DigestErrorCode::MissingParam, 0, n.name, "the parameter"}};
  }
  const DigestAlgorithm alg = a.algorithm_kind();
  if (alg != DigestAlgorithm::Md5 && alg != DigestAlgorithm::AkaV1Md5)
    return Unexpected{DigestError{DigestErrorCode::UnsupportedAlgorithm, offset_of(a.algorithm), "algorithm",
                                  "MD5 or AKAv1-MD5"}};

  std::string s_user, s_realm, s_nonce, s_uri, s_qop, s_nc, s_cnonce, s_response;
  DigestResponseInput in{method, plain(a.uri, s_uri), plain(a.nonce, s_nonce), {}, {}, {}};
  if (a.qop) {
    in.qop = plain(a.qop, s_qop);
    if (!ascii::iequals(in.qop, "auth"))
      return Unexpected{DigestError{DigestErrorCode::UnsupportedQop, offset_of(a.qop), "qop", "qop=auth"}};
    if (!a.nc) return Unexpected{DigestError{DigestErrorCode::MissingParam, 0, "nc", "the parameter"}};
    if (!a.cnonce) return Unexpected{DigestError{DigestErrorCode::MissingParam, 0, "cnonce", "the parameter"}};
    in.nc = plain(a.nc, s_nc);
    in.cnonce = plain(a.cnonce, s_cnonce);
  }
  auto ha1 = digest_ha1(plain(a.username, s_user), plain(a.realm, s_realm), password);
  if (!ha1) return Unexpected{ha1.error()};
  auto expected = digest_response(*ha1, in);
  if (!expected) return Unexpected{expected.error()};

  const std::string_view sent = plain(a.response, s_response);
  if (sent.size() != expected->hex.size()) return false;
  std::array<char, 32> lower{};
  for (std::size_t i = 0; i < lower.size(); ++i) lower[i] = ascii::to_lower(sent[i]);
  return CRYPTO_memcmp(lower.data(), expected->hex.data(), lower.size()) == 0;
}

std::string nonce_count_text(std::uint32_t nc) {
  constexpr char kDigits[] = "0123456789abcdef";
  std::string out(8, '0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = kDigits[nc & 0xF];
    nc >>= 4;
  }
  return out;
}

// ---- builders ----

namespace {

/// Appends `, name="value"` (or without the comma first), escaping '"' and
/// '\'. Control characters, which no quoted string may hold (a CR or LF
/// would end the header), are dropped.
void append_quoted(std::string& out, std::string_view name, std::string_view value) {
  if (out.size() > 7) out.append(", ");  // past "Digest "
  out.append(name);
  out.append("=\"");
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7F) continue;
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
}

void append_token(std::string& out, std::string_view name, std::string_view value) {
  if (out.size() > 7) out.append(", ");
  out.append(name);
  out.push_back('=');
  out.append(value);
}

}  // namespace

std::string build_challenge(const DigestChallenge& c) {
  std::string out = "Digest ";
  append_quoted(out, "realm", c.realm);
  append_quoted(out, "nonce", c.nonce);
  if (std::string_view alg = algorithm_name(c.algorithm); !alg.empty()) append_token(out, "algorithm", alg);
  if (c.qop_auth) append_quoted(out, "qop", "auth");  // a list in a challenge, so quoted
  if (!c.opaque.empty()) append_quoted(out, "opaque", c.opaque);
  if (c.stale) append_token(out, "stale", "TRUE");
  if (!c.ik.empty()) append_quoted(out, "ik", c.ik);
  if (!c.ck.empty()) append_quoted(out, "ck", c.ck);
  return out;
}

std::string build_authorization(const DigestCredentials& c) {
  std::string out = "Digest ";
  append_quoted(out, "username", c.username);
  append_quoted(out, "realm", c.realm);
  append_quoted(out, "nonce", c.nonce);
  append_quoted(out, "uri", c.uri);
  append_quoted(out, "response", c.response);
  if (std::string_view alg = algorithm_name(c.algorithm); !alg.empty()) append_token(out, "algorithm", alg);
  if (!c.qop.empty()) {
    // In credentials qop and nc are tokens (RFC 2617 §3.2.2), cnonce is quoted.
    append_token(out, "qop", c.qop);
    append_token(out, "nc", c.nc);
    append_quoted(out, "cnonce", c.cnonce);
  }
  if (!c.opaque.empty()) append_quoted(out, "opaque", c.opaque);
  if (!c.auts.empty()) append_quoted(out, "auts", c.auts);
  return out;
}

// ---- base64 and the AKA nonce ----

namespace {

constexpr int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

/// EVP_DecodeBlock accepts whitespace, '=' anywhere and stray bits, so the
/// text is checked here first, which also gives the offset of the fault.
std::optional<DigestError> check_base64(std::string_view t) {
  auto bad = [](std::size_t at, const char* expected) {
    return DigestError{DigestErrorCode::Base64, static_cast<std::uint32_t>(at), {}, expected};
  };
  if (t.size() % 4 != 0) return bad(t.size(), "a base64 length that is a multiple of 4");
  std::size_t pad = 0;
  if (!t.empty() && t.back() == '=') pad = t[t.size() - 2] == '=' ? 2 : 1;
  for (std::size_t i = 0; i + pad < t.size(); ++i) {
    if (base64_value(t[i]) < 0) return bad(i, t[i] == '=' ? "'=' only at the end" : "a base64 character");
  }
  if (pad > 0) {
    // The character before the padding carries 2 (one '=') or 4 (two) bits
    // that encode nothing; they must be zero or two texts decode alike.
    const std::size_t last = t.size() - pad - 1;
    const int unused_mask = pad == 1 ? 0x3 : 0xF;
    if ((base64_value(t[last]) & unused_mask) != 0) return bad(last, "zero bits before the padding");
  }
  return std::nullopt;
}

}  // namespace

std::string base64_encode(std::span<const std::uint8_t> octets) {
  std::string out;
  out.reserve((octets.size() + 2) / 3 * 4);
  // EVP_EncodeBlock takes an int length: whole 3-octet groups per call.
  constexpr std::size_t kChunk = 3 * 4096;
  unsigned char buf[kChunk / 3 * 4 + 1];  // + the NUL EVP_EncodeBlock writes
  for (std::size_t at = 0; at < octets.size(); at += kChunk) {
    const std::size_t n = std::min(kChunk, octets.size() - at);
    const int written = EVP_EncodeBlock(buf, octets.data() + at, static_cast<int>(n));
    out.append(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(written));
  }
  return out;
}

Result<std::vector<std::uint8_t>, DigestError> base64_decode(std::string_view text) {
  if (auto err = check_base64(text)) return Unexpected{*err};
  std::vector<std::uint8_t> out;
  out.reserve(text.size() / 4 * 3);
  constexpr std::size_t kChunk = 4 * 4096;
  unsigned char buf[kChunk / 4 * 3];
  for (std::size_t at = 0; at < text.size(); at += kChunk) {
    const std::size_t n = std::min(kChunk, text.size() - at);
    const int written =
        EVP_DecodeBlock(buf, reinterpret_cast<const unsigned char*>(text.data() + at), static_cast<int>(n));
    if (written < 0) return Unexpected{DigestError{DigestErrorCode::Base64, static_cast<std::uint32_t>(at), {}, "base64"}};
    out.insert(out.end(), buf, buf + written);
  }
  // EVP_DecodeBlock decodes padding as zero octets: drop them.
  std::size_t pad = 0;
  if (!text.empty() && text.back() == '=') pad = text[text.size() - 2] == '=' ? 2 : 1;
  out.resize(out.size() - pad);
  return out;
}

std::string aka_nonce(const Rand& rand, const Autn& autn) {
  std::array<std::uint8_t, 32> both{};
  std::size_t i = 0;
  for (std::uint8_t b : rand) both[i++] = b;
  for (std::uint8_t b : autn) both[i++] = b;
  return base64_encode(both);
}

Result<AkaNonce, DigestError> parse_aka_nonce(std::string_view nonce) {
  auto octets = base64_decode(nonce);
  if (!octets) {
    DigestError e = octets.error();
    e.param = "nonce";
    return Unexpected{e};
  }
  if (octets->size() < 32)
    return Unexpected{DigestError{DigestErrorCode::NonceLength, 0, "nonce", "at least 32 octets (RAND || AUTN)"}};
  AkaNonce n;
  std::copy(octets->begin(), octets->begin() + 16, n.rand.begin());
  std::copy(octets->begin() + 16, octets->begin() + 32, n.autn.begin());
  n.server_data_octets = octets->size() - 32;
  return n;
}

std::string auts_text(const Auts& auts) { return base64_encode(auts); }

Result<Auts, DigestError> parse_auts(std::string_view text) {
  auto octets = base64_decode(text);
  if (!octets) {
    DigestError e = octets.error();
    e.param = "auts";
    return Unexpected{e};
  }
  if (octets->size() != 14)
    return Unexpected{DigestError{DigestErrorCode::AutsLength, 0, "auts", "14 octets (SQN_MS^AK* || MAC-S)"}};
  Auts a{};
  std::copy(octets->begin(), octets->end(), a.begin());
  return a;
}

}  // namespace imsflow::ims
