// The event loop on real loopback sockets: INVITE sessions between two user
// agents over UDP (IPv4, IPv6) and TCP, the §18.1.1 switch to TCP, stream
// framing against raw clients, timeouts, stop() and signals. Every test binds
// ephemeral ports and stops by itself within seconds.
#include "net/event_loop.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include <csignal>
#include <thread>

#include "net_test_support.hpp"

namespace imsflow::net {
namespace {

using namespace testing;
using dialog::SessionEventKind;
using dialog::SessionState;

LoopOptions quiet(std::vector<std::string>* lines = nullptr) {
  LoopOptions o;
  o.log = [lines](std::string_view line) {
    if (lines) lines->emplace_back(line);
  };
  return o;
}

// --- binding -----------------------------------------------------------------------

TEST(EventLoopBind, EphemeralPortIsTheSameForUdpAndTcp) {
  EventLoop loop(quiet());
  ASSERT_TRUE(loop.ok()) << loop.error();
  auto bound = loop.bind(loopback());
  ASSERT_TRUE(bound) << bound.error().describe();
  EXPECT_NE(bound->port, 0);
  EXPECT_EQ(bound->transport, Transport::Udp);
  // Both sockets answer: a TCP client connects to the same port.
  Endpoint tcp = *bound;
  tcp.transport = Transport::Tcp;
  RawTcpClient client(tcp);
  EXPECT_TRUE(client.connected());
  loop.run_until([&] { return loop.open_connections() == 1; }, 2s);
  EXPECT_EQ(loop.counters().connections_accepted, 1u);
}

TEST(EventLoopBind, TheSamePortTwiceIsRefused) {
  EventLoop loop(quiet());
  auto bound = loop.bind(loopback());
  ASSERT_TRUE(bound);
  auto again = loop.bind(*bound);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, NetErrorCode::AlreadyBound);
  EventLoop other(quiet());
  auto elsewhere = other.bind(*bound);  // another loop, no SO_REUSEPORT: the OS refuses
  ASSERT_FALSE(elsewhere);
  EXPECT_EQ(elsewhere.error().code, NetErrorCode::BindFailed);
  EXPECT_NE(elsewhere.error().describe().find("in use"), std::string::npos) << elsewhere.error().describe();
}

TEST(EventLoopBind, TlsIsRefusedWithAReason) {
  EventLoop loop(quiet());
  auto bound = loop.bind(loopback(Transport::Tls));
  ASSERT_FALSE(bound);
  EXPECT_EQ(bound.error().code, NetErrorCode::UnsupportedTransport);
}

// --- batch window -------------------------------------------------------------------

// A node with one timer, due at `due`; counts datagrams and when advance() ran.
class TimedSink final : public txn::Node {
 public:
  std::uint64_t received = 0;
  std::optional<TimePoint> due, fired_at;
  void receive(std::string_view, const Endpoint&, const Endpoint&, TimePoint) override { ++received; }
  void advance(TimePoint now) override {
    if (due && now >= *due) {
      fired_at = now;
      due.reset();
    }
  }
  std::optional<TimePoint> next_deadline() const override { return due; }
  void take_transmits(std::vector<txn::Transmit>&) override {}
};

// With a batch window, datagrams that arrive one by one are taken a batch at
// a time, and no timer waits for the window to end.
TEST(EventLoopBatchWindow, GathersDatagramsIntoFewReceivesAndKeepsTimersOnTime) {
  LoopOptions o = quiet();
  o.batch_window = 500ms;
  EventLoop loop(o);
  TimedSink sink;
  auto at = loop.attach(sink, loopback());
  ASSERT_TRUE(at) << at.error().describe();
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  const SocketAddress to = to_socket_address(*at);
  // 20 datagrams, 1 ms apart, from another thread; the first wakes the loop,
  // the window gathers the rest.
  std::thread sender([&] {
    for (int i = 0; i < 20; ++i) {
      ::sendto(fd, "\r\n\r\nOPTIONS", 11, 0, to.get(), to.length);
      std::this_thread::sleep_for(1ms);
    }
  });
  ASSERT_EQ(loop.run_until([&] { return loop.counters().datagrams_in == 20; }, 10s), StopReason::Done);
  sender.join();
  EXPECT_LE(loop.counters().receive_batches, 3u) << "one recvmmsg per window, not one per datagram";
  // A timer due soon after a wake-up with work fires at its time, not after the window.
  const TimePoint start = Clock::now();
  sink.due = start + 20ms;
  ::sendto(fd, "\r\n\r\nOPTIONS", 11, 0, to.get(), to.length);
  ASSERT_EQ(loop.run_until([&] { return sink.fired_at.has_value(); }, 10s), StopReason::Done);
  EXPECT_LT(*sink.fired_at - start, 400ms) << "the 500 ms window did not hold the timer back";
  ::close(fd);
}

// --- INVITE sessions between two user agents --------------------------------------

class TwoAgents : public ::testing::Test {
 protected:
  std::vector<std::string> log_lines;
  EventLoop loop{quiet(&log_lines)};
  std::unique_ptr<BoundAgent> alice, bob;

