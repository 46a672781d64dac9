// INVITE sessions between two user agents over a small in-test wire (fixed
// delay, optional drops), asserting the exact ladder of each seed scenario.
#include "dialog/user_agent.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sip/parser.hpp"
#include "util/ascii.hpp"

namespace imsflow::dialog {
namespace {

using sip::Endpoint;
using sip::Transport;
using namespace std::chrono_literals;

const Endpoint kAlice{Transport::Udp, sip::IpAddress::loopback_v4(), 5060};
const Endpoint kBob{Transport::Udp, sip::IpAddress::loopback_v4(), 5070};

constexpr std::string_view kOffer =
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 4000 RTP/AVP 116\r\na=rtpmap:116 AMR-WB/16000\r\n";
constexpr std::string_view kAnswer =
    "v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 5000 RTP/AVP 116\r\na=rtpmap:116 AMR-WB/16000\r\n";

struct Recorder : SessionObserver {
  std::vector<SessionEvent> events;
  std::function<void(const SessionEvent&)> react;
  std::optional<std::string> answer;  // what answer_offer() gives (nullopt: the session's own SDP)
  std::vector<std::string> offers;    // every offer answer_offer() was asked about
  std::optional<std::string> answer_offer(SessionId, std::string_view offer) override {
    offers.emplace_back(offer);
    return answer;
  }
  void on_session_event(const SessionEvent& e) override {
    SessionEvent copy = e;
    copy.body = {};
    events.push_back(copy);
    if (react) react(e);
  }
  std::vector<SessionEventKind> kinds() const {
    std::vector<SessionEventKind> k;
    for (const auto& e : events) k.push_back(e.kind);
    return k;
  }
  const SessionEvent* last(SessionEventKind k) const {
    for (auto it = events.rbegin(); it != events.rend(); ++it)
      if (it->kind == k) return &*it;
    return nullptr;
  }
};

// Two nodes and a wire with a fixed one-way delay. `drop` sees each message
// (with its label) and may lose it.
class Wire {
 public:
  Wire(UserAgent& a, UserAgent& b) : a_(a), b_(b) {}
  std::function<bool(const std::string& label)> drop;
  std::vector<std::string> ladder;  // "A->B INVITE", "B->A 183" … as delivered or lost
  std::vector<std::string> bytes;   // the message behind each ladder line
  TimePoint now = TimePoint{} + std::chrono::hours(1);
  Duration delay = 10ms;

  void run_for(Duration d) { run_until(now + d); }
  void run_until(TimePoint end) {
    collect();
    while (true) {
      TimePoint next = TimePoint::max();
      if (!flight_.empty()) next = flight_.front().at;
      for (UserAgent* n : {&a_, &b_})
        if (auto dl = n->next_deadline()) next = std::min(next, *dl);
      if (next > end) break;
      now = std::max(now, next);
      if (!flight_.empty() && flight_.front().at <= now) {
        Packet p = std::move(flight_.front());
        flight_.pop_front();
        UserAgent& to = p.to_b ? b_ : a_;
        to.receive(p.t.bytes, p.t.source, p.t.destination, now);
      } else {
        a_.advance(now);
        b_.advance(now);
      }
      collect();
    }
    now = end;
  }

 private:
  struct Packet {
    TimePoint at;
    bool to_b;
    txn::Transmit t;
  };
  static std::string label(const std::string& bytes) {
    const std::string first = bytes.substr(0, bytes.find("\r\n"));
    if (first.rfind("SIP/2.0 ", 0) == 0) {
      const std::size_t cseq = bytes.find("CSeq: ");
      std::string method = bytes.substr(cseq + 6, bytes.find("\r\n", cseq) - cseq - 6);
      method = method.substr(method.find(' ') + 1);
      return first.substr(8, 3) + " (" + method + ")";
    }
    return first.substr(0, first.find(' '));
  }
  void collect() {
    for (int side = 0; side < 2; ++side) {
      std::vector<txn::Transmit> out;
      (side == 0 ? a_ : b_).take_transmits(out);
      for (auto& t : out) {
        const bool to_b = t.destination.port == kBob.port;
        std::string l = std::string(to_b ? "A->B " : "B->A ") + label(t.bytes);
        bytes.push_back(t.bytes);
        if (drop && drop(l)) {
          ladder.push_back(l + " [lost]");
          continue;
        }
        ladder.push_back(l);
        flight_.push_back(Packet{now + delay, to_b, std::move(t)});
      }
    }
  }
  UserAgent& a_;
  UserAgent& b_;
  std::deque<Packet> flight_;
};

UserAgentConfig config_for(const Endpoint& e, std::string user, std::uint64_t seed) {
  UserAgentConfig c;
  c.local = e;
  c.user = std::move(user);
  c.seed = seed;
  return c;
}

class SessionTest : public ::testing::Test {
 protected:
  Recorder alice_events, bob_events;
  UserAgent alice{config_for(kAlice, "alice", 1), alice_events};
  UserAgent bob{config_for(kBob, "bob", 2), bob_events};
  Wire wire{alice, bob};
  SessionId bob_session;

