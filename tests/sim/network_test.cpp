// The virtual network driving small fake nodes: exact delays, jitter bounds,
// loss/duplication/reordering rates and their reproducibility, TCP ordering,
// timers, idleness, undeliverable messages, partitions, and byte-identical
// pcap output for equal seeds.
#include "sim/network.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace imsflow::sim {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using sip::Endpoint;
using sip::IpAddress;
using sip::Transport;

Endpoint ep(const char* text, Transport t = Transport::Udp) { return *Endpoint::parse(text, t); }

struct Received {
  TimePoint at;
  std::string bytes;
  Endpoint remote;
  Endpoint local;
};

/// Records what arrives; with `echo` set, sends each message straight back.
class RecordingNode : public txn::Node {
 public:
  explicit RecordingNode(bool echo = false) : echo_(echo) {}

  void receive(std::string_view bytes, const Endpoint& remote, const Endpoint& local, TimePoint now) override {
    received.push_back({now, std::string(bytes), remote, local});
    if (echo_) outbox_.push_back({local, remote, std::string(bytes)});
  }
  void advance(TimePoint now) override { advanced.push_back(now); }
  std::optional<TimePoint> next_deadline() const override { return std::nullopt; }
  void take_transmits(std::vector<txn::Transmit>& out) override {
    for (auto& t : outbox_) out.push_back(std::move(t));
    outbox_.clear();
  }

  std::vector<Received> received;
  std::vector<TimePoint> advanced;

 private:
  bool echo_;
  std::vector<txn::Transmit> outbox_;
};

/// Sends "ping <n>" to `target` every `interval` from `first`, `count` times,
/// on its own timer; records when the timer fired and what came back.
class Pinger : public txn::Node {
 public:
  Pinger(Endpoint local, Endpoint target, TimePoint first, Duration interval, int count)
      : local_(local), target_(target), next_(first), interval_(interval), remaining_(count) {}

  void receive(std::string_view bytes, const Endpoint&, const Endpoint&, TimePoint now) override {
    replies.push_back({now, std::string(bytes), {}, {}});
  }
  void advance(TimePoint now) override {
    while (remaining_ > 0 && next_ <= now) {
      fired.push_back(now);
      outbox_.push_back({local_, target_, "ping " + std::to_string(sent_++)});
      next_ += interval_;
      --remaining_;
    }
  }
  std::optional<TimePoint> next_deadline() const override {
    if (remaining_ == 0) return std::nullopt;
    return next_;
  }
  void take_transmits(std::vector<txn::Transmit>& out) override {
    for (auto& t : outbox_) out.push_back(std::move(t));
    outbox_.clear();
  }

  std::vector<TimePoint> fired;
  std::vector<Received> replies;

 private:
  Endpoint local_, target_;
  TimePoint next_;
  Duration interval_;
  int remaining_;
  int sent_ = 0;
  std::vector<txn::Transmit> outbox_;
};

const Endpoint kUe = ep("10.0.0.1:5060");
const Endpoint kPcscf = ep("10.0.0.2:5060");
const Endpoint kScscf = ep("10.0.0.3:5060");

/// Sends `n` numbered datagrams from kUe to kPcscf, `gap` apart, and runs until all settle.
void send_numbered(Network& net, int n, Duration gap, const Endpoint& from = kUe, const Endpoint& to = kPcscf) {
  for (int i = 0; i < n; ++i) {
    net.send({from, to, std::to_string(i)});
    if (gap > Duration::zero()) net.run_for(gap);
  }
  net.run_until_idle(1h);
}

std::vector<int> numbers(const std::vector<Received>& received) {
  std::vector<int> out;
  for (const auto& r : received) out.push_back(std::stoi(r.bytes));
  return out;
}

// Golden values: xoshiro256** over a splitmix64(0) seed (whose outputs
// e220a8397b1dcdaf, 6e789e6aa1b965f4 … are the published reference). If
// these change, every recorded simulator run and capture changes with them.
TEST(Random, MatchesTheReferenceStream) {
  Random r(0);
  EXPECT_EQ(r.next(), 0x99ec5f36cb75f2b4ull);
  EXPECT_EQ(r.next(), 0xbf6e1f784956452aull);
  EXPECT_EQ(r.next(), 0x1a5f849d4933e6e0ull);
  Random q(42);
  EXPECT_EQ(q.unit(), 0.083862971059882163);
  EXPECT_EQ(q.up_to(999), 102u);
}

