// What the call generator measures: latency samples with exact percentiles
// for the final report, and a log-linear histogram with atomic buckets that
// another thread can read while calls run (the live progress line).
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstdint>
#include <vector>

#include "util/clock.hpp"

namespace imsflow::load {

/// Durations in microseconds; percentiles by nearest rank over every sample.
class LatencySamples {
 public:
  void add(Duration d) {
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
    samples_.push_back(static_cast<std::uint32_t>(std::clamp<std::int64_t>(us, 0, UINT32_MAX)));
    sorted_ = false;
  }
  void merge(const LatencySamples& other) {
    samples_.insert(samples_.end(), other.samples_.begin(), other.samples_.end());
    sorted_ = false;
  }
  std::size_t count() const { return samples_.size(); }
  /// `p` in [0, 1]; milliseconds; 0 without samples.
  double percentile_ms(double p) const {
    if (samples_.empty()) return 0;
    sort();
    const auto rank = static_cast<std::size_t>(p * static_cast<double>(samples_.size() - 1) + 0.5);
    return samples_[std::min(rank, samples_.size() - 1)] / 1000.0;
  }
  double max_ms() const { return percentile_ms(1.0); }
  double mean_ms() const {
    if (samples_.empty()) return 0;
    double sum = 0;
    for (std::uint32_t v : samples_) sum += v;
    return sum / static_cast<double>(samples_.size()) / 1000.0;
  }

 private:
  void sort() const {
    if (sorted_) return;
    std::sort(samples_.begin(), samples_.end());
    sorted_ = true;
  }
  mutable std::vector<std::uint32_t> samples_;
  mutable bool sorted_ = true;
};

/// Microsecond values in log-linear buckets (16 per power of two, so within
/// about 6 %), counted with relaxed atomics: one thread adds, any reads.
class LiveHistogram {
 public:
  void add(Duration d) {
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
    buckets_[bucket(static_cast<std::uint64_t>(std::max<std::int64_t>(us, 0)))].fetch_add(1, std::memory_order_relaxed);
  }
  /// Milliseconds at the lower edge of the bucket holding rank p; 0 when empty.
  double percentile_ms(double p) const {
    std::array<std::uint64_t, kBuckets> snapshot{};
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) total += snapshot[i] = buckets_[i].load(std::memory_order_relaxed);
    if (total == 0) return 0;
    const auto rank = static_cast<std::uint64_t>(p * static_cast<double>(total - 1)) + 1;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
      seen += snapshot[i];
      if (seen >= rank) return static_cast<double>(lower_edge(i)) / 1000.0;
    }
    return 0;
  }

 private:
  static constexpr std::size_t kSub = 16;
  static constexpr std::size_t kBuckets = 64 * kSub;
  static std::size_t bucket(std::uint64_t v) {
    if (v < kSub) return static_cast<std::size_t>(v);
    const int e = std::bit_width(v) - 1;  // 4 and up
    const std::size_t sub = (v >> (e - 4)) & (kSub - 1);
    return std::min<std::size_t>((static_cast<std::size_t>(e) - 3) * kSub + sub, kBuckets - 1);
  }
  static std::uint64_t lower_edge(std::size_t i) {
    if (i < kSub) return i;
    const std::size_t e = i / kSub + 3;
    return (std::uint64_t{1} << e) | (std::uint64_t{i % kSub} << (e - 4));
  }
  std::array<std::atomic<std::uint64_t>, kBuckets> buckets_{};
};

}  // namespace imsflow::load
