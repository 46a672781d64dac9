// Text renderings of a capture analysis: the summary that fits a terminal,
// one call in full (its ladder with one column per node, the outcome, the
// seed's phases, the checks and the diagnoses), and CSV rows. They lay out
// what analyze/ found and compute nothing.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "analyze/analyzer.hpp"
#include "analyze/call_analysis.hpp"
#include "analyze/summary.hpp"
#include "report/ladder.hpp"

namespace imsflow::report {

/// What the summary shows beside the calls.
struct CaptureFacts {
  std::string file;
  std::uint64_t frames = 0;
  const analyze::AnalyzerTotals* totals = nullptr;
  std::map<std::string, std::uint64_t> skipped;  // reason → count
  std::string read_error;
};

/// Calls per outcome and diagnosis, setup/PDD percentiles, the worst calls,
/// Call-IDs without INVITE, and skipped input: about 40 lines of 100 columns.
std::string render_summary(const analyze::Summary& summary, const CaptureFacts& facts);

/// The ladder of one call: one column per node ("caller", "proxy", "callee"
/// with the address under it), one row per captured copy, time from the
/// call's first message, notes for retransmissions, copies and duplicates.
Ladder ladder_of(const analyze::CallAnalysis& call);

/// One call: header (Call-IDs, From/To, outcome), the ladder, phases, KPIs,
/// checks and diagnoses with where to inspect and the next step.
std::string render_call(const analyze::CallAnalysis& call);

/// CSV (RFC 4180): the header line, and one row per call with the same columns.
std::string csv_header();
std::string csv_row(const analyze::CallAnalysis& call);

}  // namespace imsflow::report
