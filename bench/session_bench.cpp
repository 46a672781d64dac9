// Transaction lookup with many live transactions, and whole 100rel calls
// (INVITE … ACK, BYE) between two user agents in one process over the
// simulator (no sockets), directly and through the proxy core: the protocol
// cores' own cost per call.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "dialog/user_agent.hpp"
#include "ims/cscf.hpp"
#include "ims/proxy.hpp"
#include "sim/network.hpp"
#include "sip/parser.hpp"
#include "txn/transaction_layer.hpp"

namespace {

using namespace imsflow;
using namespace std::chrono_literals;

struct QuietUser : txn::TransactionUser {
  std::uint64_t responses = 0;
  void on_request(txn::TransactionId, const sip::Message&, const sip::Endpoint&, const sip::Endpoint&,
                  TimePoint) override {}
  void on_response(txn::TransactionId, const sip::Message&, TimePoint) override { ++responses; }
  void on_timeout(txn::TransactionId, txn::TimeoutTimer, TimePoint) override {}
  void on_cancel(txn::TransactionId, const sip::Message&, TimePoint) override {}
};

// A provisional response matched against `live` client INVITE transactions:
// key building, hash lookup, state machine, the user callback. The messages
// are parsed once, outside the timed loop.
void BM_TxnResponseLookup(benchmark::State& state) {
  const auto live = static_cast<std::size_t>(state.range(0));
  QuietUser user;
  txn::TransactionLayer layer{user};
  const sip::Endpoint a{sip::Transport::Udp, sip::IpAddress::v4(10, 0, 0, 1), 5060};
  const sip::Endpoint b{sip::Transport::Udp, sip::IpAddress::v4(10, 0, 0, 2), 5060};
  const TimePoint now = TimePoint{} + 1h;
  std::vector<std::string> branches;
  branches.reserve(live);
  for (std::size_t i = 0; i < live; ++i) {
    std::string branch = layer.new_branch();
    layer.send_request({sip::Method::Invite, branch, "INVITE sip:b SIP/2.0\r\n\r\n", a, b}, now);
    branches.push_back(std::move(branch));
  }
  std::vector<txn::Transmit> sink;
  layer.take_transmits(sink);
  constexpr std::size_t kSamples = 256;
  std::vector<std::string> texts;
  for (std::size_t i = 0; i < kSamples; ++i) {
    const std::string& branch = branches[(i * 7919) % live];
    texts.push_back("SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=" + branch +
                    "\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n"
                    "Content-Length: 0\r\n\r\n");
  }
  std::vector<sip::Message> messages(kSamples);
  for (std::size_t i = 0; i < kSamples; ++i) {
    if (!sip::parse(texts[i], messages[i])) state.SkipWithError("sample did not parse");
  }
  std::size_t i = 0;
  for (auto _ : state) {
    layer.receive_message(messages[i++ % kSamples], b, a, now);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["live"] = static_cast<double>(layer.live_transactions());
}
BENCHMARK(BM_TxnResponseLookup)->Arg(1000)->Arg(100000)->Arg(1000000)->Unit(benchmark::kNanosecond);

constexpr std::string_view kOffer =
    "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
    "m=audio 4000 RTP/AVP 116 111\r\na=rtpmap:116 AMR-WB/16000\r\na=rtpmap:111 telephone-event/16000\r\n";
constexpr std::string_view kAnswer =
    "v=0\r\no=- 2 2 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\n"
    "m=audio 5000 RTP/AVP 116 111\r\na=rtpmap:116 AMR-WB/16000\r\na=rtpmap:111 telephone-event/16000\r\n";

struct Answerer : dialog::SessionObserver {
  dialog::UserAgent* ua = nullptr;
  sim::Network* net = nullptr;
  std::uint64_t confirmed = 0, ended = 0;
  void on_session_event(const dialog::SessionEvent& e) override {
    using K = dialog::SessionEventKind;
    if (e.kind == K::Incoming) ua->send_provisional(e.session, 183, kAnswer, net->now());
    if (e.kind == K::PrackDone) ua->answer(e.session, {}, net->now());
    if (e.kind == K::Confirmed) ++confirmed;
    if (e.kind == K::Ended) ++ended;
  }
};

struct Caller : dialog::SessionObserver {
  dialog::UserAgent* ua = nullptr;
  sim::Network* net = nullptr;
  std::uint64_t ended = 0;
  void on_session_event(const dialog::SessionEvent& e) override {
    // Hang up as soon as the call is up: the whole ladder plus BYE.
    if (e.kind == dialog::SessionEventKind::Confirmed) ua->hang_up(e.session, net->now());
    if (e.kind == dialog::SessionEventKind::Ended) ++ended;
  }
};

// Complete calls: INVITE, 100, 183 (reliable, SDP), PRACK, 200, 200, ACK,
// BYE, 200 — UAC and UAS both in this thread; 100 calls in flight at a time.
// With `via_proxy`, every message also crosses a transaction-stateful
// record-routing proxy (the P-CSCF core relaying to a next hop, as
// `imsflow core --next-hop` does): the difference between the two runs is
// the proxy's own cost per call.
void run_complete_calls(benchmark::State& state, bool via_proxy) {
  const sip::Endpoint a_at{sip::Transport::Udp, sip::IpAddress::v4(10, 0, 0, 1), 5060};
  const sip::Endpoint b_at{sip::Transport::Udp, sip::IpAddress::v4(10, 0, 0, 2), 5060};
  const sip::Endpoint proxy_at{sip::Transport::Udp, sip::IpAddress::v4(10, 0, 0, 3), 5060};
  sim::Network net(1);
  net.keep_trace(false);
  net.set_default_link({1ms, {}, 0, 0, 0});
  Caller caller_obs;
  Answerer answer_obs;
  dialog::UserAgentConfig ac;
  ac.local = a_at;
  ac.user = "a";
  dialog::UserAgentConfig bc;
  bc.local = b_at;
  bc.user = "b";
  bc.seed = 2;
  dialog::UserAgent caller{ac, caller_obs};
  dialog::UserAgent callee{bc, answer_obs};
  caller_obs.ua = &caller;
  caller_obs.net = &net;
  answer_obs.ua = &callee;
  answer_obs.net = &net;
  net.attach(caller, a_at);
  net.attach(callee, b_at);
  ims::Pcscf policy{ims::PcscfConfig{proxy_at, 1, b_at}};
  ims::ProxyConfig pc;
  pc.local = proxy_at;
  ims::StatefulProxy proxy{pc, policy};
  policy.attach(proxy);
  if (via_proxy) net.attach(proxy, proxy_at);
  dialog::CallRequest r;
  r.target = "sip:b@10.0.0.2";
  r.next_hop = via_proxy ? proxy_at : b_at;
  r.sdp_offer = std::string(kOffer);
  constexpr int kBatch = 100;
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) caller.call(r, net.now());
    net.flush(caller);
    net.run_for(20ms);
  }
  net.run_for(1s);  // let the last batch finish (outside the timed loop)
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["calls_per_s"] = benchmark::Counter(static_cast<double>(state.iterations() * kBatch),
                                                     benchmark::Counter::kIsRate);
  if (caller_obs.ended != static_cast<std::uint64_t>(state.iterations() * kBatch))
    state.SkipWithError("not every call completed");
  if (via_proxy && proxy.stats().requests_forwarded == 0) state.SkipWithError("the proxy relayed nothing");
}

void BM_Complete100relCalls(benchmark::State& state) { run_complete_calls(state, false); }
BENCHMARK(BM_Complete100relCalls)->Unit(benchmark::kMicrosecond);

void BM_Complete100relCallsViaProxy(benchmark::State& state) { run_complete_calls(state, true); }
BENCHMARK(BM_Complete100relCallsViaProxy)->Unit(benchmark::kMicrosecond);

}  // namespace
