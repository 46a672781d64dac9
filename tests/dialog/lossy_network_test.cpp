// Whole calls through the simulator's lossy network: the retransmission
// rules of RFC 3261 and RFC 3262 must carry every call to the end.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "dialog/user_agent.hpp"
#include "sim/network.hpp"
#include "sip/parser.hpp"

namespace imsflow::dialog {
namespace {

using namespace std::chrono_literals;
using sip::Endpoint;
using sip::Transport;

constexpr std::string_view kOffer =
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 4000 RTP/AVP 116\r\na=rtpmap:116 AMR-WB/16000\r\n";
constexpr std::string_view kAnswer =
    "v=0\r\no=- 2 2 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\nt=0 0\r\n"
    "m=audio 5000 RTP/AVP 116\r\na=rtpmap:116 AMR-WB/16000\r\n";

struct Tally : SessionObserver {
  std::function<void(const SessionEvent&)> react;
  std::map<SessionEventKind, int> count;
  std::vector<std::string> failures;
  void on_session_event(const SessionEvent& e) override {
    ++count[e.kind];
    if (e.kind == SessionEventKind::Failed) failures.push_back(std::to_string(e.status) + " " + e.cause);
    if (react) react(e);
  }
};

TEST(LossyNetwork, ThousandCallsWithLossDuplicationAndReorderingAllEstablish) {
  const Endpoint caller_at{Transport::Udp, sip::IpAddress::v4(10, 0, 0, 1), 5060};
  const Endpoint callee_at{Transport::Udp, sip::IpAddress::v4(10, 0, 0, 2), 5060};
  sim::Network net(20261126);
  net.set_default_link({20ms, 10ms, 0.10, 0.05, 0.05});
  Tally caller_events, callee_events;
  UserAgentConfig cc;
  cc.local = caller_at;
  cc.user = "caller";
  cc.seed = 1;
  UserAgentConfig uc;
  uc.local = callee_at;
  uc.user = "callee";
  uc.seed = 2;
  UserAgent caller{cc, caller_events};
  UserAgent callee{uc, callee_events};
  ASSERT_TRUE(net.attach(caller, caller_at));
  ASSERT_TRUE(net.attach(callee, callee_at));
  callee_events.react = [&](const SessionEvent& e) {
    if (e.kind == SessionEventKind::Incoming) callee.send_provisional(e.session, 183, kAnswer, net.now());
    if (e.kind == SessionEventKind::PrackDone) callee.answer(e.session, {}, net.now());
  };
  std::vector<SessionId> calls;
  CallRequest r;
  r.target = "sip:callee@10.0.0.2";
  r.next_hop = callee_at;
  r.sdp_offer = std::string(kOffer);
  for (int i = 0; i < 1000; ++i) {
    calls.push_back(caller.call(r, net.now()));
    net.flush(caller);
    net.run_for(5ms);
  }
  net.run_for(60s);
  int confirmed = 0;
  for (SessionId c : calls) confirmed += caller.state(c) == SessionState::Confirmed;
  EXPECT_EQ(confirmed, 1000);
  EXPECT_EQ(caller_events.count[SessionEventKind::Confirmed], 1000);
  EXPECT_EQ(callee_events.count[SessionEventKind::Confirmed], 1000);
  EXPECT_TRUE(caller_events.failures.empty()) << caller_events.failures.front();
  EXPECT_TRUE(callee_events.failures.empty()) << callee_events.failures.front();
  EXPECT_GT(net.counters().lost, 500u) << "the loss really happened";
  EXPECT_GT(net.counters().duplicated, 200u);
  EXPECT_GT(caller.transaction_stats().retransmissions_sent, 0u);

  // No reliable provisional was PRACKed twice: one PRACK transaction (branch)
  // per Call-ID and RAck, however often the 183 or the PRACK was resent.
  std::map<std::string, std::set<std::string>> prack_branches;
  for (const sim::TraceRecord& t : net.trace()) {
    if (t.bytes.rfind("PRACK ", 0) != 0) continue;
    auto m = sip::parse(t.bytes);
    ASSERT_TRUE(m);
    const std::string key = std::string(m->call_id()) + " " + std::to_string(m->rack()->rseq);
    prack_branches[key].insert(std::string(m->top_via()->branch));
  }
  EXPECT_EQ(prack_branches.size(), 1000u);
  for (const auto& [key, branches] : prack_branches) EXPECT_EQ(branches.size(), 1u) << key;

  for (SessionId c : calls) caller.hang_up(c, net.now());
  net.flush(caller);
  net.run_for(100s);
  EXPECT_EQ(caller_events.count[SessionEventKind::Ended], 1000);
  EXPECT_EQ(caller.live_sessions(), 0u);
  EXPECT_EQ(callee.live_sessions(), 0u);
  EXPECT_EQ(caller.live_transactions(), 0u);
  EXPECT_EQ(callee.live_transactions(), 0u);
}

TEST(LossyNetwork, SameSeedSameRun) {
  auto run = [](std::uint64_t seed) {
    const Endpoint a_at{Transport::Udp, sip::IpAddress::v4(10, 0, 0, 1), 5060};
    const Endpoint b_at{Transport::Udp, sip::IpAddress::v4(10, 0, 0, 2), 5060};
    sim::Network net(seed);
    net.set_default_link({20ms, 10ms, 0.2, 0.05, 0.05});
    Tally ae, be;
    UserAgentConfig ac;
    ac.local = a_at;
    UserAgentConfig bc;
    bc.local = b_at;
    bc.seed = 9;
    UserAgent a{ac, ae};
    UserAgent b{bc, be};
    net.attach(a, a_at);
    net.attach(b, b_at);
    be.react = [&](const SessionEvent& e) {
      if (e.kind == SessionEventKind::Incoming) b.send_provisional(e.session, 183, kAnswer, net.now());
      if (e.kind == SessionEventKind::PrackDone) b.answer(e.session, {}, net.now());
    };
    CallRequest r;
    r.target = "sip:b@10.0.0.2";
    r.next_hop = b_at;
    r.sdp_offer = std::string(kOffer);
    for (int i = 0; i < 20; ++i) a.call(r, net.now());
    net.flush(a);
    net.run_for(40s);
    std::string all;
    for (const auto& t : net.trace()) all += t.bytes;
    return all;
  };
  EXPECT_EQ(run(7), run(7));
  EXPECT_NE(run(7), run(8));
}

// The callee sends a reliable 183 (the answer) and a reliable 180 per call,
// and answers once the 180 is PRACKed. Under loss, duplication and heavy
// reordering, retransmitted 183s arrive after the 180: the caller must PRACK
// each RSeq once, the 180's only after the 183's (RFC 3262 §4).
TEST(LossyNetwork, TwoReliableProvisionalsPerCallArePrackedOnceEachInRSeqOrder) {
  const Endpoint caller_at{Transport::Udp, sip::IpAddress::v4(10, 0, 0, 1), 5060};
  const Endpoint callee_at{Transport::Udp, sip::IpAddress::v4(10, 0, 0, 2), 5060};
  sim::Network net(4242);
  net.set_default_link({20ms, 15ms, 0.10, 0.05, 0.25});
  Tally caller_events, callee_events;
  UserAgentConfig cc;
  cc.local = caller_at;
  cc.seed = 3;
  UserAgentConfig uc;
  uc.local = callee_at;
  uc.seed = 4;
  UserAgent caller{cc, caller_events};
  UserAgent callee{uc, callee_events};
  ASSERT_TRUE(net.attach(caller, caller_at));
  ASSERT_TRUE(net.attach(callee, callee_at));
  std::map<std::pair<std::uint32_t, std::uint32_t>, int> pracked;
  callee_events.react = [&](const SessionEvent& e) {
    if (e.kind == SessionEventKind::Incoming) {
      callee.send_provisional(e.session, 183, kAnswer, net.now());
      callee.send_provisional(e.session, 180, {}, net.now());  // sent once the 183 is PRACKed
    }
    if (e.kind == SessionEventKind::PrackDone && ++pracked[{e.session.index, e.session.generation}] == 2)
      callee.answer(e.session, {}, net.now());
  };
  std::vector<SessionId> calls;
  CallRequest r;
  r.target = "sip:callee@10.0.0.2";
  r.next_hop = callee_at;
  r.sdp_offer = std::string(kOffer);
  for (int i = 0; i < 300; ++i) {
    calls.push_back(caller.call(r, net.now()));
    net.flush(caller);
    net.run_for(5ms);
  }
  net.run_for(60s);
  int confirmed = 0;
  for (SessionId c : calls) confirmed += caller.state(c) == SessionState::Confirmed;
  EXPECT_EQ(confirmed, 300);
  EXPECT_TRUE(caller_events.failures.empty()) << caller_events.failures.front();
  EXPECT_TRUE(callee_events.failures.empty()) << callee_events.failures.front();
  EXPECT_GT(net.counters().reordered, 100u) << "the reordering really happened";

  // Per call: two RSeqs, consecutive; one PRACK transaction each; the first
  // PRACK of the higher one sent after the first of the lower one.
  struct Pracks {
    std::map<std::uint32_t, std::set<std::string>> branches;  // RSeq → branches
    std::vector<std::uint32_t> order;                         // RSeq of each new PRACK transaction, in sending order
  };
  std::map<std::string, Pracks> per_call;
  struct Arrival {
    TimePoint at;
    std::uint64_t id;
    std::string call_id;
    std::uint32_t rseq;
  };
  std::vector<Arrival> provisionals;  // reliable 18x as the caller received them
  for (const sim::TraceRecord& t : net.trace()) {
    auto m = sip::parse(t.bytes);
    ASSERT_TRUE(m);
    const std::string call_id(m->call_id());
    if (m->is_request() && m->method() == sip::Method::Prack) {
      Pracks& p = per_call[call_id];
      const std::string branch(m->top_via()->branch);
      auto& seen = p.branches[m->rack()->rseq];
      if (seen.insert(branch).second) p.order.push_back(m->rack()->rseq);
    } else if (!m->is_request() && m->rseq() && t.fate == sim::Fate::Delivered) {
      provisionals.push_back({*t.delivered, t.id, call_id, *m->rseq()});
    }
  }
  // The trace is in sending order; what matters here is arrival order.
  std::sort(provisionals.begin(), provisionals.end(),
            [](const Arrival& a, const Arrival& b) { return a.at != b.at ? a.at < b.at : a.id < b.id; });
  std::size_t late_provisionals = 0;  // an 18x arriving after a higher RSeq of its call did
  std::map<std::string, std::uint32_t> highest_rseq_delivered;
  for (const Arrival& a : provisionals) {
    std::uint32_t& high = highest_rseq_delivered[a.call_id];
    if (a.rseq < high) ++late_provisionals;
    high = std::max(high, a.rseq);
  }
  EXPECT_EQ(per_call.size(), 300u);
  for (const auto& [call_id, p] : per_call) {
    ASSERT_EQ(p.branches.size(), 2u) << call_id;
    for (const auto& [rseq, branches] : p.branches) EXPECT_EQ(branches.size(), 1u) << call_id << " RSeq " << rseq;
    EXPECT_EQ(p.branches.rbegin()->first, p.branches.begin()->first + 1) << call_id;
    ASSERT_EQ(p.order.size(), 2u);
    EXPECT_LT(p.order[0], p.order[1]) << call_id << ": PRACKed out of RSeq order";
  }
  EXPECT_GT(late_provisionals, 0u) << "some old 183 really overtook a 180";
}

// Both ends on TCP: the transport's reliability replaces Timer A/E/G, so no
// request is retransmitted, and every call establishes and ends cleanly with
// both reliable provisionals PRACKed.
TEST(LossyNetwork, CallsOverTcpEstablishWithoutRetransmissions) {
  const Endpoint caller_at{Transport::Tcp, sip::IpAddress::v4(10, 0, 0, 1), 5060};
  const Endpoint callee_at{Transport::Tcp, sip::IpAddress::v4(10, 0, 0, 2), 5060};
  sim::Network net(99);
  net.set_default_link({20ms, 10ms, 0.2, 0.1, 0.2});  // loss, duplication and reordering spare TCP
  Tally caller_events, callee_events;
  UserAgentConfig cc;
  cc.local = caller_at;
  cc.seed = 5;
  UserAgentConfig uc;
  uc.local = callee_at;
  uc.seed = 6;
  UserAgent caller{cc, caller_events};
  UserAgent callee{uc, callee_events};
  ASSERT_TRUE(net.attach(caller, caller_at));
  ASSERT_TRUE(net.attach(callee, callee_at));
  std::map<std::pair<std::uint32_t, std::uint32_t>, int> pracked;
  callee_events.react = [&](const SessionEvent& e) {
    if (e.kind == SessionEventKind::Incoming) {
      callee.send_provisional(e.session, 183, kAnswer, net.now());
      callee.send_provisional(e.session, 180, {}, net.now());
    }
    if (e.kind == SessionEventKind::PrackDone && ++pracked[{e.session.index, e.session.generation}] == 2)
      callee.answer(e.session, {}, net.now());
  };
  std::vector<SessionId> calls;
  CallRequest r;
  r.target = "sip:callee@10.0.0.2;transport=tcp";
  r.next_hop = callee_at;
  r.sdp_offer = std::string(kOffer);
  for (int i = 0; i < 200; ++i) {
    calls.push_back(caller.call(r, net.now()));
    net.flush(caller);
    net.run_for(5ms);
  }
  net.run_for(10s);
  int confirmed = 0;
  for (SessionId c : calls) confirmed += caller.state(c) == SessionState::Confirmed;
  EXPECT_EQ(confirmed, 200);
  EXPECT_EQ(callee_events.count[SessionEventKind::Confirmed], 200);
  EXPECT_EQ(callee_events.count[SessionEventKind::PrackDone], 400);
  EXPECT_TRUE(caller_events.failures.empty()) << caller_events.failures.front();
  EXPECT_EQ(caller.transaction_stats().retransmissions_sent, 0u);
  EXPECT_EQ(callee.transaction_stats().retransmissions_sent, 0u);
  EXPECT_EQ(net.counters().lost, 0u);
  for (const sim::TraceRecord& t : net.trace()) {
    EXPECT_EQ(t.destination.transport, Transport::Tcp);
    EXPECT_NE(t.bytes.find("SIP/2.0/TCP"), std::string::npos) << "every Via says TCP";
  }
  for (SessionId c : calls) caller.hang_up(c, net.now());
  net.flush(caller);
  net.run_for(40s);  // Timer L and M (RFC 6026) run 64·T1 on TCP too
  EXPECT_EQ(caller_events.count[SessionEventKind::Ended], 200);
  EXPECT_EQ(caller.live_sessions(), 0u);
  EXPECT_EQ(callee.live_sessions(), 0u);
  EXPECT_EQ(caller.live_transactions(), 0u);
  EXPECT_EQ(callee.live_transactions(), 0u);
}

}  // namespace
}  // namespace imsflow::dialog