  void bind(Transport t, bool v6 = false) {
    std::string error;
    alice = bind_agent(loop, loopback(t, v6), "alice", 1, &error);
    ASSERT_TRUE(alice) << error;
    bob = bind_agent(loop, loopback(t, v6), "bob", 2, &error);
    ASSERT_TRUE(bob) << error;
    answer_with_reliable_183(*bob);
  }

  bool no_leaks() {
    return alice->ua->live_sessions() == 0 && bob->ua->live_sessions() == 0 &&
           alice->ua->live_transactions() == 0 && bob->ua->live_transactions() == 0;
  }

  // The seed ladder, then BYE, then every transaction gone.
  void ladder_then_bye(Transport t) {
    const dialog::SessionId call = alice->ua->call(call_to(*bob), Clock::now());
    ASSERT_TRUE(call);
    ASSERT_EQ(loop.run_until([&] { return alice->ua->state(call) == SessionState::Confirmed &&
                                          bob->events.of(SessionEventKind::Confirmed) == 1; },
                             5s),
              StopReason::Done);
    const dialog::SessionTimes* times = alice->ua->times(call);
    ASSERT_TRUE(times && times->first_18x && times->reliability_done && times->ack);
    alice->ua->hang_up(call, Clock::now());
    ASSERT_EQ(loop.run_until([&] { return alice->events.of(SessionEventKind::Ended) == 1 &&
                                          bob->events.of(SessionEventKind::Ended) == 1; },
                             5s),
              StopReason::Done);
    EXPECT_EQ(loop.run_until([&] { return no_leaks(); }, 5s), StopReason::Done)
        << "sessions " << alice->ua->live_sessions() << "/" << bob->ua->live_sessions() << ", transactions "
        << alice->ua->live_transactions() << "/" << bob->ua->live_transactions();

    const std::vector<std::string> bob_saw{"INVITE", "PRACK", "ACK", "BYE"};
    const std::vector<std::string> alice_saw{"100 (INVITE)", "183 (INVITE)", "200 (PRACK)", "200 (INVITE)",
                                             "200 (BYE)"};
    EXPECT_EQ(first_occurrences(bob->tap->over(t)), bob_saw);
    EXPECT_EQ(first_occurrences(alice->tap->over(t)), alice_saw);
    EXPECT_EQ(alice->tap->received.size(), alice->tap->over(t).size()) << "nothing over another transport";
  }
};

using SessionsOverUdp = TwoAgents;
using SessionsOverTcp = TwoAgents;

TEST_F(SessionsOverUdp, ReliableProvisionalLadderThenBye) {
  bind(Transport::Udp);
  ladder_then_bye(Transport::Udp);
  const LoopCounters& c = loop.counters();
  EXPECT_GE(c.datagrams_in, 9u);  // 9 messages, plus any retransmission
  EXPECT_EQ(c.datagrams_in, c.datagrams_out);
  EXPECT_GT(c.receive_batches, 0u);
  EXPECT_GT(c.send_batches, 0u);
  EXPECT_EQ(c.stream_messages_in, 0u);
  EXPECT_EQ(c.send_errors, 0u);
  EXPECT_EQ(c.unrouted, 0u);
  EXPECT_GT(c.timer_runs, 0u) << "the transactions ended by their timers";
}

TEST_F(SessionsOverUdp, ReliableProvisionalLadderOverIpv6) {
  if (!ipv6_loopback_available()) GTEST_SKIP() << "cannot bind ::1 here (no IPv6 loopback in this environment)";
  bind(Transport::Udp, true);
  ASSERT_TRUE(alice->local.address.v6);
  ladder_then_bye(Transport::Udp);
}

TEST_F(SessionsOverTcp, ReliableProvisionalLadderThenByeOnOneConnection) {
  bind(Transport::Tcp);
  ladder_then_bye(Transport::Tcp);
  const LoopCounters& c = loop.counters();
  EXPECT_EQ(c.datagrams_in, 0u);
  EXPECT_GE(c.stream_messages_in, 9u);
  // Alice's INVITE opened one connection to Bob; PRACK, ACK and BYE reused
  // it (Bob's Contact is the endpoint it connected to), and Bob answered on
  // the connection he accepted.
  EXPECT_EQ(c.connections_opened, 1u);
  EXPECT_EQ(c.connections_accepted, 1u);
  EXPECT_EQ(c.framing_errors, 0u);
  EXPECT_EQ(c.send_errors, 0u);
}

TEST_F(SessionsOverTcp, ReliableProvisionalLadderOverIpv6) {
  if (!ipv6_loopback_available()) GTEST_SKIP() << "cannot bind ::1 here (no IPv6 loopback in this environment)";
  bind(Transport::Tcp, true);
  ladder_then_bye(Transport::Tcp);
}

TEST_F(SessionsOverUdp, HundredConcurrentCallsAllConfirmedThenReleased) {
  bind(Transport::Udp);
  constexpr int kCalls = 100;
  std::vector<dialog::SessionId> calls;
  const TimePoint now = Clock::now();
  for (int i = 0; i < kCalls; ++i) calls.push_back(alice->ua->call(call_to(*bob), now));
  auto confirmed = [&] {
    return std::all_of(calls.begin(), calls.end(),
                       [&](dialog::SessionId id) { return alice->ua->state(id) == SessionState::Confirmed; });
  };
  ASSERT_EQ(loop.run_until(confirmed, 10s), StopReason::Done)
      << alice->events.of(SessionEventKind::Confirmed) << " of " << kCalls << " confirmed";
  EXPECT_EQ(bob->events.of(SessionEventKind::Incoming), kCalls);
  for (auto id : calls) alice->ua->hang_up(id, Clock::now());
  ASSERT_EQ(loop.run_until([&] { return bob->events.of(SessionEventKind::Ended) == kCalls &&
                                        alice->events.of(SessionEventKind::Ended) == kCalls; },
                           10s),
            StopReason::Done);
  EXPECT_EQ(loop.run_until([&] { return no_leaks(); }, 5s), StopReason::Done);
  EXPECT_EQ(alice->events.of(SessionEventKind::Failed), 0);
  EXPECT_EQ(bob->events.of(SessionEventKind::Failed), 0);
  const LoopCounters& c = loop.counters();
  EXPECT_GE(c.datagrams_in, 9u * kCalls);
  EXPECT_LT(c.send_batches, c.datagrams_out) << "datagrams of one iteration leave in one sendmmsg()";
  EXPECT_EQ(c.send_errors, 0u);
}

TEST_F(SessionsOverUdp, RequestAbove1300BytesGoesOverTcpAndItsResponsesComeBackOnIt) {
  bind(Transport::Udp);
  // An offer with enough attributes to push the INVITE past 1,300 bytes.
  std::string offer(kOffer);
  for (int i = 0; i < 20; ++i) offer += "a=fmtp:116 mode-set=0,1,2;octet-align=1;max-red=" + std::to_string(i) + "\r\n";
  const dialog::SessionId call = alice->ua->call(call_to(*bob, offer), Clock::now());
  ASSERT_EQ(loop.run_until([&] { return alice->ua->state(call) == SessionState::Confirmed; }, 5s), StopReason::Done);
  EXPECT_EQ(alice->ua->transaction_stats().switched_to_tcp, 1u);
  // Bob got the INVITE over TCP; every response of the INVITE transaction
  // came back to Alice over TCP, on the connection she opened.
  ASSERT_FALSE(bob->tap->over(Transport::Tcp).empty());
  EXPECT_EQ(bob->tap->over(Transport::Tcp).front(), "INVITE");
  const auto alice_tcp = first_occurrences(alice->tap->over(Transport::Tcp));
  const std::vector<std::string> invite_responses{"100 (INVITE)", "183 (INVITE)", "200 (INVITE)"};
  EXPECT_EQ(alice_tcp, invite_responses);
  for (const auto& l : alice->tap->over(Transport::Udp)) EXPECT_EQ(l.find("(INVITE)"), std::string::npos) << l;
  const LoopCounters& c = loop.counters();
  EXPECT_EQ(c.connections_opened, 1u);
  EXPECT_EQ(c.connections_accepted, 1u);
  EXPECT_GE(c.stream_messages_in, 4u);
  alice->ua->hang_up(call, Clock::now());
  ASSERT_EQ(loop.run_until([&] { return bob->events.of(SessionEventKind::Ended) == 1; }, 5s), StopReason::Done);
  EXPECT_EQ(loop.run_until([&] { return no_leaks(); }, 5s), StopReason::Done);
  EXPECT_EQ(loop.counters().framing_errors, 0u);
}

// --- TCP framing against a raw client ---------------------------------------------

constexpr std::string_view kOptions =
    "OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bKraw1\r\n"
    "Max-Forwards: 70\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:bob@x>\r\nCall-ID: raw-1\r\nCSeq: 1 OPTIONS\r\n"
    "Content-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world";

class RawTcp : public ::testing::Test {
 protected:
  std::vector<std::string> log_lines;
  LoopOptions options = quiet(&log_lines);
  std::unique_ptr<EventLoop> loop;
  SinkNode sink;
  Endpoint at;

