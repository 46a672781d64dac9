#include "txn/timer_queue.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace imsflow::txn {
namespace {

using std::chrono::milliseconds;

// The reference order: (deadline, arming order), what one heap gave before
// the queue got its lanes.
struct Armed {
  TimePoint when;
  std::uint32_t index;
};

std::vector<std::uint32_t> drain(TimerQueue& q) {
  std::vector<std::uint32_t> order;
  while (const TimerEntry* top = q.top()) {
    order.push_back(top->index);
    q.pop();
  }
  return order;
}

std::vector<std::uint32_t> reference_order(std::vector<Armed> armed) {
  std::stable_sort(armed.begin(), armed.end(), [](const Armed& a, const Armed& b) { return a.when < b.when; });
  std::vector<std::uint32_t> order;
  for (const Armed& a : armed) order.push_back(a.index);
  return order;
}

TEST(TimerQueue, FiresByDeadlineThenArmingOrderAcrossLanesAndHeap) {
  // More distinct durations than lanes, equal deadlines from different
  // durations, a clock that sometimes steps back, and absolute deadlines.
  std::mt19937 rng(7);
  TimerQueue q;
  std::vector<Armed> armed;
  TimePoint now{};
  for (std::uint32_t i = 0; i < 5000; ++i) {
    const int step = static_cast<int>(rng() % 5) - (rng() % 17 == 0 ? 8 : 0);
    now += milliseconds(step);
    if (rng() % 10 == 0) {
      const TimePoint at = now + milliseconds(rng() % 300);
      q.push_at(at, i, 1, 0);
      armed.push_back({at, i});
    } else {
      const Duration delay = milliseconds(50 * (1 + rng() % 20));  // 20 durations for 12 lanes
      q.push(now, delay, i, 1, 0);
      armed.push_back({now + delay, i});
    }
  }
  EXPECT_EQ(q.size(), armed.size());
  EXPECT_EQ(drain(q), reference_order(armed));
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.next_deadline(), std::nullopt);
}

TEST(TimerQueue, PopDueStopsAtTheFirstFutureDeadline) {
  TimerQueue q;
  const TimePoint t0{};
  q.push(t0, milliseconds(500), 1, 1, 0);
  q.push(t0, milliseconds(32000), 2, 1, 0);
  q.push(t0 + milliseconds(100), milliseconds(500), 3, 1, 0);
  q.push_at(t0 + milliseconds(550), 4, 1, 0);
  EXPECT_EQ(q.next_deadline(), t0 + milliseconds(500));
  std::vector<std::uint32_t> fired;
  while (auto e = q.pop_due(t0 + milliseconds(600))) fired.push_back(e->index);
  EXPECT_EQ(fired, (std::vector<std::uint32_t>{1, 4, 3}));
  EXPECT_EQ(q.next_deadline(), t0 + milliseconds(32000));
  EXPECT_EQ(q.size(), 1u);
}

}  // namespace
}  // namespace imsflow::txn
