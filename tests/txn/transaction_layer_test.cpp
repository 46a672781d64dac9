// RFC 3261 §17 / RFC 6026 transaction behaviour, driven by hand: the test is
// the network and the clock.
#include "txn/transaction_layer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sip/parser.hpp"

namespace imsflow::txn {
namespace {

using sip::Endpoint;
using sip::Method;
using sip::Transport;

const Endpoint kUacUdp{Transport::Udp, sip::IpAddress::v4(192, 0, 2, 1), 5060};
const Endpoint kUasUdp{Transport::Udp, sip::IpAddress::v4(192, 0, 2, 2), 5060};

struct Recorded {
  std::vector<std::string> requests;      // start lines
  std::vector<TransactionId> request_ids;
  std::vector<int> responses;
  std::vector<TransactionId> response_ids;
  std::vector<char> timeouts;
  std::vector<TransactionId> cancels;
  std::vector<int> stray;
  std::vector<std::string> dropped;
  std::vector<std::string> transport_errors;
  std::vector<TransactionId> transport_error_ids;
  int terminated = 0;
};

class RecordingUser : public TransactionUser {
 public:
  Recorded r;
  void on_request(TransactionId server, const sip::Message& request, const Endpoint&, const Endpoint&,
                  TimePoint) override {
    r.requests.emplace_back(request.start_line());
    r.request_ids.push_back(server);
  }
  void on_response(TransactionId client, const sip::Message& response, TimePoint) override {
    r.responses.push_back(response.status_code());
    r.response_ids.push_back(client);
  }
  void on_timeout(TransactionId, TimeoutTimer timer, TimePoint) override { r.timeouts.push_back(timer_letter(timer)); }
  void on_cancel(TransactionId invite, const sip::Message&, TimePoint) override { r.cancels.push_back(invite); }
  void on_stray_response(const sip::Message& m, const Endpoint&, TimePoint) override { r.stray.push_back(m.status_code()); }
  void on_dropped(std::string_view reason, const Endpoint&, TimePoint) override { r.dropped.emplace_back(reason); }
  void on_terminated(TransactionId, TimePoint) override { ++r.terminated; }
  void on_transport_error(TransactionId txn, std::string_view why, TimePoint) override {
    r.transport_errors.emplace_back(why);
    r.transport_error_ids.push_back(txn);
  }
};

std::string request(std::string_view method, std::string_view branch, std::string_view extra = {},
                    std::string_view cseq_method = {}, std::string_view via_transport = "UDP") {
  std::string m(method);
  std::string s = m + " sip:bob@example.com SIP/2.0\r\n";
  s += "Via: SIP/2.0/" + std::string(via_transport) + " 192.0.2.1:5060;branch=" + std::string(branch) + ";rport\r\n";
  s += "Max-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>";
  s += "\r\nCall-ID: call-1\r\nCSeq: 1 " + std::string(cseq_method.empty() ? method : cseq_method) + "\r\n";
  s += std::string(extra);
  s += "Content-Length: 0\r\n\r\n";
  return s;
}

std::string response(int status, std::string_view method, std::string_view branch, std::string_view to_tag = "b1") {
  std::string s = "SIP/2.0 " + std::to_string(status) + " X\r\n";
  s += "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=" + std::string(branch) + ";rport=5060\r\n";
  s += "From: <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>";
  if (!to_tag.empty()) s += ";tag=" + std::string(to_tag);
  s += "\r\nCall-ID: call-1\r\nCSeq: 1 " + std::string(method) + "\r\nContent-Length: 0\r\n\r\n";
  return s;
}

std::string start_line(const std::string& bytes) { return bytes.substr(0, bytes.find("\r\n")); }

class TxnTest : public ::testing::Test {
 protected:
  RecordingUser user;
  TimerConfig config;
  TransactionLayer layer{user, config};
  TimePoint t0 = TimePoint{} + std::chrono::hours(1);
  TimePoint now = t0;

