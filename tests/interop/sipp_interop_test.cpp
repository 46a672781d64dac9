// Interop with SIPp (Debian sip-tester) on 127.0.0.1, with the project's own
// scenarios in tests/interop/sipp/: the 100rel ladder with imsflow as the
// caller and SIPp answering, and the reverse; over UDP and over TCP; 1,000
// calls each, none failed on either side.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>
#include <string>
#include <vector>

#include "dialog/user_agent.hpp"
#include "load/call_behaviour.hpp"
#include "net/event_loop.hpp"

namespace imsflow {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr int kCalls = 1000;
constexpr int kRate = 250;  // calls per second, both directions

std::string find_sipp() {
  for (const char* dir : {"/usr/bin", "/usr/local/bin"}) {
    const fs::path p = fs::path(dir) / "sipp";
    if (fs::exists(p)) return p.string();
  }
  return {};
}

// A free port on 127.0.0.1 for both UDP and TCP (SIPp binds it next).
std::uint16_t free_port() {
  net::EventLoop probe;
  auto bound = probe.bind(sip::Endpoint{sip::Transport::Udp, sip::IpAddress::loopback_v4(), 0});
  return bound ? bound->port : 0;
}

// SIPp as a child process, its files in a scratch directory.
class Sipp {
 public:
  Sipp(const std::vector<std::string>& args) {
    dir_ = fs::temp_directory_path() / ("imsflow-sipp-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    fs::create_directories(dir_);
    out_ = (dir_ / "stdout.txt").string();
    pid_ = ::fork();
    if (pid_ == 0) {
      if (::chdir(dir_.c_str()) != 0) ::_exit(127);
      std::FILE* f = std::freopen(out_.c_str(), "w", stdout);
      (void)f;
      ::dup2(STDOUT_FILENO, STDERR_FILENO);
      std::vector<char*> argv;
      for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
  }
  ~Sipp() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  bool exited() {
    if (exited_) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    return exited_;
  }
  int code() const { return code_; }
  std::string output() const {
    std::ifstream f(out_);
    return std::string(std::istreambuf_iterator<char>(f), {});
  }
  /// The cumulative count of a row of SIPp's final statistics screen.
  long statistic(const std::string& row) const {
    const std::string text = output();
    const std::regex re(row + R"(\s*\|\s*\d+\s*\|\s*(\d+))");
    long last = -1;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it)
      last = std::stol((*it)[1]);
    return last;
  }
  std::string errors() const {
    std::string all;
    for (const auto& e : fs::directory_iterator(dir_)) {
      if (e.path().filename().string().find("_errors.log") == std::string::npos) continue;
      std::ifstream f(e.path());
      all += std::string(std::istreambuf_iterator<char>(f), {});
    }
    return all;
  }

 private:
  static inline int counter_ = 0;
  fs::path dir_;
  std::string out_;
  pid_t pid_ = -1;
  bool exited_ = false;
  int code_ = -1;
};

// Runs the loop in short slices until `done` (the loop alone would sleep
// until its next timer, which may be 32 s away, and miss SIPp's exit).
template <class Done>
void run_until(net::EventLoop& loop, Done done, Duration max) {
  const auto end = Clock::now() + max;
  while (!done() && Clock::now() < end) loop.run_for(20ms);
}

std::string scenario(const char* name) { return std::string(IMSFLOW_SOURCE_DIR) + "/tests/interop/sipp/" + name; }

struct CallerTally : dialog::SessionObserver {
  dialog::UserAgent* ua = nullptr;
  int confirmed = 0, ended = 0, failed = 0;
  std::string first_failure;
  void on_session_event(const dialog::SessionEvent& e) override {
    using K = dialog::SessionEventKind;
    if (e.kind == K::Confirmed) {
      ++confirmed;
      ua->hang_up(e.session, e.at);  // the SIPp UAS expects ACK, then BYE
    }
    if (e.kind == K::Ended) ++ended;
    if (e.kind == K::Failed) {
      if (failed++ == 0) first_failure = std::to_string(e.status) + " " + e.cause;
    }
  }
};

class SippInterop : public ::testing::TestWithParam<sip::Transport> {
 protected:
  void SetUp() override {
    sipp_ = find_sipp();
    if (sipp_.empty()) GTEST_SKIP() << "SIPp is not installed (Debian package sip-tester; scripts/install-deps.sh installs it)";
  }
  std::string transport_flag() const { return GetParam() == sip::Transport::Udp ? "u1" : "t1"; }
  std::string sipp_;
};

TEST_P(SippInterop, ImsflowCallsSippAnswersThe100relLadder) {
  const std::uint16_t port = free_port();
  ASSERT_NE(port, 0);
  Sipp uas({sipp_, "-sf", scenario("uas_100rel.xml"), "-i", "127.0.0.1", "-p", std::to_string(port), "-t",
            transport_flag(), "-m", std::to_string(kCalls), "-nostdin", "-trace_err", "-timeout", "90s"});
  std::this_thread::sleep_for(300ms);  // let it bind

  net::EventLoop loop;
  auto local = loop.bind(sip::Endpoint{GetParam(), sip::IpAddress::loopback_v4(), 0});
  ASSERT_TRUE(local) << local.error().describe();
  dialog::UserAgentConfig config;
  config.local = *local;
  config.user = "imsflow";
  CallerTally tally;
  dialog::UserAgent ua{config, tally};
  tally.ua = &ua;
  ASSERT_TRUE(loop.attach(ua, *local));
  dialog::CallRequest request;
  request.target = "sip:sipp@127.0.0.1:" + std::to_string(port);
  request.next_hop = sip::Endpoint{GetParam(), sip::IpAddress::loopback_v4(), port};
  sdp::LocalMedia media;
  request.sdp_offer = load::offer_for(load::Profile::Reliable100rel, media);

  // kRate calls per second, in 20 ms steps.
  int placed = 0;
  const auto start = Clock::now();
  while (placed < kCalls) {
    const auto due = static_cast<int>(std::chrono::duration<double>(Clock::now() - start).count() * kRate) + 1;
    while (placed < std::min(due, kCalls)) {
      ua.call(request, Clock::now());
      ++placed;
    }
    loop.run_for(20ms);
  }
  run_until(loop, [&] { return tally.ended + tally.failed >= kCalls && uas.exited(); }, 60s);
  EXPECT_EQ(tally.confirmed, kCalls);
  EXPECT_EQ(tally.ended, kCalls);
  EXPECT_EQ(tally.failed, 0) << tally.first_failure;
  run_until(loop, [&] { return uas.exited(); }, 30s);
  ASSERT_TRUE(uas.exited());
  EXPECT_EQ(uas.code(), 0) << uas.output();
  EXPECT_EQ(uas.statistic("Successful call"), kCalls);
  EXPECT_EQ(uas.statistic("Failed call"), 0);
  EXPECT_EQ(uas.errors(), "") << "SIPp's checks (Supported: 100rel, RAck) all held";
  EXPECT_EQ(ua.live_sessions(), 0u);
}

TEST_P(SippInterop, SippCallsImsflowAnswersThe100relLadder) {
  net::EventLoop loop;
  auto local = loop.bind(sip::Endpoint{GetParam(), sip::IpAddress::loopback_v4(), 0});
  ASSERT_TRUE(local) << local.error().describe();
  dialog::UserAgentConfig config;
  config.local = *local;
  config.user = "ue";
  load::AnswerBehaviour behaviour;
  load::Answerer answerer(behaviour);
  dialog::UserAgent ua{config, answerer};
  answerer.bind(ua);
  ASSERT_TRUE(loop.attach(ua, *local));

  Sipp uac({sipp_, "-sf", scenario("uac_100rel.xml"), "127.0.0.1:" + std::to_string(local->port), "-i", "127.0.0.1",
            "-p", std::to_string(free_port()), "-t", transport_flag(), "-m", std::to_string(kCalls), "-r",
            std::to_string(kRate), "-nostdin", "-trace_err", "-timeout", "90s"});
  run_until(loop, [&] { return uac.exited(); }, 90s);
  ASSERT_TRUE(uac.exited()) << "SIPp did not finish";
  EXPECT_EQ(uac.code(), 0) << uac.output();
  EXPECT_EQ(uac.statistic("Successful call"), kCalls);
  EXPECT_EQ(uac.statistic("Failed call"), 0);
  EXPECT_EQ(uac.errors(), "");
  EXPECT_EQ(answerer.answered(), static_cast<std::uint64_t>(kCalls));
  loop.run_for(200ms);
  EXPECT_EQ(ua.live_sessions(), 0u) << "every call ended with SIPp's BYE";
}

// `imsflow load` (the command, as a user runs it) against the SIPp UAS:
// every call established, and both sides count the same calls.
TEST_P(SippInterop, ImsflowLoadCallsSippAnswersThe100relLadder) {
  const std::uint16_t port = free_port();
  ASSERT_NE(port, 0);
  Sipp uas({sipp_, "-sf", scenario("uas_100rel.xml"), "-i", "127.0.0.1", "-p", std::to_string(port), "-t",
            transport_flag(), "-m", std::to_string(kCalls), "-nostdin", "-trace_err", "-timeout", "90s"});
  std::this_thread::sleep_for(300ms);  // let it bind
  const fs::path json = fs::temp_directory_path() / ("imsflow-load-" + std::to_string(::getpid()) + ".json");
  Sipp load({IMSFLOW_BINARY, "load", "--target", "127.0.0.1:" + std::to_string(port), "--transport",
             GetParam() == sip::Transport::Udp ? "udp" : "tcp", "--calls", std::to_string(kCalls), "--rate",
             std::to_string(kRate), "--hold", "0", "--no-progress", "--json", json.string()});
  for (int i = 0; i < 900 && !(load.exited() && uas.exited()); ++i) std::this_thread::sleep_for(100ms);
  ASSERT_TRUE(load.exited()) << "imsflow load did not finish";
  EXPECT_EQ(load.code(), 0) << load.output();
  ASSERT_TRUE(uas.exited()) << "SIPp did not finish";
  EXPECT_EQ(uas.code(), 0) << uas.output();
  std::ifstream in(json);
  const auto report = nlohmann::json::parse(in);
  EXPECT_EQ(report["calls"]["attempted"], kCalls);
  EXPECT_EQ(report["calls"]["established"], kCalls) << load.output();
  EXPECT_EQ(uas.statistic("Successful call"), report["calls"]["established"].get<long>());
  EXPECT_EQ(uas.statistic("Failed call"), 0);
  EXPECT_EQ(uas.errors(), "") << "SIPp's checks (Supported: 100rel, RAck) all held";
  fs::remove(json);
}

INSTANTIATE_TEST_SUITE_P(Transports, SippInterop, ::testing::Values(sip::Transport::Udp, sip::Transport::Tcp),
                         [](const auto& info) { return info.param == sip::Transport::Udp ? "Udp" : "Tcp"; });

}  // namespace
}  // namespace imsflow