  CallRequest call_bob() {
    CallRequest r;
    r.target = "sip:bob@127.0.0.1:5070";
    r.next_hop = kBob;
    r.sdp_offer = std::string(kOffer);
    return r;
  }
  // Bob answers the seed's way: 183 with the SDP answer (reliable), 200 once PRACKed.
  void bob_answers_with_reliable_183() {
    bob_events.react = [this](const SessionEvent& e) {
      if (e.kind == SessionEventKind::Incoming) {
        bob_session = e.session;
        bob.send_provisional(e.session, 183, kAnswer, wire.now);
      } else if (e.kind == SessionEventKind::PrackDone) {
        bob.answer(e.session, {}, wire.now);
      }
    };
  }
  void expect_no_leaks() {
    EXPECT_EQ(alice.live_sessions(), 0u);
    EXPECT_EQ(bob.live_sessions(), 0u);
    EXPECT_EQ(alice.live_transactions(), 0u);
    EXPECT_EQ(bob.live_transactions(), 0u);
  }
};

TEST_F(SessionTest, SeedLadderWithReliable183) {
  bob_answers_with_reliable_183();
  const SessionId call = alice.call(call_bob(), wire.now);
  wire.run_for(1s);
  const std::vector<std::string> expected{
      "A->B INVITE",       "B->A 100 (INVITE)", "B->A 183 (INVITE)", "A->B PRACK",
      "B->A 200 (PRACK)",  "B->A 200 (INVITE)", "A->B ACK"};
  EXPECT_EQ(wire.ladder, expected);
  EXPECT_EQ(alice.state(call), SessionState::Confirmed);
  EXPECT_EQ(bob.state(bob_session), SessionState::Confirmed);
  const SessionTimes* t = alice.times(call);
  ASSERT_TRUE(t && t->invite && t->first_provisional && t->first_18x && t->reliability_done &&
              t->final_response && t->ack);
  EXPECT_EQ(*t->first_provisional - *t->invite, 20ms);
  EXPECT_EQ(*t->reliability_done - *t->invite, 40ms);
  EXPECT_EQ(*t->final_response - *t->invite, 40ms);
  const SessionEvent* progress = alice_events.last(SessionEventKind::Progress);
  ASSERT_TRUE(progress);
  EXPECT_TRUE(progress->reliable);
  EXPECT_EQ(progress->status, 183);

  alice.hang_up(call, wire.now);
  wire.run_for(1s);
  EXPECT_EQ(wire.ladder.back(), "B->A 200 (BYE)");
  EXPECT_EQ(alice_events.kinds().back(), SessionEventKind::Ended);
  EXPECT_EQ(bob_events.kinds().back(), SessionEventKind::Ended);
  wire.run_for(40s);
  expect_no_leaks();
}

TEST_F(SessionTest, PrackCarriesRAckOfTheProvisional) {
  bob_answers_with_reliable_183();
  alice.call(call_bob(), wire.now);
  wire.run_for(1s);
  auto at = std::find(wire.ladder.begin(), wire.ladder.end(), "A->B PRACK");
  ASSERT_NE(at, wire.ladder.end());
  const std::string prack = wire.bytes[at - wire.ladder.begin()];
  auto m = sip::parse(prack);
  ASSERT_TRUE(m) << m.error().describe();
  ASSERT_TRUE(m->rack());
  EXPECT_EQ(m->rack()->cseq, 1u);
  EXPECT_EQ(m->rack()->method, sip::Method::Invite);
  EXPECT_EQ(m->cseq()->number, 2u);
  EXPECT_TRUE(m->to()->tag());
}

TEST_F(SessionTest, LostPrackIsRecoveredByThe183Retransmission) {
  bob_answers_with_reliable_183();
  int prack_seen = 0;
  wire.drop = [&](const std::string& l) { return l == "A->B PRACK" && prack_seen++ == 0; };
  const SessionId call = alice.call(call_bob(), wire.now);
  wire.run_for(2s);
  EXPECT_EQ(alice.state(call), SessionState::Confirmed);
  // At 500 ms the 183's retransmission and the PRACK's Timer E both fire; the
  // PRACK is its own transaction's retransmission, not a second PRACK.
  const std::vector<std::string> expected{
      "A->B INVITE",      "B->A 100 (INVITE)", "B->A 183 (INVITE)", "A->B PRACK [lost]",
      "B->A 183 (INVITE)", "A->B PRACK",       "B->A 200 (PRACK)",  "B->A 200 (INVITE)",
      "A->B ACK"};
  ASSERT_EQ(wire.ladder, expected);
  auto lost = sip::parse(wire.bytes[3]);
  auto resent = sip::parse(wire.bytes[5]);
  ASSERT_TRUE(lost && resent);
  EXPECT_EQ(lost->top_via()->branch, resent->top_via()->branch);
}

TEST_F(SessionTest, UnprackedReliable183IsRetransmittedThenRejectedAt64T1) {
  UserAgentConfig c = config_for(kAlice, "alice", 1);
  c.faults.no_prack = true;
  Recorder ev;
  UserAgent lazy{c, ev};
  Wire w{lazy, bob};
  bob_events.react = [&](const SessionEvent& e) {
    if (e.kind == SessionEventKind::Incoming) bob.send_provisional(e.session, 183, kAnswer, w.now);
  };
  const SessionId call = lazy.call(call_bob(), w.now);
  w.run_for(40s);
  const auto n183 = std::count(w.ladder.begin(), w.ladder.end(), "B->A 183 (INVITE)");
  // RFC 3262 §3: sent at 0 and retransmitted at 0.5, 1.5, 3.5, 7.5, 15.5,
  // 31.5 s (doubling with no T2 cap), then the 5xx at 64·T1.
  EXPECT_EQ(n183, 7);
  EXPECT_NE(std::find(w.ladder.begin(), w.ladder.end(), "B->A 504 (INVITE)"), w.ladder.end());
  const SessionEvent* failed = bob_events.last(SessionEventKind::Failed);
  ASSERT_TRUE(failed);
  EXPECT_NE(failed->cause.find("PRACK missing"), std::string::npos) << failed->cause;
  EXPECT_FALSE(lazy.state(call));
  EXPECT_EQ(ev.last(SessionEventKind::Failed)->status, 504);
  w.run_for(40s);
  EXPECT_EQ(lazy.live_sessions(), 0u);
  EXPECT_EQ(bob.live_sessions(), 0u);
  EXPECT_EQ(lazy.live_transactions(), 0u);
  EXPECT_EQ(bob.live_transactions(), 0u);
}

TEST_F(SessionTest, TwoHundredWithoutAckIsRetransmittedThenByeAt64T1) {
  UserAgentConfig c = config_for(kAlice, "alice", 1);
  c.faults.no_ack = true;
  Recorder ev;
  UserAgent rude{c, ev};
  Wire w{rude, bob};
  bob_events.react = [&](const SessionEvent& e) {
    if (e.kind == SessionEventKind::Incoming) bob.answer(e.session, kAnswer, w.now);
  };
  rude.call(call_bob(), w.now);
  w.run_for(40s);
  const auto n200 = std::count(w.ladder.begin(), w.ladder.end(), "B->A 200 (INVITE)");
  EXPECT_EQ(n200, 11);  // 0, 0.5, 1.5, 3.5, 7.5, 11.5 … 31.5 s
  EXPECT_NE(std::find(w.ladder.begin(), w.ladder.end(), "B->A BYE"), w.ladder.end());
  const SessionEvent* failed = bob_events.last(SessionEventKind::Failed);
  ASSERT_TRUE(failed);
  EXPECT_NE(failed->cause.find("without ACK"), std::string::npos);
  w.run_for(40s);
  EXPECT_EQ(bob.live_sessions(), 0u);
  EXPECT_EQ(bob.live_transactions(), 0u);
}

TEST_F(SessionTest, NoAnswerAtAllFailsWithTimerB) {
  wire.drop = [](const std::string& l) { return l.rfind("A->B", 0) == 0; };
  const SessionId call = alice.call(call_bob(), wire.now);
  wire.run_for(33s);
  EXPECT_FALSE(alice.state(call));
  const SessionEvent* failed = alice_events.last(SessionEventKind::Failed);
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, 408);
  EXPECT_NE(failed->cause.find("no useful progress"), std::string::npos);
  EXPECT_EQ(std::count(wire.ladder.begin(), wire.ladder.end(), "A->B INVITE [lost]"), 7);
}

TEST_F(SessionTest, CancelBeforeAnswerGives487) {
  bob_events.react = [this](const SessionEvent& e) {
    if (e.kind == SessionEventKind::Incoming) bob.send_provisional(e.session, 180, {}, wire.now);
  };
  const SessionId call = alice.call(call_bob(), wire.now);
  wire.run_for(100ms);
  EXPECT_EQ(alice.state(call), SessionState::Early);
  alice.hang_up(call, wire.now);
  wire.run_for(1s);
  const std::vector<std::string> expected{"A->B INVITE", "B->A 100 (INVITE)", "B->A 180 (INVITE)", "A->B PRACK",
                                          "B->A 200 (PRACK)", "A->B CANCEL", "B->A 200 (CANCEL)",
                                          "B->A 487 (INVITE)", "A->B ACK"};
  EXPECT_EQ(wire.ladder, expected);
  EXPECT_EQ(alice_events.last(SessionEventKind::Failed)->cause, "cancelled by the caller");
  EXPECT_EQ(bob_events.last(SessionEventKind::Failed)->status, 487);
  wire.run_for(40s);
  expect_no_leaks();
}

TEST_F(SessionTest, RejectionReachesTheCallerWithItsCode) {
  bob_events.react = [this](const SessionEvent& e) {
    if (e.kind == SessionEventKind::Incoming) bob.reject(e.session, 486, wire.now);
  };
  alice.call(call_bob(), wire.now);
  wire.run_for(1s);
  const SessionEvent* failed = alice_events.last(SessionEventKind::Failed);
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, 486);
  EXPECT_EQ(wire.ladder.back(), "A->B ACK");
  wire.run_for(40s);
  expect_no_leaks();
}

TEST_F(SessionTest, UnsupportedRequireGets420WithUnsupported) {
  CallRequest r = call_bob();
  r.headers.emplace_back("Require", "foo");
  alice.call(r, wire.now);
  wire.run_for(1s);
  EXPECT_EQ(alice_events.last(SessionEventKind::Failed)->status, 420);
  EXPECT_TRUE(bob_events.events.empty()) << "the UAS core refuses it before a session exists";
}

TEST_F(SessionTest, StrayPrackAndByeGet481) {
  // A PRACK and a BYE in a dialog Bob never had.
  const std::string prack =
      "PRACK sip:bob@127.0.0.1:5070 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKstray;rport\r\n"
      "Max-Forwards: 70\r\nFrom: <sip:alice@x>;tag=a\r\nTo: <sip:bob@x>;tag=nope\r\nCall-ID: stray\r\n"
      "CSeq: 2 PRACK\r\nRAck: 1 1 INVITE\r\nContent-Length: 0\r\n\r\n";
  bob.receive(prack, kAlice, kBob, wire.now);
  std::vector<txn::Transmit> out;
  bob.take_transmits(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].bytes.substr(0, 11), "SIP/2.0 481");
  EXPECT_EQ(out[0].destination, kAlice);
}

TEST_F(SessionTest, PrackWithUnknownRAckGets481) {
  bob_answers_with_reliable_183();
  alice.call(call_bob(), wire.now);
  wire.run_for(1s);
  ASSERT_EQ(bob.state(bob_session), SessionState::Confirmed);
  auto at = std::find(wire.ladder.begin(), wire.ladder.end(), "A->B PRACK");
  ASSERT_NE(at, wire.ladder.end());
  // The same PRACK with a new CSeq and branch, for an RSeq never sent.
  std::string bad = wire.bytes[at - wire.ladder.begin()];
  const std::size_t rack = bad.find("RAck: ");
  bad.replace(rack + 6, bad.find(' ', rack + 6) - rack - 6, "7");
  bad.replace(bad.find("CSeq: 2"), 7, "CSeq: 9");
  bad.replace(bad.find("branch=") + 7, 7, "z9hG4bKbadrack");
  bob.receive(bad, kAlice, kBob, wire.now);
  std::vector<txn::Transmit> answer;
  bob.take_transmits(answer);
  ASSERT_EQ(answer.size(), 1u);
  EXPECT_EQ(answer[0].bytes.substr(0, 11), "SIP/2.0 481");
  EXPECT_EQ(bob.state(bob_session), SessionState::Confirmed) << "a stray PRACK does not hurt the dialog";
}

