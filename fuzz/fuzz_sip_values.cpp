// Differential fuzzing of the parser's one-pass readers (sip/fast_values.hpp)
// against the general grammars. The first byte picks the reader, the second
// how many of the following bytes are the value; the bytes after the value
// stay readable (the readers may look ahead to them, never decide on them).
// Whenever a reader takes the whole value, the general grammar must accept
// it and give the same entry, view for view. The seventh choice puts the
// bytes as the value of a header (the second byte picks which) in a request
// and rechecks the whole parse.
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <string>
#include <string_view>

#include "sip/fast_values.hpp"
#include "sip/general_grammar_check.hpp"
#include "sip/parser.hpp"

using namespace imsflow::sip;
namespace gc = imsflow::test::grammar_check;

namespace {

template <class T, class Fast, class General>
void check(std::string_view value, const char* limit, Fast&& fast, General&& general) {
  const char* const end = value.data() + value.size();
  T quick{};
  if (fast(value.data(), end, limit, quick) != end) return;
  T slow{};
  Scanner s(value);
  if (general(s, slow)) std::abort();  // the general grammar rejects what the reader took
  s.skip_lws();
  if (!s.at_end()) std::abort();
  if (!gc::diff(quick, slow).empty()) std::abort();
}

// A whole header (the list loops, numbers, the checks after the readers):
// the value inside a small request, parsed, then every typed entry
// rechecked against the general grammars.
void check_header_in_message(std::uint8_t pick, std::string_view value) {
  static constexpr std::string_view kNames[] = {
      "Route", "Contact", "Via", "Supported", "Accept-Contact", "P-Access-Network-Info", "Content-Type",
      "Session-Expires", "RSeq", "Max-Forwards", "P-Asserted-Identity", "Allow", "Record-Route", "Expires"};
  std::string bytes =
      "OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
      "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n";
  bytes += kNames[pick % std::size(kNames)];
  bytes += ": ";
  bytes += value;
  bytes += "\r\nContent-Length: 0\r\n\r\n";
  Message m;
  if (!parse(bytes, m)) return;
  if (!imsflow::test::recheck_with_general_grammars(m).empty()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t which = data[0];
  const std::string_view buffer(reinterpret_cast<const char*>(data) + 2, size - 2);
  const std::string_view value = buffer.substr(0, data[1] % (buffer.size() + 1));
  const char* const limit = buffer.data() + buffer.size();
  switch (which % 7) {
    case 6:
      check_header_in_message(data[1], buffer);
      break;
    case 0:
      check<NameAddr>(value, limit, internal::fast_name_addr,
                      [](Scanner& s, NameAddr& na) { return parse_name_addr(s, false, na); });
      break;
    case 1:
      check<Via>(value, limit, internal::fast_via, [](Scanner& s, Via& v) { return parse_via(s, v); });
      break;
    case 2:
      check<ParamValue>(
          value, limit,
          [](const char* p, const char* e, const char* l, ParamValue& pv) {
            return internal::fast_param_value(p, e, l, false, pv);
          },
          [](Scanner& s, ParamValue& pv) { return parse_param_value(s, false, pv); });
      break;
    case 3: {
      CSeq quick;
      if (!internal::fast_cseq(value.data(), value.data() + value.size(), limit, quick)) break;
      auto slow = parse_cseq(value);
      if (!slow || slow->number != quick.number || slow->method != quick.method ||
          !gc::same(slow->method_text, quick.method_text))
        std::abort();
      break;
    }
    case 4:
      if (internal::fast_call_id(value.data(), value.data() + value.size(), limit) && check_call_id(value))
        std::abort();
      break;
    default: {  // 5: a token, as the token-list loop reads it
      const char* const end = value.data() + value.size();
      const char* stop = internal::fast_token(value.data(), end, limit);
      Scanner s(value);
      if (!gc::same(s.token(), std::string_view(value.data(), static_cast<std::size_t>(stop - value.data()))))
        std::abort();
      break;
    }
  }
  return 0;
}