  std::vector<Transmit> sent() {
    std::vector<Transmit> out;
    layer.take_transmits(out);
    return out;
  }
  // Moves the clock to `to`, firing timers on the way, and returns what was sent.
  std::vector<Transmit> run_to(TimePoint to) {
    std::vector<Transmit> all;
    while (auto d = layer.next_deadline()) {
      if (*d > to) break;
      now = std::max(now, *d);
      layer.advance(now);
      for (auto& t : sent()) all.push_back(std::move(t));
    }
    now = to;
    layer.advance(now);
    for (auto& t : sent()) all.push_back(std::move(t));
    return all;
  }
  TransactionId send(std::string_view method, std::string_view branch, Endpoint dest = kUasUdp,
                     std::string_view extra = {}) {
    OutgoingRequest r;
    r.method = sip::method_from_token(method);
    r.branch = std::string(branch);
    r.bytes = request(method, branch, extra, {}, dest.transport == Transport::Udp ? "UDP" : "TCP");
    r.source = kUacUdp;
    r.source.transport = dest.transport;
    r.destination = dest;
    return layer.send_request(std::move(r), now);
  }
  void deliver(const std::string& bytes, Endpoint from = kUasUdp, Endpoint to = kUacUdp) {
    layer.receive(bytes, from, to, now);
  }
};

// --- client INVITE ---------------------------------------------------------

TEST_F(TxnTest, ClientInviteRetransmitsWithTimerAThenTimesOutWithTimerB) {
  const TransactionId id = send("INVITE", "z9hG4bKa");
  ASSERT_TRUE(id);
  ASSERT_EQ(sent().size(), 1u);
  std::vector<TimePoint> at;
  while (auto d = layer.next_deadline()) {
    now = *d;
    layer.advance(now);
    for (auto& t : sent()) {
      EXPECT_EQ(start_line(t.bytes), "INVITE sip:bob@example.com SIP/2.0");
      at.push_back(now);
    }
  }
  // A doubles from T1 without a cap: 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s; B at 32 s.
  const std::vector<Duration> expected{500ms, 1500ms, 3500ms, 7500ms, 15500ms, 31500ms};
  ASSERT_EQ(at.size(), expected.size());
  for (std::size_t i = 0; i < at.size(); ++i) EXPECT_EQ(at[i] - t0, expected[i]) << i;
  EXPECT_EQ(user.r.timeouts, std::vector<char>{'B'});
  EXPECT_EQ(now - t0, 32s);
  EXPECT_EQ(layer.live_transactions(), 0u);
  EXPECT_EQ(layer.stats().retransmissions_sent, 6u);
}

TEST_F(TxnTest, ClientInviteProvisionalStopsRetransmissionAndAcceptedPassesEvery2xx) {
  const TransactionId id = send("INVITE", "z9hG4bKb");
  sent();
  deliver(response(100, "INVITE", "z9hG4bKb", ""));
  EXPECT_EQ(layer.state(id), TransactionState::Proceeding);
  EXPECT_TRUE(run_to(now + 10s).empty()) << "no retransmission once a provisional came";
  deliver(response(183, "INVITE", "z9hG4bKb", "fork1"));
  deliver(response(200, "INVITE", "z9hG4bKb", "fork1"));
  EXPECT_EQ(layer.state(id), TransactionState::Accepted);
  deliver(response(200, "INVITE", "z9hG4bKb", "fork2"));  // a second fork answers
  deliver(response(200, "INVITE", "z9hG4bKb", "fork1"));  // a retransmission
  EXPECT_EQ(user.r.responses, (std::vector<int>{100, 183, 200, 200, 200}));
  EXPECT_TRUE(sent().empty()) << "the ACK for a 2xx is the user's, not the transaction's";
  run_to(now + 32s);  // Timer M
  EXPECT_EQ(layer.live_transactions(), 0u);
  deliver(response(200, "INVITE", "z9hG4bKb", "fork1"));
  EXPECT_EQ(user.r.stray, std::vector<int>{200});
}

TEST_F(TxnTest, ClientInviteAcksNon2xxAndReAcksItsRetransmission) {
  const TransactionId id = send("INVITE", "z9hG4bKc", kUasUdp, "Route: <sip:pcscf.example.com;lr>\r\n");
  sent();
  deliver(response(486, "INVITE", "z9hG4bKc", "busy"));
  EXPECT_EQ(layer.state(id), TransactionState::Completed);
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  const std::string ack_bytes = out[0].bytes;
  auto ack = sip::parse(ack_bytes);
  ASSERT_TRUE(ack) << ack.error().describe();
  EXPECT_EQ(ack->method(), Method::Ack);
  EXPECT_EQ(ack->request_uri().raw, "sip:bob@example.com");
  EXPECT_EQ(ack->top_via()->branch, "z9hG4bKc") << "the non-2xx ACK is part of the INVITE transaction";
  EXPECT_EQ(ack->to()->tag(), "busy");
  EXPECT_EQ(ack->cseq()->number, 1u);
  EXPECT_EQ(ack->cseq()->method, Method::Ack);
  EXPECT_EQ(ack->count(sip::HeaderId::Route), 1u);
  EXPECT_EQ(out[0].destination, kUasUdp);
  deliver(response(486, "INVITE", "z9hG4bKc", "busy"));
  out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].bytes, ack_bytes);
  EXPECT_EQ(user.r.responses, std::vector<int>{486}) << "the retransmitted final is absorbed";
  run_to(now + 31s);
  EXPECT_EQ(layer.live_transactions(), 1u);
  run_to(now + 1s);  // Timer D: 32 s
  EXPECT_EQ(layer.live_transactions(), 0u);
}

