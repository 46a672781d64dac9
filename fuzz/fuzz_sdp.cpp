// Fuzzes the SDP parser and everything that reads a parsed session: codec
// lookup, preconditions, answering it as an offer, and judging the answer.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sdp/offer_answer.hpp"
#include "sdp/precondition.hpp"
#include "sdp/session.hpp"

using namespace imsflow::sdp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto offer = parse(input);
  if (!offer) {
    (void)offer.error().describe();
    return 0;
  }
  for (std::size_t i = 0; i < offer->media.size(); ++i) {
    const Media& m = offer->media[i];
    (void)offer->connection_for(i);
    for (std::string_view f : m.formats) (void)effective_rtpmap(m, f);
    auto pre = read_preconditions(m);
    (void)pre.met();
    QosTable table;
    table.update_from_peer(pre);
    (void)table.met();
  }
  LocalMedia local;
  auto answer = build_answer(*offer, local);
  if (answer) {
    auto parsed = parse(answer->sdp);
    if (!parsed) std::abort();  // our own answer must parse
    (void)negotiate(*offer, *parsed);
  }
  return 0;
}
