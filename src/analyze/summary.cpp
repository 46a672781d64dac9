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

void Summary::add(const CallAnalysis& call) {
  ++calls_;
  ++outcomes_[static_cast<std::size_t>(call.outcome)];
  for (const Diagnosis& d : call.diagnoses) ++diagnoses_[static_cast<std::size_t>(d.code)];
  if (call.diagnoses.empty()) ++clean_;
  retransmissions_ += call.retransmissions;
  messages_ += call.messages.size();
  if (call.setup_ms) setup_.push_back(*call.setup_ms);
  if (call.pdd_ms) pdd_.push_back(*call.pdd_ms);

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