TEST(Random, StaysInRange) {
  Random r(7);
  for (int i = 0; i < 10000; ++i) {
    const double u = r.unit();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    ASSERT_LE(r.up_to(3), 3u);
    ASSERT_EQ(r.up_to(0), 0u);
  }
  EXPECT_FALSE(r.chance(0.0));
  EXPECT_TRUE(r.chance(1.0));
}

TEST(Network, ClockStartsAtAFixedNonZeroEpoch) {
  Network net;
  EXPECT_EQ(net.now(), Network::kStart);
  EXPECT_NE(net.now(), TimePoint{});
  EXPECT_FALSE(net.step());
  net.run_for(250ms);
  EXPECT_EQ(net.now(), Network::kStart + 250ms) << "run_until moves the clock even with nothing to do";
  EXPECT_EQ(std::chrono::system_clock::to_time_t(Network::wall_time(Network::kStart)), 1767225600);
}

TEST(Network, DeliversAfterTheExactDelay) {
  Network net;
  RecordingNode ue;
  RecordingNode pcscf(/*echo=*/true);
  ASSERT_TRUE(net.attach(ue, kUe));
  ASSERT_TRUE(net.attach(pcscf, kPcscf));
  net.set_link(kUe.address, kPcscf.address, {.delay = 10ms});
  net.set_link(kPcscf.address, kUe.address, {.delay = 15ms});

  net.send({kUe, kPcscf, "REGISTER"});
  EXPECT_EQ(net.in_flight(), 1u);
  EXPECT_EQ(net.next_event(), Network::kStart + 10ms);
  EXPECT_TRUE(net.run_until_idle(1s));

  ASSERT_EQ(pcscf.received.size(), 1u);
  EXPECT_EQ(pcscf.received[0].at, Network::kStart + 10ms);
  EXPECT_EQ(pcscf.received[0].remote, kUe);
  EXPECT_EQ(pcscf.received[0].local, kPcscf);
  ASSERT_EQ(ue.received.size(), 1u);
  EXPECT_EQ(ue.received[0].at, Network::kStart + 25ms);
  EXPECT_EQ(ue.received[0].bytes, "REGISTER");
  EXPECT_EQ(net.now(), Network::kStart + 25ms) << "idle leaves the clock at the last event";

  ASSERT_EQ(net.trace().size(), 2u);
  const TraceRecord& echo = net.trace()[1];
  EXPECT_EQ(echo.sent, Network::kStart + 10ms);
  EXPECT_EQ(echo.delivered, Network::kStart + 25ms);
  EXPECT_EQ(echo.source, kPcscf);
  EXPECT_EQ(echo.fate, Fate::Delivered);
  EXPECT_EQ(net.counters().sent, 2u);
  EXPECT_EQ(net.counters().delivered, 2u);
}

TEST(Network, JitterStaysWithinBounds) {
  Network net(11);
  RecordingNode pcscf;
  ASSERT_TRUE(net.attach(pcscf, kPcscf));
  net.set_default_link({.delay = 10ms, .jitter = 5ms});
  send_numbered(net, 1000, Duration::zero());

  ASSERT_EQ(pcscf.received.size(), 1000u);
  auto [lo, hi] = std::minmax_element(pcscf.received.begin(), pcscf.received.end(),
                                      [](const Received& a, const Received& b) { return a.at < b.at; });
  EXPECT_GE(lo->at, Network::kStart + 10ms);
  EXPECT_LE(hi->at, Network::kStart + 15ms);
  EXPECT_GT(hi->at - lo->at, 4ms) << "jitter should spread the arrivals over the window";
  // Arrivals are in time order, whatever the sending order.
  EXPECT_TRUE(std::is_sorted(pcscf.received.begin(), pcscf.received.end(),
                             [](const Received& a, const Received& b) { return a.at < b.at; }));
}

std::vector<Fate> fates(const Network& net) {
  std::vector<Fate> out;
  for (const auto& r : net.trace()) out.push_back(r.fate);
  return out;
}

