// JSON rendering of a capture analysis, per docs/analyze.schema.json:
//   {"calls": [call, …], "summary": {…}, "skipped": {reason: count}, "capture": {…}}
// Calls are written as they are finalized (one object per line inside the
// array), so a long capture streams out in bounded memory; the summary comes
// last because it is known only then.
#pragma once

#include <iosfwd>
#include <string>

#include "analyze/call_analysis.hpp"
#include "analyze/summary.hpp"
#include "report/analysis_text.hpp"

namespace imsflow::report {

/// One call as a compact JSON object (no trailing newline).
std::string call_json(const analyze::CallAnalysis& call);

/// The summary object alone.
std::string summary_json(const analyze::Summary& summary, const CaptureFacts& facts);

class JsonReportWriter {
 public:
  explicit JsonReportWriter(std::ostream& out) : out_(out) {}
  /// Writes one call (the opening of the document before the first).
  void add(const analyze::CallAnalysis& call);
  /// Closes the call array and writes summary, skipped and capture facts.
  void finish(const analyze::Summary& summary, const CaptureFacts& facts);

 private:
  void open();
  std::ostream& out_;
  bool opened_ = false;
  bool first_ = true;
};

}  // namespace imsflow::report