TEST_F(SessionTest, SecondReliableProvisionalWaitsForThePrackOfTheFirst) {
  bob_events.react = [this](const SessionEvent& e) {
    if (e.kind == SessionEventKind::Incoming) {
      bob_session = e.session;
      bob.send_provisional(e.session, 183, kAnswer, wire.now);
      bob.send_provisional(e.session, 180, {}, wire.now);  // queued until the 183 is PRACKed
    }
  };
  alice.call(call_bob(), wire.now);
  wire.run_for(1s);
  const std::vector<std::string> expected{"A->B INVITE",      "B->A 100 (INVITE)", "B->A 183 (INVITE)",
                                          "A->B PRACK",       "B->A 200 (PRACK)",  "B->A 180 (INVITE)",
                                          "A->B PRACK",       "B->A 200 (PRACK)"};
  EXPECT_EQ(wire.ladder, expected);
}

}  // namespace
}  // namespace imsflow::dialog

namespace imsflow::dialog {
namespace {

constexpr std::string_view kPreconditionOffer =
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 4000 RTP/AVP 116\r\na=rtpmap:116 AMR-WB/16000\r\n"
    "a=curr:qos local none\r\na=curr:qos remote none\r\n"
    "a=des:qos mandatory local sendrecv\r\na=des:qos optional remote sendrecv\r\n";

// TS 34.229-5 order for an MO call with preconditions: the callee holds its
// 180 until the caller's UPDATE says its resources are ready.
TEST_F(SessionTest, PreconditionLadderFollowsTheConformanceOrder) {
  UserAgentConfig ca = config_for(kAlice, "alice", 1);
  ca.supported = {"100rel", "precondition"};
  ca.local_qos_ready_after = 30ms;
  UserAgentConfig cb = config_for(kBob, "bob", 2);
  cb.local_qos_ready_after = 0ms;
  Recorder ae, be;
  UserAgent a{ca, ae};
  UserAgent b{cb, be};
  Wire w{a, b};
  SessionId callee;
  be.react = [&](const SessionEvent& e) {
    if (e.kind == SessionEventKind::Incoming) {
      callee = e.session;
      b.send_provisional(e.session, 183, kAnswer, w.now);
      b.send_provisional(e.session, 180, {}, w.now);  // held: preconditions not met yet
    } else if (e.kind == SessionEventKind::PrackDone && b.times(e.session)->preconditions_met) {
      b.answer(e.session, {}, w.now);  // the 180 was PRACKed: answer
    }
  };
  CallRequest r;
  r.target = "sip:bob@127.0.0.1:5070";
  r.next_hop = kBob;
  r.sdp_offer = std::string(kPreconditionOffer);
  const SessionId call = a.call(r, w.now);
  w.run_for(2s);
  const std::vector<std::string> expected{
      "A->B INVITE",       "B->A 100 (INVITE)", "B->A 183 (INVITE)", "A->B PRACK",
      "B->A 200 (PRACK)",  "A->B UPDATE",       "B->A 200 (UPDATE)", "B->A 180 (INVITE)",
      "A->B PRACK",        "B->A 200 (PRACK)",  "B->A 200 (INVITE)", "A->B ACK"};
  EXPECT_EQ(w.ladder, expected);
  EXPECT_EQ(a.state(call), SessionState::Confirmed);
  ASSERT_TRUE(b.qos(callee));
  EXPECT_TRUE(b.qos(callee)->met());
  // The UPDATE carried the caller's new status: local sendrecv.
  auto at = std::find(w.ladder.begin(), w.ladder.end(), "A->B UPDATE");
  const std::string& update = w.bytes[at - w.ladder.begin()];
  EXPECT_NE(update.find("a=curr:qos local sendrecv"), std::string::npos) << update;
  EXPECT_NE(update.find("o=- 1 2 IN IP4"), std::string::npos) << "a new offer raises the o= version";
  // The 183 told the caller the callee's status.
  at = std::find(w.ladder.begin(), w.ladder.end(), "B->A 183 (INVITE)");
  EXPECT_NE(w.bytes[at - w.ladder.begin()].find("a=des:qos"), std::string::npos);
}

TEST_F(SessionTest, UpdateGlareGets491AndBothRetryAfterTheBackOff) {
  bob_answers_with_reliable_183();
  const SessionId call = alice.call(call_bob(), wire.now);
  wire.run_for(1s);
  ASSERT_EQ(alice.state(call), SessionState::Confirmed);
  // Both send an offer at the same instant.
  ASSERT_TRUE(alice.update(call, kOffer, wire.now));
  ASSERT_TRUE(bob.update(bob_session, kAnswer, wire.now));
  wire.run_for(10s);
  EXPECT_EQ(std::count(wire.ladder.begin(), wire.ladder.end(), "B->A 491 (UPDATE)"), 1);
  EXPECT_EQ(std::count(wire.ladder.begin(), wire.ladder.end(), "A->B 491 (UPDATE)"), 1);
  EXPECT_EQ(std::count(wire.ladder.begin(), wire.ladder.end(), "B->A 200 (UPDATE)"), 1);
  EXPECT_EQ(std::count(wire.ladder.begin(), wire.ladder.end(), "A->B 200 (UPDATE)"), 1);
  // The callee (not the Call-ID owner) retries first, within 2 s.
  auto first_retry = std::find(wire.ladder.begin(), wire.ladder.end(), "A->B 200 (UPDATE)");
  auto second = std::find(wire.ladder.begin(), wire.ladder.end(), "B->A 200 (UPDATE)");
  EXPECT_LT(first_retry, second);
  EXPECT_EQ(alice_events.last(SessionEventKind::Updated)->status, 200);
}

// Two UASes answer the same INVITE (a forking proxy's fan-out, done here by
// the wire): each fork gets its own early dialog and its own PRACK.
TEST(Forking, EachForkIsPrackedOnItsOwnDialogAndTheSecond2xxIsAckedAndByed) {
  const Endpoint fork1{Transport::Udp, sip::IpAddress::loopback_v4(), 5071};
  const Endpoint fork2{Transport::Udp, sip::IpAddress::loopback_v4(), 5072};
  Recorder ae, e1, e2;
  UserAgent a{config_for(kAlice, "alice", 1), ae};
  UserAgent b1{config_for(fork1, "bob", 11), e1};
  UserAgent b2{config_for(fork2, "bob", 12), e2};
  TimePoint now = TimePoint{} + std::chrono::hours(1);
  std::vector<std::string> ladder;
  struct Flight {
    TimePoint at;
    UserAgent* to;
    txn::Transmit t;
  };
  std::deque<Flight> flight;
  auto collect = [&] {
    for (UserAgent* from : {&a, &b1, &b2}) {
      std::vector<txn::Transmit> out;
      from->take_transmits(out);
      for (auto& t : out) {
        const std::string first = t.bytes.substr(0, t.bytes.find("\r\n"));
        const std::string who = from == &a ? "A" : from == &b1 ? "B1" : "B2";
        const bool response = first.rfind("SIP/2.0 ", 0) == 0;
        ladder.push_back(who + " " + (response ? first.substr(8, 3) : first.substr(0, first.find(' '))));
        if (from != &a) {
          flight.push_back({now + 10ms, &a, t});
        } else if (t.destination.port == 5070) {  // the "proxy": fan out to both forks
          flight.push_back({now + 10ms, &b1, t});
          flight.push_back({now + 10ms, &b2, t});
        } else {
          flight.push_back({now + 10ms, t.destination.port == 5071 ? &b1 : &b2, t});
        }
      }
    }
  };
  auto run_for = [&](Duration d) {
    const TimePoint end = now + d;
    collect();
    while (true) {
      TimePoint next = flight.empty() ? TimePoint::max() : flight.front().at;
      for (UserAgent* n : {&a, &b1, &b2})
        if (auto dl = n->next_deadline()) next = std::min(next, *dl);
      if (next > end) break;
      now = std::max(now, next);
      if (!flight.empty() && flight.front().at <= now) {
        Flight f = std::move(flight.front());
        flight.pop_front();
        f.to->receive(f.t.bytes, f.t.source, f.t.destination, now);
      } else {
        for (UserAgent* n : {&a, &b1, &b2}) n->advance(now);
      }
      collect();
    }
    now = end;
  };
  SessionId s1, s2;
  e1.react = [&](const SessionEvent& e) {
    if (e.kind == SessionEventKind::Incoming) {
      s1 = e.session;
      b1.send_provisional(e.session, 183, kAnswer, now);
    }
  };
  e2.react = [&](const SessionEvent& e) {
    if (e.kind == SessionEventKind::Incoming) {
      s2 = e.session;
      b2.send_provisional(e.session, 183, kAnswer, now);
    }
  };
  CallRequest r;
  r.target = "sip:bob@127.0.0.1:5070";
  r.next_hop = kBob;
  r.sdp_offer = std::string(kOffer);
  const SessionId call = a.call(r, now);
  run_for(200ms);
  EXPECT_EQ(a.dialogs(call).size(), 2u) << "one early dialog per To-tag";
  EXPECT_EQ(std::count(ladder.begin(), ladder.end(), "A PRACK"), 2);
  EXPECT_EQ(e1.last(SessionEventKind::PrackDone)->kind, SessionEventKind::PrackDone);
  EXPECT_EQ(e2.last(SessionEventKind::PrackDone)->kind, SessionEventKind::PrackDone);
  b1.answer(s1, {}, now);
  run_for(100ms);
  EXPECT_EQ(a.state(call), SessionState::Confirmed);
  b2.answer(s2, {}, now);  // the other fork answers too
  run_for(1s);
  EXPECT_EQ(std::count(ladder.begin(), ladder.end(), "A ACK"), 2);
  EXPECT_EQ(std::count(ladder.begin(), ladder.end(), "A BYE"), 1);
  EXPECT_EQ(e2.last(SessionEventKind::Ended)->kind, SessionEventKind::Ended);
  EXPECT_EQ(b1.state(s1), SessionState::Confirmed) << "the kept fork stays up";
  EXPECT_EQ(a.state(call), SessionState::Confirmed);
}

}  // namespace
}  // namespace imsflow::dialog