TEST_F(TxnTest, ClientInviteOverTcpDoesNotRetransmitAndEndsAtOnce) {
  Endpoint tcp = kUasUdp;
  tcp.transport = Transport::Tcp;
  const TransactionId id = send("INVITE", "z9hG4bKd", tcp);
  EXPECT_EQ(sent().size(), 1u);
  EXPECT_TRUE(run_to(now + 31s).empty());
  deliver(response(503, "INVITE", "z9hG4bKd"), tcp);
  EXPECT_EQ(sent().size(), 1u);  // the ACK
  run_to(now);                   // Timer D is zero on a reliable transport
  EXPECT_FALSE(layer.state(id));
  EXPECT_EQ(layer.live_transactions(), 0u);
}

TEST_F(TxnTest, TimerCReportsThenEndsTheTransaction) {
  config.timer_c = 180s;
  TransactionLayer l{user, config};
  OutgoingRequest r{Method::Invite, "z9hG4bKtc", request("INVITE", "z9hG4bKtc"), kUacUdp, kUasUdp};
  l.send_request(std::move(r), now);
  l.receive(response(180, "INVITE", "z9hG4bKtc"), kUasUdp, kUacUdp, now);
  l.advance(now + 179s);
  EXPECT_TRUE(user.r.timeouts.empty());
  l.advance(now + 180s);
  EXPECT_EQ(user.r.timeouts, std::vector<char>{'C'});
  EXPECT_EQ(l.live_transactions(), 1u) << "the user may still CANCEL";
  l.advance(now + 212s);
  EXPECT_EQ(user.r.timeouts, (std::vector<char>{'C', 'X'}));
  EXPECT_EQ(l.live_transactions(), 0u);
}

// --- client non-INVITE -------------------------------------------------------

TEST_F(TxnTest, ClientNonInviteTimerECapsAtT2AndTimerFEnds) {
  send("BYE", "z9hG4bKe");
  sent();
  std::vector<Duration> at;
  while (auto d = layer.next_deadline()) {
    now = *d;
    layer.advance(now);
    for (auto& t : sent()) {
      (void)t;
      at.push_back(now - t0);
    }
  }
  const std::vector<Duration> expected{500ms, 1500ms, 3500ms, 7500ms, 11500ms, 15500ms,
                                       19500ms, 23500ms, 27500ms, 31500ms};
  EXPECT_EQ(at, expected);
  EXPECT_EQ(user.r.timeouts, std::vector<char>{'F'});
  EXPECT_EQ(layer.live_transactions(), 0u);
}

TEST_F(TxnTest, ClientNonInviteProvisionalMovesRetransmissionToT2) {
  const TransactionId id = send("PRACK", "z9hG4bKf");
  sent();
  deliver(response(100, "PRACK", "z9hG4bKf"));
  EXPECT_EQ(layer.state(id), TransactionState::Proceeding);
  auto out = run_to(t0 + 500ms);
  EXPECT_EQ(out.size(), 1u);
  out = run_to(t0 + 4499ms);
  EXPECT_TRUE(out.empty());
  out = run_to(t0 + 4500ms);
  EXPECT_EQ(out.size(), 1u) << "Proceeding retransmits every T2";
  deliver(response(200, "PRACK", "z9hG4bKf"));
  EXPECT_EQ(layer.state(id), TransactionState::Completed);
  deliver(response(200, "PRACK", "z9hG4bKf"));
  EXPECT_EQ(user.r.responses, (std::vector<int>{100, 200}));
  run_to(now + 5s);  // Timer K = T4
  EXPECT_EQ(layer.live_transactions(), 0u);
}

