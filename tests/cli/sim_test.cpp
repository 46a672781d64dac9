// `imsflow sim`: each scenario gives its ladder and the outcome the seed's
// troubleshooting table names.
#include "cli/sim.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace imsflow::cli {
namespace {

struct SimRun {
  int status;
  std::string out;
  std::string err;
};

SimRun sim(SimOptions o) {
  std::ostringstream out, err;
  const int status = run_sim(o, out, err);
  return {status, out.str(), err.str()};
}

SimOptions scenario(std::string name) {
  SimOptions o;
  o.scenario = std::move(name);
  return o;
}

// The ladder's labels in order, read back from the rendered text.
std::vector<std::string> labels(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const std::size_t a = line.find('|');
    const std::size_t b = line.rfind('|');
    if (a == std::string::npos || a == b) continue;
    std::string mid = line.substr(a + 1, b - a - 1);
    const std::size_t s = mid.find_first_not_of("<->");
    const std::size_t e = mid.find_last_not_of("<->");
    if (s == std::string::npos) continue;
    mid = mid.substr(s, e - s + 1);
    out.push_back(mid.substr(mid.find_first_not_of(' '), mid.find_last_not_of(' ') - mid.find_first_not_of(' ') + 1));
  }
  return out;
}

bool starts(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

TEST(SimCommand, SeedLadderIsEstablished) {
  SimRun r = sim(scenario("100rel"));
  EXPECT_EQ(r.status, 0) << r.err;
  const auto l = labels(r.out);
  ASSERT_EQ(l.size(), 9u) << r.out;
  EXPECT_EQ(l[0], "INVITE +SDP");
  EXPECT_EQ(l[1], "100 Trying (INVITE)");
  EXPECT_TRUE(starts(l[2], "183 Session Progress (INVITE) RSeq")) << l[2];
  EXPECT_TRUE(starts(l[3], "PRACK RAck")) << l[3];
  EXPECT_EQ(l[4], "200 OK (PRACK)");
  EXPECT_EQ(l[5], "200 OK (INVITE)");
  EXPECT_EQ(l[6], "ACK");
  EXPECT_EQ(l[7], "BYE");
  EXPECT_NE(r.out.find("result: established (dialog confirmed by ACK)"), std::string::npos);
  EXPECT_NE(r.out.find("reliability handling (PRACK answered)"), std::string::npos);
}

TEST(SimCommand, PreconditionsFollowTheConformanceOrder) {
  SimRun r = sim(scenario("preconditions"));
  EXPECT_EQ(r.status, 0);
  const auto l = labels(r.out);
  ASSERT_GE(l.size(), 12u) << r.out;
  EXPECT_EQ(l[5], "UPDATE +SDP");
  EXPECT_EQ(l[6], "200 OK (UPDATE) +SDP");
  EXPECT_TRUE(starts(l[7], "180 Ringing (INVITE) RSeq")) << l[7];
  EXPECT_NE(r.out.find("preconditions met"), std::string::npos);
}

TEST(SimCommand, EachFailureRowIsReproducedAndNamed) {
  struct Row {
    const char* scenario;
    const char* words;
  };
  for (const Row& row : {Row{"no-prack", "stalled at the provisional stage"}, Row{"no-ack", "200 OK without ACK"},
                         Row{"no-progress", "no useful progress after INVITE"}, Row{"codec-mismatch", "488"},
                         Row{"busy", "486 rejected with 486 Busy Here"}}) {
    SimRun r = sim(scenario(row.scenario));
    EXPECT_EQ(r.status, 0) << row.scenario << ": the failure is the expected outcome";
    EXPECT_NE(r.out.find("result: failed"), std::string::npos) << row.scenario;
    EXPECT_NE(r.out.find(row.words), std::string::npos) << row.scenario << "\n" << r.out;
  }
}

TEST(SimCommand, PrackLostOnceIsRecovered) {
  SimRun r = sim(scenario("prack-lost"));
  EXPECT_EQ(r.status, 0);
  const auto l = labels(r.out);
  ASSERT_GE(l.size(), 5u);
  EXPECT_TRUE(starts(l[2], "183")) << l[2];
  EXPECT_TRUE(starts(l[3], "183")) << "retransmitted: " << l[3];
  EXPECT_TRUE(starts(l[4], "PRACK")) << l[4];
}

TEST(SimCommand, ManyLossyCallsSummaryAndJson) {
  SimOptions o;
  o.calls = 200;
  o.loss = 0.1;
  o.json = true;
  SimRun r = sim(o);
  EXPECT_EQ(r.status, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["established"], 200);
  EXPECT_GT(j["retransmissions"].get<int>(), 0);
  EXPECT_GT(j["datagrams"]["lost"].get<int>(), 0);
  EXPECT_GE(j["setup_time_ms"]["p99"].get<double>(), j["setup_time_ms"]["p50"].get<double>());
}

TEST(SimCommand, SameSeedSamePcap) {
  const auto dir = std::filesystem::temp_directory_path();
  auto write = [&](const std::string& name, std::uint64_t seed) {
    SimOptions o;
    o.loss = 0.2;
    o.seed = seed;
    o.pcap = (dir / name).string();
    sim(o);
    std::ifstream f(o.pcap, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
  };
  const std::string a = write("imsflow-sim-a.pcap", 5);
  const std::string b = write("imsflow-sim-b.pcap", 5);
  EXPECT_GT(a.size(), 24u);
  EXPECT_EQ(a, b);
  std::filesystem::remove(dir / "imsflow-sim-a.pcap");
  std::filesystem::remove(dir / "imsflow-sim-b.pcap");
}

TEST(SimCommand, UsageErrors) {
  EXPECT_EQ(sim(scenario("nonsense")).status, 2);
  SimOptions o;
  o.loss = 1.5;
  EXPECT_EQ(sim(o).status, 2);
}

}  // namespace
}  // namespace imsflow::cli