TEST(Network, LossRateIsNearTheSettingAndReproducible) {
  auto run = [](std::uint64_t seed) {
    auto net = std::make_unique<Network>(seed);
    RecordingNode pcscf;
    EXPECT_TRUE(net->attach(pcscf, kPcscf));
    net->set_default_link({.delay = 1ms, .loss = 0.2});
    send_numbered(*net, 10000, Duration::zero());
    EXPECT_EQ(pcscf.received.size() + net->counters().lost, 10000u);
    net->detach(kPcscf);
    return net;
  };
  const auto a = run(42);
  const auto b = run(42);
  const auto c = run(43);
  // 2000 expected, standard deviation 40: ±250 is over six of them.
  EXPECT_GT(a->counters().lost, 1750u);
  EXPECT_LT(a->counters().lost, 2250u);
  EXPECT_EQ(a->counters().lost, b->counters().lost);
  EXPECT_EQ(fates(*a), fates(*b)) << "the same seed loses the same datagrams";
  EXPECT_NE(fates(*a), fates(*c)) << "another seed loses others";
  for (const auto& r : a->trace()) {
    if (r.fate == Fate::Lost) {
      EXPECT_FALSE(r.delivered);
    }
  }
}

TEST(Network, ZeroAndCertainProbabilities) {
  Network net(5);
  RecordingNode pcscf;
  ASSERT_TRUE(net.attach(pcscf, kPcscf));
  net.set_default_link({.delay = 1ms, .loss = 1.0});
  send_numbered(net, 100, Duration::zero());
  EXPECT_EQ(net.counters().lost, 100u);
  EXPECT_TRUE(pcscf.received.empty());
  net.set_default_link({.delay = 1ms, .duplicate = 1.0});
  send_numbered(net, 100, Duration::zero());
  EXPECT_EQ(pcscf.received.size(), 200u) << "every datagram arrives twice";
  EXPECT_EQ(net.counters().duplicated, 100u);
}

TEST(Network, DuplicatesArriveTwiceAndAreMarked) {
  Network net(3);
  RecordingNode pcscf;
  ASSERT_TRUE(net.attach(pcscf, kPcscf));
  net.set_default_link({.delay = 5ms, .jitter = 2ms, .duplicate = 0.3});
  send_numbered(net, 10000, Duration::zero());

  const std::uint64_t dups = net.counters().duplicated;
  EXPECT_GT(dups, 2700u);
  EXPECT_LT(dups, 3300u);
  EXPECT_EQ(pcscf.received.size(), 10000u + dups);
  EXPECT_EQ(net.counters().delivered, 10000u + dups);
  EXPECT_EQ(net.counters().sent, 10000u) << "copies are the network's, not sends";
  // Each copy's record follows its original and carries the same bytes.
  std::uint64_t marked = 0;
  for (std::size_t i = 0; i < net.trace().size(); ++i) {
    const TraceRecord& r = net.trace()[i];
    EXPECT_EQ(r.id, i);
    if (!r.duplicate) continue;
    ++marked;
    ASSERT_GT(i, 0u);
    EXPECT_EQ(r.bytes, net.trace()[i - 1].bytes);
    EXPECT_FALSE(net.trace()[i - 1].duplicate);
    EXPECT_EQ(r.fate, Fate::Delivered);
  }
  EXPECT_EQ(marked, dups);
}

TEST(Network, ReorderingLetsLaterDatagramsOvertake) {
  Network net(9);
  RecordingNode pcscf;
  ASSERT_TRUE(net.attach(pcscf, kPcscf));
  net.set_default_link({.delay = 10ms, .reorder = 0.2});
  send_numbered(net, 1000, 1ms);

  ASSERT_EQ(pcscf.received.size(), 1000u);
  const std::vector<int> got = numbers(pcscf.received);
  std::size_t inversions = 0;
  for (std::size_t i = 1; i < got.size(); ++i) inversions += got[i] < got[i - 1];
  EXPECT_GT(inversions, 100u) << "about one datagram in five should arrive late";
  EXPECT_GT(net.counters().reordered, 150u);
  EXPECT_LT(net.counters().reordered, 250u);
  // A held-back datagram really arrived after one sent later.
  for (const auto& r : net.trace()) {
    if (!r.reordered) continue;
    EXPECT_GE(*r.delivered - r.sent, 20ms);
  }

  // Without reordering and jitter a fixed delay keeps the sending order.
  Network plain(9);
  RecordingNode other;
  ASSERT_TRUE(plain.attach(other, kPcscf));
  plain.set_default_link({.delay = 10ms});
  send_numbered(plain, 1000, 1ms);
  const std::vector<int> in_order = numbers(other.received);
  EXPECT_TRUE(std::is_sorted(in_order.begin(), in_order.end()));
}