TEST_F(TxnTest, ResponseMatchingUsesBranchAndCSeqMethod) {
  send("INVITE", "z9hG4bKg");
  sent();
  deliver(response(200, "CANCEL", "z9hG4bKg"));  // same branch, other method: another transaction
  EXPECT_TRUE(user.r.responses.empty());
  EXPECT_EQ(user.r.stray, std::vector<int>{200});
  deliver(response(180, "INVITE", "z9hG4bKG"));  // branch compares case-sensitively
  EXPECT_EQ(user.r.stray.size(), 2u);
}

TEST_F(TxnTest, LargeUdpRequestGoesOverTcp) {
  OutgoingRequest r;
  r.method = Method::Invite;
  r.branch = "z9hG4bKbig";
  r.bytes = request("INVITE", "z9hG4bKbig", "X-Pad: " + std::string(1400, 'x') + "\r\n");
  r.source = kUacUdp;
  r.destination = kUasUdp;
  layer.send_request(std::move(r), now);
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].destination.transport, Transport::Tcp);
  EXPECT_EQ(out[0].source.transport, Transport::Tcp);
  auto m = sip::parse(out[0].bytes);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->top_via()->transport, "TCP");
  EXPECT_EQ(layer.stats().switched_to_tcp, 1u);
  EXPECT_TRUE(run_to(now + 5s).empty()) << "no Timer A over TCP";
}

TEST_F(TxnTest, RefusesAckAndDuplicateBranch) {
  EXPECT_FALSE(send("ACK", "z9hG4bKh"));
  EXPECT_TRUE(send("OPTIONS", "z9hG4bKh"));
  EXPECT_FALSE(send("OPTIONS", "z9hG4bKh"));
}

// --- server INVITE ---------------------------------------------------------------

TEST_F(TxnTest, ServerInviteSends100AbsorbsRetransmissionsAndRetransmitsNon2xx) {
  const std::string invite = request("INVITE", "z9hG4bKs1");
  deliver(invite, kUacUdp, kUasUdp);
  ASSERT_EQ(user.r.request_ids.size(), 1u);
  const TransactionId id = user.r.request_ids[0];
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(start_line(out[0].bytes), "SIP/2.0 100 Trying");
  EXPECT_EQ(out[0].destination, kUacUdp);
  deliver(invite, kUacUdp, kUasUdp);
  EXPECT_EQ(user.r.requests.size(), 1u) << "a retransmission does not reach the user";
  EXPECT_EQ(start_line(sent().at(0).bytes), "SIP/2.0 100 Trying");

  ASSERT_TRUE(layer.send_response(id, 486, response(486, "INVITE", "z9hG4bKs1"), now));
  EXPECT_EQ(sent().size(), 1u);
  EXPECT_EQ(layer.state(id), TransactionState::Completed);
  EXPECT_FALSE(layer.send_response(id, 200, response(200, "INVITE", "z9hG4bKs1"), now)) << "already final";
  // Timer G: 0.5, 1.5, 3.5, 7.5, 11.5 s … (capped at T2)
  EXPECT_EQ(run_to(t0 + 500ms).size(), 1u);
  EXPECT_EQ(run_to(t0 + 1500ms).size(), 1u);
  EXPECT_EQ(run_to(t0 + 3500ms).size(), 1u);
  EXPECT_EQ(run_to(t0 + 7500ms).size(), 1u);
  EXPECT_EQ(run_to(t0 + 11499ms).size(), 0u);
  EXPECT_EQ(run_to(t0 + 11500ms).size(), 1u);
  // The ACK (same branch, so the same transaction) confirms; retransmissions stop.
  deliver(request("ACK", "z9hG4bKs1"), kUacUdp, kUasUdp);
  EXPECT_EQ(layer.state(id), TransactionState::Confirmed);
  EXPECT_EQ(user.r.requests.size(), 1u) << "the ACK for a non-2xx stays in the transaction";
  EXPECT_TRUE(run_to(now + 4999ms).empty());
  EXPECT_EQ(layer.live_transactions(), 1u);
  run_to(now + 1ms);  // Timer I = T4
  EXPECT_EQ(layer.live_transactions(), 0u);
}

TEST_F(TxnTest, ServerInviteTimerHWhenNon2xxIsNeverAcked) {
  deliver(request("INVITE", "z9hG4bKs2"), kUacUdp, kUasUdp);
  const TransactionId id = user.r.request_ids.at(0);
  layer.send_response(id, 603, response(603, "INVITE", "z9hG4bKs2"), now);
  run_to(t0 + 32s);
  EXPECT_EQ(user.r.timeouts, std::vector<char>{'H'});
  EXPECT_EQ(layer.live_transactions(), 0u);
}