namespace imsflow::dialog {
namespace {

// The seed's "no useful progress after INVITE": only 100 Trying comes back;
// Timer C makes the caller CANCEL, and the 487 ends it.
TEST_F(SessionTest, NoProgressAfter100EndsWithCancelOnTimerC) {
  UserAgentConfig c = config_for(kAlice, "alice", 1);
  c.timers.timer_c = 5s;
  Recorder ev;
  UserAgent impatient{c, ev};
  Wire w{impatient, bob};
  const SessionId call = impatient.call(call_bob(), w.now);  // Bob never acts on Incoming
  w.run_for(6s);
  const std::vector<std::string> expected{"A->B INVITE", "B->A 100 (INVITE)", "A->B CANCEL",
                                          "B->A 200 (CANCEL)", "B->A 487 (INVITE)", "A->B ACK"};
  EXPECT_EQ(w.ladder, expected);
  EXPECT_FALSE(impatient.state(call));
  EXPECT_EQ(ev.last(SessionEventKind::Failed)->status, 487);
  // The seed's words, not "cancelled by the caller": nobody hung up.
  EXPECT_EQ(ev.last(SessionEventKind::Failed)->cause.rfind("no useful progress after INVITE", 0), 0u)
      << ev.last(SessionEventKind::Failed)->cause;
}

TEST_F(SessionTest, MalformedResponsesAreDiscardedWithAReason) {
  const SessionId call = alice.call(call_bob(), wire.now);
  std::vector<txn::Transmit> out;
  alice.take_transmits(out);
  ASSERT_EQ(out.size(), 1u);
  auto invite = sip::parse(out[0].bytes);
  ASSERT_TRUE(invite);
  const std::string branch(invite->top_via()->branch);
  const std::string call_id(invite->call_id());
  // Copied: `out` is reused below, and `invite` points into it.
  const std::string from(invite->find(sip::HeaderId::From)->value);
  auto response = [&](std::string status_line, std::string to_tag, std::string extra) {
    std::string r = status_line + "\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=" + branch + ";rport=5060\r\n";
    r += "From: " + from + "\r\n";
    r += "To: <sip:bob@127.0.0.1:5070>" + to_tag + "\r\nCall-ID: " + call_id + "\r\nCSeq: 1 INVITE\r\n";
    r += "Contact: <sip:bob@127.0.0.1:5070>\r\n" + extra + "Content-Length: 0\r\n\r\n";
    return r;
  };
  // A reliable provisional without RSeq (RFC 3262 §7.1) is not PRACKed.
  alice.receive(response("SIP/2.0 183 Session Progress", ";tag=x", "Require: 100rel\r\n"), kBob, kAlice, wire.now);
  out.clear();
  alice.take_transmits(out);
  EXPECT_TRUE(out.empty());
  ASSERT_FALSE(alice.dropped().empty());
  EXPECT_NE(alice.dropped().back().find("RSeq"), std::string::npos);
  // A 2xx without a To-tag cannot make a dialog.
  alice.receive(response("SIP/2.0 200 OK", "", ""), kBob, kAlice, wire.now);
  alice.take_transmits(out);
  EXPECT_TRUE(out.empty());
  EXPECT_NE(alice.dropped().back().find("To-tag"), std::string::npos);
  // A response for a branch nobody sent is a stray.
  std::string stray = response("SIP/2.0 180 Ringing", ";tag=y", "");
  stray.replace(stray.find(branch), branch.size(), "z9hG4bKnobody");
  alice.receive(stray, kBob, kAlice, wire.now);
  EXPECT_EQ(alice.transaction_stats().stray_responses, 1u);
  // An ACK for a dialog Bob does not have is dropped.
  const std::string ack =
      "ACK sip:bob@127.0.0.1:5070 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKack1\r\n"
      "Max-Forwards: 70\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: none\r\nCSeq: 1 ACK\r\n"
      "Content-Length: 0\r\n\r\n";
  bob.receive(ack, kAlice, kBob, wire.now);
  ASSERT_FALSE(bob.dropped().empty());
  EXPECT_NE(bob.dropped().back().find("ACK for an unknown dialog"), std::string::npos);
  // A Content-Length beyond the datagram is refused with the numbers.
  std::string cut = response("SIP/2.0 180 Ringing", ";tag=z", "");
  cut.replace(cut.find("Content-Length: 0"), 17, "Content-Length: 500");
  alice.receive(cut, kBob, kAlice, wire.now);
  EXPECT_NE(alice.dropped().back().find("500"), std::string::npos) << alice.dropped().back();
  EXPECT_EQ(alice.state(call), SessionState::Calling);
}

}  // namespace
}  // namespace imsflow::dialog

