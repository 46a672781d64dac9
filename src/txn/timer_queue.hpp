// A min-heap of (deadline, owner, slot) with lazy cancellation: the owner
// keeps the deadline it currently wants per slot, and an entry popped from
// the heap counts only when it still equals that deadline. Arming is
// O(log n), cancelling is O(1) (overwrite the owner's deadline).
#pragma once

#include <cstdint>
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
  void push(TimePoint when, std::uint32_t index, std::uint32_t generation, std::uint8_t slot) {
    heap_.push(TimerEntry{when, next_sequence_++, index, generation, slot});
  }
  bool empty() const { return heap_.empty(); }
  /// Deadline of the earliest entry (it may be a cancelled one: firing it is
  /// then a no-op, which costs less than keeping the heap exact).
  std::optional<TimePoint> next_deadline() const {
    if (heap_.empty()) return std::nullopt;
    return heap_.top().when;
  }
  /// Removes and returns the earliest entry due at or before `now`.
  std::optional<TimerEntry> pop_due(TimePoint now) {
    if (heap_.empty() || heap_.top().when > now) return std::nullopt;
    TimerEntry e = heap_.top();
    heap_.pop();
    return e;
  }
  const TimerEntry* top() const { return heap_.empty() ? nullptr : &heap_.top(); }
  void pop() { heap_.pop(); }
  std::size_t size() const { return heap_.size(); }

 private:
  struct Later {
    bool operator()(const TimerEntry& a, const TimerEntry& b) const {
      return a.when != b.when ? a.when > b.when : a.sequence > b.sequence;
    }
  };
  std::priority_queue<TimerEntry, std::vector<TimerEntry>, Later> heap_;
  std::uint64_t next_sequence_ = 0;
};

}  // namespace imsflow::txn