TEST(Network, TcpNeverLosesDuplicatesOrReorders) {
  const Endpoint ue = ep("10.0.0.1:40000", Transport::Tcp);
  const Endpoint pcscf_tcp = ep("10.0.0.2:5060", Transport::Tcp);
  Network net(17);
  RecordingNode pcscf;
  ASSERT_TRUE(net.attach(pcscf, pcscf_tcp));
  net.set_default_link({.delay = 5ms, .jitter = 20ms, .loss = 0.5, .duplicate = 0.5, .reorder = 0.5});
  send_numbered(net, 1000, 100us, ue, pcscf_tcp);

  ASSERT_EQ(pcscf.received.size(), 1000u);
  const std::vector<int> got = numbers(pcscf.received);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(got[static_cast<std::size_t>(i)], i);
  EXPECT_EQ(net.counters().lost, 0u);
  EXPECT_EQ(net.counters().duplicated, 0u);
  EXPECT_EQ(net.counters().reordered, 0u);
  for (const auto& r : net.trace()) {
    EXPECT_GE(*r.delivered - r.sent, 5ms);
  }

  // The same profile over UDP does lose.
  RecordingNode pcscf_udp;
  ASSERT_TRUE(net.attach(pcscf_udp, kPcscf));
  send_numbered(net, 1000, 100us, kUe, kPcscf);
  EXPECT_GT(net.counters().lost, 300u);
}

TEST(Network, TimersFireAtTheirVirtualTime) {
  Network net;
  Pinger ue(kUe, kPcscf, Network::kStart + 500ms, 500ms, 3);
  RecordingNode pcscf(/*echo=*/true);
  ASSERT_TRUE(net.attach(ue, kUe));
  ASSERT_TRUE(net.attach(pcscf, kPcscf));
  net.set_default_link({.delay = 30ms});

  net.run_until(Network::kStart + 499ms);
  EXPECT_TRUE(ue.fired.empty());
  net.run_until(Network::kStart + 500ms);
  ASSERT_EQ(ue.fired.size(), 1u) << "a deadline equal to the target time fires";
  EXPECT_TRUE(net.run_until_idle(10s));
  ASSERT_EQ(ue.fired.size(), 3u);
  EXPECT_EQ(ue.fired[0], Network::kStart + 500ms);
  EXPECT_EQ(ue.fired[1], Network::kStart + 1000ms);
  EXPECT_EQ(ue.fired[2], Network::kStart + 1500ms);
  ASSERT_EQ(ue.replies.size(), 3u);
  EXPECT_EQ(ue.replies[2].at, Network::kStart + 1560ms);
  EXPECT_EQ(ue.replies[2].bytes, "ping 2");
}

TEST(Network, PastDeadlineFiresAtTheCurrentTime) {
  Network net;
  net.run_for(1s);
  Pinger ue(kUe, kPcscf, Network::kStart + 100ms, 1s, 1);  // already overdue when attached
  ASSERT_TRUE(net.attach(ue, kUe));
  EXPECT_EQ(net.next_event(), net.now());
  ASSERT_TRUE(net.step());
  ASSERT_EQ(ue.fired.size(), 1u);
  EXPECT_EQ(ue.fired[0], Network::kStart + 1s) << "time never runs backwards";
}

TEST(Network, ArrivalsGoBeforeTimersAtTheSameInstant) {
  // Both the arrival and the timer are due at +10 ms; the arrival runs first.
  struct OrderNode : RecordingNode {
    std::vector<std::string>* log;
    TimePoint deadline = Network::kStart + 10ms;
    bool armed = true;
    void receive(std::string_view b, const Endpoint& r, const Endpoint& l, TimePoint now) override {
      log->push_back("rx " + std::string(b));
      RecordingNode::receive(b, r, l, now);
    }
    void advance(TimePoint) override {
      log->push_back("timer");
      armed = false;
    }
    std::optional<TimePoint> next_deadline() const override {
      return armed ? std::optional<TimePoint>(deadline) : std::nullopt;
    }
  };
  std::vector<std::string> log;
  OrderNode pcscf;
  pcscf.log = &log;
  Network net;
  ASSERT_TRUE(net.attach(pcscf, kPcscf));
  net.set_default_link({.delay = 10ms});
  net.send({kUe, kPcscf, "a"});
  net.send({kScscf, kPcscf, "b"});
  net.run_until(Network::kStart + 10ms);
  EXPECT_EQ(log, (std::vector<std::string>{"rx a", "rx b", "timer"}));
}

