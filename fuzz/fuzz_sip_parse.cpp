// Fuzzes sip::parse in both modes, checks its typed entries against the
// general grammars, then reads every typed accessor, rebuilds the message
// with MessageBuilder::copy_of (which must give the same bytes) and runs the
// UAS checks, so that nothing a parse accepts can crash a reader.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sip/builder.hpp"
#include "sip/general_grammar_check.hpp"
#include "sip/parser.hpp"
#include "sip/verdict.hpp"

using namespace imsflow::sip;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  for (ParseMode mode : {ParseMode::Datagram, ParseMode::Stream}) {
    Message m;
    auto r = parse(input, m, mode);
    if (!r) {
      (void)r.error().describe();
      (void)response_for(r.error());
      continue;
    }
    if (*r > size) std::abort();
    if (m.bytes().size() + m.offset_in_input() + m.trailing_bytes() != size) std::abort();
    // The one-pass readers must give exactly the general grammars' entries.
    if (!imsflow::test::recheck_with_general_grammars(m).empty()) std::abort();
    for (const Via& v : m.vias()) (void)v.received(), (void)v.rport(), (void)v.has_magic_cookie();
    for (const NameAddr& c : m.contacts()) (void)c.param("expires"), (void)c.uri.param("transport");
    if (m.from()) (void)m.from()->tag();
    (void)m.icid_value();
    (void)m.lists(HeaderId::Supported, "100rel");
    for (const Credentials& c : m.credentials(HeaderId::Authorization)) (void)c.param("response");
    if (m.is_request()) (void)check_request(m, ElementProfile::ims_default());
    // copy_of must reproduce the parsed bytes exactly.
    if (MessageBuilder::copy_of(m).serialize() != m.bytes()) std::abort();
    if (m.is_request()) {
      const std::string reply = MessageBuilder::response_to(m, 200, "fuzztag").serialize();
      Message back;
      if (!parse(reply, back)) std::abort();  // a response built from a valid request must parse
    }
  }
  return 0;
}
