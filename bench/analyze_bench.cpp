// imsflow analyze throughput: a capture of seed-ladder calls (INVITE, 100,
// reliable 183, PRACK, 200 PRACK, 200, ACK, BYE, 200 BYE; one call started
// every 5 ms) is written once with net::PcapWriter, then decoded and analyzed
// from memory per iteration. items/s is SIP messages per second, the figure
// BENCHMARKS.md compares with tshark and sngrep on the same kind of capture.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "analyze/analyzer.hpp"
#include "net/pcap_writer.hpp"
#include "trace/capture_reader.hpp"

namespace {

using namespace imsflow;

std::string crlf(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') out += "\r\n";
    else out += c;
  }
  return out;
}

std::string message(const std::string& head, const std::string& body = {}) {
  std::string b = crlf(body);
  std::string out = crlf(head);
  if (!b.empty()) out += "Content-Type: application/sdp\r\n";
  return out + "Content-Length: " + std::to_string(b.size()) + "\r\n\r\n" + b;
}

// One file per call count, written on first use.
const std::string& capture_of(int calls) {
  static std::map<int, std::string> files;
  auto it = files.find(calls);
  if (it != files.end()) return it->second;
  const auto path = std::filesystem::temp_directory_path() / ("imsflow-analyze-bench-" + std::to_string(calls) + ".pcap");
  const auto a = *sip::Endpoint::parse("10.0.0.1:5060");
  const auto b = *sip::Endpoint::parse("10.0.0.2:5060");
  const std::string sdp =
      "v=0\no=a 1 1 IN IP4 10.0.0.1\ns=-\nc=IN IP4 10.0.0.1\nt=0 0\nm=audio 4000 RTP/AVP 116 111\n"
      "a=rtpmap:116 AMR-WB/16000\na=rtpmap:111 telephone-event/16000\n";
  net::PcapWriter w;
  (void)w.open(path);
  const std::int64_t base = 1'704'067'200'000'000'000LL;
  for (int i = 0; i < calls; ++i) {
    const std::string id = "Call-ID: bench-" + std::to_string(i) + "@10.0.0.1\n";
    const std::string v1 = "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK" + std::to_string(i) + "a\n";
    const std::string v2 = "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK" + std::to_string(i) + "b\n";
    const std::string v3 = "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK" + std::to_string(i) + "c\n";
    const std::string v4 = "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK" + std::to_string(i) + "d\n";
    const std::string from = "From: <sip:a@ims.test>;tag=a" + std::to_string(i) + "\n";
    const std::string to = "To: <sip:b@ims.test>\n";
    const std::string tob = "To: <sip:b@ims.test>;tag=b" + std::to_string(i) + "\n";
    const std::int64_t t0 = base + static_cast<std::int64_t>(i) * 5'000'000;
    auto put = [&](std::int64_t ms, bool forward, const std::string& text) {
      (void)w.write(forward ? a : b, forward ? b : a, text, std::chrono::nanoseconds(t0 + ms * 1'000'000));
    };
    put(0, true, message("INVITE sip:b@ims.test SIP/2.0\n" + v1 + "Max-Forwards: 70\n" + from + to + id +
                             "CSeq: 1 INVITE\nContact: <sip:a@10.0.0.1>\nSupported: 100rel\n", sdp));
    put(20, false, message("SIP/2.0 100 Trying\n" + v1 + from + to + id + "CSeq: 1 INVITE\n"));
    put(20, false, message("SIP/2.0 183 Session Progress\n" + v1 + from + tob + id +
                               "CSeq: 1 INVITE\nRequire: 100rel\nRSeq: 1\nContact: <sip:b@10.0.0.2>\n", sdp));
    put(40, true, message("PRACK sip:b@10.0.0.2 SIP/2.0\n" + v2 + "Max-Forwards: 70\n" + from + tob + id +
                              "CSeq: 2 PRACK\nRAck: 1 1 INVITE\n"));
    put(60, false, message("SIP/2.0 200 OK\n" + v2 + from + tob + id + "CSeq: 2 PRACK\n"));
    put(60, false, message("SIP/2.0 200 OK\n" + v1 + from + tob + id + "CSeq: 1 INVITE\nContact: <sip:b@10.0.0.2>\n"));
    put(80, true, message("ACK sip:b@10.0.0.2 SIP/2.0\n" + v3 + "Max-Forwards: 70\n" + from + tob + id + "CSeq: 1 ACK\n"));
    put(580, true, message("BYE sip:b@10.0.0.2 SIP/2.0\n" + v4 + "Max-Forwards: 70\n" + from + tob + id + "CSeq: 3 BYE\n"));
    put(600, false, message("SIP/2.0 200 OK\n" + v4 + from + tob + id + "CSeq: 3 BYE\n"));
  }
  (void)w.close();
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  std::filesystem::remove(path);
  return files.emplace(calls, s.str()).first->second;
}

// Decoding and analysis together, as `imsflow analyze` runs them.
void BM_AnalyzeCapture(benchmark::State& state) {
  const std::string& file = capture_of(static_cast<int>(state.range(0)));
  std::uint64_t messages = 0;
  for (auto _ : state) {
    std::uint64_t calls = 0;
    analyze::Analyzer analyzer([&](analyze::CallAnalysis&) { ++calls; });
    trace::Decoder decoder([&](const trace::SipPacket& p) { analyzer.add(p); });
    auto r = trace::read_capture_bytes(file, decoder);
    analyzer.finish();
    benchmark::DoNotOptimize(calls);
    messages += analyzer.totals().messages;
    if (!r || calls != static_cast<std::uint64_t>(state.range(0))) state.SkipWithError("wrong call count");
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(messages));
}
BENCHMARK(BM_AnalyzeCapture)->Arg(2000)->Unit(benchmark::kMillisecond);

// The decoder alone on the same bytes: what the analysis adds is the difference.
void BM_DecodeOnly(benchmark::State& state) {
  const std::string& file = capture_of(static_cast<int>(state.range(0)));
  std::uint64_t messages = 0;
  for (auto _ : state) {
    trace::Decoder decoder([&](const trace::SipPacket&) { ++messages; });
    auto r = trace::read_capture_bytes(file, decoder);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(messages));
}
BENCHMARK(BM_DecodeOnly)->Arg(2000)->Unit(benchmark::kMillisecond);

}  // namespace
