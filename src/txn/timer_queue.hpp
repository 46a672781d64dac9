// Transaction timers, ordered by (deadline, insertion order), with lazy
// cancellation: the owner keeps the deadline it currently wants per slot,
// and an entry popped here counts only when it still equals that deadline.
// Cancelling is O(1) (overwrite the owner's deadline).
//
// Nearly every timer is armed as "now + one of a few durations" (T1, 64·T1,
// T4, Timer C …), and `now` never goes back, so the timers of one duration
// arrive already sorted. Each such duration gets a FIFO lane, and the queue
// only compares the heads of its lanes: arming is O(1) instead of a heap
// push into millions of mostly cancelled entries. Durations beyond the lane
// count, and a clock that stepped back, go to a heap; the order seen from
// outside is the same as one heap's.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <queue>
#include <vector>

#include "util/clock.hpp"

namespace imsflow::txn {

struct TimerEntry {
  TimePoint when;
  std::uint64_t sequence;   // insertion order breaks ties, so firing order is reproducible
  std::uint32_t index;
  std::uint32_t generation;
  std::uint8_t slot;
};

class TimerQueue {
 public:
  TimerQueue() { lanes_.reserve(kMaxLanes); }
  /// Arms a timer `delay` after `now`.
  void push(TimePoint now, Duration delay, std::uint32_t index, std::uint32_t generation, std::uint8_t slot) {
    const TimerEntry e{now + delay, next_sequence_++, index, generation, slot};
    ++size_;
    if (Lane* lane = lane_for(delay); lane && (lane->fifo.empty() || lane->fifo.back().when <= e.when)) {
      lane->fifo.push_back(e);
      return;
    }
    heap_.push(e);
  }
  /// Arms a timer at an absolute deadline (kept in the heap).
  void push_at(TimePoint when, std::uint32_t index, std::uint32_t generation, std::uint8_t slot) {
    ++size_;
    heap_.push(TimerEntry{when, next_sequence_++, index, generation, slot});
  }
  bool empty() const { return size_ == 0; }
  /// Deadline of the earliest entry (it may be a cancelled one: firing it is
  /// then a no-op, which costs less than keeping the queue exact).
  std::optional<TimePoint> next_deadline() const {
    const TimerEntry* t = top();
    if (!t) return std::nullopt;
    return t->when;
  }
  /// Removes and returns the earliest entry due at or before `now`.
  std::optional<TimerEntry> pop_due(TimePoint now) {
    const TimerEntry* t = top();
    if (!t || t->when > now) return std::nullopt;
    TimerEntry e = *t;
    pop();
    return e;
  }
  const TimerEntry* top() const {
    const TimerEntry* best = heap_.empty() ? nullptr : &heap_.top();
    for (const Lane& lane : lanes_) {
      if (!lane.fifo.empty() && (!best || earlier(lane.fifo.front(), *best))) best = &lane.fifo.front();
    }
    return best;
  }
  /// Removes the entry top() names.
  void pop() {
    const TimerEntry* t = top();
    if (!t) return;
    --size_;
    if (!heap_.empty() && t == &heap_.top()) {
      heap_.pop();
      return;
    }
    for (Lane& lane : lanes_) {
      if (!lane.fifo.empty() && t == &lane.fifo.front()) {
        lane.fifo.pop_front();
        return;
      }
    }
  }
  std::size_t size() const { return size_; }

 private:
  static constexpr std::size_t kMaxLanes = 12;
  struct Lane {
    Duration delay;
    std::deque<TimerEntry> fifo;
  };
  static bool earlier(const TimerEntry& a, const TimerEntry& b) {
    return a.when != b.when ? a.when < b.when : a.sequence < b.sequence;
  }
  Lane* lane_for(Duration delay) {
    for (Lane& lane : lanes_) {
      if (lane.delay == delay) return &lane;
    }
    if (lanes_.size() == kMaxLanes) return nullptr;
    return &lanes_.emplace_back(Lane{delay, {}});
  }
  struct Later {
    bool operator()(const TimerEntry& a, const TimerEntry& b) const { return earlier(b, a); }
  };
  std::vector<Lane> lanes_;  // reserved up front, so a new lane never moves the others
  std::priority_queue<TimerEntry, std::vector<TimerEntry>, Later> heap_;
  std::uint64_t next_sequence_ = 0;
  std::size_t size_ = 0;
};

}  // namespace imsflow::txn
