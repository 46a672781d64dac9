// `imsflow ue --answer` as a real process on 127.0.0.1: calls placed by an
// in-process user agent are answered, and SIGTERM prints the summary,
// calls still up included.
#include <gtest/gtest.h>

#include <csignal>
#include <regex>
#include <string>
#include <thread>

#include "cli/child_process.hpp"
#include "dialog/user_agent.hpp"
#include "load/call_behaviour.hpp"
#include "net/event_loop.hpp"

namespace imsflow::cli {
namespace {

using namespace std::chrono_literals;

struct Tally : dialog::SessionObserver {
  int confirmed = 0, ended = 0;
  void on_session_event(const dialog::SessionEvent& e) override {
    if (e.kind == dialog::SessionEventKind::Confirmed) ++confirmed;
    if (e.kind == dialog::SessionEventKind::Ended) ++ended;
  }
};

std::uint16_t wait_for_port(Child& child) {
  const std::regex re(R"(answering on 127\.0\.0\.1:(\d+))");
  for (int i = 0; i < 200; ++i) {
    std::smatch m;
    const std::string out = child.output();
    if (std::regex_search(out, m, re)) return static_cast<std::uint16_t>(std::stoi(m[1]));
    std::this_thread::sleep_for(10ms);
  }
  return 0;
}

TEST(UeCommand, AnswersCallsAndReportsOnSigterm) {
  Child ue({IMSFLOW_BINARY, "ue", "--listen", "127.0.0.1:0", "--answer"});
  const std::uint16_t port = wait_for_port(ue);
  ASSERT_NE(port, 0) << ue.output();

  net::EventLoop loop;
  auto local = loop.bind(sip::Endpoint{sip::Transport::Udp, sip::IpAddress::loopback_v4(), 0});
  ASSERT_TRUE(local);
  dialog::UserAgentConfig config;
  config.local = *local;
  Tally tally;
  dialog::UserAgent caller{config, tally};
  ASSERT_TRUE(loop.attach(caller, *local));
  dialog::CallRequest r;
  r.target = "sip:ue@127.0.0.1:" + std::to_string(port);
  r.next_hop = sip::Endpoint{sip::Transport::Udp, sip::IpAddress::loopback_v4(), port};
  r.sdp_offer = load::offer_for(load::Profile::Reliable100rel, {});
  std::vector<dialog::SessionId> calls;
  for (int i = 0; i < 20; ++i) calls.push_back(caller.call(r, Clock::now()));
  loop.run_until([&] { return tally.confirmed == 20; }, 5s);
  ASSERT_EQ(tally.confirmed, 20);
  for (int i = 0; i < 17; ++i) caller.hang_up(calls[i], Clock::now());
  loop.run_until([&] { return tally.ended == 17; }, 5s);
  ASSERT_EQ(tally.ended, 17);

  EXPECT_EQ(ue.stop(SIGTERM), 0);
  const std::string out = ue.output();
  EXPECT_NE(out.find("stopped (signal)"), std::string::npos) << out;
  EXPECT_NE(out.find("20 incoming, 20 answered, 20 confirmed, 17 ended, 3 still up at shutdown"), std::string::npos)
      << out;
}

// Three processes: the core, bob answering, alice calling him by his tel URI.
TEST(UeCommand, RegistersWithTheCoreAndCallsThroughIt) {
  Child core({IMSFLOW_BINARY, "core", "--listen", "127.0.0.1:0"});
  const std::string pcscf = wait_for(core, R"(P-CSCF on (127\.0\.0\.1:\d+))");
  ASSERT_FALSE(pcscf.empty()) << core.output();
  Child bob({IMSFLOW_BINARY, "ue", "--listen", "127.0.0.1:0", "--register", pcscf, "--impi", "bob@ims.example",
             "--answer", "--profile", "preconditions"});
  ASSERT_FALSE(wait_for(bob, "sip:bob@ims.example registered").empty()) << bob.output();
  Child alice({IMSFLOW_BINARY, "ue", "--listen", "127.0.0.1:0", "--register", pcscf, "--call", "tel:+15550102",
               "--profile", "preconditions", "--hold", "100"});
  EXPECT_EQ(alice.wait(), 0) << alice.output();
  EXPECT_NE(alice.output().find("call to tel:+15550102: established (dialog confirmed by ACK)"), std::string::npos)
      << alice.output();
  EXPECT_NE(alice.output().find("ended by BYE"), std::string::npos) << alice.output();
  EXPECT_EQ(bob.stop(SIGTERM), 0);
  EXPECT_NE(bob.output().find("1 incoming, 1 answered, 1 confirmed, 1 ended"), std::string::npos) << bob.output();
  EXPECT_NE(bob.output().find("sip:bob@ims.example deregistered"), std::string::npos) << bob.output();
  EXPECT_EQ(core.stop(SIGINT), 0);
  EXPECT_NE(core.output().find("2 registrations, 2 deregistrations, 0 refused"), std::string::npos) << core.output();
}

TEST(UeCommand, RefusesBadArguments) {
  Child bad({IMSFLOW_BINARY, "ue", "--listen", "nowhere", "--answer"});
  EXPECT_EQ(bad.stop(0), 2);
  EXPECT_NE(bad.output().find("--listen wants ADDRESS:PORT"), std::string::npos) << bad.output();
}

}  // namespace
}  // namespace imsflow::cli
