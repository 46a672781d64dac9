// analyze::Summary: the figures over all calls of a capture (calls per
// outcome and diagnosis, setup-time and post-dial-delay percentiles, the
// worst calls), accumulated one finished call at a time so a streaming run
// never holds the calls themselves.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analyze/call_analysis.hpp"

namespace imsflow::analyze {

struct Percentiles {
  std::size_t count = 0;
  double p50 = 0, p90 = 0, p99 = 0, mean = 0, max = 0;  // ms; all 0 when count is 0
};

/// The percentile of sorted values by nearest rank (p in 0..100).
double percentile(const std::vector<double>& sorted, double p);
Percentiles percentiles(std::vector<double> values);

/// Durations in ms for percentiles, in bounded memory: the values
/// themselves while there are at most kExact (nearest-rank percentiles as
/// percentiles() gives them), then a histogram whose buckets are 1/512 of a
/// power of two wide (a percentile within 0.2 % of the exact one; mean and
/// max stay exact) that holds any number of calls in about 170 kB.
class DurationSample {
 public:
  static constexpr std::size_t kExact = std::size_t{1} << 16;

  void add(double ms);
  std::size_t count() const { return count_; }
  Percentiles percentiles() const;

 private:
  static constexpr int kSubBuckets = 512;
  static constexpr int kExponents = 48;  // 1 µs … 2^48 µs (8.9 years)
  static std::size_t bucket_of(double ms);
  static double value_of(std::size_t bucket);
  std::vector<double> exact_;
  std::vector<std::uint64_t> buckets_;  // empty until the switch
  std::size_t count_ = 0;
  double sum_ = 0, max_ = 0;
};

/// What the summary keeps of a call worth a look.
struct NotableCall {
  std::string call_id;
  Outcome outcome = Outcome::Incomplete;
  int final_status = 0;
  std::vector<DiagnosisCode> diagnoses;
  std::optional<double> setup_ms;
  std::string explanation;  // the first diagnosis's
  double score = 0;         // higher is worse
};

class Summary {
 public:
  explicit Summary(std::size_t keep_worst = 10) : keep_worst_(keep_worst) {}

  void add(const CallAnalysis& call);

  std::uint64_t calls() const { return calls_; }
  std::uint64_t outcome(Outcome o) const { return outcomes_[static_cast<std::size_t>(o)]; }
  std::uint64_t diagnosis(DiagnosisCode c) const { return diagnoses_[static_cast<std::size_t>(c)]; }
  std::uint64_t calls_without_diagnosis() const { return clean_; }
  std::uint64_t retransmissions() const { return retransmissions_; }
  std::uint64_t messages() const { return messages_; }
  Percentiles setup() const { return setup_.percentiles(); }
  Percentiles pdd() const { return pdd_.percentiles(); }
  /// Worst first: failures with diagnoses, then the slowest setups.
  const std::vector<NotableCall>& worst() const { return worst_; }

 private:
  std::size_t keep_worst_;
  std::uint64_t calls_ = 0, clean_ = 0, retransmissions_ = 0, messages_ = 0;
  std::array<std::uint64_t, static_cast<std::size_t>(Outcome::kCount)> outcomes_{};
  std::array<std::uint64_t, static_cast<std::size_t>(DiagnosisCode::kCount)> diagnoses_{};
  DurationSample setup_, pdd_;
  std::vector<NotableCall> worst_;
};

}  // namespace imsflow::analyze
