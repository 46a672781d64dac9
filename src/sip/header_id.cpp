#include "sip/header_id.hpp"

#include <array>
#include <cstring>

#include "util/ascii.hpp"
#include "util/splitmix.hpp"

namespace imsflow::sip {

using G = HeaderGrammar;
using H = HeaderId;

// One row per HeaderId, in enum order (checked below). Defined here, declared
// in the header so that header_info() is an inline table index.
constexpr std::array<HeaderInfo, static_cast<std::size_t>(H::kCount)> internal::kHeaderTable = {{
    {H::Other, "", 0, G::Text, false},
    {H::Accept, "Accept", 0, G::ParamValueList, false},
    {H::AcceptContact, "Accept-Contact", 'a', G::ParamValueList, false},
    {H::AcceptEncoding, "Accept-Encoding", 0, G::ParamValueList, false},
    {H::AcceptLanguage, "Accept-Language", 0, G::ParamValueList, false},
    {H::AlertInfo, "Alert-Info", 0, G::NameAddrList, false},
    {H::Allow, "Allow", 0, G::TokenList, false},
    {H::AllowEvents, "Allow-Events", 'u', G::TokenList, false},
    {H::AuthenticationInfo, "Authentication-Info", 0, G::Text, true},
    {H::Authorization, "Authorization", 0, G::Credentials, false},
    {H::CallId, "Call-ID", 'i', G::CallId, true},
    {H::CallInfo, "Call-Info", 0, G::NameAddrList, false},
    {H::Contact, "Contact", 'm', G::NameAddrList, false},
    {H::ContentDisposition, "Content-Disposition", 0, G::ParamValue, true},
    {H::ContentEncoding, "Content-Encoding", 'e', G::TokenList, false},
    {H::ContentLanguage, "Content-Language", 0, G::TokenList, false},
    {H::ContentLength, "Content-Length", 'l', G::Number, true},
    {H::ContentType, "Content-Type", 'c', G::ParamValue, true},
    {H::CSeq, "CSeq", 0, G::CSeq, true},
    {H::Date, "Date", 0, G::Date, true},
    {H::ErrorInfo, "Error-Info", 0, G::NameAddrList, false},
    {H::Event, "Event", 'o', G::ParamValue, true},
    {H::Expires, "Expires", 0, G::Number, true},
    {H::From, "From", 'f', G::NameAddr, true},
    {H::Identity, "Identity", 'y', G::Text, false},
    {H::InReplyTo, "In-Reply-To", 0, G::Text, false},
    {H::MaxForwards, "Max-Forwards", 0, G::SmallNumber, true},
    {H::MimeVersion, "MIME-Version", 0, G::Text, true},
    {H::MinExpires, "Min-Expires", 0, G::Number, true},
    {H::MinSE, "Min-SE", 0, G::ParamValue, true},
    {H::Organization, "Organization", 0, G::Text, false},
    {H::PAccessNetworkInfo, "P-Access-Network-Info", 0, G::ParamValueList, false},
    {H::PAssertedIdentity, "P-Asserted-Identity", 0, G::NameAddrList, false},
    {H::PAssertedService, "P-Asserted-Service", 0, G::ParamValueList, false},
    {H::PAssociatedUri, "P-Associated-URI", 0, G::NameAddrList, false},
    {H::PCalledPartyId, "P-Called-Party-ID", 0, G::NameAddr, true},
    {H::PChargingFunctionAddresses, "P-Charging-Function-Addresses", 0, G::ParamValue, true},
    {H::PChargingVector, "P-Charging-Vector", 0, G::ParamValue, true},
    {H::PEarlyMedia, "P-Early-Media", 0, G::TokenList, false},
    {H::PPreferredIdentity, "P-Preferred-Identity", 0, G::NameAddrList, false},
    {H::PPreferredService, "P-Preferred-Service", 0, G::ParamValueList, false},
    {H::PVisitedNetworkId, "P-Visited-Network-ID", 0, G::ParamValueList, false},
    {H::Path, "Path", 0, G::NameAddrList, false},
    {H::Priority, "Priority", 0, G::Text, true},
    {H::Privacy, "Privacy", 0, G::Text, false},
    {H::ProxyAuthenticate, "Proxy-Authenticate", 0, G::Credentials, false},
    {H::ProxyAuthorization, "Proxy-Authorization", 0, G::Credentials, false},
    {H::ProxyRequire, "Proxy-Require", 0, G::TokenList, false},
    {H::RAck, "RAck", 0, G::RAck, true},
    {H::Reason, "Reason", 0, G::ParamValueList, false},
    {H::RecordRoute, "Record-Route", 0, G::NameAddrList, false},
    {H::ReferTo, "Refer-To", 'r', G::NameAddr, true},
    {H::ReferredBy, "Referred-By", 'b', G::NameAddr, true},
    {H::RejectContact, "Reject-Contact", 'j', G::ParamValueList, false},
    {H::ReplyTo, "Reply-To", 0, G::NameAddr, true},
    {H::RequestDisposition, "Request-Disposition", 'd', G::TokenList, false},
    {H::Require, "Require", 0, G::TokenList, false},
    {H::RetryAfter, "Retry-After", 0, G::ParamValue, true},
    {H::Route, "Route", 0, G::NameAddrList, false},
    {H::RSeq, "RSeq", 0, G::Number, true},
    {H::SecurityClient, "Security-Client", 0, G::ParamValueList, false},
    {H::SecurityServer, "Security-Server", 0, G::ParamValueList, false},
    {H::SecurityVerify, "Security-Verify", 0, G::ParamValueList, false},
    {H::Server, "Server", 0, G::Text, false},
    {H::ServiceRoute, "Service-Route", 0, G::NameAddrList, false},
    {H::SessionExpires, "Session-Expires", 'x', G::ParamValue, true},
    {H::Subject, "Subject", 's', G::Text, false},
    {H::SubscriptionState, "Subscription-State", 0, G::ParamValue, true},
    {H::Supported, "Supported", 'k', G::TokenList, false},
    {H::Timestamp, "Timestamp", 0, G::Text, true},
    {H::To, "To", 't', G::NameAddr, true},
    {H::Unsupported, "Unsupported", 0, G::TokenList, false},
    {H::UserAgent, "User-Agent", 0, G::Text, false},
    {H::Via, "Via", 'v', G::Via, false},
    {H::Warning, "Warning", 0, G::Warning, false},
    {H::WwwAuthenticate, "WWW-Authenticate", 0, G::Credentials, false},
}};

namespace {

constexpr const auto& kHeaders = internal::kHeaderTable;

constexpr bool table_in_enum_order() {
  for (std::size_t i = 0; i < kHeaders.size(); ++i) {
    if (static_cast<std::size_t>(kHeaders[i].id) != i) return false;
  }
  return true;
}
static_assert(table_in_enum_order(), "kHeaders rows must follow the HeaderId order");

// Compact forms indexed by lower-case letter.
constexpr std::array<HeaderId, 26> build_compact() {
  std::array<HeaderId, 26> t{};
  for (const auto& h : kHeaders) {
    if (h.compact) t[h.compact - 'a'] = h.id;
  }
  return t;
}
constexpr std::array<HeaderId, 26> kCompact = build_compact();

// Candidates by (length, lower-case first letter): at most a few names share
// a slot, so a lookup is one table index and one or two compares.
constexpr std::size_t kMaxNameLength = 32;
struct Slot {
  std::array<HeaderId, 4> ids{};
  std::uint8_t count = 0;
};
using SlotTable = std::array<std::array<Slot, 26>, kMaxNameLength>;
constexpr SlotTable build_slots() {
  SlotTable t{};
  for (const auto& h : kHeaders) {
    if (h.name.empty()) continue;
    Slot& slot = t[h.name.size()][ascii::to_lower(h.name[0]) - 'a'];
    slot.ids[slot.count++] = h.id;  // overflows the array (a compile error) if a slot gets crowded
  }
  return t;
}
constexpr SlotTable kSlots = build_slots();

// Lower-case canonical names, for a compare that only ORs in the case bit.
using LowerNames = std::array<std::array<char, kMaxNameLength>, kHeaders.size()>;
constexpr LowerNames build_lower_names() {
  LowerNames t{};
  for (std::size_t i = 0; i < kHeaders.size(); ++i) {
    for (std::size_t k = 0; k < kHeaders[i].name.size(); ++k) t[i][k] = ascii::to_lower(kHeaders[i].name[k]);
  }
  return t;
}
constexpr LowerNames kLowerNames = build_lower_names();

template <class T>
T load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

/// (a | 0x20...) == b over one word: per byte, (c | 0x20) equals the lower-case
/// letter exactly when c is that letter in either case; '-' and digits
/// already have the bit set, and so do all bytes of the lower-case names.
template <class T>
bool word_equals_lower(const char* a, const char* b) {
  constexpr T kCase = static_cast<T>(0x2020202020202020ull);
  return static_cast<T>(load<T>(a) | kCase) == load<T>(b);
}

// Compares `name` with a lower-case name of the same length, a word at a
// time: whole 8-byte words, then one last word that ends at the name's end
// (it may overlap the previous one). Every load stays inside the name.
bool equals_lower(std::string_view name, const std::array<char, kMaxNameLength>& lower) {
  const char* a = name.data();
  const char* b = lower.data();
  const std::size_t n = name.size();
  if (n >= 8) {
    for (std::size_t i = 0; i + 8 < n; i += 8) {
      if (!word_equals_lower<std::uint64_t>(a + i, b + i)) return false;
    }
    return word_equals_lower<std::uint64_t>(a + n - 8, b + n - 8);
  }
  if (n >= 4) return word_equals_lower<std::uint32_t>(a, b) && word_equals_lower<std::uint32_t>(a + n - 4, b + n - 4);
  if (n >= 2) return word_equals_lower<std::uint16_t>(a, b) && word_equals_lower<std::uint16_t>(a + n - 2, b + n - 2);
  return n == 0 || static_cast<char>(a[0] | 0x20) == b[0];
}

// --- the one-probe lookup's tables (header_id.hpp) ----------------------------

constexpr std::uint64_t word_at(const char* p) {  // little-endian, as a load gives it
  std::uint64_t w = 0;
  for (int k = 7; k >= 0; --k) w = (w << 8) | static_cast<unsigned char>(p[k]);
  return w;
}

using internal::HeaderNameHash;

constexpr HeaderNameHash build_name_hash() {
  HeaderNameHash t{};
  for (std::size_t n = 0; n <= 32; ++n) {
    for (std::size_t k = 0; k < n; ++k) t.length_masks[n].bytes[k] = static_cast<char>(0xFF);
  }
  for (std::size_t i = 1; i < kHeaders.size(); ++i) {
    for (std::size_t k = 0; k < kHeaders[i].name.size(); ++k) t.lower_names[i].bytes[k] = kLowerNames[i][k];
  }
  // Candidate multipliers from splitmix64 steps, until one puts every name
  // in a bucket of its own (2,048 buckets: a few tries).
  std::uint64_t state = 1;
  for (int attempt = 0; attempt < 1000; ++attempt) {
    t.multiplier = splitmix64(state) | 1;
    t.buckets = {};
    bool clash = false;
    for (std::size_t i = 1; i < kHeaders.size() && !clash; ++i) {
      const std::size_t n = kHeaders[i].name.size();
      const char* lower = t.lower_names[i].bytes;  // zero-padded: a short name's words read zeros
      const std::uint64_t first = word_at(lower);
      const std::uint64_t last = n >= 8 ? word_at(lower + n - 8) : first;
      HeaderId& bucket = t.buckets[HeaderNameHash::bucket(first, last, n, t.multiplier)];
      clash = bucket != HeaderId::Other;
      bucket = kHeaders[i].id;
    }
    if (!clash) return t;
  }
  t.multiplier = 0;
  return t;
}
constexpr HeaderNameHash kNameHash = build_name_hash();
static_assert(kNameHash.multiplier != 0, "no multiplier gives every header name a bucket of its own");
static_assert(kMaxNameLength == 32, "the one-probe lookup reads names of up to 31 bytes");

}  // namespace

const HeaderNameHash internal::kHeaderNameHash = kNameHash;

HeaderId header_id_from_name(std::string_view name) noexcept {
  if (name.empty() || name.size() >= kMaxNameLength) return HeaderId::Other;
  const char first = ascii::to_lower(name[0]);
  if (first < 'a' || first > 'z') return HeaderId::Other;
  if (name.size() == 1) return kCompact[first - 'a'];
  const Slot& slot = kSlots[name.size()][first - 'a'];
  for (std::uint8_t i = 0; i < slot.count; ++i) {
    const auto index = static_cast<std::size_t>(slot.ids[i]);
    if (equals_lower(name, kLowerNames[index])) return slot.ids[i];
  }
  return HeaderId::Other;
}



}  // namespace imsflow::sip