TEST_F(TxnTest, ServerInviteAcceptedPassesAckToUserAndAbsorbsInvite) {
  const std::string invite = request("INVITE", "z9hG4bKs3");
  deliver(invite, kUacUdp, kUasUdp);
  const TransactionId id = user.r.request_ids.at(0);
  sent();
  ASSERT_TRUE(layer.send_response(id, 200, response(200, "INVITE", "z9hG4bKs3"), now));
  EXPECT_EQ(layer.state(id), TransactionState::Accepted);
  sent();
  deliver(invite, kUacUdp, kUasUdp);
  EXPECT_TRUE(sent().empty()) << "RFC 6026: 2xx retransmission is the user's job";
  EXPECT_EQ(user.r.requests.size(), 1u);
  std::string ack = request("ACK", "z9hG4bKs3.ack");
  deliver(ack, kUacUdp, kUasUdp);  // the 2xx ACK has a branch of its own
  ASSERT_EQ(user.r.requests.size(), 2u);
  EXPECT_FALSE(user.r.request_ids[1]);
  run_to(t0 + 32s);  // Timer L
  EXPECT_EQ(layer.live_transactions(), 0u);
}

TEST_F(TxnTest, ServerNonInviteResendsFinalUntilTimerJ) {
  const std::string bye = request("BYE", "z9hG4bKs4");
  deliver(bye, kUacUdp, kUasUdp);
  const TransactionId id = user.r.request_ids.at(0);
  EXPECT_EQ(layer.state(id), TransactionState::Trying);
  EXPECT_TRUE(sent().empty()) << "no 100 Trying for non-INVITE";
  deliver(bye, kUacUdp, kUasUdp);
  EXPECT_TRUE(sent().empty()) << "nothing to resend in Trying";
  layer.send_response(id, 200, response(200, "BYE", "z9hG4bKs4"), now);
  sent();
  deliver(bye, kUacUdp, kUasUdp);
  EXPECT_EQ(start_line(sent().at(0).bytes), "SIP/2.0 200 X");
  run_to(t0 + 31s);
  EXPECT_EQ(layer.live_transactions(), 1u);
  run_to(t0 + 32s);
  EXPECT_EQ(layer.live_transactions(), 0u);
}

TEST_F(TxnTest, CancelMatchesItsInviteAndAnUnknownOneGets481) {
  deliver(request("INVITE", "z9hG4bKs5"), kUacUdp, kUasUdp);
  const TransactionId invite = user.r.request_ids.at(0);
  sent();
  deliver(request("CANCEL", "z9hG4bKs5"), kUacUdp, kUasUdp);
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(start_line(out[0].bytes), "SIP/2.0 200 OK");
  ASSERT_EQ(user.r.cancels.size(), 1u);
  EXPECT_EQ(user.r.cancels[0], invite);
  EXPECT_EQ(user.r.requests.size(), 1u) << "the CANCEL itself is answered by the layer";
  deliver(request("CANCEL", "z9hG4bKs5"), kUacUdp, kUasUdp);  // retransmitted CANCEL
  EXPECT_EQ(start_line(sent().at(0).bytes), "SIP/2.0 200 OK");
  EXPECT_EQ(user.r.cancels.size(), 1u);

  deliver(request("CANCEL", "z9hG4bKnone"), kUacUdp, kUasUdp);
  out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(start_line(out[0].bytes), "SIP/2.0 481 Call/Transaction Does Not Exist");
}

TEST_F(TxnTest, Rfc2543RequestsMatchWithoutMagicCookie) {
  const std::string invite = request("INVITE", "old-branch-1");
  deliver(invite, kUacUdp, kUasUdp);
  const TransactionId id = user.r.request_ids.at(0);
  sent();
  deliver(invite, kUacUdp, kUasUdp);
  EXPECT_EQ(user.r.requests.size(), 1u);
  layer.send_response(id, 404, response(404, "INVITE", "old-branch-1"), now);
  sent();
  std::string ack = request("ACK", "old-branch-1");
  ack.replace(ack.find("To: <sip:bob@example.com>") + 25, 0, ";tag=b1");
  deliver(ack, kUacUdp, kUasUdp);
  EXPECT_EQ(layer.state(id), TransactionState::Confirmed);
}

