// Whole captures through libpcap: the 18 public captures in
// ../shared/traces/public (skipped when absent), a capture written by
// `imsflow sim --pcap`, and broken files.
//
// Expected counts per capture were worked out with this decoder and checked
// frame by frame against
//   tshark -r F -d tcp.port==6060,sip -o esp.enable_null_encryption_decode_heuristic:TRUE
//          -Y sip -T fields -e frame.number -e sip.Method -e sip.Status-Code
// (tshark 4.0.17). Where they differ, the `why` column of the table says why.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <sys/wait.h>

#include "shared_data.hpp"
#include "trace/capture_reader.hpp"

namespace imsflow::trace {
namespace {

struct Tally {
  std::uint64_t messages = 0;
  std::map<std::string, int> by_kind;  // method, or status code as text
  std::map<std::string, int> by_transport;
  std::uint64_t tcp_reassembled = 0;
  std::uint64_t from_fragments = 0;
  std::uint64_t from_esp = 0;
};

Decoder::Sink tally_into(Tally& t) {
  return [&t](const SipPacket& p) {
    ++t.messages;
    const sip::Message& m = *p.message;
    ++t.by_kind[m.is_request() ? std::string(m.method_text()) : std::to_string(m.status_code())];
    ++t.by_transport[std::string(transport_name(p.transport))];
    if (p.has(kFromTcpSegments)) ++t.tcp_reassembled;
    if (p.has(kFromIpFragments)) ++t.from_fragments;
    if (p.has(kFromEsp)) ++t.from_esp;
  };
}

std::string kinds(const std::map<std::string, int>& m) {
  std::string s;
  for (const auto& [k, v] : m) s += (s.empty() ? "" : " ") + k + "=" + std::to_string(v);
  return s;
}

struct PublicCapture {
  const char* file;
  std::uint64_t messages;
  const char* kinds;   // every method / status with its count, sorted
  std::uint64_t tshark;  // first-SIP-message-per-frame count from the tshark command above
  const char* why;     // where the two differ
};

const PublicCapture kCaptures[] = {
    {"heplify_FAX-Call-t38-CA-TDM-SIP-FB-1.pcap", 92, "100=16 180=4 200=24 488=4 ACK=16 BYE=4 INVITE=16 OPTIONS=8",
     92, ""},
    {"heplify_erspan_sip_ipv4_udp.pcapng", 134,
     "100=14 180=6 200=30 202=8 401=1 407=4 481=5 488=2 ACK=18 BYE=6 INVITE=16 NOTIFY=8 REFER=4 SUBSCRIBE=12", 140,
     "3 NOTIFY and 3 481 have control bytes inside the To header (corrupt upstream): sip::parse rejects them "
     "(HeaderValue), tshark shows them"},
    {"heplify_rtp_rtcp_sip_ipv4_udp.pcap", 14, "100=2 180=2 200=4 ACK=1 INVITE=2 REGISTER=3", 14, ""},
    {"heplify_sip_ipv4_tcp.pcap", 7, "100=1 180=1 200=2 ACK=1 BYE=1 INVITE=1", 7, ""},
    {"heplify_sip_ipv4_tcp_fragmented.pcap", 406,
     "100=36 180=33 182=2 183=6 200=142 403=1 486=1 487=2 ACK=37 BYE=34 CANCEL=2 INVITE=37 OPTIONS=5 PRACK=5 "
     "UPDATE=63",
     406, ""},
    {"heplify_sip_ipv4_tcp_retrans.pcap", 8, "200=2 401=2 REGISTER=4", 8, ""},
    {"heplify_sip_ipv6_udp.pcap", 0, "", 6,
     "every message writes IPv6 hosts without brackets (sip:4321@fec0:0:0:0:216:d3ff:fe0d:22c:5060), which "
     "RFC 3261 §25 does not allow: sip::parse rejects all 6 (RequestUri, HeaderValue)"},
    {"heplify_sip_sctp.pcap", 4, "100=1 403=1 ACK=1 INVITE=1", 4, ""},
    {"heplify_sip_tcp_websocket.pcap", 39, "100=4 180=2 183=8 200=9 407=1 ACK=5 BYE=4 INVITE=5 OPTIONS=1", 39, ""},
    {"open5gs_ipsec_reg.pcapng", 56, "100=8 200=19 401=5 NOTIFY=4 OPTIONS=6 REGISTER=10 SUBSCRIBE=4", 48,
     "+6: TCP segments inside GTP-U captured on a second tunnel hop (eNB-SGW, then SGW-UPF: same inner "
     "4-tuple, other outer addresses); tshark keys TCP on the inner 4-tuple and calls the second copy a "
     "retransmission, this decoder keeps one stream per hop. +2: a 200 in IP fragments inside GTP-U "
     "that tshark does not reassemble"},
    {"open5gs_ipsec_to_ipsec_call.pcapng", 107, "100=10 180=10 183=10 200=34 ACK=9 INVITE=10 OPTIONS=6 PRACK=9 UPDATE=9",
     101, "+6: second-hop copies of ESP/TCP segments (see open5gs_ipsec_reg)"},
    {"open5gs_ipsec_to_nonipsec_call.pcapng", 70, "100=11 180=10 200=17 487=1 ACK=10 CANCEL=1 INVITE=14 OPTIONS=6",
     62, "+8: second-hop copies of TCP segments inside GTP-U (see open5gs_ipsec_reg)"},
    {"open5gs_nonipsec_reg.pcapng", 50, "100=8 200=16 401=5 NOTIFY=4 OPTIONS=3 REGISTER=10 SUBSCRIBE=4", 50, ""},
    {"open5gs_nonipsec_to_ipsec_call.pcapng", 101, "100=10 180=10 183=10 200=31 ACK=9 INVITE=10 OPTIONS=12 PRACK=9",
     78, "+22: second-hop copies of TCP segments inside GTP-U; +1: an INVITE in IP fragments inside GTP-U"},
    {"open5gs_volte.pcapng", 48, "100=10 200=15 ACK=8 INVITE=9 OPTIONS=6", 41,
     "+6: second-hop copies of the UE's TCP inside GTP-U (INVITE, 100, 200, ACK); +1: a 200 (OPTIONS) in IP "
     "fragments inside GTP-U"},
    {"sngrep_aaa.pcap", 81,
     "100=7 183=1 200=3 401=14 403=3 407=3 408=2 480=1 ACK=7 CANCEL=11 INVITE=11 REGISTER=18", 81, ""},
    {"sngrep_ipip.pcap", 4, "183=1 200=1 BYE=1 INVITE=1", 4, ""},
    {"sngrep_ipv6frag.pcap", 31, "100=1 183=4 200=12 ACK=2 BYE=2 INVITE=2 PRACK=4 UPDATE=4", 32,
     "one 200 (UPDATE) has two Content-Type headers: sip::parse rejects it (DuplicateHeader)"},
};

class PublicCaptures : public ::testing::TestWithParam<PublicCapture> {};

TEST_P(PublicCaptures, MessageCountsPerMethodAndStatus) {
  IMSFLOW_REQUIRE_SHARED("traces/public");
  const PublicCapture& c = GetParam();
  Tally t;
  Decoder decoder(tally_into(t));
  auto r = read_capture((test::shared_dir() / "traces/public" / c.file).string(), decoder);
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->read_error, "");
  EXPECT_EQ(t.messages, c.messages) << c.why;
  EXPECT_EQ(kinds(t.by_kind), c.kinds);
  // Everything skipped is accounted for by a reason, nothing is left buffered.
  EXPECT_EQ(decoder.tcp_directions(), 0u);
  EXPECT_EQ(decoder.held_fragment_sets(), 0u);
  if (c.messages != c.tshark) {
    EXPECT_STRNE(c.why, "") << "a difference from tshark needs its reason";
  }
}

INSTANTIATE_TEST_SUITE_P(Trace, PublicCaptures, ::testing::ValuesIn(kCaptures),
                         [](const ::testing::TestParamInfo<PublicCapture>& info) {
                           std::string name = info.param.file;
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

Tally read_shared(const char* file, SkipCounters* skipped = nullptr) {
  Tally t;
  Decoder decoder(tally_into(t));
  auto r = read_capture((test::shared_dir() / "traces/public" / file).string(), decoder);
  EXPECT_TRUE(r);
  if (skipped) *skipped = decoder.skipped();
  return t;
}

TEST(TraceCaptures, Ipv6FragmentedInvitesAreReassembled) {
  IMSFLOW_REQUIRE_SHARED("traces/public");
  const Tally t = read_shared("sngrep_ipv6frag.pcap");
  EXPECT_EQ(t.by_kind.at("INVITE"), 2);
  EXPECT_EQ(t.from_fragments, 2u);  // exactly the two INVITEs
}

TEST(TraceCaptures, TcpTrunkTraceGives406Messages) {
  IMSFLOW_REQUIRE_SHARED("traces/public");
  SkipCounters skipped;
  const Tally t = read_shared("heplify_sip_ipv4_tcp_fragmented.pcap", &skipped);
  EXPECT_EQ(t.messages, 406u);
  EXPECT_GT(t.tcp_reassembled, 0u);
  EXPECT_EQ(skipped.count(SkipReason::TcpGap), 0u);
}

TEST(TraceCaptures, VolteInviteOverTcpInsideGtpu) {
  IMSFLOW_REQUIRE_SHARED("traces/public");
  std::vector<std::string> paths;
  Decoder decoder([&](const SipPacket& p) {
    if (p.message->is_request() && p.message->method_text() == "INVITE" && p.transport == Transport::Tcp) {
      paths.emplace_back(p.path);
    }
  });
  ASSERT_TRUE(read_capture((test::shared_dir() / "traces/public/open5gs_volte.pcapng").string(), decoder));
  ASSERT_FALSE(paths.empty());
  EXPECT_EQ(paths[0], "sll>ipv4>udp>gtpu>ipv4>tcp");
}

TEST(TraceCaptures, NullEspIsDecoded) {
  IMSFLOW_REQUIRE_SHARED("traces/public");
  const Tally t = read_shared("open5gs_ipsec_to_ipsec_call.pcapng");
  EXPECT_GT(t.from_esp, 0u);
}

TEST(TraceCaptures, WebSocketAndSctp) {
  IMSFLOW_REQUIRE_SHARED("traces/public");
  EXPECT_GT(read_shared("heplify_sip_tcp_websocket.pcap").by_transport["WS"], 0);
  EXPECT_EQ(read_shared("heplify_sip_sctp.pcap").by_transport["SCTP"], 4);
}

TEST(TraceCaptures, InMemoryReaderMatchesTheFileReader) {
  IMSFLOW_REQUIRE_SHARED("traces/public");
  for (const char* file : {"open5gs_volte.pcapng", "heplify_sip_ipv4_tcp.pcap"}) {
    const std::string bytes = test::read_file(test::shared_dir() / "traces/public" / file);
    Tally t;
    Decoder decoder(tally_into(t));
    ASSERT_TRUE(read_capture_bytes(bytes, decoder));
    EXPECT_EQ(kinds(t.by_kind), kinds(read_shared(file).by_kind)) << file;
  }
}

// --- broken files -------------------------------------------------------------

TEST(TraceCaptures, BadMagicAndMissingFileAreErrors) {
  Decoder decoder(nullptr);
  EXPECT_FALSE(read_capture_bytes(std::string(100, 'x'), decoder));
  EXPECT_FALSE(read_capture_bytes("", decoder));
  auto r = read_capture("/nonexistent/capture.pcap", decoder);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().describe().find("/nonexistent/capture.pcap"), std::string::npos);
}

TEST(TraceCaptures, TruncatedFileKeepsWhatCameBefore) {
  IMSFLOW_REQUIRE_SHARED("traces/public");
  const std::string whole = test::read_file(test::shared_dir() / "traces/public/heplify_sip_ipv4_tcp_fragmented.pcap");
  for (std::size_t cut : {whole.size() / 2 + 7, whole.size() - 3, std::size_t{30}}) {
    Tally t;
    Decoder decoder(tally_into(t));
    auto r = read_capture_bytes(std::string_view(whole).substr(0, cut), decoder);
    ASSERT_TRUE(r);
    EXPECT_NE(r->read_error, "") << cut;
    EXPECT_EQ(decoder.skipped().count(SkipReason::CaptureFileError), 1u);
    EXPECT_LE(t.messages, 406u);
    if (cut > whole.size() / 2) {
      EXPECT_GT(t.messages, 100u);
    }
  }
}

// --- the simulator's captures --------------------------------------------------

TEST(TraceCaptures, SimulatedCallsRoundTrip) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "imsflow_trace_test";
  std::filesystem::create_directories(dir);
  const std::filesystem::path pcap = dir / "sim.pcap";
  const std::filesystem::path json = dir / "sim.json";
  const std::string cmd = std::string(IMSFLOW_BINARY) + " sim --calls 20 --scenario preconditions --loss 0.1 --seed 3 --json --pcap " +
                          pcap.string() + " > " + json.string();
  // Exit status 1 is a call outcome other than the scenario's (the loss can do that), not a failure here.
  const int rc = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) <= 1) << cmd;
  // "sent": N in the JSON summary counts every datagram the simulator put on the wire.
  const std::string out = test::read_file(json);
  const auto at = out.find("\"sent\":");
  ASSERT_NE(at, std::string::npos) << out;
  const std::uint64_t sent = std::strtoull(out.c_str() + at + 7, nullptr, 10);
  ASSERT_GT(sent, 100u);

  Tally t;
  Decoder decoder(tally_into(t));
  auto r = read_capture(pcap.string(), decoder);
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->frames, sent);
  EXPECT_EQ(t.messages, sent);
  EXPECT_EQ(decoder.skipped().total(), 0u);
  EXPECT_GE(t.by_kind["INVITE"], 20);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace imsflow::trace
