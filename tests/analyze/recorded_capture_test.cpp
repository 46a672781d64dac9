// Issue 6 acceptance: captures the project records itself, read back by the
// analyzer. For every seed troubleshooting row a handful of calls is
// provoked on 127.0.0.1 between real processes, directly and through
// `imsflow core --next-hop` (a record-routing stateful proxy):
//   caller `imsflow load --inject …` or SIPp (tests/interop/sipp/uac_*.xml),
//   callee `imsflow ue --answer` failing the call on purpose,
// each writing what it sent and received with --pcap. The outcome, final
// status and diagnoses of every call are known by construction, so each
// capture (the caller's, the callee's, and the proxy's, which holds both
// hops) must give exactly those, for exactly the calls placed.
// Bounded: ephemeral ports, 3 calls a row, 64·T1 shortened to 3.2 s with
// `ue --t1 50`, every child with a --duration / -timeout and killed by the
// test if it is still there. SIPp (Debian sip-tester) missing: those tests skip.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "analyze/analyzer.hpp"
#include "cli/child_process.hpp"
#include "net/recording_node.hpp"
#include "trace/capture_reader.hpp"

namespace imsflow::analyze {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using cli::Child;

constexpr int kCalls = 3;
// A bound for every child: far above a row's few seconds, far below ctest's limit.
constexpr const char* kChildSeconds = "40";

// What a row provokes, for every call.
struct Provoked {
  Outcome outcome;
  int final_status;
  std::vector<DiagnosisCode> diagnoses;
  const char* words = "";  // what the diagnoses' explanation or likely cause must say
};

// A row with `imsflow load` as the caller.
struct LoadRow {
  const char* name;
  std::vector<std::string> callee;  // `imsflow ue --answer` options that fail the call
  std::vector<std::string> caller;  // `imsflow load` options (the injection)
  int load_exit;                    // 0: every call ended as injected; 1: calls failed (no injection)
  Provoked expected;
  // What the captures before the proxy see, when the proxy answers the
  // caller otherwise (a 503 relayed as 500, RFC 3261 §16.7 step 6).
  std::optional<Provoked> upstream_of_proxy = std::nullopt;
};

// A row with SIPp as the caller.
struct SippRow {
  const char* name;
  const char* scenario;  // in tests/interop/sipp/
  std::vector<std::string> callee;
  Provoked expected;
};

enum class Path { Direct, ThroughProxy };

std::string path_name(Path p) { return p == Path::Direct ? "direct" : "through_proxy"; }

// What ctest shows of a parameter: its name, not its bytes.
void PrintTo(Path p, std::ostream* os) { *os << path_name(p); }
void PrintTo(const LoadRow& r, std::ostream* os) { *os << r.name; }
void PrintTo(const SippRow& r, std::ostream* os) { *os << r.name; }

std::string sipp_program() {
  for (const char* dir : {"/usr/bin", "/usr/local/bin"}) {
    const fs::path p = fs::path(dir) / "sipp";
    if (::access(p.c_str(), X_OK) == 0) return p.string();
  }
  return {};
}

// A UDP port on 127.0.0.1 the kernel calls free now (for SIPp's RTP echo
// socket, which it would otherwise put on 6000 whatever else runs).
std::uint16_t free_udp_port() {
  std::uint16_t port = 0;
  if (const int fd = cli::loopback_udp_socket(port); fd >= 0) ::close(fd);
  return port;
}

std::vector<std::string> joined(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// The callee, and the proxy in front of it, as processes; their captures in
// a scratch directory that goes with the test.
class RecordedCalls {
 public:
  explicit RecordedCalls(const std::string& test) {
    dir_ = fs::temp_directory_path() / ("imsflow-recorded-" + std::to_string(::getpid()) + "-" + test);
    fs::create_directories(dir_);
  }
  ~RecordedCalls() {
    proxy_.reset();
    callee_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string file(const std::string& name) const { return (dir_ / name).string(); }

  // Starts `imsflow ue --answer`, and through a proxy `imsflow core
  // --next-hop` pointing at it; returns where the caller sends its INVITEs
  // ("" on failure).
  std::string start(const std::vector<std::string>& callee_options, Path path) {
    callee_ = std::make_unique<Child>(joined({IMSFLOW_BINARY, "ue", "--listen", "127.0.0.1:0", "--answer", "--pcap",
                                              file("callee.pcap"), "--duration", kChildSeconds},
                                             callee_options));
    const std::string callee = cli::wait_for(*callee_, R"(answering on (127\.0\.0\.1:\d+))");
    if (callee.empty()) {
      ADD_FAILURE() << "imsflow ue did not start: " << callee_->output();
      return {};
    }
    if (path == Path::Direct) return callee;
    proxy_ = std::make_unique<Child>(std::vector<std::string>{IMSFLOW_BINARY, "core", "--listen", "127.0.0.1:0",
                                                              "--next-hop", callee, "--pcap", file("proxy.pcap"),
                                                              "--duration", kChildSeconds});
    const std::string pcscf = cli::wait_for(*proxy_, R"(P-CSCF on (127\.0\.0\.1:\d+))");
    if (pcscf.empty()) ADD_FAILURE() << "imsflow core did not start: " << proxy_->output();
    return pcscf;
  }

  // SIGTERM: each writes its capture as it exits (the proxy first, so the
  // callee still answers anything it relays last).
  void stop() {
    // The caller's last message (ACK, 200 to BYE) may still be crossing the proxy.
    std::this_thread::sleep_for(200ms);
    if (proxy_) {
      EXPECT_EQ(proxy_->stop(SIGTERM), 0) << proxy_->output();
    }
    EXPECT_EQ(callee_->stop(SIGTERM), 0) << callee_->output();
  }

  // The captures the run wrote, by who recorded them.
  std::vector<std::pair<std::string, std::string>> captures(bool with_caller) const {
    std::vector<std::pair<std::string, std::string>> out;
    if (with_caller) out.emplace_back("caller (imsflow load --pcap)", file("caller.pcap"));
    if (proxy_) out.emplace_back("proxy, both hops (imsflow core --pcap)", file("proxy.pcap"));
    out.emplace_back("callee (imsflow ue --pcap)", file("callee.pcap"));
    return out;
  }

 private:
  fs::path dir_;
  std::unique_ptr<Child> callee_, proxy_;
};

std::vector<DiagnosisCode> codes_of(const CallAnalysis& c) {
  std::vector<DiagnosisCode> codes;
  for (const Diagnosis& d : c.diagnoses) codes.push_back(d.code);
  return codes;
}

std::string names_of(const std::vector<DiagnosisCode>& codes) {
  std::string s;
  for (DiagnosisCode c : codes) s += (s.empty() ? "" : ", ") + std::string(diagnosis_name(c));
  return "[" + s + "]";
}

// Through the proxy the call is one call on two hops: the INVITE first on
// caller → proxy, then its copy on proxy → callee, a little later.
void expect_one_call_on_two_hops(const CallAnalysis& c) {
  EXPECT_EQ(c.node_roles, (std::vector<std::string>{"caller", "proxy", "callee"}));
  EXPECT_EQ(c.call_ids.size(), 1u);
  std::vector<const CapturedMessage*> invites;
  for (const CapturedMessage& m : c.messages)
    if (m.request && m.method == "INVITE" && m.kind != CopyKind::Retransmission) invites.push_back(&m);
  ASSERT_EQ(invites.size(), 2u) << "the INVITE once per hop";
  EXPECT_EQ(invites[0]->kind, CopyKind::Original);
  EXPECT_EQ(invites[1]->kind, CopyKind::Copy);
  EXPECT_EQ(invites[1]->src, invites[0]->dst) << "the proxy relays what it received";
  EXPECT_GT(invites[1]->hop_delay_ns, 0) << "the proxy's copy is later than the original";
  EXPECT_GT(c.copies, 0u);
}

// Every call of the capture is one of those placed, ended as provoked.
// Returns their Call-IDs.
std::set<std::string> expect_as_provoked(const std::string& where, const std::string& pcap, const Provoked& expected,
                                         bool two_hops) {
  SCOPED_TRACE(where);
  std::set<std::string> ids;
  auto analysis = analyze_capture(pcap);
  if (!analysis) {
    ADD_FAILURE() << pcap << ": " << analysis.error().describe();
    return ids;
  }
  EXPECT_EQ(analysis->skipped.total(), 0u);
  EXPECT_TRUE(analysis->read_error.empty()) << analysis->read_error;
  EXPECT_EQ(analysis->calls.size(), static_cast<std::size_t>(kCalls)) << "one call per INVITE sent";
  EXPECT_TRUE(analysis->totals.non_invite.empty()) << "no message left outside its call";
  for (const CallAnalysis& c : analysis->calls) {
    SCOPED_TRACE("Call-ID " + (c.call_ids.empty() ? std::string("?") : c.call_ids.front()));
    ids.insert(c.call_ids.front());
    EXPECT_EQ(outcome_name(c.outcome), outcome_name(expected.outcome));
    EXPECT_EQ(c.final_status, expected.final_status);
    EXPECT_EQ(names_of(codes_of(c)), names_of(expected.diagnoses));
    EXPECT_FALSE(c.ended_by_timeout);
    std::string said;
    for (const Diagnosis& d : c.diagnoses) {
      if (d.code == DiagnosisCode::Rejected) {
        EXPECT_EQ(d.status, expected.final_status);
      }
      said += d.explanation + " | " + d.likely_cause + " | ";
    }
    EXPECT_NE(said.find(expected.words), std::string::npos) << said;
    if (two_hops) expect_one_call_on_two_hops(c);
  }
  return ids;
}

// --- the recorder all of them write with --------------------------------------------------

std::string options_request(const char* branch) {
  return std::string("OPTIONS sip:ue@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=") + branch +
         "\r\nMax-Forwards: 70\r\nFrom: <sip:ue@127.0.0.1>;tag=1\r\nTo: <sip:ue@127.0.0.1>\r\n"
         "Call-ID: recorded-1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
}

// write_recorded_pcap: a message between two nodes recorded by one process
// (the core's P-CSCF to its S-CSCF) is one frame on the wire, so it is
// written once, at its send, with the addresses its receiver saw (over TCP
// the connection's port); the rest as recorded, in time order across the
// per-thread records.
TEST(RecordedPcap, AMessageBetweenTwoRecordedNodesIsWrittenOnce) {
  auto at = [](std::uint16_t port) { return sip::Endpoint{sip::Transport::Udp, sip::IpAddress::loopback_v4(), port}; };
  const sip::Endpoint ue = at(5070), pcscf = at(5060), scscf = at(5061);
  const std::string from_ue = options_request("z9hG4bK-ue"), relayed = options_request("z9hG4bK-pcscf");
  const TimePoint t0 = Clock::now() - 1s;
  std::vector<std::vector<net::ObservedMessage>> recorded(2);
  recorded[0].push_back({t0, 0, false, ue, pcscf, from_ue});
  recorded[0].push_back({t0 + 1ms, 0, true, pcscf, scscf, relayed});
  recorded[1].push_back({t0 + 2ms, 1, false, at(40000), scscf, relayed});  // the same frame, at the S-CSCF
  recorded[1].push_back({t0 + 3ms, 1, true, scscf, ue, from_ue});      // same bytes as a receive, but sent: kept
  const fs::path file = fs::temp_directory_path() / ("imsflow-recorded-" + std::to_string(::getpid()) + ".pcap");
  ASSERT_TRUE(net::write_recorded_pcap(file, recorded));

  std::vector<std::string> frames;
  trace::Decoder decoder([&](const trace::SipPacket& p) {
    const std::size_t branch = p.bytes.find("branch=") + 7;
    frames.push_back(std::to_string(p.source_port) + ">" + std::to_string(p.destination_port) + " " +
                     std::string(p.bytes.substr(branch, p.bytes.find("\r\n", branch) - branch)));
  });
  ASSERT_TRUE(trace::read_capture(file.string(), decoder));
  fs::remove(file);
  EXPECT_EQ(frames, (std::vector<std::string>{"5070>5060 z9hG4bK-ue", "40000>5061 z9hG4bK-pcscf",
                                              "5061>5070 z9hG4bK-ue"}));
}

// --- imsflow load as the caller --------------------------------------------------------

class LoadRecorded : public ::testing::TestWithParam<std::tuple<LoadRow, Path>> {};

TEST_P(LoadRecorded, EveryCaptureGivesEachCallItsProvokedOutcome) {
  const auto& [row, path] = GetParam();
  RecordedCalls run(std::string(row.name) + "-" + path_name(path));
  const std::string target = run.start(row.callee, path);
  ASSERT_FALSE(target.empty());
  // 3 calls at 10/s: they overlap, so the row lasts about one call.
  Child caller(joined({IMSFLOW_BINARY, "load", "--target", target, "--calls", std::to_string(kCalls), "--rate", "10",
                       "--threads", "1", "--hold", "100", "--no-progress", "--pcap", run.file("caller.pcap")},
                      row.caller));
  EXPECT_EQ(caller.wait(30000ms), row.load_exit) << caller.output();
  EXPECT_NE(caller.output().find(std::to_string(kCalls) + " attempted"), std::string::npos) << caller.output();
  run.stop();

  // The same calls at every capture point, each ended as provoked.
  std::vector<std::set<std::string>> seen;
  for (const auto& [where, pcap] : run.captures(true)) {
    const bool upstream = path == Path::ThroughProxy && !where.starts_with("callee");
    const Provoked& expected = upstream && row.upstream_of_proxy ? *row.upstream_of_proxy : row.expected;
    seen.push_back(expect_as_provoked(where, pcap, expected, where.starts_with("proxy")));
  }
  for (const auto& ids : seen) EXPECT_EQ(ids, seen.front());
}

using D = DiagnosisCode;
const LoadRow kLoadRows[] = {
    // The callee never answers (100 Trying only); the caller gives up with CANCEL.
    {"no_progress_cancel", {"--no-answer"}, {"--inject", "cancel-after:0.5"}, 0,
     {Outcome::Cancelled, 487, {D::NoProgress}, "got only 100 Trying"}},
    // Reliable 183, never PRACKed: our UAS gives up with 504 at 64·T1.
    {"reliable_183_no_prack", {"--t1", "50"}, {"--inject", "no-prack"}, 0,
     {Outcome::Failed, 504, {D::PrackMissing, D::Rejected}, "was never PRACKed"}},
    // 200 never ACKed: our UAS retransmits it, then sends BYE at 64·T1. The
    // plain ladder (no 100rel), because with T1 = 50 ms a reliable 183
    // PRACKed a little late under load would add a prack_late of its own.
    {"ok_without_ack_bye", {"--t1", "50", "--profile", "plain"}, {"--inject", "no-ack", "--profile", "plain"}, 0,
     {Outcome::Failed, 200, {D::AckMissing}, "got no ACK; BYE"}},
    // A real codec mismatch: the callee takes only PCMU, the offer has AMR-WB, AMR.
    {"codec_mismatch_488", {"--codecs", "PCMU"}, {}, 1,
     {Outcome::Failed, 488, {D::Rejected}, "codec or media mismatch"}},
    // Overload: 503 with Retry-After (the caller backs off 1 s between calls).
    {"unavailable_503", {"--respond", "503", "--retry-after", "1"}, {}, 1,
     {Outcome::Failed, 503, {D::Rejected}, "Retry-After: 1"},
     Provoked{Outcome::Failed, 500, {D::Rejected}, "overload or server failure in the IMS path"}},
};

std::string param_name(const char* row, Path path) { return std::string(row) + "_" + path_name(path); }

INSTANTIATE_TEST_SUITE_P(SeedRows, LoadRecorded,
                         ::testing::Combine(::testing::ValuesIn(kLoadRows),
                                            ::testing::Values(Path::Direct, Path::ThroughProxy)),
                         [](const auto& info) {
                           return param_name(std::get<0>(info.param).name, std::get<1>(info.param));
                         });

// --- SIPp as the caller ----------------------------------------------------------------

class SippRecorded : public ::testing::TestWithParam<std::tuple<SippRow, Path>> {
 protected:
  void SetUp() override {
    sipp_ = sipp_program();
    if (sipp_.empty())
      GTEST_SKIP() << "SIPp is not installed (Debian package sip-tester; scripts/install-deps.sh installs it): "
                      "the SIPp-recorded rows are not checked";
  }
  std::string sipp_;
};

TEST_P(SippRecorded, EveryCaptureGivesEachCallItsProvokedOutcome) {
  const auto& [row, path] = GetParam();
  RecordedCalls run(std::string("sipp-") + row.name + "-" + path_name(path));
  const std::string target = run.start(row.callee, path);
  ASSERT_FALSE(target.empty());
  // SIPp picks its own free SIP port; -timeout_error makes a stuck call a failure.
  Child caller({sipp_, "-sf", std::string(IMSFLOW_SOURCE_DIR) + "/tests/interop/sipp/" + row.scenario, target, "-i",
                "127.0.0.1", "-mp", std::to_string(free_udp_port()), "-m", std::to_string(kCalls), "-r", "10",
                "-nostdin", "-timeout", "20s", "-timeout_error"});
  EXPECT_EQ(caller.wait(30000ms), 0) << "SIPp: every call as its scenario says\n" << caller.output();
  run.stop();

  std::vector<std::set<std::string>> seen;
  for (const auto& [where, pcap] : run.captures(false))
    seen.push_back(expect_as_provoked(where, pcap, row.expected, where.starts_with("proxy")));
  for (const auto& ids : seen) EXPECT_EQ(ids, seen.front());
}

const SippRow kSippRows[] = {
    {"reliable_183_no_prack", "uac_no_prack.xml", {"--t1", "50"},
     {Outcome::Failed, 504, {D::PrackMissing, D::Rejected}, "was never PRACKed"}},
    {"no_progress_cancel", "uac_cancel_no_progress.xml", {"--no-answer"},
     {Outcome::Cancelled, 487, {D::NoProgress}, "got only 100 Trying"}},
};

INSTANTIATE_TEST_SUITE_P(SeedRows, SippRecorded,
                         ::testing::Combine(::testing::ValuesIn(kSippRows),
                                            ::testing::Values(Path::Direct, Path::ThroughProxy)),
                         [](const auto& info) {
                           return param_name(std::get<0>(info.param).name, std::get<1>(info.param));
                         });

}  // namespace
}  // namespace imsflow::analyze
