// Capture decoding throughput (trace::read_capture into a counting sink):
// SIP messages per second and capture bytes per second.
//
// BM_TraceGeneratedCapture: a capture written here, once per process, to
// /tmp/imsflow_trace_bench.pcap with net::PcapWriter: 200,000 messages of
// the 100rel ladder (INVITE, 183, PRACK, 200 PRACK, 180, 200, ACK, BYE, 200)
// from tests/data/messages, one call after another on fresh ports, every
// fourth call over TCP. BM_TraceHeplifyTcpTrunk: the public 1,542-frame TCP
// trace in ../shared, when present. Run: ./build/imsflow-bench --benchmark_filter=Trace
#include <benchmark/benchmark.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "net/pcap_writer.hpp"
#include "samples.hpp"
#include "trace/capture_reader.hpp"

namespace imsflow::bench {
namespace {

constexpr std::size_t kGeneratedMessages = 200'000;

const char* const kLadder[] = {"invite_sdp",  "183_session_progress_sdp", "prack", "200_ok_prack",
                               "180_ringing_reliable", "200_ok_invite", "ack", "bye", "200_ok_prack"};

/// Writes the generated capture once; returns its path (empty on failure).
const std::string& generated_capture() {
  static const std::string path = [] {
    const std::string p = (std::filesystem::temp_directory_path() / "imsflow_trace_bench.pcap").string();
    std::vector<Sample> samples = load_messages();
    auto bytes_of = [&](const char* name) -> const std::string* {
      for (const Sample& s : samples) {
        if (s.name == name) return &s.bytes;
      }
      return nullptr;
    };
    net::PcapWriter w;
    if (!w.open(p)) return std::string();
    std::chrono::nanoseconds t{1'700'000'000'000'000'000};
    std::size_t written = 0;
    for (std::uint32_t call = 0; written < kGeneratedMessages; ++call) {
      const auto transport = call % 4 == 0 ? sip::Transport::Tcp : sip::Transport::Udp;
      sip::Endpoint ue{transport, sip::IpAddress::v4(10, 0, static_cast<std::uint8_t>(call >> 8), static_cast<std::uint8_t>(call)),
                       static_cast<std::uint16_t>(20000 + call % 40000)};
      sip::Endpoint pcscf{transport, sip::IpAddress::v4(10, 255, 0, 1), 5060};
      int i = 0;
      for (const char* name : kLadder) {
        const std::string* m = bytes_of(name);
        if (m == nullptr) return std::string();
        // The caller sends the INVITE, PRACK, ACK and BYE; the P-CSCF side sends the rest.
        const bool from_ue = i == 0 || i == 2 || i == 6 || i == 7;
        t += std::chrono::milliseconds(20);
        if (!(from_ue ? w.write(ue, pcscf, *m, t) : w.write(pcscf, ue, *m, t))) return std::string();
        ++i;
        if (++written == kGeneratedMessages) break;
      }
    }
    if (!w.close()) return std::string();
    return p;
  }();
  return path;
}

void decode_file(benchmark::State& state, const std::string& path) {
  if (path.empty() || !std::filesystem::exists(path)) {
    state.SkipWithError("capture not available");
    return;
  }
  const auto file_bytes = std::filesystem::file_size(path);
  std::uint64_t messages = 0;
  std::uint64_t total_messages = 0;
  for (auto _ : state) {
    messages = 0;
    trace::Decoder decoder([&messages](const trace::SipPacket& p) {
      benchmark::DoNotOptimize(p.bytes.data());
      ++messages;
    });
    auto r = trace::read_capture(path, decoder);
    if (!r) {
      state.SkipWithError(r.error().describe().c_str());
      return;
    }
    total_messages += messages;
  }
  state.counters["messages"] = static_cast<double>(messages);
  state.counters["msgs_per_s"] = benchmark::Counter(static_cast<double>(total_messages), benchmark::Counter::kIsRate);
  state.SetBytesProcessed(static_cast<std::int64_t>(file_bytes) * state.iterations());
}

void BM_TraceGeneratedCapture(benchmark::State& state) { decode_file(state, generated_capture()); }
BENCHMARK(BM_TraceGeneratedCapture)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_TraceHeplifyTcpTrunk(benchmark::State& state) {
  decode_file(state, std::string(IMSFLOW_SHARED_DIR) + "/traces/public/heplify_sip_ipv4_tcp_fragmented.pcap");
}
BENCHMARK(BM_TraceHeplifyTcpTrunk)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace imsflow::bench
