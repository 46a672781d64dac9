// analyze::Analyzer on captures whose outcome is known by construction:
// `imsflow sim --pcap` for every seed troubleshooting row, and hand-written
// ladders (through a record-routing proxy, 503, 580, SDP mismatch, media
// release, icid-joined legs); streaming finalization; bad input.
#include "analyze/analyzer.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include <fstream>
#include <set>
#include <sstream>

#include "analyze/summary.hpp"
#include "analyze/capture_builder.hpp"
#include "cli/sim.hpp"
#include "shared_data.hpp"

namespace imsflow::analyze {
namespace {

using test::ep;
using test::Packet;
using test::sip_message;

std::set<std::string> codes(const CallAnalysis& c) {
  std::set<std::string> s;
  for (const Diagnosis& d : c.diagnoses) s.insert(std::string(diagnosis_name(d.code)));
  return s;
}

std::filesystem::path sim_pcap(const std::string& scenario) {
  const auto path = test::temp_path("sim-" + scenario + ".pcap");
  cli::SimOptions o;
  o.scenario = scenario;
  o.pcap = path.string();
  std::ostringstream out, err;
  EXPECT_EQ(cli::run_sim(o, out, err), 0) << err.str();
  return path;
}

CaptureAnalysis analyze_file(const std::filesystem::path& p) {
  auto r = analyze_capture(p.string());
  EXPECT_TRUE(r) << (r ? "" : r.error().describe());
  return r ? std::move(*r) : CaptureAnalysis{};
}

// --- every seed troubleshooting row, from the simulator ------------------

struct SimCase {
  const char* scenario;
  Outcome outcome;
  int final_status;
  std::set<std::string> diagnoses;
};

const SimCase kSimCases[] = {
    {"100rel", Outcome::Established, 200, {}},
    {"preconditions", Outcome::Established, 200, {}},
    {"plain", Outcome::Established, 200, {}},
    // The lost PRACK never reaches the capture: the one seen comes after the
    // 183 was retransmitted, so the capture shows a late PRACK.
    {"prack-lost", Outcome::Established, 200, {"prack_late"}},
    {"no-prack", Outcome::Failed, 504, {"prack_missing", "rejected"}},
    {"no-ack", Outcome::Failed, 200, {"ack_missing"}},
    {"no-progress", Outcome::Cancelled, 487, {"no_progress"}},
    {"codec-mismatch", Outcome::Failed, 488, {"rejected"}},
    {"busy", Outcome::Failed, 486, {"rejected"}},
};

class SimScenarios : public ::testing::TestWithParam<SimCase> {};

TEST_P(SimScenarios, OutcomeAndDiagnosesAsConstructed) {
  const SimCase& c = GetParam();
  const CaptureAnalysis a = analyze_file(sim_pcap(c.scenario));
  ASSERT_EQ(a.calls.size(), 1u);
  const CallAnalysis& call = a.calls[0];
  EXPECT_EQ(call.outcome, c.outcome) << outcome_name(call.outcome);
  EXPECT_EQ(call.final_status, c.final_status);
  EXPECT_EQ(codes(call), c.diagnoses);
  for (const Diagnosis& d : call.diagnoses) {
    EXPECT_FALSE(d.explanation.empty());
    EXPECT_FALSE(d.where_to_inspect.empty());
    EXPECT_FALSE(d.next_step.empty());
  }
  EXPECT_EQ(a.totals.messages, call.messages.size());
}

INSTANTIATE_TEST_SUITE_P(Analyze, SimScenarios, ::testing::ValuesIn(kSimCases),
                         [](const ::testing::TestParamInfo<SimCase>& i) {
                           std::string n = i.param.scenario;
                           for (char& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

TEST(SimScenarioFacts, SeedLadderKpisAndPhases) {
  // Sim: 20 ms one way; INVITE 0, 100+183 at 20, PRACK 40, 200 PRACK + 200 INVITE 60, ACK 80.
  const CaptureAnalysis a = analyze_file(sim_pcap("100rel"));
  ASSERT_EQ(a.calls.size(), 1u);
  const CallAnalysis& c = a.calls[0];
  ASSERT_TRUE(c.setup_ms && c.pdd_ms && c.ack_delay_ms);
  EXPECT_DOUBLE_EQ(*c.setup_ms, 60.0);
  EXPECT_DOUBLE_EQ(*c.pdd_ms, 20.0);
  EXPECT_DOUBLE_EQ(*c.ack_delay_ms, 20.0);
  ASSERT_EQ(c.phases.size(), 4u);
  EXPECT_EQ(c.phases[0].name, "session request");
  EXPECT_DOUBLE_EQ(*c.phases[0].duration_ms(), 20.0);  // INVITE -> 100
  EXPECT_DOUBLE_EQ(*c.phases[1].end_ms, 60.0);         // -> 200 OK
  EXPECT_DOUBLE_EQ(*c.phases[2].start_ms, 20.0);       // 183 ...
  EXPECT_DOUBLE_EQ(*c.phases[2].end_ms, 60.0);         // ... 200 (PRACK)
  EXPECT_DOUBLE_EQ(*c.phases[3].duration_ms(), 20.0);  // 200 -> ACK
  EXPECT_EQ(c.offer_answer.offer_in, "INVITE");
  EXPECT_EQ(c.offer_answer.answer_in, "183 (INVITE)");
  ASSERT_FALSE(c.offer_answer.common_codecs.empty());
  EXPECT_EQ(c.offer_answer.common_codecs[0], "AMR-WB/16000");
  ASSERT_EQ(c.dialogs.size(), 1u);
  EXPECT_TRUE(c.dialogs[0].reliable);
  EXPECT_TRUE(c.dialogs[0].acked);
  EXPECT_EQ(c.retransmissions, 0u);
}

TEST(SimScenarioFacts, NoPrackCountsThe183Retransmissions) {
  const CaptureAnalysis a = analyze_file(sim_pcap("no-prack"));
  ASSERT_EQ(a.calls.size(), 1u);
  const CallAnalysis& c = a.calls[0];
  // 183 at 20 ms, then again at 520, 1520, 3520, 7520, 15520, 31520 ms.
  EXPECT_EQ(c.retransmissions, 6u);
  ASSERT_TRUE(c.has(DiagnosisCode::PrackMissing));
  const Diagnosis* rejected = nullptr;
  for (const Diagnosis& d : c.diagnoses)
    if (d.code == DiagnosisCode::Rejected) rejected = &d;
  ASSERT_NE(rejected, nullptr);
  EXPECT_EQ(rejected->status, 504);
  EXPECT_NE(rejected->likely_cause.find("reliable provisional"), std::string::npos) << rejected->likely_cause;
}

// --- hand-written ladders through a record-routing proxy ------------------

struct ProxiedCall {
  bool prack_route = true;        // the PRACK carries the Record-Route set
  std::string bye_reason;         // Reason header on the BYE, if any
  std::string offer = test::kOfferSdp;
  std::string answer = test::kAnswerSdp;
  std::string call_id = "proxied-1@10.0.0.1";
};

std::vector<Packet> proxied(const ProxiedCall& o) {
  const auto A = ep("10.0.0.1:5060"), P = ep("10.0.0.10:5060"), B = ep("10.0.0.2:5060");
  const std::string cid = "Call-ID: " + o.call_id + "\n";
  const std::string from = "From: <sip:a@ims.test>;tag=fa\n";
  const std::string to = "To: <sip:b@ims.test>\n";
  const std::string tob = "To: <sip:b@ims.test>;tag=tb\n";
  const std::string via_a1 = "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa1\n";
  const std::string via_p1 = "Via: SIP/2.0/UDP 10.0.0.10:5060;branch=z9hG4bKp1\n";
  const std::string rr = "Record-Route: <sip:10.0.0.10;lr>\n";
  std::vector<Packet> v;
  const std::string invite_head = "INVITE sip:b@ims.test SIP/2.0\n";
  v.push_back({0, A, P,
               sip_message(invite_head + via_a1 + "Max-Forwards: 70\nRoute: <sip:10.0.0.10;lr>\n" + from + to + cid +
                               "CSeq: 1 INVITE\nContact: <sip:a@10.0.0.1>\nSupported: 100rel\n",
                           o.offer)});
  v.push_back({1, P, A, sip_message("SIP/2.0 100 Trying\n" + via_a1 + from + to + cid + "CSeq: 1 INVITE\n")});
  v.push_back({3, P, B,
               sip_message(invite_head + via_p1 + via_a1 + "Max-Forwards: 69\n" + rr + from + to + cid +
                               "CSeq: 1 INVITE\nContact: <sip:a@10.0.0.1>\nSupported: 100rel\n",
                           o.offer)});
  const std::string r183 = "SIP/2.0 183 Session Progress\n";
  const std::string rel = "Require: 100rel\nRSeq: 1\nContact: <sip:b@10.0.0.2>\n";
  v.push_back({50, B, P, sip_message(r183 + via_p1 + via_a1 + rr + from + tob + cid + "CSeq: 1 INVITE\n" + rel, o.answer)});
  v.push_back({52, P, A, sip_message(r183 + via_a1 + rr + from + tob + cid + "CSeq: 1 INVITE\n" + rel, o.answer)});
  const std::string via_a2 = "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa2\n";
  const std::string via_p2 = "Via: SIP/2.0/UDP 10.0.0.10:5060;branch=z9hG4bKp2\n";
  const std::string prack = "PRACK sip:b@10.0.0.2 SIP/2.0\n";
  const std::string route = o.prack_route ? "Route: <sip:10.0.0.10;lr>\n" : "";
  v.push_back({60, A, P, sip_message(prack + via_a2 + "Max-Forwards: 70\n" + route + from + tob + cid +
                                     "CSeq: 2 PRACK\nRAck: 1 1 INVITE\n")});
  v.push_back({61, P, B, sip_message(prack + via_p2 + via_a2 + "Max-Forwards: 69\n" + from + tob + cid +
                                     "CSeq: 2 PRACK\nRAck: 1 1 INVITE\n")});
  v.push_back({62, B, P, sip_message("SIP/2.0 200 OK\n" + via_p2 + via_a2 + from + tob + cid + "CSeq: 2 PRACK\n")});
  v.push_back({63, P, A, sip_message("SIP/2.0 200 OK\n" + via_a2 + from + tob + cid + "CSeq: 2 PRACK\n")});
  v.push_back({1000, B, P, sip_message("SIP/2.0 200 OK\n" + via_p1 + via_a1 + rr + from + tob + cid +
                                       "CSeq: 1 INVITE\nContact: <sip:b@10.0.0.2>\n")});
  v.push_back({1002, P, A, sip_message("SIP/2.0 200 OK\n" + via_a1 + rr + from + tob + cid +
                                       "CSeq: 1 INVITE\nContact: <sip:b@10.0.0.2>\n")});
  const std::string via_a3 = "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa3\n";
  const std::string via_p3 = "Via: SIP/2.0/UDP 10.0.0.10:5060;branch=z9hG4bKp3\n";
  v.push_back({1010, A, P, sip_message("ACK sip:b@10.0.0.2 SIP/2.0\n" + via_a3 + "Max-Forwards: 70\n" + route + from +
                                       tob + cid + "CSeq: 1 ACK\n")});
  v.push_back({1011, P, B, sip_message("ACK sip:b@10.0.0.2 SIP/2.0\n" + via_p3 + via_a3 + "Max-Forwards: 69\n" + from +
                                       tob + cid + "CSeq: 1 ACK\n")});
  if (!o.bye_reason.empty()) {
    const std::string via_b = "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKb4\n";
    const std::string bye_from = "From: <sip:b@ims.test>;tag=tb\nTo: <sip:a@ims.test>;tag=fa\n";
    v.push_back({3000, B, P, sip_message("BYE sip:a@10.0.0.1 SIP/2.0\n" + via_b + "Max-Forwards: 70\n"
                                         "Route: <sip:10.0.0.10;lr>\n" + bye_from + cid + "CSeq: 1 BYE\nReason: " +
                                         o.bye_reason + "\n")});
    v.push_back({3020, P, B, sip_message("SIP/2.0 200 OK\n" + via_b + bye_from + cid + "CSeq: 1 BYE\n")});
  }
  return v;
}

TEST(ProxiedCall, CopiesHopDelaysAndRouteSet) {
  const CaptureAnalysis a = analyze_file(test::write_pcap("proxied.pcap", proxied({})));
  ASSERT_EQ(a.calls.size(), 1u);
  const CallAnalysis& c = a.calls[0];
  EXPECT_EQ(c.outcome, Outcome::Established);
  EXPECT_TRUE(c.diagnoses.empty()) << (c.diagnoses.empty() ? "" : c.diagnoses[0].explanation);
  ASSERT_EQ(c.nodes.size(), 3u);
  EXPECT_EQ(c.node_roles, (std::vector<std::string>{"caller", "proxy", "callee"}));
  // 13 frames: 100 is P's own; INVITE, 183, PRACK, 200 PRACK, 200 INVITE, ACK seen twice each.
  EXPECT_EQ(c.messages.size(), 13u);
  EXPECT_EQ(c.copies, 6u);
  EXPECT_EQ(c.retransmissions, 0u);
  // Forwarded INVITE 3 ms after the original; 183 at A 2 ms after B sent it.
  EXPECT_EQ(c.messages[2].kind, CopyKind::Copy);
  EXPECT_EQ(c.messages[2].hop_delay_ns, 3'000'000);
  EXPECT_EQ(c.messages[4].kind, CopyKind::Copy);
  EXPECT_EQ(c.messages[4].hop_delay_ns, 2'000'000);
  // KPIs at the caller's hop: 183 at 52 ms, 200 at 1002 ms, ACK 8 ms later.
  EXPECT_DOUBLE_EQ(*c.pdd_ms, 52.0);
  EXPECT_DOUBLE_EQ(*c.setup_ms, 1002.0);
  EXPECT_DOUBLE_EQ(*c.ack_delay_ms, 8.0);
  bool route_checked = false;
  for (const Check& k : c.checks)
    if (k.id == CheckId::RouteRecordRoute) {
      route_checked = true;
      EXPECT_EQ(k.result, CheckResult::Pass) << k.detail;
    }
  EXPECT_TRUE(route_checked);
}

TEST(ProxiedCall, PrackWithoutRouteIsRouteMismatch) {
  ProxiedCall o;
  o.prack_route = false;
  const CaptureAnalysis a = analyze_file(test::write_pcap("no-route.pcap", proxied(o)));
  ASSERT_EQ(a.calls.size(), 1u);
  EXPECT_EQ(codes(a.calls[0]), (std::set<std::string>{"route_mismatch"}));
  EXPECT_NE(a.calls[0].diagnoses[0].explanation.find("PRACK at 0.060 s carried Route none"), std::string::npos)
      << a.calls[0].diagnoses[0].explanation;
}

TEST(ProxiedCall, ByeWithBearerReasonIsReleasedAfterSetup) {
  ProxiedCall o;
  o.bye_reason = "Q.850;cause=41;text=\"bearer lost\"";
  const CaptureAnalysis a = analyze_file(test::write_pcap("released.pcap", proxied(o)));
  ASSERT_EQ(a.calls.size(), 1u);
  EXPECT_EQ(a.calls[0].outcome, Outcome::Established);
  EXPECT_EQ(codes(a.calls[0]), (std::set<std::string>{"released_after_setup"}));
  // A normal clearing is no diagnosis.
  o.bye_reason = "Q.850;cause=16";
  o.call_id = "normal@10.0.0.1";
  const CaptureAnalysis b = analyze_file(test::write_pcap("normal.pcap", proxied(o)));
  ASSERT_EQ(b.calls.size(), 1u);
  EXPECT_TRUE(b.calls[0].diagnoses.empty());
}

TEST(ProxiedCall, AnswerWithoutCommonCodecIsOfferAnswerMismatch) {
  ProxiedCall o;
  o.answer = test::kPcmuAnswerSdp;
  const CaptureAnalysis a = analyze_file(test::write_pcap("mismatch.pcap", proxied(o)));
  ASSERT_EQ(a.calls.size(), 1u);
  EXPECT_EQ(codes(a.calls[0]), (std::set<std::string>{"offer_answer_mismatch"}));
  EXPECT_EQ(a.calls[0].offer_answer.answered_codecs, (std::vector<std::string>{"PCMU/8000"}));
}

// UEs quote AMR parameters (mode-set="0,1,2", against RFC 4867's grammar);
// sdp/ reads the modes inside, so the analyzer judges the real values: a
// common mode agrees, disjoint mode sets do not.
TEST(ProxiedCall, QuotedAmrModeSetsAreJudgedByTheirModes) {
  ProxiedCall o;
  o.offer = std::string(test::kOfferSdp) + "a=fmtp:116 mode-set=\"0,1,2\"\n";
  o.answer = std::string(test::kAnswerSdp) + "a=fmtp:116 mode-set=\"2\"\n";
  const CaptureAnalysis a = analyze_file(test::write_pcap("quoted.pcap", proxied(o)));
  ASSERT_EQ(a.calls.size(), 1u);
  EXPECT_TRUE(a.calls[0].diagnoses.empty()) << a.calls[0].diagnoses[0].explanation;
  EXPECT_EQ(a.calls[0].offer_answer.common_codecs, (std::vector<std::string>{"AMR-WB/16000", "telephone-event/16000"}));

  o.answer = std::string(test::kAnswerSdp) + "a=fmtp:116 mode-set=\"7\"\n";
  o.call_id = "quoted-disjoint@10.0.0.1";
  const CaptureAnalysis b = analyze_file(test::write_pcap("quoted-disjoint.pcap", proxied(o)));
  ASSERT_EQ(b.calls.size(), 1u);
  EXPECT_EQ(codes(b.calls[0]), (std::set<std::string>{"offer_answer_mismatch"}));
}

// --- single-message failures -----------------------------------------------

std::vector<Packet> rejected(int status, const std::string& reason, const std::string& extra,
                             const std::string& offer = test::kOfferSdp, const std::string& supported = "100rel") {
  const auto A = ep("10.0.0.1:5060"), B = ep("10.0.0.2:5060");
  const std::string common = "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKr1\nFrom: <sip:a@ims.test>;tag=fa\n";
  const std::string cid = "Call-ID: rej-" + std::to_string(status) + "@10.0.0.1\n";
  std::vector<Packet> v;
  v.push_back({0, A, B, sip_message("INVITE sip:b@ims.test SIP/2.0\n" + common + "To: <sip:b@ims.test>\n" + cid +
                                        "CSeq: 1 INVITE\nMax-Forwards: 70\nContact: <sip:a@10.0.0.1>\nSupported: " +
                                        supported + "\n",
                                    offer)});
  v.push_back({30, B, A, sip_message("SIP/2.0 " + std::to_string(status) + " " + reason + "\n" + common +
                                     "To: <sip:b@ims.test>;tag=x\n" + cid + "CSeq: 1 INVITE\n" + extra)});
  v.push_back({31, A, B, sip_message("ACK sip:b@ims.test SIP/2.0\n" + common + "To: <sip:b@ims.test>;tag=x\n" + cid +
                                     "CSeq: 1 ACK\nMax-Forwards: 70\n")});
  return v;
}

TEST(Rejected, OverloadNamesRetryAfter) {
  const CaptureAnalysis a =
      analyze_file(test::write_pcap("503.pcap", rejected(503, "Service Unavailable", "Retry-After: 30\n")));
  ASSERT_EQ(a.calls.size(), 1u);
  const CallAnalysis& c = a.calls[0];
  EXPECT_EQ(c.outcome, Outcome::Failed);
  EXPECT_EQ(c.final_status, 503);
  ASSERT_EQ(codes(c), (std::set<std::string>{"rejected"}));
  EXPECT_NE(c.diagnoses[0].explanation.find("overload"), std::string::npos) << c.diagnoses[0].explanation;
  EXPECT_NE(c.diagnoses[0].explanation.find("Retry-After: 30 s"), std::string::npos) << c.diagnoses[0].explanation;
}

TEST(Rejected, BadExtensionNamesTheTag) {
  const CaptureAnalysis a =
      analyze_file(test::write_pcap("420.pcap", rejected(420, "Bad Extension", "Unsupported: precondition\n")));
  ASSERT_EQ(a.calls.size(), 1u);
  EXPECT_NE(a.calls[0].diagnoses[0].explanation.find("Unsupported: precondition"), std::string::npos);
  bool failed_check = false;
  for (const Check& k : a.calls[0].checks)
    if (k.id == CheckId::SupportedRequire) failed_check = k.result == CheckResult::Fail;
  EXPECT_TRUE(failed_check);
}

TEST(Rejected, PreconditionFailureIsBothRejectedAndNotMet) {
  const std::string offer = std::string(test::kOfferSdp) + "a=curr:qos local none\na=curr:qos remote none\n"
                            "a=des:qos mandatory local sendrecv\na=des:qos optional remote sendrecv\n";
  const CaptureAnalysis a = analyze_file(
      test::write_pcap("580.pcap", rejected(580, "Precondition Failure", "", offer, "100rel, precondition")));
  ASSERT_EQ(a.calls.size(), 1u);
  EXPECT_EQ(codes(a.calls[0]), (std::set<std::string>{"rejected", "precondition_not_met"}));
}

// A long call (session refreshes by UPDATE, each retransmitted once and
// copied through a proxy) goes past the size where the analyzer indexes a
// call's messages and strings instead of scanning them: every sighting is
// still classified as it would be in a short call.
TEST(Correlation, LongCallsKeepEveryMessageApart) {
  std::vector<Packet> v = proxied({});
  const auto A = ep("10.0.0.1:5060"), P = ep("10.0.0.10:5060"), B = ep("10.0.0.2:5060");
  const std::string cid = "Call-ID: proxied-1@10.0.0.1\n";
  const std::string dialog = "From: <sip:a@ims.test>;tag=fa\nTo: <sip:b@ims.test>;tag=tb\n" + cid;
  constexpr int kRefreshes = 120;
  for (int i = 0; i < kRefreshes; ++i) {
    const double t = 2000 + i * 1000.0;
    const std::string n = std::to_string(i);
    const std::string via_a = "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKu" + n + "\n";
    const std::string via_p = "Via: SIP/2.0/UDP 10.0.0.10:5060;branch=z9hG4bKpu" + n + "\n";
    const std::string cseq = "CSeq: " + std::to_string(10 + i) + " UPDATE\n";
    const std::string update = "UPDATE sip:b@10.0.0.2 SIP/2.0\n";
    v.push_back({t, A, P, sip_message(update + via_a + "Max-Forwards: 70\nRoute: <sip:10.0.0.10;lr>\n" + dialog + cseq)});
    v.push_back({t + 500, A, P, sip_message(update + via_a + "Max-Forwards: 70\nRoute: <sip:10.0.0.10;lr>\n" + dialog + cseq)});
    v.push_back({t + 501, P, B, sip_message(update + via_p + via_a + "Max-Forwards: 69\n" + dialog + cseq)});
    v.push_back({t + 510, B, P, sip_message("SIP/2.0 200 OK\n" + via_p + via_a + dialog + cseq)});
    v.push_back({t + 511, P, A, sip_message("SIP/2.0 200 OK\n" + via_a + dialog + cseq)});
  }
  const CaptureAnalysis a = analyze_file(test::write_pcap("long.pcap", v));
  ASSERT_EQ(a.calls.size(), 1u);
  const CallAnalysis& c = a.calls[0];
  EXPECT_EQ(c.outcome, Outcome::Established);
  EXPECT_TRUE(c.diagnoses.empty()) << c.diagnoses[0].explanation;
  ASSERT_EQ(c.messages.size(), 13u + 5u * kRefreshes);
  EXPECT_EQ(c.retransmissions, static_cast<std::uint32_t>(kRefreshes));
  EXPECT_EQ(c.copies, 6u + 2u * kRefreshes);
  std::size_t updates = 0;
  for (const Transaction& t : c.transactions) {
    if (t.method != "UPDATE") continue;
    ++updates;
    EXPECT_EQ(t.request_retransmissions, 1u);
    EXPECT_EQ(t.final_status, 200);
  }
  EXPECT_EQ(updates, static_cast<std::size_t>(kRefreshes));
  // The last refresh: original, retransmission 500 ms later, then the copies.
  const std::size_t last = c.messages.size() - 5;
  EXPECT_EQ(c.messages[last].kind, CopyKind::Original);
  EXPECT_EQ(c.messages[last + 1].kind, CopyKind::Retransmission);
  EXPECT_EQ(c.messages[last + 2].kind, CopyKind::Copy);
  EXPECT_EQ(c.messages[last + 2].hop_delay_ns, 501'000'000);
  EXPECT_EQ(c.messages[last + 3].kind, CopyKind::Original);
  EXPECT_EQ(c.messages[last + 4].kind, CopyKind::Copy);
}

// --- legs joined by icid-value, streaming ---------------------------------

TEST(Correlation, LegsWithOneIcidAreOneCall) {
  std::vector<Packet> leg1 = rejected(486, "Busy Here", "");
  // A B2BUA's second leg: another Call-ID, the same P-Charging-Vector.
  const auto B = ep("10.0.0.2:5060"), C = ep("10.0.0.3:5060");
  const std::string pcv = "P-Charging-Vector: icid-value=\"icid-42\";orig-ioi=ims.test\n";
  const std::string common = "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKleg2\nFrom: <sip:a@ims.test>;tag=f2\n";
  std::vector<Packet> v;
  v.push_back({0, ep("10.0.0.1:5060"), B,
               sip_message("INVITE sip:b@ims.test SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKl1\n"
                           "From: <sip:a@ims.test>;tag=f1\nTo: <sip:b@ims.test>\nCall-ID: leg1@x\nCSeq: 1 INVITE\n"
                           "Max-Forwards: 70\nContact: <sip:a@10.0.0.1>\n" + pcv)});
  v.push_back({5, B, C, sip_message("INVITE sip:c@ims.test SIP/2.0\n" + common + "To: <sip:c@ims.test>\n"
                                    "Call-ID: leg2@x\nCSeq: 7 INVITE\nMax-Forwards: 70\nContact: <sip:b@10.0.0.2>\n" + pcv)});
  v.push_back({40, C, B, sip_message("SIP/2.0 486 Busy Here\n" + common + "To: <sip:c@ims.test>;tag=c\n"
                                     "Call-ID: leg2@x\nCSeq: 7 INVITE\n")});
  v.push_back({45, ep("10.0.0.2:5060"), ep("10.0.0.1:5060"),
               sip_message("SIP/2.0 486 Busy Here\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKl1\n"
                           "From: <sip:a@ims.test>;tag=f1\nTo: <sip:b@ims.test>;tag=b\nCall-ID: leg1@x\n"
                           "CSeq: 1 INVITE\n")});
  const CaptureAnalysis a = analyze_file(test::write_pcap("legs.pcap", v));
  ASSERT_EQ(a.calls.size(), 1u);
  const CallAnalysis& c = a.calls[0];
  EXPECT_EQ(c.call_ids, (std::vector<std::string>{"leg1@x", "leg2@x"}));
  EXPECT_EQ(c.icid, "icid-42");
  EXPECT_EQ(c.outcome, Outcome::Failed);
  EXPECT_EQ(c.final_status, 486);
  EXPECT_EQ(c.messages.size(), 4u);
  EXPECT_EQ(a.totals.joined_by_icid, 1u);
}

TEST(Streaming, EndedCallsLeaveBeforeTheCaptureEnds) {
  // 200 failed calls, one every 10 s of capture time: each is finalized 32 s
  // after it ended, so never more than a handful are open at once.
  std::vector<Packet> all;
  for (int i = 0; i < 200; ++i) {
    auto one = rejected(486, "Busy Here", "");
    for (Packet& p : one) {
      p.t_ms += i * 10'000.0;
      const std::string from = "rej-486@10.0.0.1";
      const std::size_t at = p.text.find(from);
      p.text.replace(at, from.size(), "busy-" + std::to_string(i) + "@10.0.0.1");
      // Content-Length stays right: only header text changed.
    }
    all.insert(all.end(), one.begin(), one.end());
  }
  const auto path = test::write_pcap("stream.pcap", all);
  std::size_t seen_before_finish = 0;
  bool finishing = false;
  Analyzer analyzer([&](CallAnalysis& c) {
    EXPECT_EQ(c.outcome, Outcome::Failed);
    if (!finishing) ++seen_before_finish;
  });
  trace::Decoder decoder([&](const trace::SipPacket& p) { analyzer.add(p); });
  ASSERT_TRUE(trace::read_capture(path.string(), decoder));
  EXPECT_LE(analyzer.totals().peak_open_calls, 6u);
  finishing = true;
  analyzer.finish();
  EXPECT_EQ(analyzer.totals().calls, 200u);
  EXPECT_GE(seen_before_finish, 195u);
  EXPECT_EQ(analyzer.open_calls(), 0u);
}

// --- bad input -------------------------------------------------------------

// OPTIONS keep-alives on one Call-ID every 10 s never leave the analyzer
// (the Call-ID is never quiet for long): it is counted once, and keeps only
// its first messages, so the capture's length does not grow it. An INVITE
// that comes later on that Call-ID is still a call.
TEST(Streaming, KeepAlivesOnOneCallIdAreCountedOnce) {
  const auto A = ep("10.0.0.1:5060"), B = ep("10.0.0.2:5060");
  const auto options = [&](int i, const std::string& cid) {
    const std::string common = "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKo" + std::to_string(i) +
                               "\nFrom: <sip:a@ims.test>;tag=fo\nCall-ID: " + cid + "\nCSeq: " +
                               std::to_string(i + 1) + " OPTIONS\n";
    return std::vector<Packet>{
        {i * 10'000.0, A, B, sip_message("OPTIONS sip:b@ims.test SIP/2.0\n" + common + "To: <sip:b@ims.test>\n"
                                         "Max-Forwards: 70\n")},
        {i * 10'000.0 + 5, B, A, sip_message("SIP/2.0 200 OK\n" + common + "To: <sip:b@ims.test>;tag=tb\n")}};
  };
  std::vector<Packet> v;
  for (int i = 0; i < 400; ++i)
    for (Packet& p : options(i, "keepalive@10.0.0.1")) v.push_back(std::move(p));
  for (int i = 0; i < 40; ++i)
    for (Packet& p : options(i, "probe-then-call@10.0.0.1")) {
      p.t_ms += 0.5;
      v.push_back(std::move(p));
    }
  // The second Call-ID carries an INVITE after 40 OPTIONS exchanges.
  for (Packet& p : rejected(486, "Busy Here", "")) {
    p.text.replace(p.text.find("Call-ID: rej-486@10.0.0.1"), 25, "Call-ID: probe-then-call@10.0.0.1");
    p.t_ms += 400'000;
    v.push_back(std::move(p));
  }
  std::sort(v.begin(), v.end(), [](const Packet& a, const Packet& b) { return a.t_ms < b.t_ms; });
  const CaptureAnalysis a = analyze_file(test::write_pcap("keepalive.pcap", v));
  EXPECT_EQ(a.totals.messages, v.size());
  EXPECT_EQ(a.totals.non_invite.at("OPTIONS"), 1u);
  ASSERT_EQ(a.calls.size(), 1u);
  EXPECT_EQ(a.calls[0].outcome, Outcome::Failed);
  EXPECT_EQ(a.calls[0].final_status, 486);
  // The call holds the first OPTIONS exchanges kept and the INVITE's three messages.
  EXPECT_EQ(a.calls[0].messages.size(), 16u + 3u);
  EXPECT_EQ(codes(a.calls[0]), (std::set<std::string>{"rejected"}));
}

TEST(BadInput, TruncatedFileKeepsTheCallsBeforeTheCut) {
  const std::string whole = imsflow::test::read_file(sim_pcap("busy"));
  const std::string cut = whole.substr(0, whole.size() - 10);
  auto r = analyze_capture_bytes(cut);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->read_error.empty());
  ASSERT_EQ(r->calls.size(), 1u);
  EXPECT_EQ(r->calls[0].final_status, 486);  // the last frame (ACK) was cut
  EXPECT_GE(r->skipped.count(trace::SkipReason::CaptureFileError), 1u);
}

TEST(BadInput, BadMagicIsAnError) {
  auto r = analyze_capture_bytes(std::string(64, 'x'));
  EXPECT_FALSE(r);
}

TEST(BadInput, NonSipOn5060AndUnparsableSipAreSkippedWithReasons) {
  std::vector<Packet> v = rejected(486, "Busy Here", "");
  v.push_back({40, ep("10.0.0.9:5060"), ep("10.0.0.2:5060"), std::string("\x01\x02 not SIP at all", 17)});
  v.push_back({41, ep("10.0.0.9:5060"), ep("10.0.0.2:5060"),
               "INVITE sip:x@y SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKq\r\nCall-ID: broken\r\n\r\n"});
  const CaptureAnalysis a = analyze_file(test::write_pcap("bad.pcap", v));
  ASSERT_EQ(a.calls.size(), 1u);
  EXPECT_EQ(a.calls[0].final_status, 486);
  EXPECT_EQ(a.skipped.count(trace::SkipReason::NonSipPayload), 1u);
  EXPECT_EQ(a.skipped.count(sip::ParseErrorCode::MissingHeader), 1u);
}

TEST(SummaryFigures, PercentilesByNearestRank) {
  std::vector<double> v;
  for (int i = 1; i <= 100; ++i) v.push_back(i);
  const Percentiles p = percentiles(v);
  EXPECT_EQ(p.count, 100u);
  EXPECT_DOUBLE_EQ(p.p50, 50);
  EXPECT_DOUBLE_EQ(p.p90, 90);
  EXPECT_DOUBLE_EQ(p.p99, 99);
  EXPECT_DOUBLE_EQ(p.mean, 50.5);
}

// A streaming run keeps the durations of every call for the percentiles:
// exactly up to DurationSample::kExact calls, then in a fixed-size
// histogram whose percentiles stay within 0.2 % and whose mean and max stay exact.
TEST(SummaryFigures, DurationSampleIsExactThenBounded) {
  DurationSample small;
  std::vector<double> v;
  for (int i = 1; i <= 1000; ++i) {
    small.add(i * 0.37);
    v.push_back(i * 0.37);
  }
  const Percentiles exact = percentiles(v), got = small.percentiles();
  EXPECT_DOUBLE_EQ(got.p50, exact.p50);
  EXPECT_DOUBLE_EQ(got.p99, exact.p99);
  EXPECT_DOUBLE_EQ(got.mean, exact.mean);

  DurationSample big;
  const int n = static_cast<int>(DurationSample::kExact) * 3;
  double sum = 0;
  for (int i = 1; i <= n; ++i) {
    // 0.05 ms … ~9.8 s, in a scrambled order
    const double ms = 0.05 * ((i * 7919) % n + 1);
    big.add(ms);
    sum += ms;
  }
  big.add(0.0);  // under a microsecond: its own bucket
  const Percentiles p = big.percentiles();
  EXPECT_EQ(p.count, static_cast<std::size_t>(n) + 1);
  EXPECT_NEAR(p.p50, 0.05 * (n / 2), 0.002 * 0.05 * n / 2);
  EXPECT_NEAR(p.p90, 0.05 * (n * 0.9), 0.002 * 0.05 * n * 0.9);
  EXPECT_NEAR(p.p99, 0.05 * (n * 0.99), 0.002 * 0.05 * n * 0.99);
  EXPECT_DOUBLE_EQ(p.max, 0.05 * n);
  EXPECT_NEAR(p.mean, sum / (n + 1), 1e-9 * sum);
}

}  // namespace
}  // namespace imsflow::analyze