namespace imsflow::dialog {
namespace {

TEST_F(SessionTest, SessionTimerRefresherSendsUpdateAtHalfTheInterval) {
  UserAgentConfig c = config_for(kAlice, "alice", 1);
  c.session_expires = 90;
  Recorder ev;
  UserAgent a{c, ev};
  Wire w{a, bob};
  bob_events.react = [&](const SessionEvent& e) {
    if (e.kind == SessionEventKind::Incoming) {
      bob_session = e.session;
      bob.answer(e.session, kAnswer, w.now);
    }
  };
  const SessionId call = a.call(call_bob(), w.now);
  w.run_for(1s);
  auto at = std::find(w.ladder.begin(), w.ladder.end(), "B->A 200 (INVITE)");
  ASSERT_NE(at, w.ladder.end());
  const std::string& ok = w.bytes[at - w.ladder.begin()];
  EXPECT_NE(ok.find("Session-Expires: 90;refresher=uac"), std::string::npos) << ok;
  EXPECT_NE(ok.find("Require: timer"), std::string::npos);
  w.run_for(44s);
  EXPECT_EQ(std::count(w.ladder.begin(), w.ladder.end(), "A->B UPDATE"), 0);
  w.run_for(1s);  // 45 s after the ACK
  EXPECT_EQ(std::count(w.ladder.begin(), w.ladder.end(), "A->B UPDATE"), 1);
  w.run_for(300s);
  EXPECT_GE(std::count(w.ladder.begin(), w.ladder.end(), "B->A 200 (UPDATE)"), 7);
  EXPECT_EQ(a.state(call), SessionState::Confirmed) << "refreshed sessions stay up";
  EXPECT_EQ(bob.state(bob_session), SessionState::Confirmed);
}

TEST_F(SessionTest, SessionTimerRefresheeSendsByeWhenNoRefreshCame) {
  UserAgentConfig c = config_for(kAlice, "alice", 1);
  c.session_expires = 90;
  Recorder ev;
  UserAgent a{c, ev};
  Wire w{a, bob};
  w.drop = [](const std::string& l) { return l == "A->B UPDATE"; };
  bob_events.react = [&](const SessionEvent& e) {
    if (e.kind == SessionEventKind::Incoming) bob.answer(e.session, kAnswer, w.now);
  };
  const SessionId call = a.call(call_bob(), w.now);
  w.run_for(59s);
  EXPECT_EQ(std::count(w.ladder.begin(), w.ladder.end(), "B->A BYE"), 0);
  w.run_for(2s);  // 90 - min(32, 30) = 60 s after the ACK
  EXPECT_EQ(std::count(w.ladder.begin(), w.ladder.end(), "B->A BYE"), 1);
  w.run_for(1s);
  EXPECT_FALSE(a.state(call));
  EXPECT_EQ(ev.last(SessionEventKind::Ended)->cause, "released by the peer with BYE");
}

// RFC 4028 §7.3: the 422 names the least interval the UAS takes; the UAC
// tries again with it, on the same Call-ID with a new CSeq and branch.
// (This test used to stop at the 422, with a UAC asking 30 s below its own
// Min-SE of 90 s; RFC 4028 §7.1 forbids that, so this UAC's Min-SE is 30.)
TEST_F(SessionTest, TooBriefSessionIntervalGets422AndTheInviteIsRetriedWithItsMinSE) {
  UserAgentConfig c = config_for(kAlice, "alice", 1);
  c.session_expires = 30;
  c.min_se = 30;
  Recorder ev;
  UserAgent a{c, ev};
  Wire w{a, bob};
  bob_events.react = [&](const SessionEvent& e) {
    if (e.kind == SessionEventKind::Incoming) bob.answer(e.session, kAnswer, w.now);
  };
  const SessionId call = a.call(call_bob(), w.now);
  w.run_for(1s);
  const std::vector<std::string> expected{"A->B INVITE",       "B->A 100 (INVITE)", "B->A 422 (INVITE)",
                                          "A->B ACK",          "A->B INVITE",       "B->A 100 (INVITE)",
                                          "B->A 200 (INVITE)", "A->B ACK"};
  EXPECT_EQ(w.ladder, expected);
  EXPECT_EQ(a.state(call), SessionState::Confirmed);
  EXPECT_EQ(ev.last(SessionEventKind::Failed), nullptr);
  auto at = std::find(w.ladder.begin(), w.ladder.end(), "B->A 422 (INVITE)");
  ASSERT_NE(at, w.ladder.end());
  EXPECT_NE(w.bytes[at - w.ladder.begin()].find("Min-SE: 90"), std::string::npos);
  auto first = sip::parse(w.bytes[0]);
  auto retry = sip::parse(w.bytes[4]);
  ASSERT_TRUE(first && retry);
  EXPECT_EQ(retry->call_id(), first->call_id());
  EXPECT_EQ(*retry->from()->tag(), *first->from()->tag());
  EXPECT_EQ(retry->cseq()->number, first->cseq()->number + 1);
  EXPECT_NE(retry->top_via()->branch, first->top_via()->branch);
  EXPECT_NE(w.bytes[4].find("Session-Expires: 90\r\n"), std::string::npos) << w.bytes[4];
  EXPECT_NE(w.bytes[4].find("Min-SE: 90\r\n"), std::string::npos) << w.bytes[4];
  auto ok = std::find(w.ladder.begin(), w.ladder.end(), "B->A 200 (INVITE)");
  EXPECT_NE(w.bytes[ok - w.ladder.begin()].find("Session-Expires: 90"), std::string::npos);
}

TEST_F(SessionTest, SessionExpiresIsNeverBelowTheUacsOwnMinSE) {
  UserAgentConfig c = config_for(kAlice, "alice", 1);
  c.session_expires = 30;  // below its own Min-SE of 90
  Recorder ev;
  UserAgent a{c, ev};
  a.call(call_bob(), wire.now);
  std::vector<txn::Transmit> out;
  a.take_transmits(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NE(out[0].bytes.find("Session-Expires: 90\r\n"), std::string::npos) << out[0].bytes;
  EXPECT_NE(out[0].bytes.find("Min-SE: 90\r\n"), std::string::npos);
}

}  // namespace
}  // namespace imsflow::dialog

namespace imsflow::dialog {
namespace {

TEST_F(SessionTest, TwoHundredWaitsForThePrackOfTheSdpProvisional) {
  bob_events.react = [this](const SessionEvent& e) {
    if (e.kind == SessionEventKind::Incoming) {
      bob_session = e.session;
      bob.send_provisional(e.session, 183, kAnswer, wire.now);
      bob.answer(e.session, {}, wire.now);  // too early: held until the PRACK
    }
  };
  const SessionId call = alice.call(call_bob(), wire.now);
  wire.run_for(1s);
  const std::vector<std::string> expected{"A->B INVITE",      "B->A 100 (INVITE)", "B->A 183 (INVITE)", "A->B PRACK",
                                          "B->A 200 (PRACK)", "B->A 200 (INVITE)", "A->B ACK"};
  EXPECT_EQ(wire.ladder, expected);
  EXPECT_EQ(alice.state(call), SessionState::Confirmed);
}

TEST_F(SessionTest, ByeOnAnEarlyDialogGets487ForTheInvite) {
  bob_events.react = [this](const SessionEvent& e) {
    if (e.kind == SessionEventKind::Incoming) {
      bob_session = e.session;
      bob.send_provisional(e.session, 180, {}, wire.now);
    }
  };
  alice.call(call_bob(), wire.now);
  wire.run_for(200ms);
  // Alice's UA has an early dialog; a BYE on it (RFC 3261 §15) from a test-made request.
  auto at = std::find(wire.ladder.begin(), wire.ladder.end(), "A->B PRACK");
  ASSERT_NE(at, wire.ladder.end());
  std::string bye = wire.bytes[at - wire.ladder.begin()];
  bye.replace(0, 5, "BYE");
  bye.replace(bye.find("CSeq: 2 PRACK"), 13, "CSeq: 3 BYE");
  bye.replace(bye.find("branch=") + 7, 7, "z9hG4bKearlybye");
  const std::size_t rack = bye.find("RAck:");
  bye.erase(rack, bye.find("\r\n", rack) + 2 - rack);
  bob.receive(bye, kAlice, kBob, wire.now);
  std::vector<txn::Transmit> out;
  bob.take_transmits(out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].bytes.substr(0, 11), "SIP/2.0 200") << "the BYE's answer";
  EXPECT_EQ(out[1].bytes.substr(0, 11), "SIP/2.0 487") << "the INVITE's final answer";
  EXPECT_FALSE(bob.state(bob_session));
}

TEST_F(SessionTest, CancelWithoutFinalResponseIsGivenUpAfter64T1) {
  // Bob's UA is replaced by silence after the 180: the CANCEL gets nothing.
  bob_events.react = [this](const SessionEvent& e) {
    if (e.kind == SessionEventKind::Incoming) bob.send_provisional(e.session, 180, {}, wire.now);
  };
  UserAgentConfig c = config_for(kAlice, "alice", 1);
  c.timers.timer_c = Duration::zero();
  Recorder ev;
  UserAgent a{c, ev};
  Wire w{a, bob};
  const SessionId call = a.call(call_bob(), w.now);
  w.run_for(200ms);
  w.drop = [](const std::string& l) { return l.rfind("A->B CANCEL", 0) == 0; };
  a.hang_up(call, w.now);
  w.run_for(33s);
  EXPECT_FALSE(a.state(call));
  const SessionEvent* failed = ev.last(SessionEventKind::Failed);
  ASSERT_TRUE(failed);
  EXPECT_NE(failed->cause.find("CANCEL"), std::string::npos) << failed->cause;
  w.run_for(60s);
  EXPECT_EQ(a.live_sessions(), 0u);
  EXPECT_EQ(a.live_transactions(), 0u);
}

TEST_F(SessionTest, ReInviteIsAnsweredAndAcked) {
  bob_answers_with_reliable_183();
  const SessionId call = alice.call(call_bob(), wire.now);
  wire.run_for(1s);
  ASSERT_EQ(bob.state(bob_session), SessionState::Confirmed);
  auto at = std::find(wire.ladder.begin(), wire.ladder.end(), "A->B ACK");
  std::string reinvite = wire.bytes[at - wire.ladder.begin()];
  reinvite.replace(0, 3, "INVITE");
  reinvite.replace(reinvite.find("CSeq: 1 ACK"), 11, "CSeq: 5 INVITE");
  reinvite.replace(reinvite.find("branch=") + 7, 7, "z9hG4bKreinv");
  bob.receive(reinvite, kAlice, kBob, wire.now);
  std::vector<txn::Transmit> out;
  bob.take_transmits(out);
  ASSERT_GE(out.size(), 2u);
  EXPECT_EQ(out[0].bytes.substr(0, 14), "SIP/2.0 100 Tr");
  EXPECT_EQ(out[1].bytes.substr(0, 14), "SIP/2.0 200 OK");
  EXPECT_NE(out[1].bytes.find("Contact:"), std::string::npos);
  EXPECT_EQ(bob.state(bob_session), SessionState::Answered);
  std::string ack = wire.bytes[at - wire.ladder.begin()];
  ack.replace(ack.find("CSeq: 1 ACK"), 11, "CSeq: 5 ACK");
  ack.replace(ack.find("branch=") + 7, 7, "z9hG4bKreack");
  bob.receive(ack, kAlice, kBob, wire.now);
  EXPECT_EQ(bob.state(bob_session), SessionState::Confirmed);
  EXPECT_EQ(alice.state(call), SessionState::Confirmed);
}

// The value of header `name` in a message (first occurrence).
std::string header_value(const std::string& bytes, const std::string& name) {
  const std::size_t at = bytes.find("\r\n" + name + ": ");
  if (at == std::string::npos) return {};
  const std::size_t start = at + name.size() + 4;
  return bytes.substr(start, bytes.find("\r\n", start) - start);
}

// An in-dialog INVITE from Bob to Alice (the caller), made from the call's
// own messages: Alice's Contact is the target, the tags swap sides.
std::string reinvite_to_caller(const Wire& w, const std::string& branch, int cseq) {
  auto message = [&](const std::string& label) {
    auto at = std::find(w.ladder.begin(), w.ladder.end(), label);
    return at == w.ladder.end() ? std::string() : w.bytes[at - w.ladder.begin()];
  };
  const std::string invite = message("A->B INVITE");
  const std::string ok = message("B->A 200 (INVITE)");
  std::string target = header_value(invite, "Contact");
  target = target.substr(1, target.find('>') - 1);
  const std::string sdp =
      "v=0\r\no=- 2 3 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
      "m=audio 5000 RTP/AVP 116\r\na=rtpmap:116 AMR-WB/16000\r\na=sendonly\r\n";
  return "INVITE " + target + " SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=" + branch +
         ";rport\r\nMax-Forwards: 70\r\nFrom: " + header_value(ok, "To") + "\r\nTo: " + header_value(ok, "From") +
         "\r\nCall-ID: " + header_value(ok, "Call-ID") + "\r\nCSeq: " + std::to_string(cseq) +
         " INVITE\r\nContact: <sip:bob@127.0.0.1:5070>\r\nContent-Type: application/sdp\r\nContent-Length: " +
         std::to_string(sdp.size()) + "\r\n\r\n" + sdp;
}

// The ACK for a 2xx to `reinvite`: same dialog and CSeq number, a new branch.
std::string ack_for(const std::string& reinvite, const std::string& branch) {
  const std::string cseq = header_value(reinvite, "CSeq");
  std::string ack = reinvite.substr(0, reinvite.find("Content-Type:"));
  ack.replace(0, 6, "ACK");
  ack.replace(ack.find(cseq), cseq.size(), cseq.substr(0, cseq.find(' ')) + " ACK");
  ack.replace(ack.find("branch=") + 7, ack.find(';', ack.find("branch=")) - ack.find("branch=") - 7, branch);
  return ack + "Content-Length: 0\r\n\r\n";
}

TEST_F(SessionTest, CallerAnswersAReInviteFromTheCalleeAndRetransmitsItsOkUntilTheAck) {
  bob_answers_with_reliable_183();
  const SessionId call = alice.call(call_bob(), wire.now);
  wire.run_for(1s);
  ASSERT_EQ(alice.state(call), SessionState::Confirmed);
  const std::string reinvite = reinvite_to_caller(wire, "z9hG4bKbobreinv", 7);
  alice.receive(reinvite, kBob, kAlice, wire.now);
  std::vector<txn::Transmit> out;
  alice.take_transmits(out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].bytes.substr(0, 14), "SIP/2.0 100 Tr");
  EXPECT_EQ(out[1].bytes.substr(0, 14), "SIP/2.0 200 OK") << out[1].bytes;
  EXPECT_EQ(out[1].destination, kBob);
  EXPECT_NE(out[1].bytes.find("CSeq: 7 INVITE"), std::string::npos);
  EXPECT_NE(out[1].bytes.find("Contact: "), std::string::npos);
  EXPECT_NE(out[1].bytes.find("m=audio"), std::string::npos) << "the answer to Bob's offer";
  EXPECT_EQ(alice.state(call), SessionState::Answered);
  // No ACK yet: the 2xx goes again after T1 (RFC 3261 §13.3.1.4).
  const TimePoint t0 = wire.now;
  alice.advance(t0 + 501ms);
  out.clear();
  alice.take_transmits(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].bytes.substr(0, 14), "SIP/2.0 200 OK");
  EXPECT_EQ(out[0].destination, kBob);
  alice.receive(ack_for(reinvite, "z9hG4bKbobreack"), kBob, kAlice, t0 + 600ms);
  EXPECT_EQ(alice.state(call), SessionState::Confirmed);
  alice.advance(t0 + 5s);
  out.clear();
  alice.take_transmits(out);
  EXPECT_TRUE(out.empty()) << "no retransmission after the ACK";
  // The call goes on as before: Alice hangs up with BYE.
  alice.hang_up(call, t0 + 5s);
  out.clear();
  alice.take_transmits(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].bytes.substr(0, 4), "BYE ");
}

