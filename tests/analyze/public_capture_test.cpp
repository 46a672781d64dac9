// The analyzer on the public captures in ../shared/traces/public (skipped when
// absent). Expected values were worked out from the packets by hand:
//   tshark -r F -o esp.enable_null_encryption_decode_heuristic:TRUE -d tcp.port==6060,sip
//          -Y sip -T fields -e frame.number -e frame.time_epoch -e ip.src -e ip.dst
//          -e sip.Method -e sip.Status-Code -e sip.CSeq -e sip.RSeq -e sip.RAck -e sip.Record-Route
// reading the caller's first INVITE, and the first 18x and 2xx on the caller's
// own hop (the first hop), and then cross-checked against tshark in code
// (per Call-ID final status and message count) where tshark decodes the same
// messages (see tests/trace/capture_test.cpp for where it does not).
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include "analyze/analyzer.hpp"
#include "shared_data.hpp"

namespace imsflow::analyze {
namespace {

std::set<std::string> codes(const CallAnalysis& c) {
  std::set<std::string> s;
  for (const Diagnosis& d : c.diagnoses) s.insert(std::string(diagnosis_name(d.code)));
  return s;
}

CaptureAnalysis analyze_public(const char* file) {
  auto r = analyze_capture((test::shared_dir() / "traces/public" / file).string());
  EXPECT_TRUE(r) << file;
  return r ? std::move(*r) : CaptureAnalysis{};
}

struct Expected {
  const char* file;
  const char* call_id;
  Outcome outcome;
  int final_status;
  std::set<std::string> diagnoses;
  double setup_ms;  // < 0: none
  double pdd_ms;    // < 0: none
  std::size_t dialogs;
  const char* note;
};

const Expected kExpected[] = {
    // Preconditions with UPDATE, IPsec both sides (null-ESP): INVITE frame 18 at
    // 1587118716.489961605, 183 (frame 129) at .730462538, 200 (frame 607) at 720.822681558.
    {"open5gs_ipsec_to_ipsec_call.pcapng", "TF0lR-e_t0o7Jp-w5kq58A..@192.168.101.3", Outcome::Established, 200, {},
     4332.719953, 240.500933, 1, "preconditions met by the UPDATE exchange before 180"},
    // Forked by the S-CSCF: .8 answers 180/200, .7 gets the INVITE 3 times and then CANCEL/487.
    {"open5gs_ipsec_to_nonipsec_call.pcapng", "UeE-Kc-iNlv7QvhZbppI2Q..@192.168.101.6", Outcome::Established, 200, {},
     2537.561854, 120.305452, 2, "two To-tags: 200 from .8, 487 from the CANCELled branch"},
    // IPv6 fragments: INVITE frame 2 at 0.000010, 183 to the caller frame 7 at 0.323079, 200 frame 28 at 4.604570.
    // The caller's PRACK carries Route <proxy>, <callee> where the reversed Record-Route of the 183 gives
    // <callee>, <proxy> (hand-written SIPp routes), and its RAck names CSeq 2 for an INVITE of CSeq 1.
    {"sngrep_ipv6frag.pcap", "71846-1647924829-397430@fd17:625c:f037:2:a00:27ff:feb9:1521", Outcome::Established,
     200, {"route_mismatch"}, 4604.560, 323.069, 2, ""},
    // INVITE over TCP inside GTP-U: frame 34 at 2.320539883, 200 to the UE (frame 113) at 4.881605779; no 18x.
    {"open5gs_volte.pcapng", "401181964_495972856@192.168.101.3", Outcome::Established, 200, {}, 2561.065896, -1, 1,
     ""},
    {"open5gs_nonipsec_to_ipsec_call.pcapng", "4128004109_45009256@192.168.101.2", Outcome::Established, 200, {},
     5169.321962, 366.054622, 1, "caller's INVITE over TCP in GTP-U"},
    // sngrep's failure cases: (a) INVITE, 100, CANCEL retransmitted, 408.
    {"sngrep_aaa.pcap", "105090259-446faf7a@192.168.1.2", Outcome::Cancelled, 408, {"no_progress"}, -1, -1, 1, ""},
    // (b) 407, INVITE with credentials 32.4 s later, 403.
    {"sngrep_aaa.pcap", "85216695-42dcdb1d@192.168.1.2", Outcome::Failed, 403, {"rejected"}, -1, -1, 1, ""},
    {"sngrep_aaa.pcap", "24487391-449bf2a0@192.168.1.2", Outcome::Failed, 403, {"rejected"}, -1, -1, 1, ""},
    // (d) 407, INVITE (frame 617 at 1120470983.863488), 183 (frame 620 at .289950 s), 480: the
    // post-dial delay counts from the INVITE with credentials, not from the challenged one.
    {"sngrep_aaa.pcap", "11894297-4432a9f8@192.168.1.2", Outcome::Failed, 480, {"rejected"}, -1, 426.462, 1, ""},
    {"heplify_sip_sctp.pcap", "717B2539AD2002C9152DC497@0870ffffffff", Outcome::Failed, 403, {"rejected"}, -1, -1,
     1, "SCTP"},
    // INVITE, 183, 200, BYE 32 s later: no ACK in the capture.
    {"sngrep_ipip.pcap", "1RLuVzzBClYCf2", Outcome::Failed, 200, {"ack_missing"}, 1659.56, 10.416, 1, ""},
    {"heplify_rtp_rtcp_sip_ipv4_udp.pcap", "12013223@200.57.7.195", Outcome::Established, 200, {}, 8477.925, 47.524,
     1, ""},
    // 100, 180 and the capture ends: no final answer, no stall either (progress came).
    {"heplify_rtp_rtcp_sip_ipv4_udp.pcap", "12015624@200.57.7.195", Outcome::Incomplete, 0, {}, -1, 26.799, 1, ""},
    // The TCP trunk: 486, 403, a CANCELled call and the INVITE that got nothing at all.
    {"heplify_sip_ipv4_tcp_fragmented.pcap", "80f232536592e8138b25b37b77600", Outcome::Failed, 403, {"rejected"},
     -1, -1, 1, ""},
    // INVITE frame 559 at 1531994021.882236, 180 at .912031, CANCEL 22 s later, 487.
    {"heplify_sip_ipv4_tcp_fragmented.pcap", "802220406592e81b8b15b37b77600", Outcome::Cancelled, 487, {}, -1, 29.795,
     1, "180 came, so not no_progress"},
    {"heplify_sip_ipv4_tcp_fragmented.pcap", "85b939c9-8f01-4f54-8042-a2338185f4cb", Outcome::Incomplete, 0,
     {"no_progress"}, -1, -1, 0, ""},
    // INVITE frame 1166 at 1531994079.705265, 183 at .897108, PRACK/200, then no final.
    {"heplify_sip_ipv4_tcp_fragmented.pcap", "80e81616592e819ab25b37b77600", Outcome::Incomplete, 0, {}, -1, 191.843,
     1, "183 PRACKed, then no final"},
};

class PublicCalls : public ::testing::TestWithParam<Expected> {};

TEST_P(PublicCalls, OutcomeDiagnosesAndKpis) {
  IMSFLOW_REQUIRE_SHARED("traces/public");
  const Expected& e = GetParam();
  const CaptureAnalysis a = analyze_public(e.file);
  const CallAnalysis* c = a.find(e.call_id);
  ASSERT_NE(c, nullptr) << e.call_id;
  EXPECT_EQ(c->outcome, e.outcome) << outcome_name(c->outcome) << " " << e.note;
  EXPECT_EQ(c->final_status, e.final_status);
  EXPECT_EQ(codes(*c), e.diagnoses) << (c->diagnoses.empty() ? "" : c->diagnoses[0].explanation);
  if (e.setup_ms < 0) {
    EXPECT_FALSE(c->setup_ms.has_value());
  } else {
    ASSERT_TRUE(c->setup_ms.has_value());
    EXPECT_NEAR(*c->setup_ms, e.setup_ms, 0.001);
  }
  if (e.pdd_ms < 0) {
    EXPECT_FALSE(c->pdd_ms.has_value());
  } else {
    ASSERT_TRUE(c->pdd_ms.has_value());
    EXPECT_NEAR(*c->pdd_ms, e.pdd_ms, 0.001);
  }
  EXPECT_EQ(c->dialogs.size(), e.dialogs);
  // Each Call-ID is reported once.
  std::size_t times = 0;
  for (const CallAnalysis& x : a.calls)
    for (const std::string& id : x.call_ids) times += id == e.call_id;
  EXPECT_EQ(times, 1u);
}

INSTANTIATE_TEST_SUITE_P(Analyze, PublicCalls, ::testing::ValuesIn(kExpected),
                         [](const ::testing::TestParamInfo<Expected>& i) {
                           std::string n = std::string(i.param.file) + "_" + std::to_string(i.index);
                           for (char& ch : n)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });

TEST(PublicCaptures, CallCountsPerFile) {
  IMSFLOW_REQUIRE_SHARED("traces/public");
  // INVITE Call-IDs per file. The TCP trunk has 37 INVITE requests plus 3
  // Call-IDs whose INVITE came before the capture started (486+ACK, 200+ACK+BYE,
  // CANCEL+487): they are calls too, with no setup time.
  const std::map<std::string, std::size_t> calls = {
      {"heplify_FAX-Call-t38-CA-TDM-SIP-FB-1.pcap", 2},
      {"heplify_erspan_sip_ipv4_udp.pcapng", 3},
      {"heplify_sip_ipv4_tcp.pcap", 1},
      {"heplify_sip_ipv4_tcp_fragmented.pcap", 40},
      {"heplify_sip_tcp_websocket.pcap", 2},
      {"open5gs_ipsec_reg.pcapng", 0},
      {"sngrep_aaa.pcap", 4},
  };
  for (const auto& [file, n] : calls) {
    const CaptureAnalysis a = analyze_public(file.c_str());
    EXPECT_EQ(a.calls.size(), n) << file;
  }
}

// --- cross-check against tshark ----------------------------------------------

struct TsharkCall {
  std::size_t messages = 0;
  std::set<int> invite_finals;
};

// Per Call-ID: SIP messages tshark shows and the final statuses of INVITE.
std::map<std::string, TsharkCall> tshark_calls(const std::string& path) {
  std::map<std::string, TsharkCall> out;
  const std::string cmd = "tshark -r '" + path +
                          "' -d tcp.port==6060,sip -Y sip -T fields -e sip.Call-ID -e sip.Status-Code "
                          "-e sip.CSeq.method -E occurrence=f 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char line[4096];
  while (std::fgets(line, sizeof line, p)) {
    std::istringstream in(line);
    std::string id, status, method;
    std::getline(in, id, '\t');
    std::getline(in, status, '\t');
    std::getline(in, method, '\n');
    if (id.empty()) continue;
    TsharkCall& c = out[id];
    ++c.messages;
    const int code = status.empty() ? 0 : std::atoi(status.c_str());
    if (code >= 200 && method == "INVITE") c.invite_finals.insert(code);
  }
  pclose(p);
  return out;
}

TEST(TsharkCrossCheck, FinalStatusAndMessageCountsPerCall) {
  IMSFLOW_REQUIRE_SHARED("traces/public");
  if (std::system("tshark --version >/dev/null 2>&1") != 0) GTEST_SKIP() << "tshark is not installed";
  // The files where tshark decodes exactly the messages the decoder does
  // (tests/trace/capture_test.cpp gives the reasons for the others).
  for (const char* file : {"heplify_FAX-Call-t38-CA-TDM-SIP-FB-1.pcap", "heplify_rtp_rtcp_sip_ipv4_udp.pcap",
                           "heplify_sip_ipv4_tcp.pcap", "heplify_sip_ipv4_tcp_fragmented.pcap",
                           "heplify_sip_sctp.pcap", "heplify_sip_tcp_websocket.pcap", "sngrep_aaa.pcap",
                           "sngrep_ipip.pcap"}) {
    const std::string path = (test::shared_dir() / "traces/public" / file).string();
    const auto ts = tshark_calls(path);
    ASSERT_FALSE(ts.empty()) << file;
    const CaptureAnalysis a = analyze_public(file);
    for (const CallAnalysis& c : a.calls) {
      ASSERT_EQ(c.call_ids.size(), 1u) << file;
      auto it = ts.find(c.call_ids[0]);
      ASSERT_NE(it, ts.end()) << file << " " << c.call_ids[0];
      EXPECT_EQ(c.messages.size(), it->second.messages) << file << " " << c.call_ids[0];
      if (c.final_status != 0) {
        EXPECT_TRUE(it->second.invite_finals.count(c.final_status)) << file << " " << c.call_ids[0];
      } else {
        // No final at all, or only ones to re-INVITEs.
        EXPECT_TRUE(c.outcome == Outcome::Incomplete) << file << " " << c.call_ids[0];
      }
    }
  }
}

}  // namespace
}  // namespace imsflow::analyze
