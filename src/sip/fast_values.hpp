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
