// Whole IMS ladders through the simulator: registration with AKA, an MO/MT
// call across P-CSCF, S-CSCF, P-CSCF, forking, and the failure rows.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "ims/topology.hpp"
#include "load/call_behaviour.hpp"
#include "report/ladder.hpp"
#include "sim/network.hpp"
#include "ims/digest.hpp"
#include "sip/parser.hpp"

namespace imsflow::ims {
namespace {

using namespace std::chrono_literals;

sip::Endpoint at(std::uint8_t host) { return {sip::Transport::Udp, sip::IpAddress::v4(10, 0, 0, host), 5060}; }

struct EventLog : dialog::SessionObserver {
  std::vector<dialog::SessionEvent> events;
  void on_session_event(const dialog::SessionEvent& e) override { events.push_back(e); }
  bool saw(dialog::SessionEventKind k) const {
    return std::any_of(events.begin(), events.end(), [&](const auto& e) { return e.kind == k; });
  }
  const dialog::SessionEvent* first(dialog::SessionEventKind k) const {
    for (const auto& e : events)
      if (e.kind == k) return &e;
    return nullptr;
  }
};

// The callee: answers as the profile says, and logs.
struct Callee : load::Answerer {
  using load::Answerer::Answerer;
  EventLog log;
  void on_session_event(const dialog::SessionEvent& e) override {
    log.on_session_event(e);
    load::Answerer::on_session_event(e);
  }
};

struct Bed {
  // One UE-B contact per behaviour.
  explicit Bed(std::vector<load::AnswerBehaviour> behaviours = {preconditions()}, TopologyOptions o = options()) {
    const std::size_t contacts = behaviours.size();
    TopologyEndpoints e{at(1), at(11), at(12), at(13), {}};
    for (std::size_t i = 0; i < contacts; ++i) e.ue_b.push_back(at(static_cast<std::uint8_t>(21 + i)));
    std::vector<dialog::SessionObserver*> observers;
    for (std::size_t i = 0; i < contacts; ++i) {
      callees.push_back(std::make_unique<Callee>(behaviours[i]));
      observers.push_back(callees.back().get());
    }
    topo = std::make_unique<ImsTopology>(e, o, caller, observers);
    for (std::size_t i = 0; i < contacts; ++i) callees[i]->bind(topo->ue_b[i]->user_agent());
    // UDP and TCP on each port: an IMS INVITE is over 1,300 bytes, so it
    // goes over TCP (RFC 3261 §18.1.1).
    for (const NamedNode& n : topo->nodes()) {
      net.attach(*n.node, n.local);
      net.attach(*n.node, sip::Endpoint{sip::Transport::Tcp, n.local.address, n.local.port});
    }
    net.set_default_link({2ms, {}, 0, 0, 0});
  }
  static load::AnswerBehaviour preconditions() {
    load::AnswerBehaviour b;
    b.profile = load::Profile::Preconditions;
    b.media.address = "10.0.0.21";
    return b;
  }
  static TopologyOptions options() {
    TopologyOptions o;
    load::apply_profile(load::Profile::Preconditions, o.ue);
    return o;
  }
  void register_all() {
    topo->ue_a.register_now(net.now());
    net.flush(topo->ue_a);
    for (auto& ue : topo->ue_b) {
      ue->register_now(net.now());
      net.flush(*ue);
    }
    net.run_for(1s);
  }
  dialog::SessionId call(std::string_view callee = "sip:bob@ims.example") {
    sdp::LocalMedia m;
    m.address = "10.0.0.1";
    const auto id = topo->ue_a.call(callee, load::offer_for(load::Profile::Preconditions, m), net.now());
    net.flush(topo->ue_a);
    return id;
  }

  // The trace, one line a message, for failure messages.
  std::string dump() const {
    std::string out;
    for (const sim::TraceRecord& t : net.trace())
      out += t.source.to_string() + " -> " + t.destination.to_string() + "  " + report::message_label(t.bytes) + " " + std::string(sim::fate_name(t.fate)) + "\n";
    return out;
  }