  void start(LoopOptions o) {
    loop = std::make_unique<EventLoop>(std::move(o));
    auto bound = loop->attach(sink, loopback(Transport::Tcp));
    ASSERT_TRUE(bound) << bound.error().describe();
    at = *bound;
  }
  void SetUp() override { start(options); }
  void settle() { loop->run_for(20ms); }
};

TEST_F(RawTcp, GarbageClosesTheConnectionAndIsCounted) {
  RawTcpClient client(at);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.write("THIS IS NOT SIP AT ALL\r\n\r\n"));
  ASSERT_EQ(loop->run_until([&] { return loop->counters().connections_closed == 1; }, 3s), StopReason::Done);
  EXPECT_EQ(loop->counters().framing_errors, 1u);
  EXPECT_EQ(loop->open_connections(), 0u);
  EXPECT_TRUE(sink.arrivals.empty());
  ASSERT_FALSE(log_lines.empty());
  EXPECT_NE(log_lines.back().find("SIP request or status line"), std::string::npos) << log_lines.back();
  bool eof = false;
  for (int i = 0; i < 100 && !eof; ++i) {
    client.read_available(&eof);
    if (!eof) loop->run_for(10ms);
  }
  EXPECT_TRUE(eof) << "the client sees the close";
}

TEST_F(RawTcp, MessageSplitAcrossManySmallWritesIsReassembled) {
  RawTcpClient client(at);
  ASSERT_TRUE(client.connected());
  for (std::size_t i = 0; i < kOptions.size(); i += 7) {
    ASSERT_TRUE(client.write(kOptions.substr(i, 7)));
    loop->run_once(2ms);  // the loop sees each piece on its own (or a few together)
  }
  ASSERT_EQ(loop->run_until([&] { return !sink.arrivals.empty(); }, 3s), StopReason::Done);
  ASSERT_EQ(sink.arrivals.size(), 1u);
  EXPECT_EQ(sink.arrivals[0].bytes, kOptions);
  EXPECT_EQ(sink.arrivals[0].remote, client.local_endpoint());
  EXPECT_EQ(sink.arrivals[0].local, at);
  EXPECT_EQ(loop->counters().stream_messages_in, 1u);
  EXPECT_EQ(loop->counters().framing_errors, 0u);
}

