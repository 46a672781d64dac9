// One-pass readers for the shapes header values take in nearly every real
// message: no whitespace inside an element (but after ';' and ','), quoted
// strings of plain printable ASCII, bracketed URIs. Each walks its element
// once on raw pointers, filling a freshly constructed entry, and returns where
// it stopped, or nullptr when the text has another shape. The parser then
// starts the header again with the general grammar (header_values.hpp), which
// decides everything else, so every verdict, offset and error message still
// comes from one place. When an element stops at the end of the value (or at
// a ',' in a list header), its entry equals what the general grammar gives;
// tests/sip/fast_values_test.cpp and fuzz_sip_values hold them to that.
#pragma once

#include "sip/header_values.hpp"
#include "util/byte_scan.hpp"

namespace imsflow::sip::internal {

/// `"display" <uri>;params` or `<uri>;params`: an element of From, To,
/// Contact, Route, P-Asserted-Identity …
const char* fast_name_addr(const char* p, const char* end, const char* limit, NameAddr& out);

/// `SIP/2.0/UDP host[:port];params` with branch, received and rport checked
/// as the general grammar checks them.
const char* fast_via(const char* p, const char* end, const char* limit, Via& out);

/// `value;params` (Content-Type, P-Access-Network-Info, Accept-Contact …);
/// `in_list` ends the value at ','.
const char* fast_param_value(const char* p, const char* end, const char* limit, bool in_list, ParamValue& out);

/// A token (Supported, Allow … elements, parameter names); returns where it
/// ends (== p when there is none).
[[gnu::always_inline]] inline const char* fast_token(const char* p, const char* end, const char* limit) {
  p = scan::skip_common(p, end, limit, scan::kCommonToken);
  while (p < end && ascii::is_token(*p)) ++p;
  return p;
}

/// A whole token list value of the common shape ("100rel, precondition,
/// timer": tokens of kCommonToken's characters joined by ',' and optional
/// SP/HT after it, at most 64 bytes with 64 readable), classified in one go
/// and its tokens handed to add(view) in order. False, with nothing added,
/// for any other shape: the token by token reader then takes the value.
template <class Add>
bool fast_token_list(const char* p, const char* end, const char* limit, Add&& add) {
  const auto n = static_cast<std::size_t>(end - p);
  scan::ListMasks m;
  if (n == 0 || n > 64 || limit - p < 64 || !scan::list_masks64(p, scan::kCommonToken, m)) return false;
  const std::uint64_t in_value = n == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << n) - 1;
  const std::uint64_t tokens = ~m.outside & in_value;
  const std::uint64_t separators = (m.commas | m.blanks) & in_value;
  // Every byte a token byte or a separator; a token first and last; and each
  // run of separators is one comma and the blanks after it.
  if ((tokens | separators) != in_value || (tokens & 1) == 0 || (tokens >> (n - 1)) == 0) return false;
  if ((separators & ~(separators << 1)) != (m.commas & in_value)) return false;
  std::uint64_t starts = tokens & ~(tokens << 1);
  std::uint64_t lasts = tokens & ~(tokens >> 1);
  while (starts != 0) {
    const unsigned first = scan::internal::count_trailing_zeros(starts);
    const unsigned last = scan::internal::count_trailing_zeros(lasts);
    add(std::string_view(p + first, last + 1 - first));
    starts &= starts - 1;
    lasts &= lasts - 1;
  }
  return true;
}

/// `number method` (CSeq): false for any other shape.
bool fast_cseq(const char* p, const char* end, const char* limit, CSeq& out);

/// `word ["@" word]` (Call-ID): true when the whole value has that shape.
bool fast_call_id(const char* p, const char* end, const char* limit);

/// After a list element stopped at ',': skips it and the SP/HT that follow.
/// nullptr when the list does not go on with another element right there
/// (or when p is nullptr: the element before was of another shape).
[[gnu::always_inline]] inline const char* fast_next_element(const char* p, const char* end) {
  if (p == nullptr || p == end || *p != ',') return nullptr;
  ++p;
  while (p < end && ascii::is_space(*p)) ++p;
  return p == end ? nullptr : p;
}

}  // namespace imsflow::sip::internal
