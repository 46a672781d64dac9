// Fuzzes the capture decoder three ways with each input:
//   1. the bytes after the first as one frame of the link type the first byte picks;
//   2. the same bytes cut into several frames (each preceded by a 2-byte
//      length), so TCP reassembly, fragment sets and SCTP pieces see sequences;
//   3. the whole input as a capture file through libpcap (fmemopen).
// Whatever is delivered must be one message sip::parse accepts; nothing may
// crash, hang or leak (ASan/UBSan), and finish() must leave nothing held.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "trace/capture_reader.hpp"
#include "trace/packet_decoder.hpp"

using namespace imsflow;

namespace {

constexpr std::uint32_t kLinks[] = {trace::kLinkEthernet, trace::kLinkLinuxSll, trace::kLinkLinuxSll2,
                                    trace::kLinkRaw,      trace::kLinkIpv4,     trace::kLinkIpv6,
                                    trace::kLinkNull,     trace::kLinkLoop,     trace::kLinkRawDlt};

void check(const trace::SipPacket& p) {
  if (p.message == nullptr || p.bytes.empty() || p.message->bytes().data() != p.bytes.data()) std::abort();
  sip::Message again;
  if (!sip::parse(p.bytes, again, sip::ParseMode::Datagram)) {
    // A stream message was framed by Content-Length; as a datagram it must parse too.
    std::abort();
  }
}

trace::DecoderLimits small_limits() {
  trace::DecoderLimits l;
  l.fragments.max_sets = 16;
  l.fragments.max_bytes = 1u << 16;
  l.tcp.max_directions = 16;
  l.tcp.max_out_of_order_segments = 8;
  l.tcp.max_out_of_order_bytes = 1u << 14;
  l.tcp.resync_budget_bytes = 1u << 12;
  return l;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  const std::uint32_t link = kLinks[data[0] % std::size(kLinks)];
  const std::string_view rest = all.substr(1);

  {
    trace::Decoder d(check);
    trace::Frame f;
    f.link_type = link;
    f.bytes = rest;
    f.timestamp_ns = 1;
    d.decode(f);
    d.finish();
    if (d.held_fragment_sets() != 0 || d.tcp_directions() != 0) std::abort();
  }
  {
    trace::Decoder d(check, small_limits());
    std::string_view r = rest;
    std::int64_t t = 0;
    while (!r.empty()) {
      std::size_t n = r.size();
      if (r.size() >= 2) {
        n = (static_cast<std::size_t>(static_cast<std::uint8_t>(r[0])) << 8) | static_cast<std::uint8_t>(r[1]);
        r.remove_prefix(2);
        if (n > r.size()) n = r.size();
      }
      trace::Frame f;
      f.link_type = link;
      f.bytes = r.substr(0, n);
      // Time steps of about 1.3 s make the fragment and stream sweeps run too.
      t += 1'300'000'000;
      f.timestamp_ns = t;
      d.decode(f);
      r.remove_prefix(n);
    }
    d.finish();
    if (d.held_fragment_sets() != 0 || d.tcp_directions() != 0) std::abort();
  }
  {
    trace::Decoder d(check, small_limits());
    (void)trace::read_capture_bytes(all, d);
  }
  return 0;
}