TEST_F(RawTcp, TwoMessagesInOneWriteAreBothDeliveredAndKeepAlivesSkipped) {
  RawTcpClient client(at);
  ASSERT_TRUE(client.connected());
  std::string second(kOptions);
  second.replace(second.find("raw-1"), 5, "raw-2");
  ASSERT_TRUE(client.write("\r\n\r\n" + std::string(kOptions) + second + "\r\n\r\n"));
  ASSERT_EQ(loop->run_until([&] { return sink.arrivals.size() == 2; }, 3s), StopReason::Done);
  EXPECT_EQ(sink.arrivals[0].bytes, kOptions);
  EXPECT_EQ(sink.arrivals[1].bytes, second);
  settle();
  EXPECT_EQ(loop->counters().keepalives_in, 2u);
  EXPECT_EQ(loop->open_connections(), 1u) << "keep-alives do not close anything";
}

TEST_F(RawTcp, EchoGoesBackOnTheSameConnection) {
  EchoNode echo;
  EventLoop l(quiet());
  auto bound = l.attach(echo, loopback(Transport::Tcp));
  ASSERT_TRUE(bound);
  RawTcpClient client(*bound);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.write(kOptions));
  std::string back;
  l.run_until([&] {
    back += client.read_available();
    return back.size() >= kOptions.size();
  }, 3s);
  EXPECT_EQ(back, kOptions);
  EXPECT_EQ(l.counters().connections_opened, 0u) << "no new connection for the answer";
  EXPECT_EQ(l.counters().stream_messages_out, 1u);
}