  sim::Network net{7};
  EventLog caller;
  std::vector<std::unique_ptr<Callee>> callees;
  std::unique_ptr<ImsTopology> topo;
};

TEST(ImsRegistration, AkaChallengeThenRegisteredWithServiceRoute) {
  Bed bed;
  bed.register_all();
  EXPECT_EQ(bed.topo->ue_a.phase(), RegistrationPhase::Registered);
  EXPECT_EQ(bed.topo->ue_b[0]->phase(), RegistrationPhase::Registered);
  EXPECT_EQ(bed.topo->ue_a.challenges(), 1u);
  ASSERT_EQ(bed.topo->ue_a.service_route().size(), 1u);
  EXPECT_NE(bed.topo->ue_a.service_route()[0].find("orig@10.0.0.12"), std::string::npos);
  ASSERT_FALSE(bed.topo->ue_a.associated_identities().empty());
  EXPECT_EQ(bed.topo->ue_a.associated_identities()[0], "sip:alice@ims.example");
  EXPECT_EQ(bed.topo->registrar.state("sip:alice@ims.example", bed.net.now()), RegistrationState::Registered);
  EXPECT_EQ(bed.topo->registrar.state("tel:+15550101", bed.net.now()), RegistrationState::Registered);
  EXPECT_EQ(bed.topo->pcscf_a_policy.registered_ues(bed.net.now()), 1u);
  // The registrar saw the P-CSCF's Path.
  const auto b = bed.topo->registrar.bindings("sip:bob@ims.example", bed.net.now());
  ASSERT_EQ(b.size(), 1u);
  ASSERT_EQ(b[0].path.size(), 1u);
  EXPECT_NE(b[0].path[0].find("term@10.0.0.13"), std::string::npos);
}

TEST(ImsCall, MoMtCallThroughTheWholePathIsEstablished) {
  Bed bed;
  bed.register_all();
  const auto id = bed.call();
  bed.net.run_for(3s);
  ASSERT_TRUE(bed.caller.saw(dialog::SessionEventKind::Confirmed)) << bed.dump();
  EXPECT_TRUE(bed.callees[0]->log.saw(dialog::SessionEventKind::Confirmed));
  // The INVITE UE-B got carries the IMS headers the path adds.
  bool checked = false;
  for (const sim::TraceRecord& t : bed.net.trace()) {
    if (t.destination.address != at(21).address || t.bytes.rfind("INVITE ", 0) != 0) continue;
    auto m = sip::parse(t.bytes);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->count(sip::HeaderId::RecordRoute), 3u);
    const sip::NameAddr* pai = m->name_addrs(sip::HeaderId::PAssertedIdentity).first();
    ASSERT_TRUE(pai);
    EXPECT_EQ(pai->uri.raw, "sip:alice@ims.example");
    EXPECT_FALSE(m->find(sip::HeaderId::PPreferredIdentity));
    EXPECT_TRUE(m->icid_value());
    checked = true;
  }
  EXPECT_TRUE(checked);
  bed.topo->ue_a.user_agent().hang_up(id, bed.net.now());
  bed.net.flush(bed.topo->ue_a);
  bed.net.run_for(2s);
  EXPECT_TRUE(bed.caller.saw(dialog::SessionEventKind::Ended));
  EXPECT_TRUE(bed.callees[0]->log.saw(dialog::SessionEventKind::Ended));
}

TEST(ImsRegistration, StaleSqnIsResynchronisedWithAuts) {
  // The USIM has seen SQN 1000 already; the HSS starts at 0: the first
  // challenge is stale, the UE answers with AUTS, the registrar takes
  // SQN_MS from it and challenges again, and that one is accepted.
  TopologyOptions o = Bed::options();
  TopologyEndpoints e{at(1), at(11), at(12), at(13), {at(21)}};
  EventLog caller;
  Callee callee(Bed::preconditions());
  ImsTopology topo(e, o, caller, {&callee});
  sim::Network net(3);
  for (const NamedNode& n : topo.nodes()) {
    net.attach(*n.node, n.local);
    net.attach(*n.node, sip::Endpoint{sip::Transport::Tcp, n.local.address, n.local.port});
  }
  UeConfig ahead = topo.ue_a.config();
  ahead.sqn_ms = 1000;
  ImsUe ue(ahead, caller);  // UE-A's identity and keys, with a USIM that is ahead
  net.detach(at(1));
  net.detach(sip::Endpoint{sip::Transport::Tcp, at(1).address, 5060});
  net.attach(ue, at(1));
  ue.register_now(net.now());
  net.flush(ue);
  net.run_for(1s);
  EXPECT_EQ(ue.phase(), RegistrationPhase::Registered);
  EXPECT_EQ(ue.resyncs(), 1u);
  EXPECT_EQ(ue.challenges(), 2u);
  EXPECT_EQ(topo.registrar.stats().resyncs, 1u);
  EXPECT_GT(ue.sqn_ms(), 1000u) << "the accepted SQN is above the USIM's old highest";
}

TEST(ImsRegistration, WrongResponseIsRefusedWith403) {
  Registrar registrar(RegistrarConfig{}, TopologyOptions::demo_subscribers());
  const std::string first =
      "REGISTER sip:ims.example SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\nMax-Forwards: 70\r\n"
      "From: <sip:alice@ims.example>;tag=1\r\nTo: <sip:alice@ims.example>\r\nCall-ID: r1\r\nCSeq: 1 REGISTER\r\n"
      "Contact: <sip:alice@10.0.0.1:5060>\r\nExpires: 600\r\n"
      "Authorization: Digest username=\"alice@ims.example\", realm=\"ims.example\", nonce=\"\", "
      "uri=\"sip:ims.example\", response=\"\"\r\nContent-Length: 0\r\n\r\n";
  auto m = sip::parse(first);
  ASSERT_TRUE(m);
  const RoutingDecision challenge = registrar.handle_register(*m, TimePoint{});
  ASSERT_EQ(challenge.status, 401);
  ASSERT_EQ(challenge.response_headers.size(), 1u);
  auto parsed = parse_digest(challenge.response_headers[0].second);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->algorithm_kind(), DigestAlgorithm::AkaV1Md5);
  const std::string nonce = parsed->nonce.unescaped();
  // A response computed over a RES that is not the USIM's.
  const std::uint8_t wrong_res[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  auto ha1 = digest_ha1("alice@ims.example", "ims.example", std::span<const std::uint8_t>(wrong_res));
  ASSERT_TRUE(ha1);
  auto response = digest_response(*ha1, {"REGISTER", "sip:ims.example", nonce, "auth", "00000001", "c0ffee"});
  ASSERT_TRUE(response);
  DigestCredentials cred;
  cred.username = "alice@ims.example";
  cred.realm = "ims.example";
  cred.nonce = nonce;
  cred.uri = "sip:ims.example";
  const std::string hex(response->view());
  cred.response = hex;
  cred.qop = "auth";
  cred.nc = "00000001";
  cred.cnonce = "c0ffee";
  std::string second = first;
  const std::size_t from = second.find("Authorization: ");
  const std::size_t to = second.find("\r\n", from);
  second.replace(from, to - from, "Authorization: " + build_authorization(cred));
  second.replace(second.find("CSeq: 1"), 7, "CSeq: 2");
  auto m2 = sip::parse(second);
  ASSERT_TRUE(m2);
  EXPECT_EQ(registrar.handle_register(*m2, TimePoint{}).status, 403);
  EXPECT_EQ(registrar.stats().auth_failures, 1u);
  EXPECT_EQ(registrar.state("sip:alice@ims.example", TimePoint{}), RegistrationState::NotRegistered);
}

TEST(ImsRegistration, DeregistrationMakesTheCalleeUnavailable) {
  Bed bed;
  bed.register_all();
  bed.topo->ue_b[0]->deregister(bed.net.now());
  bed.net.flush(*bed.topo->ue_b[0]);
  bed.net.run_for(1s);
  EXPECT_EQ(bed.topo->ue_b[0]->phase(), RegistrationPhase::Unregistered);
  EXPECT_EQ(bed.topo->registrar.state("tel:+15550102", bed.net.now()), RegistrationState::NotRegistered);
  bed.call("tel:+15550102");
  bed.net.run_for(2s);
  const dialog::SessionEvent* failed = bed.caller.first(dialog::SessionEventKind::Failed);
  ASSERT_TRUE(failed) << bed.dump();
  EXPECT_EQ(failed->status, 480);
}

TEST(ImsRegistration, RefreshedAtHalfTheGrantedTime) {
  Bed bed;
  bed.register_all();
  const std::uint32_t before = bed.topo->ue_a.challenges();
  bed.net.run_for(301s);  // 600 s granted: refresh at 300 s
  EXPECT_EQ(bed.topo->ue_a.phase(), RegistrationPhase::Registered);
  EXPECT_EQ(bed.topo->ue_a.challenges(), before + 1);
  EXPECT_EQ(bed.topo->registrar.state("sip:alice@ims.example", bed.net.now()), RegistrationState::Registered);
}

TEST(ImsCall, UnknownCalleeGets404AndUnregisteredCalleeGets480) {
  Bed bed;
  bed.topo->ue_a.register_now(bed.net.now());  // bob does not register
  bed.net.flush(bed.topo->ue_a);
  bed.net.run_for(1s);
  bed.call("sip:nobody@ims.example");
  bed.net.run_for(2s);
  ASSERT_TRUE(bed.caller.first(dialog::SessionEventKind::Failed));
  EXPECT_EQ(bed.caller.first(dialog::SessionEventKind::Failed)->status, 404);
  bed.caller.events.clear();
  bed.call("sip:bob@ims.example");
  bed.net.run_for(2s);
  ASSERT_TRUE(bed.caller.first(dialog::SessionEventKind::Failed));
  EXPECT_EQ(bed.caller.first(dialog::SessionEventKind::Failed)->status, 480);
}

TEST(ImsCall, UnregisteredUeIsRefusedByThePcscf) {
  Bed bed;  // nobody registers
  bed.call();
  bed.net.run_for(2s);
  ASSERT_TRUE(bed.caller.first(dialog::SessionEventKind::Failed));
  EXPECT_EQ(bed.caller.first(dialog::SessionEventKind::Failed)->status, 403);
  EXPECT_EQ(bed.topo->scscf.stats().requests_forwarded, 0u) << "nothing reached the S-CSCF";
}

TEST(ImsCall, ForkedToTwoContactsOneAnswersTheOtherIsCancelled) {
  // bob's second device never picks up: it only sends 100 Trying.
  load::AnswerBehaviour silent = Bed::preconditions();
  silent.silent = true;
  Bed bed({Bed::preconditions(), silent});
  bed.register_all();
  ASSERT_EQ(bed.topo->registrar.bindings("tel:+15550102", bed.net.now()).size(), 2u);
  bed.call("tel:+15550102");
  bed.net.run_for(3s);
  ASSERT_TRUE(bed.caller.saw(dialog::SessionEventKind::Confirmed)) << bed.dump();
  std::size_t invites_to_b = 0, cancels = 0;
  for (const sim::TraceRecord& t : bed.net.trace()) {
    if (t.bytes.rfind("INVITE ", 0) == 0 && t.source.address == at(13).address) ++invites_to_b;
    if (t.bytes.rfind("CANCEL ", 0) == 0) ++cancels;
  }
  EXPECT_EQ(invites_to_b, 2u) << "one INVITE per registered contact";
  EXPECT_GE(cancels, 2u) << "the S-CSCF CANCELs the branch that did not answer, and the P-CSCF relays it";
  EXPECT_EQ(bed.topo->scscf.stats().cancels_relayed, 1u);
  ASSERT_TRUE(bed.callees[1]->log.first(dialog::SessionEventKind::Failed));
  EXPECT_EQ(bed.callees[1]->log.first(dialog::SessionEventKind::Failed)->status, 487);
  EXPECT_TRUE(bed.callees[0]->log.saw(dialog::SessionEventKind::Confirmed));
}

TEST(ImsCall, PreferredIdentityOfSomeoneElseIsReplacedByTheAssertedOne) {
  Bed bed;
  bed.register_all();
  // UE-A asks to be bob: the P-CSCF asserts alice, the identity it knows.
  sdp::LocalMedia m;
  m.address = "10.0.0.1";
  dialog::CallRequest r;
  r.target = "tel:+15550102";
  r.next_hop = at(11);
  r.sdp_offer = load::offer_for(load::Profile::Preconditions, m);
  r.route = {"<" + bed.topo->ue_a.pcscf_uri() + ">"};
  for (const std::string& sr : bed.topo->ue_a.service_route()) r.route.push_back(sr);
  r.headers = {{"P-Preferred-Identity", "<sip:bob@ims.example>"}, {"P-Asserted-Identity", "<sip:bob@ims.example>"}};
  bed.topo->ue_a.user_agent().call(r, bed.net.now());
  bed.net.flush(bed.topo->ue_a);
  bed.net.run_for(3s);
  bool seen = false;
  for (const sim::TraceRecord& t : bed.net.trace()) {
    if (t.source.address != at(11).address || t.bytes.rfind("INVITE ", 0) != 0) continue;
    auto msg = sip::parse(t.bytes);
    ASSERT_TRUE(msg);
    ASSERT_EQ(msg->count(sip::HeaderId::PAssertedIdentity), 1u);
    EXPECT_EQ(msg->name_addrs(sip::HeaderId::PAssertedIdentity).first()->uri.raw, "sip:alice@ims.example");
    EXPECT_FALSE(msg->find(sip::HeaderId::PPreferredIdentity));
    seen = true;
  }
  EXPECT_TRUE(seen);
}

// The seed's failure rows across the whole IMS path.
struct FailureRow {
  const char* name;
  int caller_status;     // UE-A's final status (0: UE-A does not fail)
  const char* callee_words;  // in UE-B's cause
};

class ImsFailureRows : public ::testing::TestWithParam<FailureRow> {};

TEST_P(ImsFailureRows, EachRowEndsAsTheSeedDescribes) {
  const FailureRow row = GetParam();
  const std::string name = row.name;
  TopologyOptions o = Bed::options();
  load::AnswerBehaviour b = Bed::preconditions();
  if (name == "no-prack") o.ue.faults.no_prack = true;
  if (name == "no-ack") o.ue.faults.no_ack = true;
  if (name == "no-progress") {
    b.silent = true;
    o.caller_timer_c = 10s;
  }
  if (name == "codec-mismatch") b.media.codecs = {sdp::Codec::pcmu()};
  Bed bed({b}, o);
  bed.register_all();
  bed.call("tel:+15550102");
  bed.net.run_for(60s);
  const dialog::SessionEvent* failed = bed.caller.first(dialog::SessionEventKind::Failed);
  if (row.caller_status != 0) {
    ASSERT_TRUE(failed) << bed.dump();
    EXPECT_EQ(failed->status, row.caller_status) << failed->cause;
  }
  std::string callee_causes;
  for (const auto& e : bed.callees[0]->log.events)
    if (e.kind == dialog::SessionEventKind::Failed || e.kind == dialog::SessionEventKind::Ended) callee_causes += e.cause;
  EXPECT_NE(callee_causes.find(row.callee_words), std::string::npos) << callee_causes;
  EXPECT_FALSE(bed.caller.saw(dialog::SessionEventKind::Confirmed) && name != "no-ack");
}

INSTANTIATE_TEST_SUITE_P(
    Seed, ImsFailureRows,
    ::testing::Values(FailureRow{"no-prack", 504, "PRACK missing"}, FailureRow{"no-ack", 0, "200 OK without ACK"},
                      FailureRow{"codec-mismatch", 488, "488"}, FailureRow{"no-progress", 487, "cancelled"}),
    [](const auto& info) {
      std::string n = info.param.name;
      for (char& c : n)
        if (c == '-') c = '_';
      return n;
    });

// A proxy on its own: requests fed in, answers taken out.
struct LoneProxy {
  explicit LoneProxy(std::size_t max_transactions = 200000) : proxy(config(max_transactions), policy) {
    policy.attach(proxy);
  }
  static ProxyConfig config(std::size_t max) {
    ProxyConfig c;
    c.local = at(11);
    c.max_transactions = max;
    return c;
  }
  std::vector<std::string> feed(const std::string& request) {
    proxy.receive(request, at(1), at(11), TimePoint{});
    std::vector<txn::Transmit> out;
    proxy.take_transmits(out);
    std::vector<std::string> labels;
    for (const txn::Transmit& t : out) labels.push_back(report::message_label(t.bytes));
    return labels;
  }
  Pcscf policy{PcscfConfig{at(12), 1, at(30)}};  // relays unregistered senders to 10.0.0.30
  StatefulProxy proxy;
};

std::string invite(int max_forwards) {
  return "INVITE sip:bob@10.0.0.30 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKmf" +
         std::to_string(max_forwards) + ";rport\r\nMax-Forwards: " + std::to_string(max_forwards) +
         "\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:bob@x>\r\nCall-ID: mf" + std::to_string(max_forwards) +
         "\r\nCSeq: 1 INVITE\r\nContact: <sip:a@10.0.0.1>\r\nContent-Length: 0\r\n\r\n";
}

TEST(ImsProxy, MaxForwardsZeroIsALoop483) {
  LoneProxy p;
  const auto out = p.feed(invite(0));
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.back(), "483 Too Many Hops (INVITE)");
  EXPECT_EQ(p.proxy.stats().loops_refused, 1u);
}

