// `imsflow demo --pcap F` read back by the analyzer gives the ladder the demo
// printed: the same nodes, the same messages in the same order, the INVITE
// on its four hops (UE-A → P-CSCF → S-CSCF → P-CSCF → UE-B), and for each
// seed troubleshooting row the diagnosis the demo provoked. The demo runs
// over real loopback sockets with ephemeral ports; its INVITE is over 1300
// bytes, so even the UDP run sends it over TCP (RFC 3261 §18.1.1) and the
// capture has to be reassembled from TCP segments.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "analyze/analyzer.hpp"
#include "cli/demo.hpp"

namespace imsflow::analyze {
namespace {

struct DemoCapture {
  int status = 0;
  nlohmann::json demo;  // the demo's --json output
  CaptureAnalysis analysis;
};

DemoCapture run_demo_capture(const std::string& scenario, const std::string& transport) {
  const std::filesystem::path file =
      std::filesystem::temp_directory_path() / ("imsflow_demo_capture_" + scenario + "_" + transport + ".pcap");
  cli::DemoOptions o;
  o.scenario = scenario;
  o.transport = transport;
  o.pcap = file.string();
  o.json = true;
  std::ostringstream out, err;
  DemoCapture r;
  r.status = cli::run_demo(o, out, err);
  EXPECT_EQ(r.status, 0) << err.str();
  r.demo = nlohmann::json::parse(out.str());
  auto analysis = analyze_capture(file.string());
  EXPECT_TRUE(analysis) << (analysis ? "" : analysis.error().describe());
  if (analysis) r.analysis = std::move(*analysis);
  std::filesystem::remove(file);
  return r;
}

bool is_registration(const std::string& label) {
  return label == "REGISTER" || label.find("(REGISTER)") != std::string::npos;
}

// "UE-A 127.0.0.1:39908" → "127.0.0.1:39908"
std::string address_of(const std::string& node) { return node.substr(node.rfind(' ') + 1); }

class DemoCaptureTransport : public ::testing::TestWithParam<const char*> {};

TEST_P(DemoCaptureTransport, ReadBackGivesTheLadderTheDemoPrinted) {
  const DemoCapture r = run_demo_capture("volte", GetParam());
  ASSERT_EQ(r.status, 0);
  const CaptureAnalysis& a = r.analysis;
  EXPECT_EQ(a.skipped.total(), 0u);
  EXPECT_EQ(a.totals.non_invite.at("REGISTER"), 2u);  // each UE's registration, its own Call-ID
  ASSERT_EQ(a.calls.size(), 1u);
  const CallAnalysis& call = a.calls.front();
  EXPECT_EQ(call.outcome, Outcome::Established);
  EXPECT_EQ(call.final_status, 200);
  EXPECT_TRUE(call.diagnoses.empty()) << call.diagnoses.front().explanation;

  // The demo's five nodes are the analyzer's, TCP connections from
  // ephemeral ports included, with their roles on the INVITE's path.
  std::vector<std::string> demo_nodes;
  for (const auto& n : r.demo["nodes"]) demo_nodes.push_back(n["address"].get<std::string>());
  EXPECT_EQ(call.nodes, demo_nodes);
  EXPECT_EQ(call.node_roles, (std::vector<std::string>{"caller", "proxy", "proxy", "proxy", "callee"}));

  // The same messages in the same order, between the same addresses.
  std::vector<std::string> demo_labels, demo_hops;
  for (const auto& m : r.demo["messages"]) {
    const std::string label = m["label"].get<std::string>();
    if (is_registration(label)) continue;
    demo_labels.push_back(label);
    demo_hops.push_back(address_of(m["from"].get<std::string>()) + " > " + address_of(m["to"].get<std::string>()));
  }
  std::vector<std::string> labels, hops;
  for (const CapturedMessage& m : call.messages) {
    labels.push_back(m.label);
    hops.push_back(call.nodes[m.src] + " > " + call.nodes[m.dst]);
  }
  EXPECT_EQ(labels, demo_labels);
  EXPECT_EQ(hops, demo_hops);

  // The INVITE on its four hops: the original, then three copies each
  // later than the one before.
  std::vector<const CapturedMessage*> invites;
  for (const CapturedMessage& m : call.messages)
    if (m.request && m.method == "INVITE") invites.push_back(&m);
  ASSERT_EQ(invites.size(), 4u);
  EXPECT_EQ(invites[0]->kind, CopyKind::Original);
  EXPECT_EQ(invites[0]->transport, "TCP");  // over 1300 bytes: TCP even in the UDP run
  std::int64_t previous_delay = 0;
  for (std::size_t i = 1; i < invites.size(); ++i) {
    EXPECT_EQ(invites[i]->kind, CopyKind::Copy);
    EXPECT_GT(invites[i]->hop_delay_ns, previous_delay);
    previous_delay = invites[i]->hop_delay_ns;
    EXPECT_EQ(invites[i]->src, invites[i - 1]->dst);
  }
}

INSTANTIATE_TEST_SUITE_P(Demo, DemoCaptureTransport, ::testing::Values("udp", "tcp"));

struct Row {
  const char* scenario;
  Outcome outcome;
  std::vector<DiagnosisCode> diagnoses;
  int final_status;
};

class DemoCaptureRows : public ::testing::TestWithParam<Row> {};

// Each seed troubleshooting row the demo provokes is found in its capture.
TEST_P(DemoCaptureRows, TheProvokedFailureIsDiagnosed) {
  const Row row = GetParam();
  const DemoCapture r = run_demo_capture(row.scenario, "udp");
  ASSERT_EQ(r.analysis.calls.size(), 1u);
  const CallAnalysis& call = r.analysis.calls.front();
  EXPECT_EQ(call.outcome, row.outcome);
  EXPECT_EQ(call.final_status, row.final_status);
  std::vector<DiagnosisCode> codes;
  for (const Diagnosis& d : call.diagnoses) codes.push_back(d.code);
  EXPECT_EQ(codes, row.diagnoses);
  for (const Diagnosis& d : call.diagnoses)
    if (d.code == DiagnosisCode::Rejected) {
      EXPECT_EQ(d.status, row.final_status);
    }
}

using D = DiagnosisCode;
INSTANTIATE_TEST_SUITE_P(
    Seed, DemoCaptureRows,
    ::testing::Values(Row{"no-prack", Outcome::Failed, {D::PrackMissing, D::Rejected}, 504},
                      Row{"no-ack", Outcome::Failed, {D::AckMissing}, 200},
                      Row{"no-progress", Outcome::Cancelled, {D::NoProgress}, 487},
                      Row{"codec-mismatch", Outcome::Failed, {D::Rejected}, 488},
                      Row{"unregistered-callee", Outcome::Failed, {D::Rejected}, 480}),
    [](const auto& info) {
      std::string n = info.param.scenario;
      for (char& c : n)
        if (c == '-') c = '_';
      return n;
    });

// The S-CSCF forks to two registered devices: one answers, the other's
// early INVITE is CANCELled and answered 487 on its own To-tag.
TEST(DemoCapture, ForkedCallIsEstablishedWithTheOtherForkCancelled) {
  const DemoCapture r = run_demo_capture("forked", "udp");
  ASSERT_EQ(r.analysis.calls.size(), 1u);
  const CallAnalysis& call = r.analysis.calls.front();
  EXPECT_EQ(call.outcome, Outcome::Established);
  EXPECT_TRUE(call.diagnoses.empty());
  ASSERT_EQ(call.dialogs.size(), 2u);
  EXPECT_EQ(call.dialogs[0].final_status, 200);
  EXPECT_TRUE(call.dialogs[0].acked);
  EXPECT_EQ(call.dialogs[1].final_status, 487);
  EXPECT_NE(call.dialogs[0].to_tag, call.dialogs[1].to_tag);
  std::size_t cancels = 0;
  for (const CapturedMessage& m : call.messages)
    if (m.request && m.method == "CANCEL") ++cancels;
  EXPECT_GE(cancels, 1u);
  // Both devices are callees of the INVITE.
  std::size_t callees = 0;
  for (const std::string& role : call.node_roles) callees += role == "callee";
  EXPECT_EQ(callees, 2u);
}

}  // namespace
}  // namespace imsflow::analyze