TEST_F(RawTcp, PeerStallingMidMessageIsClosed) {
  LoopOptions o = quiet(&log_lines);
  o.tcp_stall_timeout = 200ms;
  start(o);
  RawTcpClient client(at);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.write(kOptions.substr(0, 60)));
  const TimePoint begin = Clock::now();
  ASSERT_EQ(loop->run_until([&] { return loop->counters().connections_closed == 1; }, 3s), StopReason::Done);
  EXPECT_GE(Clock::now() - begin, 150ms);
  EXPECT_EQ(loop->counters().stall_closes, 1u);
  EXPECT_NE(log_lines.back().find("stalled"), std::string::npos) << log_lines.back();
}

TEST_F(RawTcp, IdleConnectionIsClosed) {
  LoopOptions o = quiet(&log_lines);
  o.tcp_idle_timeout = 200ms;
  start(o);
  RawTcpClient client(at);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.write(kOptions));
  ASSERT_EQ(loop->run_until([&] { return loop->counters().connections_closed == 1; }, 3s), StopReason::Done);
  EXPECT_EQ(loop->counters().idle_closes, 1u);
  EXPECT_EQ(sink.arrivals.size(), 1u);
}

TEST(EventLoopTcp, ConnectionRefusedIsCountedNotFatal) {
  // A port with nothing listening: bind one and close the loop that held it.
  Endpoint dead;
  {
    EventLoop holder(quiet());
    auto b = holder.bind(loopback(Transport::Tcp));
    ASSERT_TRUE(b);
    dead = *b;
  }
  EventLoop loop(quiet());
  struct Sender final : txn::Node {
    std::vector<txn::Transmit> out;
    void receive(std::string_view, const Endpoint&, const Endpoint&, TimePoint) override {}
    void advance(TimePoint) override {}
    std::optional<TimePoint> next_deadline() const override { return std::nullopt; }
    void take_transmits(std::vector<txn::Transmit>& o) override {
      for (auto& t : out) o.push_back(std::move(t));
      out.clear();
    }
  } sender;
  auto me = loop.attach(sender, loopback(Transport::Tcp));
  ASSERT_TRUE(me);
  sender.out.push_back(txn::Transmit{*me, dead, std::string(kOptions)});
  loop.run_until([&] { return loop.counters().connect_failures == 1; }, 3s);
  EXPECT_EQ(loop.counters().connect_failures, 1u);
  EXPECT_EQ(loop.counters().send_errors, 1u) << "the queued message is lost, and counted";
  EXPECT_EQ(loop.open_connections(), 0u);
}