TEST(ImsProxy, ForwardedRequestHasOneHopLessAndOurRecordRoute) {
  LoneProxy p;
  p.proxy.receive(invite(5), at(1), at(11), TimePoint{});
  std::vector<txn::Transmit> out;
  p.proxy.take_transmits(out);
  ASSERT_EQ(out.size(), 2u);  // 100 Trying upstream, the INVITE downstream
  auto fwd = sip::parse(out[1].bytes);
  ASSERT_TRUE(fwd);
  EXPECT_EQ(out[1].destination, at(30));
  EXPECT_EQ(*fwd->max_forwards(), 4u);
  EXPECT_EQ(fwd->vias().size(), 2u);
  EXPECT_EQ(fwd->record_routes().first()->uri.raw, "sip:10.0.0.11:5060;lr");
  // RFC 3581 §4: the sender's Via says where it was really seen.
  EXPECT_EQ(fwd->vias()[1].received(), "10.0.0.1");
  EXPECT_EQ(fwd->vias()[1].rport(), "5060");
  EXPECT_EQ(fwd->headers()[0].id, sip::HeaderId::Via);
  EXPECT_EQ(fwd->headers()[1].id, sip::HeaderId::Via) << "the Vias stay together, above the Record-Route";
}

TEST(ImsProxy, OverloadIsRefusedWith503AndRetryAfter) {
  LoneProxy p(0);  // no room for a single live transaction
  p.proxy.receive(invite(70), at(1), at(11), TimePoint{});
  std::vector<txn::Transmit> out;
  p.proxy.take_transmits(out);
  ASSERT_FALSE(out.empty());
  auto r = sip::parse(out.back().bytes);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status_code(), 503);
  ASSERT_TRUE(r->retry_after());
  EXPECT_EQ(p.proxy.stats().overload_refused, 1u);
}

