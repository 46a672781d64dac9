// Fuzzes the call analyzer, and the renderers of what it finds, with message
// sequences that parse but come in any order: the input picks, message by
// message, a template of the VoLTE ladder (INVITE, 100, reliable 18x, PRACK,
// UPDATE, 2xx, ACK, CANCEL, BYE, failures …), its dialog (Call-ID, tags,
// icid), its numbers (CSeq, RSeq, RAck, status), its hop and its time. Random
// bytes would almost never parse, so the decoder's fuzzer (fuzz_trace) cannot
// reach this far. Nothing may crash, hang or leak; every call added must come
// out finalized, and the reports must render.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "analyze/analyzer.hpp"
#include "analyze/summary.hpp"
#include "report/analysis_html.hpp"
#include "report/analysis_json.hpp"
#include "report/analysis_text.hpp"
#include "sip/parser.hpp"

using namespace imsflow;

namespace {

class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : p_(data), end_(data + size) {}
  bool empty() const { return p_ == end_; }
  unsigned byte() { return p_ == end_ ? 0 : *p_++; }
  unsigned pick(unsigned n) { return byte() % n; }

 private:
  const std::uint8_t* p_;
  const std::uint8_t* end_;
};

constexpr const char* kMethods[] = {"INVITE", "PRACK", "UPDATE", "ACK", "CANCEL", "BYE", "OPTIONS"};
constexpr int kStatuses[] = {100, 180, 183, 200, 200, 200, 403, 404, 408, 480, 486, 487, 488, 491, 500, 503, 504, 580, 606};
// Parenthesized: each is one string split over lines.
constexpr const char* kSdp[] = {
    "",
    ("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 116\r\n"
     "a=rtpmap:116 AMR-WB/16000\r\na=curr:qos local none\r\na=curr:qos remote none\r\n"
     "a=des:qos mandatory local sendrecv\r\na=des:qos mandatory remote sendrecv\r\n"),
    ("v=0\r\no=- 2 2 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n"
     "a=rtpmap:0 PCMU/8000\r\na=curr:qos local sendrecv\r\na=conf:qos remote sendrecv\r\n"),
    "v=0\r\no=- 3 3 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 0 RTP/AVP 116\r\n",
};

std::string message(Input& in) {
  const unsigned dialog = in.pick(3);
  const std::string call_id = "call-" + std::to_string(dialog) + "@fuzz";
  const std::string from_tag = "a" + std::to_string(in.pick(2));
  const std::string to_tag = in.pick(3) == 0 ? std::string() : ";tag=b" + std::to_string(in.pick(3));
  const unsigned cseq = 1 + in.pick(4);
  const char* method = kMethods[in.pick(std::size(kMethods))];
  const std::string branch = "z9hG4bK" + std::to_string(in.pick(6));
  const char* sdp = kSdp[in.pick(std::size(kSdp))];
  std::string m;
  const bool response = in.pick(2) == 0;
  if (response) {
    m = "SIP/2.0 " + std::to_string(kStatuses[in.pick(std::size(kStatuses))]) + " Fuzz\r\n";
  } else {
    m = std::string(method) + " sip:b@10.0.0.2 SIP/2.0\r\n";
  }
  m += "Via: SIP/2.0/UDP 10.0.0." + std::to_string(1 + in.pick(3)) + ":5060;branch=" + branch + "\r\n";
  if (in.pick(4) == 0) m += "Record-Route: <sip:10.0.0.3;lr>\r\n";
  if (in.pick(4) == 0) m += "Route: <sip:10.0.0." + std::to_string(3 + in.pick(2)) + ";lr>\r\n";
  m += "From: <sip:a@ims.example>;tag=" + from_tag + "\r\nTo: <sip:b@ims.example>" + to_tag + "\r\n";
  m += "Call-ID: " + call_id + "\r\nCSeq: " + std::to_string(cseq) + " " + method + "\r\n";
  switch (in.pick(6)) {
    case 0: m += "Require: 100rel\r\nRSeq: " + std::to_string(1 + in.pick(3)) + "\r\n"; break;
    case 1: m += "RAck: " + std::to_string(1 + in.pick(3)) + " " + std::to_string(cseq) + " INVITE\r\n"; break;
    case 2: m += "Supported: 100rel, precondition\r\n"; break;
    case 3: m += "Reason: SIP;cause=503;text=\"bearer lost\"\r\nRetry-After: " + std::to_string(in.pick(30)) + "\r\n"; break;
    case 4: m += "P-Charging-Vector: icid-value=icid-" + std::to_string(in.pick(2)) + "\r\n"; break;
    default: break;
  }
  if (in.pick(3) == 0) m += "Contact: <sip:b@10.0.0." + std::to_string(1 + in.pick(3)) + ">\r\n";
  if (*sdp) m += "Content-Type: application/sdp\r\n";
  m += "Content-Length: " + std::to_string(std::string_view(sdp).size()) + "\r\n\r\n" + sdp;
  return m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in(data, size);
  analyze::AnalyzerOptions options;
  std::vector<analyze::CallAnalysis> calls;
  analyze::Analyzer analyzer([&](analyze::CallAnalysis& c) { calls.push_back(std::move(c)); }, options);
  std::int64_t t = 1'700'000'000'000'000'000;
  std::uint64_t frame = 0;
  sip::Message parsed;
  for (int i = 0; i < 64 && !in.empty(); ++i) {
    const std::string bytes = message(in);
    if (!sip::parse(bytes, parsed, sip::ParseMode::Datagram)) std::abort();  // the templates are valid SIP
    trace::SipPacket p;
    t += static_cast<std::int64_t>(in.pick(4) == 0 ? in.byte() * 1'000'000'000LL : in.byte() * 1'000'000LL);
    p.timestamp_ns = t;
    p.frame = ++frame;
    const unsigned hop = in.pick(4);
    p.source = sip::IpAddress::v4(10, 0, 0, static_cast<std::uint8_t>(1 + hop));
    p.destination = sip::IpAddress::v4(10, 0, 0, static_cast<std::uint8_t>(1 + (hop + 1 + in.pick(3)) % 4));
    p.source_port = p.destination_port = 5060;
    p.bytes = bytes;
    p.path = "ipv4>udp";
    p.message = &parsed;
    analyzer.add(p);
  }
  analyzer.finish();
  if (analyzer.open_calls() != 0) std::abort();
  analyze::Summary summary;
  for (const analyze::CallAnalysis& c : calls) {
    summary.add(c);
    (void)report::render_call(c);
    (void)report::call_json(c);
    (void)report::csv_row(c);
    (void)report::call_svg(c);
  }
  report::CaptureFacts facts;
  facts.totals = &analyzer.totals();
  (void)report::render_summary(summary, facts);
  (void)report::summary_json(summary, facts);
  return 0;
}
