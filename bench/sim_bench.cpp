// Simulator throughput: datagrams delivered per second of real time through
// sim::Network between two echo nodes, so scenario tests and load runs on the
// virtual network can be sized. The trace is off (as in a long run); the
// clean link measures the event loop, the lossy one adds the per-datagram
// draws and the duplicate/reorder bookkeeping.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "sim/network.hpp"

namespace imsflow::bench {
namespace {

/// Answers every message with the same bytes, like a stateless UAS.
class EchoNode : public txn::Node {
 public:
  void receive(std::string_view bytes, const sip::Endpoint& remote, const sip::Endpoint& local, TimePoint) override {
    outbox_.push_back({local, remote, std::string(bytes)});
  }
  void advance(TimePoint) override {}
  std::optional<TimePoint> next_deadline() const override { return std::nullopt; }
  void take_transmits(std::vector<txn::Transmit>& out) override {
    for (auto& t : outbox_) out.push_back(std::move(t));
    outbox_.clear();
  }

 private:
  std::vector<txn::Transmit> outbox_;
};

// A typical small SIP request (an OPTIONS keep-alive is about this size).
const std::string kOptions =
    "OPTIONS sip:pcscf.ims.example.net SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-bench\r\n"
    "Max-Forwards: 70\r\n"
    "From: <sip:ue@ims.example.net>;tag=1\r\n"
    "To: <sip:pcscf.ims.example.net>\r\n"
    "Call-ID: bench@10.0.0.1\r\n"
    "CSeq: 1 OPTIONS\r\n"
    "Content-Length: 0\r\n\r\n";

/// `state.range(0)` messages are kept bouncing between the two nodes; each
/// iteration runs the network for 1 s of virtual time.
void run_echo(benchmark::State& state, const sim::LinkProfile& link) {
  using namespace std::chrono_literals;
  sim::Network net(1);
  net.keep_trace(false);
  net.set_default_link(link);
  EchoNode ue, pcscf;
  const sip::Endpoint ue_at = *sip::Endpoint::parse("10.0.0.1:5060");
  const sip::Endpoint pcscf_at = *sip::Endpoint::parse("10.0.0.2:5060");
  net.attach(ue, ue_at);
  net.attach(pcscf, pcscf_at);
  const auto in_flight = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    // Keep the bouncing population steady despite losses.
    while (net.in_flight() < in_flight) net.send({ue_at, pcscf_at, kOptions});
    net.run_for(1s);
  }
  state.counters["delivered/s"] =
      benchmark::Counter(static_cast<double>(net.counters().delivered), benchmark::Counter::kIsRate);
  state.counters["lost"] = static_cast<double>(net.counters().lost);
}

void BM_SimEchoCleanLink(benchmark::State& state) { run_echo(state, {.delay = std::chrono::milliseconds(10)}); }
BENCHMARK(BM_SimEchoCleanLink)->Arg(1)->Arg(100);

void BM_SimEchoLossyLink(benchmark::State& state) {
  run_echo(state, {.delay = std::chrono::milliseconds(10),
                   .jitter = std::chrono::milliseconds(5),
                   .loss = 0.01,
                   .duplicate = 0.01,
                   .reorder = 0.01});
}
BENCHMARK(BM_SimEchoLossyLink)->Arg(100);

}  // namespace
}  // namespace imsflow::bench