TEST_F(SessionTest, CallerHangingUpBeforeTheReInviteAckSendsByeAfterIt) {
  bob_answers_with_reliable_183();
  const SessionId call = alice.call(call_bob(), wire.now);
  wire.run_for(1s);
  const std::string reinvite = reinvite_to_caller(wire, "z9hG4bKbobreinv2", 9);
  alice.receive(reinvite, kBob, kAlice, wire.now);
  std::vector<txn::Transmit> out;
  alice.take_transmits(out);
  alice.hang_up(call, wire.now);
  out.clear();
  alice.take_transmits(out);
  EXPECT_TRUE(out.empty()) << "the BYE waits for the ACK";
  alice.receive(ack_for(reinvite, "z9hG4bKbobreack2"), kBob, kAlice, wire.now + 20ms);
  out.clear();
  alice.take_transmits(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].bytes.substr(0, 4), "BYE ");
}

TEST_F(SessionTest, UasHangUpBeforeTheAckSendsByeAfterIt) {
  bob_events.react = [this](const SessionEvent& e) {
    if (e.kind == SessionEventKind::Incoming) {
      bob_session = e.session;
      bob.answer(e.session, kAnswer, wire.now);
      bob.hang_up(e.session, wire.now);  // before the ACK came
    }
  };
  alice.call(call_bob(), wire.now);
  wire.run_for(1s);
  const std::vector<std::string> expected{"A->B INVITE", "B->A 100 (INVITE)", "B->A 200 (INVITE)", "A->B ACK",
                                          "B->A BYE", "A->B 200 (BYE)"};
  EXPECT_EQ(wire.ladder, expected);
}

TEST_F(SessionTest, UpdateThatTimesOutEndsTheDialog) {
  bob_answers_with_reliable_183();
  const SessionId call = alice.call(call_bob(), wire.now);
  wire.run_for(1s);
  wire.drop = [](const std::string& l) { return l == "A->B UPDATE"; };
  ASSERT_TRUE(alice.update(call, kOffer, wire.now));
  wire.run_for(33s);
  EXPECT_EQ(std::count(wire.ladder.begin(), wire.ladder.end(), "A->B BYE"), 1);
  EXPECT_FALSE(alice.state(call));
}

TEST_F(SessionTest, OutOfOrderRSeqIsNotPracked) {
  bob_answers_with_reliable_183();
  const SessionId call = alice.call(call_bob(), wire.now);
  wire.run_for(25ms);  // the 183 (RSeq n) reached Alice and was PRACKed
  auto at = std::find(wire.ladder.begin(), wire.ladder.end(), "B->A 183 (INVITE)");
  ASSERT_NE(at, wire.ladder.end());
  std::string skip = wire.bytes[at - wire.ladder.begin()];
  auto m = sip::parse(skip);
  const std::uint32_t rseq = *m->rseq();
  const std::string rseq_text = "RSeq: " + std::to_string(rseq);
  skip.replace(skip.find(rseq_text), rseq_text.size(), "RSeq: " + std::to_string(rseq + 2));
  alice.receive(skip, kBob, kAlice, wire.now);  // n + 2 before n + 1: not PRACKed
  std::vector<txn::Transmit> out;
  alice.take_transmits(out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(alice.state(call), SessionState::Early);
}

}  // namespace
}  // namespace imsflow::dialog

// --- offer/answer state, PRACK after the final response, CANCEL tags, merged
// requests, transport errors ---------------------------------------------------