// --- UDP odds and ends ---------------------------------------------------------------

TEST(EventLoopUdp, EchoNodeRoundTripsABatch) {
  EventLoop loop(quiet());
  EchoNode echo;
  auto at = loop.attach(echo, loopback(), ListenOn::UdpOnly);
  ASSERT_TRUE(at);
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  const SocketAddress to = to_socket_address(*at);
  for (int i = 0; i < 32; ++i) {
    const std::string msg = "MESSAGE " + std::to_string(i);
    ::sendto(fd, msg.data(), msg.size(), 0, to.get(), to.length);
  }
  const std::string keepalive = "\r\n\r\n";
  ::sendto(fd, keepalive.data(), keepalive.size(), 0, to.get(), to.length);
  int got = 0;
  loop.run_until([&] {
    char buf[100];
    while (::recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0) ++got;
    return got == 32;
  }, 3s);
  ::close(fd);
  EXPECT_EQ(got, 32);
  EXPECT_EQ(echo.received, 32u);
  EXPECT_EQ(loop.counters().keepalives_in, 1u);
  EXPECT_LE(loop.counters().receive_batches, 3u) << "32 datagrams queued together come in one recvmmsg()";
}

TEST(EventLoopUdp, ArrivalsBeforeAttachAreUnrouted) {
  EventLoop loop(quiet());
  auto at = loop.bind(loopback(), ListenOn::UdpOnly);
  ASSERT_TRUE(at);
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  const SocketAddress to = to_socket_address(*at);
  ::sendto(fd, "x", 1, 0, to.get(), to.length);
  ::close(fd);
  loop.run_until([&] { return loop.counters().datagrams_in == 1; }, 2s);
  EXPECT_EQ(loop.counters().unrouted, 1u);
}

// --- stopping ------------------------------------------------------------------------

// Raises a signal in-process when its deadline comes.
class RaiseAt final : public txn::Node {
 public:
  RaiseAt(int sig, TimePoint when) : sig_(sig), when_(when) {}
  void receive(std::string_view, const Endpoint&, const Endpoint&, TimePoint) override {}
  void advance(TimePoint now) override {
    if (when_ && now >= *when_) {
      when_.reset();
      std::raise(sig_);
    }
  }
  std::optional<TimePoint> next_deadline() const override { return when_; }
  void take_transmits(std::vector<txn::Transmit>&) override {}

 private:
  int sig_;
  std::optional<TimePoint> when_;
};

