// Two shards on two threads sharing one UDP port through SO_REUSEPORT.
#include "net/sharded_loops.hpp"

#include <gtest/gtest.h>

#include <atomic>

#include "net_test_support.hpp"

namespace imsflow::net {
namespace {

using namespace testing;
using dialog::SessionEventKind;
using dialog::SessionState;

LoopOptions quiet() {
  LoopOptions o;
  o.log = [](std::string_view) {};
  return o;
}

// One UAS per shard on the shared port; `live` is published after every
// input so the main thread can wait for the shard's transactions to end.
struct ShardAgent {
  Events events;
  std::unique_ptr<dialog::UserAgent> ua;
  std::unique_ptr<Tap> tap;
  std::atomic<std::size_t> live{0};
  std::atomic<int> received{0};
};

TEST(ShardedLoops, TwoShardsShareAUdpPortAndBothTakeCalls) {
  ShardedLoops shards(2, quiet());
  auto shared = shards.bind(loopback(), ListenOn::UdpOnly);
  ASSERT_TRUE(shared) << shared.error().describe();

  std::vector<std::unique_ptr<ShardAgent>> bobs;
  for (std::size_t i = 0; i < shards.size(); ++i) {
    auto b = std::make_unique<ShardAgent>();
    // Seeds differ per shard, so tags and branches do not repeat across shards.
    b->ua = std::make_unique<dialog::UserAgent>(agent_config(*shared, "bob", 100 + i), b->events);
    b->tap = std::make_unique<Tap>(*b->ua);
    ShardAgent* raw = b.get();
    b->tap->after = [raw] {
      raw->live = raw->ua->live_sessions() + raw->ua->live_transactions();
      raw->received = static_cast<int>(raw->tap->received.size());
    };
    dialog::UserAgent* ua = b->ua.get();
    b->events.react = [ua](const dialog::SessionEvent& e) {
      if (e.kind == SessionEventKind::Incoming) ua->send_provisional(e.session, 183, kAnswer, Clock::now());
      if (e.kind == SessionEventKind::PrackDone) ua->answer(e.session, {}, Clock::now());
    };
    bobs.push_back(std::move(b));
  }
  ASSERT_TRUE(shards.attach([&](std::size_t i) -> txn::Node& { return *bobs[i]->tap; }, *shared, ListenOn::UdpOnly));
  shards.start();

  // Callers on this thread, each on its own socket: 16 source ports make the
  // kernel's 4-tuple hash put some on each shard (all on one: 2 in 65,536).
  EventLoop clients(quiet());
  constexpr int kCallers = 16;
  constexpr int kCallsEach = 3;
  std::vector<std::unique_ptr<BoundAgent>> alices;
  BoundAgent target;  // only names the shared endpoint for call_to()
  target.local = *shared;
  target.ua = std::make_unique<dialog::UserAgent>(agent_config(*shared, "bob", 99), target.events);
  std::vector<std::pair<BoundAgent*, dialog::SessionId>> calls;
  for (int i = 0; i < kCallers; ++i) {
    std::string error;
    auto a = bind_agent(clients, loopback(), "alice" + std::to_string(i), 1 + i, &error, ListenOn::UdpOnly);
    ASSERT_TRUE(a) << error;
    for (int k = 0; k < kCallsEach; ++k) calls.emplace_back(a.get(), a->ua->call(call_to(target), Clock::now()));
    alices.push_back(std::move(a));
  }
  auto all_in = [&](SessionState s) {
    return std::all_of(calls.begin(), calls.end(), [&](auto& c) { return c.first->ua->state(c.second) == s; });
  };
  ASSERT_EQ(clients.run_until([&] { return all_in(SessionState::Confirmed); }, 10s), StopReason::Done);
  for (auto& [a, id] : calls) a->ua->hang_up(id, Clock::now());
  auto all_ended = [&] {
    int ended = 0;
    for (auto& a : alices) ended += a->events.of(SessionEventKind::Ended);
    return ended == kCallers * kCallsEach;
  };
  ASSERT_EQ(clients.run_until(all_ended, 10s), StopReason::Done);
  auto clean = [&] {
    for (auto& a : alices)
      if (a->ua->live_sessions() || a->ua->live_transactions()) return false;
    for (auto& b : bobs)
      if (b->live != 0) return false;
    return true;
  };
  EXPECT_TRUE(poll_until(clients, clean, 5s));
  shards.stop();
  shards.join();

  int incoming = 0;
  for (std::size_t i = 0; i < bobs.size(); ++i) {
    const LoopCounters& c = shards.shard(i).counters();
    EXPECT_GT(c.datagrams_in, 0u) << "shard " << i << " got no traffic";
    EXPECT_GT(bobs[i]->events.of(SessionEventKind::Incoming), 0) << "shard " << i;
    // A shard answers only what it received: no stray response, no 481.
    EXPECT_EQ(bobs[i]->ua->transaction_stats().stray_responses, 0u);
    incoming += bobs[i]->events.of(SessionEventKind::Incoming);
  }
  EXPECT_EQ(incoming, kCallers * kCallsEach) << "each INVITE reached exactly one shard";
  for (auto& a : alices) EXPECT_EQ(a->events.of(SessionEventKind::Failed), 0);
  const LoopCounters total = shards.total_counters();
  EXPECT_EQ(total.send_errors, 0u);
  EXPECT_GT(total.receive_batches, 0u);
}

// The UAC side: each shard calls from a port of its own (bind_each), so
// every response comes back to the shard that holds the transaction.
TEST(ShardedLoops, EachShardCallsFromItsOwnPortAndGetsItsAnswers) {
  ShardedLoops shards(2, quiet());
  auto ports = shards.bind_each(loopback(), ListenOn::UdpOnly);
  ASSERT_TRUE(ports) << ports.error().describe();
  ASSERT_NE((*ports)[0].port, (*ports)[1].port);

  EventLoop callee_loop(quiet());
  std::string error;
  auto bob = bind_agent(callee_loop, loopback(), "bob", 2, &error, ListenOn::UdpOnly);
  ASSERT_TRUE(bob) << error;
  answer_with_reliable_183(*bob);

  std::vector<std::unique_ptr<ShardAgent>> alices;
  for (std::size_t i = 0; i < shards.size(); ++i) {
    auto a = std::make_unique<ShardAgent>();
    a->ua = std::make_unique<dialog::UserAgent>(agent_config((*ports)[i], "alice", 10 + i), a->events);
    a->tap = std::make_unique<Tap>(*a->ua);
    ShardAgent* raw = a.get();
    a->tap->after = [raw] { raw->live = raw->ua->live_sessions() + raw->ua->live_transactions(); };
    ASSERT_TRUE(shards.shard(i).attach(*a->tap, (*ports)[i]));
    alices.push_back(std::move(a));
  }
  shards.start();
  constexpr int kCallsEach = 10;
  std::atomic<int> confirmed{0};
  for (std::size_t i = 0; i < shards.size(); ++i) {
    ShardAgent* a = alices[i].get();
    a->events.react = [a, &confirmed](const dialog::SessionEvent& e) {
      if (e.kind == SessionEventKind::Confirmed) {
        ++confirmed;
        a->ua->hang_up(e.session, Clock::now());
      }
    };
    // The calls are placed on the shard's own thread.
    shards.shard(i).post([a, &bob] {
      for (int k = 0; k < kCallsEach; ++k) a->ua->call(call_to(*bob), Clock::now());
    });
  }
  const int total = static_cast<int>(shards.size()) * kCallsEach;
  ASSERT_EQ(callee_loop.run_until([&] { return bob->events.of(SessionEventKind::Ended) == total; }, 10s),
            StopReason::Done)
      << confirmed.load() << " confirmed";
  EXPECT_TRUE(poll_until(callee_loop, [&] {
    return alices[0]->live == 0 && alices[1]->live == 0 && bob->ua->live_transactions() == 0;
  }, 5s));
  shards.stop();
  shards.join();
  for (std::size_t i = 0; i < shards.size(); ++i) {
    EXPECT_EQ(alices[i]->events.of(SessionEventKind::Confirmed), kCallsEach) << "shard " << i;
    EXPECT_EQ(alices[i]->ua->transaction_stats().stray_responses, 0u) << "shard " << i;
  }
}

TEST(ShardedLoops, StopOnSignalsStopsEveryShard) {
  ShardedLoops shards(2, quiet());
  ASSERT_TRUE(shards.stop_on_signals({SIGTERM}));
  shards.start();
  std::raise(SIGTERM);  // the handler wakes every shard; each returns from run()
  shards.join();
  EXPECT_FALSE(shards.running());
  EXPECT_EQ(shards.last_signal(), SIGTERM);
}

}  // namespace
}  // namespace imsflow::net
