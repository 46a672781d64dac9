#include "analyze/summary.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace imsflow::analyze {

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  // Nearest rank: the smallest value with at least p% of the values at or below it.
  const double rank = std::ceil(p / 100.0 * static_cast<double>(sorted.size()));
  const std::size_t i = rank < 1 ? 0 : static_cast<std::size_t>(rank) - 1;
  return sorted[std::min(i, sorted.size() - 1)];
}

Percentiles percentiles(std::vector<double> values) {
  Percentiles p;
  p.count = values.size();
  if (values.empty()) return p;
  std::sort(values.begin(), values.end());
  p.p50 = percentile(values, 50);
  p.p90 = percentile(values, 90);
  p.p99 = percentile(values, 99);
  p.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
  p.max = values.back();
  return p;
}

void DurationSample::add(double ms) {
  ms = std::max(ms, 0.0);
  ++count_;
  sum_ += ms;
  max_ = std::max(max_, ms);
  if (buckets_.empty()) {
    exact_.push_back(ms);
    if (exact_.size() <= kExact) return;
    // Past the exact limit: every value so far moves into the histogram.
    buckets_.assign(1 + static_cast<std::size_t>(kExponents) * kSubBuckets, 0);
    for (double v : exact_) ++buckets_[bucket_of(v)];
    exact_.clear();
    exact_.shrink_to_fit();
    return;
  }
  ++buckets_[bucket_of(ms)];
}

// Bucket 0 holds values under 1 µs; then kSubBuckets per power of two of µs.
std::size_t DurationSample::bucket_of(double ms) {
  const double us = ms * 1000.0;
  if (!(us >= 1.0)) return 0;
  int exponent = 0;
  const double mantissa = std::frexp(us, &exponent);  // us = mantissa · 2^exponent, mantissa in [0.5, 1)
  const int e = std::min(exponent - 1, kExponents - 1);
  const int sub = e == exponent - 1 ? std::min(static_cast<int>((mantissa * 2.0 - 1.0) * kSubBuckets), kSubBuckets - 1)
                                    : kSubBuckets - 1;
  return 1 + static_cast<std::size_t>(e) * kSubBuckets + static_cast<std::size_t>(sub);
}

double DurationSample::value_of(std::size_t bucket) {
  if (bucket == 0) return 0.0;
  const auto e = static_cast<int>((bucket - 1) / kSubBuckets);
  const auto sub = static_cast<int>((bucket - 1) % kSubBuckets);
  return std::ldexp(1.0 + (sub + 0.5) / kSubBuckets, e) / 1000.0;  // the bucket's middle, in ms
}

Percentiles DurationSample::percentiles() const {
  if (buckets_.empty()) return analyze::percentiles(exact_);
  Percentiles p;
  p.count = count_;
  p.mean = sum_ / static_cast<double>(count_);
  p.max = max_;
  const auto at = [&](double q) {
    const double rank = std::max(1.0, std::ceil(q / 100.0 * static_cast<double>(count_)));
    std::uint64_t seen = 0;
    for (std::size_t b = 0; b < buckets_.size(); ++b) {
      seen += buckets_[b];
      if (static_cast<double>(seen) >= rank) return std::min(value_of(b), max_);
    }
    return max_;
  };
  p.p50 = at(50);
  p.p90 = at(90);
  p.p99 = at(99);
  return p;
}

void Summary::add(const CallAnalysis& call) {
  ++calls_;
  ++outcomes_[static_cast<std::size_t>(call.outcome)];
  for (const Diagnosis& d : call.diagnoses) ++diagnoses_[static_cast<std::size_t>(d.code)];
  if (call.diagnoses.empty()) ++clean_;
  retransmissions_ += call.retransmissions;
  messages_ += call.messages.size();
  if (call.setup_ms) setup_.add(*call.setup_ms);
  if (call.pdd_ms) pdd_.add(*call.pdd_ms);

  if (keep_worst_ == 0) return;
  NotableCall n;
  n.score = (call.outcome == Outcome::Established ? 0.0 : 1e6) + 1e5 * static_cast<double>(call.diagnoses.size()) +
            call.setup_ms.value_or(0);
  if (call.outcome == Outcome::Established && call.diagnoses.empty() && !call.setup_ms) return;
  if (worst_.size() == keep_worst_ && n.score <= worst_.back().score) return;
  n.call_id = call.call_ids.empty() ? std::string() : call.call_ids.front();
  n.outcome = call.outcome;
  n.final_status = call.final_status;
  for (const Diagnosis& d : call.diagnoses) n.diagnoses.push_back(d.code);
  n.setup_ms = call.setup_ms;
  if (!call.diagnoses.empty()) n.explanation = call.diagnoses.front().explanation;
  auto pos = std::upper_bound(worst_.begin(), worst_.end(), n.score,
                              [](double s, const NotableCall& c) { return s > c.score; });
  worst_.insert(pos, std::move(n));
  if (worst_.size() > keep_worst_) worst_.pop_back();
}

}  // namespace imsflow::analyze