TEST(EventLoopStop, SigintStopsRunForEarlyAndTheOldHandlerComesBack) {
  struct sigaction before {};
  sigaction(SIGINT, nullptr, &before);
  {
    EventLoop loop(quiet());
    ASSERT_TRUE(loop.stop_on_signals({SIGINT, SIGTERM}));
    RaiseAt raiser(SIGINT, Clock::now() + 50ms);
    ASSERT_TRUE(loop.attach(raiser, loopback(), ListenOn::UdpOnly));
    const TimePoint begin = Clock::now();
    EXPECT_EQ(loop.run_for(10s), StopReason::Signal);
    EXPECT_LT(Clock::now() - begin, 2s);
    ASSERT_TRUE(loop.last_signal());
    EXPECT_EQ(*loop.last_signal(), SIGINT);
  }
  struct sigaction after {};
  sigaction(SIGINT, nullptr, &after);
  EXPECT_EQ(after.sa_handler, before.sa_handler) << "the previous disposition is restored";
}

TEST(EventLoopStop, StopFromAnotherThreadEndsRun) {
  EventLoop loop(quiet());
  std::thread stopper([&] { loop.stop(); });
  const TimePoint begin = Clock::now();
  EXPECT_EQ(loop.run_for(10s), StopReason::Stopped);
  stopper.join();
  EXPECT_LT(Clock::now() - begin, 2s);
  // The stop was consumed: the next run goes its full (short) length.
  EXPECT_EQ(loop.run_for(10ms), StopReason::TimeUp);
}

TEST(EventLoopStop, PostedTaskRunsOnTheLoopThread) {
  EventLoop loop(quiet());
  std::thread::id ran_on;
  std::thread poster([&] {
    loop.post([&] {
      ran_on = std::this_thread::get_id();
      loop.stop();
    });
  });
  EXPECT_EQ(loop.run_for(10s), StopReason::Stopped);
  poster.join();
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST(EventLoopTimers, AdvanceIsCalledAtTheDeadlineNotBefore) {
  EventLoop loop(quiet());
  struct Timer final : txn::Node {
    TimePoint due;
    std::optional<TimePoint> fired;
    void receive(std::string_view, const Endpoint&, const Endpoint&, TimePoint) override {}
    void advance(TimePoint now) override {
      if (!fired && now >= due) fired = now;
    }
    std::optional<TimePoint> next_deadline() const override {
      return fired ? std::nullopt : std::optional<TimePoint>(due);
    }
    void take_transmits(std::vector<txn::Transmit>&) override {}
  } timer;
  timer.due = Clock::now() + 30ms;
  ASSERT_TRUE(loop.attach(timer, loopback(), ListenOn::UdpOnly));
  loop.run_until([&] { return timer.fired.has_value(); }, 2s);
  ASSERT_TRUE(timer.fired);
  EXPECT_GE(*timer.fired, timer.due);
  EXPECT_LT(*timer.fired - timer.due, 500ms);
  EXPECT_LE(loop.counters().iterations, 5u) << "the loop slept until the deadline instead of spinning";
}

// A Node with many timers due at given times; records when each fired.
struct ManyTimers final : txn::Node {
  std::vector<TimePoint> due;
  std::vector<std::optional<TimePoint>> fired;
  void receive(std::string_view, const Endpoint&, const Endpoint&, TimePoint) override {}
  void advance(TimePoint now) override {
    for (std::size_t i = 0; i < due.size(); ++i)
      if (!fired[i] && now >= due[i]) fired[i] = now;
  }
  std::optional<TimePoint> next_deadline() const override {
    std::optional<TimePoint> next;
    for (std::size_t i = 0; i < due.size(); ++i)
      if (!fired[i] && (!next || due[i] < *next)) next = due[i];
    return next;
  }
  void take_transmits(std::vector<txn::Transmit>&) override {}
  bool all_fired() const {
    return std::all_of(fired.begin(), fired.end(), [](const auto& f) { return f.has_value(); });
  }
};

// Forty timers 2 ms apart: exact, the loop wakes for nearly each; with a
// 40 ms slack they share a few wake-ups, none fires early, none more than
// the slack (plus scheduling) late.
TEST(EventLoopTimers, SlackGroupsTimersDueCloseTogetherAndNeverFiresEarly) {
  auto run = [](Duration slack) {
    LoopOptions o = quiet();
    o.timer_slack = slack;
    EventLoop loop(o);
    ManyTimers timers;
    const TimePoint start = Clock::now() + 20ms;
    for (int i = 0; i < 40; ++i) timers.due.push_back(start + i * 2ms);
    timers.fired.resize(timers.due.size());
    EXPECT_TRUE(loop.attach(timers, loopback(), ListenOn::UdpOnly));
    loop.run_until([&] { return timers.all_fired(); }, 5s);
    EXPECT_TRUE(timers.all_fired());
    for (std::size_t i = 0; i < timers.due.size(); ++i) {
      if (!timers.fired[i]) continue;
      EXPECT_GE(*timers.fired[i], timers.due[i]) << i;
      EXPECT_LT(*timers.fired[i] - timers.due[i], slack + 200ms) << i;
    }
    return loop.counters().timer_runs;
  };
  const auto exact = run(Duration::zero());
  const auto grouped = run(40ms);
  EXPECT_GE(exact, 10u) << "timers 2 ms apart had wake-ups of their own";
  EXPECT_LE(grouped, 4u) << "80 ms of timers on a 40 ms grid fall due in at most 3 wake-ups";
}

}  // namespace
}  // namespace imsflow::net