TEST(Network, RunUntilIdleStopsOrRunsOutOfTime) {
  // A finite exchange: idle after the last arrival.
  {
    Network net;
    Pinger ue(kUe, kPcscf, Network::kStart + 1s, 1s, 2);
    RecordingNode pcscf(/*echo=*/true);
    ASSERT_TRUE(net.attach(ue, kUe));
    ASSERT_TRUE(net.attach(pcscf, kPcscf));
    net.set_default_link({.delay = 50ms});
    EXPECT_TRUE(net.run_until_idle(1min));
    EXPECT_EQ(net.now(), Network::kStart + 2100ms);
    EXPECT_EQ(net.in_flight(), 0u);
  }
  // An endless pinger: max runs out, the clock ends at now + max.
  {
    Network net;
    Pinger ue(kUe, kPcscf, Network::kStart + 1s, 1s, 1000000);
    ASSERT_TRUE(net.attach(ue, kUe));
    EXPECT_FALSE(net.run_until_idle(10s));
    EXPECT_EQ(net.now(), Network::kStart + 10s);
    EXPECT_EQ(ue.fired.size(), 10u);
  }
  // A timer within the window runs; idle once nothing is left.
  {
    Network net;
    Pinger ue(kUe, kPcscf, Network::kStart + 3s, 1s, 1);
    ASSERT_TRUE(net.attach(ue, kUe));
    EXPECT_TRUE(net.run_until_idle(5s));
    EXPECT_EQ(ue.fired.size(), 1u);
    EXPECT_EQ(net.now(), Network::kStart + 3s);
    EXPECT_EQ(net.counters().undeliverable, 1u);
  }
  // A timer beyond max does not count as activity.
  {
    Network net;
    Pinger ue(kUe, kPcscf, Network::kStart + 32s, 1s, 1);
    ASSERT_TRUE(net.attach(ue, kUe));
    EXPECT_TRUE(net.run_until_idle(5s));
    EXPECT_TRUE(ue.fired.empty());
    EXPECT_EQ(net.now(), Network::kStart);
  }
  // A message still in flight at max is not idle.
  {
    Network net;
    net.set_default_link({.delay = 2s});
    net.send({kUe, kPcscf, "x"});
    EXPECT_FALSE(net.run_until_idle(1s));
    EXPECT_EQ(net.in_flight(), 1u);
  }
}

TEST(Network, UndeliverableMessagesAreCountedAndReported) {
  Network net;
  RecordingNode pcscf;
  ASSERT_TRUE(net.attach(pcscf, kPcscf));  // UDP only
  std::vector<TraceRecord> reported;
  net.on_undeliverable([&](const TraceRecord& r) { reported.push_back(r); });
  net.set_default_link({.delay = 1ms});

  net.send({kUe, kScscf, "nobody"});
  net.send({kUe, ep("10.0.0.2:5060", Transport::Tcp), "wrong transport"});
  net.send({kUe, kPcscf, "fine"});
  EXPECT_TRUE(net.run_until_idle(1s));

  EXPECT_EQ(net.counters().undeliverable, 2u);
  EXPECT_EQ(net.counters().delivered, 1u);
  ASSERT_EQ(reported.size(), 2u);
  EXPECT_EQ(reported[0].bytes, "nobody");
  EXPECT_EQ(reported[0].fate, Fate::Undeliverable);
  EXPECT_FALSE(reported[0].delivered);
  EXPECT_EQ(reported[1].bytes, "wrong transport");
  EXPECT_EQ(net.trace()[0].fate, Fate::Undeliverable);
  ASSERT_EQ(pcscf.received.size(), 1u);
}