namespace imsflow::dialog {
namespace {

constexpr std::string_view kSecondSdp =
    "v=0\r\no=- 2 3 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 5002 RTP/AVP 116\r\na=rtpmap:116 AMR-WB/16000\r\n";

// The body of a message as the wire carried it.
std::string body_of(const std::string& bytes) {
  const std::size_t end = bytes.find("\r\n\r\n");
  return end == std::string::npos ? std::string() : bytes.substr(end + 4);
}

// The message behind the first ladder line `label`; empty when there is none.
std::string first(const Wire& w, std::string_view label) {
  auto at = std::find(w.ladder.begin(), w.ladder.end(), label);
  return at == w.ladder.end() ? std::string() : w.bytes[at - w.ladder.begin()];
}

// `bytes` (a bodiless request) with an SDP body.
std::string with_sdp(std::string bytes, std::string_view sdp) {
  const std::size_t cl = bytes.find("Content-Length: 0\r\n");
  bytes.replace(cl, 19, "Content-Type: application/sdp\r\nContent-Length: " + std::to_string(sdp.size()) + "\r\n");
  return bytes + std::string(sdp);
}

// A PRACK of Alice's made into an UPDATE (new CSeq and branch, no RAck).
std::string update_from_prack(std::string prack, std::uint32_t cseq, std::string_view branch) {
  prack.replace(0, 5, "UPDATE");
  const std::size_t c = prack.find("CSeq: ");
  prack.replace(c, prack.find("\r\n", c) - c, "CSeq: " + std::to_string(cseq) + " UPDATE");
  const std::size_t b = prack.find("branch=") + 7;
  prack.replace(b, prack.find_first_of(";\r", b) - b, branch);
  const std::size_t rack = prack.find("RAck:");
  prack.erase(rack, prack.find("\r\n", rack) + 2 - rack);
  return prack;
}

std::vector<txn::Transmit> deliver(UserAgent& to, const std::string& bytes, const Endpoint& from,
                                   const Endpoint& at, TimePoint now) {
  to.receive(bytes, from, at, now);
  std::vector<txn::Transmit> out;
  to.take_transmits(out);
  return out;
}

// RFC 3261 §13.2.1 / RFC 3262 §5: an INVITE without SDP; the callee's
// reliable 183 makes the offer, the caller's PRACK answers it (its body is
// the app's answer from answer_offer()), the PRACK's 200 and the 2xx have
// no SDP.
TEST_F(SessionTest, OfferlessInviteGetsTheOfferInTheReliable183AndTheAnswerInThePrack) {
  alice_events.answer = std::string(kAnswer);
  bob_events.react = [this](const SessionEvent& e) {
    if (e.kind == SessionEventKind::Incoming) {
      bob_session = e.session;
      bob.send_provisional(e.session, 183, kOffer, wire.now);
      bob.answer(e.session, kSecondSdp, wire.now);  // held for the PRACK; the 2xx then has no SDP
    }
  };
  CallRequest r = call_bob();
  r.sdp_offer.clear();
  const SessionId call = alice.call(r, wire.now);
  wire.run_for(1s);
  const std::vector<std::string> expected{"A->B INVITE",      "B->A 100 (INVITE)", "B->A 183 (INVITE)", "A->B PRACK",
                                          "B->A 200 (PRACK)", "B->A 200 (INVITE)", "A->B ACK"};
  EXPECT_EQ(wire.ladder, expected);
  EXPECT_EQ(body_of(first(wire, "A->B INVITE")), "");
  EXPECT_EQ(body_of(first(wire, "B->A 183 (INVITE)")), kOffer);
  EXPECT_EQ(body_of(first(wire, "A->B PRACK")), kAnswer) << "the PRACK carries the answer";
  EXPECT_EQ(body_of(first(wire, "B->A 200 (PRACK)")), "") << "the PRACK was an answer, not an offer";
  EXPECT_EQ(body_of(first(wire, "B->A 200 (INVITE)")), "") << "the exchange is complete: no SDP in the 2xx";
  ASSERT_EQ(alice_events.offers.size(), 1u);
  EXPECT_EQ(alice_events.offers[0], kOffer);
  EXPECT_EQ(alice.state(call), SessionState::Confirmed);
  auto a = alice.offer_answer(call);
  auto b = bob.offer_answer(bob_session);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->phase, OfferAnswerPhase::Complete);
  EXPECT_EQ(a->offer_in, SdpCarrier::ReliableProvisional);
  EXPECT_EQ(a->answer_in, SdpCarrier::Prack);
  EXPECT_TRUE(a->settled);
  EXPECT_EQ(b->phase, OfferAnswerPhase::Complete);
  EXPECT_EQ(b->answer_in, SdpCarrier::Prack);
}

// RFC 3261 §13.2.1: no offer in the INVITE and none in a reliable 18x: the
// 2xx offers (the app's SDP) and the ACK answers.
TEST_F(SessionTest, OfferlessInviteGetsTheOfferInThe2xxAndTheAnswerInTheAck) {
  alice_events.answer = std::string(kAnswer);
  bob_events.react = [this](const SessionEvent& e) {
    if (e.kind == SessionEventKind::Incoming) {
      bob_session = e.session;
      EXPECT_FALSE(bob.answer(e.session, {}, wire.now)) << "the 2xx must offer, and there is no SDP yet";
      bob.answer(e.session, kOffer, wire.now);
    }
  };
  CallRequest r = call_bob();
  r.sdp_offer.clear();
  const SessionId call = alice.call(r, wire.now);
  wire.run_for(1s);
  EXPECT_EQ(body_of(first(wire, "B->A 200 (INVITE)")), kOffer);
  EXPECT_EQ(body_of(first(wire, "A->B ACK")), kAnswer) << "the ACK answers the 2xx's offer";
  EXPECT_EQ(alice.state(call), SessionState::Confirmed);
  EXPECT_EQ(bob.state(bob_session), SessionState::Confirmed);
  auto b = bob.offer_answer(bob_session);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->phase, OfferAnswerPhase::Complete);
  EXPECT_EQ(b->offer_in, SdpCarrier::Final2xx);
  EXPECT_EQ(b->answer_in, SdpCarrier::Ack);
}

// RFC 3262 §5: once the exchange is complete, a PRACK body is a new offer,
// answered in the PRACK's 200 (here by the session's own SDP).
TEST_F(SessionTest, PrackOfferAfterTheExchangeIsAnsweredInItsTwoHundred) {
  bob_events.react = [this](const SessionEvent& e) {
    if (e.kind == SessionEventKind::Incoming) {
      bob_session = e.session;
      bob.send_provisional(e.session, 183, kAnswer, wire.now);
    }
  };
  wire.drop = [](const std::string& l) { return l == "A->B PRACK"; };
  alice.call(call_bob(), wire.now);
  wire.run_for(25ms);
  const std::string prack = first(wire, "A->B PRACK [lost]");
  ASSERT_FALSE(prack.empty());
  auto out = deliver(bob, with_sdp(prack, kSecondSdp), kAlice, kBob, wire.now);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].bytes.substr(0, 11), "SIP/2.0 200");
  EXPECT_EQ(body_of(out[0].bytes), kAnswer);
  auto b = bob.offer_answer(bob_session);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->offer_in, SdpCarrier::Prack);
  EXPECT_EQ(b->answer_in, SdpCarrier::PrackResponse);
}

// RFC 3311 §5.2: an UPDATE offer while our own offer (the 183's) waits for
// its answer is glare: 491.
TEST_F(SessionTest, UpdateOfferWhileOurOfferIsOpenGets491) {
  alice_events.answer = std::string(kAnswer);
  bob_events.react = [this](const SessionEvent& e) {
    if (e.kind == SessionEventKind::Incoming) {
      bob_session = e.session;
      bob.send_provisional(e.session, 183, kOffer, wire.now);
    }
  };
  wire.drop = [](const std::string& l) { return l == "A->B PRACK"; };  // the answer never comes
  CallRequest r = call_bob();
  r.sdp_offer.clear();
  alice.call(r, wire.now);
  wire.run_for(25ms);
  const std::string prack = first(wire, "A->B PRACK [lost]");
  ASSERT_FALSE(prack.empty());
  // The PRACK carried Alice's answer; as an UPDATE that body is an offer.
  auto out = deliver(bob, update_from_prack(prack, 7, "z9hG4bKupd491"), kAlice, kBob, wire.now);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].bytes.substr(0, 11), "SIP/2.0 491");
  EXPECT_EQ(bob.offer_answer(bob_session)->phase, OfferAnswerPhase::LocalOffer);
}

// RFC 3311 §5.2: an UPDATE offer while the INVITE's offer is still
// unanswered (the 180 had no SDP) gets 500 with Retry-After 0-10 s.
TEST_F(SessionTest, UpdateOfferWhileThePeersOfferIsUnansweredGets500WithRetryAfter) {
  bob_events.react = [this](const SessionEvent& e) {
    if (e.kind == SessionEventKind::Incoming) {
      bob_session = e.session;
      bob.send_provisional(e.session, 180, {}, wire.now);
    }
  };
  const SessionId call = alice.call(call_bob(), wire.now);
  wire.run_for(100ms);
  EXPECT_EQ(alice.state(call), SessionState::Early);
  EXPECT_FALSE(alice.update(call, kSecondSdp, wire.now)) << "RFC 3311 §5.1: the INVITE's offer has no answer yet";
  EXPECT_FALSE(bob.update(bob_session, kSecondSdp, wire.now)) << "nor has Bob answered it";
  const std::string prack = first(wire, "A->B PRACK");
  ASSERT_FALSE(prack.empty());
  auto out = deliver(bob, with_sdp(update_from_prack(prack, 7, "z9hG4bKupd500"), kSecondSdp), kAlice, kBob, wire.now);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].bytes.substr(0, 11), "SIP/2.0 500");
  auto m = sip::parse(out[0].bytes);
  ASSERT_TRUE(m);
  const sip::HeaderField* ra = m->find("Retry-After");
  ASSERT_TRUE(ra);
  auto seconds = ascii::parse_uint(ra->value, 100);
  ASSERT_TRUE(seconds);
  EXPECT_LE(*seconds, 10u);
}