namespace imsflow::net::testing {
namespace {

// RFC 3261 §18.4/§17.1.4: a refused TCP connection reaches the transaction
// at once, so the call fails with 503 instead of waiting for Timer B.
TEST(EventLoopTcp, RefusedConnectionFailsTheCallAtOnce) {
  EventLoop loop;
  // A port nobody listens on: bind one, learn it, close it.
  std::uint16_t dead_port = 0;
  {
    EventLoop probe;
    auto b = probe.bind(loopback(Transport::Tcp));
    ASSERT_TRUE(b);
    dead_port = b->port;
  }
  auto local = loop.bind(loopback(Transport::Tcp));
  ASSERT_TRUE(local);
  struct Failures : dialog::SessionObserver {
    int failed = 0;
    int status = 0;
    std::string cause;
    void on_session_event(const dialog::SessionEvent& e) override {
      if (e.kind == dialog::SessionEventKind::Failed) {
        ++failed;
        status = e.status;
        cause = e.cause;
      }
    }
  } observer;
  dialog::UserAgentConfig config;
  config.local = *local;
  dialog::UserAgent ua{config, observer};
  ASSERT_TRUE(loop.attach(ua, *local));
  dialog::CallRequest r;
  r.target = "sip:nobody@127.0.0.1:" + std::to_string(dead_port);
  r.next_hop = Endpoint{Transport::Tcp, sip::IpAddress::loopback_v4(), dead_port};
  r.sdp_offer = std::string(kOffer);
  ua.call(r, Clock::now());
  const auto start = Clock::now();
  loop.run_until([&] { return observer.failed > 0; }, 5s);
  EXPECT_EQ(observer.failed, 1);
  EXPECT_EQ(observer.status, 503);
  EXPECT_NE(observer.cause.find("transport error"), std::string::npos) << observer.cause;
  EXPECT_LT(Clock::now() - start, 2s) << "not Timer B's 32 s";
  EXPECT_GE(loop.counters().connect_failures, 1u);
  loop.run_for(100ms);
  EXPECT_EQ(ua.live_sessions(), 0u);
  EXPECT_EQ(ua.live_transactions(), 0u);
}

}  // namespace
}  // namespace imsflow::net::testing
