// The call generator against an answering UE in the simulator: the rate it
// holds, loss recovered by retransmission, and each injected failure.
#include "load/generator.hpp"

#include <gtest/gtest.h>

#include "sim/network.hpp"

namespace imsflow::load {
namespace {

const sip::Endpoint kCaller{sip::Transport::Udp, sip::IpAddress::v4(10, 0, 0, 1), 5060};
const sip::Endpoint kCallee{sip::Transport::Udp, sip::IpAddress::v4(10, 0, 0, 2), 5060};

struct Bench {
  explicit Bench(GeneratorConfig c, double loss = 0, AnswerBehaviour b = {}) : answerer(with_media(b)) {
    net.set_default_link({5ms, {}, loss, 0, 0});
    net.keep_trace(false);
    c.ua.local = kCaller;
    c.target = kCallee;
    c.target_uri = "sip:ue@10.0.0.2";
    c.media_address = "10.0.0.1";
    generator = std::make_unique<CallGenerator>(c, net.now());
    dialog::UserAgentConfig uc;
    uc.local = kCallee;
    uc.user = "ue";
    uc.seed = 99;
    apply_profile(c.profile, uc);
    callee = std::make_unique<dialog::UserAgent>(uc, answerer);
    answerer.bind(*callee);
    net.attach(*generator, kCaller);
    net.attach(*callee, kCallee);
  }
  static AnswerBehaviour with_media(AnswerBehaviour b) {
    b.media.address = "10.0.0.2";
    return b;
  }
  GeneratorReport until_done(Duration limit = 300s) {
    const TimePoint end = net.now() + limit;
    while (!generator->done() && net.now() < end) net.run_for(100ms);
    return generator->report();
  }
  sim::Network net{5};
  Answerer answerer;
  std::unique_ptr<CallGenerator> generator;
  std::unique_ptr<dialog::UserAgent> callee;
};

GeneratorConfig config(double rate, std::uint64_t calls) {
  GeneratorConfig c;
  c.rate = rate;
  c.max_calls = calls;
  c.hold = 200ms;
  return c;
}

TEST(CallGenerator, HoldsTheRateAndEstablishesEveryCall) {
  GeneratorConfig c = config(200, 0);
  c.duration = 10s;
  Bench r(c);
  r.net.run_for(10s);
  // The calls started within the 10 s, at 200/s: 2,000 (the first one at 0).
  EXPECT_NEAR(static_cast<double>(r.generator->live().attempted.load()), 2000.0, 2000 * 0.02);
  const GeneratorReport rep = r.until_done();
  EXPECT_EQ(rep.established, rep.attempted);
  EXPECT_EQ(rep.failed, 0u);
  EXPECT_EQ(rep.unfinished, 0u);
  EXPECT_EQ(rep.latency[static_cast<std::size_t>(Kpi::Setup)].count(), rep.established);
  // Every step of the 100rel ladder is measured; one-way delay is 5 ms.
  EXPECT_NEAR(rep.latency[static_cast<std::size_t>(Kpi::PostDialDelay)].percentile_ms(0.5), 10.0, 1.0);
  EXPECT_NEAR(rep.latency[static_cast<std::size_t>(Kpi::Setup)].percentile_ms(0.5), 20.0, 1.0);
  EXPECT_NEAR(rep.latency[static_cast<std::size_t>(Kpi::ProvisionalToPrack)].percentile_ms(0.5), 10.0, 1.0);
}

// Generators that share a rate (one per thread) take turns: with phase
// 0.5 at 10 calls/s the first call starts half an interval (50 ms) late,
// then every 100 ms.
TEST(CallGenerator, PhaseDelaysTheFirstCallByThatShareOfAnInterval) {
  GeneratorConfig c = config(10, 3);
  c.phase = 0.5;
  Bench r(c);
  r.net.run_for(40ms);
  EXPECT_EQ(r.generator->live().attempted.load(), 0u);
  r.net.run_for(20ms);  // 60 ms
  EXPECT_EQ(r.generator->live().attempted.load(), 1u);
  r.net.run_for(100ms);  // 160 ms
  EXPECT_EQ(r.generator->live().attempted.load(), 2u);
}

TEST(CallGenerator, RampsUpAndRespectsMaxConcurrent) {
  GeneratorConfig c = config(1000, 0);
  c.duration = 2s;
  c.max_concurrent = 50;
  c.hold = 1s;  // each call lasts about 1 s, so 50 in flight allow about 50 calls/s
  Bench r(c);
  std::uint64_t most = 0;
  for (int i = 0; i < 200; ++i) {
    r.net.run_for(10ms);
    most = std::max<std::uint64_t>(most, r.generator->live().in_flight.load());
  }
  EXPECT_LE(most, 50u);
  const GeneratorReport rep = r.until_done();
  EXPECT_EQ(rep.established, rep.attempted);
  EXPECT_LT(rep.attempted, 200u) << "the concurrency limit, not the rate, decided";
}

TEST(CallGenerator, LossIsRecoveredByRetransmission) {
  Bench r(config(50, 200), 0.05);
  const GeneratorReport rep = r.until_done();
  EXPECT_EQ(rep.attempted, 200u);
  EXPECT_EQ(rep.established, 200u) << (rep.failures.empty() ? "" : rep.failures.begin()->first);
  EXPECT_GT(rep.transactions.retransmissions_sent + r.callee->transaction_stats().retransmissions_sent, 0u);
  // Per message type, and adding up to the totals: with 5 % loss on 200
  // calls, lost INVITEs come again from Timer A and lost 183s from the
  // callee's RFC 3262 timer, which the caller sees as repeats.
  auto count = [](const txn::MessageTypeCounts& c, std::string_view type) -> std::uint64_t {
    for (const auto& [name, n] : c.items())
      if (name == type) return n;
    return 0;
  };
  const txn::TransactionStats callee = r.callee->transaction_stats();
  EXPECT_EQ(rep.transactions.sent_again.total(), rep.transactions.retransmissions_sent);
  EXPECT_EQ(callee.sent_again.total(), callee.retransmissions_sent);
  EXPECT_GT(count(rep.transactions.sent_again, "INVITE"), 0u) << rep.transactions.sent_again.describe();
  EXPECT_GT(count(callee.sent_again, "183 (INVITE)"), 0u) << callee.sent_again.describe();
  EXPECT_EQ(callee.received_again.total(),
            callee.request_retransmissions_received + callee.response_retransmissions_received);
}

struct InjectRow {
  const char* inject;
  const char* failure_words;  // in the failure causes ("" when the calls establish)
};

class Injections : public ::testing::TestWithParam<InjectRow> {};

TEST_P(Injections, EachInjectionGivesItsOutcome) {
  GeneratorConfig c = config(20, 10);
  c.inject = *parse_injection(GetParam().inject);
  AnswerBehaviour b;
  if (c.inject.kind == Injection::CancelAfter) b.silent = true;  // never answers: the CANCEL decides
  Bench r(c, 0, b);
  const GeneratorReport rep = r.until_done();
  EXPECT_EQ(rep.attempted, 10u);
  EXPECT_EQ(rep.injected_outcomes, 10u);
  EXPECT_EQ(rep.unfinished, 0u);
  const std::string words = GetParam().failure_words;
  if (words.empty()) {
    EXPECT_EQ(rep.established, 10u);
  } else {
    ASSERT_EQ(rep.failures.size(), 1u);
    EXPECT_NE(rep.failures.begin()->first.find(words), std::string::npos) << rep.failures.begin()->first;
    EXPECT_EQ(rep.failures.begin()->second, 10u);
  }
}

INSTANTIATE_TEST_SUITE_P(Seed, Injections,
                         ::testing::Values(InjectRow{"no-prack", "504"}, InjectRow{"no-ack", "200 OK without ACK"},
                                           InjectRow{"cancel-after:1", "487"}, InjectRow{"bye-early", ""}),
                         [](const auto& info) {
                           std::string n = info.param.inject;
                           for (char& ch : n)
                             if (ch == '-' || ch == ':') ch = '_';
                           return n;
                         });

// An overloaded UAS: 503 with Retry-After 2. The generator stops starting
// calls for those 2 s instead of hammering it.
TEST(CallGenerator, BacksOffAsRetryAfterAsks) {
  struct Overloaded : dialog::SessionObserver {
    dialog::UserAgent* ua = nullptr;
    void on_session_event(const dialog::SessionEvent& e) override {
      if (e.kind == dialog::SessionEventKind::Incoming) ua->reject(e.session, 503, e.at, "Retry-After: 2");
    }
  } overloaded;
  GeneratorConfig c = config(100, 0);
  c.duration = 3s;
  Bench r(c);
  r.net.detach(kCallee);
  dialog::UserAgentConfig uc;
  uc.local = kCallee;
  dialog::UserAgent busy(uc, overloaded);
  overloaded.ua = &busy;
  r.net.attach(busy, kCallee);
  const GeneratorReport rep = r.until_done();
  // Without the pause: 300 calls in 3 s. With it: the first ones (until the
  // first 503 arrives), then one more burst after each 2 s pause.
  EXPECT_LT(rep.attempted, 30u);
  EXPECT_GE(rep.backoffs, 1u);
  EXPECT_EQ(rep.failed, rep.attempted);
  EXPECT_NE(rep.failures.begin()->first.find("503"), std::string::npos);
}

TEST(CallGenerator, InjectionNamesParse) {
  EXPECT_EQ(parse_injection("cancel-after:2.5")->after, std::chrono::milliseconds(2500));
  EXPECT_FALSE(parse_injection("cancel-after:"));
  EXPECT_FALSE(parse_injection("cancel-after:x"));
  EXPECT_FALSE(parse_injection("sometimes"));
  EXPECT_EQ(injection_name(*parse_injection("cancel-after:2.5")), "cancel-after:2.5");
}

TEST(LatencySamples, PercentilesByNearestRank) {
  LatencySamples s;
  for (int i = 1; i <= 1000; ++i) s.add(std::chrono::microseconds(i * 1000));
  EXPECT_DOUBLE_EQ(s.percentile_ms(0.5), 501.0);
  EXPECT_DOUBLE_EQ(s.percentile_ms(0.99), 990.0);
  EXPECT_DOUBLE_EQ(s.max_ms(), 1000.0);
  LiveHistogram h;
  for (int i = 1; i <= 1000; ++i) h.add(std::chrono::microseconds(i * 1000));
  EXPECT_NEAR(h.percentile_ms(0.5), 500.0, 500 * 0.07);
  EXPECT_NEAR(h.percentile_ms(0.99), 990.0, 990 * 0.07);
}

}  // namespace
}  // namespace imsflow::load