TEST(ImsSubscribers, ABadLineIsNamed) {
  auto bad = parse_subscribers("# comment\nalice@x sip:alice@x 00112233 44556677\n");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().line, 2u);
  EXPECT_EQ(bad.error().describe("subs.conf"), "subs.conf line 2: K must be 32 hex digits, not '00112233'");
  auto unknown = parse_subscribers(
      "a@x sip:a@x 000102030405060708090a0b0c0d0e0f 000102030405060708090a0b0c0d0e0f colour=blue\n");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().what.find("unknown setting 'colour=blue'"), std::string::npos);
  auto twice = parse_subscribers(
      "a@x sip:a@x 000102030405060708090a0b0c0d0e0f 000102030405060708090a0b0c0d0e0f\n"
      "a@x sip:b@x 000102030405060708090a0b0c0d0e0f 000102030405060708090a0b0c0d0e0f\n");
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().line, 2u);
  auto good = parse_subscribers(
      "a@x sip:a@x,tel:+1-555-0101 000102030405060708090a0b0c0d0e0f 000102030405060708090a0b0c0d0e0f sqn=32\n");
  ASSERT_TRUE(good);
  EXPECT_EQ((*good)[0].sqn, 32u);
  EXPECT_EQ(canonical_impu((*good)[0].impus[1]), "tel:+15550101");
}

}  // namespace
}  // namespace imsflow::ims
