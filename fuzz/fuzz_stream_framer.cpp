// Fuzzes the TCP stream framer: feeding the input in small chunks must frame
// exactly what feeding it whole does, and every framed message must be one
// sip::parse accepts in Stream mode or rejects with a reason (never a crash).
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "sip/parser.hpp"
#include "sip/stream_framer.hpp"

using namespace imsflow::sip;

namespace {
// Keep-alive runs may be split differently by chunking; messages and the
// point where the stream turns corrupt may not.
struct Event {
  StreamFrame::Status status;
  std::size_t start;
  std::size_t length;
};

std::vector<Event> frame_all(std::string_view input, std::size_t chunk) {
  std::vector<Event> events;
  StreamFramer framer;
  std::size_t consumed = 0;
  std::size_t visible = 0;
  while (consumed < input.size()) {
    visible = std::min(input.size(), std::max(visible, consumed) + chunk);
    StreamFrame f = framer.next(input.substr(consumed, visible - consumed));
    if (f.status == StreamFrame::Status::NeedMore) {
      if (visible == input.size()) break;
      continue;
    }
    if (f.status != StreamFrame::Status::KeepAlive) events.push_back({f.status, consumed, f.length});
    if (f.status == StreamFrame::Status::Corrupt) break;
    if (f.length == 0 || consumed + f.length > visible) std::abort();
    if (f.status == StreamFrame::Status::Message) {
      Message m;
      auto r = parse(input.substr(consumed, f.length), m, ParseMode::Stream);
      if (r && *r != f.length) std::abort();  // a framed message is used whole
    }
    consumed += f.length;
    framer = StreamFramer();
  }
  return events;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto whole = frame_all(input, size + 1);
  const std::size_t chunk = size ? (data[0] % 7) + 1 : 1;
  const auto pieces = frame_all(input, chunk);
  if (whole.size() != pieces.size()) std::abort();
  for (std::size_t i = 0; i < whole.size(); ++i) {
    if (whole[i].status != pieces[i].status) std::abort();
    if (whole[i].start != pieces[i].start) std::abort();
    if (whole[i].status != StreamFrame::Status::Corrupt && whole[i].length != pieces[i].length) std::abort();
  }
  return 0;
}
