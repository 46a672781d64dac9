// `imsflow load` over loopback against `imsflow ue --answer` in another
// process: the rate it holds, the report, and its JSON time series.
#include "cli/load.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "analyze/analyzer.hpp"
#include "cli/child_process.hpp"

namespace imsflow::cli {
namespace {

// `calls` calls at `rate` calls/s to 127.0.0.1:`port`, without progress lines.
LoadOptions calls_to(const std::string& port, double rate, std::uint64_t calls) {
  LoadOptions o;
  o.target = "127.0.0.1:" + port;
  o.rate = rate;
  o.calls = calls;
  o.progress = 0;
  return o;
}

TEST(LoadCommand, HoldsFiveHundredCallsPerSecondForTenSeconds) {
  Child ue({IMSFLOW_BINARY, "ue", "--listen", "127.0.0.1:0", "--answer"});
  const std::string port = wait_for(ue, R"(answering on 127\.0\.0\.1:(\d+))");
  ASSERT_FALSE(port.empty()) << ue.output();
  const std::filesystem::path json = std::filesystem::temp_directory_path() / "imsflow_load_test.json";
  LoadOptions o;
  o.target = "127.0.0.1:" + port;
  o.rate = 500;
  o.duration_s = 10;
  o.hold_ms = 100;
  o.threads = 2;
  o.json = json.string();
  o.progress = 0;
  std::ostringstream out, err;
  const int status = run_load(o, out, err);
  EXPECT_EQ(status, 0) << out.str() << err.str();
  std::ifstream in(json);
  const auto j = nlohmann::json::parse(in);
  const auto attempted = j["calls"]["attempted"].get<double>();
  EXPECT_NEAR(attempted, 5000.0, 5000 * 0.02) << "the asked rate, within 2 %, over 10 s";
  EXPECT_EQ(j["calls"]["established"], j["calls"]["attempted"]);
  EXPECT_EQ(j["calls"]["failed"], 0);
  EXPECT_EQ(j["latency_ms"]["setup_ms"]["count"], j["calls"]["established"]);
  EXPECT_GT(j["latency_ms"]["pdd_ms"]["p50"].get<double>(), 0.0);
  EXPECT_LE(j["latency_ms"]["pdd_ms"]["p50"].get<double>(), j["latency_ms"]["setup_ms"]["p50"].get<double>());
  EXPECT_GE(j["series"].size(), 10u);
  EXPECT_NE(out.str().find("INVITE -> 200 INVITE"), std::string::npos) << out.str();
  // The answering side saw every call, and none is left up.
  EXPECT_EQ(ue.stop(SIGTERM), 0);
  EXPECT_NE(ue.output().find(std::to_string(static_cast<long>(attempted)) + " incoming"), std::string::npos)
      << ue.output();
  EXPECT_NE(ue.output().find("0 still up at shutdown"), std::string::npos) << ue.output();
  std::filesystem::remove(json);
}

TEST(LoadCommand, RejectedCallsAreCountedByCauseAndFailTheRun) {
  Child ue({IMSFLOW_BINARY, "ue", "--listen", "127.0.0.1:0", "--answer", "--respond", "486"});
  const std::string port = wait_for(ue, R"(answering on 127\.0\.0\.1:(\d+))");
  ASSERT_FALSE(port.empty()) << ue.output();
  const LoadOptions o = calls_to(port, 100, 50);
  std::ostringstream out, err;
  EXPECT_EQ(run_load(o, out, err), 1);
  EXPECT_NE(out.str().find("50 attempted"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("     50  486 rejected with 486 Busy Here: callee busy"), std::string::npos) << out.str();
}

// A UDP port nobody listens on: the ICMP port-unreachable quoting each
// INVITE fails its call at once as a transport error (RFC 3261 §18.4, §8.1.3.1:
// a 503), rather than after Timer B.
TEST(LoadCommand, CallsToAClosedUdpPortFailOnTheIcmpError) {
  std::uint16_t port = 0;
  const int fd = loopback_udp_socket(port);
  ASSERT_GE(fd, 0);
  ::close(fd);
  const std::string closed_port = std::to_string(port);
  const LoadOptions o = calls_to(closed_port, 50, 5);
  std::ostringstream out, err;
  EXPECT_EQ(run_load(o, out, err), 1);
  EXPECT_NE(out.str().find("0 established, 5 failed"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("5  503 transport error: ICMP error from UDP 127.0.0.1:" + closed_port +
                           ": Connection refused"),
            std::string::npos)
      << out.str();
}

// A UAS that answers every datagram with bytes that are not SIP: the
// answers are dropped with the parser's reason, shown in the report, and the
// calls end at Timer B (64·T1, with T1 = 20 ms) instead of hanging.
TEST(LoadCommand, AnswersThatAreNotSipAreDroppedWithTheReasonAndCallsTimeOut) {
  std::uint16_t port = 0;
  const int fd = loopback_udp_socket(port);
  ASSERT_GE(fd, 0);
  timeval wait{0, 100000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  std::atomic<bool> stop{false};
  std::thread garbage([&] {
    char buf[65536];
    constexpr std::string_view kReply = "SIP/2.0 2OO OK\r\nnot a header\r\n\r\n";
    while (!stop) {
      sockaddr_in from{};
      socklen_t from_len = sizeof from;
      if (::recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &from_len) <= 0) continue;
      ::sendto(fd, kReply.data(), kReply.size(), 0, reinterpret_cast<sockaddr*>(&from), from_len);
    }
  });
  LoadOptions o = calls_to(std::to_string(port), 20, 2);
  o.t1_ms = 20;
  std::ostringstream out, err;
  const int status = run_load(o, out, err);
  stop = true;
  garbage.join();
  ::close(fd);
  EXPECT_EQ(status, 1);
  EXPECT_NE(out.str().find("0 established, 2 failed"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("2  408 no useful progress after INVITE: nothing answered before Timer B"),
            std::string::npos)
      << out.str();
  EXPECT_NE(out.str().find("messages from the network could not be used, e.g. status line: expected a "
                           "three-digit status code"),
            std::string::npos)
      << out.str();
  EXPECT_NE(out.str().find("sent again: INVITE "), std::string::npos) << out.str();
}

// Out of file descriptors (prlimit, util-linux): each call fails with the
// reason, the report is still printed, and the run ends by itself.
TEST(LoadCommand, RunningOutOfFileDescriptorsFailsCallsWithTheReason) {
  if (::access("/usr/bin/prlimit", X_OK) != 0) GTEST_SKIP() << "prlimit (util-linux) is not installed";
#if defined(IMSFLOW_SANITIZED)
  // The sanitizer runtime opens a pipe of its own to check pointers (UBSan's
  // vptr check), and reports a false error when none is left to it.
  GTEST_SKIP() << "out of descriptors starves the sanitizer runtime; the release suite runs this";
#endif
  // Standard I/O and one event loop's epoll, two eventfds, timerfd and UDP
  // socket take descriptors 0–7 (a Child inherits nothing else): the TCP
  // socket for the first INVITE is the one refused.
  Child load({"/usr/bin/prlimit", "--nofile=8:8", IMSFLOW_BINARY, "load", "--target", "127.0.0.1:9", "--transport",
              "tcp", "--threads", "1", "--calls", "3", "--rate", "20", "--no-progress"});
  EXPECT_EQ(load.wait(), 1) << load.output();
  EXPECT_NE(load.output().find("3 attempted"), std::string::npos) << load.output();
  EXPECT_NE(load.output().find("3  503 transport error: cannot connect to TCP 127.0.0.1:9: cannot create a socket: "
                               "Too many open files"),
            std::string::npos)
      << load.output();
}

// The generator's own latency figures and the analyzer's reading of the
// capture of the same run describe the same calls.
TEST(LoadCommand, LatencyPercentilesAgreeWithThePcapOfTheRun) {
  Child ue({IMSFLOW_BINARY, "ue", "--listen", "127.0.0.1:0", "--answer"});
  const std::string port = wait_for(ue, R"(answering on 127\.0\.0\.1:(\d+))");
  ASSERT_FALSE(port.empty()) << ue.output();
  const std::filesystem::path dir = std::filesystem::temp_directory_path();
  const std::string json = (dir / "imsflow_load_pcap.json").string(), pcap = (dir / "imsflow_load.pcap").string();
  LoadOptions o;
  o.target = "127.0.0.1:" + port;
  o.rate = 200;
  o.calls = 400;
  o.hold_ms = 50;
  o.threads = 1;
  o.json = json;
  o.pcap = pcap;
  o.progress = 0;
  std::ostringstream out, err;
  ASSERT_EQ(run_load(o, out, err), 0) << out.str() << err.str();
  std::ifstream in(json);
  const auto j = nlohmann::json::parse(in);
  auto analysis = analyze::analyze_capture(pcap);
  ASSERT_TRUE(analysis);
  std::vector<double> setup, pdd;
  for (const analyze::CallAnalysis& c : analysis->calls) {
    EXPECT_EQ(c.outcome, analyze::Outcome::Established);
    if (c.setup_ms) setup.push_back(*c.setup_ms);
    if (c.pdd_ms) pdd.push_back(*c.pdd_ms);
  }
  ASSERT_EQ(analysis->calls.size(), 400u);
  ASSERT_EQ(setup.size(), 400u);
  std::sort(setup.begin(), setup.end());
  std::sort(pdd.begin(), pdd.end());
  // Same events on the same clock. The capture stamps an INVITE when the
  // loop hands it to the socket, the generator when it decided to call, in
  // the same loop iteration: a few µs apart in a release build, more under
  // the sanitizers.
  auto close_to = [](double capture, double generator) {
#if defined(IMSFLOW_SANITIZED)
    // Instrumented, one tail call's stamps were seen 0.74 ms apart.
    return std::abs(capture - generator) <= 1.0 + 0.1 * generator;
#else
    return std::abs(capture - generator) <= 0.3 + 0.1 * generator;
#endif
  };
  // The generator's nearest rank, p × (n − 1) rounded: 200 and 395 of 0…399.
  // With the same rank, each call a few µs off moves a percentile only that
  // much; one rank off compares two calls of the sparse tail instead.
  EXPECT_PRED2(close_to, setup[200], j["latency_ms"]["setup_ms"]["p50"].get<double>());
  EXPECT_PRED2(close_to, setup[395], j["latency_ms"]["setup_ms"]["p99"].get<double>());
  EXPECT_PRED2(close_to, pdd[200], j["latency_ms"]["pdd_ms"]["p50"].get<double>());
  std::filesystem::remove(json);
  std::filesystem::remove(pcap);
}

TEST(LoadCommand, BadArgumentsAreUsageErrors) {
  std::ostringstream out, err;
  LoadOptions o;
  EXPECT_EQ(run_load(o, out, err), 2);
  o.target = "127.0.0.1:5060";
  o.inject = "sometimes";
  EXPECT_EQ(run_load(o, out, err), 2);
  EXPECT_NE(err.str().find("--inject must be"), std::string::npos);
}

}  // namespace
}  // namespace imsflow::cli
