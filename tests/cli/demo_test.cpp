// `imsflow demo`: a registered call across UE-A, P-CSCF, S-CSCF, P-CSCF,
// UE-B over real loopback sockets, and each seed troubleshooting row.
#include "cli/demo.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "trace/capture_reader.hpp"
#include "trace/packet_decoder.hpp"

namespace imsflow::cli {
namespace {

struct DemoRun {
  int status;
  std::string out;
  std::string err;
};

DemoRun demo(DemoOptions o) {
  std::ostringstream out, err;
  const int status = run_demo(o, out, err);
  return {status, out.str(), err.str()};
}

DemoOptions scenario(std::string name) {
  DemoOptions o;
  o.scenario = std::move(name);
  return o;
}

bool has(const std::string& text, std::string_view what) { return text.find(what) != std::string::npos; }

TEST(DemoCommand, RegistersBothUesAndEstablishesTheVolteCall) {
  const DemoRun r = demo(DemoOptions{});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_TRUE(has(r.out, "sip:alice@ims.example    registered (1 AKA challenge)")) << r.out;
  EXPECT_TRUE(has(r.out, "sip:bob@ims.example      registered (1 AKA challenge)")) << r.out;
  EXPECT_TRUE(has(r.out, "result: established (dialog confirmed by ACK)")) << r.out;
  // The five columns and the seed's ladder, relayed by every hop.
  for (const char* column : {"UE-A", "P-CSCF", "S-CSCF", "UE-B"}) EXPECT_TRUE(has(r.out, column));
  for (const char* label : {"INVITE +SDP", "183 RSeq=", "PRACK RAck=", "UPDATE +SDP", "180 RSeq=", "200 INVITE", "ACK",
                            "BYE", "200 BYE"})
    EXPECT_TRUE(has(r.out, label)) << label;
  for (const char* phase : {"session request", "provisional handling", "reliability handling", "final confirmation"})
    EXPECT_TRUE(has(r.out, phase)) << phase;
}

TEST(DemoCommand, OverTcpToo) {
  DemoOptions o;
  o.transport = "tcp";
  const DemoRun r = demo(o);
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_TRUE(has(r.out, "result: established")) << r.out;
}

TEST(DemoCommand, JsonNamesEveryMessageAndThePhases) {
  DemoOptions o;
  o.json = true;
  const DemoRun r = demo(o);
  ASSERT_EQ(r.status, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["outcome"], "established");
  EXPECT_EQ(j["nodes"].size(), 5u);
  EXPECT_EQ(j["registrations"].size(), 2u);
  // Each INVITE hop: UE-A→P-CSCF→S-CSCF→P-CSCF→UE-B, all received.
  std::size_t invites = 0;
  for (const auto& m : j["messages"]) {
    EXPECT_TRUE(m["received"].get<bool>()) << m.dump();
    if (m["label"].get<std::string>().rfind("INVITE", 0) == 0) ++invites;
  }
  EXPECT_EQ(invites, 4u);
  EXPECT_TRUE(j["phases_ms"]["ack"].is_number());
  EXPECT_LE(j["phases_ms"]["post_dial_delay"].get<double>(), j["phases_ms"]["final_response"].get<double>());
}

struct Row {
  const char* scenario;
  const char* words;  // the cause found, in the seed's terms
};

class DemoRows : public ::testing::TestWithParam<Row> {};

TEST_P(DemoRows, ReproducesTheRowAndNamesTheCause) {
  const Row row = GetParam();
  const DemoRun r = demo(scenario(row.scenario));
  EXPECT_EQ(r.status, 0) << "the provoked outcome is the expected one\n" << r.out << r.err;
  EXPECT_TRUE(has(r.out, row.words)) << r.out;
}

INSTANTIATE_TEST_SUITE_P(
    Seed, DemoRows,
    ::testing::Values(Row{"no-progress", "no useful progress after INVITE"},
                      Row{"no-prack", "reliable provisional never PRACKed (PRACK missing)"},
                      Row{"no-ack", "200 OK without ACK"},
                      Row{"codec-mismatch", "488 Not Acceptable Here: codec or media mismatch"},
                      Row{"unregistered-callee", "480"},
                      Row{"forked", "result: established"},
                      Row{"100rel", "result: established"}),
    [](const auto& info) {
      std::string n = info.param.scenario;
      for (char& c : n)
        if (c == '-') c = '_';
      return n;
    });

TEST(DemoCommand, PcapHoldsEveryMessageOfTheLadder) {
  const std::filesystem::path file = std::filesystem::temp_directory_path() / "imsflow_demo_test.pcap";
  DemoOptions o;
  o.pcap = file.string();
  o.json = true;
  const DemoRun r = demo(o);
  ASSERT_EQ(r.status, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  std::size_t decoded = 0;
  trace::Decoder decoder([&](const trace::SipPacket&) { ++decoded; });
  auto summary = trace::read_capture(file.string(), decoder);
  ASSERT_TRUE(summary);
  EXPECT_EQ(decoded, j["messages"].size());
  EXPECT_EQ(decoder.skipped().total(), 0u);
  std::filesystem::remove(file);
}

TEST(DemoCommand, UnknownScenarioIsAUsageError) {
  const DemoRun r = demo(scenario("nope"));
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(has(r.err, "unknown scenario 'nope'"));
  EXPECT_TRUE(has(r.err, "no-prack"));
}

}  // namespace
}  // namespace imsflow::cli