TEST(Network, OneNodeOnSeveralEndpoints) {
  Network net;
  Pinger pcscf(kPcscf, kUe, Network::kStart + 1s, 1s, 1);
  const Endpoint tcp = ep("10.0.0.2:5060", Transport::Tcp);
  ASSERT_TRUE(net.attach(pcscf, kPcscf));
  ASSERT_TRUE(net.attach(pcscf, tcp));
  ASSERT_TRUE(net.attach(pcscf, tcp)) << "attaching again to the same node is harmless";
  RecordingNode intruder;
  EXPECT_FALSE(net.attach(intruder, kPcscf)) << "an endpoint has one owner";

  net.send({kUe, kPcscf, "udp"});
  net.send({kUe, tcp, "tcp"});
  RecordingNode ue;
  ASSERT_TRUE(net.attach(ue, kUe));
  EXPECT_TRUE(net.run_until_idle(1min));
  EXPECT_EQ(pcscf.replies.size(), 2u);
  EXPECT_EQ(pcscf.fired.size(), 1u) << "one node, one timer table, whatever its endpoints";

  net.detach(kPcscf);
  net.send({kUe, kPcscf, "udp again"});
  net.send({kUe, tcp, "tcp again"});
  EXPECT_TRUE(net.run_until_idle(1min));
  EXPECT_EQ(pcscf.replies.size(), 3u);
  EXPECT_EQ(net.counters().undeliverable, 1u);
}

TEST(Network, LinkProfilesFromMostToLeastSpecific) {
  Network net;
  net.set_default_link({.delay = 1ms});
  net.set_link(kUe.address, kPcscf.address, {.delay = 2ms});
  net.set_link(kUe, kPcscf, {.delay = 3ms});
  EXPECT_EQ(net.link(kUe, kPcscf).delay, 3ms);
  EXPECT_EQ(net.link(ep("10.0.0.1:5070"), kPcscf).delay, 2ms) << "another port: the host pair";
  EXPECT_EQ(net.link(kPcscf, kUe).delay, 1ms) << "links are one-way";
  EXPECT_EQ(net.link(kUe, kScscf).delay, 1ms);
}

TEST(Network, PartitionsDropBothWaysUntilHealed) {
  Network net;
  RecordingNode ue, pcscf, scscf;
  ASSERT_TRUE(net.attach(ue, kUe));
  ASSERT_TRUE(net.attach(pcscf, kPcscf));
  ASSERT_TRUE(net.attach(scscf, kScscf));
  net.set_default_link({.delay = 1ms});

  net.set_partition(kPcscf.address, kUe.address, true);
  EXPECT_TRUE(net.is_partitioned(kUe.address, kPcscf.address));
  net.send({kUe, kPcscf, "1"});
  net.send({kPcscf, kUe, "2"});
  net.send({kUe, ep("10.0.0.2:5060", Transport::Tcp), "3"});  // TCP too
  net.send({kUe, kScscf, "4"});                                // other hosts still talk
  EXPECT_TRUE(net.run_until_idle(1s));
  EXPECT_TRUE(ue.received.empty());
  EXPECT_TRUE(pcscf.received.empty());
  EXPECT_EQ(scscf.received.size(), 1u);
  EXPECT_EQ(net.counters().partitioned, 3u);
  EXPECT_EQ(net.trace()[0].fate, Fate::Partitioned);

  // In flight when the cut is made: it still arrives.
  net.set_partition(kUe.address, kPcscf.address, false);
  net.send({kUe, kPcscf, "5"});
  net.set_partition(kUe.address, kPcscf.address, true);
  net.send({kUe, kPcscf, "6"});
  net.set_partition(kUe.address, kPcscf.address, false);
  net.send({kUe, kPcscf, "7"});
  EXPECT_TRUE(net.run_until_idle(1s));
  ASSERT_EQ(pcscf.received.size(), 2u);
  EXPECT_EQ(pcscf.received[0].bytes, "5");
  EXPECT_EQ(pcscf.received[1].bytes, "7");
}

