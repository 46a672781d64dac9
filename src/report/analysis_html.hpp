// A self-contained HTML page of a capture analysis (no network, no external
// scripts or fonts): summary bars per outcome and diagnosis, a filterable
// call list, and an SVG ladder per call with the diagnoses marked on the
// arrows they rest on. Calls are added as they are finalized.
#pragma once

#include <iosfwd>

#include "analyze/call_analysis.hpp"
#include "analyze/summary.hpp"
#include "report/analysis_text.hpp"

namespace imsflow::report {

/// The SVG ladder of one call (an <svg> element).
std::string call_svg(const analyze::CallAnalysis& call);

class HtmlReportWriter {
 public:
  explicit HtmlReportWriter(std::ostream& out) : out_(out) {}
  void add(const analyze::CallAnalysis& call);
  void finish(const analyze::Summary& summary, const CaptureFacts& facts);

 private:
  void open();
  std::ostream& out_;
  bool opened_ = false;
  std::size_t count_ = 0;
};

}  // namespace imsflow::report
