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
#include "seed_calls.hpp"
#include "trace/capture_reader.hpp"

namespace {

using namespace imsflow;

// One file per call count, written on first use.
const std::string& capture_of(int calls) {
  static std::map<int, std::string> files;
  auto it = files.find(calls);
  if (it != files.end()) return it->second;
  const auto path = std::filesystem::temp_directory_path() / ("imsflow-analyze-bench-" + std::to_string(calls) + ".pcap");
  const auto a = *sip::Endpoint::parse("10.0.0.1:5060");
  const auto b = *sip::Endpoint::parse("10.0.0.2:5060");
  net::PcapWriter w;
  (void)w.open(path);
  const std::int64_t base = 1'704'067'200'000'000'000LL;
  for (int i = 0; i < calls; ++i) {
    const std::int64_t t0 = base + static_cast<std::int64_t>(i) * 5'000'000;
    for (const bench::SeedMessage& m : bench::seed_call(static_cast<std::uint64_t>(i), bench::SeedCallKind::Established,
                                                        "10.0.0.1", "10.0.0.2", 500))
      (void)w.write(m.from_caller ? a : b, m.from_caller ? b : a, m.text,
                    std::chrono::nanoseconds(t0 + m.at_ms * 1'000'000));
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
