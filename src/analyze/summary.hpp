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
  Percentiles setup() const { return percentiles(setup_); }
  Percentiles pdd() const { return percentiles(pdd_); }
  /// Worst first: failures with diagnoses, then the slowest setups.
  const std::vector<NotableCall>& worst() const { return worst_; }

 private:
  std::size_t keep_worst_;
  std::uint64_t calls_ = 0, clean_ = 0, retransmissions_ = 0, messages_ = 0;
  std::array<std::uint64_t, static_cast<std::size_t>(Outcome::kCount)> outcomes_{};
  std::array<std::uint64_t, static_cast<std::size_t>(DiagnosisCode::kCount)> diagnoses_{};
  std::vector<double> setup_, pdd_;
  std::vector<NotableCall> worst_;
};

}  // namespace imsflow::analyze