TEST_F(TxnTest, GarbageIsDroppedWithAReason) {
  deliver("INVITE sip:x SIP/2.0\r\nVia: nonsense\r\n\r\n", kUacUdp, kUasUdp);
  ASSERT_EQ(user.r.dropped.size(), 1u);
  EXPECT_NE(user.r.dropped[0].find("Via"), std::string::npos) << user.r.dropped[0];
  Endpoint tcp = kUacUdp;
  tcp.transport = Transport::Tcp;
  std::string no_length = request("OPTIONS", "z9hG4bKx");
  no_length.erase(no_length.find("Content-Length"), 19);
  deliver(no_length, tcp, kUasUdp);
  ASSERT_EQ(user.r.dropped.size(), 2u);
  EXPECT_NE(user.r.dropped[1].find("Content-Length"), std::string::npos) << user.r.dropped[1];
  EXPECT_EQ(layer.live_transactions(), 0u);
  EXPECT_EQ(layer.stats().dropped, 2u);
}

// --- keys and response routing ---------------------------------------------------------

TEST(TransactionKey, ServerKeyFollowsRfc3261Section17_2_3) {
  // Parsed messages point into their text, so the text must outlive them.
  const std::string invite_text = request("INVITE", "z9hG4bKk");
  const std::string ack_text = request("ACK", "z9hG4bKk");
  const std::string cancel_text = request("CANCEL", "z9hG4bKk");
  auto invite = sip::parse(invite_text);
  auto ack = sip::parse(ack_text);
  auto cancel = sip::parse(cancel_text);
  std::string upper = request("INVITE", "z9hG4bKk");
  upper.replace(upper.find("192.0.2.1"), 9, "HOST.example.COM");
  std::string lower = request("INVITE", "z9hG4bKk");
  lower.replace(lower.find("192.0.2.1"), 9, "host.example.com");
  auto a = sip::parse(upper);
  auto b = sip::parse(lower);
  ASSERT_TRUE(invite && ack && cancel && a && b);
  EXPECT_EQ(server_transaction_key(*invite), server_transaction_key(*ack));
  EXPECT_NE(server_transaction_key(*invite), server_transaction_key(*cancel));
  EXPECT_EQ(server_transaction_key(*cancel, Method::Invite), server_transaction_key(*invite));
  EXPECT_EQ(server_transaction_key(*a), server_transaction_key(*b)) << "sent-by compares case-insensitively";
}

TEST(ResponseDestination, IsTheSourceAddressWithRportOrTheViaPort) {
  std::string text = request("OPTIONS", "z9hG4bKr");
  auto m = sip::parse(text);
  ASSERT_TRUE(m);
  const Endpoint nat{Transport::Udp, sip::IpAddress::v4(198, 51, 100, 7), 40000};
  EXPECT_EQ(response_destination(*m, nat), nat) << "rport: the source address and port (RFC 3581)";
  // A received= written by the sender is not trusted; no rport: the Via port.
  std::string spoof = text;
  spoof.replace(spoof.find(";rport"), 6, ";received=203.0.113.9");
  auto n = sip::parse(spoof);
  ASSERT_TRUE(n);
  EXPECT_EQ(response_destination(*n, nat).address, nat.address);
  EXPECT_EQ(response_destination(*n, nat).port, 5060);
  Endpoint tcp = nat;
  tcp.transport = Transport::Tcp;
  EXPECT_EQ(response_destination(*n, tcp), tcp) << "reliable: the connection it came on";
}