TEST(Network, TraceHookSeesEveryFateOnce) {
  Network net(2);
  RecordingNode pcscf;
  ASSERT_TRUE(net.attach(pcscf, kPcscf));
  std::vector<TraceRecord> seen;
  net.on_trace([&](const TraceRecord& r) { seen.push_back(r); });
  net.keep_trace(false);
  net.set_default_link({.delay = 1ms, .loss = 0.3, .duplicate = 0.3});
  send_numbered(net, 1000, Duration::zero());
  EXPECT_TRUE(net.trace().empty());
  const auto& c = net.counters();
  EXPECT_EQ(seen.size(), c.sent + c.duplicated);
  EXPECT_EQ(seen.size(), c.delivered + c.lost);
  for (const auto& r : seen) EXPECT_NE(r.fate, Fate::InFlight);
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// A UE pinging an echoing P-CSCF over a lossy, jittery link, captured to `path`.
NetworkCounters lossy_exchange(std::uint64_t seed, const fs::path& path, const Endpoint& ue_at = kUe,
                               const Endpoint& pcscf_at = kPcscf) {
  Network net(seed);
  Pinger ue(ue_at, pcscf_at, Network::kStart + 20ms, 20ms, 200);
  RecordingNode pcscf(/*echo=*/true);
  EXPECT_TRUE(net.attach(ue, ue_at));
  EXPECT_TRUE(net.attach(pcscf, pcscf_at));
  net.set_default_link({.delay = 15ms, .jitter = 10ms, .loss = 0.1, .duplicate = 0.05, .reorder = 0.05});
  EXPECT_TRUE(net.write_pcap(path));
  EXPECT_TRUE(net.run_until_idle(1min));
  EXPECT_TRUE(net.close_pcap());
  return net.counters();
}

class PcapFiles : public ::testing::Test {
 protected:
  fs::path temp(const std::string& name) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    paths_.push_back(fs::temp_directory_path() /
                     ("imsflow_sim_" + std::string(info->name()) + "_" + name + "_" + std::to_string(::getpid()) + ".pcap"));
    return paths_.back();
  }
  void TearDown() override {
    std::error_code ignored;
    for (const auto& p : paths_) fs::remove(p, ignored);
  }

 private:
  std::vector<fs::path> paths_;
};

std::uint32_t le32_at(const std::string& s, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = v << 8 | static_cast<unsigned char>(s[at + static_cast<std::size_t>(i)]);
  return v;
}

/// The record count and the first record's seconds field of a capture.
std::pair<std::size_t, std::uint32_t> records_of(const std::string& file) {
  std::size_t n = 0;
  std::uint32_t first_sec = 0;
  for (std::size_t at = 24; at + 16 <= file.size(); at += 16 + le32_at(file, at + 8)) {
    if (n == 0) first_sec = le32_at(file, at);
    ++n;
  }
  return {n, first_sec};
}

TEST_F(PcapFiles, SameSeedGivesTheSameBytes) {
  const fs::path a = temp("a"), b = temp("b"), c = temp("c");
  const NetworkCounters ca = lossy_exchange(1234, a);
  lossy_exchange(1234, b);
  const NetworkCounters cc = lossy_exchange(1235, c);
  const std::string fa = slurp(a), fb = slurp(b), fc = slurp(c);
  ASSERT_GT(fa.size(), 24u);
  EXPECT_TRUE(fa == fb) << "two runs with one seed must write identical captures";
  EXPECT_FALSE(fa == fc) << "another seed loses other datagrams";
  EXPECT_GT(ca.lost, 0u);

  // One record per send, lost ones included, network copies not.
  const auto [records, first_sec] = records_of(fa);
  EXPECT_EQ(records, ca.sent);
  EXPECT_EQ(records_of(fc).first, cc.sent);
  EXPECT_EQ(first_sec, 1767225600u) << "virtual time maps onto 2026-01-01 00:00:00 UTC";
  EXPECT_EQ(le32_at(fa, 24 + 4), 20000u) << "the first ping left at +20 ms";
}

TEST_F(PcapFiles, Ipv6EndToEnd) {
  const fs::path p = temp("v6");
  const Endpoint ue = ep("[2001:db8::1]:5060");
  const Endpoint pcscf = ep("[2001:db8::2]:5060");
  const NetworkCounters counts = lossy_exchange(99, p, ue, pcscf);
  EXPECT_GT(counts.delivered, 250u);
  const std::string file = slurp(p);
  ASSERT_GT(file.size(), 24u + 16u + 14u);
  EXPECT_EQ(static_cast<unsigned char>(file[24 + 16 + 12]), 0x86);  // ethertype IPv6
  EXPECT_EQ(static_cast<unsigned char>(file[24 + 16 + 13]), 0xdd);
  EXPECT_EQ(records_of(file).first, counts.sent);
}

TEST_F(PcapFiles, WritePcapReportsABadPath) {
  Network net;
  auto r = net.write_pcap("/nonexistent-dir-for-imsflow/sim.pcap");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, net::PcapErrorCode::OpenFailed);
  net.send({kUe, kPcscf, "x"});  // no capture open: nothing to count
  EXPECT_EQ(net.counters().pcap_errors, 0u);
}

}  // namespace
}  // namespace imsflow::sim