// RFC 3311 §5.1: the UAS may offer in UPDATE only once its answer-bearing
// reliable 183 was PRACKed; the UAC once the answer came reliably.
TEST_F(SessionTest, EarlyUpdateWaitsUntilTheOfferAnswerSettled) {
  bool refused_before_prack = false;
  bool allowed_after_prack = false;
  bob_events.react = [&](const SessionEvent& e) {
    if (e.kind == SessionEventKind::Incoming) {
      bob_session = e.session;
      bob.send_provisional(e.session, 183, kAnswer, wire.now);
      refused_before_prack = !bob.update(e.session, kSecondSdp, wire.now);
    } else if (e.kind == SessionEventKind::PrackDone) {
      allowed_after_prack = bob.update(e.session, kSecondSdp, wire.now);
    }
  };
  const SessionId call = alice.call(call_bob(), wire.now);
  wire.run_for(1s);
  EXPECT_TRUE(refused_before_prack);
  EXPECT_TRUE(allowed_after_prack);
  EXPECT_EQ(std::count(wire.ladder.begin(), wire.ladder.end(), "A->B 200 (UPDATE)"), 1);
  EXPECT_EQ(bob_events.last(SessionEventKind::Updated)->status, 200);
  EXPECT_EQ(alice.state(call), SessionState::Early);
  EXPECT_TRUE(alice.update(call, kOffer, wire.now)) << "the answer came in the reliable 183";
}

// RFC 3261 §13.2.1, RFC 6337 §3.1.1: the exchange completed in the 183 and
// its PRACK; the 2xx must not bring a different SDP.
TEST_F(SessionTest, AnswerAfterTheExchangeCompletedSendsNoNewSdpInThe2xx) {
  bob_events.react = [this](const SessionEvent& e) {
    if (e.kind == SessionEventKind::Incoming) {
      bob_session = e.session;
      bob.send_provisional(e.session, 183, kAnswer, wire.now);
    } else if (e.kind == SessionEventKind::PrackDone) {
      bob.answer(e.session, kSecondSdp, wire.now);
    }
  };
  const SessionId call = alice.call(call_bob(), wire.now);
  wire.run_for(1s);
  EXPECT_EQ(alice.state(call), SessionState::Confirmed);
  const std::string ok = first(wire, "B->A 200 (INVITE)");
  ASSERT_FALSE(ok.empty());
  EXPECT_EQ(body_of(ok), "") << ok;
}

// RFC 3262 §3: a PRACK for a reliable provisional still outstanding when the
// final response went gets 200, not 481.
TEST_F(SessionTest, PrackArrivingAfterTheFinalResponseStillGets200) {
  bob_events.react = [this](const SessionEvent& e) {
    if (e.kind == SessionEventKind::Incoming) {
      bob.send_provisional(e.session, 180, {}, wire.now);
      bob.reject(e.session, 486, wire.now);  // before the 180's PRACK can come
    }
  };
  alice.call(call_bob(), wire.now);
  wire.run_for(1s);
  const std::vector<std::string> expected{"A->B INVITE", "B->A 100 (INVITE)", "B->A 180 (INVITE)", "B->A 486 (INVITE)",
                                          "A->B PRACK",  "A->B ACK",          "B->A 200 (PRACK)"};
  EXPECT_EQ(wire.ladder, expected);
  EXPECT_EQ(alice_events.last(SessionEventKind::Failed)->status, 486);
  wire.run_for(40s);
  expect_no_leaks();
  // The INVITE transaction is over: now the same PRACK matches nothing.
  std::string late = first(wire, "A->B PRACK");
  late.replace(late.find("branch=") + 7, 7, "z9hG4bKlate");
  auto out = deliver(bob, late, kAlice, kBob, wire.now);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].bytes.substr(0, 11), "SIP/2.0 481");
}

// RFC 3261 §9.2: the 200 to CANCEL carries the To-tag of the INVITE's responses.
TEST_F(SessionTest, CancelIsAnsweredWithTheInvitesToTag) {
  bob_events.react = [this](const SessionEvent& e) {
    if (e.kind == SessionEventKind::Incoming) bob.send_provisional(e.session, 180, {}, wire.now);
  };
  const SessionId call = alice.call(call_bob(), wire.now);
  wire.run_for(100ms);
  alice.hang_up(call, wire.now);
  wire.run_for(1s);
  const std::string ringing_bytes = first(wire, "B->A 180 (INVITE)");
  const std::string cancelled_bytes = first(wire, "B->A 200 (CANCEL)");
  auto ringing = sip::parse(ringing_bytes);
  auto cancelled = sip::parse(cancelled_bytes);
  ASSERT_TRUE(ringing && cancelled);
  ASSERT_TRUE(cancelled->to()->tag());
  EXPECT_EQ(*cancelled->to()->tag(), *ringing->to()->tag());
}

// RFC 3261 §8.2.2.2: the same INVITE (From-tag, Call-ID, CSeq) on another
// transaction while the first is in progress is a merged request: 482.
TEST_F(SessionTest, MergedInviteGets482) {
  int incoming = 0;
  bob_events.react = [&](const SessionEvent& e) {
    if (e.kind == SessionEventKind::Incoming) {
      ++incoming;
      bob.send_provisional(e.session, 180, {}, wire.now);
    }
  };
  alice.call(call_bob(), wire.now);
  wire.run_for(100ms);
  std::string copy = first(wire, "A->B INVITE");
  copy.replace(copy.find("branch=") + 7, 7, "z9hG4bKmerged");  // the same INVITE by another path
  auto out = deliver(bob, copy, kAlice, kBob, wire.now);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].bytes.substr(0, 11), "SIP/2.0 100");
  EXPECT_EQ(out[1].bytes.substr(0, 11), "SIP/2.0 482");
  EXPECT_EQ(incoming, 1);
  EXPECT_EQ(bob.live_sessions(), 1u);
}

// RFC 3261 §8.1.3.1 / §17.1.4: an INVITE that cannot be sent fails the call
// as a 503 would.
TEST_F(SessionTest, TransportErrorOnTheInviteFailsTheCall) {
  const SessionId call = alice.call(call_bob(), wire.now);
  std::vector<txn::Transmit> out;
  alice.take_transmits(out);
  ASSERT_EQ(out.size(), 1u);
  alice.transport_failed(out[0], "connection refused", wire.now);
  EXPECT_FALSE(alice.state(call));
  const SessionEvent* failed = alice_events.last(SessionEventKind::Failed);
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, 503);
  EXPECT_EQ(failed->cause, "transport error: connection refused");
  EXPECT_EQ(alice.live_transactions(), 0u);
  EXPECT_EQ(alice.transaction_stats().transport_errors, 1u);
  EXPECT_FALSE(alice.next_deadline()) << "no Timer A/B left behind";
}

// The ACK for a 2xx goes outside any transaction: its failure still ends the session.
TEST_F(SessionTest, TransportErrorOnTheAckEndsTheSession) {
  bob_answers_with_reliable_183();
  const SessionId call = alice.call(call_bob(), wire.now);
  wire.run_for(1s);
  ASSERT_EQ(alice.state(call), SessionState::Confirmed);
  txn::Transmit ack{kAlice, kBob, first(wire, "A->B ACK")};
  alice.transport_failed(ack, "network unreachable", wire.now);
  EXPECT_FALSE(alice.state(call));
  const SessionEvent* ended = alice_events.last(SessionEventKind::Ended);
  ASSERT_TRUE(ended);
  EXPECT_EQ(ended->cause, "transport error: network unreachable");
}

// The UAS's reliable 183 cannot reach the caller: the session fails.
TEST_F(SessionTest, TransportErrorOnAReliableProvisionalFailsTheUasSession) {
  bob_events.react = [this](const SessionEvent& e) {
    if (e.kind == SessionEventKind::Incoming) {
      bob_session = e.session;
      bob.send_provisional(e.session, 183, kAnswer, wire.now);
    }
  };
  alice.call(call_bob(), wire.now);
  std::vector<txn::Transmit> out;
  alice.take_transmits(out);
  bob.receive(out[0].bytes, kAlice, kBob, wire.now);
  out.clear();
  bob.take_transmits(out);
  ASSERT_EQ(out.size(), 2u);  // 100, 183
  bob.transport_failed(out[1], "connection reset", wire.now);
  EXPECT_FALSE(bob.state(bob_session));
  const SessionEvent* failed = bob_events.last(SessionEventKind::Failed);
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->cause, "transport error: connection reset");
  EXPECT_EQ(bob.live_transactions(), 0u);
  EXPECT_FALSE(bob.next_deadline()) << "no 183 retransmission left behind";
}

}  // namespace
}  // namespace imsflow::dialog