TEST(ResponseDestination, TopViaGetsReceivedAndRportFilledIn) {
  const std::string text = request("OPTIONS", "z9hG4bKv");
  auto m = sip::parse(text);
  ASSERT_TRUE(m);
  const Endpoint nat{Transport::Udp, sip::IpAddress::v4(198, 51, 100, 7), 40000};
  EXPECT_EQ(response_top_via(*m->top_via(), nat),
            "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKv;rport=40000;received=198.51.100.7");
  // Sent-by already the source address, and no rport: nothing to add.
  std::string plain = text;
  plain.replace(plain.find(";rport"), 6, "");
  auto p = sip::parse(plain);
  EXPECT_EQ(response_top_via(*p->top_via(), kUacUdp), "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKv");
  // The 100 Trying of a server transaction carries it.
  RecordingUser user;
  TransactionLayer layer{user};
  const std::string invite = request("INVITE", "z9hG4bKv2");
  layer.receive(invite, nat, kUasUdp, TimePoint{});
  std::vector<Transmit> out;
  layer.take_transmits(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NE(out[0].bytes.find("branch=z9hG4bKv2;rport=40000;received=198.51.100.7"), std::string::npos) << out[0].bytes;
  EXPECT_EQ(out[0].destination, nat);
}

TEST_F(TxnTest, TimerCIsResetByEachProvisional) {
  config.timer_c = 180s;
  TransactionLayer l{user, config};
  l.send_request({Method::Invite, "z9hG4bKrc", request("INVITE", "z9hG4bKrc"), kUacUdp, kUasUdp}, now);
  l.receive(response(180, "INVITE", "z9hG4bKrc"), kUasUdp, kUacUdp, now);
  l.advance(now + 120s);
  l.receive(response(180, "INVITE", "z9hG4bKrc"), kUasUdp, kUacUdp, now + 120s);  // ringing goes on
  l.advance(now + 299s);
  EXPECT_TRUE(user.r.timeouts.empty()) << "a provisional every two minutes keeps the call alive";
  l.advance(now + 300s);
  EXPECT_EQ(user.r.timeouts, std::vector<char>{'C'});
}

TEST_F(TxnTest, AFloodOfProvisionalsDoesNotGrowTheTimerQueue) {
  config.timer_c = 180s;
  TransactionLayer l{user, config};
  l.send_request({Method::Invite, "z9hG4bKflood", request("INVITE", "z9hG4bKflood"), kUacUdp, kUasUdp}, now);
  // Another transaction's earlier timer sits at the top of the queue, so
  // replaced Timer C entries cannot be pruned from the top.
  l.send_request({Method::Options, "z9hG4bKtop", request("OPTIONS", "z9hG4bKtop"), kUacUdp, kUasUdp}, now);
  const std::string ringing = response(180, "INVITE", "z9hG4bKflood");
  for (int i = 0; i < 10000; ++i) l.receive(ringing, kUasUdp, kUacUdp, now + std::chrono::microseconds(i * 50));
  EXPECT_LT(l.queued_timers(), 10u) << "Timer C is re-armed at most once a second";
  EXPECT_EQ(user.r.responses.size(), 10000u);
}

TEST_F(TxnTest, CancelIsBuiltFromTheInviteAsSentEvenAfterTheSwitchToTcp) {
  OutgoingRequest r;
  r.method = Method::Invite;
  r.branch = "z9hG4bKbigc";
  r.bytes = request("INVITE", "z9hG4bKbigc", "X-Pad: " + std::string(1400, 'x') + "\r\n");
  r.source = kUacUdp;
  r.destination = kUasUdp;
  const TransactionId invite = layer.send_request(std::move(r), now);
  EXPECT_FALSE(layer.send_cancel(invite, now)) << "no CANCEL before a provisional (RFC 3261 §9.1)";
  Endpoint tcp = kUasUdp;
  tcp.transport = Transport::Tcp;
  deliver(response(180, "INVITE", "z9hG4bKbigc"), tcp);
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  const std::string invite_bytes = out[0].bytes;
  ASSERT_TRUE(layer.send_cancel(invite, now));
  out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].destination, tcp) << "where the INVITE went, over the same transport";
  auto inv = sip::parse(invite_bytes);
  const std::string cancel_bytes = out[0].bytes;
  auto cancel = sip::parse(cancel_bytes);
  ASSERT_TRUE(inv && cancel);
  EXPECT_EQ(cancel->top_via()->raw, inv->top_via()->raw) << "the same top Via, TCP included";
  EXPECT_EQ(cancel->cseq()->method, Method::Cancel);
  EXPECT_EQ(cancel->cseq()->number, inv->cseq()->number);
}

TEST_F(TxnTest, StrayResponsesSendNothing) {
  deliver(response(200, "INVITE", "z9hG4bKnothing"));
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(layer.stats().stray_responses, 1u);
}

// RFC 3261 §9.2: CANCEL matches by the §17.2.3 rule whatever the method
// of the request; 200 when it matches, and only an INVITE is the user's.
TEST_F(TxnTest, CancelMatchesAServerTransactionOfAnyMethod) {
  deliver(request("OPTIONS", "z9hG4bKopt1"), kUacUdp, kUasUdp);
  ASSERT_EQ(user.r.request_ids.size(), 1u);
  sent();
  deliver(request("CANCEL", "z9hG4bKopt1"), kUacUdp, kUasUdp);
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(start_line(out[0].bytes), "SIP/2.0 200 OK");
  EXPECT_TRUE(user.r.cancels.empty()) << "a CANCEL of a non-INVITE has no effect on it";
  EXPECT_EQ(layer.state(user.r.request_ids[0]), TransactionState::Trying);
}

TEST_F(TxnTest, CancelResponseCarriesTheToTagTheUserAnswersWith) {
  deliver(request("INVITE", "z9hG4bKs9"), kUacUdp, kUasUdp);
  const TransactionId invite = user.r.request_ids.at(0);
  EXPECT_TRUE(layer.set_local_tag(invite, "uas-tag-1"));
  sent();
  deliver(request("CANCEL", "z9hG4bKs9"), kUacUdp, kUasUdp);
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  auto m = sip::parse(out[0].bytes);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status_code(), 200);
  ASSERT_TRUE(m->to()->tag());
  EXPECT_EQ(*m->to()->tag(), "uas-tag-1");
  EXPECT_EQ(user.r.cancels.size(), 1u);
  EXPECT_FALSE(layer.set_local_tag(TransactionId{}, "x"));
}

TEST_F(TxnTest, CancelOfAnRfc2543InviteMatchesWithoutTheMagicCookie) {
  deliver(request("INVITE", "old-branch-9"), kUacUdp, kUasUdp);
  sent();
  deliver(request("CANCEL", "old-branch-9"), kUacUdp, kUasUdp);
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(start_line(out[0].bytes), "SIP/2.0 200 OK");
  EXPECT_EQ(user.r.cancels.size(), 1u);
}

// RFC 3261 §17.1.4: a request that cannot be sent ends its client transaction.
TEST_F(TxnTest, TransportFailureEndsTheClientTransactionAndTellsTheUser) {
  const TransactionId id = send("INVITE", "z9hG4bKtf1");
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  layer.transport_failed(out[0], "connection refused", now);
  ASSERT_EQ(user.r.transport_errors.size(), 1u);
  EXPECT_EQ(user.r.transport_errors[0], "connection refused");
  EXPECT_EQ(user.r.transport_error_ids[0], id);
  EXPECT_FALSE(layer.state(id));
  EXPECT_EQ(layer.live_transactions(), 0u);
  EXPECT_FALSE(layer.next_deadline()) << "Timer A and B are gone with it";
  EXPECT_TRUE(user.r.timeouts.empty());
  EXPECT_EQ(layer.stats().transport_errors, 1u);
  layer.transport_failed(out[0], "again", now);  // the transaction is gone: nothing happens
  EXPECT_EQ(user.r.transport_errors.size(), 1u);
}

// RFC 3261 §17.2.4: a response that cannot be sent ends its server transaction.
TEST_F(TxnTest, TransportFailureOfAResponseEndsTheServerTransaction) {
  deliver(request("INVITE", "z9hG4bKtf2"), kUacUdp, kUasUdp);
  const TransactionId invite = user.r.request_ids.at(0);
  sent();
  std::string ringing = response(180, "INVITE", "z9hG4bKtf2");
  ASSERT_TRUE(layer.send_response(invite, 180, ringing, now));
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  layer.transport_failed(out[0], "connection reset", now);
  ASSERT_EQ(user.r.transport_error_ids.size(), 1u);
  EXPECT_EQ(user.r.transport_error_ids[0], invite);
  EXPECT_FALSE(layer.state(invite));
  // An ACK belongs to no transaction waiting on it: ignored.
  layer.transport_failed(Transmit{kUacUdp, kUasUdp, request("ACK", "z9hG4bKtf3")}, "x", now);
  EXPECT_EQ(user.r.transport_errors.size(), 1u);
}

TEST(TransactionTable, HundredThousandTransactionsComeAndGo) {
  RecordingUser user;
  TransactionLayer layer{user};
  TimePoint now = TimePoint{} + std::chrono::hours(1);
  std::vector<TransactionId> ids;
  for (int i = 0; i < 100000; ++i) {
    std::string branch = layer.new_branch();
    const TransactionId id =
        layer.send_request({Method::Options, branch, request("OPTIONS", branch), kUacUdp, kUasUdp}, now);
    ASSERT_TRUE(id);
    ids.push_back(id);
  }
  EXPECT_EQ(layer.live_transactions(), 100000u);
  layer.advance(now + 40s);
  EXPECT_EQ(layer.live_transactions(), 0u);
  EXPECT_EQ(user.r.timeouts.size(), 100000u);
  EXPECT_FALSE(layer.state(ids[0])) << "a stale handle is refused";
}

}  // namespace
}  // namespace imsflow::txn
